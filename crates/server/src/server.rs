//! Building the service from a site and serving it over HTTP or HTTPS (rustls with the ring
//! provider).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::auth;
use crate::error::ApiError;
use crate::listen::{self, Limits};
use crate::replay::ReplayCache;
use crate::reply;
use crate::routes;
use crate::site_pool::SitePool;
use tsmedia_protocol::api::{DP_PREFIX, MP_PREFIX};

/// Errors starting the service.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The site could not be opened or read.
    #[error("site")]
    Site(#[from] tsmedia_site::Error),
    /// The options do not make a service.
    #[error("{0}")]
    Config(String),
    /// The TLS certificate or key could not be used.
    #[error("TLS {what} {}: {reason}", path.display())]
    Tls {
        /// `certificate` or `key`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Listening or serving failed.
    #[error("serving")]
    Io(#[from] std::io::Error),
}

/// What the service does.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Serve the management point endpoints. Default: true.
    pub mp: bool,
    /// Serve the distribution point endpoints. Default: true.
    pub dp: bool,
    /// Which of the site's distribution points this server is (grants and content held are
    /// those of this DP). Default: `None`, meaning the site's only DP; with the DP role and
    /// several DPs at the site it must be given.
    pub dp_name: Option<String>,
    /// Largest difference, in seconds, between a signed request's time and the server's
    /// clock. Default: 300.
    pub max_clock_skew: i64,
    /// Site database connections used at once. Default: 8.
    pub db_connections: usize,
    /// Nonces of signed requests remembered within the clock skew window; when that many
    /// are live, new signed requests get 503 `busy`. Default: 1,000,000 (about 100 MB).
    pub replay_capacity: usize,
    /// Connections open at once ([`serve_with`]); more wait in the kernel's backlog.
    /// Default: `None`, the process's open-file limit less 256 (1,024 → 768).
    pub max_connections: Option<usize>,
    /// Time to receive a request's head; a keep-alive connection idle this long is closed.
    /// Default: 10 s.
    pub header_timeout: Duration,
    /// Time to wait for each part of a request body. Default: 10 s.
    pub body_timeout: Duration,
    /// Time to complete a TLS handshake. Default: 10 s.
    pub handshake_timeout: Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            mp: true,
            dp: true,
            dp_name: None,
            max_clock_skew: 300,
            db_connections: 8,
            replay_capacity: 1_000_000,
            max_connections: None,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(10),
        }
    }
}

/// State shared by the handlers.
#[derive(Debug)]
pub(crate) struct AppState {
    pub(crate) pool: Arc<SitePool>,
    pub(crate) dp_name: Option<String>,
    pub(crate) max_clock_skew: i64,
    pub(crate) replay: ReplayCache,
    /// The site key: signs answers and identity tokens (management point role only).
    pub(crate) site_signer: Option<Arc<tsmedia_protocol::reply::ReplySigner>>,
}

impl AppState {
    /// The site key; an internal error on a server without the management point role (its
    /// routes are the only users).
    pub(crate) fn site_signer(&self) -> Result<&tsmedia_protocol::reply::ReplySigner, ApiError> {
        self.site_signer
            .as_deref()
            .ok_or_else(|| ApiError::internal("management point route without the site key"))
    }
}

/// The router of the management point and/or distribution point for the site in `site_dir`.
/// Serve it with [`serve`] or [`serve_tls`] (which give handlers the peer address), or call it
/// in-process with `tower::ServiceExt::oneshot`.
pub fn router(site_dir: &Path, options: &ServerOptions) -> Result<Router, ServerError> {
    if !options.mp && !options.dp {
        return Err(ServerError::Config(
            "neither the management point nor the distribution point role is enabled".into(),
        ));
    }
    let pool = SitePool::open(site_dir, options.db_connections)?;
    let dp_name = if options.dp {
        Some(pool_dp_name(site_dir, options.dp_name.as_deref())?)
    } else {
        None
    };
    let site_signer = if options.mp {
        Some(Arc::new(site_reply_signer(site_dir)?))
    } else {
        None
    };
    let state = Arc::new(AppState {
        pool: Arc::new(pool),
        dp_name,
        max_clock_skew: options.max_clock_skew,
        replay: ReplayCache::new(options.replay_capacity),
        site_signer: site_signer.clone(),
    });
    let mut app = Router::new();
    if let Some(signer) = site_signer {
        let mp = Router::new()
            .route(&format!("{MP_PREFIX}/location"), get(routes::location))
            .route(&format!("{MP_PREFIX}/identity"), post(routes::identity))
            .route(
                &format!("{MP_PREFIX}/deployments"),
                post(routes::deployments),
            )
            .route(&format!("{MP_PREFIX}/policy"), post(routes::policy))
            .route(
                &format!("{MP_PREFIX}/content/{{content_id}}/locations"),
                get(routes::content_locations),
            )
            .route_layer(axum::middleware::from_fn_with_state(
                Arc::clone(&state),
                auth::require_signature,
            ))
            // Outermost, so refusals of the signature check are signed too.
            .route_layer(axum::middleware::from_fn_with_state(
                signer,
                reply::sign_replies,
            ));
        app = app.merge(mp);
    }
    if options.dp {
        app = app
            .route(
                &format!("{DP_PREFIX}/content/{{content_id}}/manifest"),
                get(routes::manifest),
            )
            .route(
                &format!("{DP_PREFIX}/content/{{content_id}}/files/{{*path}}"),
                get(routes::file),
            );
    }
    Ok(app
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        // Every route: a declared body over the limit is refused before it is read, and a
        // body that stops arriving ends the request (the MP reads at most MAX_BODY bytes).
        .layer(axum::middleware::from_fn(auth::limit_body))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            options.body_timeout,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state))
}

