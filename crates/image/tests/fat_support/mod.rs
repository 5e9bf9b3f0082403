//! Helpers shared by the FAT and disk tests: reference tools, test data, tree comparison.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

/// Runs a reference tool; panics (failing the test) with the Debian package name if missing.
pub fn tool(program: &str, package: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .env("LC_ALL", "C.UTF-8")
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {program} ({e}); install the Debian package `{package}`")
        })
}

/// Runs a tool and requires success; returns stdout.
pub fn tool_ok(program: &str, package: &str, args: &[&str]) -> String {
    let out = tool(program, package, args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{program} {args:?} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// `fsck.fat -n -v` must accept the volume and report the FAT type given.
pub fn fsck_fat(image: &Path, bits: u32) -> String {
    let out = tool_ok(
        "fsck.fat",
        "dosfstools",
        &["-n", "-v", image.to_str().unwrap()],
    );
    assert!(
        out.contains(&format!("{bits} bit entries")),
        "expected FAT{bits}:\n{out}"
    );
    out
}

/// Deterministic pseudo-random bytes.
pub fn data(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Every file under `root` (relative paths with `/`) with its bytes, and every directory
/// (value `None`).
pub fn read_tree(root: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Option<Vec<u8>>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let rel = path
                .strip_prefix(base)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if entry.file_type().unwrap().is_dir() {
                out.insert(rel, None);
                walk(base, &path, out);
            } else {
                out.insert(rel, Some(std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// Extracts a whole FAT volume with `mcopy -s` (mtools); `image` may carry an `@@offset`.
pub fn mcopy_all(image: &str, dest: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    std::fs::create_dir_all(dest).unwrap();
    tool_ok(
        "mcopy",
        "mtools",
        &["-s", "-n", "-m", "-i", image, "::/", dest.to_str().unwrap()],
    );
    read_tree(dest)
}
