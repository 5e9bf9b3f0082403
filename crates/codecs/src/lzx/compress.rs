//! The LZX compressor (WIM variant): E8 translation, parsing into items, block output.

use super::bitio::BitWriter;
use super::block::{BlockWriter, Codes, Freqs, Item};
use super::lazy::{self, LazyParams};
use super::matchfind::HashChains;
use super::optimal::{NearOptimal, OptimalParams};
use super::*;
use crate::Compressor;

/// Levels below this use lazy parsing on hash chains; from it on, near-optimal parsing.
pub const NEAR_OPTIMAL_LEVEL: u32 = 35;

/// Uncompressed bytes per block when splitting a chunk at fixed intervals.
const FIXED_BLOCK: usize = 32_768;

/// Hash chains with positions as narrow as the chunk size allows.
enum Chains {
    Small(HashChains<u16>),
    Large(HashChains<u32>),
}

enum Parser {
    Lazy { hc: Chains, params: LazyParams },
    Optimal(Box<NearOptimal>),
}

/// Compresses WIM LZX chunks of up to the maximum chunk size given at creation.
pub struct LzxCompressor {
    max_chunk_size: usize,
    window_order: u32,
    num_main_syms: usize,
    parser: Parser,
    buf: Vec<u8>,
    items: Vec<Item>,
    blocks: BlockWriter,
    freqs: Freqs,
    codes: Codes,
    scratch: crate::incompressible::Scratch,
}

impl LzxCompressor {
    /// A compressor for chunks of up to `max_chunk_size` bytes at `level` on wimlib's scale
    /// (1 = fastest; 20 = wimlib's fast level; 50 = default; 100+ = slower, smaller).
    pub fn new(max_chunk_size: usize, level: u32) -> Self {
        let window_order = window_order(max_chunk_size);
        let level = level.max(1);
        // 64 Ki buckets for chunks up to 64 KiB (as wimlib): a little faster and smaller than 32 Ki
        // on the bench corpus (fewer unrelated strings share a chain).
        let hash_bits = if max_chunk_size <= 1 << 16 { 16 } else { 17 };
        let parser = if level < NEAR_OPTIMAL_LEVEL {
            // Level 20 (wimlib's fast level): lazy, 32 candidates (8 one byte ahead: 12 were
            // 0.08 % smaller and 2-5 % slower; 28 first candidates cost as many bytes for less
            // time), stop at 48 bytes (on the bench corpus a longer `nice` changes no byte); no
            // look ahead from a match of 24 bytes or more (+0.01 % size, ~3 % faster on logs).
            // Levels 10-19 keep that limit and at least 24 candidates (with 16 candidates and
            // no look ahead from 12 bytes, level 10 was 1.3 % larger than wimlib's level 10;
            // now 0.999 x at 0.91 x its time, codec alone). Greedy below level 10.
            let lazy = level >= 10;
            let params = LazyParams {
                depth: if lazy {
                    (level * 8 / 5).max(24)
                } else {
                    level.max(2)
                },
                nice: (level as usize * 12 / 5).clamp(16, MAX_MATCH),
                lazy,
                lazy_depth: (level * 2 / 5).max(1),
                lazy_below: (level as usize * 6 / 5).clamp(24, MAX_MATCH),
            };
            Parser::Lazy {
                hc: if max_chunk_size <= 1 << 15 {
                    Chains::Small(HashChains::new(hash_bits, max_chunk_size))
                } else {
                    Chains::Large(HashChains::new(hash_bits, max_chunk_size))
                },
                params,
            }
        } else {
            // Level 50: 16 candidates, stop at 64 bytes, one pass from a greedy model that
            // adapts every 2 KiB;
            // level 100: 32 candidates, 128 bytes, three passes.
            let params = OptimalParams {
                depth: (level * 16 / 50).max(4),
                nice: (level as usize * 64 / 50).min(MAX_MATCH),
                passes: 1
                    + u32::from(level >= 70)
                    + u32::from(level >= 100)
                    + u32::from(level >= 150),
                greedy_seed: true,
                adapt_every: 2048,
            };
            Parser::Optimal(Box::new(NearOptimal::new(params, max_chunk_size)))
        };
        LzxCompressor {
            max_chunk_size,
            window_order,
            num_main_syms: NUM_CHARS + 8 * num_offset_slots(window_order),
            parser,
            buf: Vec::with_capacity(max_chunk_size),
            items: Vec::new(),
            blocks: BlockWriter::default(),
            freqs: Freqs::default(),
            codes: Codes::default(),
            scratch: Default::default(),
        }
    }

