//! Near-optimal parsing for the higher levels.
//!
//! The matches of every position are found once (each longer than all closer ones, so that any
//! length up to a match's length can use the closest offset that reaches it). Then a shortest
//! path from the end of the chunk to its start chooses literals and match lengths under a cost
//! model in bits; the path's symbol frequencies give a Huffman code, whose codeword lengths are
//! the cost model of the next pass. Costs of the first pass come from the chunk's byte
//! histogram.

use super::matchfinder::HashChains;
use super::{END_OF_DATA, MAX_CODEWORD_LEN, MAX_MATCH_LEN, MIN_MATCH_LEN, NUM_SYMBOLS};
use crate::huffman::CodeBuilder;

/// Matches kept per position.
const MAX_MATCHES: usize = 16;
/// Bits charged for a symbol the current code does not contain.
const UNUSED_SYMBOL_COST: u32 = 13;
/// First-pass cost of every match symbol.
const DEFAULT_MATCH_SYMBOL_COST: u32 = 8;

/// A choice of the parse: 0 for a literal, else `len << 16 | offset`.
pub type Choice = u32;

/// How hard to search and optimize.
#[derive(Debug, Clone, Copy)]
pub struct Effort {
    /// A match this long is taken without searching the positions it covers.
    pub nice_len: usize,
    /// Chain entries visited per position.
    pub depth: u32,
    /// Shortest-path passes, each with the costs of the previous path's code.
    pub passes: u32,
}

#[derive(Debug, Clone)]
pub struct NearOptimal {
    /// Matches of all positions; those of position `p` are `matches[starts[p]..starts[p + 1]]`.
    matches: Vec<u32>,
    starts: Vec<u32>,
    /// Cheapest cost from each position to the end, and the first choice of that path.
    cost: Vec<u32>,
    choice: Vec<Choice>,
    sym_cost: [u32; NUM_SYMBOLS],
    freqs: [u32; NUM_SYMBOLS],
    lens: [u8; NUM_SYMBOLS],
}

/// Bits of the bytes that follow a length header of 15.
#[inline(always)]
fn extra_length_bits(adjusted: usize) -> u32 {
    if adjusted < 0xF {
        0
    } else if adjusted - 0xF < 0xFF {
        8
    } else {
        24
    }
}

impl NearOptimal {
    pub fn new(max_chunk_size: usize) -> Self {
        NearOptimal {
            matches: Vec::with_capacity(max_chunk_size * MAX_MATCHES),
            starts: Vec::with_capacity(max_chunk_size + 1),
            cost: Vec::with_capacity(max_chunk_size + 1),
            choice: Vec::with_capacity(max_chunk_size),
            sym_cost: [0; NUM_SYMBOLS],
            freqs: [0; NUM_SYMBOLS],
            lens: [0; NUM_SYMBOLS],
        }
    }

    /// Finds the matches of every position of the `n`-byte window of `mf` (already reset).
    /// A match of `nice_len` or more is taken as is: the positions it covers are not searched.
    fn find_matches(&mut self, mf: &mut HashChains, n: usize, nice_len: usize, depth: u32) {
        self.matches.clear();
        self.starts.clear();
        let mut pos = 0;
        while pos < n {
            self.starts.push(self.matches.len() as u32);
            if pos + 4 > n {
                pos += 1;
                continue;
            }
            let before = self.matches.len();
            let max_len = (n - pos).min(MAX_MATCH_LEN);
            mf.collect_matches(
                pos,
                max_len,
                nice_len,
                depth,
                &mut self.matches,
                MAX_MATCHES,
            );
            let longest = self.matches[before..]
                .last()
                .map_or(0, |&m| (m >> 16) as usize);
            if longest >= nice_len.min(max_len) && longest > 0 {
                for p in pos + 1..pos + longest {
                    self.starts.push(self.matches.len() as u32);
                    mf.skip(p);
                }
                pos += longest;
            } else {
                pos += 1;
            }
        }
        self.starts.push(self.matches.len() as u32);
    }