/// The signer of management point answers: the site's key (made on first use).
fn site_reply_signer(site_dir: &Path) -> Result<tsmedia_protocol::reply::ReplySigner, ServerError> {
    let site = tsmedia_site::Site::open(site_dir)?;
    let der = site.signing_key_pkcs8()?;
    tsmedia_protocol::reply::ReplySigner::from_pkcs8(&der)
        .map_err(|e| ServerError::Config(format!("site signing key: {e}")))
}

/// The DP this server is: the one named, else the site's only one.
fn pool_dp_name(site_dir: &Path, name: Option<&str>) -> Result<String, ServerError> {
    let site = tsmedia_site::Site::open(site_dir)?;
    if let Some(name) = name {
        return Ok(site.distribution_point(name)?.id);
    }
    let dps = site.distribution_points()?;
    match dps.as_slice() {
        [only] => Ok(only.id.clone()),
        [] => Err(ServerError::Config(
            "the site has no distribution point (add one with `tsmedia dp add`)".into(),
        )),
        _ => Err(ServerError::Config(format!(
            "the site has {} distribution points; say which this server is (--dp-name)",
            dps.len()
        ))),
    }
}

/// Serves `router` over plain HTTP on `listener` until `shutdown` completes, with the default
/// connection limits ([`serve_with`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    serve_with(listener, router, None, &ServerOptions::default(), shutdown).await
}

/// Serves `router` on `listener`, over HTTPS when `tls` is given, until `shutdown` completes
/// (then lets open requests finish for up to 10 s), within the connection limits of `options`:
/// `max_connections`, `header_timeout` and `handshake_timeout`.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    router: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    options: &ServerOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let limits = Limits {
        max_connections: options
            .max_connections
            .unwrap_or_else(listen::default_max_connections),
        header_timeout: options.header_timeout,
        handshake_timeout: options.handshake_timeout,
        shutdown_grace: Duration::from_secs(10),
    };
    listen::serve_connections(listener, router, tls, limits, shutdown).await?;
    Ok(())
}

/// A rustls server configuration (ring provider, TLS 1.2 and 1.3, ALPN h2 and http/1.1) from
/// a PEM certificate chain and a PEM private key (PKCS#8, PKCS#1 or SEC1).
pub fn tls_config_from_pem(
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<Arc<rustls::ServerConfig>, String> {
    let certs = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("certificate: {e}"))?;
    if certs.is_empty() {
        return Err("certificate: no CERTIFICATE block".into());
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| format!("key: {e}"))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| e.to_string())?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Reads the PEM files of `--tls-cert` and `--tls-key`.
pub fn tls_config_from_files(
    cert: &Path,
    key: &Path,
) -> Result<Arc<rustls::ServerConfig>, ServerError> {
    let read = |what, path: &Path| {
        std::fs::read(path).map_err(|e| ServerError::Tls {
            what,
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
    };
    let cert_pem = read("certificate", cert)?;
    let key_pem = read("key", key)?;
    tls_config_from_pem(&cert_pem, &key_pem).map_err(|reason| ServerError::Tls {
        what: "certificate/key",
        path: cert.to_path_buf(),
        reason,
    })
}

/// Serves `router` over HTTPS on `listener` until `shutdown` completes (then lets open
/// requests finish for up to 10 s), with the default connection limits ([`serve_with`]).
pub async fn serve_tls(
    listener: std::net::TcpListener,
    router: Router,
    tls: Arc<rustls::ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    serve_with(
        listener,
        router,
        Some(tls),
        &ServerOptions::default(),
        shutdown,
    )
    .await
}
