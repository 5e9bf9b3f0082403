//! Errors of the PE builder: each names the file (a `.deb`, a module, the runtime) and what is
//! wrong with it.

use std::path::{Path, PathBuf};

/// What went wrong while building tsmedia PE.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{}: {message}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Its kind, for exit codes.
        kind: std::io::ErrorKind,
        /// The cause, printed here rather than returned as a source.
        message: String,
    },
    /// A `.deb` is not a Debian package or is damaged.
    #[error("{}: {reason}", path.display())]
    Deb {
        /// The package file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A package needed for the PE is not in the folder.
    #[error("{folder}: no {what} package; {hint}", folder = folder.display())]
    MissingPackage {
        /// The folder of `.deb` files.
        folder: PathBuf,
        /// What was looked for (`linux-image-*-amd64`, `busybox-static`, …).
        what: String,
        /// How to get it.
        hint: String,
    },
    /// A package is for another architecture than the PE being built.
    #[error("{}: package {package} is for {found}, tsmedia PE is built for {wanted}", path.display())]
    WrongArchitecture {
        /// The package file.
        path: PathBuf,
        /// Its name.
        package: String,
        /// Its `Architecture:`.
        found: String,
        /// The PE's architecture.
        wanted: String,
    },
    /// A file the PE needs is missing from the package that should hold it.
    #[error("{}: package {package} has no {file}", path.display())]
    MissingFile {
        /// The package file.
        path: PathBuf,
        /// Its name.
        package: String,
        /// The path looked for.
        file: String,
    },
    /// A kernel module is damaged or needs modules the kernel package lacks.
    #[error("kernel module {module}: {reason}")]
    Module {
        /// The module's name.
        module: String,
        /// What is wrong.
        reason: String,
    },
    /// The runtime executable is unusable.
    #[error("{}: {reason}", path.display())]
    Runtime {
        /// The executable.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The PE's files cannot be laid out on the media.
    #[error("laying out tsmedia PE on the media: {reason}")]
    Layout {
        /// What is wrong.
        reason: String,
    },
    /// Writing the PE image failed.
    #[error("writing the PE image: {0}")]
    Wim(#[from] tsmedia_wim::Error),
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: &Path, e: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

/// Results of the PE builder.
pub type Result<T, E = Error> = std::result::Result<T, E>;
