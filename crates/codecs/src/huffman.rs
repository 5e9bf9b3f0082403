//! Canonical Huffman codes, shared by XPRESS and LZX.
//!
//! Both formats transmit only codeword *lengths*; codewords are then assigned canonically
//! ([MS-XCA] §2.1.4.1, CAB LZX "the Huffman codes"): shorter codes first, and within one length in
//! increasing symbol order, so that codes of one length are consecutive integers. This module
//! builds length-limited lengths from symbol frequencies ([`CodeBuilder`]), assigns the canonical
//! codewords ([`canonical_codes`]) and builds table-driven decoders ([`DecodeTable`]).
//!
//! Codewords are read most-significant bit first, so a decoder looks up the next bits of a
//! left-justified bit buffer.

use std::fmt;

/// The longest codeword length this module supports (LZX uses 16, XPRESS 15).
pub const MAX_CODEWORD_LEN: u32 = 24;

/// Why a set of codeword lengths does not describe a usable prefix code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeError {
    /// Some codewords would have to share a prefix (Kraft sum above 1).
    Oversubscribed,
    /// The code leaves bit patterns undecodable (Kraft sum below 1) without being empty.
    Incomplete,
    /// A length exceeds the maximum the decode table was created for.
    TooLong,
}

impl fmt::Display for CodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CodeError::Oversubscribed => "oversubscribed Huffman code",
            CodeError::Incomplete => "incomplete Huffman code",
            CodeError::TooLong => "Huffman codeword too long",
        })
    }
}

/// Builds length-limited Huffman codeword lengths from symbol frequencies.
///
/// Holds its scratch space so that building a code per chunk allocates nothing.
#[derive(Debug, Clone)]
pub struct CodeBuilder {
    /// `freq << 16 | symbol` of the used symbols, sorted to ascending frequency.
    keys: Vec<u64>,
    /// Moffat–Katajainen working array: weights, then parent pointers, then depths.
    work: Vec<u32>,
}

impl CodeBuilder {
    /// A builder for alphabets of up to `max_symbols` symbols (at most 65,536).
    pub fn new(max_symbols: usize) -> Self {
        assert!(
            max_symbols <= 1 << 16,
            "symbol must fit the 16-bit key field"
        );
        CodeBuilder {
            keys: Vec::with_capacity(max_symbols),
            work: Vec::with_capacity(max_symbols),
        }
    }

    /// Writes into `lens` codeword lengths (0 for unused symbols) of a prefix code for `freqs`
    /// with no codeword longer than `max_len`; `lens.len()` must equal `freqs.len()`.
    ///
    /// The code is complete whenever at least one frequency is nonzero: a single used symbol
    /// gets length 1 and so does a second, unused symbol, because decoders (wimlib's, ours)
    /// accept only complete or empty codes. Without frequencies all lengths are 0.
    pub fn build_lengths(&mut self, freqs: &[u32], max_len: u32, lens: &mut [u8]) {
        assert_eq!(freqs.len(), lens.len(), "one length per frequency");
        assert!(
            (1..=MAX_CODEWORD_LEN).contains(&max_len),
            "unsupported maximum length"
        );
        assert!(
            freqs.len() <= 1 << max_len,
            "alphabet larger than the code space"
        );
        lens.fill(0);
        self.keys.clear();
        self.keys.extend(
            freqs
                .iter()
                .enumerate()
                .filter(|&(_, &f)| f != 0)
                .map(|(sym, &f)| (u64::from(f) << 16) | sym as u64),
        );
        match self.keys.len() {
            0 => return,
            1 => {
                let used = (self.keys[0] & 0xFFFF) as usize;
                lens[used] = 1;
                lens[if used == 0 { 1 } else { 0 }] = 1;
                return;
            }
            _ => {}
        }
        self.keys.sort_unstable();

        self.work.clear();
        self.work
            .extend(self.keys.iter().map(|&k| (k >> 16) as u32));
        minimum_redundancy_lengths(&mut self.work);

        // Histogram of lengths, clamped to max_len, then repaired to a complete code.
        let mut counts = [0u32; MAX_CODEWORD_LEN as usize + 1];
        for &depth in &self.work {
            counts[depth.min(max_len) as usize] += 1;
        }
        limit_counts(&mut counts, max_len);

        // The least frequent symbols (front of `keys`) take the longest codewords.
        let mut next = 0;
        for len in (1..=max_len as usize).rev() {
            for _ in 0..counts[len] {
                lens[(self.keys[next] & 0xFFFF) as usize] = len as u8;
                next += 1;
            }
        }
    }
}

