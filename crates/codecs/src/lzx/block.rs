//! LZX block encoding: literal/match items, their symbol frequencies, the three Huffman codes,
//! the pretree-coded code lengths, and the bits of a verbatim or aligned-offset block.

use super::bitio::BitWriter;
use super::huffman::{Scratch, assign_codes, build_lengths};
use super::*;
use std::hint::select_unpredictable;

/// One literal or match. `len == 0`: literal byte `val`. Otherwise a match of `len` bytes whose
/// `val` is the "formatted offset": 0, 1 or 2 for the repeat offsets R0, R1, R2, else offset + 2.
/// The offset slot of `val` is then the slot of the main symbol in both cases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Item {
    pub(crate) len: u32,
    pub(crate) val: u32,
}

impl Item {
    pub(crate) fn literal(b: u8) -> Self {
        Item {
            len: 0,
            val: u32::from(b),
        }
    }

    pub(crate) fn matched(len: usize, formatted: u32) -> Self {
        debug_assert!((MIN_MATCH..=MAX_MATCH).contains(&len));
        Item {
            len: len as u32,
            val: formatted,
        }
    }

    /// The main symbol of a match.
    #[inline]
    pub(crate) fn main_symbol(len: u32, slot: usize) -> usize {
        NUM_CHARS + slot * 8 + (len as usize - MIN_MATCH).min(NUM_PRIMARY_LENS)
    }
}

/// Symbol frequencies of a run of items.
#[derive(Clone)]
pub(crate) struct Freqs {
    pub(crate) main: [u32; MAX_MAIN_SYMS],
    pub(crate) len: [u32; LEN_SYMS],
    pub(crate) aligned: [u32; ALIGNED_SYMS],
}

impl Default for Freqs {
    fn default() -> Self {
        Freqs {
            main: [0; MAX_MAIN_SYMS],
            len: [0; LEN_SYMS],
            aligned: [0; ALIGNED_SYMS],
        }
    }
}

impl Freqs {
    pub(crate) fn clear(&mut self) {
        self.main.fill(0);
        self.len.fill(0);
        self.aligned.fill(0);
    }

    #[inline]
    pub(crate) fn add(&mut self, it: Item) {
        if it.len == 0 {
            self.main[it.val as usize] += 1;
            return;
        }
        let slot = offset_slot(it.val);
        self.main[Item::main_symbol(it.len, slot)] += 1;
        if it.len as usize - MIN_MATCH >= NUM_PRIMARY_LENS {
            self.len[it.len as usize - MIN_MATCH - NUM_PRIMARY_LENS] += 1;
        }
        if SLOT_EXTRA[slot] >= 3 {
            self.aligned[(it.val & 7) as usize] += 1;
        }
    }

    /// Takes back one [`Freqs::add`] of `it`.
    #[inline]
    pub(crate) fn remove(&mut self, it: Item) {
        if it.len == 0 {
            self.main[it.val as usize] -= 1;
            return;
        }
        let slot = offset_slot(it.val);
        self.main[Item::main_symbol(it.len, slot)] -= 1;
        if it.len as usize - MIN_MATCH >= NUM_PRIMARY_LENS {
            self.len[it.len as usize - MIN_MATCH - NUM_PRIMARY_LENS] -= 1;
        }
        if SLOT_EXTRA[slot] >= 3 {
            self.aligned[(it.val & 7) as usize] -= 1;
        }
    }

    /// Sets these to `k * a + b`.
    pub(crate) fn set_weighted_sum(&mut self, k: u32, a: &Freqs, b: &Freqs) {
        for (d, (x, y)) in self.main.iter_mut().zip(a.main.iter().zip(&b.main)) {
            *d = k * x + y;
        }
        for (d, (x, y)) in self.len.iter_mut().zip(a.len.iter().zip(&b.len)) {
            *d = k * x + y;
        }
        for (d, (x, y)) in self
            .aligned
            .iter_mut()
            .zip(a.aligned.iter().zip(&b.aligned))
        {
            *d = k * x + y;
        }
    }

    /// Adds every item, as [`Freqs::add`] but without a branch on the items: whether an item is
    /// a literal or a match, has a length symbol or aligned bits goes either way at random (these
    /// branches mispredicted about once in ten items).
    pub(crate) fn add_all(&mut self, items: &[Item]) {
        // Items without a length or aligned symbol count one in a spare counter.
        let mut len = [0u32; LEN_SYMS + 1];
        let mut aligned = [0u32; ALIGNED_SYMS + 1];
        for &it in items {
            let is_match = it.len != 0;
            let slot = offset_slot_any(it.val);
            let msym = Item::main_symbol(it.len.max(MIN_MATCH as u32), slot);
            self.main[select_unpredictable(is_match, msym, it.val as usize)] += 1;
            // Short lengths and literals wrap around to a huge number.
            let lh = (it.len as usize).wrapping_sub(MIN_MATCH + NUM_PRIMARY_LENS);
            len[lh.min(LEN_SYMS)] += 1;
            // Slots from 8 on have 3 or more extra bits, the low 3 of them aligned.
            let a =
                select_unpredictable(is_match & (slot >= 8), (it.val & 7) as usize, ALIGNED_SYMS);
            aligned[a] += 1;
        }
        for (d, s) in self.len.iter_mut().zip(&len) {
            *d += s;
        }
        for (d, s) in self.aligned.iter_mut().zip(&aligned) {
            *d += s;
        }
    }
}

