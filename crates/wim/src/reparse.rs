//! Symbolic links as IO_REPARSE_TAG_SYMLINK reparse data (stored without its 8-byte header):
//! `u16 substitute name offset, u16 length, u16 print name offset, u16 length, u32 flags`, then
//! the UTF-16LE path buffer. Absolute Linux targets are stored as `\??\C:\path` (print name
//! `C:\path`), relative ones with flag 1 (SYMLINK_FLAG_RELATIVE), as wimlib does.

use crate::bytes::{le_u16, le_u32, put_u16, put_u32};
use std::path::Path;

const SYMLINK_FLAG_RELATIVE: u32 = 1;

/// The dentry's rp_flags bit saying an absolute target was stored as it is (not fixed up).
pub const RP_NOT_FIXED: u16 = 1;

/// Reparse data for a Linux symlink target.
pub fn symlink_data(target: &str) -> Vec<u8> {
    let win = target.replace('/', "\\");
    // An empty target is an absolute link to the capture root, fixed up (`--rpfix`).
    let (subst, print, flags) = if target.starts_with('/') || target.is_empty() {
        (format!("\\??\\C:{win}"), format!("C:{win}"), 0)
    } else {
        (win.clone(), win, SYMLINK_FLAG_RELATIVE)
    };
    let s: Vec<u16> = subst.encode_utf16().collect();
    let p: Vec<u16> = print.encode_utf16().collect();
    let mut out = vec![0u8; 12];
    put_u16(&mut out[0..], 0);
    put_u16(&mut out[2..], (s.len() * 2) as u16);
    put_u16(&mut out[4..], (s.len() * 2 + 2) as u16);
    put_u16(&mut out[6..], (p.len() * 2) as u16);
    put_u32(&mut out[8..], flags);
    for u in s.iter().chain(&[0]).chain(&p).chain(&[0]) {
        out.extend_from_slice(&u.to_le_bytes());
    }
    out
}

/// The Linux target of symlink reparse data, or why it cannot be one.
pub fn symlink_target(data: &[u8]) -> Result<String, String> {
    let (name, absolute) = decode(data)?;
    if name.is_empty() && absolute {
        // A link to the capture root, fixed up: the root is "/" without a fixup.
        return Ok("/".into());
    }
    Ok(name)
}

/// The Linux target of symlink reparse data applied with wimlib's `--rpfix` under `root` (the
/// applied tree, canonical): an absolute target fixed up at capture (`rp_flags` without
/// [`RP_NOT_FIXED`]) is put under `root` (`/file` → `ROOT/file`, the root link → `ROOT`).
pub fn symlink_target_under(data: &[u8], rp_flags: u16, root: &Path) -> Result<String, String> {
    let (name, absolute) = decode(data)?;
    if !absolute || rp_flags & RP_NOT_FIXED != 0 {
        return symlink_target(data);
    }
    let root = root.to_string_lossy();
    let root = root.trim_end_matches('/');
    Ok(format!("{root}{name}"))
}

/// The substitute name as a Linux path (`""` for a fixed-up link to the root) and whether it
/// is absolute.
fn decode(data: &[u8]) -> Result<(String, bool), String> {
    if data.len() < 12 {
        return Err("symlink reparse data shorter than 12 bytes".into());
    }
    let (off, len) = (le_u16(data) as usize, le_u16(&data[2..]) as usize);
    let flags = le_u32(&data[8..]);
    let buf = &data[12..];
    if off + len > buf.len() || len % 2 != 0 {
        return Err("symlink substitute name runs past the reparse data".into());
    }
    let units: Vec<u16> = buf[off..off + len].chunks_exact(2).map(le_u16).collect();
    let name =
        String::from_utf16(&units).map_err(|_| "symlink target is not valid UTF-16".to_string())?;
    let name = if flags & SYMLINK_FLAG_RELATIVE == 0 {
        // \??\C:\x, \\?\C:\x or C:\x → /x
        let n = name
            .strip_prefix("\\??\\")
            .or_else(|| name.strip_prefix("\\\\?\\"))
            .unwrap_or(&name);
        let b = n.as_bytes();
        if b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic() {
            n[2..].to_string()
        } else {
            n.to_string()
        }
    } else {
        name
    };
    let absolute = flags & SYMLINK_FLAG_RELATIVE == 0;
    if (name.is_empty() && !absolute) || name.contains('\0') {
        return Err("empty or NUL-containing symlink target".into());
    }
    Ok((name.replace('\\', "/"), absolute))
}

