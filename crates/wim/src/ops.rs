//! Whole-WIM operations built on the reader and writer: export, append, update, verify, split
//! and join. Every output is written under a temporary name and renamed when complete.

use crate::apply::ApplyReport;
use crate::capture::{self, CaptureReport};
use crate::dentry::{Dentry, attr};
use crate::error::{Error, IoContext, Result};
use crate::header::{self, HEADER_SIZE};
use crate::integrity;
use crate::metadata::Image;
use crate::output::AtomicFile;
use crate::read::Wim;
use crate::read::stream::{Piece, StreamOptions, stream_blobs};
use crate::resource::{ResourceHeader, flags as rflags};
use crate::sha1::Sha1;
use crate::write::{WimWriter, WriteOptions, copy_range};
use crate::xml::{self, Element};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Reads and parses an image's metadata.
pub fn load_image(wim: &Wim, image: u32) -> Result<Image> {
    let data = wim.read_metadata_resource(image)?;
    Image::parse(&data, image)
}

/// Copies image `image` of `src` (its blobs verbatim when the compression matches) into `w`.
pub fn copy_image(src: &Wim, image: u32, w: &mut WimWriter) -> Result<()> {
    let img = load_image(src, image)?;
    copy_blobs_of(src, &img.root, w)?;
    let xml = src
        .image_xml(image)
        .cloned()
        .unwrap_or_else(|| Element::new("IMAGE"));
    w.add_image(&img, xml)
}

fn copy_blobs_of(src: &Wim, root: &Dentry, w: &mut WimWriter) -> Result<()> {
    let mut hashes: Vec<Sha1> = Vec::new();
    root.walk(&mut |_, d| hashes.extend(d.blobs()));
    // In file order, so the source is read sequentially.
    let mut locs = Vec::with_capacity(hashes.len());
    for h in hashes.into_iter().filter(|h| !w.has_blob(h)) {
        let loc = src
            .blobs
            .get(&h)
            .ok_or_else(|| Error::MissingBlob { sha1: h.hex() })?;
        locs.push(loc);
    }
    locs.sort_by_key(|l| (l.part, l.entry.resource.offset));
    for loc in locs {
        w.copy_blob(src, loc)?;
    }
    Ok(())
}

/// Options of a new WIM that inherits the source's compression unless told otherwise.
pub fn inherit_options(
    src: &Wim,
    mut opts: WriteOptions,
    compression_given: bool,
) -> Result<WriteOptions> {
    if !compression_given {
        opts.compression = src.header.compression()?;
        if src.header.chunk_size != 0 {
            opts.chunk_size = src.header.chunk_size;
        }
    }
    Ok(opts)
}

/// Exports `images` of `src` to `dest`: appended to it when it exists (the result replaces it
/// atomically), else a new WIM with `opts`.
pub fn export(
    src: &Wim,
    images: &[u32],
    dest: &Path,
    opts: WriteOptions,
    boot: bool,
) -> Result<()> {
    src.check_parts()?;
    let existing = if dest.exists() {
        Some(Wim::open(dest)?)
    } else {
        None
    };
    let opts = match &existing {
        Some(d) => inherit_options(d, opts, false)?,
        None => opts,
    };
    let mut w = WimWriter::create(dest, opts)?;
    let mut boot_index = 0;
    if let Some(d) = &existing {
        for i in 1..=d.image_count() {
            copy_image(d, i, &mut w)?;
        }
        boot_index = d.header.boot_index;
    }
    for &i in images {
        copy_image(src, i, &mut w)?;
        if boot || src.header.boot_index == i && images.len() == 1 && boot_index == 0 {
            boot_index = w.image_count();
        }
    }
    w.finish(boot_index)
}

