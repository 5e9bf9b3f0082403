//! The binary-tree match finder of the near-optimal parser.
//!
//! Each bucket of a 4-byte hash is a binary search tree of earlier positions ordered by the bytes
//! that follow them, so a search visits candidates in order of increasing match length and
//! re-roots the tree at the new position on the way. Length-3 matches come from a separate
//! 3-byte hash table holding the most recent position only, and only at near offsets.
//!
//! Positions are `u16` for chunks of up to 32 KiB (WIM's default, and half the cache footprint)
//! and `u32` above. The head of the next position's buckets is loaded one position ahead so that
//! its cache miss overlaps the current search.

use super::matchfind::{Pos, extend, hash3_of, hash4_of, load_u32};

/// A match: `len` bytes at distance `off`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Match {
    pub(crate) len: u32,
    pub(crate) off: u32,
}

/// Largest offset of a length-3 match from the 3-byte table. A far one costs nearly as much as
/// its three literals, and offering them misleads the first cost model: on text, x86 code and
/// real files, keeping only near ones gives smaller output (and less work).
const NEAR3: usize = 256;

/// How hard the match finder searches.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SearchParams {
    /// Candidates visited per position.
    pub(crate) depth: u32,
    /// A match this long ends the search, and the positions it covers are only inserted.
    pub(crate) nice: usize,
    /// Candidates visited when only inserting.
    pub(crate) skip_depth: u32,
    /// Largest offset reported.
    pub(crate) max_off: usize,
}

struct Trees<P> {
    bits: u32,
    head3: Vec<P>,
    head: Vec<P>,
    /// Left (smaller) and right (larger) children of each position.
    child: Vec<P>,
}

/// Binary trees over one chunk, reset per chunk.
pub(crate) struct BinaryTrees(Width);

enum Width {
    Small(Trees<u16>),
    Large(Trees<u32>),
}

impl BinaryTrees {
    pub(crate) fn new(max_chunk: usize) -> Self {
        BinaryTrees(if max_chunk <= 1 << 15 {
            Width::Small(Trees::new(15, max_chunk))
        } else {
            Width::Large(Trees::new(17, max_chunk))
        })
    }

    pub(crate) fn reset(&mut self) {
        match &mut self.0 {
            Width::Small(t) => t.reset(),
            Width::Large(t) => t.reset(),
        }
    }

    /// Inserts every position of `data[start..end]` and records their matches: for position
    /// `start + i`, `matches[starts[i]..starts[i + 1]]`, in order of increasing length, each the
    /// nearest of its length among the candidates visited. Positions covered by a match of at
    /// least `p.nice` bytes get no matches. `starts` gets `end - start + 1` entries.
    pub(crate) fn find_all(
        &mut self,
        data: &[u8],
        start: usize,
        end: usize,
        p: SearchParams,
        matches: &mut Vec<Match>,
        starts: &mut Vec<u32>,
    ) {
        match &mut self.0 {
            Width::Small(t) => t.find_all(data, start, end, p, matches, starts),
            Width::Large(t) => t.find_all(data, start, end, p, matches, starts),
        }
    }
}

impl<P: Pos> Trees<P> {
    fn new(bits: u32, max_chunk: usize) -> Self {
        Trees {
            bits,
            head3: vec![P::NONE; 1 << (bits - 1)],
            head: vec![P::NONE; 1 << bits],
            child: vec![P::NONE; 2 * max_chunk],
        }
    }

    fn reset(&mut self) {
        self.head3.fill(P::NONE);
        self.head.fill(P::NONE);
    }

