//! Directory entries of a metadata resource, and the image tree they form.
//!
//! Fixed part (102 bytes): u64 length · u32 attributes · i32 security id · u64 subdir offset ·
//! 2 × u64 unused · u64 creation, last access, last write time · SHA-1 · u32 unknown ·
//! union { u32 reparse tag, u16 reserved, u16 rp flags | u64 hard link group } · u16 extra
//! streams · u16 short name bytes · u16 name bytes. Then the UTF-16LE name and short name (each
//! NUL-terminated when present), tagged items up to `length`, and the extra stream entries.

use crate::bytes::{align8, le_u16, le_u32, le_u64, put_u16, put_u32, put_u64};
use crate::error::{Error, MetadataFault, Result};
use crate::sha1::Sha1;
use std::collections::HashSet;

/// Size of the fixed part of a dentry, before its names.
pub const FIXED_SIZE: usize = 102;
const STREAM_ENTRY_FIXED: usize = 38;
/// Deeper trees than this are refused (a cycle or a hostile file).
const MAX_DEPTH: usize = 1024;

/// FILE_ATTRIBUTE_* bits.
pub mod attr {
    /// FILE_ATTRIBUTE_READONLY.
    pub const READONLY: u32 = 0x1;
    /// FILE_ATTRIBUTE_HIDDEN.
    pub const HIDDEN: u32 = 0x2;
    /// FILE_ATTRIBUTE_SYSTEM.
    pub const SYSTEM: u32 = 0x4;
    /// FILE_ATTRIBUTE_DIRECTORY: the dentry has children.
    pub const DIRECTORY: u32 = 0x10;
    /// FILE_ATTRIBUTE_ARCHIVE.
    pub const ARCHIVE: u32 = 0x20;
    /// FILE_ATTRIBUTE_NORMAL: no other attribute set.
    pub const NORMAL: u32 = 0x80;
    /// FILE_ATTRIBUTE_SPARSE_FILE.
    pub const SPARSE_FILE: u32 = 0x200;
    /// FILE_ATTRIBUTE_REPARSE_POINT: the dentry has reparse data and a reparse tag.
    pub const REPARSE_POINT: u32 = 0x400;
    /// FILE_ATTRIBUTE_COMPRESSED (NTFS compression on the source).
    pub const COMPRESSED: u32 = 0x800;
    /// FILE_ATTRIBUTE_ENCRYPTED (EFS raw data, which we neither read nor write).
    pub const ENCRYPTED: u32 = 0x4000;
}

/// Reparse tag of a symbolic link.
pub const IO_REPARSE_TAG_SYMLINK: u32 = 0xA000_000C;
/// Reparse tag of a junction (mount point).
pub const IO_REPARSE_TAG_MOUNT_POINT: u32 = 0xA000_0003;
/// Tagged item: wimlib's UNIX data `{u32 uid, gid, mode, rdev}`.
pub const TAG_UNIX_DATA: u32 = 0x337D_D873;
/// Tagged item: the NTFS object ID.
pub const TAG_OBJECT_ID: u32 = 0x1;
/// Tagged item: extended attributes.
pub const TAG_XATTRS: u32 = 0x2;

/// UNIX owner, group, mode and device, as wimlib stores them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UnixData {
    /// Owner user id.
    pub uid: u32,
    /// Owner group id.
    pub gid: u32,
    /// File type and permission bits (`st_mode`).
    pub mode: u32,
    /// Device number of a device node.
    pub rdev: u32,
}

/// One entry of the image tree.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dentry {
    /// UTF-16 name as stored (may be invalid UTF-16); empty for the root.
    pub name: Vec<u16>,
    /// The DOS 8.3 name, UTF-16; empty when none.
    pub short_name: Vec<u16>,
    /// FILE_ATTRIBUTE_* bits ([`attr`]).
    pub attributes: u32,
    /// Index into the security data, -1 for none.
    pub security_id: i32,
    /// Creation time, in 100 ns units since 1601 (NT time).
    pub creation_time: u64,
    /// Last access time, NT time.
    pub last_access_time: u64,
    /// Last write time, NT time.
    pub last_write_time: u64,
    /// The u32 at offset 0x54, meaning unknown; kept as read.
    pub unknown_0x54: u32,
    /// The reparse tag of a reparse point (0 otherwise).
    pub reparse_tag: u32,
    /// The u16 after the reparse tag, kept as read.
    pub rp_reserved: u16,
    /// Reparse flags (bit 0: the target was not fixed up by RP_FIX).
    pub rp_flags: u16,
    /// Nonzero when this dentry is one of several hard links to the same file.
    pub hard_link_group: u64,
    /// The unnamed data stream (zero = empty).
    pub data: Sha1,
    /// Reparse data (without its 8-byte header) of a reparse point.
    pub reparse_data: Sha1,
    /// Named data streams (alternate data streams).
    pub named_streams: Vec<(Vec<u16>, Sha1)>,
    /// Tagged items other than the UNIX data, kept verbatim.
    pub tagged_items: Vec<(u32, Vec<u8>)>,
    /// wimlib's UNIX data tagged item, when present.
    pub unix: Option<UnixData>,
    /// Entries of a directory, in the order they are stored.
    pub children: Vec<Dentry>,
}