/// Appends a captured directory as a new image of the WIM at `path`.
pub fn append(
    path: &Path,
    src_dir: &Path,
    opts: WriteOptions,
    copts: &capture::CaptureOptions,
    boot: bool,
) -> Result<CaptureReport> {
    let old = Wim::open(path)?;
    old.check_parts()?;
    let opts = inherit_options(&old, opts, false)?;
    let name = copts.name.clone();
    if let Some(n) = &name
        && xml::images(&old.xml).any(|e| e.get("NAME") == Some(n))
    {
        return Err(Error::InvalidArgument(format!(
            "an image named {n:?} already exists in {}",
            path.display()
        )));
    }
    let mut w = WimWriter::create(path, opts)?;
    for i in 1..=old.image_count() {
        copy_image(&old, i, &mut w)?;
    }
    let report = capture::capture(src_dir, &mut w, copts)?;
    let boot_index = if boot {
        w.image_count()
    } else {
        old.header.boot_index
    };
    w.finish(boot_index)?;
    Ok(report)
}

/// One change of `update`.
#[derive(Clone, Debug)]
pub enum UpdateCommand {
    /// Add the file or tree at `source` as `dest` (a path inside the image, `/`-separated);
    /// replaces what is there.
    Add { source: PathBuf, dest: String },
    /// Delete a file or tree.
    Delete { path: String },
}

/// Applies `commands` to image `image` of the WIM at `path`; the WIM is rebuilt atomically.
pub fn update(
    path: &Path,
    image: u32,
    commands: &[UpdateCommand],
    unix_data: bool,
) -> Result<Vec<String>> {
    let old = Wim::open(path)?;
    old.check_parts()?;
    let opts = inherit_options(&old, WriteOptions::default(), false)?;
    let mut w = WimWriter::create(path, opts)?;
    let mut warnings = Vec::new();
    for i in 1..=old.image_count() {
        if i != image {
            copy_image(&old, i, &mut w)?;
            continue;
        }
        let mut img = load_image(&old, i)?;
        for c in commands {
            match c {
                UpdateCommand::Delete { path: p } => {
                    let parts = split_path(p)?;
                    let (name, parents) = parts
                        .split_last()
                        .ok_or_else(|| Error::InvalidArgument("cannot delete the root".into()))?;
                    let dir = find_dir(&mut img.root, parents, false).ok_or_else(|| {
                        Error::InvalidArgument(format!("{p}: no such path in image {i}"))
                    })?;
                    let before = dir.children.len();
                    dir.children
                        .retain(|c| c.name != name.encode_utf16().collect::<Vec<_>>());
                    if dir.children.len() == before {
                        return Err(Error::InvalidArgument(format!(
                            "{p}: no such path in image {i}"
                        )));
                    }
                }
                UpdateCommand::Add { source, dest } => {
                    let (mut d, report) = capture::capture_tree(source, &mut w, unix_data)?;
                    warnings.extend(report.warnings);
                    let parts = split_path(dest)?;
                    match parts.split_last() {
                        None => {
                            if !d.is_dir() {
                                return Err(Error::InvalidArgument(
                                    "only a directory can replace the root".into(),
                                ));
                            }
                            merge_into(&mut img.root, d);
                        }
                        Some((name, parents)) => {
                            let dir = find_dir(&mut img.root, parents, true).ok_or_else(|| {
                                Error::InvalidArgument(format!(
                                    "{dest}: a parent is not a directory"
                                ))
                            })?;
                            d.name = name.encode_utf16().collect();
                            match dir.children.iter_mut().find(|c| c.name == d.name) {
                                Some(existing) if existing.is_dir() && d.is_dir() => {
                                    merge_into(existing, d)
                                }
                                Some(existing) => *existing = d,
                                None => dir.children.push(d),
                            }
                        }
                    }
                }
            }
        }
        img.root.sort_children();
        copy_blobs_of(&old, &img.root, &mut w)?;
        let xml = old
            .image_xml(i)
            .cloned()
            .unwrap_or_else(|| Element::new("IMAGE"));
        w.add_image(&img, xml)?;
    }
    w.finish(old.header.boot_index)?;
    Ok(warnings)
}

