//! Reading resources: uncompressed, chunked (non-solid) and solid.
//!
//! A non-solid compressed resource starts with a chunk table of `num_chunks - 1` entries (chunk 0
//! omitted), each the offset of chunk *i* from the end of the table, 8 bytes wide when the
//! uncompressed size does not fit in 32 bits. A solid resource starts with
//! `{u64 size, u32 chunk size, u32 format}` and one u32 compressed size per chunk. In a
//! wimlib pipable WIM the chunk table of a compressed resource follows its chunks instead, and
//! each chunk is preceded by its u32 compressed size (see `docs/wim-format.md`).

use crate::bytes::{le_u32, le_u64};
use crate::error::{Error, IoContext, ResourceFault, Result};
use crate::resource::ResourceHeader;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tsmedia_codecs::{Decompressor, Format};

/// A file we read at absolute positions, shared between readers.
#[derive(Clone, Debug)]
pub struct PartFile {
    /// The path, for messages.
    pub path: PathBuf,
    /// The open file, shared by every reader of the part.
    pub file: Arc<File>,
    /// The file length when opened; reads past it are refused as corrupt.
    pub len: u64,
    /// A wimlib pipable WIM: its compressed resources are laid out as such.
    pub pipable: bool,
}

impl PartFile {
    /// Opens the file at `path` for reading.
    pub fn open(path: &Path) -> Result<PartFile> {
        let file = File::open(path).at(path)?;
        let len = file.metadata().at(path)?.len();
        Ok(PartFile {
            path: path.to_path_buf(),
            file: Arc::new(file),
            len,
            pipable: false,
        })
    }

    /// Fills `buf` from `offset`; a read past the end is a corrupt resource, not an I/O error.
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let end = offset.checked_add(buf.len() as u64);
        if end.is_none_or(|e| e > self.len) {
            return Err(Error::BadResource {
                offset,
                reason: ResourceFault::PastEnd {
                    bytes: buf.len() as u64,
                    file: self.path.clone(),
                    file_len: self.len,
                },
            });
        }
        self.file.read_exact_at(buf, offset).at(&self.path)
    }
}

/// Where each chunk of a resource is, computed from its chunk table.
#[derive(Clone, Debug)]
pub struct ChunkLayout {
    /// File offset of chunk 0.
    pub data_start: u64,
    /// Uncompressed size of every chunk but the last.
    pub chunk_size: u64,
    /// Uncompressed size of the resource.
    pub uncompressed_size: u64,
    /// The compression format; `None` for a stored (uncompressed) resource.
    pub format: Option<Format>,
    /// `num_chunks + 1` boundaries relative to `data_start`.
    pub bounds: Vec<u64>,
    /// Resource offset, for messages.
    pub resource_offset: u64,
    /// Pipable layout: a 4-byte compressed size precedes each chunk (not counted in `bounds`).
    pub chunk_headers: bool,
}

impl ChunkLayout {
    /// The number of chunks.
    pub fn num_chunks(&self) -> u64 {
        self.bounds.len() as u64 - 1
    }

    /// Uncompressed length of chunk `i`.
    pub fn chunk_len(&self, i: u64) -> usize {
        let start = i * self.chunk_size;
        (self.uncompressed_size - start).min(self.chunk_size) as usize
    }

