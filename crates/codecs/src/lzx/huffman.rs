//! LZX's canonical Huffman codes: table-driven decoding from LZX's bit reader, and thin wrappers
//! over the crate's shared length-limited code construction ([`crate::huffman`]) for encoding.
//!
//! The decoder stays separate from [`crate::huffman::DecodeTable`]: LZX must accept incomplete
//! codes (wimlib and Microsoft's encoders emit them for sparse alphabets) and fail only when an
//! unused codeword actually appears, and it reads through [`super::bitio::BitReader`].
//!
//! Codes are canonical in the DEFLATE/LZX sense: shorter codewords first, and among codewords of
//! equal length the smaller symbol gets the numerically smaller codeword.

use super::bitio::BitReader;
use crate::huffman::CodeBuilder;

const LEN_MASK: u32 = 0x1F;
const SUBTABLE: u32 = 0x20;
const INVALID: u32 = 0x40;
const FLAGS: u32 = SUBTABLE | INVALID;

/// Why code lengths do not form a usable prefix code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OversubscribedCode;

/// A decode table: a primary table indexed by the next `table_bits` bits, plus second-level
/// tables for longer codewords. Codes may be incomplete; bit patterns that match no codeword
/// decode to an error.
pub(crate) struct DecodeTable {
    table_bits: u32,
    /// Leaf: `symbol << 16 | length`. Pointer: `start << 16 | SUBTABLE | sub_bits`.
    entries: Vec<u32>,
}

impl DecodeTable {
    pub(crate) fn new(table_bits: u32) -> Self {
        DecodeTable {
            table_bits,
            entries: vec![INVALID; 1 << table_bits],
        }
    }

    /// Builds the table from codeword lengths (0 = unused) of at most `max_len` ≤ 16 bits.
    pub(crate) fn build(&mut self, lens: &[u8], max_len: u32) -> Result<(), OversubscribedCode> {
        let tb = self.table_bits;
        let mut count = [0u32; 17];
        for &l in lens {
            if u32::from(l) > max_len {
                return Err(OversubscribedCode);
            }
            count[usize::from(l)] += 1;
        }
        count[0] = 0;
        // Kraft check on a 2^16 scale.
        let kraft: u32 = (1..=16).map(|l| count[l] << (16 - l)).sum();
        if kraft > 1 << 16 {
            return Err(OversubscribedCode);
        }
        let longest = (1..=16).rev().find(|&l| count[l] > 0).unwrap_or(0) as u32;
        let sub_bits = longest.saturating_sub(tb);

        let mut next = [0u32; 18];
        let mut code = 0u32;
        for l in 1..=16 {
            code = (code + count[l - 1]) << 1;
            next[l] = code;
        }

        self.entries.clear();
        self.entries.resize(1 << tb, INVALID);
        for (sym, &l) in lens.iter().enumerate() {
            let l = u32::from(l);
            if l == 0 {
                continue;
            }
            let c = next[l as usize];
            next[l as usize] += 1;
            let sym = (sym as u32) << 16;
            if l <= tb {
                let start = (c << (tb - l)) as usize;
                let n = 1usize << (tb - l);
                self.entries[start..start + n].fill(sym | l);
            } else {
                let prefix = (c >> (l - tb)) as usize;
                let mut e = self.entries[prefix];
                if e & SUBTABLE == 0 {
                    let start = self.entries.len() as u32;
                    self.entries
                        .resize(self.entries.len() + (1 << sub_bits), INVALID);
                    e = (start << 16) | SUBTABLE | sub_bits;
                    self.entries[prefix] = e;
                }
                let rest = l - tb;
                let low = c & ((1 << rest) - 1);
                let start = (e >> 16) as usize + (low << (sub_bits - rest)) as usize;
                let n = 1usize << (sub_bits - rest);
                self.entries[start..start + n].fill(sym | rest);
            }
        }
        Ok(())
    }

    /// Decodes one symbol; the reader must hold at least 16 bits (see [`BitReader::ensure`]).
    /// Returns `None` for a bit pattern that is no codeword of an incomplete code.
    #[inline(always)]
    pub(crate) fn decode(&self, r: &mut BitReader<'_>) -> Option<u32> {
        let e = self.entries[r.peek(self.table_bits) as usize];
        if e & FLAGS == 0 {
            r.consume(e & LEN_MASK);
            return Some(e >> 16);
        }
        self.decode_slow(r, e)
    }

