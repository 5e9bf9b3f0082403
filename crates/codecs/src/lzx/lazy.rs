//! Greedy and lazy parsing on hash chains (the fast levels).
//!
//! At each position the parser weighs the three repeat offsets against the longest hash-chain
//! match with a rough bit-cost estimate; in lazy mode it also looks one byte ahead and emits a
//! literal when the match starting there saves more.

use super::block::Item;
use super::matchfind::{HashChains, Pos, match_len};
use super::*;

/// How hard the parser searches.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LazyParams {
    pub(crate) depth: u32,
    pub(crate) nice: usize,
    pub(crate) lazy: bool,
    /// Candidates visited when looking one byte ahead for a longer match.
    pub(crate) lazy_depth: u32,
}

#[derive(Clone, Copy)]
struct Choice {
    len: usize,
    val: u32,
    gain: i32,
}

const NO_CHOICE: Choice = Choice {
    len: 0,
    val: 0,
    gain: 0,
};

/// Estimated bits saved by a match over coding its bytes as literals (in 1/8 bits).
#[inline]
pub(crate) fn gain(len: usize, formatted: u32) -> i32 {
    gain_with(len, formatted, 8 * 7)
}

/// [`gain`] with literals costing `literal` eighths of a bit each.
#[inline]
pub(crate) fn gain_with(len: usize, formatted: u32, literal: i32) -> i32 {
    let slot = offset_slot(formatted);
    let mut cost = 8 * 8 + 8 * i32::from(SLOT_EXTRA[slot]);
    cost += if slot < 3 {
        4 * slot as i32
    } else {
        12 + slot as i32
    };
    if len - MIN_MATCH >= NUM_PRIMARY_LENS {
        cost += 8 * 5;
    }
    len as i32 * literal - cost
}

/// Parses `data` (a whole chunk) into `items`.
pub(crate) fn parse<P: Pos>(
    data: &[u8],
    hc: &mut HashChains<P>,
    p: LazyParams,
    max_off: usize,
    items: &mut Vec<Item>,
) {
    let n = data.len();
    let mut rep = [1u32; 3];
    let mut pos = 0;
    // Positions below this are already in the hash chains.
    let mut inserted = 0;

    let best_at = |hc: &mut HashChains<P>,
                   pos: usize,
                   rep: &[u32; 3],
                   inserted: &mut usize,
                   depth: u32,
                   min_len: usize|
     -> Choice {
        let max_len = (n - pos).min(MAX_MATCH);
        let mut best = NO_CHOICE;
        if max_len >= MIN_MATCH {
            for (k, &r) in rep.iter().enumerate() {
                let r = r as usize;
                if r <= pos && data[pos] == data[pos - r] && data[pos + 1] == data[pos + 1 - r] {
                    let l = 2 + match_len(data, pos - r + 2, pos + 2, max_len - 2);
                    let g = gain(l, k as u32);
                    if g > best.gain {
                        best = Choice {
                            len: l,
                            val: k as u32,
                            gain: g,
                        };
                    }
                }
            }
        }
        if max_len >= 3 && pos >= *inserted {
            *inserted = pos + 1;
            if best.len >= p.nice {
                hc.insert(data, pos);
            } else {
                let min_len = min_len.max(best.len).min(max_len - 1);
                let (l, off) = hc.find(data, pos, max_len, p.nice, depth, max_off, min_len);
                if l >= 3 && !rep.contains(&(off as u32)) {
                    let f = off as u32 + 2;
                    let g = gain(l, f);
                    if g > best.gain {
                        best = Choice {
                            len: l,
                            val: f,
                            gain: g,
                        };
                    }
                }
            }
        }
        best
    };

    while pos < n {
        let mut cur = best_at(hc, pos, &rep, &mut inserted, p.depth, 0);
        if cur.gain <= 0 {
            items.push(Item::literal(data[pos]));
            pos += 1;
            continue;
        }
        if p.lazy {
            while cur.len < p.nice && pos + 1 < n {
                // Only a longer match can save more; search less deep for it.
                let next = best_at(hc, pos + 1, &rep, &mut inserted, p.lazy_depth, cur.len);
                if next.gain > cur.gain {
                    items.push(Item::literal(data[pos]));
                    pos += 1;
                    cur = next;
                } else {
                    break;
                }
            }
        }
        items.push(Item::matched(cur.len, cur.val));
        match cur.val {
            0 => {}
            1 => rep.swap(0, 1),
            2 => rep.swap(0, 2),
            f => rep = [f - 2, rep[0], rep[1]],
        }
        let end = pos + cur.len;
        let stop = end.min(n.saturating_sub(2));
        for q in inserted.max(pos + 1)..stop {
            hc.insert(data, q);
        }
        inserted = inserted.max(stop);
        pos = end;
    }
}
