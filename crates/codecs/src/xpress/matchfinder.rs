//! Hash-chain match finder for windows of at most 64 KiB.
//!
//! Positions are hashed on their next 4 bytes into chains, newest first; a separate one-entry
//! table on 3 bytes remembers the most recent position of each 3-byte hash for short matches.
//! The window is copied into a fixed-size, zero-padded buffer and every index is masked to 16
//! bits, so that the compiler can prove all accesses in bounds and the hot loop carries no
//! bounds checks.

/// Window size: a chunk, and the span of `u16` positions.
pub const WINDOW: usize = 1 << 16;
const MASK: usize = WINDOW - 1;
/// Zero padding after the window so that 8-byte loads at any masked position are in bounds.
const PAD: usize = 16;
const HASH4_BITS: u32 = 15;
const HASH3_BITS: u32 = 14;

#[derive(Debug, Clone)]
pub struct HashChains {
    window: Box<[u8; WINDOW + PAD]>,
    len: usize,
    /// Most recent position per 4-byte hash. 0 doubles as "none": position 0 is a genuine
    /// candidate for every later position, so a false one costs only a comparison.
    head4: Box<[u16; 1 << HASH4_BITS]>,
    head3: Box<[u16; 1 << HASH3_BITS]>,
    /// The previous position with the same 4-byte hash; a link to itself or forward ends the
    /// chain.
    prev: Box<[u16; WINDOW]>,
}

/// A match: `len` bytes at `offset` back (len 0 = none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    pub len: usize,
    pub offset: usize,
}

impl Match {
    pub const NONE: Match = Match { len: 0, offset: 0 };
}

#[inline(always)]
fn hash4(v: u32) -> usize {
    (v.wrapping_mul(0x1E35_A7BD) >> (32 - HASH4_BITS)) as usize
}

#[inline(always)]
fn hash3(v: u32) -> usize {
    ((v << 8).wrapping_mul(0x1E35_A7BD) >> (32 - HASH3_BITS)) as usize
}

impl HashChains {
    pub fn new() -> Self {
        HashChains {
            window: Box::new([0; WINDOW + PAD]),
            len: 0,
            head4: Box::new([0; 1 << HASH4_BITS]),
            head3: Box::new([0; 1 << HASH3_BITS]),
            prev: Box::new([0; WINDOW]),
        }
    }

    /// Starts a new window holding `data` (at most [`WINDOW`] bytes).
    pub fn reset(&mut self, data: &[u8]) {
        assert!(data.len() <= WINDOW, "window larger than 64 KiB");
        self.window[..data.len()].copy_from_slice(data);
        self.window[data.len()..data.len() + PAD].fill(0);
        self.len = data.len();
        self.head4.fill(0);
        self.head3.fill(0);
    }

    #[inline(always)]
    fn load_u32(&self, at: usize) -> u32 {
        let at = at & MASK;
        u32::from_le_bytes(self.window[at..at + 4].try_into().expect("4 bytes"))
    }

    #[inline(always)]
    fn load_u64(&self, at: usize) -> u64 {
        let at = at & MASK;
        u64::from_le_bytes(self.window[at..at + 8].try_into().expect("8 bytes"))
    }

    /// Length of the common prefix of the window at `a` and at `b`, from `start` known-equal
    /// bytes up to `max`.
    #[inline(always)]
    fn extend(&self, a: usize, b: usize, start: usize, max: usize) -> usize {
        let mut len = start;
        while len < max {
            let diff = self.load_u64(a + len) ^ self.load_u64(b + len);
            if diff != 0 {
                return (len + (diff.trailing_zeros() / 8) as usize).min(max);
            }
            len += 8;
        }
        max
    }

    /// Inserts `pos` (which needs 4 bytes of data from `pos`); returns the previous head of its
    /// chain, the 3-byte table's previous entry and the 4 bytes at `pos`.
    #[inline(always)]
    fn insert(&mut self, pos: usize) -> (usize, usize, u32) {
        let v = self.load_u32(pos);
        let h4 = hash4(v);
        let h3 = hash3(v);
        let c4 = usize::from(self.head4[h4]);
        let c3 = usize::from(self.head3[h3]);
        self.head4[h4] = pos as u16;
        self.head3[h3] = pos as u16;
        self.prev[pos & MASK] = c4 as u16;
        (c4, c3, v)
    }

