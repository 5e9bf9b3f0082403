//! Writing a WIM: blobs streamed in and compressed on all cores, then image metadata, the blob
//! table, the XML data, the optional integrity table and finally the header. The file is
//! written under a temporary name and renamed into place by [`WimWriter::finish`].

pub mod pipable;
mod pool;
pub mod solid;

use crate::blob_table::BlobEntry;
use crate::dentry::Dentry;
use crate::error::{Error, IoContext, Result};
use crate::header::{self, HEADER_SIZE, Header};
use crate::integrity;
use crate::metadata::Image;
use crate::output::AtomicFile;
use crate::read::chunks::PartFile;
use crate::read::{BlobLocation, Wim};
use crate::resource::{ResourceHeader, flags as rflags};
use crate::sha1::{Hasher, Sha1};
use crate::xml::{self, Element};
use pool::{Done, Pool};
pub use solid::SolidOptions;
use std::collections::{HashMap, VecDeque};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;
use tsmedia_codecs::Format;

/// How a WIM is written.
#[derive(Clone, Debug)]
pub struct WriteOptions {
    /// Compression of new resources. Default: LZX, as DISM and wimlib.
    pub compression: Option<Format>,
    /// Compression level on wimlib's scale. Default: 50.
    pub level: u32,
    /// Chunk size in bytes. Default: the format's default (32 KiB).
    pub chunk_size: u32,
    /// Compression threads. Default: the number of cores.
    pub threads: usize,
    /// Write an integrity table. Default: no.
    pub integrity: bool,
    /// The WIM GUID. Default: random.
    pub guid: Option<[u8; 16]>,
    /// FILETIME recorded as the images' creation/modification times. Default: now.
    pub timestamp: Option<u64>,
    /// Set to stop at the next chunk with [`Error::Cancelled`]. Default: never.
    pub cancel: Cancel,
    /// Write file data into solid resources (wimlib's `--solid`; image metadata stays in
    /// chunked resources of `compression`). Default: none.
    pub solid: Option<SolidOptions>,
    /// Compress blobs copied from another WIM again even when their stored form could be kept
    /// (wimlib's `--recompress`). Default: no.
    pub recompress: bool,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            compression: Some(Format::Lzx),
            level: 50,
            chunk_size: 1 << 15,
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            integrity: false,
            guid: None,
            timestamp: None,
            cancel: Cancel::default(),
            solid: None,
            recompress: false,
        }
    }
}

/// The progress sink and cancel token every crate shares, re-exported where the writer's
/// callers have always found them.
pub use tsmedia_base::{Cancel, NoProgress, Progress};

struct PendingBlob {
    sha1: Option<Sha1>,
    size: u64,
    chunks: u64,
    written: u64,
    start: u64,
    table_len: u64,
    chunk_sizes: Vec<u64>,
    metadata: bool,
    all_raw: bool,
    /// Written but found to duplicate a blob already stored: dropped from the table.
    duplicate: bool,
}

/// Writes one WIM file (or one part of a split WIM).
pub struct WimWriter {
    out: AtomicFile,
    opts: WriteOptions,
    /// The header being built; written at offset 0 by [`WimWriter::finish`].
    pub header: Header,
    pos: u64,
    pool: Option<Pool>,
    /// Blobs written, in file order.
    table: Vec<BlobEntry>,
    index: HashMap<Sha1, usize>,
    sizes: HashMap<Sha1, u64>,
    known_sizes: std::collections::HashSet<u64>,
    metadata: Vec<BlobEntry>,
    images_xml: Vec<Element>,
    refs: HashMap<Sha1, u32>,
    pending: VecDeque<PendingBlob>,
    progress: Arc<dyn Progress>,
    /// Solid resources being written and written (with [`WriteOptions::solid`]).
    solid: Option<solid::SolidStream>,
}

/// `now` as a FILETIME (100 ns since 1601).
pub fn filetime_now() -> u64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    crate::time::unix_to_filetime(d.as_secs() as i64, d.subsec_nanos())
}

fn random_guid() -> [u8; 16] {
    let mut g = [0u8; 16];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = f.read_exact(&mut g);
    }
    if g == [0; 16] {
        g[..8].copy_from_slice(&filetime_now().to_le_bytes());
        g[8..12].copy_from_slice(&std::process::id().to_le_bytes());
    }
    g
}

