//! XPRESS Huffman compression: greedy, lazy or near-optimal parsing on hash chains, then one
//! Huffman code built from the chunk's symbol frequencies.

use super::matchfinder::{HashChains, Match, WINDOW};
use super::near_optimal::{Effort, NearOptimal};
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
    /// Shortest path under a cost model refined over this many passes.
    NearOptimal { passes: u32 },
}

/// Parameters derived from a level on wimlib's scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Params {
    parser: Parser,
    /// Chain entries visited per search.
    depth: u32,
    /// Chain entries visited when looking one position ahead of a match (lazy parsing).
    lazy_depth: u32,
    /// A current match this long is taken without looking ahead (lazy parsing).
    max_lazy: usize,
    /// A match this long ends the search.
    nice_len: usize,
}

impl Params {
    /// Level 50 trades a little ratio for speed against wimlib's level 50 (depth 46, nice 93,
    /// half-depth lookahead at every match): a shallower lookahead only for matches shorter than
    /// 16 bytes costs about 1% of size and saves a quarter of the time. Levels from 60 parse
    /// near-optimally, like wimlib's.
    fn for_level(level: u32) -> Params {
        let greedy = |depth, nice_len| Params {
            parser: Parser::Greedy,
            depth,
            lazy_depth: 0,
            max_lazy: 0,
            nice_len,
        };
        let lazy = |depth, nice_len, lazy_depth, max_lazy| Params {
            parser: Parser::Lazy,
            depth,
            lazy_depth,
            max_lazy,
            nice_len,
        };
        match level {
            0..10 => greedy(2, 16),
            10..30 => greedy(4 + level / 5, 32),
            30..50 => lazy(16, 48, 4, 12),
            50..60 => lazy(32, 64, 8, 16),
            _ => {
                let level = level.min(1000);
                Params {
                    parser: Parser::NearOptimal {
                        passes: if level < 80 { 2 } else { 3 },
                    },
                    depth: 24 + level / 4,
                    lazy_depth: 0,
                    max_lazy: 0,
                    nice_len: (level as usize * 56 / 100).max(32),
                }
            }
        }
    }
}

/// An item of the parse: a literal byte (< 256) or `offset << 16 | (length - 3)`.
type Item = u32;

/// The parse of a chunk and its statistics.
#[derive(Debug, Clone)]
struct Tally {
    items: Vec<Item>,
    freqs: [u32; NUM_SYMBOLS],
    /// Interleaved length bytes the items need.
    extra_bytes: u64,
}

impl Tally {
    fn clear(&mut self) {
        self.items.clear();
        self.freqs = [0; NUM_SYMBOLS];
        self.extra_bytes = 0;
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
}

/// Compresses chunks of up to the maximum chunk size given at creation.
#[derive(Debug, Clone)]
pub struct XpressCompressor {
    params: Params,
    max_chunk_size: usize,
    mf: HashChains,
    /// Present for the near-optimal levels only.
    near: Option<Box<NearOptimal>>,
    tally: Tally,
    lens: [u8; NUM_SYMBOLS],
    codes: [u32; NUM_SYMBOLS],
    builder: CodeBuilder,
    scratch: crate::incompressible::Scratch,
}

impl XpressCompressor {
    /// A compressor for chunks of up to `max_chunk_size` bytes (at most 64 KiB) at `level`
    /// (wimlib's scale: below 30 greedy, 30–59 lazy, from 60 near-optimal; 50 is the default).
    pub fn new(max_chunk_size: usize, level: u32) -> Self {
        let max_chunk_size = max_chunk_size.min(WINDOW);
        let params = Params::for_level(level);
        let near = matches!(params.parser, Parser::NearOptimal { .. })
            .then(|| Box::new(NearOptimal::new(max_chunk_size)));
        XpressCompressor {
            params,
            max_chunk_size,
            mf: HashChains::new(),
            near,
            tally: Tally {
                items: Vec::with_capacity(max_chunk_size + 1),
                freqs: [0; NUM_SYMBOLS],
                extra_bytes: 0,
            },
            lens: [0; NUM_SYMBOLS],
            codes: [0; NUM_SYMBOLS],
            builder: CodeBuilder::new(NUM_SYMBOLS),
            scratch: Default::default(),
        }
    }

