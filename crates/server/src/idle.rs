//! Closing HTTP/2 connections that stay idle (issue #15, M4 follow-up).
//!
//! HTTP/1.1 connections are closed by the request-head timeout when no request comes. HTTP/2
//! has no such timeout in hyper: its keep-alive pings close a connection whose peer stopped
//! answering, but a peer that answers pings and sends nothing else kept its connection, and a
//! connection slot, for ever. Each connection counts its requests in flight (a request ends
//! when its response body has been sent or dropped); a connection with none for the idle time
//! is closed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::response::Response;
use http_body_util::BodyExt as _;

/// Requests in flight on one connection, and when the last one ended.
#[derive(Debug)]
pub(crate) struct Activity {
    active: AtomicUsize,
    last: std::sync::Mutex<Instant>,
}

impl Activity {
    pub(crate) fn new() -> Arc<Activity> {
        Arc::new(Activity {
            active: AtomicUsize::new(0),
            last: std::sync::Mutex::new(Instant::now()),
        })
    }

    fn touch(&self) {
        if let Ok(mut t) = self.last.lock() {
            *t = Instant::now();
        }
    }

    /// A request starts; the guard ends it when dropped.
    pub(crate) fn start(self: &Arc<Self>) -> RequestGuard {
        self.active.fetch_add(1, Ordering::SeqCst);
        self.touch();
        RequestGuard(Arc::clone(self))
    }

    /// How long the connection has had no request in flight (zero while one is).
    pub(crate) fn idle_for(&self) -> Duration {
        if self.active.load(Ordering::SeqCst) > 0 {
            return Duration::ZERO;
        }
        self.last.lock().map_or(Duration::ZERO, |t| t.elapsed())
    }
}

/// One request in flight.
#[derive(Debug)]
pub(crate) struct RequestGuard(Arc<Activity>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.touch();
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

/// `resp` whose body holds `guard` until it has been sent or dropped.
pub(crate) fn hold_until_sent(resp: Response, guard: RequestGuard) -> Response {
    resp.map(|body| {
        Body::new(body.map_frame(move |frame| {
            let _ = &guard;
            frame
        }))
    })
}

/// Resolves once `activity` has been idle for `limit` (checked at a tenth of it, at least
/// every 50 ms).
pub(crate) async fn idle_for(activity: &Activity, limit: Duration) {
    let tick = (limit / 10).max(Duration::from_millis(50));
    loop {
        let idle = activity.idle_for();
        if idle >= limit {
            return;
        }
        tokio::time::sleep((limit - idle).min(tick).max(Duration::from_millis(10))).await;
    }
}
