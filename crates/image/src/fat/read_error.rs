//! Errors of the FAT reader.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while reading an existing FAT volume. Hostile or damaged
/// volumes give one of these, never a panic.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// Reading the underlying file or device failed (or it ended early).
    #[error("reading the FAT volume at byte {offset:#x}")]
    Io { offset: u64, source: io::Error },
    /// The boot sector is not a usable FAT boot sector.
    #[error("not a usable FAT boot sector: {0}")]
    BadBootSector(String),
    /// A cluster number outside the volume's data clusters.
    #[error("{what}: cluster {cluster} is outside the volume (clusters 2..{end})")]
    ClusterOutOfRange {
        what: String,
        cluster: u32,
        end: u64,
    },
    /// A cluster chain ends before the size its entry declares.
    #[error("{what}: cluster chain ends after {clusters} clusters but {needed} are needed")]
    ChainTooShort {
        what: String,
        clusters: u64,
        needed: u64,
    },
    /// A cluster chain goes on past the size its entry declares.
    #[error("{what}: cluster chain continues past the {clusters} clusters its size needs")]
    ChainTooLong { what: String, clusters: u64 },
    /// A cluster chain comes back to a cluster it already went through.
    #[error("{what}: cluster chain loops back to cluster {cluster}")]
    ChainLoop { what: String, cluster: u32 },
    /// A cluster chain points at a free or bad cluster.
    #[error("{what}: cluster chain reaches a {kind} cluster after cluster {cluster}")]
    ChainBroken {
        what: String,
        cluster: u32,
        kind: &'static str,
    },
    /// A directory is larger than FAT allows (65536 entries).
    #[error("directory {path:?} is larger than FAT's 65536 entries")]
    DirectoryTooLarge { path: String },
    /// A directory is reached twice while walking the tree (its entry points at an ancestor
    /// or at another directory).
    #[error("directory {path:?} (cluster {cluster}) was already visited: directory cycle")]
    DirectoryCycle { path: String, cluster: u32 },
    /// The tree is deeper than the reader follows.
    #[error("{path:?} is more than {max} directories deep")]
    TooDeep { path: String, max: usize },
    /// No entry at this path.
    #[error("{path:?} not found on the FAT volume")]
    NotFound { path: String },
    /// A directory was expected but the entry is a file, or the other way round.
    #[error("{path:?} is {actual}, not {expected}")]
    WrongKind {
        path: String,
        expected: &'static str,
        actual: &'static str,
    },
    /// A name on the volume cannot be used as a host file name.
    #[error("{path:?}: name {name:?} is not safe to extract ({reason})")]
    UnsafeName {
        path: String,
        name: String,
        reason: &'static str,
    },
    /// Writing an extracted file or folder on the host failed.
    #[error("{}", .path.display())]
    Host { path: PathBuf, source: io::Error },
}

/// Result of FAT reading.
pub type ReadResult<T, E = ReadError> = std::result::Result<T, E>;

impl From<ReadError> for io::Error {
    fn from(err: ReadError) -> Self {
        let kind = match &err {
            ReadError::Io { source, .. } | ReadError::Host { source, .. } => source.kind(),
            ReadError::NotFound { .. } => io::ErrorKind::NotFound,
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, err)
    }
}

impl ReadError {
    /// The kind of failure, for exit codes.
    pub fn class(&self) -> tsmedia_base::ErrorClass {
        use tsmedia_base::ErrorClass;
        match self {
            ReadError::Io { .. } => ErrorClass::Failure,
            ReadError::Host { source, .. } => ErrorClass::of_io(source),
            ReadError::NotFound { .. } => ErrorClass::NotFound,
            ReadError::UnsafeName { .. } => ErrorClass::Refused,
            _ => ErrorClass::InvalidInput,
        }
    }
}
