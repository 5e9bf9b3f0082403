//! Writing a wimlib pipable WIM: a WIM laid out so that it can be written to, and applied
//! from, a pipe (layout in `docs/wim-format.md`, "Pipable WIMs").
//!
//! The writer takes a complete WIM (normally one [`super::WimWriter`] just wrote to a temporary
//! file) and streams it out sequentially in the pipable layout, copying every chunk as it is
//! stored (nothing is recompressed): the header with no resource locations, a first copy of the
//! XML data, the metadata resources, the file resources, the blob table, the XML data again, an
//! optional integrity table and the full header. Each resource is preceded by a 40-byte
//! stream header, and each chunk of a compressed resource by its compressed size; a compressed
//! resource's chunk table follows its chunks. Nothing is ever rewritten, so the output may be
//! standard output.

use crate::blob_table::BlobEntry;
use crate::error::{Error, IoContext, Result};
use crate::header::{Header, flags as hflags};
use crate::integrity::DEFAULT_CHUNK;
use crate::read::chunks::{ChunkLayout, PartFile};
use crate::read::{BlobLocation, Wim};
use crate::resource::{ResourceHeader, flags as rflags};
use crate::sha1::{Hasher, Sha1};
use crate::xml;
use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

/// The 8 bytes (little-endian u64) that start every stream header of a pipable WIM.
pub const STREAM_MAGIC: u64 = 0x2b9b9ba2_443db9d8;
/// Size of a stream header: magic u64 · uncompressed size u64 · SHA-1 · resource flags u32.
pub const STREAM_HEADER_SIZE: usize = 40;

/// The stream header that precedes each resource of a pipable WIM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamHeader {
    /// Uncompressed size of the resource.
    pub uncompressed_size: u64,
    /// SHA-1 of the uncompressed data.
    pub sha1: Sha1,
    /// Resource flags (`METADATA` for metadata, XML data and the blob table; `COMPRESSED`).
    pub flags: u32,
}

impl StreamHeader {
    /// The header as stored.
    pub fn to_bytes(&self) -> [u8; STREAM_HEADER_SIZE] {
        let mut b = [0u8; STREAM_HEADER_SIZE];
        b[..8].copy_from_slice(&STREAM_MAGIC.to_le_bytes());
        b[8..16].copy_from_slice(&self.uncompressed_size.to_le_bytes());
        b[16..36].copy_from_slice(&self.sha1.0);
        b[36..40].copy_from_slice(&self.flags.to_le_bytes());
        b
    }

    /// Parses a stream header; `None` when the magic is not [`STREAM_MAGIC`].
    pub fn parse(b: &[u8; STREAM_HEADER_SIZE]) -> Option<StreamHeader> {
        let magic = u64::from_le_bytes(b[..8].try_into().expect("8 bytes"));
        (magic == STREAM_MAGIC).then(|| StreamHeader {
            uncompressed_size: u64::from_le_bytes(b[8..16].try_into().expect("8 bytes")),
            sha1: Sha1::from_slice(&b[16..36]),
            flags: u32::from_le_bytes(b[36..40].try_into().expect("4 bytes")),
        })
    }
}

/// Options of [`write_pipable`].
#[derive(Clone, Debug, Default)]
pub struct PipableOptions {
    /// Append an integrity table (computed while the bytes go out). Default: no.
    pub integrity: bool,
}

/// A writer that counts its position and hashes the integrity range as it goes.
struct Out<'a> {
    w: &'a mut dyn Write,
    what: &'a Path,
    pos: u64,
    integrity: Option<(Hasher, u64, Vec<Sha1>)>,
}

