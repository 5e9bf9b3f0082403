//! XPRESS Huffman decompression ([MS-XCA] §2.2.4).

use super::{BLOCK_SIZE, MAX_CODEWORD_LEN, MIN_MATCH_LEN, NUM_SYMBOLS, TABLE_SIZE};
use crate::bitio::BitReader;
use crate::huffman::DecodeTable;
use crate::{DecodeError, Decompressor};

/// Root table width: 2^11 entries cover nearly all codewords of real data.
const TABLE_BITS: u32 = 11;

/// Decompresses XPRESS Huffman chunks of up to the maximum chunk size given at creation.
#[derive(Debug, Clone)]
pub struct XpressDecompressor {
    table: DecodeTable,
    lens: [u8; NUM_SYMBOLS],
    max_chunk_size: usize,
}

impl XpressDecompressor {
    /// A decompressor for chunks of up to `max_chunk_size` bytes (at most 64 KiB, one block).
    pub fn new(max_chunk_size: usize) -> Self {
        XpressDecompressor {
            table: DecodeTable::new(NUM_SYMBOLS, TABLE_BITS, MAX_CODEWORD_LEN),
            lens: [0; NUM_SYMBOLS],
            max_chunk_size: max_chunk_size.min(BLOCK_SIZE),
        }
    }
}

impl Decompressor for XpressDecompressor {
    fn decompress(&mut self, input: &[u8], output: &mut [u8]) -> Result<(), DecodeError> {
        if output.len() > self.max_chunk_size {
            return Err(DecodeError::OutputTooLarge {
                size: output.len(),
                max: self.max_chunk_size,
            });
        }
        let table = input.get(..TABLE_SIZE).ok_or(DecodeError::Truncated)?;
        for (i, &b) in table.iter().enumerate() {
            self.lens[2 * i] = b & 0xF;
            self.lens[2 * i + 1] = b >> 4;
        }
        self.table
            .build(&self.lens)
            .map_err(|_| DecodeError::BadHuffmanCode)?;
        if self.table.is_empty() && !output.is_empty() {
            return Err(DecodeError::BadHuffmanCode);
        }
        decode_block(&self.table, BitReader::new(&input[TABLE_SIZE..]), output)
    }
}

/// Decodes symbols until `output` is full.
fn decode_block(
    table: &DecodeTable,
    mut bits: BitReader<'_>,
    output: &mut [u8],
) -> Result<(), DecodeError> {
    let end = output.len();
    let mut pos = 0;
    while pos < end {
        // At least 32 bits: a codeword (<= 15) and then the offset bits (<= 15).
        bits.refill();
        let (sym, len) = table.decode(bits.peek());
        bits.consume(len);
        if sym < 256 {
            output[pos] = sym as u8;
            pos += 1;
            continue;
        }
        let header = sym - 256;
        let offset_log = header >> 4;
        let mut adjusted = (header & 0xF) as usize;
        if adjusted == 0xF {
            adjusted = read_long_length(&mut bits)?;
        }
        // "MatchOffset = (1 << MatchOffsetBitLength) + next MatchOffsetBitLength bits"
        let offset = ((1u32 << offset_log) | bits.pop(offset_log)) as usize;
        let length = adjusted + MIN_MATCH_LEN;
        if offset > pos {
            return Err(DecodeError::OffsetTooFar {
                position: pos,
                offset,
            });
        }
        if length > end - pos {
            return Err(DecodeError::Overrun { expected: end });
        }
        copy_match(output, pos, offset, length);
        pos += length;
    }
    if bits.overrun() {
        return Err(DecodeError::Truncated);
    }
    Ok(())
}

/// Reads the bytes that follow a length header of 15 and returns the length minus 3.
///
/// [MS-XCA]: "MatchLength = ReadByte(); if MatchLength == 255 { MatchLength = Read16Bits();
/// if MatchLength == 0 { MatchLength = Read32Bits() } if MatchLength < 15 then error;
/// MatchLength -= 15 } MatchLength += 15".
#[cold]
fn read_long_length(bits: &mut BitReader<'_>) -> Result<usize, DecodeError> {
    bits.align_for_bytes();
    let byte = bits.read_u8().ok_or(DecodeError::Truncated)?;
    if byte != 0xFF {
        return Ok(0xF + usize::from(byte));
    }
    let mut len = u32::from(bits.read_u16().ok_or(DecodeError::Truncated)?);
    if len == 0 {
        len = bits.read_u32().ok_or(DecodeError::Truncated)?;
    }
    if len < 0xF {
        return Err(DecodeError::BadBlock("escaped match length below 15"));
    }
    usize::try_from(len).map_err(|_| DecodeError::BadBlock("match length overflows"))
}

/// Copies `length` bytes from `offset` bytes back; overlapping copies repeat the pattern.
#[inline(always)]
fn copy_match(out: &mut [u8], pos: usize, offset: usize, length: usize) {
    let src = pos - offset;
    if offset >= length {
        out.copy_within(src..src + length, pos);
    } else if offset == 1 {
        let b = out[src];
        out[pos..pos + length].fill(b);
    } else {
        // out[src..dst] is periodic with period `offset`; copying all of it doubles the run.
        let end = pos + length;
        let mut dst = pos;
        while dst < end {
            let n = (dst - src).min(end - dst);
            out.copy_within(src..src + n, dst);
            dst += n;
        }
    }
}
