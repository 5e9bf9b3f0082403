//! Hash chains (the fast levels' match finder), match length and the hashes shared with the
//! binary trees ([`super::bintree`]). Chains index 5-byte prefixes and reset per chunk.

/// A position in a match finder's tables: `u16` for chunks of up to 32 KiB (half the cache
/// footprint), `u32` above.
pub(crate) trait Pos: Copy + Eq {
    const NONE: Self;
    fn new(p: usize) -> Self;
    fn get(self) -> usize;
}

impl Pos for u16 {
    const NONE: Self = u16::MAX;
    #[inline]
    fn new(p: usize) -> Self {
        p as u16
    }
    #[inline]
    fn get(self) -> usize {
        usize::from(self)
    }
}

impl Pos for u32 {
    const NONE: Self = u32::MAX;
    #[inline]
    fn new(p: usize) -> Self {
        p as u32
    }
    #[inline]
    fn get(self) -> usize {
        self as usize
    }
}

/// Length of the common prefix of `data[a..]` and `data[b..]`, `a < b`, capped at `max`
/// (which must satisfy `b + max <= data.len()`).
#[inline(always)]
pub(crate) fn match_len(data: &[u8], a: usize, b: usize, max: usize) -> usize {
    extend(&data[a..a + max], &data[b..b + max], 0)
}

/// Length of the common prefix of `x` and `y` (`y` at least as long as `x`), given that their
/// first `l` bytes match. Both slices have the same length, so each word costs one bounds check.
#[inline(always)]
pub(crate) fn extend(x: &[u8], y: &[u8], mut l: usize) -> usize {
    let y = &y[..x.len()];
    while l + 8 <= x.len() {
        let d = load_u64(x, l) ^ load_u64(y, l);
        if d != 0 {
            return l + (d.trailing_zeros() / 8) as usize;
        }
        l += 8;
    }
    while l < x.len() && x[l] == y[l] {
        l += 1;
    }
    l
}

/// The 8 bytes at `pos` as a little-endian number.
#[inline(always)]
fn load_u64(data: &[u8], pos: usize) -> u64 {
    u64::from_le_bytes(data[pos..pos + 8].try_into().expect("8 bytes"))
}

/// The 2 bytes at `pos` as a little-endian number.
#[inline(always)]
pub(crate) fn load_u16(data: &[u8], pos: usize) -> u16 {
    u16::from_le_bytes(data[pos..pos + 2].try_into().expect("2 bytes"))
}

/// The 4 bytes at `pos` as a little-endian number.
#[inline(always)]
pub(crate) fn load_u32(data: &[u8], pos: usize) -> u32 {
    u32::from_le_bytes(data[pos..pos + 4].try_into().expect("4 bytes"))
}

/// Hash of the 3 bytes at `pos` (which may be the last 3 of `data`).
#[inline(always)]
pub(crate) fn hash3(data: &[u8], pos: usize, bits: u32) -> usize {
    let v = u32::from(data[pos]) | u32::from(data[pos + 1]) << 8 | u32::from(data[pos + 2]) << 16;
    hash3_of(v, bits)
}

/// [`hash3`] of the low 3 bytes of `v` (the 4 bytes at a position, as [`load_u32`] gives them).
#[inline(always)]
pub(crate) fn hash3_of(v: u32, bits: u32) -> usize {
    ((v & 0x00FF_FFFF).wrapping_mul(0x9E37_79B1) >> (32 - bits)) as usize
}

/// Hash of the 4 bytes `v` (as [`load_u32`] gives them).
#[inline(always)]
pub(crate) fn hash4_of(v: u32, bits: u32) -> usize {
    (v.wrapping_mul(0x1E35_A7BD) >> (32 - bits)) as usize
}

/// Hash of the 5 bytes at `pos`, given the first 4 as `v` (a fifth past the end counts as 0).
#[inline(always)]
fn hash5_at(data: &[u8], pos: usize, v: u32, bits: u32) -> usize {
    hash5_of(v, data.get(pos + 4).copied().unwrap_or(0), bits)
}

