//! Solid resources written: file data streamed into one resource compressed as a whole in
//! large chunks (wimlib's `--solid`, the layout of ESD files; `docs/wim-format.md`, "Solid").
//!
//! A solid resource is laid out as a 16-byte header (uncompressed size, chunk size, format),
//! one u32 compressed size per chunk, then the chunks. The chunk count is known only at the
//! end, so, as wimlib does, room for the most chunks the resource can hold is reserved when it
//! opens and the header and table are written right in front of the chunks when it closes;
//! the unused reserved bytes stay a hole before the resource. Blobs never straddle two
//! resources (wimlib's reader refuses that): a blob that does not fit the open resource closes
//! it and opens the next one. Every non-solid write (image metadata, a stored blob) closes the
//! open resource first, since its chunks must stay contiguous.
//!
//! Memory: at most `threads` chunks are compressed at once, plus the one being filled; a
//! compressed chunk's buffer is freed once written, not kept for reuse, so a 64 MiB chunk
//! costs only the pages its compressed bytes touched.

use super::WimWriter;
use super::pool::{Done, Pool};
use super::{expect_eof, read_full};
use crate::blob_table::{BlobEntry, SOLID_RESOURCE_MAGIC};
use crate::error::{Error, IoContext, Result};
use crate::resource::ResourceHeader;
use crate::sha1::{Hasher, Sha1};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;
use tsmedia_codecs::Format;

/// Size of a solid resource's header: u64 uncompressed size, u32 chunk size, u32 format.
pub const SOLID_HEADER_SIZE: u64 = 16;

/// Bytes a solid resource may hold when the caller gave no hint ([`WimWriter::expect_solid`]).
const DEFAULT_CAPACITY: u64 = 1 << 30;

/// How file data is written into solid resources.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SolidOptions {
    /// Compression of the solid resources (wimlib's `--solid-compress`). Default: LZMS.
    pub compression: Option<Format>,
    /// Level on wimlib's scale. Default: 50.
    pub level: u32,
    /// Chunk size (wimlib's `--solid-chunk-size`). Default: 64 MiB, wimlib's for LZMS.
    pub chunk_size: u32,
    /// Order blobs by file extension and name, as wimlib does, so that similar files sit
    /// together (wimlib's `--no-solid-sort` turns it off). Default: yes.
    pub sort: bool,
}

impl Default for SolidOptions {
    fn default() -> Self {
        SolidOptions {
            compression: Some(Format::Lzms),
            level: 50,
            chunk_size: 1 << 26,
            sort: true,
        }
    }
}

impl SolidOptions {
    /// The solid format's number in a solid resource header (1 XPRESS, 2 LZX, 3 LZMS).
    fn format_id(&self) -> u32 {
        match self.compression {
            None => 0,
            Some(Format::Xpress) => 1,
            Some(Format::Lzx) => 2,
            Some(_) => 3,
        }
    }
}

/// A finished solid resource and the blobs in it.
#[derive(Clone, Debug)]
pub(super) struct SolidResource {
    /// Where the resource is: offset and stored size; `uncompressed_size` is its real size
    /// (the blob table entry gets the marker instead).
    pub resource: ResourceHeader,
    /// (SHA-1, offset in the resource, size) of each blob, in order.
    pub blobs: Vec<(Sha1, u64, u64)>,
}

/// The resource being written.
struct Open {
    chunks_start: u64,
    reserved_entries: u64,
    capacity: u64,
    filled: u64,
    buf: Vec<u8>,
    chunk_sizes: Vec<u32>,
    blobs: Vec<(Sha1, u64, u64)>,
}

/// The writer's solid state.
pub(super) struct SolidStream {
    pub opts: SolidOptions,
    pool: Pool,
    open: Option<Open>,
    hint: Option<u64>,
    pub done: Vec<SolidResource>,
}

impl SolidStream {
    pub fn new(opts: SolidOptions, threads: usize) -> Result<SolidStream> {
        let Some(f) = opts.compression else {
            return Err(Error::Refused {
                reason: "solid resources must be compressed (XPRESS, LZX or LZMS)".into(),
            });
        };
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
        // One chunk per thread in flight: solid chunks are large.
        let pool = Pool::with_limits(f, cs, opts.level, threads, threads.max(1))?;
        Ok(SolidStream {
            opts,
            pool,
            open: None,
            hint: None,
            done: Vec::new(),
        })
    }
}

