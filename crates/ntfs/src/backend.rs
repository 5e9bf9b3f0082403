//! The apply backend that writes Windows metadata through NTFS-3G's extended attributes.
//!
//! On a volume mounted by `ntfs-3g` (see [`crate::mount`]) each piece of Windows metadata is an
//! extended attribute of the file (facts and layouts in `docs/ntfs.md`):
//!
//! | what | attribute | value |
//! |---|---|---|
//! | reparse point | `system.ntfs_reparse_data` | the whole reparse buffer (tag, length, reserved, data) |
//! | short name | `system.ntfs_dos_name` | the 8.3 name, UTF-8 |
//! | security descriptor | `system.ntfs_acl` | self-relative `SECURITY_DESCRIPTOR` |
//! | attributes | `system.ntfs_attrib` | `u32` little-endian |
//! | times | `system.ntfs_times` | creation, last write, last access: three `u64` LE, 100 ns since 1601 |
//!
//! The attributes are always set with `l`-functions: once a reparse point is set NTFS-3G
//! shows the entry as a symbolic link, which must not be followed.

use std::io;
use std::path::{Path, PathBuf};
use tsmedia_wim::dentry::attr;
use tsmedia_wim::{ApplyBackend, ApplyEntry};

/// `system.ntfs_reparse_data`: the reparse buffer.
pub const XATTR_REPARSE: &str = "system.ntfs_reparse_data";
/// `system.ntfs_dos_name`: the short name.
pub const XATTR_DOS_NAME: &str = "system.ntfs_dos_name";
/// `system.ntfs_acl`: the security descriptor.
pub const XATTR_ACL: &str = "system.ntfs_acl";
/// `system.ntfs_attrib`: the file attributes.
pub const XATTR_ATTRIB: &str = "system.ntfs_attrib";
/// `system.ntfs_times`: creation, last write and last access times.
pub const XATTR_TIMES: &str = "system.ntfs_times";

/// Attributes left out of the value, as wimlib does: sparse and encrypted describe how data is
/// stored, not a flag to set. NTFS-3G itself only takes read-only, hidden, system, archive,
/// temporary, offline and not-content-indexed (and compressed on a directory) from the value;
/// the directory and reparse-point flags follow from what the entry is.
const NOT_SETTABLE: u32 = attr::SPARSE_FILE | attr::ENCRYPTED;

/// Writes the Windows metadata of an apply onto an NTFS-3G mount.
#[derive(Clone, Debug)]
pub struct NtfsBackend {
    /// The device or image, for messages.
    pub device: PathBuf,
}

impl ApplyBackend for NtfsBackend {
    fn describe(&self) -> String {
        format!("NTFS volume {}", self.device.display())
    }

    fn stream_path(&self, file: &Path, name: &str) -> PathBuf {
        // streams_interface=windows: the stream is the file name, a colon and the stream name.
        let mut s = file.as_os_str().to_os_string();
        s.push(":");
        s.push(name);
        PathBuf::from(s)
    }

    fn set_reparse_data(&self, entry: &ApplyEntry<'_>, buffer: &[u8]) -> io::Result<()> {
        xattr::set(entry.path, XATTR_REPARSE, buffer)
    }

    fn set_short_name(&self, entry: &ApplyEntry<'_>, short: &str) -> io::Result<()> {
        xattr::set(entry.path, XATTR_DOS_NAME, short.as_bytes())
    }

    fn set_metadata(&self, entry: &ApplyEntry<'_>) -> io::Result<()> {
        let d = entry.dentry;
        if let Some(sd) = entry.security {
            xattr::set(entry.path, XATTR_ACL, sd)?;
        }
        let attributes = d.attributes & !NOT_SETTABLE;
        xattr::set(entry.path, XATTR_ATTRIB, &attributes.to_le_bytes())?;
        // Last: NTFS-3G updates times on every write and attribute change before this one.
        xattr::set(entry.path, XATTR_TIMES, &times_value(d))
    }
}

/// The `system.ntfs_times` value of `d`: creation, last write, last access.
pub fn times_value(d: &tsmedia_wim::dentry::Dentry) -> [u8; 24] {
    let mut v = [0u8; 24];
    v[0..8].copy_from_slice(&d.creation_time.to_le_bytes());
    v[8..16].copy_from_slice(&d.last_write_time.to_le_bytes());
    v[16..24].copy_from_slice(&d.last_access_time.to_le_bytes());
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use tsmedia_wim::dentry::Dentry;

    #[test]
    fn times_are_creation_write_access() {
        let d = Dentry {
            creation_time: 1,
            last_write_time: 0x0102,
            last_access_time: u64::MAX,
            ..Dentry::default()
        };
        let v = times_value(&d);
        assert_eq!(&v[0..8], &[1, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&v[8..16], &[2, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&v[16..24], &[0xFF; 8]);
    }

    #[test]
    fn named_streams_are_colon_suffixes() {
        let b = NtfsBackend {
            device: "x.img".into(),
        };
        assert_eq!(
            b.stream_path(Path::new("/m/dir/file.txt"), "Zone.Identifier"),
            Path::new("/m/dir/file.txt:Zone.Identifier")
        );
        assert_eq!(b.describe(), "NTFS volume x.img");
    }
}
