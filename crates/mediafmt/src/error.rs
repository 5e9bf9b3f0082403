//! Errors of the media files.

use std::path::PathBuf;

/// A media file could not be written, read or opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// File I/O failed on `path`; the operating system's reason is the source.
    #[error("{}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A secret file could not be decrypted (wrong password or tampered with).
    #[error("{what}: cannot decrypt: {reason}")]
    Decrypt {
        /// The file (`Variables.dat`, `policy.xml`, ...).
        what: String,
        /// Why.
        reason: String,
    },
    /// A secret file (or its plaintext) is not in the expected format.
    #[error("{what}: not a tsmedia secret file: {reason}")]
    SecretFormat {
        /// The file.
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// A file of password-protected media is sealed without a password (issue #15, L1).
    #[error(
        "{what} is not password-protected, but these media are: an unprotected file in \
         password-protected media is refused (it was replaced, or copied from other media)"
    )]
    Downgrade {
        /// The file.
        what: String,
    },
    /// The content manifest is not the one the sealed media variables name (issue #15, L1).
    #[error("content manifest {}: {reason}", .path.display())]
    ManifestNotAuthentic {
        /// The manifest file.
        path: PathBuf,
        /// What does not match.
        reason: String,
    },
    /// The media certificate cannot be opened or read, or no randomness was available.
    #[error("certificate: {0}")]
    Certificate(String),
    /// A media document (such as the software policy) is not in its format.
    #[error("{what}: {reason}")]
    Format {
        /// The document.
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// The content manifest cannot be read.
    #[error("content manifest {}: {reason}", .path.display())]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
