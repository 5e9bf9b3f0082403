//! The LZX decompressor (WIM variant).

use super::bitio::BitReader;
use super::huffman::DecodeTable;
use super::*;
use crate::{DecodeError, Decompressor};

const MAIN_TABLE_BITS: u32 = 11;
const LEN_TABLE_BITS: u32 = 9;
const ALIGNED_TABLE_BITS: u32 = 7;
const PRE_TABLE_BITS: u32 = 6;

/// Decompresses WIM LZX chunks of up to the maximum chunk size given at creation.
pub struct LzxDecompressor {
    max_chunk_size: usize,
    num_main_syms: usize,
    window_order: u32,
    main_lens: [u8; MAX_MAIN_SYMS],
    len_lens: [u8; LEN_SYMS],
    main: DecodeTable,
    len: DecodeTable,
    aligned: DecodeTable,
    pre: DecodeTable,
}

impl LzxDecompressor {
    /// A decompressor for chunks of up to `max_chunk_size` bytes; the window (and so the number of
    /// main symbols) follows from it, as in the WIM header's chunk size.
    pub fn new(max_chunk_size: usize) -> Self {
        let window_order = window_order(max_chunk_size);
        LzxDecompressor {
            max_chunk_size,
            num_main_syms: NUM_CHARS + 8 * num_offset_slots(window_order),
            window_order,
            main_lens: [0; MAX_MAIN_SYMS],
            len_lens: [0; LEN_SYMS],
            main: DecodeTable::new(MAIN_TABLE_BITS),
            len: DecodeTable::new(LEN_TABLE_BITS),
            aligned: DecodeTable::new(ALIGNED_TABLE_BITS),
            pre: DecodeTable::new(PRE_TABLE_BITS),
        }
    }

    /// Reads a pretree and the code lengths it encodes, as deltas from the previous lengths.
    fn read_lens(
        pre: &mut DecodeTable,
        r: &mut BitReader<'_>,
        lens: &mut [u8],
    ) -> Result<(), DecodeError> {
        let mut pre_lens = [0u8; PRE_SYMS];
        for l in &mut pre_lens {
            *l = r.read(4) as u8;
        }
        pre.build(&pre_lens, MAX_PRE_CODEWORD)
            .map_err(|_| DecodeError::BadHuffmanCode)?;
        let mut i = 0;
        while i < lens.len() {
            r.ensure(32);
            let sym = pre.decode(r).ok_or(DecodeError::BadHuffmanCode)?;
            // 0..=16: delta; 17: 4..=19 zeros; 18: 20..=51 zeros; 19: 4..=5 equal lengths.
            let (run, value) = match sym {
                17 => (4 + r.read(4) as usize, 0),
                18 => (20 + r.read(5) as usize, 0),
                19 => {
                    let run = 4 + r.read(1) as usize;
                    r.ensure(16);
                    let d = pre.decode(r).ok_or(DecodeError::BadHuffmanCode)?;
                    if d > 16 {
                        return Err(DecodeError::BadHuffmanCode);
                    }
                    (run, (u32::from(lens[i]) + 17 - d) % 17)
                }
                d => (1, (u32::from(lens[i]) + 17 - d) % 17),
            };
            // A run past the end of the code is cut off (no encoder writes one on purpose).
            let end = (i + run).min(lens.len());
            lens[i..end].fill(value as u8);
            i = end;
        }
        Ok(())
    }