    fn find_all(
        &mut self,
        data: &[u8],
        start: usize,
        end: usize,
        p: SearchParams,
        matches: &mut Vec<Match>,
        starts: &mut Vec<u32>,
    ) {
        matches.clear();
        starts.clear();
        // Positions from which 4 bytes can be hashed; the last few are not indexed.
        let hashed_end = end.min(data.len().saturating_sub(3));
        let mut skip = 0;
        let (mut h3, mut h4) = (0, 0);
        let (mut c3, mut c4) = (P::NONE, P::NONE);
        if start < hashed_end {
            let v = load_u32(data, start);
            h3 = hash3_of(v, self.bits - 1);
            h4 = hash4_of(v, self.bits);
            c3 = self.head3[h3];
            c4 = self.head[h4];
        }
        for pos in start..end {
            starts.push(matches.len() as u32);
            if pos >= hashed_end {
                continue;
            }
            // Load the next position's bucket heads now; the only change before they are used
            // is this position's own insertion.
            let (mut nh3, mut nh4) = (h3, h4);
            let (mut nc3, mut nc4) = (c3, c4);
            if pos + 1 < hashed_end {
                let v = load_u32(data, pos + 1);
                nh3 = hash3_of(v, self.bits - 1);
                nh4 = hash4_of(v, self.bits);
                nc3 = self.head3[nh3];
                nc4 = self.head[nh4];
            }
            self.head3[h3] = P::new(pos);
            self.head[h4] = P::new(pos);
            let max_len = (data.len() - pos).min(super::MAX_MATCH);
            if skip > 0 {
                // Inside a long match: insert with a shallow search; its bytes are already
                // indexed at their earlier occurrence.
                skip -= 1;
                self.insert(data, pos, c4, max_len, p.nice, p.skip_depth, 3, None);
            } else {
                let before = matches.len();
                let mut best = 2;
                if c3 != P::NONE {
                    let c = c3.get();
                    if pos - c <= NEAR3 && data[c..c + 3] == data[pos..pos + 3] {
                        best = 3;
                        matches.push(Match {
                            len: 3,
                            off: (pos - c) as u32,
                        });
                    }
                }
                self.insert(
                    data,
                    pos,
                    c4,
                    max_len,
                    p.nice,
                    p.depth,
                    best,
                    Some(&mut *matches),
                );
                if let Some(m) = matches[before..].last()
                    && m.len as usize >= p.nice
                {
                    skip = m.len as usize - 1;
                }
                if p.max_off < pos {
                    // Only the last positions of a chunk as large as the window see offsets
                    // the window cannot express.
                    let mut k = before;
                    for j in before..matches.len() {
                        if matches[j].off as usize <= p.max_off {
                            matches[k] = matches[j];
                            k += 1;
                        }
                    }
                    matches.truncate(k);
                }
            }
            if nh3 == h3 {
                nc3 = P::new(pos);
            }
            if nh4 == h4 {
                nc4 = P::new(pos);
            }
            (h3, h4, c3, c4) = (nh3, nh4, nc3, nc4);
        }
        starts.push(matches.len() as u32);
    }

    /// Re-roots the tree of `pos`'s bucket (whose old root is `cur`) at `pos`, visiting at most
    /// `depth` candidates, and appends to `out` each match longer than all before it (and than
    /// `best`). Needs `pos + 4 <= data.len()` and `max_len <= data.len() - pos`.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn insert(
        &mut self,
        data: &[u8],
        pos: usize,
        mut cur: P,
        max_len: usize,
        nice: usize,
        mut depth: u32,
        mut best: usize,
        mut out: Option<&mut Vec<Match>>,
    ) {
        let nice = nice.min(max_len);
        let child = &mut self.child[..];
        let mut lt = 2 * pos; // where to hang the next smaller node
        let mut gt = 2 * pos + 1; // where to hang the next larger node
        let (mut lt_len, mut gt_len) = (0usize, 0usize);
        let here = &data[pos..pos + max_len];
        while cur != P::NONE && depth > 0 {
            depth -= 1;
            let c = cur.get();
            let there = &data[c..c + max_len];
            let mut len = lt_len.min(gt_len);
            if there[len] == here[len] {
                len = extend(there, here, len + 1);
                if len > best {
                    best = len;
                    if let Some(o) = out.as_deref_mut() {
                        o.push(Match {
                            len: len as u32,
                            off: (pos - c) as u32,
                        });
                    }
                }
                if len >= nice {
                    child[lt] = child[2 * c];
                    child[gt] = child[2 * c + 1];
                    return;
                }
            }
            if there[len] < here[len] {
                child[lt] = cur;
                lt = 2 * c + 1;
                lt_len = len;
                cur = child[lt];
            } else {
                child[gt] = cur;
                gt = 2 * c;
                gt_len = len;
                cur = child[gt];
            }
        }
        child[lt] = P::NONE;
        child[gt] = P::NONE;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lzx::matchfind::match_len;
    use crate::lzx::matchfind::tests::{brute, sample};

    fn check(mut bt: BinaryTrees, max_off: usize) {
        let data = sample();
        let (mut matches, mut starts) = (Vec::new(), Vec::new());
        let p = SearchParams {
            depth: u32::MAX,
            nice: 257,
            skip_depth: 1,
            max_off,
        };
        // Two segments, as blocks of one chunk.
        for (start, end) in [(0, 1500), (1500, data.len())] {
            bt.find_all(&data, start, end, p, &mut matches, &mut starts);
            assert_eq!(starts.len(), end - start + 1);
            for pos in start..end.min(data.len() - 3) {
                let i = pos - start;
                let found = &matches[starts[i] as usize..starts[i + 1] as usize];
                let max_len = (data.len() - pos).min(257);
                let want = brute(&data, pos, max_len, max_off);
                let best = found.last().map_or(0, |m| m.len as usize);
                if (4..257).contains(&want) {
                    assert_eq!(best, want, "pos {pos}");
                }
                for m in found {
                    assert!(m.off as usize <= max_off);
                    // The length-3 table reports 3 even where the match goes on.
                    assert!(match_len(&data, pos - m.off as usize, pos, max_len) >= m.len as usize);
                }
            }
        }
    }

    #[test]
    fn binary_trees_find_the_longest_match() {
        check(BinaryTrees::new(4000), 1 << 20);
        check(BinaryTrees(Width::Large(Trees::new(12, 4000))), 1 << 20);
        check(BinaryTrees::new(4000), 700);
    }
}
