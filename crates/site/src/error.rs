//! The one error type of the site crate.

use std::path::PathBuf;

/// Result with the site crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong with a site. Each variant names the object it is about.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or folder could not be read or written.
    #[error("{}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The site database refused an operation.
    #[error("site database: {context}")]
    Db {
        /// What was being done.
        context: String,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The folder holds no site.
    #[error("no site at {} (create one with `tsmedia site init`)", dir.display())]
    NoSite {
        /// The folder that was opened.
        dir: PathBuf,
    },
    /// `init` was asked to create a site where one (or other files) already exist.
    #[error("cannot create a site at {}: {reason}", dir.display())]
    SiteExists {
        /// The folder.
        dir: PathBuf,
        /// Why not.
        reason: String,
    },
    /// The site database was written by a newer tsmedia.
    #[error("site schema version {found} is newer than this tsmedia supports ({supported})")]
    SchemaTooNew {
        /// Version in the database.
        found: u32,
        /// Newest version this build knows.
        supported: u32,
    },
    /// An object with this ID or name does not exist.
    #[error("{kind} {id} not found")]
    NotFound {
        /// What kind of object ("package", "distribution point", ...).
        kind: &'static str,
        /// The ID or name that was asked for.
        id: String,
    },
    /// An object with this name or key already exists.
    #[error("{kind} {name:?} already exists ({existing})")]
    Duplicate {
        /// What kind of object.
        kind: &'static str,
        /// The clashing name or key.
        name: String,
        /// The object that already has it.
        existing: String,
    },
    /// An argument is not acceptable.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// Which argument or value.
        what: String,
        /// Why.
        reason: String,
    },
    /// A package exists but is of another type than the operation needs.
    #[error("{id} is a {found}, not a {expected}")]
    WrongType {
        /// The package.
        id: String,
        /// Type that was needed.
        expected: String,
        /// Type it has.
        found: String,
    },
    /// A file given as a boot or OS image is not a readable WIM.
    #[error("{} is not a WIM file: {reason}", path.display())]
    NotWim {
        /// The file.
        path: PathBuf,
        /// What was wrong with it.
        reason: String,
    },
    /// The requested image index is not in the WIM.
    #[error("{} has no image {index} (it holds {count} image(s))", path.display())]
    NoSuchImage {
        /// The WIM file.
        path: PathBuf,
        /// Requested 1-based index.
        index: u32,
        /// How many images the WIM holds.
        count: usize,
    },
    /// A source file changed while it was being imported.
    #[error("{} changed while it was being imported", path.display())]
    SourceChanged {
        /// The file.
        path: PathBuf,
    },
    /// A task sequence could not be parsed or is inconsistent.
    #[error("task sequence {name}: {reason}")]
    TaskSequence {
        /// File name or task sequence ID.
        name: String,
        /// What was wrong.
        reason: String,
    },
    /// A certificate could not be parsed.
    #[error("certificate {name}: {reason}")]
    Certificate {
        /// File name or thumbprint.
        name: String,
        /// What was wrong.
        reason: String,
    },
    /// The site has allocated every one of its 5-hex-digit IDs.
    #[error("site {code} has no object IDs left (all of {code}00001..{code}FFFFF are used)")]
    IdsExhausted {
        /// The site code.
        code: String,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }

    pub(crate) fn db(context: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> Error {
        let context = context.into();
        move |source| Error::Db { context, source }
    }

    pub(crate) fn invalid(what: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::Invalid {
            what: what.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn not_found(kind: &'static str, id: impl Into<String>) -> Error {
        Error::NotFound {
            kind,
            id: id.into(),
        }
    }
}

impl Error {
    /// The kind of failure, for exit codes.
    pub fn class(&self) -> tsmedia_base::ErrorClass {
        use tsmedia_base::ErrorClass;
        match self {
            Error::NotFound { .. } | Error::NoSite { .. } | Error::NoSuchImage { .. } => {
                ErrorClass::NotFound
            }
            Error::NotWim { .. } | Error::TaskSequence { .. } | Error::SourceChanged { .. } => {
                ErrorClass::InvalidInput
            }
            Error::Io { source, .. } => ErrorClass::of_io(source),
            _ => ErrorClass::Failure,
        }
    }
}
