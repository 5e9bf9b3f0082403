//! The initramfs: a `newc` cpio archive, gzip-compressed, that the kernel unpacks into its
//! first root file system (see `docs/tsmedia-pe.md`, "Initramfs").
//!
//! Each entry is a 110-byte ASCII header — `070701` and thirteen 8-digit hexadecimal fields:
//! inode, mode, uid, gid, nlink, mtime, file size, dev major/minor, rdev major/minor, name size
//! (with its NUL) and a checksum (0 in this format) — then the name and its NUL padded to a
//! multiple of 4 bytes, then the data padded likewise. The archive ends with an entry named
//! `TRAILER!!!`. Parents must come before their children. Every entry here has uid/gid 0 and
//! mtime 0, and inodes are numbered in path order, so the same tree gives the same bytes.

use std::collections::BTreeMap;
use std::io::Write;

const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFLNK: u32 = 0o120000;
const S_IFCHR: u32 = 0o020000;

/// One node of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Dir { mode: u32 },
    File { mode: u32, data: Vec<u8> },
    Symlink { target: String },
    CharDevice { mode: u32, major: u32, minor: u32 },
}

/// A file tree to be packed as an initramfs. Paths are relative, `/`-separated
/// (`bin/busybox`); missing parent directories are created with mode 0755.
#[derive(Debug, Clone, Default)]
pub struct Initramfs {
    nodes: BTreeMap<String, Node>,
}

impl Initramfs {
    /// An empty tree.
    pub fn new() -> Initramfs {
        Initramfs::default()
    }

    /// Adds a directory (and its parents).
    pub fn dir(&mut self, path: &str) {
        let path = clean(path);
        self.parents(&path);
        self.nodes.entry(path).or_insert(Node::Dir { mode: 0o755 });
    }

    /// Adds a regular file, replacing whatever was at `path`.
    pub fn file(&mut self, path: &str, mode: u32, data: Vec<u8>) {
        let path = clean(path);
        self.parents(&path);
        self.nodes.insert(
            path,
            Node::File {
                mode: mode & 0o7777,
                data,
            },
        );
    }

    /// Adds a symbolic link.
    pub fn symlink(&mut self, path: &str, target: &str) {
        let path = clean(path);
        self.parents(&path);
        self.nodes.insert(
            path,
            Node::Symlink {
                target: target.to_string(),
            },
        );
    }

    /// Adds a character device node (`dev/console` must exist before devtmpfs is mounted, or
    /// the first process has no console).
    pub fn char_device(&mut self, path: &str, mode: u32, major: u32, minor: u32) {
        let path = clean(path);
        self.parents(&path);
        self.nodes.insert(
            path,
            Node::CharDevice {
                mode: mode & 0o7777,
                major,
                minor,
            },
        );
    }

    /// Whether something is at `path`.
    pub fn contains(&self, path: &str) -> bool {
        self.nodes.contains_key(&clean(path))
    }

    /// Bytes of the regular files, summed.
    pub fn file_bytes(&self) -> u64 {
        self.nodes
            .values()
            .map(|n| match n {
                Node::File { data, .. } => data.len() as u64,
                _ => 0,
            })
            .sum()
    }

    fn parents(&mut self, path: &str) {
        let mut end = 0;
        while let Some(i) = path[end..].find('/') {
            end += i;
            self.nodes
                .entry(path[..end].to_string())
                .or_insert(Node::Dir { mode: 0o755 });
            end += 1;
        }
    }

