//! Errors of the disk image writer.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while planning or writing a partitioned disk image.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The FAT volume inside the partition could not be planned or written.
    #[error("FAT partition")]
    Fat(#[from] crate::fat::Error),
    /// The requested disk size cannot hold the partition table and the partition.
    #[error("disk of {available} bytes is too small: at least {needed} bytes are needed")]
    DiskTooSmall { available: u64, needed: u64 },
    /// An option is outside what the partition table supports.
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// The target already holds data and overwriting was not allowed.
    #[error("{path} is not empty; refusing to overwrite it without the overwrite option")]
    TargetNotEmpty { path: PathBuf },
    /// The target device is smaller than the planned image.
    #[error("{path} holds {available} bytes but the image needs {needed}")]
    TargetTooSmall {
        path: PathBuf,
        available: u64,
        needed: u64,
    },
    /// Writing the image failed.
    #[error("writing the disk image at byte {offset:#x}")]
    Write { offset: u64, source: io::Error },
    /// The cancel flag was set while writing.
    #[error("writing the disk image was cancelled")]
    Cancelled,
    /// Opening, inspecting or finishing the target failed.
    #[error("{path}")]
    Target { path: PathBuf, source: io::Error },
}

/// Result of disk image operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<Error> for io::Error {
    fn from(err: Error) -> Self {
        let kind = match &err {
            Error::Write { source, .. } | Error::Target { source, .. } => source.kind(),
            Error::Fat(crate::fat::Error::Write { source, .. })
            | Error::Fat(crate::fat::Error::Source { source, .. }) => source.kind(),
            Error::Cancelled => io::ErrorKind::Other,
            _ => io::ErrorKind::InvalidInput,
        };
        io::Error::new(kind, err)
    }
}

impl Error {
    /// The kind of failure, for exit codes.
    pub fn class(&self) -> tsmedia_base::ErrorClass {
        use tsmedia_base::ErrorClass;
        match self {
            Error::Fat(e) => e.class(),
            Error::TargetNotEmpty { .. } => ErrorClass::Refused,
            Error::Target { source, .. } => ErrorClass::of_io(source),
            Error::Write { .. } => ErrorClass::Failure,
            Error::Cancelled => ErrorClass::Cancelled,
            _ => ErrorClass::InvalidInput,
        }
    }
}