/// The codes of one block.
pub(crate) struct Codes {
    pub(crate) main_lens: [u8; MAX_MAIN_SYMS],
    pub(crate) len_lens: [u8; LEN_SYMS],
    pub(crate) aligned_lens: [u8; ALIGNED_SYMS],
    main_codes: [u32; MAX_MAIN_SYMS],
    len_codes: [u32; LEN_SYMS],
    aligned_codes: [u32; ALIGNED_SYMS],
}

impl Default for Codes {
    fn default() -> Self {
        Codes {
            main_lens: [0; MAX_MAIN_SYMS],
            len_lens: [0; LEN_SYMS],
            aligned_lens: [0; ALIGNED_SYMS],
            main_codes: [0; MAX_MAIN_SYMS],
            len_codes: [0; LEN_SYMS],
            aligned_codes: [0; ALIGNED_SYMS],
        }
    }
}

impl Codes {
    /// Builds the codes for `freqs` over a main alphabet of `num_main` symbols.
    pub(crate) fn build(&mut self, freqs: &Freqs, num_main: usize, scratch: &mut Scratch) {
        build_lengths(
            &freqs.main[..num_main],
            MAX_MAIN_CODEWORD,
            &mut self.main_lens,
            scratch,
        );
        build_lengths(&freqs.len, MAX_LEN_CODEWORD, &mut self.len_lens, scratch);
        build_lengths(
            &freqs.aligned,
            MAX_ALIGNED_CODEWORD,
            &mut self.aligned_lens,
            scratch,
        );
        assign_codes(&self.main_lens[..num_main], &mut self.main_codes);
        assign_codes(&self.len_lens, &mut self.len_codes);
        assign_codes(&self.aligned_lens, &mut self.aligned_codes);
    }

    /// Whether an aligned-offset block is smaller than a verbatim one for these frequencies.
    pub(crate) fn prefer_aligned(&self, freqs: &Freqs) -> bool {
        let n: u32 = freqs.aligned.iter().sum();
        if n == 0 {
            return false;
        }
        let aligned: u32 = freqs
            .aligned
            .iter()
            .zip(&self.aligned_lens)
            .map(|(&f, &l)| f * u32::from(l))
            .sum::<u32>()
            + 3 * ALIGNED_SYMS as u32;
        aligned < 3 * n
    }
}

/// Writes blocks of one chunk; remembers the previous block's code lengths, against which the
/// next block's lengths are delta coded.
pub(crate) struct BlockWriter {
    prev_main: [u8; MAX_MAIN_SYMS],
    prev_len: [u8; LEN_SYMS],
    pub(crate) scratch: Scratch,
    rle: Vec<(u8, u8)>,
}

impl Default for BlockWriter {
    fn default() -> Self {
        BlockWriter {
            prev_main: [0; MAX_MAIN_SYMS],
            prev_len: [0; LEN_SYMS],
            scratch: Scratch::default(),
            rle: Vec::new(),
        }
    }
}

impl BlockWriter {
    /// Starts a new chunk: previous lengths are all zero.
    pub(crate) fn reset(&mut self) {
        self.prev_main.fill(0);
        self.prev_len.fill(0);
    }

    /// Writes an uncompressed block holding `data` (already E8-translated), which leaves the
    /// repeat offsets at `rep`. The previous code lengths are not affected. Only tests write
    /// these (see the compressor for why).
    #[cfg(test)]
    pub(crate) fn write_uncompressed(
        &mut self,
        w: &mut BitWriter<'_>,
        data: &[u8],
        rep: [u32; 3],
        window_order: u32,
    ) {
        w.write(BLOCK_UNCOMPRESSED, 3);
        Self::write_size(w, data.len(), window_order);
        w.align_for_raw();
        for r in rep {
            w.write_bytes(&r.to_le_bytes());
        }
        w.write_bytes(data);
        if data.len() % 2 == 1 {
            w.write_bytes(&[0]);
        }
    }

    fn write_size(w: &mut BitWriter<'_>, size: usize, window_order: u32) {
        if size == DEFAULT_BLOCK_SIZE {
            w.write(1, 1);
        } else {
            w.write(0, 1);
            w.write(size as u32, if window_order >= 16 { 24 } else { 16 });
        }
    }

