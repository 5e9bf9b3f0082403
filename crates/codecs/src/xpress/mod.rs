//! XPRESS Huffman, the "LZ77+Huffman" format of [MS-XCA] §2.1–2.2, as used in WIM chunks.
//!
//! A WIM chunk (at most 64 KiB) is one [MS-XCA] block:
//!
//! - 256 bytes of codeword lengths for the 512-symbol alphabet, 4 bits each, the length of
//!   symbol `2i` in the low nibble of byte `i` and that of `2i + 1` in the high nibble; codewords
//!   are canonical and at most 15 bits long;
//! - a bitstream of 16-bit little-endian words read most-significant bit first (see
//!   [`crate::bitio`] for where the interleaved length bytes go).
//!
//! Symbols 0–255 are literals. A symbol `256 + (offset_log << 4 | length_header)` is a match of
//! offset `1 << offset_log | next offset_log bits` (1..=65535) and length `length_header + 3`;
//! a header of 15 is followed by a byte adding to it, and a byte of 255 by a u16 holding the
//! whole length minus 3 (a u16 of 0 announces a u32, which WIM chunks never need).
//!
//! Like wimlib, the compressor ends the data with symbol 256 ("end of data"): [MS-XCA] notes
//! that some decoders (WIMGAPI's among them) require it. The decompressor, like wimlib's, stops
//! once the chunk is full and does not require it. Bytes after the data are ignored, bits past
//! the end of the input are an error ([`crate::DecodeError::Truncated`]), and so are incomplete
//! or oversubscribed codes (except the empty code for an empty chunk).
//!
//! Compression parses with hash chains: greedily below level 30; lazily (one position of
//! lookahead, repeated) from 30 to 59, matches of at least 3 bytes, a 3-byte match only when
//! closer than 4 KiB (2 KiB in chunks of up to 8 KiB); from level 60 with a near-optimal parse
//! (shortest path under a cost model refined over 2–3 passes). The Huffman code comes from the
//! chunk's own symbol frequencies, limited to 15 bits.

mod compress;
mod decompress;
mod matchfinder;
mod near_optimal;

pub use compress::XpressCompressor;
pub use decompress::XpressDecompressor;

/// Literals plus 256 match headers.
const NUM_SYMBOLS: usize = 512;
const MAX_CODEWORD_LEN: u32 = 15;
/// Symbol 256 doubles as the end-of-data marker.
const END_OF_DATA: usize = 256;
const MIN_MATCH_LEN: usize = 3;
/// Longest length the u16 escape can express.
const MAX_MATCH_LEN: usize = 0xFFFF + MIN_MATCH_LEN;
/// Size of the codeword length table that starts every block.
const TABLE_SIZE: usize = NUM_SYMBOLS / 2;
/// [MS-XCA] decompresses in blocks of 64 KiB of output, each with its own table.
const BLOCK_SIZE: usize = 1 << 16;

#[cfg(test)]
mod tests;
