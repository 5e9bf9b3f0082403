//! Greedy and lazy parsing on hash chains (the fast levels).
//!
//! At each position the parser weighs the three repeat offsets against the longest hash-chain
//! match with a rough bit-cost estimate; in lazy mode it also looks one byte ahead and emits a
//! literal when the match starting there saves more.

use super::block::Item;
use super::matchfind::{HashChains, Pos, extend, load_u16};
use super::*;

/// How hard the parser searches.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LazyParams {
    pub(crate) depth: u32,
    pub(crate) nice: usize,
    pub(crate) lazy: bool,
    /// Candidates visited when looking one byte ahead for a longer match.
    pub(crate) lazy_depth: u32,
    /// A match this long is taken without looking one byte ahead.
    pub(crate) lazy_below: usize,
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

/// Estimated bits saved by a match over coding its bytes as literals costing `literal` eighths of
/// a bit each (in 1/8 bits).
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

/// Parses `data` (a whole chunk) into `items`, a literal costing `literal` eighths of a bit.
pub(crate) fn parse<P: Pos>(
    data: &[u8],
    hc: &mut HashChains<P>,
    p: LazyParams,
    literal: i32,
    items: &mut Vec<Item>,
) {
    let n = data.len();
    let mut rep = [1u32; 3];
    let mut pos = 0;
    // Positions below this are already in the hash chains.
    let mut inserted = 0;

    while pos < n {
        let mut cur = best_at(data, hc, &p, literal, pos, &rep, &mut inserted, p.depth, 0);
        if cur.gain <= 0 {
            items.push(Item::literal(data[pos]));
            pos += 1;
            continue;
        }
        if p.lazy {
            while cur.len < p.lazy_below && pos + 1 < n {
                // Only a longer match can save more; search less deep for it.
                let next = best_at(
                    data,
                    hc,
                    &p,
                    literal,
                    pos + 1,
                    &rep,
                    &mut inserted,
                    p.lazy_depth,
                    cur.len,
                );
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
        let from = inserted.max(pos + 1);
        // Inside a match of `nice` bytes or more only its last positions go into the chains:
        // the text it copies is on them already, and the rest costs time for no bytes saved
        // (on the bench corpus's logs: 2 bytes more in 17.8 MB).
        let skip_to = if cur.len >= p.nice {
            stop.saturating_sub(4).max(from)
        } else {
            from
        };
        hc.insert_range(data, skip_to, stop);
        inserted = inserted.max(stop);
        pos = end;
    }
}

/// The best match at `pos` (or none): the hash chains' longest (searching `depth` candidates for
/// one longer than `min_len`) against the repeat offsets, by estimated bits saved. Inlined into
/// both calls: as a call it cost ~25 instructions of argument passing per position.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn best_at<P: Pos>(
    data: &[u8],
    hc: &mut HashChains<P>,
    p: &LazyParams,
    literal: i32,
    pos: usize,
    rep: &[u32; 3],
    inserted: &mut usize,
    depth: u32,
    min_len: usize,
) -> Choice {
    let n = data.len();
    let max_len = (n - pos).min(MAX_MATCH);
    let mut best = NO_CHOICE;
    if max_len >= 3 && pos >= *inserted {
        *inserted = pos + 1;
        let (l, off) = hc.find(data, pos, max_len, p.nice, depth, min_len.min(max_len - 1));
        if l >= 3 {
            let f = match rep.iter().position(|&r| r as usize == off) {
                Some(k) => k as u32,
                None => off as u32 + 2,
            };
            best = Choice {
                len: l,
                val: f,
                gain: gain_with(l, f, literal),
            };
        }
    }
    if max_len >= MIN_MATCH && best.len < p.nice {
        // Which repeat offsets match 2 bytes, without a branch per offset (these tests go
        // either way at random and mispredict). Repeat offsets never reach before the
        // chunk once a match was made; at the start they are 1 and only position 0 has
        // nothing before it.
        let mut hits = 0u32;
        if pos > 0 {
            let here = load_u16(data, pos);
            for (k, &r) in rep.iter().enumerate() {
                hits |= u32::from(load_u16(data, pos - r as usize) == here) << k;
            }
        }
        while hits != 0 {
            let k = hits.trailing_zeros() as usize;
            hits &= hits - 1;
            let r = rep[k] as usize;
            let l = extend(
                &data[pos - r..pos - r + max_len],
                &data[pos..pos + max_len],
                2,
            );
            let g = gain_with(l, k as u32, literal);
            if g > best.gain {
                best = Choice {
                    len: l,
                    val: k as u32,
                    gain: g,
                };
            }
        }
    }
    best
}
