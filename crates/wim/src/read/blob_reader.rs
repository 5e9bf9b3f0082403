//! Streaming one blob out of a resource (possibly spread over a solid run), verifying its SHA-1.

use super::chunks::{ChunkLayout, Decoders, PartFile};
use crate::error::{Error, Result};
use crate::sha1::{Hasher, Sha1};
use std::io::{self, Read};
use std::sync::Arc;

/// A piece of a blob: `len` bytes from uncompressed offset `start` of a resource.
#[derive(Clone, Debug)]
pub struct Segment {
    /// The part holding the resource.
    pub part: PartFile,
    /// The resource's chunks.
    pub layout: Arc<ChunkLayout>,
    /// Offset of the piece in the uncompressed resource.
    pub start: u64,
    /// Length of the piece.
    pub len: u64,
}

/// Reads a blob's data; at the end, checks the data against the blob's SHA-1 and fails with
/// `InvalidData` if it does not match.
pub struct BlobReader {
    sha1: Sha1,
    segments: Vec<Segment>,
    seg: usize,
    /// Position within the current segment.
    pos: u64,
    chunk: Vec<u8>,
    chunk_index: Option<u64>,
    scratch: Vec<u8>,
    decoders: Decoders,
    hasher: Option<Hasher>,
    size: u64,
}

impl BlobReader {
    pub(crate) fn new(sha1: Sha1, segments: Vec<Segment>, verify: bool) -> BlobReader {
        let size = segments.iter().map(|s| s.len).sum();
        BlobReader {
            sha1,
            segments,
            seg: 0,
            pos: 0,
            chunk: Vec::new(),
            chunk_index: None,
            scratch: Vec::new(),
            decoders: Decoders::default(),
            hasher: verify.then(Hasher::default),
            size,
        }
    }

    /// The blob's size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The blob's SHA-1.
    pub fn sha1(&self) -> Sha1 {
        self.sha1
    }

    /// Reads the next run of bytes without copying: the returned slice is valid until the next
    /// call. Empty at the end (after the hash was checked).
    pub fn next_slice(&mut self, max: usize) -> Result<&[u8]> {
        loop {
            let Some(seg) = self.segments.get(self.seg) else {
                if let Some(h) = self.hasher.take() {
                    let actual = h.finish();
                    if actual != self.sha1 {
                        return Err(Error::HashMismatch {
                            sha1: self.sha1,
                            user: None,
                            actual,
                        });
                    }
                }
                return Ok(&[]);
            };
            if self.pos >= seg.len {
                self.seg += 1;
                self.pos = 0;
                self.chunk_index = None;
                continue;
            }
            let layout = &seg.layout;
            let abs = seg.start + self.pos;
            let ci = abs / layout.chunk_size;
            if self.chunk_index != Some(ci) {
                let len = layout.chunk_len(ci);
                self.chunk.resize(len, 0);
                layout.read_chunk(
                    &seg.part,
                    ci,
                    &mut self.decoders,
                    &mut self.scratch,
                    &mut self.chunk,
                )?;
                self.chunk_index = Some(ci);
            }
            let in_chunk = (abs - ci * layout.chunk_size) as usize;
            let n = (self.chunk.len() - in_chunk)
                .min((seg.len - self.pos) as usize)
                .min(max);
            self.pos += n as u64;
            let out = &self.chunk[in_chunk..in_chunk + n];
            if let Some(h) = self.hasher.as_mut() {
                h.update(out);
            }
            return Ok(out);
        }
    }

    /// Reads the whole blob into memory.
    pub fn read_all(mut self) -> Result<Vec<u8>> {
        let mut v = Vec::with_capacity(self.size.min(1 << 30) as usize);
        loop {
            let s = self.next_slice(usize::MAX)?;
            if s.is_empty() {
                return Ok(v);
            }
            v.extend_from_slice(s);
        }
    }
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let s = self.next_slice(buf.len())?;
        buf[..s.len()].copy_from_slice(s);
        Ok(s.len())
    }
}
