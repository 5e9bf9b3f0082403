//! Capturing a Linux directory tree into an image.
//!
//! Regular files, directories, symlinks (as IO_REPARSE_TAG_SYMLINK reparse points), hard links
//! (one hard link group per inode with several links), timestamps at 100 ns, the read-only
//! attribute (no write bit), and with `unix_data` the owner, group, mode and device of every
//! entry in wimlib's UNIX data tagged item. Files whose size no other file shares are hashed
//! while they are compressed (read once); files of a shared size are hashed first so that
//! duplicates are stored once without being compressed twice.

use crate::capture_config::{CaptureConfig, Verdict};
use crate::dentry::{Dentry, IO_REPARSE_TAG_SYMLINK, UnixData, attr};
use crate::error::{Error, IoContext, Result};
use crate::metadata::Image;
use crate::reparse;
use crate::security::SecurityData;
use crate::sha1::{Hasher, Sha1};
use crate::time::unix_to_filetime;
use crate::write::WimWriter;
use crate::xml::Element;
use std::collections::HashMap;
use std::fs::{self, File, Metadata};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// How an image is captured.
#[derive(Clone, Debug, Default)]
pub struct CaptureOptions {
    /// Image name. Default: the source directory's name.
    pub name: Option<String>,
    /// Image description. Default: none.
    pub description: Option<String>,
    /// Store UNIX owner, group and mode (wimlib's `--unix-data`). Default: no.
    pub unix_data: bool,
    /// Paths left out. Default: none (the CLI passes wimlib's default exclusions).
    pub config: Option<CaptureConfig>,
    /// Reparse point fixups (wimlib's `--rpfix`): absolute symlinks into the captured tree are
    /// stored relative to the image root and the WIM header gets RP_FIX. Default: no (the CLI
    /// turns it on for `capture`, as wimlib).
    pub rpfix: bool,
}

/// What a capture did, and what it could not store.
#[derive(Clone, Debug, Default)]
pub struct CaptureReport {
    /// Directories captured, the root included.
    pub dirs: u64,
    /// Regular files and symlinks captured.
    pub files: u64,
    /// Bytes of file data read.
    pub bytes: u64,
    /// What could not be stored (sockets, FIFOs, ...).
    pub warnings: Vec<String>,
}

/// A scanned entry waiting for its data to be written.
struct Scanned {
    dentry: Dentry,
    path: PathBuf,
    size: u64,
    /// For several links to one inode: the group they share.
    inode: Option<(u64, u64)>,
    /// Reparse data of a symlink.
    reparse: Option<Vec<u8>>,
    children: Vec<Scanned>,
}

/// Captures `src` as a new image of `writer`.
pub fn capture(src: &Path, writer: &mut WimWriter, opts: &CaptureOptions) -> Result<CaptureReport> {
    let meta = fs::metadata(src).at(src)?;
    if !meta.is_dir() {
        return Err(Error::Source {
            path: src.to_path_buf(),
            reason: "is not a directory".into(),
        });
    }
    let rpfix = opts.rpfix.then(|| (meta.dev(), meta.ino()));
    let (root, report) =
        capture_tree_fixing(src, writer, opts.unix_data, opts.config.as_ref(), rpfix)?;
    if rpfix.is_some() {
        writer.header.flags |= crate::header::flags::RP_FIX;
    }
    let mut xml = Element::new("IMAGE");
    let default_name = src
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "image".into());
    xml.children.push(Element::with_text(
        "NAME",
        opts.name.clone().unwrap_or(default_name),
    ));
    if let Some(d) = &opts.description {
        xml.children
            .push(Element::with_text("DESCRIPTION", d.clone()));
    }
    let image = Image {
        security: SecurityData::default(),
        root,
    };
    writer.add_image(&image, xml)?;
    Ok(report)
}

/// Scans `src` (a directory, file or symlink) and writes its data; returns its dentry (named
/// after `src`'s file name; the caller renames or clears it).
pub fn capture_tree(
    src: &Path,
    writer: &mut WimWriter,
    unix_data: bool,
) -> Result<(Dentry, CaptureReport)> {
    capture_tree_with(src, writer, unix_data, None)
}

/// [`capture_tree`], leaving out what `config` excludes (paths from `src`).
pub fn capture_tree_with(
    src: &Path,
    writer: &mut WimWriter,
    unix_data: bool,
    config: Option<&CaptureConfig>,
) -> Result<(Dentry, CaptureReport)> {
    capture_tree_fixing(src, writer, unix_data, config, None)
}