    /// Reads the layout of the resource `r` of `part`. `format`/`chunk_size` come from the WIM
    /// header for non-solid resources.
    pub fn read(
        part: &PartFile,
        r: &ResourceHeader,
        format: Option<Format>,
        chunk_size: u32,
    ) -> Result<ChunkLayout> {
        let bad = |reason: ResourceFault| Error::BadResource {
            offset: r.offset,
            reason,
        };
        let end = r.end().ok_or_else(|| bad(ResourceFault::OffsetOverflow))?;
        if end > part.len {
            return Err(bad(ResourceFault::ResourcePastEnd {
                stored: r.stored_size,
                file: part.path.clone(),
                file_len: part.len,
            }));
        }
        if r.is_solid() {
            return Self::read_solid(part, r);
        }
        if !r.is_compressed() {
            if r.stored_size != r.uncompressed_size {
                return Err(bad(ResourceFault::SizesDiffer {
                    stored: r.stored_size,
                    size: r.uncompressed_size,
                }));
            }
            // Read uncompressed data in 1 MiB pieces so memory stays bounded.
            let piece = 1u64 << 20;
            let mut bounds: Vec<u64> = (0..r.uncompressed_size.div_ceil(piece))
                .map(|i| i * piece)
                .collect();
            bounds.push(r.uncompressed_size);
            return Ok(ChunkLayout {
                data_start: r.offset,
                chunk_size: piece,
                uncompressed_size: r.uncompressed_size,
                format: None,
                bounds,
                resource_offset: r.offset,
                chunk_headers: false,
            });
        }
        let format = format.ok_or_else(|| bad(ResourceFault::CompressedInUncompressedWim))?;
        // The chunk size bounds the buffer each chunk is decompressed into: check it first.
        let (min, max) = format.chunk_size_range();
        if !chunk_size.is_power_of_two() || (chunk_size as usize) < min || chunk_size as usize > max
        {
            return Err(bad(ResourceFault::ChunkSize { chunk_size, format }));
        }
        let cs = u64::from(chunk_size);
        let n = r.uncompressed_size.div_ceil(cs);
        let entry = if r.uncompressed_size > u64::from(u32::MAX) {
            8
        } else {
            4
        };
        let table_len = n.saturating_sub(1).saturating_mul(entry);
        // Pipable: chunk headers, chunks, then the table.
        let headers_len = if part.pipable { n.saturating_mul(4) } else { 0 };
        if table_len.saturating_add(headers_len) > r.stored_size {
            return Err(bad(ResourceFault::ChunkTableTooLarge {
                table_len,
                stored: r.stored_size,
            }));
        }
        let mut table = vec![0u8; table_len as usize];
        let data_len = r.stored_size - table_len - headers_len;
        let (table_at, data_start) = if part.pipable {
            (r.offset + r.stored_size - table_len, r.offset)
        } else {
            (r.offset, r.offset + table_len)
        };
        part.read_at(table_at, &mut table)?;
        let mut bounds = Vec::with_capacity(n as usize + 1);
        bounds.push(0);
        for i in 0..n.saturating_sub(1) as usize {
            let off = if entry == 8 {
                le_u64(&table[i * 8..])
            } else {
                u64::from(le_u32(&table[i * 4..]))
            };
            bounds.push(off);
        }
        bounds.push(data_len);
        Self::check_bounds(&bounds, r.offset, cs, r.uncompressed_size)?;
        Ok(ChunkLayout {
            data_start,
            chunk_size: cs,
            uncompressed_size: r.uncompressed_size,
            format: Some(format),
            bounds,
            resource_offset: r.offset,
            chunk_headers: part.pipable,
        })
    }

    fn read_solid(part: &PartFile, r: &ResourceHeader) -> Result<ChunkLayout> {
        let bad = |reason: ResourceFault| Error::BadResource {
            offset: r.offset,
            reason,
        };
        let mut hdr = [0u8; 16];
        if r.stored_size < 16 {
            return Err(bad(ResourceFault::SolidHeaderShort));
        }
        part.read_at(r.offset, &mut hdr)?;
        let size = le_u64(&hdr);
        let chunk_size = u64::from(le_u32(&hdr[8..]));
        let format = match le_u32(&hdr[12..]) {
            0 => None,
            1 => Some(Format::Xpress),
            2 => Some(Format::Lzx),
            3 => Some(Format::Lzms),
            other => return Err(bad(ResourceFault::SolidFormat(other))),
        };
        if chunk_size == 0 || !chunk_size.is_power_of_two() || chunk_size > 1 << 30 {
            return Err(bad(ResourceFault::SolidChunkSize(chunk_size)));
        }
        let n = size.div_ceil(chunk_size);
        let table_len = n.checked_mul(4).filter(|&t| t <= r.stored_size - 16);
        let table_len = table_len.ok_or_else(|| bad(ResourceFault::SolidChunkTableTooLarge))?;
        let mut table = vec![0u8; table_len as usize];
        part.read_at(r.offset + 16, &mut table)?;
        let mut bounds = Vec::with_capacity(n as usize + 1);
        let mut pos = 0u64;
        bounds.push(0);
        for i in 0..n as usize {
            pos += u64::from(le_u32(&table[i * 4..]));
            bounds.push(pos);
        }
        if pos != r.stored_size - 16 - table_len {
            return Err(bad(ResourceFault::SolidSizes));
        }
        Self::check_bounds(&bounds, r.offset, chunk_size, size)?;
        Ok(ChunkLayout {
            data_start: r.offset + 16 + table_len,
            chunk_size,
            uncompressed_size: size,
            format,
            bounds,
            resource_offset: r.offset,
            chunk_headers: false,
        })
    }

