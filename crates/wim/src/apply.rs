//! Applying (extracting) an image to a Linux directory.
//!
//! Safety first: the whole tree is checked before anything is written — names that are empty,
//! `.`, `..`, or contain `/`, `\` or NUL are refused, as are missing blobs — and files are
//! created with `O_NOFOLLOW | O_EXCL` inside directories this function created or checked, with
//! symlinks made last, so nothing in the image can redirect a write outside the target.
//!
//! With an [`ApplyBackend`] in [`ApplyOptions::backend`] the same walk writes a Windows file
//! system mounted at the target, with named streams, reparse points, short names, security
//! descriptors and attributes ([`crate::apply_backend`]).

use crate::apply_backend::{self, ApplyBackend, ApplyEntry};
use crate::dentry::{Dentry, attr};
use crate::error::{Error, IoContext, MetadataFault, Result};
use crate::metadata::Image;
use crate::read::Wim;
use crate::read::stream::{Piece, StreamOptions, stream_blobs_with};
use crate::reparse;
use crate::sha1::Sha1;
use crate::time::filetime_to_unix;
use crate::write::{Cancel, NoProgress, Progress};
use filetime::FileTime;
use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How an image is applied.
#[derive(Clone)]
pub struct ApplyOptions {
    /// Set to stop between files with [`Error::Cancelled`]. Default: never.
    pub cancel: Cancel,
    /// Receives bytes written. Default: none.
    pub progress: Arc<dyn Progress>,
    /// Threads decompressing ahead of the writes. Default: one per core.
    pub threads: usize,
    /// Where the Windows metadata goes (e.g. an NTFS volume mounted at the target). Default:
    /// none, the target is a Linux directory.
    pub backend: Option<Arc<dyn ApplyBackend>>,
    /// Reparse point fixups (wimlib's `--rpfix`/`--norpfix`): absolute symlinks captured
    /// relative to the image root (rp_flags without NOT_FIXED) are made to point into the
    /// target. Default (`None`): when applying a whole image of a WIM whose header has the
    /// RP_FIX flag, as wimlib.
    pub rpfix: Option<bool>,
    /// wimlib's `--recover-data`: a file whose data does not decompress or whose SHA-1 differs
    /// is written anyway (undecodable chunks as zeros) with a warning. Default: no, such a file
    /// stops the apply.
    pub recover_data: bool,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            cancel: Cancel::default(),
            progress: Arc::new(NoProgress),
            threads: StreamOptions::default().threads,
            backend: None,
            rpfix: None,
            recover_data: false,
        }
    }
}

/// What an apply did and what it could not represent on Linux.
#[derive(Clone, Debug, Default)]
pub struct ApplyReport {
    /// Directories created, the target included.
    pub dirs: u64,
    /// Regular files written, hard links included.
    pub files: u64,
    /// Symbolic links made.
    pub symlinks: u64,
    /// Bytes of file data written.
    pub bytes: u64,
    /// What Linux cannot represent (security descriptors, named streams, ...).
    pub warnings: Vec<String>,
}

/// One dentry flattened with its target path.
struct Entry<'a> {
    d: &'a Dentry,
    path: PathBuf,
    /// Path inside the image, for messages.
    shown: String,
}

/// Applies image `image` (1-based) of `wim` to `target`.
pub fn apply(wim: &Wim, image: u32, target: &Path, opts: &ApplyOptions) -> Result<ApplyReport> {
    wim.check_parts()?;
    let data = wim.read_metadata_resource(image)?;
    let img = Image::parse(&data, image)?;
    let mut opts = opts.clone();
    let fixed = wim.header.flags & crate::header::flags::RP_FIX != 0;
    opts.rpfix = Some(opts.rpfix.unwrap_or(fixed));
    apply_image(wim, &img, image, target, &opts, false)
}

