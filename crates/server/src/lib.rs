//! The site's services for task sequence media over HTTP(S): the **management point** (MP
//! location by boundaries, client identity, deployments available to media, task sequence
//! policy, content location) and the **distribution point** (content by content ID and path,
//! HTTP range requests, published SHA-256 hashes, read access per principal). The wire
//! protocol (JSON types, request signing, and the client the runtime uses) is
//! `tsmedia-protocol`'s, shared with the runtime.
//!
//! Domain facts: `docs/media.md`, "At boot" (what media do at boot: locate the MP,
//! identify, get deployments and policy, download content) and "The site side". The wire
//! protocol (`docs/protocol.md`) is this project's own JSON over HTTP (see
//! [`tsmedia_protocol::api`]), not Configuration Manager's: real media cannot talk to it, and
//! it cannot serve real media.
//!
//! ```no_run
//! # async fn run() -> Result<(), tsmedia_server::ServerError> {
//! let router = tsmedia_server::router("site".as_ref(), &Default::default())?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! tsmedia_server::serve(listener, router, std::future::pending()).await
//! # }
//! ```
//!
//! Every management point answer, refusals included, is signed with the site's key
//! (`tsmedia_protocol::reply`); the media carry its public key and accept nothing else.
//!
//! Errors: the caller's faults are 4xx with `{error, code}`; anything else is an opaque 500
//! whose cause goes to the `tracing` log. Not supported: several sites, DP boundaries (every
//! DP holding the content is returned), PXE, multicast, BranchCache, Configuration Manager's
//! own policy and content protocols.

mod auth;
mod error;
mod identified;
mod idle;
mod listen;
mod log_sink;
mod mp;
mod range;
mod replay;
mod reply;
mod routes;
mod server;
mod site_pool;

pub use auth::{ANONYMOUS, MAX_BODY, check_certificate};
pub use error::{ApiError, ErrorBody};
pub use log_sink::LossyStderr;
pub use range::{RangeAnswer, parse as parse_range};
pub use server::{
    ServerError, ServerOptions, router, serve, serve_tls, serve_with, tls_config_from_files,
    tls_config_from_pem,
};
