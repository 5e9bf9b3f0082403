//! The wire protocol between task sequence media and the site, the one home both sides use:
//! the management point and distribution point serve it (`tsmedia-server`), the boot-time
//! runtime speaks it (`tsmedia-client`).
//!
//! - [`api`]: the endpoints and their JSON types, and the `{error, code}` body of refusals.
//! - [`signing`]: the request signature made with the media certificate (scheme
//!   `TSMEDIA-SIG-V1`) and its verification.
//! - [`reply`]: the site's Ed25519 signature on every management point answer, which the
//!   runtime checks with the site key its media carry.
//! - [`identity_token`]: the site-signed token naming the computer the management point
//!   identified for these media, which deployment and policy requests must carry.
//! - [`seal`]: secret collection variables encrypted to a key of the requesting media.
//! - [`client`]: the blocking HTTP(S) client (ureq + rustls) the runtime uses: MP location
//!   with fallback over a priority list, identity, deployments, policy, content location, and
//!   resumable downloads verified against the DP's manifest.
//!
//! The protocol is this project's own JSON over HTTP, not Configuration Manager's: real media
//! cannot talk to it, and it cannot serve real media. Nothing here needs an HTTP server or
//! the site database, so the runtime links neither.

pub mod api;
pub mod client;
pub mod identity_token;
pub mod reply;
pub mod seal;
pub mod signing;