impl WimWriter {
    /// Whether file data goes into solid resources.
    pub fn is_solid(&self) -> bool {
        self.solid.is_some()
    }

    /// Whether blobs should be written in wimlib's solid order (by extension, then name).
    pub fn solid_sort(&self) -> bool {
        self.solid.as_ref().is_some_and(|s| s.opts.sort)
    }

    /// Announces that about `bytes` of file data follow, so that one solid resource holds
    /// them all (without a hint each resource holds up to 1 GiB). No effect when not solid.
    pub fn expect_solid(&mut self, bytes: u64) {
        if let Some(s) = &mut self.solid
            && s.open.is_none()
        {
            s.hint = Some(bytes);
        }
    }

    /// Stores a blob in the open solid resource (opening one when needed).
    pub(super) fn solid_write(
        &mut self,
        data: &mut dyn std::io::Read,
        size: u64,
        expected: Option<Sha1>,
        what: &Path,
    ) -> Result<Sha1> {
        let mut st = self
            .solid
            .take()
            .expect("solid_write is called in solid mode");
        let r = self.solid_write_in(&mut st, data, size, expected, what);
        self.solid = Some(st);
        r
    }

    fn solid_write_in(
        &mut self,
        st: &mut SolidStream,
        data: &mut dyn std::io::Read,
        size: u64,
        expected: Option<Sha1>,
        what: &Path,
    ) -> Result<Sha1> {
        if st
            .open
            .as_ref()
            .is_some_and(|o| o.filled > 0 && o.filled.saturating_add(size) > o.capacity)
        {
            self.close_solid_in(st)?;
        }
        if st.open.is_none() {
            self.open_solid(st, size)?;
        }
        let chunk = st.opts.chunk_size as usize;
        let mut hasher = Hasher::default();
        let mut done = 0u64;
        let offset = st.open.as_ref().expect("opened above").filled;
        while done < size {
            self.check_cancel()?;
            let o = st.open.as_mut().expect("opened above");
            let room = chunk - o.buf.len();
            let n = (size - done).min(room as u64) as usize;
            let start = o.buf.len();
            o.buf.resize(start + n, 0);
            read_full(data, &mut o.buf[start..], what, size, done)?;
            hasher.update(&o.buf[start..]);
            done += n as u64;
            o.filled += n as u64;
            if o.buf.len() == chunk {
                self.submit_solid_chunk(st)?;
            }
        }
        expect_eof(data, what, size)?;
        let h = hasher.finish();
        if expected.is_some_and(|e| e != h) {
            return Err(Error::Source {
                path: what.to_path_buf(),
                reason: "changed while being read (its hash differs)".into(),
            });
        }
        // A duplicate found only now stays in the stream, unreferenced.
        if let std::collections::hash_map::Entry::Vacant(e) = self.sizes.entry(h) {
            e.insert(size);
            let o = st.open.as_mut().expect("opened above");
            o.blobs.push((h, offset, size));
            self.known_sizes.insert(size);
        }
        Ok(h)
    }

    fn open_solid(&mut self, st: &mut SolidStream, first_blob: u64) -> Result<()> {
        // Non-solid chunks still in flight belong before the reserved area.
        self.flush_chunked()?;
        let capacity = first_blob
            .max(st.hint.take().unwrap_or(DEFAULT_CAPACITY))
            .max(1);
        let chunk = u64::from(st.opts.chunk_size);
        let reserved_entries = capacity.div_ceil(chunk);
        let reserve = SOLID_HEADER_SIZE + reserved_entries * 4;
        let zeros = vec![0u8; 1 << 16];
        let mut left = reserve;
        while left > 0 {
            let n = left.min(zeros.len() as u64) as usize;
            self.write_all(&zeros[..n])?;
            left -= n as u64;
        }
        st.open = Some(Open {
            chunks_start: self.pos,
            reserved_entries,
            capacity: reserved_entries * chunk,
            filled: 0,
            buf: Vec::with_capacity(chunk.min(capacity) as usize),
            chunk_sizes: Vec::new(),
            blobs: Vec::new(),
        });
        Ok(())
    }

