//! Hostile WIMs, built here by writing a valid WIM with the library and then corrupting it at
//! known offsets, must be refused by `tsmedia wim info|dir|verify|apply` with a clear message and
//! a non-zero exit code — never a panic (exit code 101) — and apply must never write outside its
//! target. Each apply runs in a sandbox `play/{target,canary}` and afterwards `play` must hold
//! nothing but the target and the untouched canary.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tsmedia_codecs::Format;
use tsmedia_wim::blob_table::{BlobEntry, ENTRY_SIZE};
use tsmedia_wim::dentry::{self, Dentry, attr};
use tsmedia_wim::header::Header;
use tsmedia_wim::metadata::Image;
use tsmedia_wim::resource::{ResourceHeader, flags as rflags};
use tsmedia_wim::security::SecurityData;
use tsmedia_wim::xml::Element;
use tsmedia_wim::{Sha1, WimWriter, WriteOptions};

// ---------------------------------------------------------------------------------------------
// Building WIMs

fn utf16(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

fn file(name: &str, data: &[u8]) -> Dentry {
    Dentry {
        name: utf16(name),
        attributes: attr::NORMAL,
        security_id: -1,
        data: if data.is_empty() {
            Sha1::ZERO
        } else {
            Sha1::of(data)
        },
        ..Dentry::default()
    }
}

fn dir(name: &str, children: Vec<Dentry>) -> Dentry {
    Dentry {
        name: utf16(name),
        attributes: attr::DIRECTORY,
        security_id: -1,
        children,
        ..Dentry::default()
    }
}

fn root(children: Vec<Dentry>) -> Dentry {
    dir("", children)
}

fn options(compression: Option<Format>) -> WriteOptions {
    WriteOptions {
        compression,
        chunk_size: if compression.is_some() { 32768 } else { 0 },
        threads: 1,
        guid: Some(*b"hostile-wim-test"),
        timestamp: Some(0),
        ..WriteOptions::default()
    }
}

/// Writes a one-image WIM holding `blobs` and the tree `root` (written exactly as given: the
/// writer does not check names).
fn write_wim(
    path: &Path,
    compression: Option<Format>,
    blobs: &[&[u8]],
    root: Dentry,
    security: SecurityData,
) {
    let mut w = WimWriter::create(path, options(compression)).expect("create WIM");
    for b in blobs {
        w.write_blob(&mut &b[..], b.len() as u64, None, Path::new("(test data)"))
            .expect("write blob");
    }
    let mut xml = Element::new("IMAGE");
    xml.children.push(Element::with_text("NAME", "hostile"));
    w.add_image(&Image { security, root }, xml)
        .expect("add image");
    w.finish(0).expect("finish WIM");
}

/// A text blob of several 32 KiB chunks that XPRESS compresses well.
fn text(len: usize) -> Vec<u8> {
    (0..)
        .flat_map(|i: u32| format!("line {} of some log text\n", i % 501).into_bytes())
        .take(len)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Byte surgery

fn header(b: &[u8]) -> Header {
    Header::parse(&b[..208]).expect("valid header before surgery")
}

/// The blob table: (file offset of the entry, entry).
fn blob_table(b: &[u8]) -> Vec<(usize, BlobEntry)> {
    let t = header(b).blob_table;
    (0..t.uncompressed_size as usize / ENTRY_SIZE)
        .map(|i| {
            let at = t.offset as usize + i * ENTRY_SIZE;
            (at, BlobEntry::parse(&b[at..at + ENTRY_SIZE]))
        })
        .collect()
}

fn entry_of(b: &[u8], data: &[u8]) -> (usize, BlobEntry) {
    let h = Sha1::of(data);
    blob_table(b)
        .into_iter()
        .find(|(_, e)| e.sha1 == h)
        .expect("blob in the table")
}

fn metadata_entry(b: &[u8]) -> (usize, BlobEntry) {
    blob_table(b)
        .into_iter()
        .find(|(_, e)| e.resource.is_metadata())
        .expect("a metadata resource")
}

fn put_reshdr(b: &mut [u8], at: usize, r: ResourceHeader) {
    b[at..at + 24].copy_from_slice(&r.to_bytes());
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn le_u64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// The (uncompressed) metadata resource's range in the file.
fn metadata_range(b: &[u8]) -> std::ops::Range<usize> {
    let (_, e) = metadata_entry(b);
    assert!(
        !e.resource.is_compressed(),
        "surgery on metadata needs an uncompressed WIM"
    );
    e.resource.offset as usize..(e.resource.offset + e.resource.stored_size) as usize
}

/// After editing the metadata resource, makes its blob-table SHA-1 match again so the reader
/// gets as far as parsing it.
fn rehash_metadata(b: &mut [u8]) {
    let r = metadata_range(b);
    let h = Sha1::of(&b[r]);
    let (at, _) = metadata_entry(b);
    b[at + 30..at + 50].copy_from_slice(&h.0);
}

/// Offset (in the metadata resource) of the dentry named `name` in the list starting at `list`.
fn find_in_list(m: &[u8], list: usize, name: &str) -> usize {
    let want = utf16(name);
    let mut off = list;
    loop {
        let len = le_u64(m, off) as usize;
        assert!(len != 0, "{name} not found in the list at {list:#x}");
        let name_len = u16::from_le_bytes([m[off + 0x64], m[off + 0x65]]) as usize;
        let got: Vec<u16> = m[off + 102..off + 102 + name_len]
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        if got == want {
            return off;
        }
        assert_eq!(
            u16::from_le_bytes([m[off + 0x60], m[off + 0x61]]),
            0,
            "no extra streams in these tests"
        );
        off += (len + 7) & !7;
    }
}

fn root_offset(m: &[u8]) -> usize {
    (le_u32(m, 0) as usize + 7) & !7
}

fn subdir(m: &[u8], dentry: usize) -> usize {
    le_u64(m, dentry + 0x10) as usize
}

// ---------------------------------------------------------------------------------------------
// Running the CLI

/// A WIM under test and a sandbox to apply it in.
struct Case {
    _tmp: tempfile::TempDir,
    wim: PathBuf,
    play: PathBuf,
    target: PathBuf,
    canary: PathBuf,
}

const CANARY: &[u8] = b"nothing may touch this";

impl Case {
    fn new() -> Case {
        let tmp = tempfile::tempdir().expect("tempdir");
        let play = tmp.path().join("play");
        let canary = play.join("canary");
        fs::create_dir_all(&canary).expect("mkdir canary");
        fs::write(canary.join("keep"), CANARY).expect("write canary");
        Case {
            wim: tmp.path().join("hostile.wim"),
            target: play.join("target"),
            play,
            canary,
            _tmp: tmp,
        }
    }

    fn bytes(&self) -> Vec<u8> {
        fs::read(&self.wim).expect("read WIM")
    }

    fn set_bytes(&self, b: &[u8]) {
        fs::write(&self.wim, b).expect("write WIM");
    }

    fn edit(&self, f: impl FnOnce(&mut Vec<u8>)) {
        let mut b = self.bytes();
        f(&mut b);
        self.set_bytes(&b);
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = Command::new(env!("CARGO_BIN_EXE_tsmedia"))
            .args(args)
            .output()
            .expect("run tsmedia");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_ne!(
            out.status.code(),
            Some(101),
            "tsmedia {args:?} panicked:\n{stderr}"
        );
        assert!(
            out.status.code().is_some(),
            "tsmedia {args:?} was killed by a signal:\n{stderr}"
        );
        assert!(
            !stderr.contains("panicked"),
            "tsmedia {args:?} panicked:\n{stderr}"
        );
        out
    }

    fn wim_arg(&self) -> &str {
        self.wim.to_str().expect("UTF-8 temp path")
    }

    fn cmd(&self, cmd: &str) -> Output {
        match cmd {
            "apply" => self.run(&[
                "wim",
                "apply",
                "-q",
                self.wim_arg(),
                "1",
                self.target.to_str().expect("UTF-8"),
            ]),
            "verify" => self.run(&["wim", "verify", "-q", self.wim_arg()]),
            other => self.run(&["wim", other, self.wim_arg()]),
        }
    }

    /// Runs `cmd` and checks it fails with exit code `code` (any non-zero one when `None`) and a
    /// message containing every one of `needles`.
    fn refused(&self, cmd: &str, code: Option<i32>, needles: &[&str]) -> String {
        let out = self.cmd(cmd);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !out.status.success(),
            "`wim {cmd}` accepted a hostile WIM:\n{stderr}"
        );
        if let Some(c) = code {
            assert_eq!(
                out.status.code(),
                Some(c),
                "`wim {cmd}` exit code; stderr:\n{stderr}"
            );
        }
        for n in needles {
            assert!(
                stderr.contains(n),
                "`wim {cmd}`: {n:?} missing from the message:\n{stderr}"
            );
        }
        if cmd == "apply" {
            self.assert_contained();
        }
        stderr
    }

    fn accepted(&self, cmd: &str) -> String {
        let out = self.cmd(cmd);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "`wim {cmd}` failed:\n{stderr}");
        if cmd == "apply" {
            self.assert_contained();
        }
        stderr
    }

    /// Nothing but `target` and the untouched canary in the sandbox.
    fn assert_contained(&self) {
        let mut names: Vec<String> = fs::read_dir(&self.play)
            .expect("read play")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names.retain(|n| n != "target");
        assert_eq!(names, ["canary"], "apply wrote outside its target");
        let canary: Vec<_> = fs::read_dir(&self.canary)
            .expect("read canary")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(canary, ["keep"], "apply wrote into the canary directory");
        assert_eq!(
            fs::read(self.canary.join("keep")).expect("read canary"),
            CANARY
        );
        let m = fs::symlink_metadata(&self.canary).expect("canary");
        assert!(m.is_dir(), "canary replaced");
    }
}

// ---------------------------------------------------------------------------------------------
// The cases

#[test]
fn blob_whose_sha1_does_not_match_its_data() {
    let c = Case::new();
    let data = b"the real contents of a file".as_slice();
    write_wim(
        &c.wim,
        None,
        &[data],
        root(vec![dir("d", vec![file("f.txt", data)])]),
        SecurityData::default(),
    );
    c.accepted("verify");
    let (_, e) = entry_of(&c.bytes(), data);
    c.edit(|b| b[e.resource.offset as usize + 4] ^= 0x20);
    let hex = Sha1::of(data).hex();
    c.refused("verify", Some(3), &[&hex, "hashes to", "corrupt"]);
    c.refused("apply", Some(3), &[&hex, "/d/f.txt", "image 1"]);
}

#[test]
fn compressed_chunk_that_does_not_decompress() {
    let c = Case::new();
    let data = text(100_000);
    write_wim(
        &c.wim,
        Some(Format::Xpress),
        &[data.as_slice()],
        root(vec![file("log.txt", &data)]),
        SecurityData::default(),
    );
    c.accepted("verify");
    let (_, e) = entry_of(&c.bytes(), &data);
    let r = e.resource;
    assert!(
        r.is_compressed() && r.stored_size < r.uncompressed_size,
        "test data must compress"
    );
    // Four chunks: a chunk table of three u32 offsets, relative to the end of the table.
    let table = r.offset as usize;
    let chunk1 = table + 12 + le_u32(&c.bytes(), table) as usize;
    // XPRESS chunks start with 256 bytes of 4-bit code lengths; all 1s is oversubscribed.
    c.edit(|b| b[chunk1..chunk1 + 256].fill(0x11));
    let offset = format!("{:#x}", r.offset);
    c.refused(
        "verify",
        Some(3),
        &[
            "chunk 1 of the resource at offset",
            &offset,
            "does not decompress",
        ],
    );
    c.refused(
        "apply",
        Some(3),
        &["chunk 1", &offset, "does not decompress"],
    );
}

#[test]
fn cyclic_directory_tree() {
    let c = Case::new();
    let data = b"x".as_slice();
    let tree = root(vec![dir("a", vec![dir("b", vec![file("f", data)])])]);
    write_wim(&c.wim, None, &[data], tree, SecurityData::default());
    c.edit(|b| {
        let r = metadata_range(b);
        let m = &mut b[r];
        let root_list = subdir(m, root_offset(m));
        let a = find_in_list(m, root_list, "a");
        let b_off = find_in_list(m, subdir(m, a), "b");
        // b's children are the root's children: a → b → a → ...
        m[b_off + 0x10..b_off + 0x18].copy_from_slice(&(root_list as u64).to_le_bytes());
        rehash_metadata(b);
    });
    for cmd in ["verify", "dir", "apply"] {
        c.refused(
            cmd,
            Some(3),
            &["image 1 metadata at byte", "cyclic directory tree"],
        );
    }
    assert!(
        !c.target.exists(),
        "nothing is created before the tree is checked"
    );
}

#[test]
fn duplicate_names_in_one_directory() {
    let c = Case::new();
    let (one, two) = (b"first".as_slice(), b"second".as_slice());
    let tree = root(vec![dir("d", vec![file("same", one), file("same", two)])]);
    write_wim(&c.wim, None, &[one, two], tree, SecurityData::default());
    for cmd in ["verify", "dir", "apply"] {
        c.refused(
            cmd,
            Some(3),
            &["image 1 metadata", "duplicate name \"same\""],
        );
    }
    assert!(!c.target.exists());
}

#[test]
fn names_that_would_escape_the_target() {
    let data = b"payload".as_slice();
    let cases: [(&str, &str); 6] = [
        ("..", "path traversal"),
        (".", "path traversal"),
        ("a/b", "path separator"),
        ("a\\b", "path separator"),
        ("nul\0byte", "NUL"),
        ("/etc", "path separator"),
    ];
    for (bad, why) in cases {
        for nested in [false, true] {
            let c = Case::new();
            let evil = file(bad, data);
            let tree = if nested {
                root(vec![dir("sub", vec![evil])])
            } else {
                root(vec![evil, file("ok", data)])
            };
            write_wim(&c.wim, None, &[data], tree, SecurityData::default());
            let prefix = if nested {
                "image 1: /sub/"
            } else {
                "image 1: /"
            };
            // The message shows the name as stored (a NUL included).
            let path = format!("{prefix}{bad}");
            c.refused("verify", Some(5), &[&path, why]);
            c.refused("apply", Some(5), &[&path, why]);
            assert!(
                !c.target.exists(),
                "{bad:?}: nothing is written before the tree is checked"
            );
        }
    }
}

/// A `..` directory whose children would land next to the target: refused before any write.
#[test]
fn dotdot_directory_with_children() {
    let c = Case::new();
    let data = b"would land in play/".as_slice();
    let tree = root(vec![dir(
        "..",
        vec![
            dir("canary", vec![file("keep", data)]),
            file("escaped", data),
        ],
    )]);
    write_wim(&c.wim, None, &[data], tree, SecurityData::default());
    c.refused("verify", Some(5), &["image 1: /..", "path traversal"]);
    c.refused("apply", Some(5), &["image 1: /..", "path traversal"]);
}

#[test]
fn name_longer_than_linux_allows() {
    let c = Case::new();
    let data = b"long".as_slice();
    let long = "n".repeat(300);
    write_wim(
        &c.wim,
        None,
        &[data],
        root(vec![file(&long, data)]),
        SecurityData::default(),
    );
    // A valid WIM (Windows allows 255 UTF-16 units; this has 300, which we do not police), but
    // Linux cannot hold the name: apply refuses it up front.
    c.accepted("verify");
    c.refused(
        "apply",
        Some(5),
        &["image 1: /nnnn", "longer than 255 bytes"],
    );
    assert!(!c.target.exists());
}

#[test]
fn path_longer_than_path_max() {
    let c = Case::new();
    let data = b"deep".as_slice();
    let seg = "d".repeat(200);
    let mut tree = file("leaf", data);
    for _ in 0..25 {
        tree = dir(&seg, vec![tree]); // 25 × 201 bytes > PATH_MAX (4096)
    }
    write_wim(
        &c.wim,
        None,
        &[data],
        root(vec![tree]),
        SecurityData::default(),
    );
    c.accepted("verify");
    c.refused("apply", Some(1), &["File name too long", &seg]);
}

#[test]
fn tree_deeper_than_the_reader_accepts() {
    let c = Case::new();
    let data = b"deep".as_slice();
    let mut tree = file("leaf", data);
    for _ in 0..1100 {
        tree = dir("d", vec![tree]);
    }
    write_wim(
        &c.wim,
        None,
        &[data],
        root(vec![tree]),
        SecurityData::default(),
    );
    for cmd in ["verify", "dir", "apply"] {
        c.refused(
            cmd,
            Some(3),
            &["image 1 metadata", "deeper than 1024 levels"],
        );
    }
}

#[test]
fn empty_and_null_dacls_just_work() {
    let c = Case::new();
    // Self-relative SECURITY_DESCRIPTOR, SE_DACL_PRESENT | SE_SELF_RELATIVE, DACL at 20 with no
    // ACEs (denies everyone on Windows).
    let empty_dacl = vec![
        1, 0, 0x04, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 2, 0, 8, 0, 0, 0, 0, 0,
    ];
    // DACL present but no DACL offset: a NULL DACL (allows everyone).
    let null_dacl = vec![
        1, 0, 0x04, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    let security = SecurityData {
        descriptors: vec![empty_dacl, null_dacl, Vec::new()],
    };
    let data = b"guarded".as_slice();
    let mut files = Vec::new();
    for (i, id) in [0, 1, 2, 7].into_iter().enumerate() {
        let mut f = file(&format!("f{i}"), data);
        f.security_id = id; // 7: past the end of the security data
        files.push(f);
    }
    let mut d = dir("d", files);
    d.security_id = 0;
    let mut r = root(vec![d]);
    r.security_id = 0;
    write_wim(&c.wim, None, &[data], r, security);
    c.accepted("verify");
    let stderr = c.accepted("apply");
    assert!(
        stderr.contains("security descriptors"),
        "a warning names what was not applied:\n{stderr}"
    );
    for i in 0..4 {
        assert_eq!(
            fs::read(c.target.join(format!("d/f{i}"))).expect("applied file"),
            data
        );
    }
}

#[test]
fn resources_past_the_end_of_the_file() {
    let data = text(50_000);
    type Edit = fn(&mut Vec<u8>, &[u8]);
    let cases: [(&str, Edit, &[&str]); 6] = [
        (
            "blob offset past the end",
            |b, d| {
                let (at, mut e) = entry_of(b, d);
                e.resource.offset = b.len() as u64 + 4096;
                put_reshdr(b, at, e.resource);
            },
            &[
                "blob table entry 1 at offset",
                "runs past the end of the file",
            ],
        ),
        (
            "blob size past the end",
            |b, d| {
                let (at, mut e) = entry_of(b, d);
                e.resource.stored_size = (1 << 56) - 1;
                put_reshdr(b, at, e.resource);
            },
            &["blob table entry 1", "runs past the end of the file"],
        ),
        (
            "blob offset + size overflows",
            |b, d| {
                let (at, mut e) = entry_of(b, d);
                e.resource.offset = u64::MAX - 10;
                put_reshdr(b, at, e.resource);
            },
            &["blob table entry 1", "overflows"],
        ),
        (
            "blob table past the end",
            |b, _| {
                let mut h = header(b);
                h.blob_table.offset = b.len() as u64 - 10;
                b[..208].copy_from_slice(&h.to_bytes());
            },
            &["resource at offset", "runs past the end of"],
        ),
        (
            "XML data larger than the file",
            |b, _| {
                let mut h = header(b);
                h.xml_data.stored_size = 1 << 40;
                h.xml_data.uncompressed_size = 1 << 40;
                b[..208].copy_from_slice(&h.to_bytes());
            },
            &["resource at offset", "XML data claims"],
        ),
        (
            "metadata past the end",
            |b, _| {
                let (at, mut e) = metadata_entry(b);
                e.resource.offset = b.len() as u64;
                put_reshdr(b, at, e.resource);
            },
            &["blob table entry 0", "runs past the end of the file"],
        ),
    ];
    for compression in [None, Some(Format::Xpress)] {
        for (what, edit, needles) in &cases {
            let c = Case::new();
            write_wim(
                &c.wim,
                compression,
                &[data.as_slice()],
                root(vec![file("f", &data)]),
                SecurityData::default(),
            );
            c.edit(|b| edit(b, &data));
            for cmd in ["info", "dir", "verify", "apply"] {
                let stderr = c.refused(cmd, Some(3), needles);
                assert!(
                    stderr.contains("hostile.wim"),
                    "{what}: `{cmd}` names the file:\n{stderr}"
                );
            }
            assert!(!c.target.exists(), "{what}");
        }
    }
}

#[test]
fn integrity_table_past_the_end_of_the_file() {
    let c = Case::new();
    let data = text(5000);
    let mut w = WimWriter::create(
        &c.wim,
        WriteOptions {
            integrity: true,
            ..options(None)
        },
    )
    .expect("create");
    w.write_blob(&mut &data[..], data.len() as u64, None, Path::new("t"))
        .expect("blob");
    w.add_image(
        &Image {
            security: SecurityData::default(),
            root: root(vec![file("f", &data)]),
        },
        Element::new("IMAGE"),
    )
    .expect("image");
    w.finish(0).expect("finish");
    c.accepted("verify");
    c.edit(|b| {
        let mut h = header(b);
        h.integrity.offset = b.len() as u64 - 8;
        b[..208].copy_from_slice(&h.to_bytes());
    });
    c.refused("verify", Some(3), &["past the end of", "hostile.wim"]);
}

#[test]
fn chunk_table_running_backwards() {
    let c = Case::new();
    let data = text(120_000);
    write_wim(
        &c.wim,
        Some(Format::Xpress),
        &[data.as_slice()],
        root(vec![file("log.txt", &data)]),
        SecurityData::default(),
    );
    let (_, e) = entry_of(&c.bytes(), &data);
    let t = e.resource.offset as usize;
    c.edit(|b| {
        // Entries 0 and 1 (the starts of chunks 1 and 2) swapped: chunk 2 starts before chunk 1.
        let (x, y) = (le_u32(b, t), le_u32(b, t + 4));
        b[t..t + 4].copy_from_slice(&y.to_le_bytes());
        b[t + 4..t + 8].copy_from_slice(&x.to_le_bytes());
    });
    let offset = format!("resource at offset {:#x}", e.resource.offset);
    c.refused(
        "verify",
        Some(3),
        &[&offset, "chunk table runs backwards at chunk 2"],
    );
    c.refused("apply", Some(3), &[&offset, "chunk table runs backwards"]);
}

#[test]
fn chunk_table_pointing_past_the_resource() {
    let c = Case::new();
    let data = text(120_000);
    write_wim(
        &c.wim,
        Some(Format::Xpress),
        &[data.as_slice()],
        root(vec![file("log.txt", &data)]),
        SecurityData::default(),
    );
    let (_, e) = entry_of(&c.bytes(), &data);
    let t = e.resource.offset as usize;
    c.edit(|b| b[t + 8..t + 12].copy_from_slice(&u32::MAX.to_le_bytes()));
    let offset = format!("resource at offset {:#x}", e.resource.offset);
    c.refused("verify", Some(3), &[&offset, "chunk"]);
    c.refused("apply", Some(3), &[&offset, "chunk"]);
}

#[test]
fn image_count_disagreeing_with_xml_and_blob_table() {
    let data = b"counted".as_slice();
    type Edit = fn(&mut Vec<u8>);
    let cases: [(Edit, &[&str]); 4] = [
        (
            |b| b[0x2C] = 2,
            &["header says 2 images but the XML describes 1"],
        ),
        (
            |b| b[0x2C] = 0,
            &["header says 0 images but the XML describes 1"],
        ),
        (
            |b| {
                // The metadata resource no longer flagged as metadata.
                let (at, _) = metadata_entry(b);
                b[at + 7] &= !rflags::METADATA;
            },
            &["header says 1 images but the blob table has 0 metadata resources"],
        ),
        (
            |b| {
                // The file's blob flagged as a second image's metadata.
                let (at, _) = entry_of(b, b"counted");
                b[at + 7] |= rflags::METADATA;
            },
            &["header says 1 images but the blob table has 2 metadata resources"],
        ),
    ];
    for (edit, needles) in cases {
        let c = Case::new();
        write_wim(
            &c.wim,
            None,
            &[data],
            root(vec![file("f", data)]),
            SecurityData::default(),
        );
        c.edit(edit);
        for cmd in ["info", "verify", "apply"] {
            c.refused(cmd, Some(3), needles);
        }
    }
}

#[test]
fn every_truncation_of_a_small_wim() {
    let c = Case::new();
    let data = b"tiny".as_slice();
    let mut link = Dentry {
        name: utf16("link"),
        attributes: attr::REPARSE_POINT,
        reparse_tag: dentry::IO_REPARSE_TAG_SYMLINK,
        security_id: -1,
        ..Dentry::default()
    };
    let rp = tsmedia_wim::reparse::symlink_data("f");
    link.reparse_data = Sha1::of(&rp);
    write_wim(
        &c.wim,
        None,
        &[data, rp.as_slice()],
        root(vec![file("f", data), link]),
        SecurityData::default(),
    );
    c.accepted("verify");
    let full = c.bytes();
    assert!(full.len() < 4096, "a small WIM: {} bytes", full.len());
    for n in 0..full.len() {
        c.set_bytes(&full[..n]);
        for cmd in ["info", "verify", "apply"] {
            let out = c.cmd(cmd);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                !out.status.success(),
                "`wim {cmd}` accepted a WIM cut to {n} bytes"
            );
            assert!(
                stderr.contains("hostile.wim"),
                "`wim {cmd}` at {n} bytes names the file:\n{stderr}"
            );
            let cut = n < 208 && stderr.contains("shorter than a WIM header");
            assert!(
                cut || stderr.contains("truncated") || stderr.contains("past the end"),
                "at {n} bytes:\n{stderr}"
            );
        }
        c.assert_contained();
        assert!(
            !c.target.exists(),
            "apply of a truncated WIM created its target"
        );
    }
}

#[test]
fn symlink_planted_in_the_target_is_not_followed() {
    let data = b"must not land in the canary".as_slice();
    // target/sub → ../canary, and the image has sub/keep.
    let c = Case::new();
    write_wim(
        &c.wim,
        None,
        &[data],
        root(vec![dir("sub", vec![file("keep", data)])]),
        SecurityData::default(),
    );
    fs::create_dir(&c.target).expect("mkdir target");
    std::os::unix::fs::symlink("../canary", c.target.join("sub")).expect("plant symlink");
    c.refused(
        "apply",
        Some(5),
        &[
            "target/sub",
            "already exists in the target and is not a directory",
        ],
    );

    // target/keep → ../canary/keep, and the image has keep.
    let c = Case::new();
    write_wim(
        &c.wim,
        None,
        &[data],
        root(vec![file("keep", data)]),
        SecurityData::default(),
    );
    fs::create_dir(&c.target).expect("mkdir target");
    std::os::unix::fs::symlink("../canary/keep", c.target.join("keep")).expect("plant symlink");
    c.refused("apply", Some(5), &["target/keep", "is not a file"]);

    // The target itself a symlink to the canary.
    let c = Case::new();
    write_wim(
        &c.wim,
        None,
        &[data],
        root(vec![file("keep", data)]),
        SecurityData::default(),
    );
    std::os::unix::fs::symlink("canary", &c.target).expect("plant symlink");
    c.refused("apply", Some(5), &["target", "is not a directory"]);
}

#[test]
fn symlinks_in_the_image_do_not_redirect_later_writes() {
    let c = Case::new();
    let data = b"stays inside".as_slice();
    let mut links = Vec::new();
    let mut blobs: Vec<Vec<u8>> = vec![data.to_vec()];
    // Links pointing outside, named so they sort before the files and directories that follow.
    for (name, to) in [("a-up", "../canary"), ("a-abs", "/tmp"), ("b", "../canary")] {
        let rp = tsmedia_wim::reparse::symlink_data(to);
        links.push(Dentry {
            name: utf16(name),
            attributes: attr::REPARSE_POINT,
            reparse_tag: dentry::IO_REPARSE_TAG_SYMLINK,
            reparse_data: Sha1::of(&rp),
            security_id: -1,
            ..Dentry::default()
        });
        blobs.push(rp);
    }
    let mut children = links;
    children.push(dir("c", vec![file("keep", data)]));
    children.push(file("keep", data));
    let blob_refs: Vec<&[u8]> = blobs.iter().map(|b| b.as_slice()).collect();
    write_wim(
        &c.wim,
        None,
        &blob_refs,
        root(children),
        SecurityData::default(),
    );
    c.accepted("verify");
    c.accepted("apply");
    assert_eq!(
        fs::read_link(c.target.join("a-up")).expect("link"),
        Path::new("../canary")
    );
    assert_eq!(fs::read(c.target.join("c/keep")).expect("file"), data);
    assert_eq!(fs::read(c.target.join("keep")).expect("file"), data);
}

/// Every 8-byte hole (zeros) punched into a small WIM: whatever each command makes of it, no
/// panic, a message when it fails, and nothing written outside the target.
#[test]
fn every_zeroed_word_of_a_small_wim() {
    let c = Case::new();
    let data = b"small file contents".as_slice();
    let tree = root(vec![dir("d", vec![file("f", data)]), file("g", data)]);
    write_wim(&c.wim, None, &[data], tree, SecurityData::default());
    let full = c.bytes();
    for at in (0..full.len()).step_by(8) {
        let mut b = full.clone();
        let end = (at + 8).min(b.len());
        if b[at..end].iter().all(|&x| x == 0) {
            continue;
        }
        b[at..end].fill(0);
        c.set_bytes(&b);
        for cmd in ["verify", "apply"] {
            let out = c.cmd(cmd);
            let stderr = String::from_utf8_lossy(&out.stderr);
            if !out.status.success() {
                assert!(
                    stderr.starts_with("error: "),
                    "`wim {cmd}` with zeros at {at:#x}:\n{stderr}"
                );
            }
            c.assert_contained();
        }
        if c.target.exists() {
            fs::remove_dir_all(&c.target).expect("clean target");
        }
    }
}
