//! Errors of the FAT writer.

use std::io;

/// Everything that can go wrong while declaring, planning or writing a FAT volume.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A declared path is empty, has an empty component, or a name FAT cannot store.
    #[error("invalid path {path:?}: {reason}")]
    InvalidPath { path: String, reason: String },
    /// The same path (compared case-insensitively, as FAT does) was declared twice.
    #[error("{path:?} is declared twice (FAT names are case-insensitive)")]
    Duplicate { path: String },
    /// A path goes through something that was declared as a file.
    #[error("{path:?}: parent {parent:?} is a file, not a directory")]
    ParentIsFile { path: String, parent: String },
    /// FAT stores file sizes in 32 bits.
    #[error(
        "file {path:?} is {size} bytes; FAT allows at most 4294967295 bytes (4 GiB - 1) per file"
    )]
    FileTooLarge { path: String, size: u64 },
    /// A directory holds more entries than FAT allows.
    #[error("directory {path:?} needs {entries} directory entries; FAT allows at most {max}")]
    DirectoryTooLarge {
        path: String,
        entries: u64,
        max: u64,
    },
    /// The volume label is longer than 11 bytes or has a character a short name cannot hold.
    #[error("invalid volume label {label:?}: {reason}")]
    InvalidLabel { label: String, reason: &'static str },
    /// An option is outside what FAT supports.
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// The requested size and FAT type / cluster size do not make a valid volume.
    #[error(transparent)]
    Geometry(#[from] super::geometry::GeometryError),
    /// The declared content does not fit into the requested volume size.
    #[error(
        "volume of {available} bytes is too small for the declared content: at least {needed} bytes are needed"
    )]
    VolumeTooSmall { available: u64, needed: u64 },
    /// Opening or reading a file's source failed.
    #[error("reading the source of {path:?}")]
    Source { path: String, source: io::Error },
    /// A source gave fewer bytes than declared.
    #[error("source of {path:?} ended after {actual} bytes but {declared} bytes were declared")]
    SourceTooShort {
        path: String,
        declared: u64,
        actual: u64,
    },
    /// A source gave more bytes than declared.
    #[error("source of {path:?} has more than the {declared} bytes declared")]
    SourceTooLong { path: String, declared: u64 },
    /// Writing the volume failed.
    #[error("writing the FAT volume at byte {offset:#x}")]
    Write { offset: u64, source: io::Error },
}

/// Result of FAT operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<Error> for io::Error {
    fn from(err: Error) -> Self {
        let kind = match &err {
            Error::Write { source, .. } | Error::Source { source, .. } => source.kind(),
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
            Error::Source { source, .. } => ErrorClass::of_io(source),
            Error::Write { .. } => ErrorClass::Failure,
            _ => ErrorClass::InvalidInput,
        }
    }
}