    /// Whether a match is worth more than its literals: a length-3 match far back costs more
    /// offset bits than three literals usually do.
    #[inline(always)]
    fn acceptable(m: Match, len3_too_far: usize) -> bool {
        m.len > MIN_MATCH_LEN || (m.len == MIN_MATCH_LEN && m.offset < len3_too_far)
    }

    fn parse(&mut self, data: &[u8]) {
        let n = data.len();
        let Params {
            parser,
            depth,
            lazy_depth,
            max_lazy,
            nice_len,
        } = self.params;
        if let (Parser::NearOptimal { passes }, Some(near)) = (parser, self.near.as_mut()) {
            let tally = &mut self.tally;
            near.parse(
                &mut self.mf,
                data,
                Effort {
                    nice_len,
                    depth,
                    passes,
                },
                &mut self.builder,
                |c, b| {
                    if c == 0 {
                        tally.literal(b);
                    } else {
                        tally.matched(Match {
                            len: (c >> 16) as usize,
                            offset: (c & 0xFFFF) as usize,
                        });
                    }
                },
            );
            return;
        }
        let len3_too_far = if n <= 8192 { 2048 } else { 4096 };
        let mut pos = 0;
        // Searching needs 4 bytes of lookahead; the last bytes go out as literals.
        while pos + 4 <= n {
            let max_len = (n - pos).min(MAX_MATCH_LEN);
            let mut cur = self.mf.longest_match(pos, 2, max_len, nice_len, depth);
            if !Self::acceptable(cur, len3_too_far) {
                self.tally.literal(data[pos]);
                pos += 1;
                continue;
            }
            if parser == Parser::Lazy {
                // While the next position has a longer match, emit a literal and move on.
                while cur.len < max_lazy && pos + 5 <= n {
                    let max_len = (n - pos - 1).min(MAX_MATCH_LEN);
                    let next =
                        self.mf
                            .longest_match(pos + 1, cur.len, max_len, nice_len, lazy_depth);
                    if next.len <= cur.len {
                        // pos + 1 is now inserted; skip it below.
                        self.tally.matched(cur);
                        for p in pos + 2..pos + cur.len {
                            self.mf.skip(p);
                        }
                        pos += cur.len;
                        cur.len = 0;
                        break;
                    }
                    self.tally.literal(data[pos]);
                    pos += 1;
                    cur = next;
                }
                if cur.len == 0 {
                    continue;
                }
            }
            self.tally.matched(cur);
            for p in pos + 1..pos + cur.len {
                self.mf.skip(p);
            }
            pos += cur.len;
        }
        while pos < n {
            self.tally.literal(data[pos]);
            pos += 1;
        }
    }

    /// Builds the Huffman code and returns the exact compressed size.
    fn plan(&mut self) -> usize {
        self.tally.freqs[END_OF_DATA] += 1;
        self.builder
            .build_lengths(&self.tally.freqs, MAX_CODEWORD_LEN, &mut self.lens);
        canonical_codes(&self.lens, &mut self.codes);
        let mut bits: u64 = 0;
        for (sym, (&f, &l)) in self.tally.freqs.iter().zip(&self.lens).enumerate() {
            let offset_bits = if sym >= 256 {
                ((sym - 256) >> 4) as u64
            } else {
                0
            };
            bits += u64::from(f) * (u64::from(l) + offset_bits);
        }
        TABLE_SIZE + BitWriter::size_for(bits, self.tally.extra_bytes) as usize
    }

    fn write(&self, out: &mut [u8]) -> Option<usize> {
        let (table, rest) = out.split_at_mut_checked(TABLE_SIZE)?;
        for (i, b) in table.iter_mut().enumerate() {
            *b = self.lens[2 * i] | (self.lens[2 * i + 1] << 4);
        }
        let mut w = BitWriter::new(rest);
        for &item in &self.tally.items {
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
        if crate::incompressible::is_incompressible(input, &mut self.scratch) {
            return None;
        }
        self.tally.clear();
        self.mf.reset(input);
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