fn merge_into(dir: &mut Dentry, src: Dentry) {
    for c in src.children {
        match dir.children.iter_mut().find(|e| e.name == c.name) {
            Some(e) if e.is_dir() && c.is_dir() => merge_into(e, c),
            Some(e) => *e = c,
            None => dir.children.push(c),
        }
    }
}

fn split_path(p: &str) -> Result<Vec<String>> {
    let parts: Vec<String> = p
        .split(['/', '\\'])
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if parts.iter().any(|s| s == "." || s == "..") {
        return Err(Error::InvalidArgument(format!(
            "{p}: '.' and '..' are not allowed in image paths"
        )));
    }
    Ok(parts)
}

fn find_dir<'a>(root: &'a mut Dentry, parts: &[String], create: bool) -> Option<&'a mut Dentry> {
    let mut d = root;
    for p in parts {
        let name: Vec<u16> = p.encode_utf16().collect();
        let pos = match d.children.iter().position(|c| c.name == name) {
            Some(pos) => pos,
            None if create => {
                let mut nd = Dentry {
                    name,
                    attributes: attr::DIRECTORY,
                    security_id: -1,
                    ..Dentry::default()
                };
                nd.creation_time = d.creation_time;
                nd.last_write_time = d.last_write_time;
                nd.last_access_time = d.last_access_time;
                d.children.push(nd);
                d.children.len() - 1
            }
            None => return None,
        };
        d = &mut d.children[pos];
        if !d.is_dir() || d.is_reparse_point() {
            return None;
        }
    }
    Some(d)
}

/// What `verify` checked.
#[derive(Clone, Debug, Default)]
pub struct VerifyReport {
    pub integrity_checked: bool,
    pub blobs: u64,
    pub bytes: u64,
    pub images: u32,
    pub dentries: u64,
}

/// Checks the integrity tables of the WIM's parts that have one (SHA-1 of every 10 MiB of the
/// file up to the blob table: any change to the stored bytes); returns how many parts had one.
pub fn check_integrity(wim: &Wim) -> Result<usize> {
    let mut checked = 0;
    for part in &wim.parts {
        let h = {
            let mut b = [0u8; HEADER_SIZE];
            part.read_at(0, &mut b)?;
            header::Header::parse(&b)?
        };
        if h.integrity.is_zero() {
            continue;
        }
        let mut t = vec![0u8; h.integrity.stored_size.min(part.len) as usize];
        part.read_at(h.integrity.offset, &mut t)?;
        let end = h
            .blob_table
            .end()
            .ok_or_else(|| Error::BadHeader("blob table end overflows".into()))?;
        integrity::verify(part, &t, end)?;
        checked += 1;
    }
    Ok(checked)
}

