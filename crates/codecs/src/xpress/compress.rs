//! XPRESS Huffman compression: greedy or lazy parsing on hash chains, then one Huffman code
//! built from the chunk's symbol frequencies.

use super::matchfinder::{HashChains, Match, WINDOW};
use super::{END_OF_DATA, MAX_CODEWORD_LEN, MAX_MATCH_LEN, MIN_MATCH_LEN, NUM_SYMBOLS, TABLE_SIZE};
use crate::Compressor;
use crate::bitio::BitWriter;
use crate::huffman::{CodeBuilder, canonical_codes};

/// How the compressor chooses between literals and matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parser {
    /// Takes the longest match at each position.
    Greedy,
    /// Before taking a match, looks one position ahead for a longer one (repeatedly).
    Lazy,
}

/// Parameters derived from a level on wimlib's scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Params {
    parser: Parser,
    /// Chain entries visited per search.
    depth: u32,
    /// A match this long ends the search.
    nice_len: usize,
}

impl Params {
    fn for_level(level: u32) -> Params {
        let level = level.clamp(1, 1000);
        if let (Ok(d), Ok(n)) = (std::env::var("XD"), std::env::var("XN")) {
            return Params { parser: Parser::Lazy, depth: d.parse().unwrap(), nice_len: n.parse().unwrap() };
        }
        if level < 30 {
            Params {
                parser: Parser::Greedy,
                depth: (level * 30 / 16).max(1),
                nice_len: (level as usize * 60 / 16).max(8),
            }
        } else {
            // Level 50: depth 46, nice length 93.
            Params {
                parser: Parser::Lazy,
                depth: (level * 30 / 32).max(2),
                nice_len: (level as usize * 60 / 32).max(16),
            }
        }
    }
}

/// An item of the parse: a literal byte (< 256) or `offset << 16 | (length - 3)`.
type Item = u32;

/// Compresses chunks of up to the maximum chunk size given at creation.
#[derive(Debug, Clone)]
pub struct XpressCompressor {
    params: Params,
    max_chunk_size: usize,
    mf: HashChains,
    items: Vec<Item>,
    freqs: [u32; NUM_SYMBOLS],
    lens: [u8; NUM_SYMBOLS],
    codes: [u32; NUM_SYMBOLS],
    /// Interleaved length bytes the items need.
    extra_bytes: u64,
    builder: CodeBuilder,
}

impl XpressCompressor {
    /// A compressor for chunks of up to `max_chunk_size` bytes (at most 64 KiB) at `level`
    /// (wimlib's scale: below 30 greedy, else lazy; 50 is the default).
    pub fn new(max_chunk_size: usize, level: u32) -> Self {
        let max_chunk_size = max_chunk_size.min(WINDOW);
        XpressCompressor {
            params: Params::for_level(level),
            max_chunk_size,
            mf: HashChains::new(),
            items: Vec::with_capacity(max_chunk_size + 1),
            freqs: [0; NUM_SYMBOLS],
            lens: [0; NUM_SYMBOLS],
            codes: [0; NUM_SYMBOLS],
            extra_bytes: 0,
            builder: CodeBuilder::new(NUM_SYMBOLS),
        }
    }

    #[inline(always)]
    fn literal(&mut self, b: u8) {
        self.freqs[b as usize] += 1;
        self.items.push(Item::from(b));
    }

    #[inline(always)]
    fn matched(&mut self, m: Match) {
        let adjusted = m.len - MIN_MATCH_LEN;
        let sym = match_symbol(adjusted, m.offset);
        self.freqs[sym] += 1;
        if adjusted >= 0xF {
            self.extra_bytes += if adjusted - 0xF < 0xFF { 1 } else { 3 };
        }
        self.items.push(((m.offset as u32) << 16) | adjusted as u32);
    }

    /// Whether a match is worth more than its literals: a length-3 match far back costs more
    /// offset bits than three literals usually do.
    #[inline(always)]
    fn acceptable(m: Match, len3_too_far: usize) -> bool {
        m.len > MIN_MATCH_LEN || (m.len == MIN_MATCH_LEN && m.offset < len3_too_far)
    }

