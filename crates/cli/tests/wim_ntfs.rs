//! `tsmedia wim apply WIM INDEX ntfs.img` against wimlib's NTFS-3G mode, the oracle.
//!
//! A source NTFS volume (mkntfs + ntfs-3g) holds what Windows puts on a volume: several
//! distinct security descriptors, named data streams (one empty), a symbolic link and a
//! junction, short names, hard links, hidden/system/read-only attributes, 100 ns timestamps,
//! a file large enough to be non-resident. wimlib captures it; wimlib applies that WIM onto a
//! fresh volume A and tsmedia onto a fresh volume B; both are captured again by wimlib and
//! `wimlib-imagex dir --detailed` and `info` must print the same. `ntfsfix -n` must find no
//! error on B. Needs root (FUSE mounts) and the ntfs-3g, wimtools packages.

mod common;

use common::{require, run, s, tsmedia, wimlib};
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const MIB: u64 = 1 << 20;

fn mkntfs(path: &Path, size: u64) {
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
fn fill_source(img: &Path) {
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

// ---------------------------------------------------------------------------------------------
// Comparing

/// `dir --detailed` output with what depends on the capture rather than on the volume made
/// uniform: link group IDs (numbered from NTFS inode numbers) are renumbered in order of first
/// appearance, which keeps which files are linked; blob offsets follow the order wimlib read
/// the data in, which follows where NTFS-3G placed it on disk.
fn detailed(wim: &Path) -> String {
    let out = wimlib(&["dir", s(wim), "1", "--detailed"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let mut groups: HashMap<String, usize> = HashMap::new();
    text.lines()
        .map(|l| {
            if let Some(v) = l.strip_prefix("Link Group ID       = ") {
                let n = groups.len();
                let id = *groups.entry(v.to_string()).or_insert(n);
                format!("Link Group ID       = #{id}")
            } else if l.starts_with("Offset in WIM") {
                "Offset in WIM     = (normalised)".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `info` of image 1 without the capture's own times and the WIM's GUID, size and path.
fn info(wim: &Path) -> String {
    let out = wimlib(&["info", s(wim), "1"]);
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| {
            ![
                "GUID",
                "Path",
                "Size",
                "Creation Time",
                "Last Modification Time",
            ]
            .iter()
            .any(|k| l.starts_with(k))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Asserts `a == b`, printing each differing line with the entry it belongs to.
fn assert_same(a: &str, b: &str, what: &str) {
    if a == b {
        return;
    }
    let mut path = "";
    let mut diffs = Vec::new();
    for (x, y) in a.lines().zip(b.lines()) {
        if x.starts_with("Full Path") {
            path = x;
        }
        if x != y {
            diffs.push(format!("{path}\n  - {x}\n  + {y}"));
        }
    }
    panic!(
        "{what}: {} lines against {}; differing lines:\n{}",
        a.lines().count(),
        b.lines().count(),
        diffs.join("\n")
    );
}

fn capture(img: &Path, wim: &Path) {
    wimlib(&["capture", s(img), s(wim), "vol", "--compress=none"]);
}

fn mounted(img: &Path) -> bool {
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap();
    let name = img.display().to_string();
    info.lines().any(|l| l.contains(&name))
}

#[test]
fn apply_onto_ntfs_matches_wimlib_ntfs_mode() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| -> PathBuf { dir.path().join(n) };
    mkntfs(&p("src.img"), 32 * MIB);
    fill_source(&p("src.img"));
    capture(&p("src.img"), &p("x.wim"));
    let source = detailed(&p("x.wim"));
    for needle in [
        "Short Name          = \"PROGRA~1\"",
        "Short Name          = \"LONGFI~1.TXT\"",
        "Named data stream \"ads1\"",
        "Named data stream \"empty\"",
        "Reparse Tag         = 0xa000000c",
        "Reparse Tag         = 0xa0000003",
        "Link Count          = 2",
        "FILE_ATTRIBUTE_READONLY is set",
        "FILE_ATTRIBUTE_SYSTEM is set",
    ] {
        assert!(source.contains(needle), "source lacks {needle}:\n{source}");
    }
    let sds: std::collections::HashSet<&str> = source
        .lines()
        .filter(|l| l.starts_with("Security Descriptor"))
        .collect();
    assert!(
        sds.len() >= 3,
        "distinct security descriptors: {}",
        sds.len()
    );

    mkntfs(&p("A.img"), 32 * MIB);
    mkntfs(&p("B.img"), 32 * MIB);
    wimlib(&["apply", s(&p("x.wim")), "1", s(&p("A.img"))]);
    run(tsmedia().args(["wim", "apply", s(&p("x.wim")), "1", s(&p("B.img"))]));
    assert!(!mounted(&p("B.img")), "B.img is still mounted");
    capture(&p("A.img"), &p("a.wim"));
    capture(&p("B.img"), &p("b.wim"));
    let (a, b) = (detailed(&p("a.wim")), detailed(&p("b.wim")));
    assert_same(
        &a,
        &b,
        "dir --detailed of wimlib's (-) and tsmedia's (+) apply",
    );
    assert_same(
        &source,
        &b,
        "dir --detailed of the source (-) and tsmedia's apply (+)",
    );
    assert_same(&info(&p("a.wim")), &info(&p("b.wim")), "info");

    require("ntfsfix", "ntfs-3g");
    let fix = run(Command::new("ntfsfix").arg("-n").arg(p("B.img")));
    let text = String::from_utf8_lossy(&fix.stdout);
    assert!(text.contains("processed successfully"), "{text}");
}

/// A WIM of one directory with an incompressible 6 MiB file.
fn big_wim(dir: &Path) -> PathBuf {
    let tree = dir.join("tree");
    fs::create_dir_all(tree.join("data")).unwrap();
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let big: Vec<u8> = (0..6 * MIB)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    fs::write(tree.join("data/huge.bin"), big).unwrap();
    let wim = dir.join("big.wim");
    wimlib(&["capture", s(&tree), s(&wim), "--compress=none"]);
    wim
}

#[test]
fn a_full_volume_fails_naming_the_file_and_is_unmounted() {
    let dir = tempfile::tempdir().unwrap();
    let wim = big_wim(dir.path());
    let img = dir.path().join("small.img");
    mkntfs(&img, 4 * MIB);
    let out = tsmedia()
        .args(["wim", "apply", s(&wim), "1", s(&img)])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a full volume must fail: {err}");
    assert_ne!(out.status.code(), Some(101), "panicked: {err}");
    assert!(err.contains("is full"), "{err}");
    assert!(err.contains("/data/huge.bin"), "{err}");
    assert!(
        !mounted(&img),
        "the volume is still mounted after the failure"
    );
}

#[test]
fn a_regular_file_that_is_not_ntfs_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let wim = big_wim(dir.path());
    let img = dir.path().join("fat.img");
    fs::write(&img, vec![0u8; 1 << 20]).unwrap();
    let out = tsmedia()
        .args(["wim", "apply", s(&wim), "1", s(&img)])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("no NTFS volume"), "{err}");
    assert_eq!(
        fs::read(&img).unwrap(),
        vec![0u8; 1 << 20],
        "the file was written"
    );
}

#[test]
fn options_without_meaning_on_ntfs_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let wim = big_wim(dir.path());
    let img = dir.path().join("v.img");
    mkntfs(&img, 16 * MIB);
    let out = tsmedia()
        .args(["wim", "apply", s(&wim), "1", s(&img), "--unix-data"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("--unix-data"), "{err}");
    assert!(err.contains("NTFS"), "{err}");
}
