//! Match finders over one chunk: hash chains (fast levels) and binary trees (near-optimal
//! parsing). Both index 3-byte prefixes and reset per chunk; positions are `u32`.

const NONE: u32 = u32::MAX;

/// Length of the common prefix of `data[a..]` and `data[b..]`, `a < b`, capped at `max`
/// (which must satisfy `b + max <= data.len()`).
#[inline(always)]
pub(crate) fn match_len(data: &[u8], a: usize, b: usize, max: usize) -> usize {
    let mut l = 0;
    if b + max + 8 <= data.len() {
        while l < max {
            let x = u64::from_le_bytes(data[a + l..a + l + 8].try_into().expect("8 bytes"));
            let y = u64::from_le_bytes(data[b + l..b + l + 8].try_into().expect("8 bytes"));
            let d = x ^ y;
            if d != 0 {
                return (l + (d.trailing_zeros() / 8) as usize).min(max);
            }
            l += 8;
        }
        return max;
    }
    while l < max && data[a + l] == data[b + l] {
        l += 1;
    }
    l
}

#[inline(always)]
fn hash3(data: &[u8], pos: usize, bits: u32) -> usize {
    let v = u32::from(data[pos]) | u32::from(data[pos + 1]) << 8 | u32::from(data[pos + 2]) << 16;
    (v.wrapping_mul(0x9E37_79B1) >> (32 - bits)) as usize
}

/// Hash chains: for each position, the previous position with the same 3-byte hash.
pub(crate) struct HashChains {
    bits: u32,
    head: Vec<u32>,
    prev: Vec<u32>,
}

impl HashChains {
    pub(crate) fn new(bits: u32, max_chunk: usize) -> Self {
        HashChains {
            bits,
            head: vec![NONE; 1 << bits],
            prev: vec![NONE; max_chunk],
        }
    }

    pub(crate) fn reset(&mut self) {
        self.head.fill(NONE);
    }

    /// Adds `pos` (needs 3 bytes from `pos`).
    #[inline(always)]
    pub(crate) fn insert(&mut self, data: &[u8], pos: usize) {
        let h = hash3(data, pos, self.bits);
        self.prev[pos] = self.head[h];
        self.head[h] = pos as u32;
    }

    /// Inserts `pos` and returns the longest match (length, offset) among the `depth` most
    /// recent candidates with offsets up to `max_off`, stopping at length `nice`. Needs
    /// `pos + 3 <= data.len()`; `max_len <= data.len() - pos`.
    #[inline]
    pub(crate) fn find(
        &mut self,
        data: &[u8],
        pos: usize,
        max_len: usize,
        nice: usize,
        mut depth: u32,
        max_off: usize,
    ) -> (usize, usize) {
        let h = hash3(data, pos, self.bits);
        let mut cand = self.head[h];
        self.prev[pos] = cand;
        self.head[h] = pos as u32;
        let (mut best_len, mut best_off) = (0usize, 0usize);
        let nice = nice.min(max_len);
        while cand != NONE && depth > 0 {
            let c = cand as usize;
            let off = pos - c;
            if off > max_off {
                break;
            }
            depth -= 1;
            if best_len < 3 || data[c + best_len] == data[pos + best_len] {
                let l = match_len(data, c, pos, max_len);
                if l > best_len {
                    best_len = l;
                    best_off = off;
                    if l >= nice {
                        break;
                    }
                }
            }
            cand = self.prev[c];
        }
        (best_len, best_off)
    }
}

/// A match: `len` bytes at distance `off`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Match {
    pub(crate) len: u32,
    pub(crate) off: u32,
}

/// Binary trees: each hash bucket is a binary search tree of earlier positions ordered by the
/// bytes that follow them, so a search visits candidates in order of increasing match length.
pub(crate) struct BinaryTrees {
    bits: u32,
    head: Vec<u32>,
    /// Left (smaller) and right (larger) children of each position.
    child: Vec<u32>,
}