/// [`capture_tree_with`], with absolute symlinks into the tree whose root directory is the inode
/// `rpfix` (dev, ino) stored relative to the image root.
pub(crate) fn capture_tree_fixing(
    src: &Path,
    writer: &mut WimWriter,
    unix_data: bool,
    config: Option<&CaptureConfig>,
    rpfix: Option<(u64, u64)>,
) -> Result<(Dentry, CaptureReport)> {
    let mut report = CaptureReport::default();
    let mut scanner = Scanner {
        rpfix,
        unix_data,
        report: &mut report,
        links: HashMap::new(),
        config,
        rel: String::new(),
        parent_excluded: false,
    };
    let meta = fs::symlink_metadata(src).at(src)?;
    let name = src
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    let mut root = scanner
        .scan(src, &name, &meta)?
        .ok_or_else(|| Error::Source {
            path: src.to_path_buf(),
            reason: "cannot be captured".into(),
        })?;
    if root.path == src && meta.is_dir() {
        root.dentry.name.clear();
    }
    // Sizes shared by several inodes (or by a blob already in the WIM) are hashed up front.
    let mut by_size: HashMap<u64, u32> = HashMap::new();
    count_sizes(&root, &mut by_size, &mut std::collections::HashSet::new());
    writer.progress().begin(
        "capture",
        Some(by_size.iter().map(|(size, n)| size * u64::from(*n)).sum()),
    );
    let mut written: HashMap<(u64, u64), Sha1> = HashMap::new();
    let mut prewritten: HashMap<PathBuf, Sha1> = HashMap::new();
    if writer.is_solid() {
        let mut w = Written {
            by_inode: &mut written,
            by_path: &mut prewritten,
        };
        write_solid_order(&root, writer, &by_size, &mut w, &mut report)?;
    }
    let dentry = write_data(
        root,
        writer,
        &by_size,
        &mut Written {
            by_inode: &mut written,
            by_path: &mut prewritten,
        },
        &mut report,
    )?;
    Ok((dentry, report))
}

fn count_sizes(
    s: &Scanned,
    by_size: &mut HashMap<u64, u32>,
    seen: &mut std::collections::HashSet<(u64, u64)>,
) {
    if s.size > 0
        && s.dentry.attributes & (attr::DIRECTORY | attr::REPARSE_POINT) == 0
        && s.inode.is_none_or(|i| seen.insert(i))
    {
        *by_size.entry(s.size).or_insert(0) += 1;
    }
    for c in &s.children {
        count_sizes(c, by_size, seen);
    }
}

/// Blobs stored already: by inode (several links), and by path (written in solid order first).
struct Written<'a> {
    by_inode: &'a mut HashMap<(u64, u64), Sha1>,
    by_path: &'a mut HashMap<PathBuf, Sha1>,
}

/// Whether a scanned entry is a file with data of its own.
fn has_data(s: &Scanned) -> bool {
    s.size > 0 && !s.dentry.is_dir() && !s.dentry.is_reparse_point()
}

/// For solid resources: writes every blob of the tree first, in wimlib's solid order
/// ([`crate::solid_order`]): reparse data (no file name) in tree order, then the files sorted
/// by extension and name, each inode under its shortest link name.
fn write_solid_order(
    root: &Scanned,
    writer: &mut WimWriter,
    by_size: &HashMap<u64, u32>,
    written: &mut Written<'_>,
    report: &mut CaptureReport,
) -> Result<()> {
    fn collect<'s>(
        s: &'s Scanned,
        reparse: &mut Vec<&'s Scanned>,
        files: &mut Vec<(&'s [u16], &'s Scanned)>,
        groups: &mut HashMap<(u64, u64), usize>,
    ) {
        if s.reparse.is_some() {
            reparse.push(s);
        }
        if has_data(s) {
            let name = &s.dentry.name[..];
            match s.inode.map(|i| (i, groups.get(&i).copied())) {
                Some((_, Some(k))) => {
                    if name.len() < files[k].0.len() {
                        files[k].0 = name;
                    }
                }
                Some((i, None)) => {
                    groups.insert(i, files.len());
                    files.push((name, s));
                }
                None => files.push((name, s)),
            }
        }
        for c in &s.children {
            collect(c, reparse, files, groups);
        }
    }
    let (mut reparse, mut files) = (Vec::new(), Vec::new());
    collect(root, &mut reparse, &mut files, &mut HashMap::new());
    let total: u64 = reparse
        .iter()
        .map(|s| s.reparse.as_ref().map_or(0, |d| d.len() as u64))
        .chain(files.iter().map(|(_, s)| s.size))
        .sum();
    writer.expect_solid(total);
    for s in reparse.drain(..) {
        let data = s.reparse.as_deref().unwrap_or_default();
        writer.write_blob(
            &mut &data[..],
            data.len() as u64,
            Some(s.dentry.reparse_data),
            &s.path,
        )?;
    }
    if writer.solid_sort() {
        crate::solid_order::sort_by_name(&mut files, |f| Some(f.0));
    }
    for (_, s) in files {
        let h = store_file(&s.path, s.size, writer, by_size, report)?;
        written.by_path.insert(s.path.clone(), h);
        if let Some(i) = s.inode {
            written.by_inode.insert(i, h);
        }
    }
    Ok(())
}