/// Applies `img` to `target`; `target`'s own times, mode and owner are left alone when
/// `keep_target` (an extract of some paths into a directory that is not the image's root).
pub(crate) fn apply_image(
    wim: &Wim,
    img: &Image,
    image: u32,
    target: &Path,
    opts: &ApplyOptions,
    keep_target: bool,
) -> Result<ApplyReport> {
    // 1. Check everything before writing a byte.
    let mut entries: Vec<Entry> = Vec::new();
    let mut problem: Option<Error> = None;
    img.root.walk(&mut |stack, d| {
        if problem.is_some() {
            return;
        }
        let mut path = target.to_path_buf();
        let mut shown = String::new();
        for p in stack
            .iter()
            .skip(1)
            .copied()
            .chain(std::iter::once(d).filter(|_| !stack.is_empty()))
        {
            match safe_name(&p.name) {
                Ok(n) => {
                    path.push(&n);
                    shown.push('/');
                    shown.push_str(&n);
                }
                Err(reason) => {
                    problem = Some(Error::Unsafe {
                        path: format!("image {image}: {shown}/{}", p.name_lossy()),
                        reason: reason.into(),
                    });
                    return;
                }
            }
        }
        if shown.is_empty() {
            shown.push('/');
        }
        entries.push(Entry { d, path, shown });
    });
    if let Some(p) = problem {
        return Err(p);
    }
    let backend = opts.backend.as_deref();
    let streams = match backend {
        Some(b) => stream_entries(b, &entries, image)?,
        None => Vec::new(),
    };
    // With a backend, reparse points are made as plain directories and files first.
    let plain = |d: &Dentry| backend.is_some() || !d.is_reparse_point();
    for e in &entries {
        for h in e.d.blobs() {
            if !wim.blobs.contains_key(&h) {
                return Err(Error::MissingBlob {
                    sha1: h,
                    user: Some(format!("needed by {}", e.shown)),
                });
            }
        }
    }
    let mut report = ApplyReport::default();
    let mut windows_only = WindowsOnly::default();
    for e in &entries {
        windows_only.note(e.d, img.security.descriptors.len());
    }
    // Saturating: sizes come from the blob table, which a hostile WIM fills with what it likes.
    let total = entries
        .iter()
        .filter(|e| plain(e.d))
        .fold(0u64, |t, e| t.saturating_add(size_of(wim, &e.d.data)));
    let total = streams
        .iter()
        .fold(total, |t, (_, h)| t.saturating_add(size_of(wim, h)));
    opts.progress.begin("apply", Some(total));

    // 2. Directories.
    match fs::symlink_metadata(target) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(Error::Unsafe {
                path: target.display().to_string(),
                reason: "exists and is not a directory".into(),
            });
        }
        Err(_) => fs::create_dir_all(target).at(target)?,
    }
    for e in entries
        .iter()
        .skip(1)
        .filter(|e| e.d.is_dir() && plain(e.d))
    {
        match fs::symlink_metadata(&e.path) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(Error::Unsafe {
                    path: e.path.display().to_string(),
                    reason: "already exists in the target and is not a directory".into(),
                });
            }
            Err(_) => fs::create_dir(&e.path).at(&e.path)?,
        }
        report.dirs += 1;
    }
    report.dirs += 1; // the root

    // 3. Files, grouped by blob and read in file order; hard links made with link().
    let files: Vec<&Entry> = entries
        .iter()
        .filter(|e| !e.d.is_dir() && plain(e.d))
        .collect();
    let mut first_link: HashMap<u64, &Path> = HashMap::new();
    let mut by_blob: HashMap<Sha1, Vec<&Entry>> = HashMap::new();
    let mut links: Vec<(&Entry, &Path)> = Vec::new();
    for e in &files {
        if e.d.hard_link_group != 0 {
            if let Some(p) = first_link.get(&e.d.hard_link_group) {
                links.push((e, p));
                continue;
            }
            first_link.insert(e.d.hard_link_group, &e.path);
        }
        by_blob.entry(e.d.data).or_default().push(e);
    }
    if !streams.is_empty() {
        // A named stream `file:stream` needs its file: make every file before any data, and
        // then open instead of re-creating (re-creating would drop streams already written).
        for e in by_blob.values().flatten() {
            create_file(&e.path)?;
        }
    }
    let open_out = |p: &Path| {
        if streams.is_empty() {
            create_file(p)
        } else {
            open_data(p)
        }
    };
    for (e, h) in &streams {
        by_blob.entry(*h).or_default().push(e);
    }
    let mut blobs: Vec<(Sha1, Vec<&Entry>)> = by_blob.into_iter().collect();
    blobs.sort_by_key(|(h, v)| {
        let loc = wim.blobs.get(h);
        (
            loc.map(|l| (l.part, l.entry.resource.offset))
                .unwrap_or((0, 0)),
            v[0].path.clone(),
        )
    });
    // Blobs of size 0 (zero hash) need no reading; the others stream in file order while worker
    // threads decompress ahead.
    let mut streamed: Vec<(Sha1, &Vec<&Entry>)> = Vec::with_capacity(blobs.len());
    for (h, targets) in &blobs {
        if h.is_zero() {
            check_cancel(opts)?;
            for t in targets {
                open_out(&t.path)?;
            }
            report.files += targets.len() as u64;
        } else {
            streamed.push((*h, targets));
        }
    }
    let hashes: Vec<Sha1> = streamed.iter().map(|(h, _)| *h).collect();
    let mut outs: Vec<(File, &Path)> = Vec::new();
    let mut open: Option<usize> = None;
    let stream_opts = StreamOptions {
        threads: opts.threads.max(1),
        ..StreamOptions::default()
    };
    let mut corrupt = Vec::new();
    let recover = opts.recover_data.then_some(&mut corrupt);
    stream_blobs_with(wim, &hashes, stream_opts, recover, |i, piece| {
        let targets = streamed[i].1;
        if open != Some(i) {
            check_cancel(opts)?;
            outs.clear();
            for t in targets {
                outs.push((open_out(&t.path)?, &t.path));
            }
            open = Some(i);
        }
        match piece {
            Piece::Data(s) => {
                for (f, p) in outs.iter_mut() {
                    f.write_all(s).at(*p)?;
                }
                let n = s.len() as u64 * outs.len() as u64;
                opts.progress.advance(n);
                report.bytes += n;
            }
            Piece::End => {
                outs.clear();
                report.files += targets.len() as u64;
            }
        }
        Ok(())
    })
    .map_err(|e| match e.blob {
        Some(i) => with_path(e.error, &streamed[i].1[0].shown),
        None => e.error,
    })?;
    for i in corrupt {
        report.warnings.push(format!(
            "{}: corrupt data (does not decompress or its SHA-1 differs), written anyway \
             (--recover-data)",
            streamed[i].1[0].shown
        ));
    }
    for (e, first) in &links {
        fs::hard_link(first, &e.path).at(&e.path)?;
        report.files += 1;
    }

    if let Some(b) = backend {
        windows_metadata(wim, img, image, b, &entries, keep_target, &mut report)?;
        windows_only = WindowsOnly {
            tagged: windows_only.tagged,
            ..WindowsOnly::default()
        };
        if let Some(w) = windows_only.summary() {
            report.warnings.push(format!("{w} ({})", b.describe()));
        }
        return Ok(report);
    }

    // 4. Symlinks and other reparse points.
    let rpfix_root = match opts.rpfix {
        Some(true) => Some(fs::canonicalize(target).at(target)?),
        _ => None,
    };
    for e in entries.iter().filter(|e| e.d.is_reparse_point()) {
        if !e.d.is_symlink() {
            windows_only.other_reparse += 1;
            continue;
        }
        let data = if e.d.reparse_data.is_zero() {
            Vec::new()
        } else {
            wim.open_blob(&e.d.reparse_data, true)?.read_all()?
        };
        let target = match &rpfix_root {
            Some(root) => reparse::symlink_target_under(&data, e.d.rp_flags, root),
            None => reparse::symlink_target(&data),
        };
        let target = target.map_err(|r| Error::BadMetadata {
            image,
            offset: 0,
            reason: MetadataFault::SymlinkData {
                path: e.shown.to_string(),
                reason: r,
            },
        })?;
        if fs::symlink_metadata(&e.path).is_ok() {
            return Err(Error::Unsafe {
                path: e.path.display().to_string(),
                reason: "already exists in the target".into(),
            });
        }
        std::os::unix::fs::symlink(&target, &e.path).at(&e.path)?;
        report.symlinks += 1;
    }

    // 5. Times, modes and owners: files and links first, then directories deepest first.
    let is_root = effective_uid() == 0;
    for e in entries
        .iter()
        .filter(|e| !e.d.is_dir() || e.d.is_reparse_point())
    {
        set_metadata(e, is_root)?;
    }
    for e in entries
        .iter()
        .skip(usize::from(keep_target))
        .filter(|e| e.d.is_dir() && !e.d.is_reparse_point())
        .rev()
    {
        set_metadata(e, is_root)?;
    }
    if let Some(w) = windows_only.summary() {
        report.warnings.push(w);
    }
    Ok(report)
}