    /// File offset of chunk `i`'s stored bytes.
    pub fn chunk_offset(&self, i: u64) -> u64 {
        let headers = if self.chunk_headers { (i + 1) * 4 } else { 0 };
        self.data_start + self.bounds[i as usize] + headers
    }

    fn check_bounds(bounds: &[u64], offset: u64, chunk_size: u64, size: u64) -> Result<()> {
        for (i, w) in bounds.windows(2).enumerate() {
            let stored = w[1].checked_sub(w[0]).ok_or_else(|| Error::BadResource {
                offset,
                reason: ResourceFault::ChunkTableBackwards { chunk: i + 1 },
            })?;
            let ulen = (size - i as u64 * chunk_size).min(chunk_size);
            if stored > ulen || (stored == 0 && ulen != 0) {
                return Err(Error::BadResource {
                    offset,
                    reason: ResourceFault::ChunkStoredSize {
                        chunk: i,
                        stored,
                        len: ulen,
                    },
                });
            }
        }
        Ok(())
    }

    /// Reads and decompresses chunk `i` into `out` (exactly [`Self::chunk_len`] bytes); `scratch`
    /// holds the compressed bytes.
    pub fn read_chunk(
        &self,
        part: &PartFile,
        i: u64,
        decoders: &mut Decoders,
        scratch: &mut Vec<u8>,
        out: &mut [u8],
    ) -> Result<()> {
        let (a, b) = (self.bounds[i as usize], self.bounds[i as usize + 1]);
        let stored = (b - a) as usize;
        let at = self.chunk_offset(i);
        if stored == out.len() {
            return part.read_at(at, out);
        }
        scratch.resize(stored, 0);
        part.read_at(at, scratch)?;
        let format = self.format.ok_or(Error::BadResource {
            offset: self.resource_offset,
            reason: ResourceFault::ShortUncompressedChunk { chunk: i },
        })?;
        let d = decoders.get(format, self.chunk_size as usize)?;
        d.decompress(scratch, out).map_err(|source| Error::Decode {
            offset: self.resource_offset,
            chunk: i,
            source,
        })
    }
}

/// Decompressors kept for reuse, one per format and chunk size (creating one allocates its
/// tables; a reader keeps them across blobs).
#[derive(Default)]
pub struct Decoders(Vec<(Format, usize, Box<dyn Decompressor>)>);

impl Decoders {
    /// The decompressor for `format` chunks of up to `chunk_size` bytes, created on first use.
    pub fn get(&mut self, format: Format, chunk_size: usize) -> Result<&mut dyn Decompressor> {
        let i = match self
            .0
            .iter()
            .position(|(f, c, _)| *f == format && *c == chunk_size)
        {
            Some(i) => i,
            None => {
                let d = tsmedia_codecs::new_decompressor(format, chunk_size)?;
                self.0.push((format, chunk_size, d));
                self.0.len() - 1
            }
        };
        Ok(self.0[i].2.as_mut())
    }
}