/// Stores a file's data (hashed first when its size is shared, so that a duplicate is not
/// compressed again); returns its SHA-1.
fn store_file(
    path: &Path,
    size: u64,
    writer: &mut WimWriter,
    by_size: &HashMap<u64, u32>,
    report: &mut CaptureReport,
) -> Result<Sha1> {
    let shared = by_size.get(&size).copied().unwrap_or(0) > 1 || writer.has_size(size);
    let pre = if shared {
        Some(hash_file(path, size)?)
    } else {
        None
    };
    if let Some(h) = pre.filter(|h| writer.has_blob(h)) {
        return Ok(h);
    }
    let mut f = File::open(path).at(path)?;
    report.bytes += size;
    writer.write_blob(&mut f, size, pre, path)
}

fn write_data(
    s: Scanned,
    writer: &mut WimWriter,
    by_size: &HashMap<u64, u32>,
    written: &mut Written<'_>,
    report: &mut CaptureReport,
) -> Result<Dentry> {
    let Scanned {
        mut dentry,
        path,
        size,
        inode,
        reparse,
        children,
    } = s;
    if let Some(data) = reparse {
        writer.write_blob(
            &mut &data[..],
            data.len() as u64,
            Some(dentry.reparse_data),
            &path,
        )?;
    }
    if dentry.is_dir() && !dentry.is_reparse_point() {
        report.dirs += 1;
    } else {
        report.files += 1;
    }
    if size > 0 && !dentry.is_dir() && !dentry.is_reparse_point() {
        if let Some(h) = inode.and_then(|i| written.by_inode.get(&i)) {
            dentry.data = *h; // another link to an inode already stored
        } else if let Some(h) = written.by_path.get(&path) {
            dentry.data = *h; // written in solid order
        } else {
            let h = store_file(&path, size, writer, by_size, report)?;
            dentry.data = h;
            if let Some(i) = inode {
                written.by_inode.insert(i, h);
            }
        }
    }
    for c in children {
        let d = write_data(c, writer, by_size, written, report)?;
        dentry.children.push(d);
    }
    dentry.sort_children();
    Ok(dentry)
}

fn hash_file(path: &Path, size: u64) -> Result<Sha1> {
    let mut f = File::open(path).at(path)?;
    let mut h = Hasher::default();
    let mut buf = vec![0u8; (1 << 20).min(size as usize).max(1)];
    let mut n_total = 0u64;
    loop {
        let n = f.read(&mut buf).at(path)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        n_total += n as u64;
    }
    if n_total != size {
        return Err(Error::Source {
            path: path.to_path_buf(),
            reason: format!(
                "is {n_total} bytes but was {size} when listed (changed while being read?)"
            ),
        });
    }
    Ok(h.finish())
}

struct Scanner<'a> {
    unix_data: bool,
    /// The capture root (dev, ino) when absolute symlinks into it are fixed up.
    rpfix: Option<(u64, u64)>,
    /// Exclusions, matched against `rel`.
    config: Option<&'a CaptureConfig>,
    /// The path of the directory being scanned, from the captured root (`""` for the root).
    rel: String,
    /// The directory being scanned was excluded and is kept only for exceptions inside it.
    parent_excluded: bool,
    report: &'a mut CaptureReport,
    /// (dev, ino) → hard link group id, for inodes with several links.
    links: HashMap<(u64, u64), u64>,
}