    /// Largest offset the window allows: formatted offsets must stay below the window size.
    fn max_offset(&self) -> usize {
        (1usize << self.window_order) - 3
    }
}

/// Resets the chains and parses a chunk with the fast levels' parser.
fn parse_lazy<P: super::matchfind::Pos>(
    hc: &mut HashChains<P>,
    data: &[u8],
    params: LazyParams,
    literal: i32,
    items: &mut Vec<Item>,
) {
    hc.reset();
    lazy::parse(data, hc, params, literal, items);
}

/// What the fast levels' parser assumes a literal costs, in 1/8 bits: the chunk's order-0
/// entropy plus half a bit (the literals left between matches are a little less predictable
/// than the whole chunk), 4 to 8 bits. Text gets fewer short, distant matches than with a flat
/// 7 bits; binary data more.
fn literal_cost(entropy: f64) -> i32 {
    ((entropy + 0.5) * 8.0).round().clamp(32.0, 64.0) as i32
}

impl Compressor for LzxCompressor {
    fn compress(&mut self, input: &[u8], output: &mut [u8]) -> Option<usize> {
        if input.is_empty() || input.len() > self.max_chunk_size {
            return None;
        }
        // Already-compressed data: stored raw without parsing it (see `incompressible`).
        let entropy = crate::incompressible::entropy_bits(input);
        if crate::incompressible::is_incompressible_with(input, entropy, &mut self.scratch) {
            return None;
        }
        self.buf.clear();
        self.buf.extend_from_slice(input);
        e8::encode(&mut self.buf);
        self.items.clear();
        let max_off = self.max_offset();
        // The fast levels' hash chains reach every earlier position of the chunk.
        debug_assert!(input.len() <= max_off + 3);
        let limit = input.len().min(output.len());
        let mut w = BitWriter::new(&mut output[..limit]);
        self.blocks.reset();
        let num_main = self.num_main_syms;
        match &mut self.parser {
            Parser::Lazy { hc, params } => {
                let literal = literal_cost(entropy);
                match hc {
                    Chains::Small(hc) => {
                        parse_lazy(hc, &self.buf, *params, literal, &mut self.items)
                    }
                    Chains::Large(hc) => {
                        parse_lazy(hc, &self.buf, *params, literal, &mut self.items)
                    }
                }
                let mut start = 0;
                let mut covered = 0;
                for i in 0..self.items.len() {
                    let it = self.items[i];
                    covered += if it.len == 0 { 1 } else { it.len as usize };
                    if covered >= FIXED_BLOCK || i + 1 == self.items.len() {
                        let block = &self.items[start..=i];
                        self.freqs.clear();
                        self.freqs.add_all(block);
                        self.codes
                            .build(&self.freqs, num_main, &mut self.blocks.scratch);
                        self.blocks.write_block(
                            &mut w,
                            block,
                            covered,
                            &self.codes,
                            &self.freqs,
                            num_main,
                            self.window_order,
                        );
                        if w.len() >= limit {
                            return None;
                        }
                        start = i + 1;
                        covered = 0;
                    }
                }
            }
            Parser::Optimal(opt) => {
                opt.reset();
                let mut rep = [1u32; 3];
                let mut aligned = false;
                let n = self.buf.len();
                let mut start = 0;
                while start < n {
                    let end = (start + FIXED_BLOCK).min(n);
                    self.items.clear();
                    let prev = (start > 0).then_some((&self.codes, aligned));
                    opt.parse_block(
                        &self.buf,
                        start,
                        end,
                        max_off,
                        &mut rep,
                        prev,
                        num_main,
                        &mut self.items,
                    );
                    self.freqs.clear();
                    self.freqs.add_all(&self.items);
                    self.codes
                        .build(&self.freqs, num_main, &mut self.blocks.scratch);
                    aligned = self.codes.prefer_aligned(&self.freqs);
                    self.blocks.write_block(
                        &mut w,
                        &self.items,
                        end - start,
                        &self.codes,
                        &self.freqs,
                        num_main,
                        self.window_order,
                    );
                    // No uncompressed blocks here, even for incompressible stretches: wimlib's
                    // decoder (1.13) discards all the bits it has buffered when it aligns for
                    // one, which after a compressed block can be a whole extra 16-bit word.
                    if w.len() >= limit {
                        return None;
                    }
                    start = end;
                }
            }
        }
        let n = w.finish()?;
        (n < input.len()).then_some(n)
    }
}