/// Checks the integrity table (when present), every blob's SHA-1 and each image's metadata.
pub fn verify(wim: &Wim, progress: &dyn crate::write::Progress) -> Result<VerifyReport> {
    wim.check_parts()?;
    let mut report = VerifyReport {
        integrity_checked: check_integrity(wim)? > 0,
        ..VerifyReport::default()
    };
    // Saturating: the sizes are whatever the blob table claims.
    let total = wim
        .blobs
        .values()
        .fold(0u64, |t, l| t.saturating_add(l.size()));
    progress.begin("verify", Some(total));
    let mut locs: Vec<_> = wim.blobs.values().collect();
    locs.sort_by_key(|l| (l.part, l.entry.resource.offset));
    // In file order, decompressed on all cores; the stream checks each SHA-1.
    let hashes: Vec<Sha1> = locs.iter().map(|l| l.entry.sha1).collect();
    stream_blobs(wim, &hashes, StreamOptions::default(), |_, piece| {
        match piece {
            Piece::Data(d) => {
                progress.advance(d.len() as u64);
                report.bytes += d.len() as u64;
            }
            Piece::End => report.blobs += 1,
        }
        Ok(())
    })
    .map_err(|e| e.error)?;
    for i in 1..=wim.image_count() {
        let img = load_image(wim, i)?;
        let mut missing = None;
        let mut unsafe_name = None;
        img.root.walk(&mut |stack, d| {
            report.dentries += 1;
            // Names apply would refuse: the WIM is hostile even if every hash matches.
            let reason = if stack.is_empty() {
                None
            } else {
                crate::apply::traversal_reason(&d.name)
            };
            if let (Some(reason), true) = (reason, unsafe_name.is_none()) {
                let path: String = stack
                    .iter()
                    .skip(1)
                    .chain([&d])
                    .map(|p| format!("/{}", p.name_lossy()))
                    .collect();
                unsafe_name = Some(Error::Unsafe {
                    path: format!("image {i}: {path}"),
                    reason: reason.into(),
                });
            }
            for h in d.blobs() {
                if !wim.blobs.contains_key(&h) {
                    missing = Some(h);
                }
            }
        });
        if let Some(e) = unsafe_name {
            return Err(e);
        }
        if let Some(h) = missing {
            return Err(Error::MissingBlob {
                sha1: format!("{h} (referenced by image {i})"),
            });
        }
        report.images += 1;
    }
    Ok(report)
}

/// Splits `wim` into parts of at most `max_part` bytes (a part holding one larger blob may be
/// bigger): `first`, then `first` with 2, 3, ... before the extension.
pub fn split(wim: &Wim, first: &Path, max_part: u64) -> Result<Vec<PathBuf>> {
    wim.check_parts()?;
    if wim.blobs.values().any(|l| l.solid_run.is_some()) {
        return Err(Error::Split(
            "WIMs with solid resources cannot be split".into(),
        ));
    }
    let xml_bytes = xml::to_bytes(&wim.xml);
    let mut parts: Vec<PartOut> = vec![PartOut::new(part_name(first, 1))?];
    for m in &wim.metadata {
        parts[0].copy(wim, 0, m)?;
    }
    let mut locs: Vec<_> = wim.blobs.values().collect();
    locs.sort_by_key(|l| (l.part, l.entry.resource.offset));
    for loc in locs {
        let cur = parts.last().expect("at least one part");
        if cur.blobs > 0
            && cur.pos
                + loc.entry.resource.stored_size
                + 50 * (cur.entries.len() as u64 + 1)
                + xml_bytes.len() as u64
                > max_part
        {
            let n = parts.len() as u16 + 1;
            parts.push(PartOut::new(part_name(first, n))?);
        }
        parts
            .last_mut()
            .expect("at least one part")
            .copy(wim, loc.part, &loc.entry)?;
    }
    let total = parts.len() as u16;
    let mut names = Vec::new();
    for (i, p) in parts.into_iter().enumerate() {
        names.push(p.out.path().to_path_buf());
        p.finish(wim, i as u16 + 1, total, &xml_bytes)?;
    }
    Ok(names)
}

/// `base.swm`, `base2.swm`, `base3.swm`, ...
pub fn part_name(first: &Path, n: u16) -> PathBuf {
    if n == 1 {
        return first.to_path_buf();
    }
    let stem = first
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match first.extension() {
        Some(e) => format!("{stem}{n}.{}", e.to_string_lossy()),
        None => format!("{stem}{n}"),
    };
    first.with_file_name(name)
}

struct PartOut {
    out: AtomicFile,
    pos: u64,
    entries: Vec<crate::blob_table::BlobEntry>,
    blobs: u64,
}

impl PartOut {
    fn new(path: PathBuf) -> Result<PartOut> {
        let mut out = AtomicFile::create(&path)?;
        out.file.write_all(&[0u8; HEADER_SIZE]).at(&path)?;
        Ok(PartOut {
            out,
            pos: HEADER_SIZE as u64,
            entries: Vec::new(),
            blobs: 0,
        })
    }