impl Scanner<'_> {
    fn scan(
        &mut self,
        path: &Path,
        name: &std::ffi::OsStr,
        meta: &Metadata,
    ) -> Result<Option<Scanned>> {
        let name = name.to_str().ok_or_else(|| Error::Source {
            path: path.to_path_buf(),
            reason: "name is not valid UTF-8 and cannot be stored in a WIM".into(),
        })?;
        let mut d = Dentry {
            name: name.encode_utf16().collect(),
            security_id: -1,
            creation_time: unix_to_filetime(meta.mtime(), meta.mtime_nsec() as u32),
            last_access_time: unix_to_filetime(meta.atime(), meta.atime_nsec() as u32),
            last_write_time: unix_to_filetime(meta.mtime(), meta.mtime_nsec() as u32),
            ..Dentry::default()
        };
        if self.unix_data {
            d.unix = Some(UnixData {
                uid: meta.uid(),
                gid: meta.gid(),
                mode: meta.mode(),
                rdev: meta.rdev() as u32,
            });
        }
        let ft = meta.file_type();
        let mut size = 0;
        let mut inode = None;
        let mut children = Vec::new();
        if ft.is_dir() {
            d.attributes = attr::DIRECTORY;
            let mut entries: Vec<_> = fs::read_dir(path)
                .at(path)?
                .collect::<std::io::Result<_>>()
                .at(path)?;
            entries.sort_by_key(|e| e.file_name());
            for e in entries {
                let p = e.path();
                let m = fs::symlink_metadata(&p).at(&p)?;
                let fname = e.file_name();
                let saved_len = self.rel.len();
                let saved_excluded = self.parent_excluded;
                self.rel.push('/');
                self.rel.push_str(&fname.to_string_lossy());
                let verdict = match self.config {
                    Some(c) => c.verdict(&self.rel, m.is_dir(), saved_excluded),
                    None => Verdict::Keep,
                };
                let child = match verdict {
                    Verdict::Skip => None,
                    v => {
                        self.parent_excluded = v == Verdict::KeepForExceptions;
                        self.scan(&p, &fname, &m)
                            .inspect_err(|_| self.rel.truncate(saved_len))?
                    }
                };
                self.rel.truncate(saved_len);
                self.parent_excluded = saved_excluded;
                if let Some(c) = child {
                    children.push(c);
                }
            }
        } else if ft.is_symlink() {
            let target = fs::read_link(path).at(path)?;
            let target = target.to_str().ok_or_else(|| Error::Source {
                path: path.to_path_buf(),
                reason: "symlink target is not valid UTF-8".into(),
            })?;
            d.attributes = attr::REPARSE_POINT;
            d.reparse_tag = IO_REPARSE_TAG_SYMLINK;
            d.rp_flags = reparse::RP_NOT_FIXED;
            let fixed = self
                .rpfix
                .and_then(|root| reparse::relativize(target, root));
            if fixed.is_some() {
                d.rp_flags = 0;
            }
            // Windows needs to know whether a link names a directory, as wimlib records it.
            if fs::metadata(path).is_ok_and(|m| m.is_dir()) {
                d.attributes |= attr::DIRECTORY;
            }
            let data = reparse::symlink_data(fixed.as_deref().unwrap_or(target));
            d.reparse_data = Sha1::of(&data);
            return Ok(Some(Scanned {
                dentry: d,
                path: path.to_path_buf(),
                size: 0,
                inode: None,
                reparse: Some(data),
                children,
            }));
        } else if ft.is_file() {
            d.attributes = if meta.mode() & 0o222 == 0 {
                attr::READONLY
            } else {
                attr::NORMAL
            };
            size = meta.len();
            if meta.nlink() > 1 {
                let key = (meta.dev(), meta.ino());
                let next = self.links.len() as u64 + 1;
                d.hard_link_group = *self.links.entry(key).or_insert(next);
                inode = Some(key);
            }
        } else if self.unix_data
            && (ft.is_fifo() || ft.is_socket() || ft.is_block_device() || ft.is_char_device())
        {
            d.attributes = attr::NORMAL; // an empty file whose UNIX data says what it is
        } else {
            self.report.warnings.push(format!(
                "{}: special file skipped (use --unix-data to keep it)",
                path.display()
            ));
            return Ok(None);
        }
        Ok(Some(Scanned {
            dentry: d,
            path: path.to_path_buf(),
            size,
            inode,
            reparse: None,
            children,
        }))
    }
}