impl Dentry {
    /// Inserts a file at `path` below this directory (creating directories, each with `time`) whose data is `sha1`; a file
    /// already there (any case) is replaced.
    pub fn insert_file(&mut self, path: &str, sha1: Sha1, time: u64) {
        let mut d = self;
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        for (i, part) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            let name: Vec<u16> = part.encode_utf16().collect();
            let pos = d
                .children
                .iter()
                .position(|c| String::from_utf16_lossy(&c.name).eq_ignore_ascii_case(part));
            let pos = match pos {
                Some(p) if !last => p,
                Some(p) => {
                    d.children.remove(p);
                    d.children.len()
                }
                None => d.children.len(),
            };
            if pos == d.children.len() {
                d.children.push(Dentry {
                    name,
                    attributes: if last { attr::ARCHIVE } else { attr::DIRECTORY },
                    security_id: -1,
                    creation_time: time,
                    last_write_time: time,
                    last_access_time: time,
                    data: if last { sha1 } else { Sha1::ZERO },
                    ..Dentry::default()
                });
            }
            d = &mut d.children[pos];
        }
    }

    /// Whether this is a directory.
    pub fn is_dir(&self) -> bool {
        self.attributes & attr::DIRECTORY != 0
    }

    /// Whether this is a reparse point (symlink, junction, ...).
    pub fn is_reparse_point(&self) -> bool {
        self.attributes & attr::REPARSE_POINT != 0
    }

    /// Whether this is a symbolic link.
    pub fn is_symlink(&self) -> bool {
        self.is_reparse_point() && self.reparse_tag == IO_REPARSE_TAG_SYMLINK
    }

    /// The name as a `String`, invalid UTF-16 replaced by U+FFFD.
    pub fn name_lossy(&self) -> String {
        String::from_utf16_lossy(&self.name)
    }

    /// Every blob this dentry refers to.
    pub fn blobs(&self) -> impl Iterator<Item = Sha1> + '_ {
        let reparse = self.is_reparse_point().then_some(self.reparse_data);
        std::iter::once(self.data)
            .chain(reparse)
            .chain(self.named_streams.iter().map(|(_, h)| *h))
            .filter(|h| !h.is_zero())
    }

    /// Visits every dentry depth-first with its path components (root = empty path).
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&[&'a Dentry], &'a Dentry)) {
        fn go<'a>(
            d: &'a Dentry,
            stack: &mut Vec<&'a Dentry>,
            f: &mut impl FnMut(&[&'a Dentry], &'a Dentry),
        ) {
            f(stack, d);
            stack.push(d);
            for c in &d.children {
                go(c, stack, f);
            }
            stack.pop();
        }
        go(self, &mut Vec::new(), f);
    }

    /// Sorts children as Windows does (case-insensitive, then ordinal), recursively.
    pub fn sort_children(&mut self) {
        self.children.sort_by(|a, b| {
            let up = |n: &[u16]| -> Vec<u16> {
                n.iter()
                    .map(|&c| {
                        if (b'a' as u16..=b'z' as u16).contains(&c) {
                            c - 32
                        } else {
                            c
                        }
                    })
                    .collect()
            };
            up(&a.name)
                .cmp(&up(&b.name))
                .then_with(|| a.name.cmp(&b.name))
        });
        for c in &mut self.children {
            c.sort_children();
        }
    }
}

