//! Errors of the media builder.

use std::path::PathBuf;

use tsmedia_base::ErrorClass;

use crate::preflight::PreflightFailure;

/// A media build, inspection or secret failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The spec is not valid (bad option value, unknown size, ...).
    #[error("invalid media option {option}: {reason}")]
    Spec { option: String, reason: String },
    /// Preflight found problems; nothing was written.
    #[error("preflight failed, nothing was written:\n{}", list(.0))]
    Preflight(Vec<PreflightFailure>),
    /// The site database or content library failed.
    #[error(transparent)]
    Site(#[from] tsmedia_site::Error),
    /// Reading or writing a WIM failed.
    #[error("WIM {what}")]
    Wim {
        what: String,
        #[source]
        source: tsmedia_wim::Error,
    },
    /// Planning or writing an ISO failed.
    #[error("ISO {what}")]
    Iso {
        what: String,
        #[source]
        source: tsmedia_image::iso::Error,
    },
    /// Planning or writing a USB image failed.
    #[error("USB image {what}")]
    Usb {
        what: String,
        #[source]
        source: tsmedia_image::disk::Error,
    },
    /// File I/O failed.
    #[error("{}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A secret file could not be decrypted (wrong password or tampered with).
    #[error("{what}: cannot decrypt: {reason}")]
    Decrypt { what: String, reason: String },
    /// A secret file is not in the expected format.
    #[error("{what}: not a tsmedia secret file: {reason}")]
    SecretFormat { what: String, reason: String },
    /// Creating or importing a certificate failed.
    #[error("certificate: {0}")]
    Certificate(String),
    /// The media to inspect are not understood.
    #[error("{}: {reason}", .path.display())]
    Inspect { path: PathBuf, reason: String },
    /// A tsmedia PE boot image's boot files cannot be laid out.
    #[error("tsmedia PE boot image {}", .path.display())]
    PeBoot {
        path: PathBuf,
        #[source]
        source: tsmedia_pe::Error,
    },
}

impl Error {
    /// The kind of failure, for exit codes. A refused preflight is `NotFound` when it names
    /// an object the site does not have, else the class of its first failure.
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::Spec { .. }
            | Error::Decrypt { .. }
            | Error::SecretFormat { .. }
            | Error::Inspect { .. }
            | Error::PeBoot { .. } => ErrorClass::InvalidInput,
            Error::Preflight(f) => {
                if f.iter().any(|f| f.class == ErrorClass::NotFound) {
                    ErrorClass::NotFound
                } else {
                    f.first().map_or(ErrorClass::Failure, |f| f.class)
                }
            }
            Error::Site(e) => e.class(),
            Error::Wim { source, .. } => source.class(),
            Error::Iso { source, .. } => source.class(),
            Error::Usb { source, .. } => source.class(),
            Error::Io { source, .. } => ErrorClass::of_io(source),
            Error::Certificate(_) => ErrorClass::Failure,
        }
    }
}

fn list(f: &[PreflightFailure]) -> String {
    f.iter()
        .map(|f| format!("  - {f}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The media files' errors (`tsmedia-mediafmt`) keep the variants and messages they had when
/// those files were read and written here.
impl From<tsmedia_mediafmt::Error> for Error {
    fn from(e: tsmedia_mediafmt::Error) -> Error {
        use tsmedia_mediafmt::Error as F;
        match e {
            F::Io { path, source } => Error::Io { path, source },
            F::Decrypt { what, reason } => Error::Decrypt { what, reason },
            F::SecretFormat { what, reason } => Error::SecretFormat { what, reason },
            F::Certificate(m) => Error::Certificate(m),
            F::Manifest { path, reason } => Error::Inspect { path, reason },
            other => Error::Inspect {
                path: PathBuf::new(),
                reason: other.to_string(),
            },
        }
    }
}

/// The ISO reader's errors, as they were when the reader lived here.
impl From<tsmedia_image::iso::ReadError> for Error {
    fn from(e: tsmedia_image::iso::ReadError) -> Error {
        use tsmedia_image::iso::ReadError as R;
        match e {
            R::Io { path, source } => Error::Io { path, source },
            R::Invalid { path, reason } => Error::Inspect { path, reason },
            other => Error::Inspect {
                path: PathBuf::new(),
                reason: other.to_string(),
            },
        }
    }
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) trait IoContext<T> {
    fn at(self, path: &std::path::Path) -> Result<T>;
}

impl From<tsmedia_base::atomic_file::Error> for Error {
    fn from(e: tsmedia_base::atomic_file::Error) -> Error {
        Error::Io {
            path: e.path,
            source: e.source,
        }
    }
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, path: &std::path::Path) -> Result<T> {
        self.map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

pub(crate) fn wim(what: impl Into<String>) -> impl FnOnce(tsmedia_wim::Error) -> Error {
    let what = what.into();
    move |source| Error::Wim { what, source }
}

pub(crate) fn spec(option: &str, reason: impl Into<String>) -> Error {
    Error::Spec {
        option: option.into(),
        reason: reason.into(),
    }
}