impl WimWriter {
    /// Starts a WIM at `path`, written under a temporary name until [`WimWriter::finish`];
    /// checks the chunk size against the compression format.
    pub fn create(path: &Path, opts: WriteOptions) -> Result<WimWriter> {
        if let Some(f) = opts.compression {
            let (min, max) = f.chunk_size_range();
            let cs = opts.chunk_size as usize;
            if cs < min || cs > max || !cs.is_power_of_two() {
                return Err(Error::ChunkSize {
                    chunk_size: cs,
                    format: f,
                    min,
                    max,
                });
            }
        }
        let pool = match opts.compression {
            Some(f) => Some(Pool::new(
                f,
                opts.chunk_size as usize,
                opts.level,
                opts.threads,
            )?),
            None => None,
        };
        let solid = match opts.solid {
            Some(s) => Some(solid::SolidStream::new(s, opts.threads)?),
            None => None,
        };
        let mut out = AtomicFile::create(path)?;
        let guid = opts.guid.unwrap_or_else(random_guid);
        let mut header = Header::new(guid, opts.compression, opts.chunk_size);
        if solid.is_some() {
            header.version = header::VERSION_SOLID;
        }
        header.flags |= header::flags::WRITE_IN_PROGRESS;
        out.file.write_all(&header.to_bytes()).at(out.path())?;
        Ok(WimWriter {
            out,
            opts,
            header,
            pos: HEADER_SIZE as u64,
            pool,
            table: Vec::new(),
            index: HashMap::new(),
            sizes: HashMap::new(),
            known_sizes: std::collections::HashSet::new(),
            metadata: Vec::new(),
            images_xml: Vec::new(),
            refs: HashMap::new(),
            pending: VecDeque::new(),
            progress: Arc::new(NoProgress),
            solid,
        })
    }

    /// Reports the bytes written to `p` from now on.
    pub fn set_progress(&mut self, p: Arc<dyn Progress>) {
        self.progress = p;
    }

    /// The progress sink given with [`WimWriter::set_progress`].
    pub fn progress(&self) -> &dyn Progress {
        self.progress.as_ref()
    }

    /// The options the writer was created with.
    pub fn options(&self) -> &WriteOptions {
        &self.opts
    }

    /// Whether a blob is already stored (or being stored).
    pub fn has_blob(&self, sha1: &Sha1) -> bool {
        sha1.is_zero() || self.sizes.contains_key(sha1)
    }

    /// Whether a blob of this size is already stored (a new file of that size may duplicate it).
    pub fn has_size(&self, size: u64) -> bool {
        self.known_sizes.contains(&size)
    }

    fn check_cancel(&self) -> Result<()> {
        match self.opts.cancel.check() {
            Err(tsmedia_base::Cancelled) => Err(Error::Cancelled),
            Ok(()) => Ok(()),
        }
    }

    /// The hash of a blob that needs no writing: empty, or known and stored already.
    fn stored_already(&self, size: u64, sha1: Option<Sha1>) -> Option<Sha1> {
        if size == 0 {
            return Some(Sha1::ZERO);
        }
        sha1.filter(|h| self.has_blob(h))
    }

    /// Stores a blob of `size` bytes read from `data`. With `sha1` known and already stored,
    /// nothing is read. Returns the blob's SHA-1. `what` names the source in errors.
    pub fn write_blob(
        &mut self,
        data: &mut dyn Read,
        size: u64,
        sha1: Option<Sha1>,
        what: &Path,
    ) -> Result<Sha1> {
        if let Some(h) = self.stored_already(size, sha1) {
            return Ok(h);
        }
        self.write_new_blob(data, size, sha1, what, false)
    }

    /// Stores a blob uncompressed even in a compressed WIM: for content that is compressed
    /// already (a WIM inside the image, an archive), where compressing again costs time and
    /// gains nothing. Readers take such a resource as it is (no `COMPRESSED` flag).
    pub fn write_blob_stored(
        &mut self,
        data: &mut dyn Read,
        size: u64,
        sha1: Option<Sha1>,
        what: &Path,
    ) -> Result<Sha1> {
        if let Some(h) = self.stored_already(size, sha1) {
            return Ok(h);
        }
        if self.solid.is_some() {
            return self.solid_write(data, size, sha1, what);
        }
        // Chunks in flight belong before this blob in the file.
        self.flush()?;
        self.write_uncompressed(data, size, sha1, what, false)
    }

