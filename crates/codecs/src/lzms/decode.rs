//! The LZMS decompressor.

use super::adaptive_huffman::{CodeDecoder, MAX_CODEWORD_LEN};
use super::bits::BackwardReader;
use super::probability::{Decision, Decisions};
use super::range::RangeDecoder;
use super::tables::{
    LENGTH_BASE, LENGTH_EXTRA, NUM_LENGTH_SLOTS, NUM_OFFSET_SLOTS, OFFSET_BASE, OFFSET_EXTRA,
    num_offset_slots,
};
use super::x86_filter::{self, Direction};
use super::{
    DELTA_POWER_REBUILD, DELTA_POWER_SYMS, LENGTH_REBUILD, LITERAL_REBUILD, OFFSET_REBUILD,
    initial_delta_queue, initial_lz_queue,
};
use crate::{DecodeError, Decompressor};

/// Decompresses LZMS chunks of up to a maximum size; reusable across chunks.
#[derive(Debug)]
pub struct LzmsDecompressor {
    max_chunk_size: usize,
    literal: CodeDecoder,
    lz_offset: CodeDecoder,
    length: CodeDecoder,
    delta_offset: CodeDecoder,
    delta_power: CodeDecoder,
    last_seen: Vec<i32>,
}

/// What went wrong inside the item loop, turned into a [`DecodeError`] at the end.
const BAD_SYMBOL: DecodeError = DecodeError::BadBlock("symbol outside the alphabet");

impl LzmsDecompressor {
    /// A decompressor for chunks of up to `max_chunk_size` bytes.
    pub fn new(max_chunk_size: usize) -> Self {
        LzmsDecompressor {
            max_chunk_size,
            literal: CodeDecoder::new(256, LITERAL_REBUILD, 10),
            lz_offset: CodeDecoder::new(NUM_OFFSET_SLOTS, OFFSET_REBUILD, 11),
            length: CodeDecoder::new(NUM_LENGTH_SLOTS, LENGTH_REBUILD, 9),
            delta_offset: CodeDecoder::new(NUM_OFFSET_SLOTS, OFFSET_REBUILD, 11),
            delta_power: CodeDecoder::new(DELTA_POWER_SYMS, DELTA_POWER_REBUILD, 7),
            last_seen: vec![0; 65_536],
        }
    }

    fn reset_codes(&mut self, out_len: usize) -> Result<(), DecodeError> {
        let slots = num_offset_slots(out_len);
        let ok = self.literal.reset(256)
            & self.lz_offset.reset(slots)
            & self.length.reset(NUM_LENGTH_SLOTS)
            & self.delta_offset.reset(slots)
            & self.delta_power.reset(DELTA_POWER_SYMS);
        if ok {
            Ok(())
        } else {
            Err(DecodeError::BadHuffmanCode)
        }
    }

    fn decode_items(&mut self, input: &[u8], out: &mut [u8]) -> Result<(), DecodeError> {
        let mut rc = RangeDecoder::new(input);
        let mut bits = BackwardReader::new(input);
        let mut d = Decisions::new();
        let mut lz_queue = initial_lz_queue();
        let mut delta_queue = initial_delta_queue();
        let mut pos = 0;
        while pos < out.len() {
            if !bit(&mut rc, &mut d.main) {
                let sym = symbol(&mut self.literal, &mut bits)?;
                out[pos] = sym as u8;
                pos += 1;
                lz_queue.end_item(None);
                delta_queue.end_item(None);
            } else if !bit(&mut rc, &mut d.matches) {
                let offset = if !bit(&mut rc, &mut d.lz) {
                    let slot = symbol(&mut self.lz_offset, &mut bits)?;
                    OFFSET_BASE[slot] + bits.read(u32::from(OFFSET_EXTRA[slot]))
                } else {
                    lz_queue.take(rep_index(&mut rc, &mut d.lz_rep))
                };
                let length = self.length(&mut bits)?;
                lz_queue.end_item(Some(offset));
                delta_queue.end_item(None);
                pos = copy_lz(out, pos, offset as usize, length)?;
            } else {
                let (power, raw) = if !bit(&mut rc, &mut d.delta) {
                    let power = symbol(&mut self.delta_power, &mut bits)? as u32;
                    let slot = symbol(&mut self.delta_offset, &mut bits)?;
                    (
                        power,
                        OFFSET_BASE[slot] + bits.read(u32::from(OFFSET_EXTRA[slot])),
                    )
                } else {
                    delta_queue.take(rep_index(&mut rc, &mut d.delta_rep))
                };
                let length = self.length(&mut bits)?;
                lz_queue.end_item(None);
                delta_queue.end_item(Some((power, raw)));
                pos = copy_delta(out, pos, power, raw, length)?;
            }
            if bits.overran() {
                return Err(DecodeError::Truncated);
            }
        }
        Ok(())
    }