/// Parses the dentry tree starting at `root_offset` of a metadata resource.
pub fn parse_tree(data: &[u8], root_offset: usize, image: u32) -> Result<Dentry> {
    let mut p = Parser {
        data,
        image,
        seen: HashSet::new(),
        count: 0,
    };
    let (root, _) = p
        .dentry(root_offset)?
        .ok_or_else(|| p.bad(root_offset, MetadataFault::NoRoot))?;
    if !root.name.is_empty() {
        return Err(p.bad(root_offset, MetadataFault::RootNamed));
    }
    let mut root = root;
    if !root.is_dir() {
        return Err(p.bad(root_offset, MetadataFault::RootNotDirectory));
    }
    p.children(&mut root, root_offset, 0)?;
    Ok(root)
}

struct Parser<'a> {
    data: &'a [u8],
    image: u32,
    seen: HashSet<u64>,
    /// Dentries parsed so far: lists that overlap could otherwise expand a small resource into
    /// a tree quadratic in its size.
    count: usize,
}

impl Parser<'_> {
    fn bad(&self, offset: usize, reason: MetadataFault) -> Error {
        Error::BadMetadata {
            image: self.image,
            offset: offset as u64,
            reason,
        }
    }

    /// Parses the dentry at `off`; `None` at an end-of-list marker. Returns the dentry and the
    /// offset of the next sibling.
    fn dentry(&self, off: usize) -> Result<Option<(Dentry, usize)>> {
        let d = self.data;
        if off.checked_add(8).is_none_or(|e| e > d.len()) {
            return Err(self.bad(off, MetadataFault::DentryListPastEnd));
        }
        let length = le_u64(&d[off..]);
        if length == 0 {
            return Ok(None);
        }
        if length < FIXED_SIZE as u64 || length > (d.len() - off) as u64 {
            return Err(self.bad(off, MetadataFault::DentryLength(length)));
        }
        let end = off + length as usize;
        let f = &d[off..end];
        let attributes = le_u32(&f[0x08..]);
        let mut e = Dentry {
            attributes,
            security_id: le_u32(&f[0x0C..]) as i32,
            creation_time: le_u64(&f[0x28..]),
            last_access_time: le_u64(&f[0x30..]),
            last_write_time: le_u64(&f[0x38..]),
            unknown_0x54: le_u32(&f[0x54..]),
            ..Dentry::default()
        };
        let hash = Sha1::from_slice(&f[0x40..]);
        if attributes & attr::REPARSE_POINT != 0 {
            e.reparse_tag = le_u32(&f[0x58..]);
            e.rp_reserved = le_u16(&f[0x5C..]);
            e.rp_flags = le_u16(&f[0x5E..]);
        } else {
            e.hard_link_group = le_u64(&f[0x58..]);
        }
        let n_extra = le_u16(&f[0x60..]) as usize;
        let short_len = le_u16(&f[0x62..]) as usize;
        let name_len = le_u16(&f[0x64..]) as usize;
        if !name_len.is_multiple_of(2) || !short_len.is_multiple_of(2) {
            return Err(self.bad(off, MetadataFault::OddNameLength));
        }
        let mut pos = FIXED_SIZE;
        let mut take_name = |len: usize| -> Result<Vec<u16>> {
            if len == 0 {
                return Ok(Vec::new());
            }
            if pos + len + 2 > f.len() {
                return Err(self.bad(off, MetadataFault::NamePastDentry));
            }
            let v = f[pos..pos + len].chunks_exact(2).map(le_u16).collect();
            pos += len + 2;
            Ok(v)
        };
        e.name = take_name(name_len)?;
        e.short_name = take_name(short_len)?;
        // Tagged items, 8-aligned, up to the dentry's length.
        let mut t = align8(pos as u64) as usize;
        while t + 8 <= f.len() {
            let tag = le_u32(&f[t..]);
            let len = le_u32(&f[t + 4..]) as usize;
            if t + 8 + len > f.len() {
                break; // trailing padding, not an item
            }
            let body = &f[t + 8..t + 8 + len];
            if tag == TAG_UNIX_DATA && len >= 16 {
                e.unix = Some(UnixData {
                    uid: le_u32(body),
                    gid: le_u32(&body[4..]),
                    mode: le_u32(&body[8..]),
                    rdev: le_u32(&body[12..]),
                });
            } else if tag != 0 || len != 0 {
                e.tagged_items.push((tag, body.to_vec()));
            }
            t = align8((t + 8 + len) as u64) as usize;
        }
        // Extra stream entries follow the dentry.
        let mut next = align8(end as u64) as usize;
        let mut unnamed = Vec::new();
        for _ in 0..n_extra {
            if next + STREAM_ENTRY_FIXED > d.len() {
                return Err(self.bad(next, MetadataFault::StreamPastEnd));
            }
            let s = &d[next..];
            let slen = le_u64(s);
            if slen < STREAM_ENTRY_FIXED as u64 || slen > (d.len() - next) as u64 {
                return Err(self.bad(next, MetadataFault::StreamLength(slen)));
            }
            let sh = Sha1::from_slice(&s[16..]);
            let nlen = le_u16(&s[36..]) as usize;
            if STREAM_ENTRY_FIXED + nlen > slen as usize || !nlen.is_multiple_of(2) {
                return Err(self.bad(next, MetadataFault::StreamNamePastEntry));
            }
            if nlen == 0 {
                unnamed.push(sh);
            } else {
                let name = s[38..38 + nlen].chunks_exact(2).map(le_u16).collect();
                e.named_streams.push((name, sh));
            }
            next = align8(next as u64 + slen) as usize;
        }
        // Which hash is which: with no extra entries the dentry's hash is the unnamed stream (or
        // the reparse data of a reparse point); otherwise the unnamed entries give them in order.
        let mut unnamed = unnamed.into_iter();
        if e.is_reparse_point() {
            e.reparse_data = unnamed.next().unwrap_or(hash);
            e.data = unnamed.next().unwrap_or(Sha1::ZERO);
        } else {
            e.data = unnamed.next().unwrap_or(hash);
        }
        Ok(Some((e, next)))
    }

    fn children(&mut self, dir: &mut Dentry, dir_off: usize, depth: usize) -> Result<()> {
        let subdir = self.subdir_of(dir_off);
        if subdir == 0 {
            return Ok(());
        }
        if depth >= MAX_DEPTH {
            return Err(self.bad(dir_off, MetadataFault::TooDeep(MAX_DEPTH)));
        }
        if !self.seen.insert(subdir) {
            return Err(self.bad(dir_off, MetadataFault::Cycle(subdir)));
        }
        let mut off =
            usize::try_from(subdir).map_err(|_| self.bad(dir_off, MetadataFault::SubdirOffset))?;
        let mut names = HashSet::new();
        while let Some((mut child, next)) = self.dentry(off)? {
            // Every dentry takes at least 104 bytes (102, 8-aligned) and appears once.
            self.count += 1;
            if self.count > self.data.len() / 104 {
                return Err(self.bad(off, MetadataFault::ListsOverlap));
            }
            if child.name.is_empty() {
                return Err(self.bad(off, MetadataFault::Unnamed(dir.name_lossy())));
            }
            if !names.insert(child.name.clone()) {
                return Err(self.bad(off, MetadataFault::DuplicateName(child.name_lossy())));
            }
            if child.is_dir() && !child.is_reparse_point() {
                self.children(&mut child, off, depth + 1)?;
            }
            dir.children.push(child);
            off = next;
        }
        Ok(())
    }

    fn subdir_of(&self, off: usize) -> u64 {
        le_u64(&self.data[off + 0x10..])
    }
}

