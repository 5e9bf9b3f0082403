//! The hook through which an apply keeps what a Linux directory cannot hold.
//!
//! [`crate::apply()`] always walks, checks and streams the image the same way: directories,
//! then file data grouped by blob in WIM order, then hard links. Without a backend the target
//! is a Linux directory: symlinks become symlinks, UNIX data becomes owners and modes, and the
//! Windows-only metadata is counted in a warning. With an [`ApplyBackend`] the target is a
//! directory through which a Windows file system is written (an NTFS volume mounted with
//! NTFS-3G, see `docs/ntfs.md`): named data streams are written as files at the paths the
//! backend names, and reparse data, short names, security descriptors, attributes and the
//! 100 ns timestamps go to the backend, in an order that keeps each one intact:
//!
//! 1. every directory, file, named stream and hard link is written (a reparse point is made as
//!    an empty directory or file);
//! 2. [`ApplyBackend::set_reparse_data`] for each reparse point;
//! 3. [`ApplyBackend::set_short_name`] for each entry that has a short name (on NTFS this
//!    changes the parent directory's times, so it comes before any time is set);
//! 4. [`ApplyBackend::set_metadata`] once per file (the first of its hard links), then for the
//!    directories deepest first and the root last, so that nothing written later changes a
//!    time already set.

use crate::dentry::Dentry;
use crate::error::{Error, IoContext, MetadataFault, Result};
use std::io;
use std::path::{Path, PathBuf};

/// One entry of the image as the apply made it, handed to an [`ApplyBackend`].
#[derive(Clone, Copy, Debug)]
pub struct ApplyEntry<'a> {
    /// The entry in the image: attributes, times, short name, reparse tag.
    pub dentry: &'a Dentry,
    /// Where it was made in the target.
    pub path: &'a Path,
    /// Its path inside the image (`/dir/file`), for messages.
    pub shown: &'a str,
    /// Its security descriptor (self-relative, as stored in the WIM), if it has one.
    pub security: Option<&'a [u8]>,
}

/// Where an apply writes the Windows metadata of each entry.
///
/// Every method reports failures as [`io::Error`]s; the apply adds the path.
pub trait ApplyBackend: Send + Sync {
    /// What the target is, for warnings ("NTFS volume x.img").
    fn describe(&self) -> String;

    /// The path at which the named data stream `name` of the file at `file` is written.
    fn stream_path(&self, file: &Path, name: &str) -> PathBuf;

    /// Makes `entry`, already created as an empty directory or file, a reparse point holding
    /// `buffer`: the whole reparse buffer (`u32` tag, `u16` data length, `u16` reserved, data).
    fn set_reparse_data(&self, entry: &ApplyEntry<'_>, buffer: &[u8]) -> io::Result<()>;

    /// Gives `entry` the short (8.3) name `short`.
    fn set_short_name(&self, entry: &ApplyEntry<'_>, short: &str) -> io::Result<()>;

    /// Sets the security descriptor, the attributes and then the timestamps of `entry`.
    fn set_metadata(&self, entry: &ApplyEntry<'_>) -> io::Result<()>;
}

/// The whole reparse buffer of `d` around its stored reparse data (which the WIM keeps without
/// the 8-byte header; the tag and the reserved field are in the dentry).
pub(crate) fn reparse_buffer(d: &Dentry, data: &[u8], image: u32, shown: &str) -> Result<Vec<u8>> {
    let len = u16::try_from(data.len()).map_err(|_| Error::BadMetadata {
        image,
        offset: 0,
        reason: MetadataFault::SymlinkData {
            path: shown.to_string(),
            reason: format!("reparse data of {} bytes (at most 65535)", data.len()),
        },
    })?;
    let mut out = Vec::with_capacity(8 + data.len());
    out.extend_from_slice(&d.reparse_tag.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&d.rp_reserved.to_le_bytes());
    out.extend_from_slice(data);
    Ok(out)
}

/// A named stream's name as a path suffix, or why it cannot be one.
pub(crate) fn stream_name(name: &[u16]) -> std::result::Result<String, &'static str> {
    if let Some(reason) = crate::apply::traversal_reason(name) {
        return Err(reason);
    }
    let s = String::from_utf16(name).map_err(|_| "stream name is not valid UTF-16")?;
    if s.contains(':') {
        return Err("stream name contains ':'");
    }
    Ok(s)
}

/// Step 4 of the module documentation for `entries` (files first, then directories deepest
/// first); `skip_root` leaves the target's own metadata alone.
pub(crate) fn set_all_metadata(
    backend: &dyn ApplyBackend,
    entries: &[ApplyEntry<'_>],
    skip_root: bool,
) -> Result<()> {
    let mut seen_links = std::collections::HashSet::new();
    for e in entries.iter().filter(|e| !e.dentry.is_dir()) {
        let group = e.dentry.hard_link_group;
        if group != 0 && !seen_links.insert(group) {
            continue;
        }
        backend.set_metadata(e).at(e.path)?;
    }
    for e in entries
        .iter()
        .skip(usize::from(skip_root))
        .filter(|e| e.dentry.is_dir())
        .rev()
    {
        backend.set_metadata(e).at(e.path)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reparse_buffer_puts_the_header_before_the_data() {
        let d = Dentry {
            reparse_tag: 0xA000_0003,
            rp_reserved: 7,
            ..Dentry::default()
        };
        let b = reparse_buffer(&d, &[1, 2, 3], 1, "/j").unwrap();
        assert_eq!(b, [0x03, 0, 0, 0xA0, 3, 0, 7, 0, 1, 2, 3]);
        let big = vec![0u8; 70_000];
        assert!(reparse_buffer(&d, &big, 1, "/j").is_err());
    }

    #[test]
    fn stream_names_cannot_escape_or_nest() {
        let u = |s: &str| s.encode_utf16().collect::<Vec<u16>>();
        assert_eq!(
            stream_name(&u("Zone.Identifier")).unwrap(),
            "Zone.Identifier"
        );
        assert!(stream_name(&u("a/b")).is_err());
        assert!(stream_name(&u("a:b")).is_err());
        assert!(stream_name(&u("..")).is_err());
    }
}