    fn decode_chunk(&mut self, input: &[u8], out: &mut [u8]) -> Result<(), DecodeError> {
        self.main_lens.fill(0);
        self.len_lens.fill(0);
        let mut rep = [1u32; 3];
        let mut r = BitReader::new(input);
        let mut pos = 0usize;
        // End of the current block in the output; a match may run past it into the next block.
        let mut block_end = 0usize;
        let n_main = self.num_main_syms;

        while block_end < out.len() {
            let block_type = r.read(3);
            let block_size = if r.read(1) == 1 {
                DEFAULT_BLOCK_SIZE
            } else if self.window_order >= 16 {
                r.read(24) as usize
            } else {
                r.read(16) as usize
            };
            if block_size == 0 {
                return Err(DecodeError::BadBlock("block of size 0"));
            }
            if block_size > out.len() - block_end {
                return Err(DecodeError::Overrun {
                    expected: out.len(),
                });
            }
            block_end += block_size;

            match block_type {
                BLOCK_VERBATIM | BLOCK_ALIGNED => {
                    let aligned = block_type == BLOCK_ALIGNED;
                    if aligned {
                        let mut al = [0u8; ALIGNED_SYMS];
                        for l in &mut al {
                            *l = r.read(3) as u8;
                        }
                        self.aligned
                            .build(&al, MAX_ALIGNED_CODEWORD)
                            .map_err(|_| DecodeError::BadHuffmanCode)?;
                    }
                    Self::read_lens(&mut self.pre, &mut r, &mut self.main_lens[..NUM_CHARS])?;
                    Self::read_lens(
                        &mut self.pre,
                        &mut r,
                        &mut self.main_lens[NUM_CHARS..n_main],
                    )?;
                    Self::read_lens(&mut self.pre, &mut r, &mut self.len_lens)?;
                    self.main
                        .build(&self.main_lens[..n_main], MAX_MAIN_CODEWORD)
                        .map_err(|_| DecodeError::BadHuffmanCode)?;
                    self.len
                        .build(&self.len_lens, MAX_LEN_CODEWORD)
                        .map_err(|_| DecodeError::BadHuffmanCode)?;
                    if r.overrun() {
                        return Err(DecodeError::Truncated);
                    }
                    pos = self.decode_symbols(&mut r, out, pos, block_end, aligned, &mut rep)?;
                    if r.overrun() {
                        return Err(DecodeError::Truncated);
                    }
                }
                BLOCK_UNCOMPRESSED => {
                    if pos != block_end - block_size {
                        return Err(DecodeError::BadBlock(
                            "match runs into an uncompressed block",
                        ));
                    }
                    let start = r.align_for_raw();
                    let hdr = input.get(start..start + 12).ok_or(DecodeError::Truncated)?;
                    for (k, rv) in rep.iter_mut().enumerate() {
                        *rv =
                            u32::from_le_bytes(hdr[4 * k..4 * k + 4].try_into().expect("4 bytes"));
                    }
                    let data = start + 12;
                    let raw = input
                        .get(data..data + block_size)
                        .ok_or(DecodeError::Truncated)?;
                    out[pos..block_end].copy_from_slice(raw);
                    pos = block_end;
                    // An odd-sized block is followed by one byte of padding.
                    let next = data + block_size + (block_size & 1);
                    r = BitReader::at(input, next);
                }
                _ => return Err(DecodeError::BadBlock("invalid block type")),
            }
        }
        if pos != out.len() {
            return Err(DecodeError::Overrun {
                expected: out.len(),
            });
        }
        e8::decode(out);
        Ok(())
    }

    /// Decodes literals and matches until `pos` reaches `block_end`; returns the new position
    /// (past `block_end` when the last match runs into the next block).
    #[inline(always)]
    fn decode_symbols(
        &self,
        r: &mut BitReader<'_>,
        out: &mut [u8],
        mut pos: usize,
        block_end: usize,
        aligned: bool,
        rep: &mut [u32; 3],
    ) -> Result<usize, DecodeError> {
        let main = &self.main;
        let lens = &self.len;
        let al = &self.aligned;
        while pos < block_end {
            r.ensure(32);
            let sym = main.decode(r).ok_or(DecodeError::BadHuffmanCode)? as usize;
            if sym < NUM_CHARS {
                out[pos] = sym as u8;
                pos += 1;
                continue;
            }
            let sym = sym - NUM_CHARS;
            let mut len = (sym & 7) + MIN_MATCH;
            if sym & 7 == NUM_PRIMARY_LENS {
                len += lens.decode(r).ok_or(DecodeError::BadHuffmanCode)? as usize;
            }
            let slot = sym >> 3;
            let offset = match slot {
                0 => rep[0],
                1 => {
                    rep.swap(0, 1);
                    rep[0]
                }
                2 => {
                    rep.swap(0, 2);
                    rep[0]
                }
                _ => {
                    let extra = u32::from(SLOT_EXTRA[slot]);
                    r.ensure(32);
                    let bits = if aligned && extra >= 3 {
                        let hi = r.read(extra - 3) << 3;
                        r.ensure(16);
                        hi + al.decode(r).ok_or(DecodeError::BadHuffmanCode)?
                    } else {
                        r.read(extra)
                    };
                    let off = SLOT_BASE[slot] + bits - 2;
                    rep[2] = rep[1];
                    rep[1] = rep[0];
                    rep[0] = off;
                    off
                }
            } as usize;
            if offset > pos || offset == 0 {
                return Err(DecodeError::OffsetTooFar {
                    position: pos,
                    offset,
                });
            }
            if len > out.len() - pos {
                return Err(DecodeError::Overrun {
                    expected: out.len(),
                });
            }
            let src = pos - offset;
            if offset >= len {
                out.copy_within(src..src + len, pos);
            } else if offset == 1 {
                let b = out[src];
                out[pos..pos + len].fill(b);
            } else {
                // Overlapping: the bytes repeat with period `offset`, so copy in pieces that
                // do not overlap their source, each as long as everything copied so far.
                let mut done = 0;
                while done < len {
                    let n = (offset + done).min(len - done);
                    out.copy_within(src..src + n, pos + done);
                    done += n;
                }
            }
            pos += len;
        }
        Ok(pos)
    }
}