impl Out<'_> {
    fn put(&mut self, mut b: &[u8]) -> Result<()> {
        self.w.write_all(b).at(self.what)?;
        self.pos += b.len() as u64;
        if let Some((h, in_chunk, done)) = &mut self.integrity {
            while !b.is_empty() {
                let n = (u64::from(DEFAULT_CHUNK) - *in_chunk).min(b.len() as u64) as usize;
                h.update(&b[..n]);
                *in_chunk += n as u64;
                b = &b[n..];
                if *in_chunk == u64::from(DEFAULT_CHUNK) {
                    done.push(std::mem::take(h).finish());
                    *in_chunk = 0;
                }
            }
        }
        Ok(())
    }

    /// Ends the integrity range here and returns the table.
    fn integrity_table(&mut self) -> Option<Vec<u8>> {
        let (h, in_chunk, mut hashes) = self.integrity.take()?;
        if in_chunk > 0 {
            hashes.push(h.finish());
        }
        let mut t = Vec::with_capacity(12 + hashes.len() * 20);
        t.extend_from_slice(&((12 + hashes.len() * 20) as u32).to_le_bytes());
        t.extend_from_slice(&(hashes.len() as u32).to_le_bytes());
        t.extend_from_slice(&DEFAULT_CHUNK.to_le_bytes());
        for h in hashes {
            t.extend_from_slice(&h.0);
        }
        Some(t)
    }

    /// A resource stored as `data` (uncompressed), with its stream header.
    fn buffer(&mut self, data: &[u8], flags: u8) -> Result<ResourceHeader> {
        let sh = StreamHeader {
            uncompressed_size: data.len() as u64,
            sha1: Sha1::of(data),
            flags: u32::from(flags),
        };
        self.put(&sh.to_bytes())?;
        let offset = self.pos;
        self.put(data)?;
        Ok(ResourceHeader {
            stored_size: data.len() as u64,
            flags,
            offset,
            uncompressed_size: data.len() as u64,
        })
    }
}

/// Writes `src` (one whole WIM, not a split part) to `w` as a pipable WIM; `what` names the
/// output in errors. Returns the number of bytes written.
pub fn write_pipable(
    src: &Wim,
    w: &mut dyn Write,
    what: &Path,
    opts: &PipableOptions,
) -> Result<u64> {
    if src.header.total_parts != 1 {
        return Err(Error::BadPipable {
            offset: 0,
            reason: "a split WIM cannot be written as a pipable WIM; join it first".into(),
        });
    }
    let mut header = Header {
        pipable: true,
        flags: src.header.flags & !(hflags::WRITE_IN_PROGRESS | hflags::SPANNED),
        blob_table: ResourceHeader::default(),
        xml_data: ResourceHeader::default(),
        boot_metadata: ResourceHeader::default(),
        integrity: ResourceHeader::default(),
        ..src.header.clone()
    };
    let mut out = Out {
        w,
        what,
        pos: 0,
        integrity: None,
    };
    out.put(&header.to_bytes())?;
    if opts.integrity {
        out.integrity = Some((Hasher::default(), 0, Vec::new()));
    }

    // The first copy of the XML data, without TOTALBYTES (the size is not known yet).
    let mut root = src.xml.clone();
    root.children.retain(|c| c.name != "TOTALBYTES");
    out.buffer(&xml::to_bytes(&root), rflags::METADATA)?;

    // Metadata resources first, so a reader from a pipe knows every file before its data.
    let mut table = Vec::new();
    let mut metadata = Vec::new();
    for m in &src.metadata {
        let loc = BlobLocation {
            part: 0,
            entry: *m,
            solid_run: None,
        };
        let r = copy_resource(src, &loc, &mut out)?;
        metadata.push(r);
        BlobEntry {
            resource: r,
            part_number: 1,
            ref_count: 1,
            sha1: m.sha1,
        }
        .write_to(&mut table);
    }
    let mut seen = HashSet::new();
    for (part, e) in &src.entries {
        if e.resource.is_metadata() || e.sha1.is_zero() || !seen.insert(e.sha1) {
            continue;
        }
        let Some(loc) = src.blobs.get(&e.sha1) else {
            continue;
        };
        debug_assert_eq!(loc.part, *part);
        let r = copy_resource(src, loc, &mut out)?;
        BlobEntry {
            resource: r,
            part_number: 1,
            ref_count: e.ref_count,
            sha1: e.sha1,
        }
        .write_to(&mut table);
    }
    header.blob_table = out.buffer(&table, rflags::METADATA)?;
    let integrity = out.integrity_table();

    let mut root = src.xml.clone();
    root.children.retain(|c| c.name != "TOTALBYTES");
    root.children.insert(
        0,
        xml::Element::with_text("TOTALBYTES", out.pos.to_string()),
    );
    header.xml_data = out.buffer(&xml::to_bytes(&root), rflags::METADATA)?;
    if let Some(t) = integrity {
        let offset = out.pos;
        out.put(&t)?;
        header.integrity = ResourceHeader {
            stored_size: t.len() as u64,
            flags: 0,
            offset,
            uncompressed_size: t.len() as u64,
        };
    }
    header.boot_metadata = match header.boot_index {
        0 => ResourceHeader::default(),
        i => metadata.get(i as usize - 1).copied().unwrap_or_default(),
    };
    out.put(&header.to_bytes())?;
    out.w.flush().at(what)?;
    Ok(out.pos)
}