/// Hash of the 5 bytes `v` (the first 4) and `fifth`.
#[inline(always)]
fn hash5_of(v: u32, fifth: u8, bits: u32) -> usize {
    let w = u64::from(v) | u64::from(fifth) << 32;
    (w.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - bits)) as usize
}

/// Hash chains: for each position, the previous position with the same 5-byte hash; plus a table
/// of the most recent position of each 3-byte hash, for length-3 matches. Chaining on 5 bytes
/// keeps the chains to candidates worth a look on text and logs, where many strings share 4
/// bytes: within the same search depth the longer matches further back are reached (on the
/// bench corpus 0.2 % smaller output than 4-byte chains, at the same speed; a match of exactly 4
/// bytes is only found when its fifth byte hashes alike, and is worth little). Positions are
/// [`Pos`]: `u16` for chunks of up to 32 KiB, so that more of the chains stay in cache.
pub(crate) struct HashChains<P> {
    bits: u32,
    head3: Vec<P>,
    head: Vec<P>,
    prev: Vec<P>,
}

impl<P: Pos> HashChains<P> {
    pub(crate) fn new(bits: u32, max_chunk: usize) -> Self {
        HashChains {
            bits,
            head3: vec![P::NONE; 1 << (bits - 1)],
            head: vec![P::NONE; 1 << bits],
            prev: vec![P::NONE; max_chunk],
        }
    }

    pub(crate) fn reset(&mut self) {
        self.head3.fill(P::NONE);
        self.head.fill(P::NONE);
    }

    /// Adds the positions `from..to` (each needs 3 bytes from it), as [`HashChains::insert`].
    #[inline]
    pub(crate) fn insert_range(&mut self, data: &[u8], from: usize, to: usize) {
        // Positions with 5 bytes from them walk 5-byte windows: no length test per position.
        let full = to.min(data.len().saturating_sub(4)).max(from);
        if from < full {
            let bits = self.bits;
            for (q, w) in (from..full).zip(data[from..full + 4].windows(5)) {
                let v = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
                self.head3[hash3_of(v, bits - 1)] = P::new(q);
                let h = hash5_of(v, w[4], bits);
                self.prev[q] = self.head[h];
                self.head[h] = P::new(q);
            }
        }
        for q in full..to {
            self.insert(data, q);
        }
    }

    /// Adds `pos` (needs 3 bytes from `pos`).
    #[inline]
    pub(crate) fn insert(&mut self, data: &[u8], pos: usize) {
        if pos + 4 <= data.len() {
            let v = load_u32(data, pos);
            self.head3[hash3_of(v, self.bits - 1)] = P::new(pos);
            let h = hash5_at(data, pos, v, self.bits);
            self.prev[pos] = self.head[h];
            self.head[h] = P::new(pos);
        } else {
            self.head3[hash3(data, pos, self.bits - 1)] = P::new(pos);
        }
    }

