//! Primitives that cut across every layer of tsmedia, each written once and named for its
//! concept, so that the WIM engine, the image writers, the media builder, the server, the
//! runtime and the CLI behave the same way wherever they meet one of them.
//!
//! This crate sits below every other tsmedia crate and depends on none of them.

pub mod atomic_file;
pub mod civil_time;
pub mod clock;
pub mod cmtrace;
pub mod digest;
mod error_chain;
pub mod regular_file;
pub mod safe_path;

pub use atomic_file::AtomicFile;
pub use clock::Clock;
pub use error_chain::error_chain;
pub use regular_file::open_regular;

mod cancel;
mod progress;

pub use cancel::{Cancel, Cancelled};
pub use progress::{NoProgress, Progress};

mod error_class;
pub use error_class::ErrorClass;
