//! Compression codecs for the Windows Imaging (WIM) format.
//!
//! Every WIM resource is cut into chunks that are compressed independently; the window of each
//! codec is the chunk. This crate implements those codecs with no I/O and no allocation in the hot
//! loops: a [`Compressor`] or [`Decompressor`] is created once per thread for a given maximum chunk
//! size and reused for every chunk.
//!
//! | format | spec | chunk sizes |
//! |---|---|---|
//! | XPRESS Huffman | [MS-XCA] §2.1–2.2 | 4 KiB – 64 KiB |
//! | LZX (WIM variant) | CAB LZX, [MS-PATCH] minus LZX DELTA | 32 KiB – 2 MiB |
//! | LZMS | undocumented; see `docs/lzms.md` | 32 KiB – 1 GiB |
#![forbid(unsafe_code)]

use std::fmt;

pub mod bitio;
pub mod huffman;
mod incompressible;
pub mod lzms;
pub mod lzx;
pub mod xpress;

/// A compression format of WIM resources, as named in the WIM header flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    Xpress,
    Lzx,
    Lzms,
}

impl Format {
    /// The range of chunk sizes this format accepts (inclusive), in bytes.
    pub fn chunk_size_range(self) -> (usize, usize) {
        match self {
            Format::Xpress => (1 << 12, 1 << 16),
            Format::Lzx => (1 << 15, 1 << 21),
            Format::Lzms => (1 << 15, 1 << 30),
        }
    }

    /// The default chunk size (what wimlib and DISM write).
    pub fn default_chunk_size(self) -> usize {
        match self {
            Format::Xpress | Format::Lzx => 1 << 15,
            Format::Lzms => 1 << 17,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Xpress => "XPRESS",
            Format::Lzx => "LZX",
            Format::Lzms => "LZMS",
        })
    }
}

/// Why a chunk could not be decompressed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    #[error("compressed data ends early")]
    Truncated,
    #[error("invalid Huffman code lengths")]
    BadHuffmanCode,
    #[error("match at output position {position} refers {offset} bytes back, before the start")]
    OffsetTooFar { position: usize, offset: usize },
    #[error("decoded data would exceed the expected {expected} bytes")]
    Overrun { expected: usize },
    #[error("invalid block: {0}")]
    BadBlock(&'static str),
    #[error("chunk of {size} bytes exceeds the maximum chunk size {max}")]
    OutputTooLarge { size: usize, max: usize },
}

/// Why a codec could not be created.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodecError {
    #[error("{format} does not support chunk size {chunk_size} (accepted: {min}..={max})")]
    BadChunkSize {
        format: Format,
        chunk_size: usize,
        min: usize,
        max: usize,
    },
    #[error("{0} is not supported")]
    Unsupported(Format),
}

/// Compresses chunks of at most the maximum chunk size given at creation.
pub trait Compressor: Send {
    /// Compresses `input` into `output`; returns the compressed size, or `None` when the result
    /// would not be smaller than `input` (the caller then stores the chunk raw). `output` must be
    /// at least `input.len()` bytes long.
    fn compress(&mut self, input: &[u8], output: &mut [u8]) -> Option<usize>;
}

/// Decompresses chunks of at most the maximum chunk size given at creation.
pub trait Decompressor: Send {
    /// Decompresses `input` into exactly `output.len()` bytes.
    fn decompress(&mut self, input: &[u8], output: &mut [u8]) -> Result<(), DecodeError>;
}

fn check_chunk_size(format: Format, chunk_size: usize) -> Result<(), CodecError> {
    let (min, max) = format.chunk_size_range();
    if chunk_size < min || chunk_size > max || !chunk_size.is_power_of_two() {
        return Err(CodecError::BadChunkSize {
            format,
            chunk_size,
            min,
            max,
        });
    }
    Ok(())
}

/// A compressor for `format` chunks of up to `max_chunk_size` bytes. `level` follows wimlib's
/// scale (1–100+, 50 = default); formats without levels ignore it.
pub fn new_compressor(
    format: Format,
    max_chunk_size: usize,
    level: u32,
) -> Result<Box<dyn Compressor>, CodecError> {
    check_chunk_size(format, max_chunk_size)?;
    match format {
        Format::Xpress => Ok(Box::new(xpress::XpressCompressor::new(
            max_chunk_size,
            level,
        ))),
        Format::Lzx => Ok(Box::new(lzx::LzxCompressor::new(max_chunk_size, level))),
        Format::Lzms => Ok(Box::new(lzms::LzmsCompressor::new(max_chunk_size, level))),
    }
}

/// A decompressor for `format` chunks of up to `max_chunk_size` bytes.
pub fn new_decompressor(
    format: Format,
    max_chunk_size: usize,
) -> Result<Box<dyn Decompressor>, CodecError> {
    check_chunk_size(format, max_chunk_size)?;
    match format {
        Format::Xpress => Ok(Box::new(xpress::XpressDecompressor::new(max_chunk_size))),
        Format::Lzx => Ok(Box::new(lzx::LzxDecompressor::new(max_chunk_size))),
        Format::Lzms => Ok(Box::new(lzms::LzmsDecompressor::new(max_chunk_size))),
    }
}