    /// Inserts `pos` and returns the longest match (length, offset) longer than `min_len` among
    /// the `depth` most recent candidates, stopping at length `nice`; (0, 0) if there is none.
    /// Needs `pos + 3 <= data.len()`, `max_len <= data.len() - pos` and `min_len < max_len`.
    /// Every earlier position of `data` is within reach: the caller's window holds the whole
    /// chunk (in LZX a chunk is never larger than the window, and a match starting 3 bytes or
    /// more before the chunk's end is never farther back than the window's largest offset).
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn find(
        &mut self,
        data: &[u8],
        pos: usize,
        max_len: usize,
        nice: usize,
        mut depth: u32,
        min_len: usize,
    ) -> (usize, usize) {
        // Both bucket heads are loaded first so that their cache misses overlap.
        let has4 = pos + 4 <= data.len();
        let v = if has4 { load_u32(data, pos) } else { 0 };
        let h3 = if has4 {
            hash3_of(v, self.bits - 1)
        } else {
            hash3(data, pos, self.bits - 1)
        };
        let c3 = self.head3[h3];
        let h = if has4 {
            hash5_at(data, pos, v, self.bits)
        } else {
            0
        };
        let mut cand = if has4 { self.head[h] } else { P::NONE };
        self.head3[h3] = P::new(pos);
        if has4 {
            self.prev[pos] = cand;
            self.head[h] = P::new(pos);
        }
        let (mut best_len, mut best_off) = (min_len.max(2), 0usize);
        let nice = nice.min(max_len);
        if best_len < 3 && c3 != P::NONE {
            let c = c3.get();
            let l = match_len(data, c, pos, max_len);
            if l >= 3 {
                best_len = l;
                best_off = pos - c;
            }
        }
        if !has4 {
            return if best_off == 0 {
                (0, 0)
            } else {
                (best_len, best_off)
            };
        }
        if best_len >= nice {
            return (best_len, best_off);
        }
        let first = v;
        let prev = &self.prev[..];
        // A candidate can only be longer if it matches the 4 bytes ending one past `best_len`:
        // one load and compare per candidate instead of a byte test that lets through many that
        // then fail the extension.
        let mut tail_at = best_len.saturating_sub(3);
        let mut tail = load_u32(data, pos + tail_at);
        let here = &data[pos..pos + max_len];
        while cand != P::NONE && depth > 0 {
            let c = cand.get();
            depth -= 1;
            if load_u32(data, c + tail_at) == tail && load_u32(data, c) == first {
                let l = extend(&data[c..c + max_len], here, 4);
                if l > best_len {
                    best_len = l;
                    best_off = pos - c;
                    if l >= nice {
                        break;
                    }
                    tail_at = best_len - 3;
                    tail = load_u32(data, pos + tail_at);
                }
            }
            cand = prev[c];
        }
        if best_off == 0 {
            (0, 0)
        } else {
            (best_len, best_off)
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn brute(data: &[u8], pos: usize, max_len: usize, max_off: usize) -> usize {
        (1..=pos.min(max_off))
            .map(|o| match_len(data, pos - o, pos, max_len))
            .max()
            .unwrap_or(0)
    }

    pub(crate) fn sample() -> Vec<u8> {
        let mut x = 12345u32;
        (0..4000)
            .map(|i| {
                x = x.wrapping_mul(1103515245).wrapping_add(12345);
                if i % 97 < 40 {
                    b"abcabcabd"[(x >> 16) as usize % 9]
                } else {
                    (x >> 24) as u8 % 4
                }
            })
            .collect()
    }

    #[test]
    fn hash_chains_find_the_longest_match() {
        check_chains(HashChains::<u16>::new(12, 4000));
        check_chains(HashChains::<u32>::new(12, 4000));
    }

    #[test]
    fn a_range_is_inserted_as_its_positions_one_by_one() {
        let data = sample();
        let n = data.len();
        // Ranges through the middle and up to the last position that has 3 bytes.
        for (from, to) in [
            (0, 0),
            (0, 1),
            (5, 700),
            (700, n - 9),
            (n - 9, n - 2),
            (n - 4, n - 2),
        ] {
            let mut one = HashChains::<u16>::new(12, n);
            let mut range = HashChains::<u16>::new(12, n);
            for q in from..to {
                one.insert(&data, q);
            }
            range.insert_range(&data, from, to);
            assert!(one.head == range.head, "{from}..{to}");
            assert!(one.head3 == range.head3, "{from}..{to}");
            assert!(one.prev[from..to] == range.prev[from..to], "{from}..{to}");
        }
    }

    fn check_chains<P: Pos>(mut hc: HashChains<P>) {
        let data = sample();
        for pos in 0..data.len() - 3 {
            let max_len = (data.len() - pos).min(257);
            let (l, o) = hc.find(&data, pos, max_len, 257, u32::MAX, 0);
            let want = brute(&data, pos, max_len, 1 << 20);
            // Length 3 comes from a one-entry table: the nearest 3-byte match may be missed
            // when another 3-byte string with the same hash came later; the chains hash 5
            // bytes, so a longest match of exactly 4 may be missed too.
            if want >= 5 {
                assert_eq!(l, want, "pos {pos}");
            }
            assert!(l <= want, "pos {pos}");
            if l > 0 {
                assert!(l >= 3);
                assert_eq!(match_len(&data, pos - o, pos, max_len), l);
            }
        }
    }
}
