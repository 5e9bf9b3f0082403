//! Errors of the runtime.

use std::path::PathBuf;

use tsmedia_protocol::client::ClientError;

/// Runtime errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file operation failed on `path`; the operating system's reason is the source.
    #[error("{path}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The media (ISO set, USB image, staged disk) could not be read into a folder.
    #[error(transparent)]
    Source(#[from] crate::source::SourceError),
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
    /// The media name no management point (neither `SMSTSMP` nor `SMSTSLocationMPs`).
    #[error("{0} media name no management point (SMSTSMP or SMSTSLocationMPs)")]
    NeedsManagementPoint(String),
    /// No management point answered; each one tried is named with what happened.
    #[error("no management point answered; tried {}", .tried.join("; "))]
    NoManagementPoint {
        /// `URL: reason` per management point, in the order tried.
        tried: Vec<String>,
    },
    /// A request to the site failed or was refused; `what` says which request.
    #[error("{what}")]
    Site {
        /// The request (`identity at http://mp1`, `policy of deployment PS120001`...).
        what: String,
        /// What the client library reported (a refusal carries the site's code and message).
        #[source]
        error: ClientError,
    },
    /// The media certificate (`_SMSTSMediaPFX`) cannot be used to sign requests.
    #[error("media certificate: {0}")]
    MediaCertificate(String),
    /// Neither an SMBIOS GUID nor a MAC address is known for this computer.
    #[error("{0}")]
    NoIdentity(String),
    /// No deployment is available to media for this computer.
    #[error("no task sequence deployment is available to media for {0}")]
    NoDeployment(String),
    /// Several deployments and nothing chooses one.
    #[error(
        "{} deployments are available and the media are not unattended: {}; choose one with --deployment ID (or set SMSTSPreferredAdvertID)",
        .offered.len(), .offered.join(", ")
    )]
    DeploymentChoice {
        /// `ID (task sequence name)` of each deployment offered.
        offered: Vec<String>,
    },
    /// Unattended media, several deployments, and `SMSTSPreferredAdvertID` names none.
    #[error(
        "unattended media do not choose among {} deployments: {}; name one in SMSTSPreferredAdvertID (media variable or prestart command) or run with --deployment ID",
        .offered.len(), .offered.join(", ")
    )]
    UnattendedDeploymentChoice {
        /// `ID (task sequence name)` of each deployment offered.
        offered: Vec<String>,
    },
    /// The deployment asked for is not offered to this computer.
    #[error("deployment {id} is not available to media for this computer; offered: {}", if .offered.is_empty() { "none".to_string() } else { .offered.join(", ") })]
    DeploymentNotOffered {
        /// The deployment asked for.
        id: String,
        /// `ID (task sequence name)` of each deployment offered.
        offered: Vec<String>,
    },
    /// No distribution point gave the content; each one tried is named with what happened.
    #[error("content {content_id}: no distribution point gave it; tried {}", if .tried.is_empty() { "none (the management point knows no distribution point holding it)".to_string() } else { .tried.join("; ") })]
    Download {
        /// `<PackageID>.<version>`.
        content_id: String,
        /// `DP (URL): reason` per distribution point, in the order tried.
        tried: Vec<String>,
        /// Whether every distribution point refused (no read access, refused certificate).
        refused: bool,
    },
    /// [`RunOptions::cancel`](crate::RunOptions::cancel) was cancelled; the run stopped at
    /// its next check (between reads of a download, files of an image, steps).
    #[error(transparent)]
    Cancelled(#[from] tsmedia_base::Cancelled),
    /// No source has the package.
    #[error(
        "content of package {0} is not available (not staged, not cached, no distribution point)"
    )]
    ContentUnavailable(String),
}

/// What kind of failure an [`Error`] is, for exit codes: one type for every crate.
pub use tsmedia_base::ErrorClass;

fn client_class(e: &ClientError) -> ErrorClass {
    match e {
        ClientError::Refused {
            status: 401 | 403, ..
        } => ErrorClass::Refused,
        ClientError::Refused { status: 404, .. } => ErrorClass::NotFound,
        ClientError::Refused { status, .. } if *status < 500 => ErrorClass::InvalidInput,
        ClientError::Mismatch { .. } | ClientError::Protocol { .. } => ErrorClass::InvalidInput,
        ClientError::Cancelled(_) => ErrorClass::Cancelled,
        _ => ErrorClass::Failure,
    }
}