    fn write_new_blob(
        &mut self,
        data: &mut dyn Read,
        size: u64,
        expected: Option<Sha1>,
        what: &Path,
        metadata: bool,
    ) -> Result<Sha1> {
        if self.solid.is_some() {
            if !metadata {
                return self.solid_write(data, size, expected, what);
            }
            self.close_solid()?;
        }
        let chunk_size = u64::from(self.opts.chunk_size);
        let Some(mut pool) = self.pool.take() else {
            let r = self.write_uncompressed(data, size, expected, what, metadata);
            return r;
        };
        let chunks = size.div_ceil(chunk_size);
        let entry = if size > u64::from(u32::MAX) { 8 } else { 4 };
        self.pending.push_back(PendingBlob {
            sha1: None,
            size,
            chunks,
            written: 0,
            start: 0,
            table_len: (chunks - 1) * entry,
            chunk_sizes: Vec::with_capacity(chunks as usize),
            metadata,
            all_raw: true,
            duplicate: false,
        });
        let mut hasher = Hasher::default();
        let mut done = 0u64;
        let mut blob_hash = Sha1::ZERO;
        let result = (|| -> Result<Sha1> {
            while done < size {
                self.check_cancel()?;
                let n = (size - done).min(chunk_size) as usize;
                let mut buf = pool.input_buffer();
                buf.resize(n, 0);
                read_full(data, &mut buf, what, size, done)?;
                hasher.update(&buf);
                done += n as u64;
                if done == size {
                    expect_eof(data, what, size)?;
                    let h = std::mem::take(&mut hasher).finish();
                    if let Some(e) = expected
                        && e != h
                    {
                        return Err(Error::Source {
                            path: what.to_path_buf(),
                            reason: "changed while being read (its hash differs)".into(),
                        });
                    }
                    blob_hash = h;
                    let dup = self.sizes.contains_key(&h) && !metadata;
                    let p = self.pending.back_mut().expect("pushed above");
                    p.sha1 = Some(h);
                    p.duplicate = dup;
                    // Only the blob at the front of the queue has chunks on disk, and
                    // nothing after them: a duplicate's bytes are taken back.
                    let rewind = (dup && p.written > 0).then_some(p.start);
                    if let Some(start) = rewind {
                        self.rewind_to(start)?;
                    }
                    if !metadata {
                        self.sizes.insert(h, size);
                        self.known_sizes.insert(size);
                    }
                }
                pool.submit(buf)?;
                while let Some(d) = pool.try_next()? {
                    self.write_chunk(&mut pool, d)?;
                }
            }
            Ok(blob_hash)
        })();
        self.pool = Some(pool);
        result
    }

    fn write_chunk(&mut self, pool: &mut Pool, d: Done) -> Result<()> {
        let out_path = self.out.path().to_path_buf();
        let file = &mut self.out.file;
        let p = self
            .pending
            .front_mut()
            .expect("a chunk belongs to a pending blob");
        if p.duplicate {
            // Its content is stored already: nothing of it goes to the file.
            p.written += 1;
            let done = p.written == p.chunks;
            self.progress.advance(d.input.len() as u64);
            pool.recycle(d);
            if done {
                self.pending.pop_front();
            }
            return Ok(());
        }
        if p.written == 0 {
            p.start = self.pos;
            if p.table_len > 0 {
                file.write_all(&vec![0u8; p.table_len as usize])
                    .at(&out_path)?;
                self.pos += p.table_len;
            }
        }
        let bytes: &[u8] = match d.compressed {
            Some(n) => {
                p.all_raw = false;
                &d.output[..n]
            }
            None => &d.input,
        };
        file.write_all(bytes).at(&out_path)?;
        self.pos += bytes.len() as u64;
        p.chunk_sizes.push(bytes.len() as u64);
        p.written += 1;
        self.progress.advance(d.input.len() as u64);
        pool.recycle(d);
        if p.written == p.chunks {
            let p = self.pending.pop_front().expect("front exists");
            self.finish_blob(p)?;
        }
        Ok(())
    }