    /// Writes one verbatim or aligned-offset block of `block_size` uncompressed bytes holding
    /// `items`, with `codes` built from `freqs` (the items' frequencies).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn write_block(
        &mut self,
        w: &mut BitWriter<'_>,
        items: &[Item],
        block_size: usize,
        codes: &Codes,
        freqs: &Freqs,
        num_main: usize,
        window_order: u32,
    ) {
        let aligned = codes.prefer_aligned(freqs);
        let block_type = if aligned {
            BLOCK_ALIGNED
        } else {
            BLOCK_VERBATIM
        };
        w.write(block_type, 3);
        Self::write_size(w, block_size, window_order);
        if aligned {
            for &l in &codes.aligned_lens {
                w.write(u32::from(l), 3);
            }
        }
        self.write_lens(w, &codes.main_lens[..NUM_CHARS], 0, true);
        self.write_lens(w, &codes.main_lens[NUM_CHARS..num_main], NUM_CHARS, true);
        self.write_lens(w, &codes.len_lens, 0, false);
        self.prev_main[..num_main].copy_from_slice(&codes.main_lens[..num_main]);
        self.prev_len.copy_from_slice(&codes.len_lens);

        for &it in items {
            if it.len == 0 {
                let s = it.val as usize;
                w.write(codes.main_codes[s], u32::from(codes.main_lens[s]));
                continue;
            }
            let slot = offset_slot(it.val);
            let s = Item::main_symbol(it.len, slot);
            w.write(codes.main_codes[s], u32::from(codes.main_lens[s]));
            let lh = it.len as usize - MIN_MATCH;
            if lh >= NUM_PRIMARY_LENS {
                let ls = lh - NUM_PRIMARY_LENS;
                w.write(codes.len_codes[ls], u32::from(codes.len_lens[ls]));
            }
            let extra = u32::from(SLOT_EXTRA[slot]);
            if extra > 0 {
                let v = it.val - SLOT_BASE[slot];
                if aligned && extra >= 3 {
                    w.write(v >> 3, extra - 3);
                    let a = (v & 7) as usize;
                    w.write(codes.aligned_codes[a], u32::from(codes.aligned_lens[a]));
                } else {
                    w.write(v, extra);
                }
            }
        }
    }

    /// Writes a pretree and `lens` coded with it as deltas from the previous block's lengths
    /// (`prev_main[base..]` or `prev_len`).
    fn write_lens(&mut self, w: &mut BitWriter<'_>, lens: &[u8], base: usize, main: bool) {
        let prev: &[u8] = if main {
            &self.prev_main[base..base + lens.len()]
        } else {
            &self.prev_len
        };
        let delta =
            |i: usize, l: u8| -> u8 { ((u32::from(prev[i]) + 17 - u32::from(l)) % 17) as u8 };
        // (pretree symbol, extra value); symbol 19 is followed by a (delta symbol, 0) entry.
        self.rle.clear();
        let n = lens.len();
        let mut i = 0;
        while i < n {
            let l = lens[i];
            let mut run = 1;
            while i + run < n && lens[i + run] == l {
                run += 1;
            }
            let end = i + run;
            if l == 0 {
                while end - i >= 20 {
                    let r = (end - i).min(51);
                    self.rle.push((18, (r - 20) as u8));
                    i += r;
                }
                if end - i >= 4 {
                    let r = end - i;
                    self.rle.push((17, (r - 4) as u8));
                    i += r;
                }
            } else {
                while end - i >= 4 {
                    let r = (end - i).min(5);
                    self.rle.push((19, (r - 4) as u8));
                    self.rle.push((delta(i, l), 0));
                    i += r;
                }
            }
            while i < end {
                self.rle.push((delta(i, l), 0));
                i += 1;
            }
        }
        let mut freqs = [0u32; PRE_SYMS];
        for &(s, _) in &self.rle {
            freqs[usize::from(s)] += 1;
        }
        let mut pre_lens = [0u8; PRE_SYMS];
        let mut pre_codes = [0u32; PRE_SYMS];
        build_lengths(&freqs, MAX_PRE_CODEWORD, &mut pre_lens, &mut self.scratch);
        assign_codes(&pre_lens, &mut pre_codes);
        for &l in &pre_lens {
            w.write(u32::from(l), 4);
        }
        for &(s, x) in &self.rle {
            let s = usize::from(s);
            w.write(pre_codes[s], u32::from(pre_lens[s]));
            match s {
                17 => w.write(u32::from(x), 4),
                18 => w.write(u32::from(x), 5),
                19 => w.write(u32::from(x), 1),
                _ => {}
            }
        }
    }
}
