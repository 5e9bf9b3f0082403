//! Shared test helpers: running tsmedia and the reference tools, comparing trees.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn tsmedia() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tsmedia"))
}

/// Fails (never skips) when a reference tool is missing.
pub fn require(tool: &str, package: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false);
    assert!(found, "{tool} is required (Debian package {package}); run ./scripts/test.sh, which installs it");
}

pub fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed with {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn wimlib(args: &[&str]) -> Output {
    require("wimlib-imagex", "wimtools");
    run(Command::new("wimlib-imagex").args(args))
}

pub fn ours(args: &[&str]) -> Output {
    run(tsmedia().args(args))
}

pub fn s(p: &Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}

/// A small corpus with every kind of entry.
pub fn corpus(dir: &Path, seed: u64) -> PathBuf {
    let root = dir.join(format!("corpus{seed}"));
    let spec = tsmedia_corpus::Spec {
        seed,
        small_files: 60,
        duplicates: 10,
        random_files: 3,
        logs: 1,
        log_size: 300 << 10,
        log_copies: 1,
        binary_size: 100 << 10,
    };
    tsmedia_corpus::generate(&root, &spec).expect("corpus generation");
    root
}

#[derive(Debug, PartialEq, Eq)]
pub struct Node {
    kind: &'static str,
    content: Option<Vec<u8>>,
    target: Option<PathBuf>,
    mtime: (i64, i64),
    mode: Option<u32>,
}

/// What the tree holds: per path, kind, contents, link target, mtime (100 ns) and mode; plus the
/// hard link groups (paths sharing an inode).
pub fn snapshot(root: &Path, with_mode: bool, with_dir_times: bool) -> (BTreeMap<PathBuf, Node>, Vec<Vec<PathBuf>>) {
    let mut nodes = BTreeMap::new();
    let mut inodes: HashMap<(u64, u64), Vec<PathBuf>> = HashMap::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let p = root.join(&rel);
        let m = std::fs::symlink_metadata(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let ft = m.file_type();
        let kind = if ft.is_symlink() {
            "symlink"
        } else if ft.is_dir() {
            "dir"
        } else {
            "file"
        };
        let mut node = Node {
            kind,
            content: None,
            target: None,
            mtime: (m.mtime(), m.mtime_nsec() / 100),
            mode: (with_mode && !ft.is_symlink()).then_some(m.mode()),
        };
        if ft.is_dir() {
            if !with_dir_times {
                node.mtime = (0, 0);
            }
            for e in std::fs::read_dir(&p).expect("readable dir") {
                stack.push(rel.join(e.expect("dir entry").file_name()));
            }
        } else if ft.is_symlink() {
            node.target = Some(std::fs::read_link(&p).expect("link"));
        } else {
            node.content = Some(std::fs::read(&p).expect("file"));
            if m.nlink() > 1 {
                inodes.entry((m.dev(), m.ino())).or_default().push(rel.clone());
            }
        }
        nodes.insert(rel, node);
    }
    let mut groups: Vec<Vec<PathBuf>> = inodes.into_values().map(|mut v| {
        v.sort();
        v
    }).collect();
    groups.sort();
    (nodes, groups)
}

/// Asserts two trees are identical: contents, symlink targets, hard link groups, mtimes, and
/// modes when `with_mode`.
pub fn assert_same_tree(expected: &Path, actual: &Path, with_mode: bool) {
    let (a, ga) = snapshot(expected, with_mode, true);
    let (b, gb) = snapshot(actual, with_mode, true);
    for (k, v) in &a {
        let w = b.get(k).unwrap_or_else(|| panic!("{} missing from {}", k.display(), actual.display()));
        assert_eq!(v, w, "{} differs between {} and {}", k.display(), expected.display(), actual.display());
    }
    assert_eq!(a.len(), b.len(), "{} has extra entries", actual.display());
    assert_eq!(ga, gb, "hard link groups differ");
}
