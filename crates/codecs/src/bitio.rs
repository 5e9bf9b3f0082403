//! Bitstreams of 16-bit little-endian words read most-significant bit first, with literal bytes
//! interleaved between the words, as used by XPRESS Huffman ([MS-XCA] §2.2.4) and LZX.
//!
//! The interleaving rule is the subtle part. [MS-XCA]'s decoder keeps between 16 and 32 bits
//! loaded: it starts with two words and loads the next word as soon as fewer than 16 bits remain.
//! A literal byte (XPRESS's long match lengths) is read at the input position just past the
//! last loaded word. The writer therefore keeps two word slots reserved ahead of the byte
//! position ([`BitWriter`]), and our reader, which loads further ahead for speed, gives back
//! the words it loaded early before reading bytes ([`BitReader::align_for_bytes`]).

/// Reads a stream of 16-bit little-endian words, most-significant bit first.
///
/// Reading past the end yields zero bits (as [MS-XCA] decoders do); [`BitReader::overrun`]
/// tells afterwards whether any of them were actually consumed.
#[derive(Debug, Clone)]
pub struct BitReader<'a> {
    data: &'a [u8],
    /// Next byte of `data` to load.
    pos: usize,
    /// Loaded bits, left-justified; bits below the valid ones are zero.
    buf: u64,
    /// Number of valid bits in `buf`.
    bits: u32,
    /// Zero words loaded past the end of `data`.
    phantom: u32,
}

impl<'a> BitReader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        BitReader {
            data,
            pos: 0,
            buf: 0,
            bits: 0,
            phantom: 0,
        }
    }

    /// Ensures at least 32 valid bits are loaded.
    #[inline(always)]
    pub fn refill(&mut self) {
        if self.bits >= 32 {
            return;
        }
        if let Some(b) = self.data.get(self.pos..self.pos + 4) {
            let w0 = u64::from(u16::from_le_bytes([b[0], b[1]]));
            let w1 = u64::from(u16::from_le_bytes([b[2], b[3]]));
            self.buf |= ((w0 << 16) | w1) << (32 - self.bits);
            self.bits += 32;
            self.pos += 4;
        } else {
            self.refill_slow();
        }
    }

    #[cold]
    fn refill_slow(&mut self) {
        while self.bits <= 48 {
            let word = match self.data.get(self.pos..self.pos + 2) {
                Some(b) => {
                    self.pos += 2;
                    u16::from_le_bytes([b[0], b[1]])
                }
                None => {
                    self.phantom += 1;
                    0
                }
            };
            self.buf |= u64::from(word) << (48 - self.bits);
            self.bits += 16;
        }
    }

    /// The loaded bits, left-justified (the next bit is bit 63).
    #[inline(always)]
    pub fn peek(&self) -> u64 {
        self.buf
    }

    /// Number of valid bits loaded.
    #[inline(always)]
    pub fn available(&self) -> u32 {
        self.bits
    }

    /// Drops `n` bits; `n` must not exceed [`Self::available`].
    #[inline(always)]
    pub fn consume(&mut self, n: u32) {
        debug_assert!(n <= self.bits);
        self.buf <<= n;
        self.bits -= n;
    }

    /// Takes the next `n` bits (`n <= 32` and `n` must not exceed [`Self::available`]).
    #[inline(always)]
    pub fn pop(&mut self, n: u32) -> u32 {
        // Two shifts so that n == 0 yields 0 without a 64-bit shift.
        let v = ((self.buf >> 1) >> (63 - n)) as u32;
        self.consume(n);
        v
    }

    /// Gives back the words loaded beyond what an [MS-XCA] decoder would hold (16 to 31 bits),
    /// so that the next [`Self::read_u8`] reads the byte such a decoder would read. Needs at
    /// least 16 bits available, as after decoding a symbol from a refilled buffer.
    pub fn align_for_bytes(&mut self) {
        let excess = self.bits.saturating_sub(16) / 16;
        if excess == 0 {
            return;
        }
        let from_phantom = excess.min(self.phantom);
        self.phantom -= from_phantom;
        self.pos -= 2 * (excess - from_phantom) as usize;
        self.bits -= 16 * excess;
        self.buf &= !(u64::MAX >> self.bits);
    }

    /// Reads an interleaved byte at the current input position (after
    /// [`Self::align_for_bytes`]); `None` past the end.
    pub fn read_u8(&mut self) -> Option<u8> {
        if self.phantom != 0 {
            return None;
        }
        let b = *self.data.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    /// Reads an interleaved little-endian u16; `None` past the end.
    pub fn read_u16(&mut self) -> Option<u16> {
        let lo = self.read_u8()?;
        let hi = self.read_u8()?;
        Some(u16::from_le_bytes([lo, hi]))
    }

    /// Reads an interleaved little-endian u32; `None` past the end.
    pub fn read_u32(&mut self) -> Option<u32> {
        let lo = self.read_u16()?;
        let hi = self.read_u16()?;
        Some(u32::from(lo) | (u32::from(hi) << 16))
    }

    /// Whether bits past the end of the input have been consumed.
    pub fn overrun(&self) -> bool {
        self.bits < 16 * self.phantom
    }
}

