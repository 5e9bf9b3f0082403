//! Cancelling a long operation from outside it (Ctrl-C, a service shutting down).
//!
//! One token is shared by the one who cancels and the work that checks it; the work stops at
//! its next check (between chunks, files or steps) and cleans up its partial output.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A cancel token: clones share one flag. The default token is never cancelled unless
/// [`Cancel::cancel`] is called on it or a clone.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

/// The error a check returns once the token is cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("operation cancelled")]
pub struct Cancelled;

impl Cancel {
    /// A new token, not cancelled.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Asks the work to stop. Returns whether it had been asked already.
    pub fn cancel(&self) -> bool {
        self.0.swap(true, Ordering::SeqCst)
    }

    /// Whether the work has been asked to stop.
    pub fn is_cancelled(&self) -> bool {
        // Relaxed: the flag guards no other data; a check a moment late is fine.
        self.0.load(Ordering::Relaxed)
    }

    /// A token that the process's Ctrl-C (SIGINT) cancels: the first Ctrl-C asks the work to
    /// stop and clean up; a second one ends the process at once with exit code 130 (the
    /// shell's code for SIGINT). Only the first call in a process installs the handler.
    pub fn on_ctrl_c() -> Cancel {
        let flag = Cancel::new();
        let f = flag.clone();
        let _ = ctrlc::set_handler(move || {
            if f.cancel() {
                std::process::exit(130);
            }
        });
        flag
    }

    /// `Err(Cancelled)` once the work has been asked to stop, for `?` at a check point.
    pub fn check(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_flag() {
        let a = Cancel::new();
        let b = a.clone();
        assert!(!b.is_cancelled());
        assert_eq!(b.check(), Ok(()));
        assert!(!a.cancel());
        assert!(b.is_cancelled());
        assert_eq!(b.check(), Err(Cancelled));
        assert!(a.cancel(), "a second cancel reports the first");
        assert!(!Cancel::default().is_cancelled());
    }
}