/// The named data streams of `entries` as entries at the paths `backend` gives them, with
/// their blobs; a file's hard links share its streams, so only its first link has them.
fn stream_entries<'a>(
    backend: &dyn ApplyBackend,
    entries: &[Entry<'a>],
    image: u32,
) -> Result<Vec<(Entry<'a>, Sha1)>> {
    let mut out = Vec::new();
    let mut seen_links = std::collections::HashSet::new();
    for e in entries {
        if e.d.hard_link_group != 0 && !seen_links.insert(e.d.hard_link_group) {
            continue;
        }
        for (name, h) in e.d.named_streams.iter().filter(|(n, _)| !n.is_empty()) {
            let name = apply_backend::stream_name(name).map_err(|reason| Error::Unsafe {
                path: format!(
                    "image {image}: {}:{}",
                    e.shown,
                    String::from_utf16_lossy(name)
                ),
                reason: reason.into(),
            })?;
            let entry = Entry {
                d: e.d,
                path: backend.stream_path(&e.path, &name),
                shown: format!("{}:{name}", e.shown),
            };
            out.push((entry, *h));
        }
    }
    Ok(out)
}

/// Steps 2 to 4 of [`crate::apply_backend`]: reparse data, short names, then security
/// descriptors, attributes and times.
fn windows_metadata(
    wim: &Wim,
    img: &Image,
    image: u32,
    backend: &dyn ApplyBackend,
    entries: &[Entry],
    keep_target: bool,
    report: &mut ApplyReport,
) -> Result<()> {
    let descriptors = &img.security.descriptors;
    let views: Vec<ApplyEntry> = entries
        .iter()
        .map(|e| ApplyEntry {
            dentry: e.d,
            path: &e.path,
            shown: &e.shown,
            security: usize::try_from(e.d.security_id)
                .ok()
                .and_then(|i| descriptors.get(i))
                .map(Vec::as_slice),
        })
        .collect();
    for v in views.iter().filter(|v| v.dentry.is_reparse_point()) {
        let d = v.dentry;
        let data = if d.reparse_data.is_zero() {
            Vec::new()
        } else {
            wim.open_blob(&d.reparse_data, true)?.read_all()?
        };
        let buffer = apply_backend::reparse_buffer(d, &data, image, v.shown)?;
        backend.set_reparse_data(v, &buffer).at(v.path)?;
        report.symlinks += 1;
    }
    for v in views.iter().filter(|v| !v.dentry.short_name.is_empty()) {
        let short = String::from_utf16(&v.dentry.short_name).map_err(|_| Error::Unsafe {
            path: format!("image {image}: {}", v.shown),
            reason: "short name is not valid UTF-16".into(),
        })?;
        backend.set_short_name(v, &short).at(v.path)?;
    }
    apply_backend::set_all_metadata(backend, &views, keep_target)
}

