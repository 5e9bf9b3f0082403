//! The LZMS compressor: lazy parsing over hash chains, literals and LZ matches (explicit and
//! repeat offsets), each item coded as soon as it is chosen so that the adaptive codes and
//! probabilities evolve exactly as the decoder's will.
//!
//! Choices are scored in estimated bits saved (`8 × length − cost`), where the cost of an
//! explicit offset comes from the current offset code and a repeat offset costs a few range
//! coder decisions. Delta matches are never produced (the decoder reads them).

use super::adaptive_huffman::CodeEncoder;
use super::bits::BackwardWriter;
use super::probability::{Decision, Decisions};
use super::range::RangeEncoder;
use super::repeat_queue::{NAMEABLE, RepeatQueue};
use super::tables::{
    LENGTH_BASE, LENGTH_EXTRA, NUM_LENGTH_SLOTS, NUM_OFFSET_SLOTS, OFFSET_BASE, OFFSET_EXTRA,
    length_slot, num_offset_slots, offset_slot,
};
use super::x86_filter::{self, Direction};
use super::{LENGTH_REBUILD, LITERAL_REBUILD, OFFSET_REBUILD, initial_lz_queue};
use crate::Compressor;

/// Shortest explicit-offset match worth finding.
const MIN_MATCH: usize = 3;
/// Shortest repeat-offset match.
const MIN_REP_MATCH: usize = 2;
/// Most positions the hash chains link back over: their links are kept in a ring of this
/// many entries, so a 64 MiB solid chunk needs 64 MiB of links rather than 256 MiB. The chain
/// heads still name the latest position of every hash, however far back.
const CHAIN_WINDOW: usize = 1 << 24;

/// Parser settings derived from the level.
#[derive(Clone, Copy, Debug)]
struct Params {
    max_chain: u32,
    nice_len: usize,
    lazy: bool,
}

impl Params {
    fn for_level(level: u32) -> Self {
        match level {
            0..=29 => Params {
                max_chain: 8,
                nice_len: 32,
                lazy: false,
            },
            30..=59 => Params {
                max_chain: 64,
                nice_len: 128,
                lazy: true,
            },
            60..=79 => Params {
                max_chain: 128,
                nice_len: 192,
                lazy: true,
            },
            _ => Params {
                max_chain: 512,
                nice_len: 1024,
                lazy: true,
            },
        }
    }
}

/// One parsing choice at a position.
#[derive(Clone, Copy, Debug, Default)]
struct Choice {
    len: usize,
    offset: u32,
    /// The repeat queue entry named, if any.
    rep: Option<usize>,
    score: i64,
}

/// Compresses LZMS chunks of up to a maximum size; reusable across chunks.
#[derive(Debug)]
pub struct LzmsCompressor {
    max_chunk_size: usize,
    params: Params,
    hash_bits: u32,
    data: Vec<u8>,
    last_seen: Vec<i32>,
    /// Hash chains: `head[h]` and `prev[pos & chain_mask]` hold position + 1 (0 = none).
    head: Vec<u32>,
    prev: Vec<u32>,
    chain_mask: usize,
    forward: Vec<u16>,
    backward: Vec<u16>,
    literal: CodeEncoder,
    lz_offset: CodeEncoder,
    length: CodeEncoder,
    scratch: crate::incompressible::Scratch,
}

/// The coding state of one chunk.
struct Coder<'a> {
    rc: RangeEncoder,
    bits: BackwardWriter,
    d: Decisions,
    queue: RepeatQueue<u32>,
    forward: &'a mut Vec<u16>,
    backward: &'a mut Vec<u16>,
}

impl LzmsCompressor {
    /// A compressor for chunks of up to `max_chunk_size` bytes at `level` (wimlib's scale,
    /// 50 = default).
    pub fn new(max_chunk_size: usize, level: u32) -> Self {
        let hash_bits = (usize::BITS - max_chunk_size.max(1).leading_zeros()).clamp(12, 20);
        let words = max_chunk_size / 2 + 32;
        LzmsCompressor {
            max_chunk_size,
            params: Params::for_level(level),
            hash_bits,
            data: Vec::with_capacity(max_chunk_size),
            last_seen: vec![0; 65_536],
            head: vec![0; 1 << hash_bits],
            prev: vec![0; max_chunk_size.max(1).next_power_of_two().min(CHAIN_WINDOW)],
            chain_mask: max_chunk_size.max(1).next_power_of_two().min(CHAIN_WINDOW) - 1,
            forward: Vec::with_capacity(words),
            backward: Vec::with_capacity(words),
            literal: CodeEncoder::new(256, LITERAL_REBUILD),
            lz_offset: CodeEncoder::new(NUM_OFFSET_SLOTS, OFFSET_REBUILD),
            length: CodeEncoder::new(NUM_LENGTH_SLOTS, LENGTH_REBUILD),
            scratch: Default::default(),
        }
    }

