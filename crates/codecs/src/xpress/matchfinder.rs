//! Hash-chain match finder for windows of at most 64 KiB.
//!
//! Positions are hashed on their next 4 bytes into chains; a separate one-entry table on 3 bytes
//! finds the most recent length-3 match. Tables hold `base + position`; each chunk raises `base`
//! past every stored value, which invalidates old entries without clearing the tables.

/// Window size: a chunk, and the span of `u16` chain links.
pub const WINDOW: usize = 1 << 16;
const HASH4_BITS: u32 = 15;
const HASH3_BITS: u32 = 14;

#[derive(Debug, Clone)]
pub struct HashChains {
    /// Most recent position per 4-byte hash. 0 doubles as "none": position 0 is a genuine
    /// candidate for every later position, so a false one costs only a comparison.
    head4: Box<[u16; 1 << HASH4_BITS]>,
    head3: Box<[u16; 1 << HASH3_BITS]>,
    /// Distance from each position back to the previous one with the same 4-byte hash (0: none).
    prev: Box<[u16; WINDOW]>,
}

/// A match: `len` bytes at `offset` back (len 0 = none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    pub len: usize,
    pub offset: usize,
}

#[inline(always)]
fn load_u32(data: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(data[at..at + 4].try_into().expect("4 bytes"))
}

#[inline(always)]
fn hash4(v: u32) -> usize {
    (v.wrapping_mul(0x1E35_A7BD) >> (32 - HASH4_BITS)) as usize
}

#[inline(always)]
fn hash3(v: u32) -> usize {
    ((v << 8).wrapping_mul(0x1E35_A7BD) >> (32 - HASH3_BITS)) as usize
}

/// Length of the common prefix of `data[a..]` and `data[b..]` (`a < b`), starting from `start`
/// known-equal bytes and stopping at `max`.
#[inline(always)]
pub fn extend_match(data: &[u8], a: usize, b: usize, start: usize, max: usize) -> usize {
    let mut len = start;
    while len + 8 <= max {
        let x = u64::from_le_bytes(data[a + len..a + len + 8].try_into().expect("8 bytes"));
        let y = u64::from_le_bytes(data[b + len..b + len + 8].try_into().expect("8 bytes"));
        let diff = x ^ y;
        if diff != 0 {
            return len + (diff.trailing_zeros() / 8) as usize;
        }
        len += 8;
    }
    while len < max && data[a + len] == data[b + len] {
        len += 1;
    }
    len
}

impl HashChains {
    pub fn new() -> Self {
        HashChains {
            head4: Box::new([0; 1 << HASH4_BITS]),
            head3: Box::new([0; 1 << HASH3_BITS]),
            prev: Box::new([0; WINDOW]),
        }
    }

    /// Starts a new window (of at most [`WINDOW`] bytes): forgets every position.
    pub fn reset(&mut self) {
        self.head4.fill(0);
        self.head3.fill(0);
    }

    /// Inserts `pos` (which needs 4 bytes of data from `pos`); returns the previous head of its
    /// chain, the 3-byte table's previous entry and the 4 bytes at `pos`.
    #[inline(always)]
    fn insert(&mut self, data: &[u8], pos: usize) -> (usize, usize, u32) {
        let v = load_u32(data, pos);
        let h4 = hash4(v);
        let h3 = hash3(v);
        let c4 = usize::from(self.head4[h4]);
        let c3 = usize::from(self.head3[h3]);
        self.head4[h4] = pos as u16;
        self.head3[h3] = pos as u16;
        self.prev[pos & (WINDOW - 1)] = (pos - c4) as u16;
        (c4, c3, v)
    }

    /// Inserts `pos` without searching (positions covered by a chosen match).
    #[inline(always)]
    pub fn skip(&mut self, data: &[u8], pos: usize) {
        if pos + 4 <= data.len() {
            self.insert(data, pos);
        }
    }

    /// Inserts `pos` and finds its longest match longer than `best_len` (at least 3 bytes), up
    /// to `max_len` bytes, visiting at most `depth` chain entries and stopping early at
    /// `nice_len` bytes. Needs `pos + 4 <= data.len()` and `pos < WINDOW`.
    #[inline(always)]
    pub fn longest_match(
        &mut self,
        data: &[u8],
        pos: usize,
        best_len: usize,
        max_len: usize,
        nice_len: usize,
        depth: u32,
    ) -> Match {
        let (mut cand, c3, cur) = self.insert(data, pos);
        let mut best = Match { len: best_len.max(2), offset: 0 };
        if max_len < 4 || pos == 0 || best.len >= max_len {
            return Match { len: 0, offset: 0 };
        }
        let nice_len = nice_len.min(max_len);
        if best.len < 3 && c3 < pos && load_u32(data, c3) & 0xFF_FFFF == cur & 0xFF_FFFF {
            best = Match { len: 3, offset: pos - c3 };
        }
        let mut remaining = depth;
        loop {
            // Reject quickly unless the candidate also matches at best's last bytes.
            let tail_ok = best.len < 4 || {
                let t = best.len - 3;
                load_u32(data, cand + t) == load_u32(data, pos + t)
            };
            if tail_ok && load_u32(data, cand) == cur {
                let len = extend_match(data, cand, pos, 4, max_len);
                if len > best.len {
                    best = Match { len, offset: pos - cand };
                    if len >= nice_len {
                        break;
                    }
                }
            }
            remaining -= 1;
            let d = usize::from(self.prev[cand & (WINDOW - 1)]);
            if d == 0 || remaining == 0 {
                break;
            }
            cand -= d;
        }
        if best.offset == 0 { Match { len: 0, offset: 0 } } else { best }
    }
}