/// In-place minimum-redundancy code lengths for weights sorted ascending (Moffat and Katajainen,
/// "In-place calculation of minimum-redundancy codes", 1995). On return `a[i]` is the codeword
/// length of the symbol whose weight was `a[i]`. Needs `a.len() >= 2`.
fn minimum_redundancy_lengths(a: &mut [u32]) {
    let n = a.len();
    // Phase 1: build the tree; internal nodes overwrite consumed leaves with parent indices.
    a[0] += a[1];
    let (mut root, mut leaf) = (0usize, 2usize);
    for next in 1..n - 1 {
        if leaf >= n || a[root] < a[leaf] {
            a[next] = a[root];
            a[root] = next as u32;
            root += 1;
        } else {
            a[next] = a[leaf];
            leaf += 1;
        }
        if leaf >= n || (root < next && a[root] < a[leaf]) {
            a[next] += a[root];
            a[root] = next as u32;
            root += 1;
        } else {
            a[next] += a[leaf];
            leaf += 1;
        }
    }
    // Phase 2: parent pointers to internal node depths.
    a[n - 2] = 0;
    for next in (0..n - 2).rev() {
        a[next] = a[a[next] as usize] + 1;
    }
    // Phase 3: internal node depths to leaf depths.
    let (mut avail, mut used, mut depth) = (1u32, 0u32, 0u32);
    let mut root = n as isize - 2;
    let mut next = n as isize - 1;
    while avail > 0 {
        while root >= 0 && a[root as usize] == depth {
            used += 1;
            root -= 1;
        }
        while avail > used {
            a[next as usize] = depth;
            next -= 1;
            avail -= 1;
        }
        avail = 2 * used;
        depth += 1;
        used = 0;
    }
}

/// Turns a histogram of codeword lengths (all `<= max_len`, at least two codewords) whose Kraft
/// sum may exceed 1 into one whose Kraft sum is exactly 1, lengthening as few short codewords
/// as it can.
fn limit_counts(counts: &mut [u32; MAX_CODEWORD_LEN as usize + 1], max_len: u32) {
    let max = max_len as usize;
    let full = 1u64 << max_len;
    let mut kraft: u64 = (1..=max).map(|l| u64::from(counts[l]) << (max - l)).sum();
    // Too much: move the deepest non-maximal codeword one level down.
    while kraft > full {
        let Some(l) = (1..max).rev().find(|&l| counts[l] > 0) else {
            break;
        };
        counts[l] -= 1;
        counts[l + 1] += 1;
        kraft -= 1 << (max - l - 1);
    }
    // Too little (after overshooting): move the deepest codeword one level up. The gap is a
    // multiple of the deepest codeword's weight, so this lands exactly on a complete code.
    while kraft < full {
        let Some(l) = (2..=max).rev().find(|&l| counts[l] > 0) else {
            break;
        };
        counts[l] -= 1;
        counts[l - 1] += 1;
        kraft += 1 << (max - l);
    }
}

/// Assigns canonical codewords for `lens` (0 = unused): `codes[s]` holds the `lens[s]`-bit
/// codeword of symbol `s` in its low bits, to be written most-significant bit first.
pub fn canonical_codes(lens: &[u8], codes: &mut [u32]) {
    let mut counts = [0u32; MAX_CODEWORD_LEN as usize + 2];
    for &l in lens {
        counts[l as usize] += 1;
    }
    counts[0] = 0;
    let mut next = [0u32; MAX_CODEWORD_LEN as usize + 2];
    for l in 1..=MAX_CODEWORD_LEN as usize {
        next[l] = (next[l - 1] + counts[l - 1]) << 1;
    }
    for (code, &l) in codes.iter_mut().zip(lens) {
        if l != 0 {
            *code = next[l as usize];
            next[l as usize] += 1;
        }
    }
}

/// Flag of a root-table entry that points to a subtable.
const SUBTABLE: u32 = 1 << 31;

/// A table-driven decoder for one canonical Huffman code.
///
/// The root table is indexed by the next `table_bits` bits; codewords longer than that go
/// through one subtable indexed by the following bits. Each entry is `symbol << 8 | length`
/// (the full codeword length), or for subtable pointers `SUBTABLE | start << 8 | index_bits`.
#[derive(Debug, Clone)]
pub struct DecodeTable {
    entries: Vec<u32>,
    /// Symbols sorted by (length, symbol): scratch for building.
    sorted: Vec<u16>,
    num_symbols: usize,
    table_bits: u32,
    max_len: u32,
    empty: bool,
}

impl DecodeTable {
    /// A decoder for codes over `num_symbols` symbols with codewords of at most `max_len` bits,
    /// using a root table of `table_bits` bits. All memory is allocated here.
    pub fn new(num_symbols: usize, table_bits: u32, max_len: u32) -> Self {
        assert!(
            (1..=MAX_CODEWORD_LEN).contains(&max_len),
            "unsupported maximum length"
        );
        assert!(
            (1..=max_len).contains(&table_bits),
            "root table wider than the longest code"
        );
        assert!(num_symbols <= 1 << 16, "symbols must fit in 16 bits");
        // Every subtable belongs to a distinct root entry and to at least one symbol, and is
        // indexed by at most max_len - table_bits bits.
        let subtables = num_symbols.min(1 << table_bits);
        let size = (1 << table_bits) + (subtables << (max_len - table_bits));
        DecodeTable {
            entries: vec![0; size],
            sorted: vec![0; num_symbols],
            num_symbols,
            table_bits,
            max_len,
            empty: true,
        }
    }