fn with_path(e: Error, shown: &str) -> Error {
    match e {
        Error::HashMismatch { sha1, actual, .. } => Error::HashMismatch {
            sha1,
            user: Some(shown.to_string()),
            actual,
        },
        other => other,
    }
}

fn size_of(wim: &Wim, h: &Sha1) -> u64 {
    wim.blobs.get(h).map(|l| l.size()).unwrap_or(0)
}

fn check_cancel(opts: &ApplyOptions) -> Result<()> {
    match opts.cancel.check() {
        Err(tsmedia_base::Cancelled) => Err(Error::Cancelled),
        Ok(()) => Ok(()),
    }
}

/// Why a name could escape its directory or cannot be a path component anywhere, by the one
/// rule set of [`tsmedia_base::safe_path`], or `None`.
pub(crate) fn traversal_reason(name: &[u16]) -> Option<&'static str> {
    tsmedia_base::safe_path::check_name_utf16(name)
        .err()
        .map(|e| e.reason())
}

/// A name that is safe as one path component on Linux.
fn safe_name(name: &[u16]) -> std::result::Result<String, &'static str> {
    if let Some(reason) = traversal_reason(name) {
        return Err(reason);
    }
    let s = String::from_utf16(name).map_err(|_| "name is not valid UTF-16")?;
    if s.len() > 255 {
        return Err("name longer than 255 bytes");
    }
    Ok(s)
}