    #[inline(always)]
    fn hash(&self, pos: usize) -> usize {
        let d = &self.data;
        let v = u32::from(d[pos]) | (u32::from(d[pos + 1]) << 8) | (u32::from(d[pos + 2]) << 16);
        (v.wrapping_mul(0x9E37_79B1) >> (32 - self.hash_bits)) as usize
    }

    /// Adds positions up to `end` (exclusive) to the hash chains.
    fn insert_until(&mut self, inserted: &mut usize, end: usize) {
        let last = end.min(self.data.len().saturating_sub(MIN_MATCH - 1));
        while *inserted < last {
            let h = self.hash(*inserted);
            self.prev[*inserted & self.chain_mask] = self.head[h];
            self.head[h] = *inserted as u32 + 1;
            *inserted += 1;
        }
    }

    /// The best choice at `pos` given the repeat queue as it will stand there.
    fn best_at(&mut self, pos: usize, queue: &RepeatQueue<u32>, inserted: &mut usize) -> Choice {
        self.insert_until(inserted, pos);
        let n = self.data.len();
        let max_len = n - pos;
        let mut best = Choice::default();
        for k in 0..NAMEABLE {
            let off = queue.get(k) as usize;
            if off > pos {
                continue;
            }
            let len = match_len(&self.data, pos, pos - off, max_len);
            if len >= MIN_REP_MATCH {
                let score = self.score(len, 3 + k as i64);
                if score > best.score {
                    best = Choice {
                        len,
                        offset: off as u32,
                        rep: Some(k),
                        score,
                    };
                }
            }
        }
        if max_len >= MIN_MATCH && best.len < self.params.nice_len {
            let mut cand = self.head[self.hash(pos)];
            let mut chain = self.params.max_chain;
            let mut best_len = MIN_MATCH - 1;
            let mut best_off = 0;
            while cand != 0 && chain > 0 {
                let c = cand as usize - 1;
                let len = match_len(&self.data, pos, c, max_len);
                if len > best_len {
                    best_len = len;
                    best_off = pos - c;
                    if len >= self.params.nice_len {
                        break;
                    }
                }
                // Older links of the ring were overwritten by newer positions.
                if pos - c > self.chain_mask {
                    break;
                }
                cand = self.prev[c & self.chain_mask];
                chain -= 1;
            }
            if best_off != 0 {
                let slot = offset_slot(best_off as u32);
                let cost = 3 + i64::from(self.lz_offset.cost(slot)) + i64::from(OFFSET_EXTRA[slot]);
                let score = self.score(best_len, cost);
                if score > best.score {
                    best = Choice {
                        len: best_len,
                        offset: best_off as u32,
                        rep: None,
                        score,
                    };
                }
            }
        }
        self.insert_until(inserted, pos + 1);
        best
    }

    /// Bits saved by a match of `len` bytes whose source costs `source_cost` bits, against
    /// coding the bytes as 8-bit literals.
    fn score(&self, len: usize, source_cost: i64) -> i64 {
        let slot = length_slot(len as u32);
        let len_cost = i64::from(self.length.cost(slot)) + i64::from(LENGTH_EXTRA[slot]);
        8 * len as i64 - source_cost - len_cost - 2
    }

    fn parse(&mut self, coder: &mut Coder<'_>, limit_words: usize) -> bool {
        let n = self.data.len();
        self.head.fill(0);
        let mut inserted = 0;
        let mut pos = 0;
        let mut next: Option<Choice> = None;
        while pos < n {
            if coder.forward.len() + coder.backward.len() > limit_words {
                return false;
            }
            let queue = coder.queue;
            let cur = match next.take() {
                Some(c) => c,
                None => self.best_at(pos, &queue, &mut inserted),
            };
            if cur.score <= 0 {
                self.literal(coder, self.data[pos]);
                pos += 1;
                continue;
            }
            if self.params.lazy && cur.len < self.params.nice_len && pos + 1 < n {
                let mut after_literal = queue;
                after_literal.end_item(None);
                let nxt = self.best_at(pos + 1, &after_literal, &mut inserted);
                if nxt.score > cur.score {
                    self.literal(coder, self.data[pos]);
                    pos += 1;
                    next = Some(nxt);
                    continue;
                }
            }
            self.lz_match(coder, cur);
            pos += cur.len;
        }
        true
    }