    /// Inserts `pos` without searching (positions covered by a chosen match).
    #[inline(always)]
    pub fn skip(&mut self, pos: usize) {
        if pos + 4 <= self.len {
            self.insert(pos);
        }
    }

    /// Inserts `pos` and finds its longest match longer than `best_len` (and at least 3 bytes),
    /// up to `max_len` bytes, visiting at most `depth` (>= 1) chain entries and stopping early
    /// at `nice_len` bytes. Needs `pos + 4 <= len` and `max_len <= len - pos`.
    #[inline(always)]
    pub fn longest_match(
        &mut self,
        pos: usize,
        best_len: usize,
        max_len: usize,
        nice_len: usize,
        depth: u32,
    ) -> Match {
        let (mut cand, c3, cur) = self.insert(pos);
        let mut best = Match {
            len: best_len.max(2),
            offset: 0,
        };
        if max_len < 4 || pos == 0 || best.len >= max_len {
            return Match::NONE;
        }
        let nice_len = nice_len.min(max_len);
        if best.len < 3 && c3 < pos && (self.load_u32(c3) ^ cur) & 0xFF_FFFF == 0 {
            best = Match {
                len: 3,
                offset: pos - c3,
            };
        }
        let mut remaining = depth;
        loop {
            // Reject quickly unless the candidate also matches at best's last bytes.
            let tail_ok = best.len < 4 || {
                let t = best.len - 3;
                self.load_u32(cand + t) == self.load_u32(pos + t)
            };
            if tail_ok && self.load_u32(cand) == cur {
                let len = self.extend(cand, pos, 4, max_len);
                if len > best.len {
                    best = Match {
                        len,
                        offset: pos - cand,
                    };
                    if len >= nice_len {
                        break;
                    }
                }
            }
            remaining -= 1;
            let next = usize::from(self.prev[cand & MASK]);
            if next >= cand || remaining == 0 {
                break;
            }
            cand = next;
        }
        if best.offset == 0 { Match::NONE } else { best }
    }

    /// Inserts `pos` and appends to `out` each match longer than every closer one (so lengths
    /// increase), packed as `len << 16 | offset`; at most `cap` of them, the last slot keeping
    /// the longest. Same limits and requirements as [`Self::longest_match`].
    pub fn collect_matches(
        &mut self,
        pos: usize,
        max_len: usize,
        nice_len: usize,
        depth: u32,
        out: &mut Vec<u32>,
        cap: usize,
    ) {
        let (mut cand, c3, cur) = self.insert(pos);
        if max_len < 4 || pos == 0 {
            return;
        }
        let start = out.len();
        let mut push = |len: usize, offset: usize| {
            let m = ((len as u32) << 16) | offset as u32;
            if out.len() - start < cap {
                out.push(m);
            } else if let Some(last) = out.last_mut() {
                *last = m;
            }
        };
        let nice_len = nice_len.min(max_len);
        let mut best = 2;
        if c3 < pos && (self.load_u32(c3) ^ cur) & 0xFF_FFFF == 0 {
            best = 3;
            push(3, pos - c3);
        }
        let mut remaining = depth;
        loop {
            let tail_ok = best < 4 || {
                let t = best - 3;
                self.load_u32(cand + t) == self.load_u32(pos + t)
            };
            if tail_ok && self.load_u32(cand) == cur {
                let len = self.extend(cand, pos, 4, max_len);
                if len > best {
                    best = len;
                    push(len, pos - cand);
                    if len >= nice_len {
                        break;
                    }
                }
            }
            remaining -= 1;
            let next = usize::from(self.prev[cand & MASK]);
            if next >= cand || remaining == 0 {
                break;
            }
            cand = next;
        }
    }
}