/// wimlib's `--rpfix` on capture: when the absolute `target` names something inside the tree
/// whose root directory is the inode `root` (dev, ino), the rest of the target after that
/// prefix (`""` for the root itself), to be stored "absolute from the image root". `None`
/// when the target is relative or points outside the tree (it is then stored as it is).
/// Prefixes are compared by inode, so `/a/../tree` and symlinked paths to the root count.
pub fn relativize(target: &str, root: (u64, u64)) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    if !target.starts_with('/') {
        return None;
    }
    let b = target.as_bytes();
    let mut p = 0;
    loop {
        while p < b.len() && b[p] == b'/' {
            p += 1;
        }
        if p == b.len() {
            return None;
        }
        while p < b.len() && b[p] != b'/' {
            p += 1;
        }
        let m = std::fs::metadata(&target[..p]).ok()?;
        if (m.dev(), m.ino()) == root {
            return Some(target[p..].to_string());
        }
        if p == b.len() {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpfix_both_ways() {
        use std::os::unix::fs::MetadataExt;
        let t = tempfile::tempdir().expect("tempdir");
        let root = t.path().join("tree");
        std::fs::create_dir_all(root.join("sub")).expect("mkdir");
        let m = std::fs::metadata(&root).expect("stat");
        let id = (m.dev(), m.ino());
        let r = root.to_str().expect("utf-8");
        assert_eq!(relativize(r, id).as_deref(), Some(""));
        assert_eq!(relativize(&format!("{r}////"), id).as_deref(), Some("////"));
        assert_eq!(
            relativize(&format!("{r}/sub/x//"), id).as_deref(),
            Some("/sub/x//")
        );
        assert_eq!(relativize("/___NONEXISTENT___", id), None);
        assert_eq!(relativize("/usr/bin/env", id), None);
        assert_eq!(relativize("relative", id), None);
        let out = Path::new("/mnt/out");
        let under = |t: &str, f| symlink_target_under(&symlink_data(t), f, out);
        assert_eq!(under("/sub/x", 0).as_deref(), Ok("/mnt/out/sub/x"));
        assert_eq!(under("", 0).as_deref(), Ok("/mnt/out"));
        assert_eq!(under("/", 0).as_deref(), Ok("/mnt/out/"));
        assert_eq!(under("/etc", RP_NOT_FIXED).as_deref(), Ok("/etc"));
        assert_eq!(under("rel", 0).as_deref(), Ok("rel"));
    }

    #[test]
    fn matches_wimlib_bytes() {
        // Reparse data wimlib-imagex 1.13 wrote for `../nowhere`.
        let mut expected = vec![0, 0, 0x14, 0, 0x16, 0, 0x14, 0, 1, 0, 0, 0];
        for _ in 0..2 {
            expected.extend(
                "..\\nowhere"
                    .encode_utf16()
                    .chain([0])
                    .flat_map(|u| u.to_le_bytes()),
            );
        }
        assert_eq!(symlink_data("../nowhere"), expected);
        assert_eq!(symlink_data("/etc/passwd").len(), 12 + 36 + 28);
    }

    #[test]
    fn round_trips() {
        for t in ["a", "../x/y", "/etc/passwd", "/", "dir/é ü/f"] {
            assert_eq!(symlink_target(&symlink_data(t)).as_deref(), Ok(t));
        }
        assert_eq!(symlink_target(&symlink_data("")).as_deref(), Ok("/"));
        assert!(symlink_target(&[0u8; 5]).is_err());
        assert!(symlink_target(&[0, 0, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
    }
}
