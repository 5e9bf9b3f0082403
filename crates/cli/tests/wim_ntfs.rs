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
mod ntfs_common;

use common::{require, run, s, tsmedia, wimlib};
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use ntfs_common::{MIB, fill_source, mkntfs};

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
    fill_source(&p("src.img"), &[]);
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