    fn finish_blob(&mut self, p: PendingBlob) -> Result<()> {
        let entry_size = if p.size > u64::from(u32::MAX) { 8 } else { 4 };
        if p.table_len > 0 {
            let mut table = Vec::with_capacity(p.table_len as usize);
            let mut off = 0u64;
            for s in &p.chunk_sizes[..p.chunk_sizes.len() - 1] {
                off += s;
                if entry_size == 8 {
                    table.extend_from_slice(&off.to_le_bytes());
                } else {
                    table.extend_from_slice(&(off as u32).to_le_bytes());
                }
            }
            self.out
                .file
                .write_all_at(&table, p.start)
                .at(self.out.path())?;
        }
        let mut flags = if p.chunks == 1 && p.all_raw {
            0
        } else {
            rflags::COMPRESSED
        };
        if p.metadata {
            flags |= rflags::METADATA;
        }
        let resource = ResourceHeader {
            stored_size: self.pos - p.start,
            flags,
            offset: p.start,
            uncompressed_size: p.size,
        };
        let sha1 = p
            .sha1
            .expect("hash known before the last chunk is submitted");
        self.record(
            BlobEntry {
                resource,
                part_number: 1,
                ref_count: 0,
                sha1,
            },
            p.metadata,
            p.duplicate,
        );
        Ok(())
    }

    fn record(&mut self, e: BlobEntry, metadata: bool, duplicate: bool) {
        if metadata {
            self.metadata.push(e);
        } else if !duplicate {
            self.sizes.insert(e.sha1, e.resource.uncompressed_size);
            self.known_sizes.insert(e.resource.uncompressed_size);
            self.index.insert(e.sha1, self.table.len());
            self.table.push(e);
        }
    }

    fn write_uncompressed(
        &mut self,
        data: &mut dyn Read,
        size: u64,
        expected: Option<Sha1>,
        what: &Path,
        metadata: bool,
    ) -> Result<Sha1> {
        let start = self.pos;
        let mut hasher = Hasher::default();
        let mut buf = vec![0u8; (1 << 20).min(size as usize)];
        let mut done = 0u64;
        while done < size {
            self.check_cancel()?;
            let n = (size - done).min(buf.len() as u64) as usize;
            read_full(data, &mut buf[..n], what, size, done)?;
            hasher.update(&buf[..n]);
            self.out.file.write_all(&buf[..n]).at(self.out.path())?;
            done += n as u64;
            self.progress.advance(n as u64);
        }
        expect_eof(data, what, size)?;
        self.pos += size;
        let h = hasher.finish();
        if expected.is_some_and(|e| e != h) {
            return Err(Error::Source {
                path: what.to_path_buf(),
                reason: "changed while being read".into(),
            });
        }
        let duplicate = !metadata && self.sizes.contains_key(&h);
        if duplicate {
            self.rewind_to(start)?;
        }
        let flags = if metadata { rflags::METADATA } else { 0 };
        let resource = ResourceHeader {
            stored_size: size,
            flags,
            offset: start,
            uncompressed_size: size,
        };
        self.record(
            BlobEntry {
                resource,
                part_number: 1,
                ref_count: 0,
                sha1: h,
            },
            metadata,
            duplicate,
        );
        Ok(h)
    }

    /// Waits for every chunk in flight and writes it; closes the open solid resource.
    pub fn flush(&mut self) -> Result<()> {
        self.flush_chunked()?;
        self.close_solid()
    }

    /// Waits for every chunk of chunked resources in flight and writes it.
    fn flush_chunked(&mut self) -> Result<()> {
        if let Some(mut pool) = self.pool.take() {
            let r = (|| -> Result<()> {
                while let Some(d) = pool.next()? {
                    self.write_chunk(&mut pool, d)?;
                }
                Ok(())
            })();
            self.pool = Some(pool);
            r?;
        }
        Ok(())
    }

    /// Whether [`WimWriter::copy_blob`] copies the blob's stored bytes as they are: not into
    /// solid resources, not out of solid or pipable ones, and only with the same compression.
    pub fn copies_verbatim(&self, src: &Wim, loc: &BlobLocation) -> bool {
        let r = loc.entry.resource;
        // A pipable WIM's compressed resources are laid out differently (chunk sizes in front
        // of the chunks, the table after them): they are decompressed and compressed again.
        let pipable_chunks = src.parts[loc.part].pipable && r.is_compressed();
        self.solid.is_none()
            && !self.opts.recompress
            && loc.solid_run.is_none()
            && !pipable_chunks
            && (!r.is_compressed()
                || (src.header.compression().ok() == Some(self.opts.compression)
                    && src.header.chunk_size == self.opts.chunk_size))
    }