    fn copy(&mut self, wim: &Wim, part: usize, e: &crate::blob_table::BlobEntry) -> Result<()> {
        let r = e.resource;
        let path = self.out.path().to_path_buf();
        copy_range(
            &wim.parts[part],
            r.offset,
            r.stored_size,
            &mut self.out.file,
            &path,
        )?;
        let resource = ResourceHeader {
            offset: self.pos,
            ..r
        };
        self.entries
            .push(crate::blob_table::BlobEntry { resource, ..*e });
        self.pos += r.stored_size;
        self.blobs += u64::from(!r.is_metadata());
        Ok(())
    }

    fn finish(mut self, wim: &Wim, number: u16, total: u16, xml_bytes: &[u8]) -> Result<()> {
        let path = self.out.path().to_path_buf();
        let mut table = Vec::new();
        for e in &self.entries {
            crate::blob_table::BlobEntry {
                part_number: number,
                ..*e
            }
            .write_to(&mut table);
        }
        let bt = ResourceHeader {
            stored_size: table.len() as u64,
            flags: rflags::METADATA,
            offset: self.pos,
            uncompressed_size: table.len() as u64,
        };
        self.out.file.write_all(&table).at(&path)?;
        self.pos += table.len() as u64;
        let xd = ResourceHeader {
            stored_size: xml_bytes.len() as u64,
            flags: rflags::METADATA,
            offset: self.pos,
            uncompressed_size: xml_bytes.len() as u64,
        };
        self.out.file.write_all(xml_bytes).at(&path)?;
        let mut h = wim.header.clone();
        h.flags = (h.flags | header::flags::SPANNED) & !header::flags::WRITE_IN_PROGRESS;
        h.part_number = number;
        h.total_parts = total;
        h.blob_table = bt;
        h.xml_data = xd;
        h.integrity = ResourceHeader::default();
        if number != 1 {
            h.boot_metadata = ResourceHeader::default();
        } else if h.boot_index > 0 {
            h.boot_metadata = self.entries[h.boot_index as usize - 1].resource;
        }
        use std::os::unix::fs::FileExt;
        self.out.file.write_all_at(&h.to_bytes(), 0).at(&path)?;
        self.out.commit()
    }
}

/// Joins the parts of a split WIM into one WIM at `out`.
pub fn join(out: &Path, parts: &[PathBuf]) -> Result<()> {
    let first = parts.iter().find_map(|p| {
        Wim::open(p)
            .ok()
            .filter(|w| w.header.part_number == 1)
            .map(|w| (p.clone(), w))
    });
    let (first_path, mut wim) =
        first.ok_or_else(|| Error::Split("none of the parts given is part 1".into()))?;
    for p in parts.iter().filter(|p| **p != first_path) {
        wim.add_ref(p)?;
    }
    wim.check_parts()?;
    let mut opts = inherit_options(&wim, WriteOptions::default(), false)?;
    opts.guid = Some(wim.header.guid);
    let mut w = WimWriter::create(out, opts)?;
    for i in 1..=wim.image_count() {
        copy_image(&wim, i, &mut w)?;
    }
    w.finish(wim.header.boot_index)
}

/// Applies every image to `target/<image name>` (wimlib's `apply WIM all TARGET`).
pub fn apply_all(
    wim: &Wim,
    target: &Path,
    opts: &crate::apply::ApplyOptions,
) -> Result<ApplyReport> {
    let mut total = ApplyReport::default();
    for i in 1..=wim.image_count() {
        let name = wim
            .image_xml(i)
            .and_then(|e| e.get("NAME"))
            .unwrap_or("")
            .to_string();
        let dir =
            if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0']) {
                i.to_string()
            } else {
                name
            };
        let r = crate::apply::apply(wim, i, &target.join(dir), opts)?;
        total.dirs += r.dirs;
        total.files += r.files;
        total.symlinks += r.symlinks;
        total.bytes += r.bytes;
        total.warnings.extend(r.warnings);
    }
    Ok(total)
}