impl BinaryTrees {
    pub(crate) fn new(bits: u32, max_chunk: usize) -> Self {
        BinaryTrees {
            bits,
            head: vec![NONE; 1 << bits],
            child: vec![NONE; 2 * max_chunk],
        }
    }

    pub(crate) fn reset(&mut self) {
        self.head.fill(NONE);
    }

    /// Inserts `pos` into its tree and appends to `out` the matches found, in order of increasing
    /// length, each the nearest of its length. Needs `pos + 3 <= data.len()` and
    /// `max_len <= data.len() - pos`. With `out == None` only the tree is updated.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn advance(
        &mut self,
        data: &[u8],
        pos: usize,
        max_len: usize,
        nice: usize,
        mut depth: u32,
        max_off: usize,
        mut out: Option<&mut Vec<Match>>,
    ) {
        let h = hash3(data, pos, self.bits);
        let mut cur = self.head[h];
        self.head[h] = pos as u32;
        let nice = nice.min(max_len);
        let mut lt = 2 * pos; // where to hang the next smaller node
        let mut gt = 2 * pos + 1; // where to hang the next larger node
        let (mut lt_len, mut gt_len) = (0usize, 0usize);
        let mut best = 1usize;
        loop {
            if cur == NONE || pos - cur as usize > max_off || depth == 0 {
                self.child[lt] = NONE;
                self.child[gt] = NONE;
                return;
            }
            depth -= 1;
            let c = cur as usize;
            let mut len = lt_len.min(gt_len);
            if data[c + len] == data[pos + len] {
                len += 1 + match_len(data, c + len + 1, pos + len + 1, max_len - len - 1);
                if len > best {
                    best = len;
                    if let Some(o) = out.as_deref_mut() {
                        o.push(Match {
                            len: len as u32,
                            off: (pos - c) as u32,
                        });
                    }
                    if len >= nice {
                        self.child[lt] = self.child[2 * c];
                        self.child[gt] = self.child[2 * c + 1];
                        return;
                    }
                }
            }
            if data[c + len] < data[pos + len] {
                self.child[lt] = cur;
                lt = 2 * c + 1;
                lt_len = len;
                cur = self.child[lt];
            } else {
                self.child[gt] = cur;
                gt = 2 * c;
                gt_len = len;
                cur = self.child[gt];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute(data: &[u8], pos: usize, max_len: usize, max_off: usize) -> usize {
        (1..=pos.min(max_off))
            .map(|o| match_len(data, pos - o, pos, max_len))
            .max()
            .unwrap_or(0)
    }

    fn sample() -> Vec<u8> {
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
    fn binary_trees_find_the_longest_match() {
        let data = sample();
        let mut bt = BinaryTrees::new(12, data.len());
        let mut out = Vec::new();
        for pos in 0..data.len() - 3 {
            let max_len = (data.len() - pos).min(257);
            out.clear();
            bt.advance(&data, pos, max_len, 257, u32::MAX, 1 << 20, Some(&mut out));
            let best = out.last().map_or(0, |m| m.len as usize);
            let want = brute(&data, pos, max_len, 1 << 20);
            if want >= 3 {
                assert_eq!(best, want, "pos {pos}");
            }
            for m in &out {
                assert_eq!(
                    match_len(&data, pos - m.off as usize, pos, max_len),
                    m.len as usize
                );
            }
        }
    }

    #[test]
    fn hash_chains_find_the_longest_match() {
        let data = sample();
        let mut hc = HashChains::new(12, data.len());
        for pos in 0..data.len() - 3 {
            let max_len = (data.len() - pos).min(257);
            let (l, o) = hc.find(&data, pos, max_len, 257, u32::MAX, 1 << 20);
            let want = brute(&data, pos, max_len, 1 << 20);
            if want >= 3 {
                assert_eq!(l, want, "pos {pos}");
                assert_eq!(match_len(&data, pos - o, pos, max_len), l);
            }
        }
    }
}
