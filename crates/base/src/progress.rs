//! Progress of long operations, reported by the libraries and drawn by the edges.
//!
//! A library never prints: it tells a [`Progress`] sink what it is doing (`begin`), how much
//! more is done (`advance`) and when the task is over (`finish`). The CLI draws the sink as a
//! progress bar; tests record it; everything else passes [`NoProgress`].

/// Receives the progress of a long operation.
///
/// A task is one phase of work with one unit: bytes for data written or read, files or steps
/// otherwise (the task's name says which). An operation with several phases calls `begin` once
/// per phase; `advance` counts from zero again after each `begin`.
///
/// `Send + Sync` because the work is often spread over threads that share one sink.
pub trait Progress: Send + Sync {
    /// A task starts; `total` is the amount of work when it is known up front.
    fn begin(&self, task: &str, total: Option<u64>) {
        let _ = (task, total);
    }
    /// `n` more units of the current task are done.
    fn advance(&self, n: u64);
    /// The current task is over (successfully or not).
    fn finish(&self) {}
}

/// A progress sink that ignores everything.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn advance(&self, _: u64) {}
}

impl<P: Progress + ?Sized> Progress for &P {
    fn begin(&self, task: &str, total: Option<u64>) {
        (**self).begin(task, total);
    }
    fn advance(&self, n: u64) {
        (**self).advance(n);
    }
    fn finish(&self) {
        (**self).finish();
    }
}

impl<P: Progress + ?Sized> Progress for std::sync::Arc<P> {
    fn begin(&self, task: &str, total: Option<u64>) {
        (**self).begin(task, total);
    }
    fn advance(&self, n: u64) {
        (**self).advance(n);
    }
    fn finish(&self) {
        (**self).finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Default)]
    struct Recorder(Mutex<Vec<String>>);

    impl Progress for Recorder {
        fn begin(&self, task: &str, total: Option<u64>) {
            self.0.lock().unwrap().push(format!("{task} {total:?}"));
        }
        fn advance(&self, n: u64) {
            self.0.lock().unwrap().push(n.to_string());
        }
        fn finish(&self) {
            self.0.lock().unwrap().push("end".into());
        }
    }

    #[test]
    fn references_and_arcs_forward_every_call() {
        let r = Arc::new(Recorder::default());
        let by_arc: Arc<dyn Progress> = r.clone();
        by_arc.begin("copy", Some(3));
        fn through<P: Progress>(p: P) {
            p.advance(3);
        }
        through(&*r); // the `&P` forwarding

        by_arc.finish();
        assert_eq!(*r.0.lock().unwrap(), ["copy Some(3)", "3", "end"]);
        NoProgress.begin("ignored", None);
        NoProgress.advance(1);
    }
}