impl Error {
    /// The kind of failure.
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                ErrorClass::NotFound
            }
            Error::Source(crate::source::SourceError::Open { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                ErrorClass::NotFound
            }
            Error::Source(crate::source::SourceError::Write { .. }) => ErrorClass::Failure,
            Error::Io { .. } | Error::Prestart { .. } | Error::NoManagementPoint { .. } => {
                ErrorClass::Failure
            }
            Error::Site { error, .. } => client_class(error),
            Error::Download { refused: true, .. } => ErrorClass::Refused,
            Error::Download { .. } => ErrorClass::Failure,
            Error::NoDeployment(_)
            | Error::DeploymentNotOffered { .. }
            | Error::ContentUnavailable(_) => ErrorClass::NotFound,
            Error::NotYetValid(_) | Error::Expired(_) => ErrorClass::Refused,
            Error::Cancelled(_) => ErrorClass::Cancelled,
            _ => ErrorClass::InvalidInput,
        }
    }
}

/// The media files' errors: I/O and the content manifest keep their own variants (a missing
/// file is "not found"); anything else makes the media unusable ([`Error::Media`]).
impl From<tsmedia_mediafmt::Error> for Error {
    fn from(e: tsmedia_mediafmt::Error) -> Error {
        match e {
            tsmedia_mediafmt::Error::Io { path, source } => Error::Io { path, source },
            tsmedia_mediafmt::Error::Manifest { path, reason } => Error::Manifest { path, reason },
            other => Error::Media(other.to_string()),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(status: u16) -> Error {
        Error::Site {
            what: "identity at http://mp".into(),
            error: ClientError::Refused {
                url: "http://mp/mp/v1/identity".into(),
                status,
                code: "c".into(),
                message: "m".into(),
            },
        }
    }

    #[test]
    fn each_cause_prints_once() {
        let gone = || std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let e = Error::Io {
            path: "/m/x".into(),
            source: gone(),
        };
        assert_eq!(e.to_string(), "/m/x");
        assert_eq!(tsmedia_base::error_chain(&e), "/m/x: gone");
        let e = Error::Site {
            what: "content PS100001.1".into(),
            error: ClientError::Io {
                path: "/c/a.wim.partial".into(),
                source: gone(),
            },
        };
        assert_eq!(
            tsmedia_base::error_chain(&e),
            "content PS100001.1: /c/a.wim.partial: gone"
        );
        let e = Error::from(tsmedia_mediafmt::Error::Io {
            path: "/m/v.dat".into(),
            source: gone(),
        });
        assert_eq!(tsmedia_base::error_chain(&e), "/m/v.dat: gone");
        assert_eq!(e.class(), ErrorClass::NotFound);
    }

    #[test]
    fn classes() {
        let table = [
            (refused(403), ErrorClass::Refused),
            (refused(401), ErrorClass::Refused),
            (refused(404), ErrorClass::NotFound),
            (refused(400), ErrorClass::InvalidInput),
            (refused(500), ErrorClass::Failure),
            (
                Error::Media("wrong password".into()),
                ErrorClass::InvalidInput,
            ),
            (Error::NoDeployment("PC1".into()), ErrorClass::NotFound),
            (
                Error::NoManagementPoint { tried: vec![] },
                ErrorClass::Failure,
            ),
            (Error::Expired("2020-01-01".into()), ErrorClass::Refused),
            (
                Error::Download {
                    content_id: "PS100001.1".into(),
                    tried: vec!["DP1: 403".into()],
                    refused: true,
                },
                ErrorClass::Refused,
            ),
        ];
        for (e, class) in table {
            assert_eq!(e.class(), class, "{e}");
        }
        let text = tsmedia_base::error_chain(&refused(403));
        assert!(
            text.starts_with("identity at http://mp: ") && text.ends_with("403 c: m"),
            "{text}"
        );
    }
}