    /// First-pass costs: literals from the byte histogram, matches a flat guess.
    fn set_initial_costs(&mut self, data: &[u8]) {
        let mut counts = [0u32; 256];
        for &b in data {
            counts[b as usize] += 1;
        }
        let total = data.len().max(1) as f64;
        for (cost, &c) in self.sym_cost.iter_mut().zip(&counts) {
            *cost = if c == 0 {
                UNUSED_SYMBOL_COST
            } else {
                ((total / f64::from(c)).log2().round() as u32).clamp(1, MAX_CODEWORD_LEN)
            };
        }
        self.sym_cost[256..].fill(DEFAULT_MATCH_SYMBOL_COST);
    }

    /// Shortest path from the end: `cost[p]` is the cheapest coding of `data[p..]`.
    fn shortest_path(&mut self, data: &[u8]) {
        let n = data.len();
        self.cost.clear();
        self.cost.resize(n + 1, 0);
        self.choice.clear();
        self.choice.resize(n, 0);
        for pos in (0..n).rev() {
            let mut best = self.sym_cost[data[pos] as usize] + self.cost[pos + 1];
            let mut choice = 0;
            let mut len = MIN_MATCH_LEN;
            let range = self.starts[pos] as usize..self.starts[pos + 1] as usize;
            for &m in &self.matches[range] {
                let (match_len, offset) = ((m >> 16) as usize, m & 0xFFFF);
                let offset_log = offset.ilog2();
                let base = 256 + ((offset_log as usize) << 4);
                while len <= match_len {
                    let adjusted = len - MIN_MATCH_LEN;
                    let c = self.sym_cost[base + adjusted.min(0xF)]
                        + offset_log
                        + extra_length_bits(adjusted)
                        + self.cost[pos + len];
                    if c < best {
                        best = c;
                        choice = ((len as u32) << 16) | offset;
                    }
                    len += 1;
                }
            }
            self.cost[pos] = best;
            self.choice[pos] = choice;
        }
    }

    /// Costs of the next pass: codeword lengths of a code built for the current path.
    fn update_costs(&mut self, data: &[u8], builder: &mut CodeBuilder) {
        self.freqs = [0; NUM_SYMBOLS];
        let mut pos = 0;
        while pos < data.len() {
            let c = self.choice[pos];
            if c == 0 {
                self.freqs[data[pos] as usize] += 1;
                pos += 1;
            } else {
                let (len, offset) = ((c >> 16) as usize, c & 0xFFFF);
                let adjusted = len - MIN_MATCH_LEN;
                self.freqs[256 + ((offset.ilog2() as usize) << 4) + adjusted.min(0xF)] += 1;
                pos += len;
            }
        }
        self.freqs[END_OF_DATA] += 1;
        builder.build_lengths(&self.freqs, MAX_CODEWORD_LEN, &mut self.lens);
        for (cost, &l) in self.sym_cost.iter_mut().zip(&self.lens) {
            *cost = if l == 0 {
                UNUSED_SYMBOL_COST
            } else {
                u32::from(l)
            };
        }
    }

    /// Parses `data` (the window of `mf`, already reset) and calls `emit` with each choice of
    /// the final path, in order, with the byte at its position.
    pub fn parse(
        &mut self,
        mf: &mut HashChains,
        data: &[u8],
        effort: Effort,
        builder: &mut CodeBuilder,
        mut emit: impl FnMut(Choice, u8),
    ) {
        let Effort {
            nice_len,
            depth,
            passes,
        } = effort;
        self.find_matches(mf, data.len(), nice_len, depth);
        self.set_initial_costs(data);
        for pass in 0..passes.max(1) {
            if pass > 0 {
                self.update_costs(data, builder);
            }
            self.shortest_path(data);
        }
        let mut pos = 0;
        while pos < data.len() {
            let c = self.choice[pos];
            emit(c, data[pos]);
            pos += if c == 0 { 1 } else { (c >> 16) as usize };
        }
    }
}