    /// The uncompressed `newc` archive.
    pub fn to_newc(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.file_bytes() as usize + self.nodes.len() * 256);
        // BTreeMap order puts `a` before `a/b` (and `a-b` sorts before `a/b` too), so every
        // parent precedes its children.
        for (ino, (path, node)) in self.nodes.iter().enumerate() {
            let (mode, data, rdev): (u32, &[u8], (u32, u32)) = match node {
                Node::Dir { mode } => (S_IFDIR | mode, &[], (0, 0)),
                Node::File { mode, data } => (S_IFREG | mode, data, (0, 0)),
                Node::Symlink { target } => (S_IFLNK | 0o777, target.as_bytes(), (0, 0)),
                Node::CharDevice { mode, major, minor } => (S_IFCHR | mode, &[], (*major, *minor)),
            };
            let nlink = if matches!(node, Node::Dir { .. }) {
                2
            } else {
                1
            };
            entry(&mut out, ino as u32 + 1, mode, nlink, path, data, rdev);
        }
        entry(&mut out, 0, 0, 1, "TRAILER!!!", &[], (0, 0));
        out
    }

    /// The archive compressed with gzip (the header's time is 0, so the bytes are reproducible).
    pub fn to_gzip(&self) -> Vec<u8> {
        let raw = self.to_newc();
        let mut gz = flate2::GzBuilder::new()
            .mtime(0)
            .write(Vec::new(), flate2::Compression::best());
        // Writing into a Vec cannot fail.
        let _ = gz.write_all(&raw);
        gz.finish().unwrap_or_default()
    }
}

fn clean(path: &str) -> String {
    path.trim_matches('/').to_string()
}

fn entry(
    out: &mut Vec<u8>,
    ino: u32,
    mode: u32,
    nlink: u32,
    name: &str,
    data: &[u8],
    rdev: (u32, u32),
) {
    let fields = [
        ino,
        mode,
        0, // uid
        0, // gid
        nlink,
        0, // mtime
        data.len() as u32,
        0, // dev major
        0, // dev minor
        rdev.0,
        rdev.1,
        name.len() as u32 + 1,
        0, // check
    ];
    out.extend_from_slice(b"070701");
    for f in fields {
        out.extend_from_slice(format!("{f:08X}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
    out.extend_from_slice(data);
    pad4(out);
}

fn pad4(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_entry_has_the_newc_layout() {
        let mut t = Initramfs::new();
        t.file("init", 0o755, b"#!/bin/sh\n".to_vec());
        let a = t.to_newc();
        assert_eq!(&a[..6], b"070701");
        // inode 1, mode 0100755, name size 5 ("init" + NUL)
        assert_eq!(&a[6..14], b"00000001");
        assert_eq!(&a[14..22], b"000081ED");
        assert_eq!(&a[54..62], b"0000000A"); // file size 10
        assert_eq!(&a[94..102], b"00000005");
        assert_eq!(&a[110..115], b"init\0");
        // header + name = 115, padded to 116; data 10 bytes padded to 12
        assert_eq!(&a[116..126], b"#!/bin/sh\n");
        assert_eq!(&a[128..134], b"070701");
        assert!(a.len().is_multiple_of(4));
        let trailer = a.windows(10).position(|w| w == b"TRAILER!!!");
        assert!(trailer.is_some());
    }

    #[test]
    fn parents_come_first_and_are_created() {
        let mut t = Initramfs::new();
        t.file("lib/modules/6.1/kernel/a.ko", 0o644, vec![1]);
        t.symlink("bin/sh", "busybox");
        t.file("bin-x", 0o644, vec![]);
        let names: Vec<&String> = t.nodes.keys().collect();
        assert_eq!(
            names,
            [
                "bin",
                "bin-x",
                "bin/sh",
                "lib",
                "lib/modules",
                "lib/modules/6.1",
                "lib/modules/6.1/kernel",
                "lib/modules/6.1/kernel/a.ko"
            ]
        );
    }

    #[test]
    fn the_same_tree_gives_the_same_bytes() {
        let build = || {
            let mut t = Initramfs::new();
            t.char_device("dev/console", 0o600, 5, 1);
            t.file("b", 0o644, vec![2; 1000]);
            t.file("a", 0o644, vec![1; 1000]);
            t.to_gzip()
        };
        assert_eq!(build(), build());
    }
}
