//! LZX bit I/O: the bitstream is a sequence of 16-bit little-endian words, each read from its
//! most significant bit down (CAB LZX §"Bitstream"; [MS-PATCH] §2.2).

/// Reads an LZX bitstream from a slice. Reading past the end yields zero bits; whether more bits
/// were consumed than exist is checked with [`BitReader::overrun`] at block boundaries, which keeps
/// the per-symbol path free of end checks.
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    /// Byte position of the next word to load (may exceed `data.len()` once zeros are fed).
    pos: usize,
    /// Unconsumed bits, left-aligned.
    buf: u64,
    /// Number of valid bits in `buf`.
    bits: u32,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        BitReader::at(data, 0)
    }

    pub(crate) fn at(data: &'a [u8], pos: usize) -> Self {
        let mut r = BitReader {
            data,
            pos,
            buf: 0,
            bits: 0,
        };
        r.refill();
        r
    }

    /// Loads whole 16-bit words until at least 48 bits are buffered.
    #[inline]
    pub(crate) fn refill(&mut self) {
        if let Some(bytes) = self.data.get(self.pos..self.pos + 8) {
            let x = u64::from_le_bytes(bytes.try_into().expect("slice of 8 bytes"));
            // Words in stream order, first word in the top 16 bits.
            let words = ((x & 0xFFFF) << 48)
                | (((x >> 16) & 0xFFFF) << 32)
                | (((x >> 32) & 0xFFFF) << 16)
                | (x >> 48);
            let n = (64 - self.bits) / 16;
            let keep = self.bits + 16 * n;
            let mut add = words >> self.bits;
            if keep < 64 {
                add &= !((1u64 << (64 - keep)) - 1);
            }
            self.buf |= add;
            self.bits = keep;
            self.pos += 2 * n as usize;
        } else {
            while self.bits <= 48 {
                let w = match self.data.get(self.pos..self.pos + 2) {
                    Some(b) => u16::from_le_bytes([b[0], b[1]]),
                    None => 0,
                };
                self.buf |= u64::from(w) << (48 - self.bits);
                self.bits += 16;
                self.pos += 2;
            }
        }
    }

    /// Makes sure at least `n` (≤ 48) bits are buffered.
    #[inline(always)]
    pub(crate) fn ensure(&mut self, n: u32) {
        if self.bits < n {
            self.refill();
        }
    }

    /// The next `n` (1..=32) bits without consuming them; call [`Self::ensure`] first.
    #[inline(always)]
    pub(crate) fn peek(&self, n: u32) -> u32 {
        (self.buf >> (64 - n)) as u32
    }

    #[inline(always)]
    pub(crate) fn consume(&mut self, n: u32) {
        self.buf <<= n;
        self.bits -= n;
    }

    /// Reads `n` (0..=32) bits.
    #[inline(always)]
    pub(crate) fn read(&mut self, n: u32) -> u32 {
        if n == 0 {
            return 0;
        }
        self.ensure(n);
        let v = self.peek(n);
        self.consume(n);
        v
    }

    /// True if more bits were consumed than the input holds.
    pub(crate) fn overrun(&self) -> bool {
        (self.pos as u64) * 8 - u64::from(self.bits) > (self.data.len() as u64) * 8
    }

    /// Skips to the next 16-bit boundary for an uncompressed block: 1 to 16 bits of padding
    /// (a whole word when already aligned). Returns the byte position that follows.
    pub(crate) fn align_for_raw(&self) -> usize {
        // Bits of the partially consumed word: bits % 16; the full unread words: bits / 16.
        let full_words = (self.bits / 16) as usize;
        if self.bits.is_multiple_of(16) {
            // Already aligned: one whole word is padding.
            self.pos - 2 * full_words + 2
        } else {
            self.pos - 2 * full_words
        }
    }
}

/// Writes an LZX bitstream into a fixed slice; reports overflow instead of growing.
pub(crate) struct BitWriter<'a> {
    out: &'a mut [u8],
    pos: usize,
    /// Pending bits, right-aligned.
    buf: u64,
    bits: u32,
    overflow: bool,
}