fn create_file(path: &Path) -> Result<File> {
    let create = || {
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
    };
    match create() {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        other => return other.at(path),
    }
    // Something is in the way: a regular file is replaced, anything else refused.
    let m = fs::symlink_metadata(path).at(path)?;
    if !m.is_file() {
        return Err(Error::Unsafe {
            path: path.display().to_string(),
            reason: "already exists in the target and is not a file".into(),
        });
    }
    fs::remove_file(path).at(path)?;
    create().at(path)
}

/// Opens a file this apply made (or the named stream `file:stream` of one) for its data,
/// truncated; never through a symlink.
fn open_data(path: &Path) -> Result<File> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .at(path)
}

fn effective_uid() -> u32 {
    // The owner of a file we just created is our effective uid.
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
        .unwrap_or(u32::MAX)
}

fn set_metadata(e: &Entry, is_root: bool) -> Result<()> {
    let d = e.d;
    let ft = |t: u64| {
        let (s, n) = filetime_to_unix(t);
        FileTime::from_unix_time(s, n)
    };
    let is_link = d.is_reparse_point();
    if is_link && !d.is_symlink() {
        return Ok(());
    }
    if let Some(u) = d.unix {
        if is_root {
            std::os::unix::fs::lchown(&e.path, Some(u.uid), Some(u.gid)).at(&e.path)?;
        }
        if !is_link {
            fs::set_permissions(&e.path, fs::Permissions::from_mode(u.mode & 0o7777)).at(&e.path)?;
        }
    } else if d.attributes & attr::READONLY != 0 && !is_link && !d.is_dir() {
        let m = fs::metadata(&e.path).at(&e.path)?;
        let mut p = m.permissions();
        p.set_mode(p.mode() & !0o222);
        fs::set_permissions(&e.path, p).at(&e.path)?;
    }
    filetime::set_symlink_file_times(&e.path, ft(d.last_access_time), ft(d.last_write_time))
        .at(&e.path)?;
    Ok(())
}

/// Counts of Windows-only metadata that Linux cannot hold, reported once.
#[derive(Default)]
struct WindowsOnly {
    security: u64,
    named_streams: u64,
    short_names: u64,
    tagged: u64,
    other_reparse: u64,
}

impl WindowsOnly {
    fn note(&mut self, d: &Dentry, descriptors: usize) {
        if d.security_id >= 0 && (d.security_id as usize) < descriptors {
            self.security += 1;
        }
        self.named_streams += d.named_streams.len() as u64;
        self.short_names += u64::from(!d.short_name.is_empty());
        self.tagged += d.tagged_items.len() as u64;
    }

    fn summary(&self) -> Option<String> {
        let parts: Vec<String> = [
            (self.security, "security descriptors"),
            (self.named_streams, "named data streams"),
            (self.short_names, "DOS short names"),
            (self.tagged, "object IDs or extended attributes"),
            (self.other_reparse, "non-symlink reparse points"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        (!parts.is_empty()).then(|| {
            format!(
                "Windows-only metadata not applied on Linux: {}",
                parts.join(", ")
            )
        })
    }
}