/// Copies one resource in the pipable layout (stream header, then each chunk after its
/// compressed size, then the chunk table) and returns where it now is.
fn copy_resource(src: &Wim, loc: &BlobLocation, out: &mut Out) -> Result<ResourceHeader> {
    let part: &PartFile = &src.parts[loc.part];
    let r = loc.entry.resource;
    let keep = r.flags & rflags::METADATA;
    if loc.solid_run.is_some() || !r.is_compressed() {
        // Solid resources have no pipable form: such a blob is stored uncompressed.
        let sh = StreamHeader {
            uncompressed_size: loc.size(),
            sha1: loc.entry.sha1,
            flags: u32::from(keep),
        };
        out.put(&sh.to_bytes())?;
        let offset = out.pos;
        let mut reader = src.open_location(loc, true)?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = std::io::Read::read(&mut reader, &mut buf).at(&part.path)?;
            if n == 0 {
                break;
            }
            out.put(&buf[..n])?;
        }
        return Ok(ResourceHeader {
            stored_size: out.pos - offset,
            flags: keep,
            offset,
            uncompressed_size: loc.size(),
        });
    }
    let layout = ChunkLayout::read(part, &r, src.header.compression()?, src.header.chunk_size)?;
    let flags = keep | rflags::COMPRESSED;
    let sh = StreamHeader {
        uncompressed_size: r.uncompressed_size,
        sha1: loc.entry.sha1,
        flags: u32::from(flags),
    };
    out.put(&sh.to_bytes())?;
    let offset = out.pos;
    let mut buf = Vec::new();
    for i in 0..layout.num_chunks() {
        let (a, b) = (layout.bounds[i as usize], layout.bounds[i as usize + 1]);
        buf.resize((b - a) as usize, 0);
        part.read_at(layout.chunk_offset(i), &mut buf)?;
        out.put(&((b - a) as u32).to_le_bytes())?;
        out.put(&buf)?;
    }
    // The chunk table: offsets of chunks 1.. as if the chunk headers were not there.
    let wide = r.uncompressed_size > u64::from(u32::MAX);
    let mut t = Vec::new();
    for &b in &layout.bounds[1..layout.bounds.len() - 1] {
        if wide {
            t.extend_from_slice(&b.to_le_bytes());
        } else {
            t.extend_from_slice(&(b as u32).to_le_bytes());
        }
    }
    out.put(&t)?;
    Ok(ResourceHeader {
        stored_size: out.pos - offset,
        flags,
        offset,
        uncompressed_size: r.uncompressed_size,
    })
}

/// Writes `src` as a pipable WIM to the file `path` (under a temporary name until complete).
pub fn write_pipable_file(src: &Wim, path: &Path, opts: &PipableOptions) -> Result<u64> {
    let mut f = crate::output::AtomicFile::create(path)?;
    let tmp = f.path().to_path_buf();
    let n = {
        let mut bw = std::io::BufWriter::with_capacity(1 << 20, &mut f.file);
        write_pipable(src, &mut bw, &tmp, opts)?
    };
    f.commit()?;
    Ok(n)
}
