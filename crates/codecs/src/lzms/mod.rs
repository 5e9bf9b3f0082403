//! LZMS, the compression format of solid WIMs (`install.esd`) and of `wimlib-imagex capture
//! --solid`.
//!
//! A chunk is two streams sharing one buffer: a binary range coder reading 16-bit words
//! forwards from the start ([`range`]), driven by adaptive probabilities ([`probability`]), and
//! a bitstream of 16-bit words read backwards from the end ([`bits`]) holding Huffman-coded
//! symbols of five adaptive codes rebuilt periodically from symbol counts
//! ([`adaptive_huffman`]) plus verbatim extra bits. The range coder decides between literals,
//! LZ matches and delta matches and between explicit and repeat sources ([`repeat_queue`]);
//! offsets and lengths are slots plus extra bits ([`tables`]). The decoded chunk is finally
//! passed through the x86 filter ([`x86_filter`]). Every chunk starts from the initial state.
//! The facts are collected in `docs/lzms.md`.
//!
//! - [`LzmsDecompressor`]: literals, LZ and delta matches; bad input is an error, never a panic
//!   (bits read past the start of the backward stream are [`crate::DecodeError::Truncated`]).
//! - [`LzmsCompressor`]: lazy parsing over hash chains with literals and LZ matches.

mod adaptive_huffman;
mod bits;
mod compress;
mod decode;
mod probability;
mod range;
mod repeat_queue;
mod tables;
mod x86_filter;

pub use compress::LzmsCompressor;
pub use decode::LzmsDecompressor;

use repeat_queue::RepeatQueue;

/// Symbols between rebuilds of each code.
const LITERAL_REBUILD: u32 = 1024;
const OFFSET_REBUILD: u32 = 1024;
const LENGTH_REBUILD: u32 = 512;
const DELTA_POWER_REBUILD: u32 = 512;
/// Delta match spans are `1 << power` for powers 0..=7.
const DELTA_POWER_SYMS: usize = 8;

/// LZ offsets 1, 2, 3 (and 4 in the hidden fourth slot).
fn initial_lz_queue() -> RepeatQueue<u32> {
    RepeatQueue::new([1, 2, 3, 4])
}

/// Delta pairs (power 0, raw offsets 1..=4).
fn initial_delta_queue() -> RepeatQueue<(u32, u32)> {
    RepeatQueue::new([(0, 1), (0, 2), (0, 3), (0, 4)])
}

#[cfg(test)]
mod tests;