impl Decompressor for LzxDecompressor {
    fn decompress(&mut self, input: &[u8], output: &mut [u8]) -> Result<(), DecodeError> {
        if output.len() > self.max_chunk_size {
            return Err(DecodeError::Overrun {
                expected: self.max_chunk_size,
            });
        }
        if output.is_empty() {
            return Ok(());
        }
        self.decode_chunk(input, output)
    }
}

#[cfg(test)]
mod tests {
    use super::super::bitio::BitWriter;
    use super::super::block::{BlockWriter, Codes, Freqs, Item};
    use super::*;

    /// Writes a verbatim block of `items` (covering `size` bytes).
    fn verbatim(bw: &mut BlockWriter, w: &mut BitWriter<'_>, items: &[Item], size: usize) {
        let mut freqs = Freqs::default();
        freqs.add_all(items);
        let mut codes = Codes::default();
        let n_main = NUM_CHARS + 8 * 30;
        codes.build(&freqs, n_main, &mut bw.scratch);
        bw.write_block(w, items, size, &codes, &freqs, n_main, 15);
    }

    #[test]
    fn uncompressed_blocks_between_compressed_ones() {
        let mut buf = vec![0u8; 4096];
        let mut w = BitWriter::new(&mut buf);
        let mut bw = BlockWriter::default();
        let mut want = Vec::new();
        // 1: "abcabcabc" as 3 literals and a match of 6 at offset 3.
        let items = [
            Item::literal(b'a'),
            Item::literal(b'b'),
            Item::literal(b'c'),
            Item::matched(6, 5),
        ];
        verbatim(&mut bw, &mut w, &items, 9);
        want.extend_from_slice(b"abcabcabc");
        // 2: 5 raw bytes (odd: one byte of padding follows), repeat offsets set to 2, 1, 1.
        bw.write_uncompressed(&mut w, b"hello", [2, 1, 1], 15);
        want.extend_from_slice(b"hello");
        // 3: a match at repeat offset R0 = 2 ("lo" -> "lolo"), then a literal.
        let items = [Item::matched(4, 0), Item::literal(b'!')];
        verbatim(&mut bw, &mut w, &items, 5);
        want.extend_from_slice(b"lolo!");
        // 4: an even-sized raw block, then the end.
        bw.write_uncompressed(&mut w, b"0123", [1, 1, 1], 15);
        want.extend_from_slice(b"0123");
        let n = w.finish().expect("fits");
        let mut d = LzxDecompressor::new(1 << 15);
        let mut out = vec![0u8; want.len()];
        d.decompress(&buf[..n], &mut out).expect("decodes");
        assert_eq!(out, want);
        // Every truncation is an error, not a panic.
        for cut in 0..n {
            assert!(d.decompress(&buf[..cut], &mut out).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn bad_offsets_and_sizes_are_errors() {
        let mut buf = vec![0u8; 256];
        let mut w = BitWriter::new(&mut buf);
        let mut bw = BlockWriter::default();
        // A match at offset 5 from position 1.
        verbatim(&mut bw, &mut w, &[Item::literal(1), Item::matched(3, 7)], 4);
        let n = w.finish().expect("fits");
        let mut d = LzxDecompressor::new(1 << 15);
        let mut out = [0u8; 4];
        assert_eq!(
            d.decompress(&buf[..n], &mut out),
            Err(DecodeError::OffsetTooFar {
                position: 1,
                offset: 5
            })
        );
        // Output larger than the block: the stream ends early.
        let mut out = [0u8; 40];
        assert!(d.decompress(&buf[..n], &mut out).is_err());
        // Output larger than the chunk size.
        let mut big = vec![0u8; (1 << 15) + 1];
        assert!(matches!(
            d.decompress(&buf[..n], &mut big),
            Err(DecodeError::Overrun { .. })
        ));
    }
}
