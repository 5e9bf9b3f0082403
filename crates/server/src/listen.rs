//! Accepting connections within limits (issue #15, M4): a cap on open connections kept below
//! the process's file limit, a time limit for the TLS handshake, for each request's head
//! (which also closes a keep-alive connection idle that long) and, per frame, for request
//! bodies. Without them, a thousand idle sockets used up every file descriptor and no
//! legitimate request was answered.
//!
//! At the cap the server stops accepting: new connections wait in the kernel's backlog until
//! an open one closes, which the head timeout guarantees for idle or slow ones. HTTP/1.1, and
//! HTTP/2 when TLS negotiates it (ALPN), are served by hyper (plain HTTP/2 is not: guessing the
//! protocol from the first bytes would wait for them without a limit); graceful shutdown stops accepting and gives
//! open requests up to [`Limits::shutdown_grace`] to finish. An HTTP/2 connection with no
//! request in flight for the head timeout is closed too ([`crate::idle`]): its keep-alive pings
//! alone would keep a connection whose peer answers them open for ever.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

use crate::idle;

/// The connection limits of a server (from [`crate::ServerOptions`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Connections open at once.
    pub(crate) max_connections: usize,
    /// Time to receive a request's head, counted from when the server waits for it (so an
    /// idle keep-alive connection is closed after it too).
    pub(crate) header_timeout: Duration,
    /// Time to complete a TLS handshake.
    pub(crate) handshake_timeout: Duration,
    /// Time open requests get to finish after shutdown.
    pub(crate) shutdown_grace: Duration,
}

/// The soft limit on open files of this process (`/proc/self/limits`), if it can be read.
pub(crate) fn open_file_limit() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The default connection cap: the file limit less 256 descriptors for the site database,
/// content files being served and the listener (1,024 → 768), at least 16, at most 65,536;
/// 768 when the limit cannot be read.
pub(crate) fn default_max_connections() -> usize {
    open_file_limit().map_or(768, |n| n.saturating_sub(256).clamp(16, 65_536))
}

/// Serves `router` on `listener` (over TLS with `tls`) within `limits` until `shutdown`.
pub(crate) async fn serve_connections(
    listener: TcpListener,
    router: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    // The protocol is known before the first byte (plain: HTTP/1.1; TLS: by ALPN), so no
    // builder waits, without a time limit, for bytes to guess it from.
    let mut h1 = auto::Builder::new(TokioExecutor::new()).http1_only();
    h1.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let mut h2 = auto::Builder::new(TokioExecutor::new()).http2_only();
    h2.http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(limits.header_timeout)
        .keep_alive_timeout(limits.header_timeout);
    let (h1, h2) = (Arc::new(h1), Arc::new(h2));
    tokio::pin!(shutdown);
    loop {
        // Take a slot before accepting: at the cap, connections wait in the backlog.
        let permit = tokio::select! {
            p = Arc::clone(&slots).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            a = listener.accept() => match a {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: not fatal.
                    tracing::warn!("accepting a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let activity = idle::Activity::new();
        let tracked = Arc::clone(&activity);
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let guard = tracked.start();
            let answer = router.clone().oneshot(req);
            async move { answer.await.map(|resp| idle::hold_until_sent(resp, guard)) }
        });
        let (h1, h2) = (Arc::clone(&h1), Arc::clone(&h2));
        let watcher = graceful.watcher();
        let acceptor = acceptor.clone();
        let handshake_timeout = limits.handshake_timeout;
        let idle_timeout = limits.header_timeout;
        tokio::spawn(async move {
            let _permit = permit;
            let result = match acceptor {
                None => {
                    let conn = h1.serve_connection(TokioIo::new(stream), service);
                    watcher.watch(conn.into_owned()).await
                }
                Some(acceptor) => {
                    let tls = match tokio::time::timeout(handshake_timeout, acceptor.accept(stream))
                        .await
                    {
                        Ok(Ok(s)) => s,
                        Ok(Err(e)) => {
                            tracing::debug!("TLS handshake with {peer}: {e}");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!("TLS handshake with {peer}: timed out");
                            return;
                        }
                    };
                    if tls.get_ref().1.alpn_protocol() == Some(b"h2") {
                        // Closed after the idle time without a request in flight (HTTP/2 has
                        // no head timeout); dropping it closes the socket.
                        let conn = h2.serve_connection(TokioIo::new(tls), service);
                        let served = watcher.watch(conn.into_owned());
                        tokio::select! {
                            r = served => r,
                            () = idle::idle_for(&activity, idle_timeout) => {
                                tracing::debug!("HTTP/2 connection from {peer}: idle, closed");
                                Ok(())
                            }
                        }
                    } else {
                        let conn = h1.serve_connection(TokioIo::new(tls), service);
                        watcher.watch(conn.into_owned()).await
                    }
                }
            };
            if let Err(e) = result {
                tracing::debug!("connection from {peer}: {e}");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "requests still open {} s after shutdown were cut off",
            limits.shutdown_grace.as_secs()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_cap_is_below_the_file_limit() {
        let cap = default_max_connections();
        if let Some(limit) = open_file_limit() {
            assert!(cap < limit || limit <= 16, "{cap} vs {limit}");
        }
        assert!(cap >= 16);
    }
}