impl<'a> BitWriter<'a> {
    pub(crate) fn new(out: &'a mut [u8]) -> Self {
        BitWriter {
            out,
            pos: 0,
            buf: 0,
            bits: 0,
            overflow: false,
        }
    }

    /// Writes the low `n` (0..=32) bits of `v`, most significant first.
    #[inline(always)]
    pub(crate) fn write(&mut self, v: u32, n: u32) {
        debug_assert!(n <= 32 && (n == 32 || v >> n == 0));
        // Up to 31 bits wait in `buf`; two 16-bit words go out together.
        self.buf = (self.buf << n) | u64::from(v);
        self.bits += n;
        if self.bits >= 32 {
            self.bits -= 32;
            let x = (self.buf >> self.bits) as u32;
            let (hi, lo) = ((x >> 16) as u16, x as u16);
            let [a, b] = hi.to_le_bytes();
            let [c, d] = lo.to_le_bytes();
            self.put(&[a, b, c, d]);
        }
    }

    #[inline(always)]
    fn put(&mut self, b: &[u8]) {
        if let Some(dst) = self.out.get_mut(self.pos..self.pos + b.len()) {
            dst.copy_from_slice(b);
        } else {
            self.overflow = true;
        }
        self.pos += b.len();
    }

    /// Pads to a 16-bit boundary with 1..=16 zero bits (uncompressed block rule).
    #[cfg(test)]
    pub(crate) fn align_for_raw(&mut self) {
        let pad = 16 - self.bits % 16;
        self.write(0, pad);
        self.flush_words();
    }

    /// Writes out the whole 16-bit words that wait.
    fn flush_words(&mut self) {
        while self.bits >= 16 {
            self.bits -= 16;
            let w = (self.buf >> self.bits) as u16;
            self.put(&w.to_le_bytes());
        }
    }

    /// Appends raw bytes; the stream must be 16-bit aligned.
    #[cfg(test)]
    pub(crate) fn write_bytes(&mut self, b: &[u8]) {
        debug_assert_eq!(self.bits, 0);
        self.put(b);
    }

    /// Flushes pending bits (zero padded to a whole word); returns the byte count, or `None` if
    /// the output did not fit.
    pub(crate) fn finish(mut self) -> Option<usize> {
        if !self.bits.is_multiple_of(16) {
            let pad = 16 - self.bits % 16;
            self.write(0, pad);
        }
        self.flush_words();
        (!self.overflow).then_some(self.pos)
    }

    /// Bytes written so far, whether or not they fit.
    pub(crate) fn len(&self) -> usize {
        self.pos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_read_bits() {
        let mut buf = [0u8; 64];
        let fields: Vec<(u32, u32)> = (0..60u32)
            .map(|i| {
                (
                    (i.wrapping_mul(2654435761u32)) & ((1 << (i % 17 + 1)) - 1),
                    i % 17 + 1,
                )
            })
            .collect();
        let mut w = BitWriter::new(&mut buf);
        for &(v, n) in &fields {
            w.write(v, n);
        }
        let len = w.finish().expect("fits");
        let mut r = BitReader::new(&buf[..len]);
        for &(v, n) in &fields {
            assert_eq!(r.read(n), v);
        }
        assert!(!r.overrun());
        r.read(16);
        assert!(r.overrun());
    }

    #[test]
    fn word_order_is_little_endian_msb_first() {
        // The first bit of the stream is bit 15 of the first little-endian word.
        let data = [0x00, 0x80, 0x01, 0x00];
        let mut r = BitReader::new(&data);
        assert_eq!(r.read(1), 1);
        assert_eq!(r.read(15), 0);
        assert_eq!(r.read(16), 1);
    }

    #[test]
    fn raw_alignment_pads_one_to_sixteen_bits() {
        let data = [0u8; 16];
        let mut r = BitReader::new(&data);
        r.read(4);
        assert_eq!(r.align_for_raw(), 2);
        r.read(12);
        assert_eq!(r.align_for_raw(), 4);
    }
}
