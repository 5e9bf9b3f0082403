//! The backward bitstream of LZMS: 16-bit little-endian words read from the end of the chunk
//! towards its start, each word's bits most-significant first. It carries the Huffman-coded
//! symbols and the verbatim extra bits of offsets and lengths.
//!
//! The writer produces the words in reading order; whoever lays out the chunk stores them
//! reversed after the range coder's words. Its last word is padded with zero bits.

/// Reads the backward stream. Past the start of the input it reads zeros and counts them, so
/// that a decoder can tell a stream that ran dry ([`Self::overran`]).
#[derive(Debug)]
pub(crate) struct BackwardReader<'a> {
    data: &'a [u8],
    /// Bytes not yet loaded: `data[..pos]`.
    pos: usize,
    /// Left-justified: the next bit is bit 63.
    buf: u64,
    count: u32,
    /// Zero words supplied past the start of the input.
    phantom_words: u32,
}

impl<'a> BackwardReader<'a> {
    /// A reader of `data` (of even length) from its end.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        BackwardReader {
            data,
            pos: data.len() & !1,
            buf: 0,
            count: 0,
            phantom_words: 0,
        }
    }

    /// Makes at least 32 bits available.
    #[inline(always)]
    pub(crate) fn refill(&mut self) {
        while self.count <= 48 {
            let word = if self.pos >= 2 {
                self.pos -= 2;
                u16::from_le_bytes([self.data[self.pos], self.data[self.pos + 1]])
            } else {
                self.phantom_words += 1;
                0
            };
            self.buf |= u64::from(word) << (48 - self.count);
            self.count += 16;
        }
    }

    /// The next bits, left-justified (at least 32 valid after [`Self::refill`]).
    #[inline(always)]
    pub(crate) fn peek(&self) -> u64 {
        self.buf
    }

    /// Drops `n` (≤ the available count) bits.
    #[inline(always)]
    pub(crate) fn consume(&mut self, n: u32) {
        self.buf <<= n;
        self.count -= n;
    }

    /// Reads `n` (≤ 32) verbatim bits.
    #[inline(always)]
    pub(crate) fn read(&mut self, n: u32) -> u32 {
        if n == 0 {
            return 0;
        }
        self.refill();
        let v = (self.buf >> (64 - n)) as u32;
        self.consume(n);
        v
    }

    /// Whether bits were consumed beyond the start of the input.
    pub(crate) fn overran(&self) -> bool {
        u64::from(self.phantom_words) * 16 > u64::from(self.count)
    }
}

/// Writes the backward stream as words in reading order.
#[derive(Debug, Default)]
pub(crate) struct BackwardWriter {
    buf: u64,
    count: u32,
}

impl BackwardWriter {
    /// Appends the low `n` (≤ 32) bits of `bits`, most significant first.
    #[inline(always)]
    pub(crate) fn write(&mut self, bits: u32, n: u32, out: &mut Vec<u16>) {
        if n == 0 {
            return;
        }
        self.buf = (self.buf << n) | u64::from(bits);
        self.count += n;
        while self.count >= 16 {
            self.count -= 16;
            out.push((self.buf >> self.count) as u16);
        }
    }

    /// Pads the last word with zeros.
    pub(crate) fn finish(self, out: &mut Vec<u16>) {
        if self.count > 0 {
            out.push((self.buf << (16 - self.count)) as u16);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_read_from_the_end_high_bit_first() {
        // Reading order: word 0xA5C3 then 0x0F00, stored reversed, little-endian.
        let data = [0x00, 0x0F, 0xC3, 0xA5];
        let mut r = BackwardReader::new(&data);
        assert_eq!(r.read(4), 0xA);
        assert_eq!(r.read(12), 0x5C3);
        assert_eq!(r.read(8), 0x0F);
        assert!(!r.overran());
        assert_eq!(r.read(8), 0);
        assert!(!r.overran());
        assert_eq!(r.read(1), 0);
        assert!(r.overran());
    }

    #[test]
    fn writer_round_trips() {
        let mut w = BackwardWriter::default();
        let mut words = Vec::new();
        let items: Vec<(u32, u32)> = (0..500u32)
            .map(|i| (i * 7919 % (1 << (i % 31)), i % 31))
            .collect();
        for &(v, n) in &items {
            w.write(v, n, &mut words);
        }
        w.finish(&mut words);
        let bytes: Vec<u8> = words.iter().rev().flat_map(|w| w.to_le_bytes()).collect();
        let mut r = BackwardReader::new(&bytes);
        for &(v, n) in &items {
            assert_eq!(r.read(n), v);
        }
        assert!(!r.overran());
    }
}
