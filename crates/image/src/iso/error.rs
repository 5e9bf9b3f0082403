//! Errors of the ISO writer.

use std::io;

/// Result of ISO planning and writing.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong while declaring, planning or writing an ISO image.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A path in the image is malformed.
    #[error("path {path:?} in the image: {reason}")]
    InvalidPath {
        /// The path as given.
        path: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// The same path was declared twice (or as both file and directory).
    #[error("path {path:?} in the image is declared twice")]
    Duplicate {
        /// The path as given.
        path: String,
    },
    /// A declared path goes through a file as if it were a directory.
    #[error("path {path:?} in the image: its parent {parent:?} is a file")]
    ParentIsFile {
        /// The path as given.
        path: String,
        /// The parent that is a file.
        parent: String,
    },
    /// The volume label cannot be used.
    #[error("volume label {label:?}: {reason}")]
    Label {
        /// The label as given.
        label: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A boot entry is inconsistent.
    #[error("El Torito boot entry {index}: {reason}")]
    Boot {
        /// Index of the entry in declaration order.
        index: usize,
        /// Why it was refused.
        reason: String,
    },
    /// The timestamp cannot be recorded in ISO 9660 (years 1970 to 2155 are supported).
    #[error("timestamp {seconds} (seconds since 1970) is outside 1970..=2155")]
    Timestamp {
        /// The timestamp as given.
        seconds: i64,
    },
    /// The image would exceed a format limit.
    #[error("image too large: {reason}")]
    TooLarge {
        /// Which limit.
        reason: String,
    },
    /// The system area handed to the plan is too big.
    #[error("system area of {len} bytes is larger than the 32768 bytes available")]
    SystemArea {
        /// Its length.
        len: usize,
    },
    /// A boot information table cannot be written into a file.
    #[error("boot information table in {path}: {reason}")]
    BootInfoTable {
        /// The file in the image.
        path: String,
        /// Why not.
        reason: &'static str,
    },
    /// Opening a file's data source failed.
    #[error("opening the data of {path:?}")]
    Open {
        /// The file's path in the image.
        path: String,
        /// The underlying error.
        source: io::Error,
    },
    /// Reading a file's data source failed.
    #[error("reading the data of {path:?} at byte {offset}")]
    Read {
        /// The file's path in the image.
        path: String,
        /// Bytes read before the error.
        offset: u64,
        /// The underlying error.
        source: io::Error,
    },
    /// A data source ended before its declared size.
    #[error("the data of {path:?} ended after {got} bytes; {declared} were declared")]
    SourceTooShort {
        /// The file's path in the image.
        path: String,
        /// The declared size.
        declared: u64,
        /// Bytes it actually gave.
        got: u64,
    },
    /// A data source gave more than its declared size.
    #[error("the data of {path:?} is longer than the {declared} bytes declared")]
    SourceTooLong {
        /// The file's path in the image.
        path: String,
        /// The declared size.
        declared: u64,
    },
    /// Writing the image failed.
    #[error("writing the image at byte {offset}")]
    Write {
        /// Image offset where the write failed.
        offset: u64,
        /// The underlying error.
        source: io::Error,
    },
    /// The cancel flag was raised.
    #[error("writing the image was cancelled at byte {offset}")]
    Cancelled {
        /// Bytes written before stopping.
        offset: u64,
    },
}

impl From<Error> for io::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Write { source, .. } => source,
            other => io::Error::other(other),
        }
    }
}

impl Error {
    /// The kind of failure, for exit codes: the plan's inputs are invalid input, the data
    /// sources' and the output's I/O are failures (or not found).
    pub fn class(&self) -> tsmedia_base::ErrorClass {
        use tsmedia_base::ErrorClass;
        match self {
            Error::Open { source, .. } | Error::Read { source, .. } => ErrorClass::of_io(source),
            Error::Write { .. } => ErrorClass::Failure,
            Error::Cancelled { .. } => ErrorClass::Cancelled,
            _ => ErrorClass::InvalidInput,
        }
    }
}
