//! The replay cache: every signed request's nonce, kept until its timestamp falls out of the
//! allowed clock skew, so a captured request played again within the window is refused
//! (issue #15, M6). Outside the window the timestamp check refuses it anyway.
//!
//! Nonces are recorded only after the signature verified, so strangers cannot fill the cache;
//! it is bounded all the same ([`ReplayCache::new`]'s capacity): when full of live nonces it
//! refuses new requests (503) rather than forget one.

use std::collections::HashMap;
use std::sync::Mutex;

/// Why a nonce was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replay {
    /// The nonce was seen before within the window.
    Seen,
    /// The cache holds `capacity` live nonces.
    Full,
}

#[derive(Debug, Default)]
struct Inner {
    /// `thumbprint/nonce` → the Unix time after which the request is stale.
    seen: HashMap<String, i64>,
    /// When expired entries were last dropped.
    swept_at: i64,
}

/// Nonces of the signed requests accepted within the window.
#[derive(Debug)]
pub(crate) struct ReplayCache {
    inner: Mutex<Inner>,
    capacity: usize,
}

impl ReplayCache {
    /// A cache holding at most `capacity` live nonces.
    pub(crate) fn new(capacity: usize) -> ReplayCache {
        ReplayCache {
            inner: Mutex::new(Inner::default()),
            capacity,
        }
    }

    /// Records the nonce of a verified request by certificate `thumbprint`, stale after
    /// `expires` (Unix seconds); `now` is the server's time.
    pub(crate) fn record(
        &self,
        thumbprint: &str,
        nonce: &str,
        expires: i64,
        now: i64,
    ) -> Result<(), Replay> {
        // A poisoned lock only means another request panicked while holding it; the map
        // itself is always consistent (single inserts and retains).
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Sweep at most once a second, or when full.
        if now > inner.swept_at || inner.seen.len() >= self.capacity {
            inner.seen.retain(|_, e| *e >= now);
            inner.swept_at = now;
        }
        let key = format!("{thumbprint}/{nonce}");
        if inner.seen.get(&key).is_some_and(|e| *e >= now) {
            return Err(Replay::Seen);
        }
        if inner.seen.len() >= self.capacity {
            return Err(Replay::Full);
        }
        inner.seen.insert(key, expires);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_accepted_once_within_its_window() {
        let c = ReplayCache::new(2);
        assert_eq!(c.record("T", "n1", 110, 100), Ok(()));
        assert_eq!(c.record("T", "n1", 110, 105), Err(Replay::Seen));
        assert_eq!(c.record("U", "n1", 110, 105), Ok(()), "per certificate");
        assert_eq!(c.record("T", "n2", 110, 105), Err(Replay::Full));
        // After the window the entries are swept (and the timestamp check refuses the old
        // request anyway).
        assert_eq!(c.record("T", "n2", 130, 120), Ok(()));
        assert_eq!(c.record("T", "n1", 130, 120), Ok(()));
    }
}