    #[inline(never)]
    fn decode_slow(&self, r: &mut BitReader<'_>, e: u32) -> Option<u32> {
        if e & INVALID != 0 {
            return None;
        }
        let sub_bits = e & LEN_MASK;
        let idx = (e >> 16) as usize
            + ((r.peek(self.table_bits + sub_bits) & ((1 << sub_bits) - 1)) as usize);
        let e2 = self.entries[idx];
        if e2 & INVALID != 0 {
            return None;
        }
        r.consume(self.table_bits + (e2 & LEN_MASK));
        Some(e2 >> 16)
    }
}

/// Computes codeword lengths of at most `max_len` bits for the symbol frequencies `freqs`,
/// writing them to `lens[..freqs.len()]`. Unused symbols get length 0. The code is always
/// complete when at least one symbol is used: a single used symbol gets a 1-bit codeword with a
/// dummy partner, because decoders (wimlib, Microsoft's) reject incomplete codes.
///
/// The construction is the crate's shared one ([`crate::huffman::CodeBuilder`], also used by
/// XPRESS); this wrapper only adapts LZX's longer length arrays.
pub(crate) fn build_lengths(freqs: &[u32], max_len: u32, lens: &mut [u8], scratch: &mut Scratch) {
    scratch
        .builder
        .build_lengths(freqs, max_len, &mut lens[..freqs.len()]);
}

/// Assigns canonical codewords for `lens`, writing them to `codes` (0 for unused symbols).
pub(crate) fn assign_codes(lens: &[u8], codes: &mut [u32]) {
    let codes = &mut codes[..lens.len()];
    codes.fill(0);
    crate::huffman::canonical_codes(lens, codes);
}

/// Reusable buffers for [`build_lengths`].
pub(crate) struct Scratch {
    builder: CodeBuilder,
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch {
            builder: CodeBuilder::new(super::MAX_MAIN_SYMS),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::bitio::BitWriter;
    use super::*;

    fn kraft(lens: &[u8]) -> f64 {
        lens.iter()
            .filter(|&&l| l > 0)
            .map(|&l| 0.5f64.powi(i32::from(l)))
            .sum()
    }

    #[test]
    fn lengths_are_limited_and_complete() {
        let mut scratch = Scratch::default();
        // Fibonacci frequencies force deep trees.
        let mut freqs = vec![0u32; 40];
        let (mut a, mut b) = (1u32, 1u32);
        for f in freqs.iter_mut().take(30) {
            *f = a;
            (a, b) = (b, a.saturating_add(b));
        }
        for max in [7u32, 15, 16] {
            let mut lens = vec![0u8; 40];
            build_lengths(&freqs, max, &mut lens, &mut scratch);
            assert!(lens.iter().all(|&l| u32::from(l) <= max));
            assert!((kraft(&lens) - 1.0).abs() < 1e-9, "max {max}: {lens:?}");
            assert!(lens[30..].iter().all(|&l| l == 0));
        }
    }

    #[test]
    fn single_symbol_gets_a_partner() {
        let mut lens = [0u8; 8];
        build_lengths(
            &[0, 0, 5, 0, 0, 0, 0, 0],
            7,
            &mut lens,
            &mut Scratch::default(),
        );
        assert_eq!(lens, [1, 0, 1, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn encode_decode_round_trip_with_long_codes() {
        let mut scratch = Scratch::default();
        let n = 300;
        let freqs: Vec<u32> = (0..n)
            .map(|i| if i % 3 == 0 { 0 } else { 1 + (i * i) % 1000 })
            .collect();
        let mut freqs = freqs;
        freqs[7] = 1_000_000;
        let mut lens = vec![0u8; n as usize];
        build_lengths(&freqs, 16, &mut lens, &mut scratch);
        let mut codes = vec![0u32; n as usize];
        assign_codes(&lens, &mut codes);
        let syms: Vec<usize> = (0..n as usize)
            .filter(|&s| lens[s] > 0)
            .cycle()
            .take(5000)
            .collect();
        let mut buf = vec![0u8; 20000];
        let mut w = BitWriter::new(&mut buf);
        for &s in &syms {
            w.write(codes[s], u32::from(lens[s]));
        }
        let len = w.finish().expect("fits");
        let mut table = DecodeTable::new(9);
        table.build(&lens, 16).expect("valid");
        let mut r = BitReader::new(&buf[..len]);
        for &s in &syms {
            r.ensure(16);
            assert_eq!(table.decode(&mut r), Some(s as u32));
        }
    }

    #[test]
    fn oversubscribed_is_rejected_and_incomplete_decodes_to_none() {
        let mut t = DecodeTable::new(4);
        assert_eq!(t.build(&[1, 1, 1], 16), Err(OversubscribedCode));
        t.build(&[1, 0, 0], 16).expect("incomplete is accepted");
        let data = [0xFF, 0xFF, 0, 0];
        let mut r = BitReader::new(&data);
        assert_eq!(t.decode(&mut r), None);
    }
}