    /// Rebuilds the table for codeword lengths `lens` (`lens.len()` = number of symbols).
    ///
    /// Accepts complete codes and the empty code (all lengths 0); see [`Self::is_empty`].
    pub fn build(&mut self, lens: &[u8]) -> Result<(), CodeError> {
        assert_eq!(lens.len(), self.num_symbols, "one length per symbol");
        let max = self.max_len as usize;
        let mut counts = [0u32; MAX_CODEWORD_LEN as usize + 1];
        for &l in lens {
            if l as usize > max {
                return Err(CodeError::TooLong);
            }
            counts[l as usize] += 1;
        }
        counts[0] = 0;
        let kraft: u64 = (1..=max).map(|l| u64::from(counts[l]) << (max - l)).sum();
        if kraft == 0 {
            self.empty = true;
            return Ok(());
        }
        if kraft > 1 << max {
            return Err(CodeError::Oversubscribed);
        }
        if kraft < 1 << max {
            return Err(CodeError::Incomplete);
        }
        self.empty = false;

        // Counting sort by (length, symbol) = canonical order.
        let mut offsets = [0usize; MAX_CODEWORD_LEN as usize + 2];
        for l in 1..=max {
            offsets[l + 1] = offsets[l] + counts[l] as usize;
        }
        for (sym, &l) in lens.iter().enumerate() {
            if l != 0 {
                self.sorted[offsets[l as usize]] = sym as u16;
                offsets[l as usize] += 1;
            }
        }
        let used = offsets[max];
        let sorted = &self.sorted[..used];
        let tb = self.table_bits;

        // Codewords no longer than the root index fill runs of root entries in order.
        let mut i = 0;
        let mut fill = 0usize;
        for len in 1..=tb {
            let run = 1usize << (tb - len);
            for _ in 0..counts[len as usize] {
                let entry = (u32::from(sorted[i]) << 8) | len;
                self.entries[fill..fill + run].fill(entry);
                fill += run;
                i += 1;
            }
        }
        if i == used {
            return Ok(());
        }

        // Longer codewords: `code` is the running canonical codeword of length `len`.
        let mut len = tb + 1;
        while counts[len as usize] == 0 {
            len += 1;
        }
        let mut code = (fill as u32) << (len - tb);
        let mut next_sub = 1usize << tb;
        while i < used {
            // A new subtable for the prefix `code >> (len - tb)`: it is as wide as the longest
            // codeword sharing that prefix, i.e. the last one in canonical order.
            let prefix = code >> (len - tb);
            let (mut j, mut l, mut c) = (i, len, code);
            let mut last_len = len;
            while j < used {
                if c >> (l - tb) != prefix {
                    break;
                }
                last_len = l;
                j += 1;
                c += 1;
                if j < used {
                    let nl = u32::from(lens[sorted[j] as usize]);
                    c <<= nl - l;
                    l = nl;
                }
            }
            let sub_bits = last_len - tb;
            let start = next_sub;
            next_sub += 1 << sub_bits;
            self.entries[prefix as usize] = SUBTABLE | ((start as u32) << 8) | sub_bits;
            // Fill the subtable with the codewords i..j.
            while i < j {
                let suffix_bits = len - tb;
                let suffix = (code & ((1 << suffix_bits) - 1)) as usize;
                let run = 1usize << (sub_bits - suffix_bits);
                let at = start + suffix * run;
                self.entries[at..at + run].fill((u32::from(sorted[i]) << 8) | len);
                i += 1;
                code += 1;
                if i < used {
                    let nl = u32::from(lens[sorted[i] as usize]);
                    code <<= nl - len;
                    len = nl;
                }
            }
        }
        Ok(())
    }

    /// Whether the last built code was empty (no symbol can be decoded).
    pub fn is_empty(&self) -> bool {
        self.empty
    }

    /// Decodes the symbol at the top of a left-justified bit buffer holding at least `max_len`
    /// valid bits (missing bits read as zeros); returns `(symbol, codeword length)`.
    ///
    /// Must not be called on an empty code (it then returns `(0, 0)`).
    #[inline(always)]
    pub fn decode(&self, bits: u64) -> (u32, u32) {
        let tb = self.table_bits;
        let entry = self.entries[(bits >> (64 - tb)) as usize];
        if entry & SUBTABLE == 0 {
            return (entry >> 8, entry & 0xFF);
        }
        let sub_bits = entry & 0xFF;
        let start = ((entry & !SUBTABLE) >> 8) as usize;
        let index = ((bits << tb) >> 1 >> (63 - sub_bits)) as usize;
        let entry = self.entries[start + index];
        (entry >> 8, entry & 0xFF)
    }
}

#[cfg(test)]
mod tests;
