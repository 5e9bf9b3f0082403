//! LZX as used in WIM resources.
//!
//! The bitstream is that of the 1997 CAB LZX document and [MS-PATCH] §2 minus LZX DELTA, with the
//! WIM restrictions: the window is the chunk (32 KiB – 2 MiB) and never slides, every chunk starts
//! from a fresh state (repeat offsets 1, 1, 1 and all previous code lengths 0), E8 translation is
//! always on with file size 12,000,000 and no header bit, and a block size is one bit meaning
//! 32,768 or else 16 bits (windows of 32 KiB) or 24 bits (larger windows), most significant first.
//! The number of offset slots (30 for 32 KiB … 50 for 2 MiB) follows from the WIM's chunk size,
//! also for a resource's shorter last chunk.
//!
//! - [`LzxDecompressor`]: verbatim, aligned-offset and uncompressed blocks, table-driven Huffman
//!   decoding; bad input is an error, never a panic. Uncompressed blocks are read as the CAB
//!   document says (1 to 16 bits of padding before the repeat offsets).
//! - [`LzxCompressor`]: levels on wimlib's scale. Below [`NEAR_OPTIMAL_LEVEL`], greedy (< 10)
//!   or lazy parsing on hash chains; from it on, near-optimal parsing over binary-tree matches
//!   with a bit-cost model from symbol statistics (updated within a pass, iterated across
//!   passes), one block per 32 KiB of input. It writes verbatim and
//!   aligned-offset blocks only: wimlib's decoder mis-aligns uncompressed blocks that follow a
//!   compressed block in the same chunk.
mod bintree;
mod bitio;
mod block;
mod compress;
mod decode;
mod e8;
mod huffman;
mod lazy;
mod matchfind;
mod optimal;

pub use compress::{LzxCompressor, NEAR_OPTIMAL_LEVEL};
pub use decode::LzxDecompressor;

/// Literal symbols at the start of the main alphabet.
pub(crate) const NUM_CHARS: usize = 256;
/// Symbols of the length code (match lengths 9..=257).
pub(crate) const LEN_SYMS: usize = 249;
/// Match lengths: 2..=257.
pub(crate) const MIN_MATCH: usize = 2;
pub(crate) const MAX_MATCH: usize = 257;
/// Length headers 0..=6 encode lengths 2..=8; 7 means "add a length symbol".
pub(crate) const NUM_PRIMARY_LENS: usize = 7;
pub(crate) const ALIGNED_SYMS: usize = 8;
pub(crate) const PRE_SYMS: usize = 20;
pub(crate) const MAX_MAIN_CODEWORD: u32 = 16;
pub(crate) const MAX_LEN_CODEWORD: u32 = 16;
pub(crate) const MAX_ALIGNED_CODEWORD: u32 = 7;
pub(crate) const MAX_PRE_CODEWORD: u32 = 15;
/// Largest main alphabet (2 MiB window: 50 offset slots).
pub(crate) const MAX_MAIN_SYMS: usize = NUM_CHARS + 8 * 50;

pub(crate) const BLOCK_VERBATIM: u32 = 1;
pub(crate) const BLOCK_ALIGNED: u32 = 2;
pub(crate) const BLOCK_UNCOMPRESSED: u32 = 3;
/// The size meant by the one-bit "default block size" flag.
pub(crate) const DEFAULT_BLOCK_SIZE: usize = 32_768;

/// Offset slot bases for formatted offsets (offset + 2); slots 0..=2 are the repeat offsets.
pub(crate) const SLOT_BASE: [u32; 51] = slot_bases();
/// Extra (footer) bits per offset slot.
pub(crate) const SLOT_EXTRA: [u8; 50] = slot_extra();

const fn slot_extra() -> [u8; 50] {
    let mut e = [0u8; 50];
    let mut s = 4;
    while s < 50 {
        let b = s / 2 - 1;
        e[s] = if b > 17 { 17 } else { b as u8 };
        s += 1;
    }
    e
}

const fn slot_bases() -> [u32; 51] {
    let extra = slot_extra();
    let mut b = [0u32; 51];
    let mut s = 0;
    while s < 50 {
        b[s + 1] = b[s] + (1 << extra[s]);
        s += 1;
    }
    b
}

/// log2 of the window for chunks of up to `max_chunk_size` bytes (15..=21).
pub(crate) fn window_order(max_chunk_size: usize) -> u32 {
    max_chunk_size
        .next_power_of_two()
        .trailing_zeros()
        .clamp(15, 21)
}

/// Offset slots for a window order: 30, 32, 34, 36, 38, 42, 50 for 2^15..=2^21.
pub(crate) fn num_offset_slots(order: u32) -> usize {
    [30, 32, 34, 36, 38, 42, 50][(order - 15) as usize]
}

/// The offset slot of a formatted offset (offset + 2, ≥ 3 for explicit offsets).
#[inline]
pub(crate) fn offset_slot(formatted: u32) -> usize {
    if formatted < 4 {
        formatted as usize
    } else if formatted < SLOT_BASE[36] {
        two_slots_per_power(formatted)
    } else {
        36 + ((formatted - SLOT_BASE[36]) >> 17) as usize
    }
}

/// The slot of a formatted offset from 2 to `SLOT_BASE[36]`: two slots per power of two, the
/// top bit and the one below it.
#[inline(always)]
fn two_slots_per_power(formatted: u32) -> usize {
    let log = 31 - formatted.leading_zeros();
    (2 * log + ((formatted >> (log - 1)) & 1)) as usize
}

/// [`offset_slot`] without a branch on small values (repeat offsets), for counting items where
/// whether one is a repeat match goes either way at random; for literal bytes the result is not
/// used. (In the parsers and the block writer the branchy form measured faster.)
#[inline(always)]
pub(crate) fn offset_slot_any(formatted: u32) -> usize {
    if formatted >= SLOT_BASE[36] {
        return offset_slot(formatted);
    }
    let s = two_slots_per_power(formatted.max(2));
    std::hint::select_unpredictable(formatted < 2, formatted as usize, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_tables() {
        assert_eq!(&SLOT_BASE[..12], &[0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48]);
        assert_eq!(SLOT_BASE[30], 1 << 15);
        assert_eq!(SLOT_BASE[36], 1 << 18);
        assert_eq!(SLOT_BASE[38], 1 << 19);
        assert_eq!(SLOT_BASE[42], 1 << 20);
        assert_eq!(SLOT_BASE[50], 1 << 21);
        assert_eq!(SLOT_EXTRA[36], 17);
        assert_eq!(SLOT_EXTRA[35], 16);
        for order in 15..=21 {
            assert_eq!(SLOT_BASE[num_offset_slots(order)], 1 << order);
        }
        for f in 0..(1u32 << 21) {
            let s = offset_slot(f);
            assert!(SLOT_BASE[s] <= f && f < SLOT_BASE[s + 1], "{f} -> {s}");
            assert_eq!(offset_slot_any(f), s, "{f}");
        }
    }

    #[test]
    fn window_orders() {
        for (size, order) in [
            (32_768, 15),
            (65_536, 16),
            (1 << 20, 20),
            (1 << 21, 21),
            (100_000, 17),
        ] {
            assert_eq!(window_order(size), order);
        }
    }
}
