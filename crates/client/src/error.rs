//! Errors of the runtime.

use std::path::PathBuf;

/// Runtime errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The content manifest cannot be read.
    #[error("content manifest {path}: {reason}")]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Content does not match its manifest (tampered or incomplete).
    #[error("content of package {package} does not match the manifest: {reason}")]
    ContentMismatch {
        /// The package ID.
        package: String,
        /// The first difference found.
        reason: String,
    },
    /// The media files (bootstrap, variables, policy) cannot be used; the message says why
    /// (a wrong password is reported here, by the decryption).
    #[error("media: {0}")]
    Media(String),
    /// Stand-alone media before their start date.
    #[error("the media are not valid before {0}")]
    NotYetValid(String),
    /// Stand-alone media after their expiration date.
    #[error("the media expired on {0}")]
    Expired(String),
    /// The prestart command failed.
    #[error("prestart command {command:?} failed ({status}): {stderr}")]
    Prestart {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
        /// What it printed on standard error.
        stderr: String,
    },
    /// The task sequence policy cannot be used.
    #[error("task sequence policy: {0}")]
    Policy(String),
    /// Bootable and prestaged media need a management point, which this runtime does not
    /// contact yet.
    #[error("{0} media need a management point; this runtime runs stand-alone media only")]
    NeedsManagementPoint(String),
    /// No source has the package.
    #[error(
        "content of package {0} is not available (not staged, not cached, no distribution point)"
    )]
    ContentUnavailable(String),
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Attaches a path to I/O errors.
pub(crate) trait IoContext<T> {
    fn at(self, path: &std::path::Path) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, path: &std::path::Path) -> Result<T> {
        self.map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}
