//! The error type of every WIM operation.

use std::io;
use std::path::PathBuf;

/// What went wrong, with enough context to find the byte, blob, image or path at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("not a WIM file: {0}")]
    NotWim(String),
    #[error("invalid WIM header: {0}")]
    BadHeader(String),
    #[error("unsupported WIM feature: {0}")]
    Unsupported(String),
    #[error("resource at offset {offset:#x}: {reason}")]
    BadResource { offset: u64, reason: String },
    #[error("blob table entry {index} at offset {offset:#x}: {reason}")]
    BadBlobEntry {
        index: usize,
        offset: u64,
        reason: String,
    },
    #[error("blob {sha1} is missing (is a part of a split WIM missing? pass --ref)")]
    MissingBlob { sha1: String },
    #[error("blob {sha1}: data hashes to {actual}: the WIM is corrupt")]
    HashMismatch { sha1: String, actual: String },
    #[error("chunk {chunk} of the resource at offset {offset:#x} does not decompress")]
    Decode {
        offset: u64,
        chunk: u64,
        source: tsmedia_codecs::DecodeError,
    },
    #[error("image {image} metadata at byte {offset:#x}: {reason}")]
    BadMetadata {
        image: u32,
        offset: u64,
        reason: String,
    },
    #[error("XML data: {0}")]
    BadXml(String),
    #[error("integrity check failed: chunk {chunk} (bytes {start:#x}..{end:#x}) does not match")]
    Integrity { chunk: u32, start: u64, end: u64 },
    #[error("no image {0} in this WIM")]
    NoSuchImage(String),
    #[error("{path}: {reason}")]
    Unsafe { path: String, reason: String },
    #[error("{path}: {reason}")]
    Source { path: PathBuf, reason: String },
    #[error("split WIM: {0}")]
    Split(String),
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error("codec: {0}")]
    Codec(#[from] tsmedia_codecs::CodecError),
    #[error("operation cancelled")]
    Cancelled,
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Attaches a path to an `io::Error`.
pub(crate) trait IoContext<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|source| Error::Io {
            path: path.into(),
            source,
        })
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        match e {
            Error::Io { source, .. } => source,
            other => io::Error::new(io::ErrorKind::InvalidData, other),
        }
    }
}
