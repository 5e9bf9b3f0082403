//! A volume shaped like what Windows puts on disk, made on Linux: NTFS-3G's extended
//! attributes on an ntfs-3g mount give it security descriptors, named data streams, reparse
//! points (a symbolic link, a junction), short names, hard links, attributes and 100 ns times;
//! `wimlib-imagex capture` then makes a WIM of it. Needs root (FUSE) and ntfs-3g.
#![allow(dead_code)]

use crate::common::require;
use std::fs;
use std::path::Path;

/// One MiB.
pub const MIB: u64 = 1 << 20;

/// A new image file of `size` bytes formatted by `mkntfs`.
pub fn mkntfs(path: &Path, size: u64) {
    require("mkntfs", "ntfs-3g");
    let f = fs::File::create(path).unwrap();
    f.set_len(size).unwrap();
    tsmedia_ntfs::format(path, &tsmedia_ntfs::FormatOptions::default()).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Security descriptors, built by hand (self-relative, as Windows stores them)

fn sid(authority: u8, subs: &[u32]) -> Vec<u8> {
    let mut v = vec![1, subs.len() as u8, 0, 0, 0, 0, 0, authority];
    for s in subs {
        v.extend_from_slice(&s.to_le_bytes());
    }
    v
}

/// An ACE: type (0 allow, 1 deny), flags (inheritance), access mask, trustee.
fn ace(kind: u8, flags: u8, mask: u32, who: &[u8]) -> Vec<u8> {
    let size = (8 + who.len()) as u16;
    let mut v = vec![kind, flags];
    v.extend_from_slice(&size.to_le_bytes());
    v.extend_from_slice(&mask.to_le_bytes());
    v.extend_from_slice(who);
    v
}

fn descriptor(owner: &[u8], group: &[u8], aces: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = aces.concat();
    let mut acl = vec![2, 0];
    acl.extend_from_slice(&((8 + body.len()) as u16).to_le_bytes());
    acl.extend_from_slice(&(aces.len() as u16).to_le_bytes());
    acl.extend_from_slice(&[0, 0]);
    acl.extend_from_slice(&body);
    let owner_at = 20u32;
    let group_at = owner_at + owner.len() as u32;
    let dacl_at = group_at + group.len() as u32;
    let mut v = vec![1, 0];
    v.extend_from_slice(&0x8004u16.to_le_bytes()); // self-relative, DACL present
    for off in [owner_at, group_at, 0, dacl_at] {
        v.extend_from_slice(&off.to_le_bytes());
    }
    v.extend_from_slice(owner);
    v.extend_from_slice(group);
    v.extend_from_slice(&acl);
    v
}

fn descriptors() -> [Vec<u8>; 3] {
    let system = sid(5, &[18]);
    let admins = sid(5, &[32, 544]);
    let users = sid(5, &[32, 545]);
    let everyone = sid(1, &[0]);
    [
        descriptor(&admins, &system, &[ace(0, 0, 0x001F_01FF, &system)]),
        descriptor(
            &system,
            &admins,
            &[
                ace(0, 0x03, 0x001F_01FF, &admins),
                ace(0, 0x03, 0x0012_00A9, &users),
            ],
        ),
        descriptor(
            &admins,
            &admins,
            &[
                ace(1, 0, 0x0000_0116, &everyone),
                ace(0, 0, 0x0012_00A9, &everyone),
            ],
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// The source volume

fn reparse(tag: u32, subst: &str, print: &str, symlink_flags: Option<u32>) -> Vec<u8> {
    let u = |t: &str| -> Vec<u8> { t.encode_utf16().flat_map(u16::to_le_bytes).collect() };
    let (su, pu) = (u(subst), u(print));
    let mut data = Vec::new();
    for x in [0, su.len(), su.len() + 2, pu.len()] {
        data.extend_from_slice(&(x as u16).to_le_bytes());
    }
    if let Some(f) = symlink_flags {
        data.extend_from_slice(&f.to_le_bytes());
    }
    data.extend_from_slice(&su);
    data.extend_from_slice(&[0, 0]);
    data.extend_from_slice(&pu);
    data.extend_from_slice(&[0, 0]);
    let mut buf = tag.to_le_bytes().to_vec();
    buf.extend_from_slice(&(data.len() as u16).to_le_bytes());
    buf.extend_from_slice(&[0, 0]);
    buf.extend_from_slice(&data);
    buf
}

fn set(path: &Path, name: &str, value: &[u8]) {
    xattr::set(path, name, value).unwrap_or_else(|e| panic!("{name} on {}: {e}", path.display()));
}

fn times(path: &Path, base: u64) {
    let mut v = Vec::new();
    for t in [base, base + 1_234_567, base + 7_654_321] {
        v.extend_from_slice(&t.to_le_bytes());
    }
    set(path, tsmedia_ntfs::XATTR_TIMES, &v);
}

/// Fills the source volume through an ntfs-3g mount; metadata in the order of docs/ntfs.md.
/// `extra` files (path, bytes) are written too, with the folders they need.
pub fn fill_source(img: &Path, extra: &[(&str, &[u8])]) {
    let m = tsmedia_ntfs::Mount::new(img).unwrap();
    let r = m.path();
    let [sd0, sd1, sd2] = descriptors();
    fs::create_dir_all(r.join("Program Files/Common")).unwrap();
    fs::create_dir(r.join("Windows")).unwrap();
    fs::create_dir(r.join("junction")).unwrap();
    fs::write(r.join("Program Files/LongFileName.txt"), b"long name\n").unwrap();
    fs::write(
        r.join("Program Files/LongFileName.txt:ads1"),
        b"stream data",
    )
    .unwrap();
    fs::write(r.join("Program Files/LongFileName.txt:empty"), b"").unwrap();
    let big: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    fs::write(r.join("Windows/big.bin"), &big).unwrap();
    fs::write(r.join("Windows/empty.txt"), b"").unwrap();
    fs::write(r.join("hard1.dll"), b"linked").unwrap();
    fs::hard_link(r.join("hard1.dll"), r.join("Windows/hard2.dll")).unwrap();
    fs::write(r.join("readonly.txt"), b"ro").unwrap();
    fs::write(r.join("system.sys"), b"sys").unwrap();
    fs::write(r.join("link.txt"), b"").unwrap();
    for (path, bytes) in extra {
        let file = r.join(path);
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(&file, bytes).unwrap();
    }

    set(
        &r.join("link.txt"),
        tsmedia_ntfs::XATTR_REPARSE,
        &reparse(
            0xA000_000C,
            "Program Files\\LongFileName.txt",
            "Program Files\\LongFileName.txt",
            Some(1),
        ),
    );
    set(
        &r.join("junction"),
        tsmedia_ntfs::XATTR_REPARSE,
        &reparse(0xA000_0003, "\\??\\C:\\Windows", "C:\\Windows", None),
    );
    set(
        &r.join("Program Files"),
        tsmedia_ntfs::XATTR_DOS_NAME,
        b"PROGRA~1",
    );
    set(
        &r.join("Program Files/LongFileName.txt"),
        tsmedia_ntfs::XATTR_DOS_NAME,
        b"LONGFI~1.TXT",
    );
    let entries: [(&str, &[u8], u32); 12] = [
        ("Program Files/Common", &sd1, 0x10),
        ("Program Files/LongFileName.txt", &sd0, 0x20),
        ("Windows/big.bin", &sd1, 0x20),
        ("Windows/empty.txt", &sd2, 0x20),
        ("hard1.dll", &sd1, 0x20),
        ("readonly.txt", &sd2, 0x21),
        ("system.sys", &sd0, 0x26),
        ("link.txt", &sd0, 0x420),
        ("junction", &sd1, 0x410),
        ("Program Files", &sd0, 0x12),
        ("Windows", &sd1, 0x10),
        ("", &sd2, 0x16),
    ];
    for (i, (p, sd, attrs)) in entries.iter().enumerate() {
        let path = if p.is_empty() {
            r.to_path_buf()
        } else {
            r.join(p)
        };
        set(&path, tsmedia_ntfs::XATTR_ACL, sd);
        set(&path, tsmedia_ntfs::XATTR_ATTRIB, &attrs.to_le_bytes());
        times(&path, 132_000_000_000_000_000 + i as u64 * 10_000_000_001);
    }
    m.unmount().unwrap();
}
