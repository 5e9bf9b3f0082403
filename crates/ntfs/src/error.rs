//! The one error type of NTFS volume operations.

use std::io;
use std::path::PathBuf;

/// What went wrong with an NTFS volume.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The target holds no NTFS file system.
    #[error("{path}: not an NTFS volume (no \"NTFS    \" boot sector); format it first")]
    NotNtfs {
        /// The device or image.
        path: PathBuf,
    },
    /// Reading or inspecting the device or image failed.
    #[error("{path}")]
    Io {
        /// The device, image or folder.
        path: PathBuf,
        /// What the operating system reported.
        source: io::Error,
    },
    /// An NTFS-3G program could not be started.
    #[error("cannot run {program} (is the ntfs-3g package installed?)")]
    Spawn {
        /// `mkntfs`, `ntfs-3g`, ...
        program: &'static str,
        /// What the operating system reported.
        source: io::Error,
    },
    /// An NTFS-3G program failed.
    #[error("{program} failed on {path} ({status}): {output}")]
    Tool {
        /// `mkntfs`, `ntfs-3g`, `umount`, ...
        program: &'static str,
        /// The device or mount point.
        path: PathBuf,
        /// Its exit status.
        status: String,
        /// The last lines it printed.
        output: String,
    },
    /// The volume did not appear mounted in time.
    #[error("ntfs-3g did not mount {path} within {seconds} s")]
    MountTimeout {
        /// The device or image.
        path: PathBuf,
        /// How long it was given.
        seconds: u64,
    },
    /// The volume ran out of space while a file was written.
    #[error("the NTFS volume {volume} is full: no space left for {file}")]
    Full {
        /// The device or image.
        volume: PathBuf,
        /// The file in the image being written (`/Windows/System32/x.dll`).
        file: String,
    },
    /// Writing a file or its metadata onto the volume failed.
    #[error("writing {file} onto the NTFS volume {volume}")]
    Write {
        /// The device or image.
        volume: PathBuf,
        /// The file in the image (`/Windows/System32/x.dll`).
        file: String,
        /// What NTFS-3G reported.
        source: io::Error,
    },
    /// The WIM engine failed (the image, its blobs or the options).
    #[error("applying the image onto the NTFS volume {volume}")]
    Wim {
        /// The device or image.
        volume: PathBuf,
        /// The WIM engine's error.
        source: tsmedia_wim::Error,
    },
}

/// The result of NTFS volume operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;