    /// Copies a blob from another WIM, verbatim when its compression matches ours (no
    /// recompression), else decompressing and recompressing it.
    pub fn copy_blob(&mut self, src: &Wim, loc: &BlobLocation) -> Result<Sha1> {
        let sha1 = loc.entry.sha1;
        if self.has_blob(&sha1) {
            return Ok(sha1);
        }
        let r = loc.entry.resource;
        if !self.copies_verbatim(src, loc) {
            let mut reader = src.open_location(loc, true)?;
            let what = src.parts[loc.part].path.clone();
            return self.write_new_blob(&mut reader, loc.size(), Some(sha1), &what, false);
        }
        self.flush()?;
        let part = &src.parts[loc.part];
        let start = self.pos;
        let out_path = self.out.path().to_path_buf();
        copy_range(part, r.offset, r.stored_size, &mut self.out.file, &out_path)?;
        self.pos += r.stored_size;
        self.progress.advance(r.uncompressed_size);
        let resource = ResourceHeader {
            offset: start,
            flags: r.flags & !rflags::SPANNED,
            ..r
        };
        self.record(
            BlobEntry {
                resource,
                part_number: 1,
                ref_count: 0,
                sha1,
            },
            false,
            false,
        );
        Ok(sha1)
    }

    /// Adds an image: its metadata resource and XML properties. `xml` is the `<IMAGE>` element
    /// (its INDEX and the counts are filled in here); every blob it refers to must be written.
    pub fn add_image(&mut self, image: &Image, mut xml: Element) -> Result<()> {
        let mut missing = None;
        let (mut total, mut hardlink) = (0u64, 0u64);
        let mut seen_groups = std::collections::HashSet::new();
        image.root.walk(&mut |_, d: &Dentry| {
            for h in d.blobs() {
                *self.refs.entry(h).or_insert(0) += 1;
                match self.sizes.get(&h) {
                    // Saturating: sizes of blobs copied verbatim are what the source claimed.
                    Some(s) => total = total.saturating_add(*s),
                    None => missing = Some(h),
                }
            }
            if d.hard_link_group != 0 && !d.is_dir() && !seen_groups.insert(d.hard_link_group) {
                hardlink = hardlink.saturating_add(self.sizes.get(&d.data).copied().unwrap_or(0));
            }
        });
        if let Some(h) = missing {
            return Err(Error::MissingBlob {
                sha1: h,
                user: None,
            });
        }
        let bytes = image.to_bytes();
        let sha1 = Sha1::of(&bytes);
        let what = Path::new("(image metadata)");
        self.write_new_blob(&mut &bytes[..], bytes.len() as u64, Some(sha1), what, true)?;
        let (dirs, files) = image.counts();
        let now = self.opts.timestamp.unwrap_or_else(filetime_now);
        xml.name = "IMAGE".into();
        xml.attrs.retain(|(k, _)| k != "INDEX");
        xml.attrs
            .insert(0, ("INDEX".into(), (self.images_xml.len() + 1).to_string()));
        xml.set("DIRCOUNT", Some(&dirs.to_string()));
        xml.set("FILECOUNT", Some(&files.to_string()));
        xml.set("TOTALBYTES", Some(&total.to_string()));
        xml.set("HARDLINKBYTES", Some(&hardlink.to_string()));
        if xml.child("CREATIONTIME").is_none() {
            xml.children.push(xml::time_element("CREATIONTIME", now));
        }
        xml.children.retain(|c| c.name != "LASTMODIFICATIONTIME");
        xml.children
            .push(xml::time_element("LASTMODIFICATIONTIME", now));
        self.images_xml.push(xml);
        Ok(())
    }

    /// The images added so far.
    pub fn image_count(&self) -> u32 {
        self.images_xml.len() as u32
    }

