//! The five Huffman codes of LZMS, never transmitted: encoder and decoder both rebuild them
//! from symbol counts at fixed intervals.
//!
//! A code starts with every symbol counted once. After every `rebuild_every` symbols coded
//! with it, the code is rebuilt from the counts (a plain Huffman code, ties between equal
//! weights broken in favour of single symbols over merged subtrees, lower symbols taking the
//! longer codewords; canonical codewords; never longer than 15 bits) and then each count
//! becomes `count / 2 + 1`. [`crate::huffman::CodeBuilder`] builds exactly that code.
//!
//! An alphabet of a single symbol (offsets of a 2-byte chunk) gets a 1-bit code whose second
//! codeword decodes to a symbol outside the alphabet, which the decoder rejects.

use crate::huffman::{CodeBuilder, DecodeTable, canonical_codes};

/// Longest codeword; the halving of the counts keeps every code within it.
pub(crate) const MAX_CODEWORD_LEN: u32 = 15;

/// The counts and lengths of one code.
#[derive(Debug, Clone)]
pub(crate) struct AdaptiveCode {
    /// Symbols in use (at most `freqs.len()`); the rest keep count 0 and get no codeword.
    num_syms: usize,
    rebuild_every: u32,
    until_rebuild: u32,
    freqs: Vec<u32>,
    pub(crate) lens: Vec<u8>,
    builder: CodeBuilder,
}

impl AdaptiveCode {
    /// A code over up to `max_syms` symbols (at least 2), rebuilt every `rebuild_every` symbols.
    pub(crate) fn new(max_syms: usize, rebuild_every: u32) -> Self {
        let size = max_syms.max(2);
        AdaptiveCode {
            num_syms: 0,
            rebuild_every,
            until_rebuild: rebuild_every,
            freqs: vec![0; size],
            lens: vec![0; size],
            builder: CodeBuilder::new(size),
        }
    }

    /// Starts a chunk with `num_syms` symbols, each counted once; builds the first code.
    pub(crate) fn reset(&mut self, num_syms: usize) {
        self.num_syms = num_syms.min(self.freqs.len());
        self.freqs.fill(0);
        self.freqs[..self.num_syms].fill(1);
        self.build();
    }

    fn build(&mut self) {
        self.builder
            .build_lengths(&self.freqs, MAX_CODEWORD_LEN, &mut self.lens);
        self.until_rebuild = self.rebuild_every;
    }

    /// Counts one coded symbol; returns true when the code was rebuilt.
    #[inline(always)]
    pub(crate) fn record(&mut self, sym: usize) -> bool {
        self.freqs[sym] += 1;
        self.until_rebuild -= 1;
        if self.until_rebuild != 0 {
            return false;
        }
        self.build();
        for f in &mut self.freqs[..self.num_syms] {
            *f = (*f >> 1) + 1;
        }
        true
    }
}

/// A code being decoded.
#[derive(Debug, Clone)]
pub(crate) struct CodeDecoder {
    pub(crate) code: AdaptiveCode,
    table: DecodeTable,
}

impl CodeDecoder {
    pub(crate) fn new(max_syms: usize, rebuild_every: u32, table_bits: u32) -> Self {
        let code = AdaptiveCode::new(max_syms, rebuild_every);
        let table = DecodeTable::new(code.lens.len(), table_bits, MAX_CODEWORD_LEN);
        CodeDecoder { code, table }
    }

    /// Starts a chunk; returns false when the code could not be built (never for valid
    /// symbol counts).
    pub(crate) fn reset(&mut self, num_syms: usize) -> bool {
        self.code.reset(num_syms);
        self.table.build(&self.code.lens).is_ok()
    }

    /// Decodes the symbol at the top of `bits` (at least 15 valid bits, left-justified);
    /// returns `(symbol, codeword length)`, or `None` for a symbol outside the alphabet.
    #[inline(always)]
    pub(crate) fn decode(&self, bits: u64) -> Option<(usize, u32)> {
        if self.code.num_syms == 0 {
            return None;
        }
        let (sym, len) = self.table.decode(bits);
        let sym = sym as usize;
        (sym < self.code.num_syms).then_some((sym, len))
    }

    /// Counts a decoded symbol, rebuilding the table when due.
    #[inline(always)]
    pub(crate) fn record(&mut self, sym: usize) -> bool {
        if self.code.record(sym) {
            return self.table.build(&self.code.lens).is_ok();
        }
        true
    }
}

/// A code being encoded.
#[derive(Debug, Clone)]
pub(crate) struct CodeEncoder {
    pub(crate) code: AdaptiveCode,
    codewords: Vec<u32>,
}

impl CodeEncoder {
    pub(crate) fn new(max_syms: usize, rebuild_every: u32) -> Self {
        let code = AdaptiveCode::new(max_syms, rebuild_every);
        let codewords = vec![0; code.lens.len()];
        CodeEncoder { code, codewords }
    }

    pub(crate) fn reset(&mut self, num_syms: usize) {
        self.code.reset(num_syms);
        canonical_codes(&self.code.lens, &mut self.codewords);
    }

    /// The codeword of `sym` and its length.
    #[inline(always)]
    pub(crate) fn codeword(&self, sym: usize) -> (u32, u32) {
        (self.codewords[sym], u32::from(self.code.lens[sym]))
    }

    /// The length in bits of `sym`'s codeword.
    #[inline(always)]
    pub(crate) fn cost(&self, sym: usize) -> u32 {
        u32::from(self.code.lens[sym])
    }

    /// Counts an encoded symbol, rebuilding the codewords when due.
    #[inline(always)]
    pub(crate) fn record(&mut self, sym: usize) {
        if self.code.record(sym) {
            canonical_codes(&self.code.lens, &mut self.codewords);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_codes_of_uniform_counts() {
        let mut c = AdaptiveCode::new(256, 1024);
        c.reset(256);
        assert!(c.lens.iter().all(|&l| l == 8));
        // 54 length symbols: 10 of 5 bits and 44 of 6 bits, the low symbols taking 6 bits.
        let mut c = AdaptiveCode::new(54, 512);
        c.reset(54);
        assert_eq!(c.lens.iter().filter(|&&l| l == 5).count(), 10);
        assert!(c.lens[..44].iter().all(|&l| l == 6));
        assert!(c.lens[44..].iter().all(|&l| l == 5));
    }

    #[test]
    fn counts_halve_after_each_rebuild() {
        let mut c = AdaptiveCode::new(8, 512);
        c.reset(8);
        for _ in 0..511 {
            assert!(!c.record(3));
        }
        assert!(c.record(3));
        assert_eq!(c.freqs[3], (513 >> 1) + 1);
        assert_eq!(c.freqs[0], 1);
        assert_eq!(c.lens[3], 1);
    }

    #[test]
    fn single_symbol_alphabet() {
        let mut d = CodeDecoder::new(799, 1024, 11);
        assert!(d.reset(1));
        assert_eq!(d.decode(0), Some((0, 1)));
        assert_eq!(d.decode(1 << 63), None);
    }
}