    fn literal(&mut self, coder: &mut Coder<'_>, byte: u8) {
        coder.bit(|d| &mut d.main, false);
        let (cw, len) = self.literal.codeword(usize::from(byte));
        coder.bits.write(cw, len, coder.backward);
        self.literal.record(usize::from(byte));
        coder.queue.end_item(None);
    }

    fn lz_match(&mut self, coder: &mut Coder<'_>, m: Choice) {
        coder.bit(|d| &mut d.main, true);
        coder.bit(|d| &mut d.matches, false);
        match m.rep {
            None => {
                coder.bit(|d| &mut d.lz, false);
                let slot = offset_slot(m.offset);
                let (cw, len) = self.lz_offset.codeword(slot);
                coder.bits.write(cw, len, coder.backward);
                self.lz_offset.record(slot);
                let extra = u32::from(OFFSET_EXTRA[slot]);
                coder
                    .bits
                    .write(m.offset - OFFSET_BASE[slot], extra, coder.backward);
            }
            Some(k) => {
                coder.bit(|d| &mut d.lz, true);
                coder.bit(|d| &mut d.lz_rep[0], k > 0);
                if k > 0 {
                    coder.bit(|d| &mut d.lz_rep[1], k > 1);
                }
                coder.queue.take(k);
            }
        }
        let length = m.len as u32;
        let slot = length_slot(length);
        let (cw, len) = self.length.codeword(slot);
        coder.bits.write(cw, len, coder.backward);
        self.length.record(slot);
        coder.bits.write(
            length - LENGTH_BASE[slot],
            u32::from(LENGTH_EXTRA[slot]),
            coder.backward,
        );
        coder.queue.end_item(Some(m.offset));
    }
}

impl Coder<'_> {
    #[inline(always)]
    fn bit<const N: usize>(
        &mut self,
        pick: impl FnOnce(&mut Decisions) -> &mut Decision<N>,
        bit: bool,
    ) {
        let decision = pick(&mut self.d);
        self.rc.encode(decision.current(), bit, self.forward);
        decision.record(bit);
    }
}

/// Length of the common prefix of `data[a..]` and `data[b..]`, at most `max`.
#[inline(always)]
fn match_len(data: &[u8], a: usize, b: usize, max: usize) -> usize {
    let (x, y) = (&data[a..a + max], &data[b..b + max]);
    let mut len = 0;
    while len + 8 <= max {
        let u = u64::from_le_bytes(x[len..len + 8].try_into().unwrap_or([0; 8]));
        let v = u64::from_le_bytes(y[len..len + 8].try_into().unwrap_or([0; 8]));
        let diff = u ^ v;
        if diff != 0 {
            return len + (diff.trailing_zeros() / 8) as usize;
        }
        len += 8;
    }
    while len < max && x[len] == y[len] {
        len += 1;
    }
    len
}

impl Compressor for LzmsCompressor {
    fn compress(&mut self, input: &[u8], output: &mut [u8]) -> Option<usize> {
        if input.len() < 8 || input.len() > self.max_chunk_size {
            return None;
        }
        if crate::incompressible::is_incompressible(input, &mut self.scratch) {
            return None;
        }
        self.data.clear();
        self.data.extend_from_slice(input);
        x86_filter::filter(&mut self.data, &mut self.last_seen, Direction::Encode);
        let slots = num_offset_slots(input.len());
        self.literal.reset(256);
        self.lz_offset.reset(slots);
        self.length.reset(NUM_LENGTH_SLOTS);
        let mut forward = std::mem::take(&mut self.forward);
        let mut backward = std::mem::take(&mut self.backward);
        forward.clear();
        backward.clear();
        // The result must be smaller than the input and fit the output.
        let limit_bytes = (input.len() - 1).min(output.len());
        let mut coder = Coder {
            rc: RangeEncoder::new(),
            bits: BackwardWriter::default(),
            d: Decisions::new(),
            queue: initial_lz_queue(),
            forward: &mut forward,
            backward: &mut backward,
        };
        let ok = self.parse(&mut coder, limit_bytes / 2);
        let Coder { rc, bits, .. } = coder;
        rc.finish(&mut forward);
        bits.finish(&mut backward);
        let size = 2 * (forward.len() + backward.len());
        let result = (ok && size <= limit_bytes).then(|| {
            let words = forward.iter().chain(backward.iter().rev());
            for (chunk, w) in output.chunks_exact_mut(2).zip(words) {
                chunk.copy_from_slice(&w.to_le_bytes());
            }
            size
        });
        self.forward = forward;
        self.backward = backward;
        result
    }
}