    /// Writes the blob table, XML data, integrity table and header, and renames the file into
    /// place. `boot_index` is 1-based, 0 for none.
    pub fn finish(mut self, boot_index: u32) -> Result<()> {
        self.flush()?;
        if boot_index > self.images_xml.len() as u32 {
            return Err(Error::BootIndexOutOfRange {
                boot_index,
                images: self.images_xml.len() as u32,
            });
        }
        // Blob table: metadata resources first, then the blobs images refer to.
        let mut table = Vec::new();
        for m in &self.metadata {
            BlobEntry { ref_count: 1, ..*m }.write_to(&mut table);
        }
        for e in &self.table {
            let refs = self.refs.get(&e.sha1).copied().unwrap_or(0);
            if refs > 0 {
                BlobEntry {
                    ref_count: refs,
                    ..*e
                }
                .write_to(&mut table);
            }
        }
        self.solid_table_entries(&mut table);
        let bt_offset = self.pos;
        self.write_all(&table)?;
        self.header.blob_table = ResourceHeader {
            stored_size: table.len() as u64,
            flags: rflags::METADATA,
            offset: bt_offset,
            uncompressed_size: table.len() as u64,
        };
        let xml_offset = self.pos;
        let mut root = Element::new("WIM");
        root.children
            .push(Element::with_text("TOTALBYTES", xml_offset.to_string()));
        root.children.extend(self.images_xml.iter().cloned());
        let xml_bytes = xml::to_bytes(&root);
        self.write_all(&xml_bytes)?;
        self.header.xml_data = ResourceHeader {
            stored_size: xml_bytes.len() as u64,
            flags: rflags::METADATA,
            offset: xml_offset,
            uncompressed_size: xml_bytes.len() as u64,
        };
        self.header.image_count = self.images_xml.len() as u32;
        self.header.boot_index = boot_index;
        self.header.boot_metadata = match boot_index {
            0 => ResourceHeader::default(),
            i => self.metadata[i as usize - 1].resource,
        };
        if self.opts.integrity {
            let pf = PartFile {
                path: self.out.path().to_path_buf(),
                file: Arc::new(self.out.file.try_clone().at(self.out.path())?),
                len: self.pos,
                pipable: false,
            };
            let t = integrity::compute(
                &pf,
                bt_offset + table.len() as u64,
                integrity::DEFAULT_CHUNK,
            )?;
            let offset = self.pos;
            self.write_all(&t)?;
            self.header.integrity = ResourceHeader {
                stored_size: t.len() as u64,
                flags: 0,
                offset,
                uncompressed_size: t.len() as u64,
            };
        }
        self.header.flags &= !header::flags::WRITE_IN_PROGRESS;
        self.out
            .file
            .write_all_at(&self.header.to_bytes(), 0)
            .at(self.out.path())?;
        self.out
            .file
            .seek(SeekFrom::Start(self.pos))
            .at(self.out.path())?;
        self.out.file.set_len(self.pos).at(self.out.path())?;
        self.pool.take();
        self.out.commit()
    }

    /// Takes back everything written from `offset` on (the bytes of a duplicate blob).
    fn rewind_to(&mut self, offset: u64) -> Result<()> {
        self.out
            .file
            .seek(SeekFrom::Start(offset))
            .at(self.out.path())?;
        self.pos = offset;
        Ok(())
    }

    fn write_all(&mut self, b: &[u8]) -> Result<()> {
        self.out.file.write_all(b).at(self.out.path())?;
        self.pos += b.len() as u64;
        Ok(())
    }
}

fn read_full(r: &mut dyn Read, buf: &mut [u8], what: &Path, size: u64, done: u64) -> Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => {
                return Err(Error::Source {
                    path: what.to_path_buf(),
                    reason: format!(
                        "ended after {} bytes but was {size} bytes when listed (changed while being read?)",
                        done + filled as u64
                    ),
                });
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(Error::Io {
                    path: what.to_path_buf(),
                    source: e,
                });
            }
        }
    }
    Ok(())
}

fn expect_eof(r: &mut dyn Read, what: &Path, size: u64) -> Result<()> {
    let mut b = [0u8; 1];
    loop {
        match r.read(&mut b) {
            Ok(0) => return Ok(()),
            Ok(_) => {
                return Err(Error::Source {
                    path: what.to_path_buf(),
                    reason: format!("grew beyond the {size} bytes it had when listed"),
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(Error::Io {
                    path: what.to_path_buf(),
                    source: e,
                });
            }
        }
    }
}

/// Copies `len` bytes at `offset` of `part` to the end of `out`.
pub(crate) fn copy_range(
    part: &PartFile,
    offset: u64,
    len: u64,
    out: &mut std::fs::File,
    out_path: &Path,
) -> Result<()> {
    let mut buf = vec![0u8; (1 << 20).min(len as usize)];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(buf.len() as u64) as usize;
        part.read_at(offset + done, &mut buf[..n])?;
        out.write_all(&buf[..n]).at(out_path)?;
        done += n as u64;
    }
    Ok(())
}