    fn length(&mut self, bits: &mut BackwardReader<'_>) -> Result<usize, DecodeError> {
        let slot = symbol(&mut self.length, bits)?;
        Ok((LENGTH_BASE[slot] + bits.read(u32::from(LENGTH_EXTRA[slot]))) as usize)
    }
}

#[inline(always)]
fn bit<const N: usize>(rc: &mut RangeDecoder<'_>, decision: &mut Decision<N>) -> bool {
    let b = rc.decode(decision.current());
    decision.record(b);
    b
}

/// Which of the three nameable queue entries a repeat match names.
#[inline(always)]
fn rep_index(rc: &mut RangeDecoder<'_>, decisions: &mut [Decision<64>; 2]) -> usize {
    if !bit(rc, &mut decisions[0]) {
        0
    } else if !bit(rc, &mut decisions[1]) {
        1
    } else {
        2
    }
}

#[inline(always)]
fn symbol(code: &mut CodeDecoder, bits: &mut BackwardReader<'_>) -> Result<usize, DecodeError> {
    bits.refill();
    let (sym, len) = code.decode(bits.peek()).ok_or(BAD_SYMBOL)?;
    debug_assert!(len <= MAX_CODEWORD_LEN);
    bits.consume(len);
    if !code.record(sym) {
        return Err(DecodeError::BadHuffmanCode);
    }
    Ok(sym)
}

/// Copies an LZ match byte by byte (sources may overlap the destination).
fn copy_lz(out: &mut [u8], pos: usize, offset: usize, length: usize) -> Result<usize, DecodeError> {
    if offset > pos {
        return Err(DecodeError::OffsetTooFar {
            position: pos,
            offset,
        });
    }
    let end = pos
        .checked_add(length)
        .filter(|&e| e <= out.len())
        .ok_or(DecodeError::Overrun {
            expected: out.len(),
        })?;
    if offset >= length {
        out.copy_within(pos - offset..end - offset, pos);
    } else {
        for i in pos..end {
            out[i] = out[i - offset];
        }
    }
    Ok(end)
}

/// Applies a delta match: each byte is its source `span` bytes back plus the change between
/// the two bytes one offset further back.
fn copy_delta(
    out: &mut [u8],
    pos: usize,
    power: u32,
    raw: u32,
    length: usize,
) -> Result<usize, DecodeError> {
    let span = 1u64 << power;
    let reach = (u64::from(raw) << power) + span;
    if reach > pos as u64 {
        return Err(DecodeError::OffsetTooFar {
            position: pos,
            offset: usize::try_from(reach).unwrap_or(usize::MAX),
        });
    }
    // Both fit: they are at most `pos`.
    let (span, offset) = (span as usize, (reach - span) as usize);
    let end = pos
        .checked_add(length)
        .filter(|&e| e <= out.len())
        .ok_or(DecodeError::Overrun {
            expected: out.len(),
        })?;
    for i in pos..end {
        out[i] = out[i - offset]
            .wrapping_add(out[i - span])
            .wrapping_sub(out[i - offset - span]);
    }
    Ok(end)
}

impl Decompressor for LzmsDecompressor {
    fn decompress(&mut self, input: &[u8], output: &mut [u8]) -> Result<(), DecodeError> {
        if output.len() > self.max_chunk_size {
            return Err(DecodeError::OutputTooLarge {
                size: output.len(),
                max: self.max_chunk_size,
            });
        }
        if output.is_empty() {
            return Ok(());
        }
        if input.len() < 4 || !input.len().is_multiple_of(2) {
            return Err(DecodeError::Truncated);
        }
        self.reset_codes(output.len())?;
        self.decode_items(input, output)?;
        x86_filter::filter(output, &mut self.last_seen, Direction::Decode);
        Ok(())
    }
}