/// Serialises a tree; returns the bytes to append after the security data. `base` is the offset
/// of the root dentry in the resource.
pub fn write_tree(root: &Dentry, base: usize, out: &mut Vec<u8>) {
    debug_assert_eq!(out.len(), base);
    let root_pos = out.len();
    write_dentry(root, out);
    out.extend_from_slice(&[0u8; 8]);
    write_children(root, root_pos, out);
}

fn write_children(dir: &Dentry, dir_pos: usize, out: &mut Vec<u8>) {
    let list = out.len();
    put_u64(&mut out[dir_pos + 0x10..], list as u64);
    let mut positions = Vec::with_capacity(dir.children.len());
    for c in &dir.children {
        positions.push(out.len());
        write_dentry(c, out);
    }
    out.extend_from_slice(&[0u8; 8]);
    for (c, pos) in dir.children.iter().zip(positions) {
        // Directory symlinks (DIRECTORY | REPARSE_POINT) have no children: subdir offset 0.
        if c.is_dir() && !c.is_reparse_point() {
            write_children(c, pos, out);
        }
    }
}

fn write_dentry(e: &Dentry, out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + FIXED_SIZE, 0);
    let name_bytes = |n: &[u16]| if n.is_empty() { 0 } else { n.len() * 2 + 2 };
    for n in [&e.name, &e.short_name] {
        if !n.is_empty() {
            out.extend(n.iter().flat_map(|u| u.to_le_bytes()));
            out.extend_from_slice(&[0, 0]);
        }
    }
    out.resize(
        start
            + align8((FIXED_SIZE + name_bytes(&e.name) + name_bytes(&e.short_name)) as u64)
                as usize,
        0,
    );
    let mut items: Vec<(u32, Vec<u8>)> = Vec::new();
    if let Some(u) = e.unix {
        let mut b = vec![0u8; 16];
        put_u32(&mut b, u.uid);
        put_u32(&mut b[4..], u.gid);
        put_u32(&mut b[8..], u.mode);
        put_u32(&mut b[12..], u.rdev);
        items.push((TAG_UNIX_DATA, b));
    }
    items.extend(e.tagged_items.iter().cloned());
    for (tag, body) in &items {
        let p = out.len();
        out.resize(p + 8, 0);
        put_u32(&mut out[p..], *tag);
        put_u32(&mut out[p + 4..], body.len() as u32);
        out.extend_from_slice(body);
        out.resize(align8(out.len() as u64) as usize, 0);
    }
    let length = out.len() - start;
    // Extra stream entries: as wimlib and WIMGAPI write them, reparse points and files with named
    // streams carry their unnamed streams as entries and a zero hash in the dentry.
    let mut extra: Vec<(&[u16], Sha1)> = Vec::new();
    let hash = if e.is_reparse_point() {
        extra.push((&[], e.reparse_data));
        extra.push((&[], e.data));
        Sha1::ZERO
    } else if !e.named_streams.is_empty() {
        extra.push((&[], e.data));
        Sha1::ZERO
    } else {
        e.data
    };
    extra.extend(e.named_streams.iter().map(|(n, h)| (n.as_slice(), *h)));
    let f = &mut out[start..];
    put_u64(f, length as u64);
    put_u32(&mut f[0x08..], e.attributes);
    put_u32(&mut f[0x0C..], e.security_id as u32);
    put_u64(&mut f[0x28..], e.creation_time);
    put_u64(&mut f[0x30..], e.last_access_time);
    put_u64(&mut f[0x38..], e.last_write_time);
    f[0x40..0x54].copy_from_slice(&hash.0);
    put_u32(&mut f[0x54..], e.unknown_0x54);
    if e.is_reparse_point() {
        put_u32(&mut f[0x58..], e.reparse_tag);
        put_u16(&mut f[0x5C..], e.rp_reserved);
        put_u16(&mut f[0x5E..], e.rp_flags);
    } else {
        put_u64(&mut f[0x58..], e.hard_link_group);
    }
    put_u16(&mut f[0x60..], extra.len() as u16);
    put_u16(&mut f[0x62..], (e.short_name.len() * 2) as u16);
    put_u16(&mut f[0x64..], (e.name.len() * 2) as u16);
    for (name, h) in extra {
        let p = out.len();
        let len = align8((STREAM_ENTRY_FIXED + name_bytes(name)) as u64) as usize;
        out.resize(p + len, 0);
        put_u64(&mut out[p..], len as u64);
        out[p + 16..p + 36].copy_from_slice(&h.0);
        put_u16(&mut out[p + 36..], (name.len() * 2) as u16);
        for (i, u) in name.iter().enumerate() {
            put_u16(&mut out[p + 38 + i * 2..], *u);
        }
    }
}

#[cfg(test)]
mod insert_tests {
    use super::*;

    #[test]
    fn insert_file_creates_folders_and_replaces_files_case_insensitively() {
        let mut root = Dentry {
            attributes: attr::DIRECTORY,
            ..Dentry::default()
        };
        let a = Sha1([1; 20]);
        let b = Sha1([2; 20]);
        root.insert_file("SMS/data/x.ini", a, 7);
        root.insert_file("sms/DATA/X.INI", b, 7);
        root.insert_file("SMS/bin/x64/tsmedia", a, 7);
        assert_eq!(root.children.len(), 1);
        let sms = &root.children[0];
        assert!(sms.is_dir());
        assert_eq!(sms.children.len(), 2);
        let data = sms
            .children
            .iter()
            .find(|c| c.name_lossy() == "data")
            .unwrap();
        assert_eq!(data.children.len(), 1);
        assert_eq!(data.children[0].data, b);
        assert_eq!(data.children[0].name_lossy(), "X.INI");
    }
}