/// Writes the bitstream [`BitReader`] reads: bits go into 16-bit words, literal bytes go after
/// the two word slots reserved ahead.
///
/// Writes past the end of the output are dropped and make [`Self::finish`] return `None`.
#[derive(Debug)]
pub struct BitWriter<'a> {
    out: &'a mut [u8],
    /// Pending bits in the low `count` bits (older bits above them may linger).
    buf: u32,
    count: u32,
    /// Slot of the word being filled, the reserved slot after it, and the next byte position.
    next_word: usize,
    next_word2: usize,
    next_byte: usize,
    overflow: bool,
}

impl<'a> BitWriter<'a> {
    pub fn new(out: &'a mut [u8]) -> Self {
        let overflow = out.len() < 4;
        BitWriter {
            out,
            buf: 0,
            count: 0,
            next_word: 0,
            next_word2: 2,
            next_byte: 4,
            overflow,
        }
    }

    fn put_u16(&mut self, at: usize, v: u16) {
        match self.out.get_mut(at..at + 2) {
            Some(dst) => dst.copy_from_slice(&v.to_le_bytes()),
            None => self.overflow = true,
        }
    }

    /// Writes the low `n` bits of `bits` (`n <= 16`, higher bits zero), most significant first.
    #[inline(always)]
    pub fn write_bits(&mut self, bits: u32, n: u32) {
        debug_assert!(n <= 16 && bits >> n == 0);
        self.buf = (self.buf << n) | bits;
        self.count += n;
        // A word is written only once a 17th bit is pending: a decoder holding 16 to 31 bits
        // has then loaded the word after it too, which fixes where the next byte goes.
        if self.count > 16 {
            self.count -= 16;
            self.put_u16(self.next_word, (self.buf >> self.count) as u16);
            self.next_word = self.next_word2;
            self.next_word2 = self.next_byte;
            self.next_byte += 2;
        }
    }

    /// Writes an interleaved byte.
    #[inline]
    pub fn write_u8(&mut self, b: u8) {
        match self.out.get_mut(self.next_byte) {
            Some(dst) => *dst = b,
            None => self.overflow = true,
        }
        self.next_byte += 1;
    }

    /// Writes an interleaved little-endian u16.
    #[inline]
    pub fn write_u16(&mut self, v: u16) {
        self.put_u16(self.next_byte, v);
        self.next_byte += 2;
    }

    /// Flushes the last partial word and the reserved one; returns the total size, or `None` if
    /// the output was too small.
    pub fn finish(mut self) -> Option<usize> {
        let last = ((self.buf << (16 - self.count)) & 0xFFFF) as u16;
        self.put_u16(self.next_word, last);
        self.put_u16(self.next_word2, 0);
        (!self.overflow && self.next_byte <= self.out.len()).then_some(self.next_byte)
    }

    /// The size [`Self::finish`] will return after writing `bits` bits and `bytes` interleaved
    /// bytes in total, whatever their order.
    pub fn size_for(bits: u64, bytes: u64) -> u64 {
        4 + 2 * bits.div_ceil(16).saturating_sub(1) + bytes
    }
}

#[cfg(test)]
mod tests;