    /// Hands the filled chunk buffer to the compressors and writes whatever chunks are done.
    fn submit_solid_chunk(&mut self, st: &mut SolidStream) -> Result<()> {
        let o = st.open.as_mut().expect("a resource is open");
        let buf = std::mem::take(&mut o.buf);
        st.pool.submit(buf)?;
        let mut fresh = st.pool.input_buffer();
        fresh.reserve(st.opts.chunk_size as usize);
        st.open.as_mut().expect("a resource is open").buf = fresh;
        while let Some(d) = st.pool.try_next()? {
            self.write_solid_chunk(st, d)?;
        }
        Ok(())
    }

    fn write_solid_chunk(&mut self, st: &mut SolidStream, d: Done) -> Result<()> {
        let bytes: &[u8] = match d.compressed {
            Some(n) => &d.output[..n],
            None => &d.input,
        };
        self.out.file.write_all(bytes).at(self.out.path())?;
        self.pos += bytes.len() as u64;
        let o = st.open.as_mut().expect("a resource is open");
        o.chunk_sizes.push(bytes.len() as u32);
        self.progress.advance(d.input.len() as u64);
        st.pool.recycle_input(d);
        Ok(())
    }

    /// Writes the open solid resource's last chunk, header and chunk table.
    pub(super) fn close_solid(&mut self) -> Result<()> {
        let Some(mut st) = self.solid.take() else {
            return Ok(());
        };
        let r = self.close_solid_in(&mut st);
        self.solid = Some(st);
        r
    }

    fn close_solid_in(&mut self, st: &mut SolidStream) -> Result<()> {
        if st.open.as_ref().is_some_and(|o| !o.buf.is_empty()) {
            self.submit_solid_chunk(st)?;
        }
        if st.open.is_none() {
            return Ok(());
        }
        while let Some(d) = st.pool.next()? {
            self.write_solid_chunk(st, d)?;
        }
        let o = st.open.take().expect("checked above");
        let n = o.chunk_sizes.len() as u64;
        debug_assert!(n <= o.reserved_entries);
        if n == 0 {
            return Ok(()); // nothing was written: the reserved bytes stay a hole
        }
        let table_at = o.chunks_start - 4 * n;
        let start = table_at - SOLID_HEADER_SIZE;
        let mut head = Vec::with_capacity((SOLID_HEADER_SIZE + 4 * n) as usize);
        head.extend_from_slice(&o.filled.to_le_bytes());
        head.extend_from_slice(&st.opts.chunk_size.to_le_bytes());
        head.extend_from_slice(&st.opts.format_id().to_le_bytes());
        for s in &o.chunk_sizes {
            head.extend_from_slice(&s.to_le_bytes());
        }
        self.out
            .file
            .write_all_at(&head, start)
            .at(self.out.path())?;
        st.done.push(SolidResource {
            resource: ResourceHeader {
                stored_size: self.pos - start,
                flags: crate::resource::flags::SOLID,
                offset: start,
                uncompressed_size: o.filled,
            },
            blobs: o.blobs,
        });
        Ok(())
    }

    /// Appends the blob table entries of the solid resources: one run in which each
    /// resource's entry (uncompressed size: the marker) comes before its blobs, whose offsets
    /// count from the start of the run's concatenated data (as wimlib and WIMGAPI expect).
    /// Resources none of whose blobs is referenced are left out.
    pub(super) fn solid_table_entries(&self, table: &mut Vec<u8>) {
        let Some(st) = &self.solid else {
            return;
        };
        let mut base = 0u64;
        for res in &st.done {
            let referenced: Vec<(Sha1, u64, u64, u32)> = res
                .blobs
                .iter()
                .filter_map(|&(h, off, size)| {
                    let refs = self.refs.get(&h).copied().unwrap_or(0);
                    (refs > 0).then_some((h, off, size, refs))
                })
                .collect();
            if referenced.is_empty() {
                continue;
            }
            BlobEntry {
                resource: ResourceHeader {
                    uncompressed_size: SOLID_RESOURCE_MAGIC,
                    ..res.resource
                },
                part_number: 1,
                ref_count: 1,
                sha1: Sha1::ZERO,
            }
            .write_to(table);
            for (h, off, size, refs) in referenced {
                BlobEntry {
                    resource: ResourceHeader {
                        stored_size: size,
                        flags: crate::resource::flags::SOLID,
                        offset: base + off,
                        uncompressed_size: 0,
                    },
                    part_number: 1,
                    ref_count: refs,
                    sha1: h,
                }
                .write_to(table);
            }
            base += res.resource.uncompressed_size;
        }
    }
}
