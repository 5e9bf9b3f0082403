//! The binary range coder of LZMS: a stream of 16-bit little-endian words read forwards from
//! the start of the chunk.
//!
//! The decoder keeps a 32-bit `range` (initially `0xFFFF_FFFF`) and a 32-bit `code` (initially
//! the first two words, the first one high). Before each bit, a range below `0x1_0000` is
//! shifted left 16 bits and the next word enters the low half of the code (zeros once the
//! input is exhausted). The bound is `(range >> 6) * p` for a probability `p / 64` of a zero;
//! a code below the bound is a 0 (range = bound), else a 1 (both lose the bound).
//!
//! The encoder is the mirror image with a 33-bit `low` whose carry ripples into words already
//! produced but held back: a run of `0xFFFF` words is kept as a count until the carry is known.

use super::probability::{Entry, PROBABILITY_BITS};

/// Reads bits from the forward stream.
#[derive(Debug)]
pub(crate) struct RangeDecoder<'a> {
    data: &'a [u8],
    pos: usize,
    range: u32,
    code: u32,
}

impl<'a> RangeDecoder<'a> {
    /// A decoder over `data`, which must hold at least 4 bytes.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        let word = |i: usize| u32::from(u16::from_le_bytes([data[i], data[i + 1]]));
        RangeDecoder {
            data,
            pos: 4,
            range: 0xFFFF_FFFF,
            code: (word(0) << 16) | word(2),
        }
    }

    /// Decodes one bit with `entry`'s probability; the caller updates the entry.
    #[inline(always)]
    pub(crate) fn decode(&mut self, entry: &Entry) -> bool {
        let prob = entry.probability();
        if self.range & 0xFFFF_0000 == 0 {
            self.range <<= 16;
            self.code <<= 16;
            if let Some(w) = self.data.get(self.pos..self.pos + 2) {
                self.code |= u32::from(u16::from_le_bytes([w[0], w[1]]));
                self.pos += 2;
            }
        }
        let bound = (self.range >> PROBABILITY_BITS) * prob;
        if self.code < bound {
            self.range = bound;
            false
        } else {
            self.range -= bound;
            self.code -= bound;
            true
        }
    }
}

/// Writes bits to the forward stream, into a word buffer reserved by the caller.
#[derive(Debug)]
pub(crate) struct RangeEncoder {
    low: u64,
    range: u32,
    /// The word waiting for a possible carry.
    cache: u16,
    /// Words held back: the cache plus that many `0xFFFF` words after it.
    pending: u64,
    /// The very first cache is a placeholder that never reaches the output.
    started: bool,
}

impl RangeEncoder {
    pub(crate) fn new() -> Self {
        RangeEncoder {
            low: 0,
            range: 0xFFFF_FFFF,
            cache: 0,
            pending: 1,
            started: false,
        }
    }

    /// Encodes `bit` with `entry`'s probability; the caller updates the entry.
    #[inline(always)]
    pub(crate) fn encode(&mut self, entry: &Entry, bit: bool, out: &mut Vec<u16>) {
        let prob = entry.probability();
        if self.range <= 0xFFFF {
            self.range <<= 16;
            self.shift_low(out);
        }
        let bound = (self.range >> PROBABILITY_BITS) * prob;
        if bit {
            self.low += u64::from(bound);
            self.range -= bound;
        } else {
            self.range = bound;
        }
    }

    /// Moves the top 16 bits of `low` out, resolving held-back words once no carry can reach
    /// them any more.
    fn shift_low(&mut self, out: &mut Vec<u16>) {
        let carry = (self.low >> 32) as u16;
        if (self.low as u32) < 0xFFFF_0000 || carry != 0 {
            let mut word = self.cache.wrapping_add(carry);
            while self.pending > 0 {
                if self.started {
                    out.push(word);
                }
                self.started = true;
                word = 0xFFFFu16.wrapping_add(carry);
                self.pending -= 1;
            }
            self.cache = ((self.low >> 16) & 0xFFFF) as u16;
        }
        self.pending += 1;
        self.low = (self.low & 0xFFFF) << 16;
    }

    /// Writes out everything still held: the decoder reads two words beyond the last
    /// normalization, and one zero word more follows as the reference encoder writes it.
    pub(crate) fn finish(mut self, out: &mut Vec<u16>) {
        for _ in 0..4 {
            self.shift_low(out);
        }
    }
}
