//! Whole-tree operations on an existing volume: lookup by path (case-insensitive, as FAT
//! compares names), a walk that refuses directory cycles, and extraction into a host folder
//! that refuses names which could escape it and never follows or replaces symlinks.

use std::collections::HashSet;
use std::fs::{self, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use super::name::fold;
use super::read::FatVolume;
use super::read_dir::DirEntry;
use super::read_error::{ReadError, ReadResult};

/// Deepest directory nesting followed (Windows paths stop far earlier).
pub const MAX_DEPTH: usize = 128;

/// How [`FatVolume::extract`] writes into the host folder.
#[derive(Clone, Copy, Default)]
pub struct ExtractOptions<'a> {
    /// Replace existing regular files and reuse existing folders (never symlinks).
    /// Default: refuse anything that exists, except the destination folder itself.
    pub overwrite: bool,
    /// Told the bytes of each file once it is written. Default: none.
    pub progress: Option<&'a dyn tsmedia_base::Progress>,
}

impl std::fmt::Debug for ExtractOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExtractOptions")
            .field("overwrite", &self.overwrite)
            .finish()
    }
}

/// What an extraction wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExtractReport {
    pub files: u64,
    pub dirs: u64,
    pub bytes: u64,
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}/{name}")
    }
}

/// Why `name` cannot become a host file name, if it cannot (the rules of
/// [`tsmedia_base::safe_path`]).
fn unsafe_name(name: &str) -> Option<&'static str> {
    tsmedia_base::safe_path::check_name(name)
        .err()
        .map(|e| e.reason())
}

impl<R: Read + Seek> FatVolume<R> {
    /// The entry at `path` (`/`-separated, case-insensitive; `""` or `"/"` is the root).
    pub fn find(&mut self, path: &str) -> ReadResult<Option<DirEntry>> {
        let mut current = DirEntry::root();
        let mut walked = String::new();
        for part in path.split(['/', '\\']).filter(|p| !p.is_empty()) {
            if !current.is_dir() {
                return Ok(None);
            }
            let key = fold(part);
            let entries = self.list(&current, &walked)?.entries;
            let Some(next) = entries
                .into_iter()
                .find(|e| fold(&e.name) == key || e.short_name.eq_ignore_ascii_case(part))
            else {
                return Ok(None);
            };
            walked = join(&walked, &next.name);
            current = next;
        }
        Ok(Some(current))
    }

    /// Every entry below the directory at `under` (`""` for the whole volume): paths relative
    /// to `under`, `/`-separated, each directory before its contents. Names are given as
    /// stored; [`FatVolume::extract`] checks them.
    pub fn walk(&mut self, under: &str) -> ReadResult<Vec<(String, DirEntry)>> {
        let start = self
            .find(under)?
            .ok_or_else(|| ReadError::NotFound { path: under.into() })?;
        if !start.is_dir() {
            return Err(ReadError::WrongKind {
                path: under.into(),
                expected: "a directory",
                actual: "a file",
            });
        }
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        seen.insert(self.dir_key(&start));
        // Depth-first with an explicit stack: (path, entry, depth).
        let mut stack = vec![(String::new(), start, 0usize)];
        while let Some((path, dir, depth)) = stack.pop() {
            let shown = join(under.trim_matches('/'), &path);
            let entries = self.list(&dir, &shown)?.entries;
            let mut subdirs = Vec::new();
            for e in entries {
                let p = join(&path, &e.name);
                if e.is_dir() {
                    let key = self.dir_key(&e);
                    if !seen.insert(key) {
                        return Err(ReadError::DirectoryCycle {
                            path: join(under.trim_matches('/'), &p),
                            cluster: key,
                        });
                    }
                    if depth + 1 > MAX_DEPTH {
                        return Err(ReadError::TooDeep {
                            path: p,
                            max: MAX_DEPTH,
                        });
                    }
                    subdirs.push((p.clone(), e.clone(), depth + 1));
                }
                out.push((p, e));
            }
            // Reverse so that directories are walked in stored order.
            stack.extend(subdirs.into_iter().rev());
        }
        Ok(out)
    }

    /// Where a directory's entries start (0 = FAT12/16 fixed root).
    fn dir_key(&self, dir: &DirEntry) -> u32 {
        match dir.first_cluster {
            0 => self.bpb.root_cluster,
            c => c,
        }
    }

    /// Extracts the file or directory at `under` (`""` for the whole volume) into `dest`
    /// (created if missing): a directory's contents go directly into `dest`, a file becomes
    /// `dest/<name>`. Names that are empty, `.`/`..` or hold a separator or NUL are refused
    /// before anything is written.
    pub fn extract(
        &mut self,
        under: &str,
        dest: &Path,
        options: &ExtractOptions<'_>,
    ) -> ReadResult<ExtractReport> {
        let host = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ReadError::Host { path, source }
        };
        let top = self
            .find(under)?
            .ok_or_else(|| ReadError::NotFound { path: under.into() })?;
        let items = if top.is_dir() {
            self.walk(under)?
        } else {
            vec![(top.name.clone(), top)]
        };
        // Each item's own name (its parents are items too, checked before it).
        for (path, e) in &items {
            if let Some(reason) = unsafe_name(&e.name) {
                return Err(ReadError::UnsafeName {
                    path: path.clone(),
                    name: e.name.clone(),
                    reason,
                });
            }
        }
        fs::create_dir_all(dest).map_err(host(dest))?;
        let mut report = ExtractReport::default();
        let mut buf = vec![0u8; 1 << 20];
        for (path, e) in items {
            let target: PathBuf = path.split('/').fold(dest.to_path_buf(), |p, n| p.join(n));
            let existing = fs::symlink_metadata(&target).ok();
            if e.is_dir() {
                match existing {
                    Some(m) if options.overwrite && m.is_dir() => {}
                    Some(_) => {
                        return Err(host(&target)(std::io::ErrorKind::AlreadyExists.into()));
                    }
                    None => fs::create_dir(&target).map_err(host(&target))?,
                }
                report.dirs += 1;
                continue;
            }
            match existing {
                Some(m) if options.overwrite && m.is_file() => {
                    fs::remove_file(&target).map_err(host(&target))?;
                }
                Some(_) => return Err(host(&target)(std::io::ErrorKind::AlreadyExists.into())),
                None => {}
            }
            let file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&target)
                .map_err(host(&target))?;
            let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
            let shown = join(under.trim_matches('/'), &path);
            let mut reader = self.open_file(&e, &shown)?;
            let before = report.bytes;
            loop {
                let n = reader.read_some(&mut buf)?;
                if n == 0 {
                    break;
                }
                out.write_all(&buf[..n]).map_err(host(&target))?;
                report.bytes += n as u64;
            }
            out.flush().map_err(host(&target))?;
            report.files += 1;
            if let Some(p) = options.progress {
                p.advance(report.bytes - before);
            }
        }
        Ok(report)
    }
}
