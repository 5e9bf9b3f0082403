//! NTFS volumes for Windows deployment, written through NTFS-3G.
//!
//! Debian 12's kernel has no writable NTFS driver (`CONFIG_NTFS3_FS` is not set), so tsmedia
//! writes NTFS with NTFS-3G's programs, run as programs and never linked: `mkntfs` formats
//! ([`format()`]), the `ntfs-3g` FUSE driver mounts ([`Mount`], which always unmounts), and
//! the Windows metadata goes through NTFS-3G's documented extended attributes
//! ([`NtfsBackend`]). [`apply_to_ntfs`] applies a WIM image onto a volume with the WIM
//! engine's one apply code path (`tsmedia_wim::apply` with an
//! [`ApplyBackend`](tsmedia_wim::ApplyBackend)): security descriptors, file attributes, named
//! data streams, reparse points (symbolic links, junctions), short names, hard links and
//! 100 ns timestamps. The reasoning, the attribute layouts and the order in which they are set
//! are in `docs/ntfs.md`.
//!
//! Not supported: encrypted (EFS) and sparse files are written as plain files, object IDs and
//! extended attributes (EAs) of the image are not applied (reported as a warning).

mod apply;
mod backend;
mod detect;
mod error;
mod format;
mod mount;
mod tool;

pub use apply::{apply_to_mounted, apply_to_ntfs};
pub use backend::{
    NtfsBackend, XATTR_ACL, XATTR_ATTRIB, XATTR_DOS_NAME, XATTR_REPARSE, XATTR_TIMES, times_value,
};
pub use detect::{OEM_ID, is_ntfs, is_ntfs_boot_sector, is_ntfs_target};
pub use error::{Error, Result};
pub use format::{FormatOptions, format, mkntfs_args};
pub use mount::{Mount, mounted_ntfs_device};
