//! Directory trees: counting (which also warms the page cache) and comparing an applied tree
//! with its source — entry names and kinds, file bytes, symlink targets and hard-link counts.

use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::{self, File, Metadata};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// What a tree holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TreeStats {
    pub files: u64,
    pub dirs: u64,
    pub symlinks: u64,
    /// Bytes of regular-file data, each path counted (hard links count once per name).
    pub bytes: u64,
}

/// Counts `root` and reads every file once, so that timed runs start from a warm cache.
pub fn stats(root: &Path) -> Result<TreeStats> {
    let mut st = TreeStats::default();
    let mut buf = vec![0u8; 1 << 20];
    walk_stats(root, &mut st, &mut buf)?;
    Ok(st)
}

fn walk_stats(dir: &Path, st: &mut TreeStats, buf: &mut [u8]) -> Result<()> {
    for (name, md) in entries(dir)? {
        let p = dir.join(&name);
        let ft = md.file_type();
        if ft.is_symlink() {
            st.symlinks += 1;
        } else if ft.is_dir() {
            st.dirs += 1;
            walk_stats(&p, st, buf)?;
        } else if ft.is_file() {
            st.files += 1;
            st.bytes += md.len();
            let mut f = File::open(&p).with_context(|| format!("opening {}", p.display()))?;
            while f
                .read(buf)
                .with_context(|| format!("reading {}", p.display()))?
                > 0
            {}
        }
    }
    Ok(())
}

fn entries(dir: &Path) -> Result<BTreeMap<OsString, Metadata>> {
    let mut m = BTreeMap::new();
    for e in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let e = e.with_context(|| format!("listing {}", dir.display()))?;
        let md = fs::symlink_metadata(e.path())
            .with_context(|| format!("stat {}", e.path().display()))?;
        m.insert(e.file_name(), md);
    }
    Ok(m)
}

/// Differences between `want` (the source) and `got` (an applied copy), at most `limit` of them,
/// as human-readable lines. Empty means equal.
pub fn compare(want: &Path, got: &Path, limit: usize) -> Result<Vec<String>> {
    let mut diffs = Vec::new();
    compare_dir(want, got, Path::new(""), limit, &mut diffs)?;
    Ok(diffs)
}

fn compare_dir(
    want: &Path,
    got: &Path,
    rel: &Path,
    limit: usize,
    diffs: &mut Vec<String>,
) -> Result<()> {
    let a = entries(&want.join(rel))?;
    let b = entries(&got.join(rel))?;
    for name in b.keys().filter(|n| !a.contains_key(*n)) {
        push(
            diffs,
            limit,
            format!("{}: extra in the applied tree", rel.join(name).display()),
        );
    }
    for (name, ma) in &a {
        if diffs.len() >= limit {
            return Ok(());
        }
        let r = rel.join(name);
        let Some(mb) = b.get(name) else {
            push(
                diffs,
                limit,
                format!("{}: missing from the applied tree", r.display()),
            );
            continue;
        };
        let (ta, tb) = (ma.file_type(), mb.file_type());
        if ta.is_symlink() || tb.is_symlink() {
            if !(ta.is_symlink() && tb.is_symlink()) {
                push(
                    diffs,
                    limit,
                    format!("{}: symlink on one side only", r.display()),
                );
            } else {
                let (la, lb) = (fs::read_link(want.join(&r))?, fs::read_link(got.join(&r))?);
                if la != lb {
                    push(
                        diffs,
                        limit,
                        format!("{}: symlink target {la:?} became {lb:?}", r.display()),
                    );
                }
            }
        } else if ta.is_dir() || tb.is_dir() {
            if ta.is_dir() && tb.is_dir() {
                compare_dir(want, got, &r, limit, diffs)?;
            } else {
                push(
                    diffs,
                    limit,
                    format!("{}: directory on one side only", r.display()),
                );
            }
        } else if ma.len() != mb.len() {
            push(
                diffs,
                limit,
                format!("{}: {} bytes became {}", r.display(), ma.len(), mb.len()),
            );
        } else if ma.nlink() != mb.nlink() {
            push(
                diffs,
                limit,
                format!(
                    "{}: {} hard links became {}",
                    r.display(),
                    ma.nlink(),
                    mb.nlink()
                ),
            );
        } else if !same_bytes(&want.join(&r), &got.join(&r))? {
            push(diffs, limit, format!("{}: contents differ", r.display()));
        }
    }
    Ok(())
}

fn push(diffs: &mut Vec<String>, limit: usize, d: String) {
    if diffs.len() < limit {
        diffs.push(d);
    }
}

fn same_bytes(a: &Path, b: &Path) -> Result<bool> {
    let mut fa = File::open(a).with_context(|| format!("opening {}", a.display()))?;
    let mut fb = File::open(b).with_context(|| format!("opening {}", b.display()))?;
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let na = read_full(&mut fa, &mut ba).with_context(|| format!("reading {}", a.display()))?;
        let nb = read_full(&mut fb, &mut bb).with_context(|| format!("reading {}", b.display()))?;
        if na != nb || ba[..na] != bb[..nb] {
            return Ok(false);
        }
        if na == 0 {
            return Ok(true);
        }
    }
}

fn read_full(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("xtask-tree-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn finds_each_kind_of_difference() -> Result<()> {
        let a = scratch("a");
        let b = scratch("b");
        tsmedia_corpus::generate(&a, &tsmedia_corpus::Spec::small())?;
        tsmedia_corpus::generate(&b, &tsmedia_corpus::Spec::small())?;
        assert_eq!(compare(&a, &b, 10)?, Vec::<String>::new());
        let st = stats(&a)?;
        assert!(
            st.files > 100 && st.symlinks == 4 && st.bytes > 1 << 20,
            "{st:?}"
        );

        fs::write(b.join("special/empty0"), b"x")?;
        fs::remove_file(b.join("special/dangling-link"))?;
        std::os::unix::fs::symlink("elsewhere", b.join("special/dangling-link"))?;
        fs::remove_file(b.join("special/hardlink-b"))?;
        fs::copy(a.join("special/hardlink-a"), b.join("special/hardlink-b"))?;
        fs::write(b.join("extra"), b"")?;
        let mut f = fs::OpenOptions::new()
            .write(true)
            .open(b.join("special/unicode ünïcödé 日本語.txt"))?;
        std::io::Write::write_all(&mut f, "名X".as_bytes())?;
        drop(f);
        let d = compare(&a, &b, 10)?.join("\n");
        for want in [
            "empty0: 0 bytes became 1",
            "dangling-link: symlink target",
            "hardlink-b: 3 hard links became 1",
            "extra: extra",
            "contents differ",
        ] {
            assert!(d.contains(want), "{want:?} not in\n{d}");
        }
        fs::remove_dir_all(&a)?;
        fs::remove_dir_all(&b)?;
        Ok(())
    }
}