    #[inline(never)]
    fn parse(&mut self, data: &[u8]) {
        let n = data.len();
        let Params {
            parser,
            depth,
            nice_len,
        } = self.params;
        let len3_too_far = if n <= 8192 { 2048 } else { 4096 };
        let mut pos = 0;
        // Searching needs 4 bytes of lookahead; the last bytes go out as literals.
        while pos + 4 <= n {
            let max_len = (n - pos).min(MAX_MATCH_LEN);
            let mut cur = self.mf.longest_match(data, pos, 2, max_len, nice_len, depth);
            if !Self::acceptable(cur, len3_too_far) {
                self.literal(data[pos]);
                pos += 1;
                continue;
            }
            if parser == Parser::Lazy {
                // While the next position has a longer match, emit a literal and move on.
                while cur.len < nice_len && pos + 5 <= n {
                    let max_len = (n - pos - 1).min(MAX_MATCH_LEN);
                    let next =
                        self.mf.longest_match(data, pos + 1, cur.len, max_len, nice_len, depth / 2);
                    if next.len <= cur.len {
                        // pos + 1 is now inserted; skip it below.
                        self.matched(cur);
                        for p in pos + 2..pos + cur.len {
                            self.mf.skip(data, p);
                        }
                        pos += cur.len;
                        cur.len = 0;
                        break;
                    }
                    self.literal(data[pos]);
                    pos += 1;
                    cur = next;
                }
                if cur.len == 0 {
                    continue;
                }
            }
            self.matched(cur);
            for p in pos + 1..pos + cur.len {
                self.mf.skip(data, p);
            }
            pos += cur.len;
        }
        while pos < n {
            self.literal(data[pos]);
            pos += 1;
        }
    }

    /// Builds the Huffman code and returns the exact compressed size.
    #[inline(never)]
    fn plan(&mut self) -> usize {
        self.freqs[END_OF_DATA] += 1;
        self.builder
            .build_lengths(&self.freqs, MAX_CODEWORD_LEN, &mut self.lens);
        canonical_codes(&self.lens, &mut self.codes);
        let mut bits: u64 = 0;
        for (sym, (&f, &l)) in self.freqs.iter().zip(&self.lens).enumerate() {
            let offset_bits = if sym >= 256 {
                ((sym - 256) >> 4) as u64
            } else {
                0
            };
            bits += u64::from(f) * (u64::from(l) + offset_bits);
        }
        TABLE_SIZE + BitWriter::size_for(bits, self.extra_bytes) as usize
    }

    #[inline(never)]
    fn write(&self, out: &mut [u8]) -> Option<usize> {
        let (table, rest) = out.split_at_mut_checked(TABLE_SIZE)?;
        for (i, b) in table.iter_mut().enumerate() {
            *b = self.lens[2 * i] | (self.lens[2 * i + 1] << 4);
        }
        let mut w = BitWriter::new(rest);
        for &item in &self.items {
            if item < 256 {
                let i = item as usize;
                w.write_bits(self.codes[i], u32::from(self.lens[i]));
                continue;
            }
            let adjusted = (item & 0xFFFF) as usize;
            let offset = (item >> 16) as usize;
            let offset_log = offset.ilog2();
            let sym = match_symbol(adjusted, offset);
            w.write_bits(self.codes[sym], u32::from(self.lens[sym]));
            if adjusted >= 0xF {
                if adjusted - 0xF < 0xFF {
                    w.write_u8((adjusted - 0xF) as u8);
                } else {
                    w.write_u8(0xFF);
                    w.write_u16(adjusted as u16);
                }
            }
            w.write_bits(offset as u32 - (1 << offset_log), offset_log);
        }
        w.write_bits(self.codes[END_OF_DATA], u32::from(self.lens[END_OF_DATA]));
        w.finish().map(|n| n + TABLE_SIZE)
    }
}

/// The symbol of a match of length `adjusted + 3` at `offset`.
#[inline(always)]
fn match_symbol(adjusted: usize, offset: usize) -> usize {
    256 + ((offset.ilog2() as usize) << 4) + adjusted.min(0xF)
}

impl Compressor for XpressCompressor {
    fn compress(&mut self, input: &[u8], output: &mut [u8]) -> Option<usize> {
        // Even an empty block costs the 256-byte table and two words.
        if input.len() <= TABLE_SIZE + 4 || input.len() > self.max_chunk_size {
            return None;
        }
        self.items.clear();
        self.freqs = [0; NUM_SYMBOLS];
        self.extra_bytes = 0;
        self.mf.reset();
        self.parse(input);
        let size = self.plan();
        if size >= input.len() || size > output.len() {
            return None;
        }
        let written = self.write(output)?;
        debug_assert_eq!(written, size);
        Some(written)
    }
}
