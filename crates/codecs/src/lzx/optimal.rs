//! Near-optimal parsing: matches from binary trees, then a minimum-cost path through the
//! segment under a bit-cost model taken from Huffman code lengths, iterated: each pass builds the
//! codes its parse would use and the next pass parses again with those costs.
//!
//! Repeat offsets make the true optimum path-dependent; like other LZX compressors we keep, at
//! each position, the repeat-offset queue of the cheapest path that reaches it.

use super::block::{Codes, Freqs, Item};
use super::huffman::Scratch;
use super::lazy::gain;
use super::matchfind::{BinaryTrees, Match, match_len};
use super::*;

/// How hard the parser works.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OptimalParams {
    pub(crate) depth: u32,
    pub(crate) nice: usize,
    pub(crate) passes: u32,
    /// Take the first block's initial cost model from a greedy parse of the cached matches
    /// (else from fixed guesses).
    pub(crate) greedy_seed: bool,
}

/// Costs are in 1/16 bits.
const BIT: u32 = 16;
const INFINITE: u32 = u32::MAX;

/// Bit costs of every symbol, from code lengths or defaults.
struct Costs {
    main: [u32; MAX_MAIN_SYMS],
    len: [u32; LEN_SYMS],
    aligned: [u32; ALIGNED_SYMS],
    use_aligned: bool,
}

impl Costs {
    fn set_from_codes(&mut self, codes: &Codes, use_aligned: bool, num_main: usize) {
        for (c, &l) in self.main[..num_main]
            .iter_mut()
            .zip(&codes.main_lens[..num_main])
        {
            *c = if l == 0 { 15 * BIT } else { u32::from(l) * BIT };
        }
        for (c, &l) in self.len.iter_mut().zip(&codes.len_lens) {
            *c = if l == 0 { 13 * BIT } else { u32::from(l) * BIT };
        }
        for (c, &l) in self.aligned.iter_mut().zip(&codes.aligned_lens) {
            *c = if l == 0 { 6 * BIT } else { u32::from(l) * BIT };
        }
        self.use_aligned = use_aligned;
    }

    /// A first model for data with no statistics yet: literals by their frequency in the data,
    /// matches by a fixed guess.
    fn defaults(&mut self, data: &[u8], num_main: usize) {
        let mut hist = [0u32; 256];
        for &b in data {
            hist[usize::from(b)] += 1;
        }
        let n = data.len().max(1) as f64;
        for (c, &h) in self.main[..NUM_CHARS].iter_mut().zip(&hist) {
            let bits = if h == 0 {
                12.0
            } else {
                (n / f64::from(h)).log2().clamp(1.0, 12.0) + 0.5
            };
            *c = (bits * f64::from(BIT)) as u32;
        }
        for s in NUM_CHARS..num_main {
            let slot = (s - NUM_CHARS) / 8;
            let hdr = (s - NUM_CHARS) % 8;
            let base = if slot < 3 {
                6 + slot as u32
            } else {
                8 + (slot as u32) / 8
            };
            self.main[s] = (base + hdr as u32 / 2) * BIT;
        }
        for (i, c) in self.len.iter_mut().enumerate() {
            *c = (4 + (i as u32).min(40) / 8) * BIT;
        }
        self.aligned = [3 * BIT; ALIGNED_SYMS];
        self.use_aligned = false;
    }

    #[inline(always)]
    fn literal(&self, b: u8) -> u32 {
        self.main[usize::from(b)]
    }

    /// Cost of an explicit offset's extra bits.
    #[inline(always)]
    fn offset_extra(&self, slot: usize, formatted: u32) -> u32 {
        let extra = u32::from(SLOT_EXTRA[slot]);
        if self.use_aligned && extra >= 3 {
            (extra - 3) * BIT + self.aligned[(formatted & 7) as usize]
        } else {
            extra * BIT
        }
    }
}

/// A position of the segment on the cheapest path found so far: its cost and the item that
/// reaches it, packed as `len << 23 | val` (len 0 = literal; `val` < 2^22).
#[derive(Clone, Copy)]
struct Node {
    cost: u32,
    item: u32,
}

const VAL_BITS: u32 = 23;

/// The near-optimal parser's state, reused across chunks.
pub(crate) struct NearOptimal {
    params: OptimalParams,
    bt: BinaryTrees,
    matches: Vec<Match>,
    /// Index into `matches` of each segment position's first match (one extra at the end).
    starts: Vec<u32>,
    nodes: Vec<Node>,
    /// Repeat offsets on arrival at each position, filled in as the pass reaches it.
    reps: Vec<[u32; 3]>,
    costs: Box<Costs>,
    freqs: Freqs,
    codes: Codes,
    path: Vec<Item>,
}

impl NearOptimal {
    pub(crate) fn new(params: OptimalParams, max_chunk: usize) -> Self {
        let bits = if max_chunk <= 1 << 16 { 15 } else { 17 };
        NearOptimal {
            params,
            bt: BinaryTrees::new(bits, max_chunk),
            matches: Vec::new(),
            starts: Vec::new(),
            nodes: Vec::new(),
            reps: Vec::new(),
            costs: Box::new(Costs {
                main: [0; MAX_MAIN_SYMS],
                len: [0; LEN_SYMS],
                aligned: [0; ALIGNED_SYMS],
                use_aligned: false,
            }),
            freqs: Freqs::default(),
            codes: Codes::default(),
            path: Vec::new(),
        }
    }

    pub(crate) fn reset(&mut self) {
        self.bt.reset();
    }

    /// Finds and caches the matches of every position of `data[start..end]`.
    fn find_matches(&mut self, data: &[u8], start: usize, end: usize, max_off: usize) {
        let p = self.params;
        self.matches.clear();
        self.starts.clear();
        let mut skip = 0;
        for pos in start..end {
            self.starts.push(self.matches.len() as u32);
            if pos + 3 > data.len() {
                continue;
            }
            let max_len = (data.len() - pos).min(MAX_MATCH);
            if skip > 0 {
                // Inside a long match: insert with a shallow search; its bytes are already
                // indexed at their earlier occurrence.
                skip -= 1;
                self.bt.advance(
                    data,
                    pos,
                    max_len,
                    p.nice,
                    (p.depth / 4).max(1),
                    max_off,
                    None,
                );
                continue;
            }
            let before = self.matches.len();
            self.bt.advance(
                data,
                pos,
                max_len,
                p.nice,
                p.depth,
                max_off,
                Some(&mut self.matches),
            );
            if let Some(m) = self.matches[before..].last()
                && m.len as usize >= p.nice
            {
                skip = m.len as usize - 1;
            }
        }
        self.starts.push(self.matches.len() as u32);
    }

    /// One minimum-cost pass over `data[start..end]` with the current costs; the chosen items
    /// go to `self.path` in order. Returns the repeat offsets at the end.
    fn min_cost_path(
        &mut self,
        data: &[u8],
        start: usize,
        end: usize,
        rep_in: [u32; 3],
    ) -> [u32; 3] {
        let n = end - start;
        let nice = self.params.nice;
        let costs = &*self.costs;
        self.nodes.clear();
        self.nodes.resize(
            n + 1,
            Node {
                cost: INFINITE,
                item: 0,
            },
        );
        self.nodes[0].cost = 0;
        self.reps.clear();
        self.reps.resize(n + 1, rep_in);
        let nodes = &mut self.nodes;
        let reps = &mut self.reps;
        for i in 0..n {
            let cur = nodes[i];
            // The repeat offsets after the item that reached this position.
            let rep = if i == 0 {
                rep_in
            } else {
                let len = (cur.item >> VAL_BITS) as usize;
                if len == 0 {
                    reps[i - 1]
                } else {
                    let mut r = reps[i - len];
                    match cur.item & ((1 << VAL_BITS) - 1) {
                        0 => {}
                        1 => r.swap(0, 1),
                        2 => r.swap(0, 2),
                        f => r = [f - 2, r[0], r[1]],
                    }
                    r
                }
            };
            reps[i] = rep;
            let pos = start + i;
            // Literal.
            let c = cur.cost + costs.literal(data[pos]);
            if c < nodes[i + 1].cost {
                nodes[i + 1] = Node {
                    cost: c,
                    item: u32::from(data[pos]),
                };
            }
            let max_len = (n - i).min(MAX_MATCH);
            if max_len < MIN_MATCH {
                continue;
            }
            // Repeat offsets. A length that a cheaper kind of match (R0 before R1 before R2
            // before an explicit offset, nearly always) already offers is not offered again.
            let mut covered = MIN_MATCH - 1;
            for (k, &r) in rep.iter().enumerate() {
                let r = r as usize;
                if r > pos || data[pos] != data[pos - r] || data[pos + 1] != data[pos + 1 - r] {
                    continue;
                }
                let l = 2 + match_len(data, pos - r + 2, pos + 2, max_len - 2);
                if l <= covered {
                    continue;
                }
                let from = if l >= nice { l } else { covered + 1 };
                relax(nodes, costs, i, cur.cost, k, k as u32, from, l);
                covered = l;
            }
            // Explicit offsets.
            let (a, b) = (self.starts[i] as usize, self.starts[i + 1] as usize);
            let mut prev = covered;
            for m in &self.matches[a..b] {
                let off = m.off;
                let mlen = (m.len as usize).min(max_len);
                if mlen <= prev || off == rep[0] || off == rep[1] || off == rep[2] {
                    prev = prev.max(mlen);
                    continue;
                }
                let f = off + 2;
                let slot = offset_slot(f);
                let base = cur.cost + costs.offset_extra(slot, f);
                let from = if mlen >= nice { mlen } else { prev + 1 };
                relax(nodes, costs, i, base, slot, f, from, mlen);
                prev = prev.max(mlen);
            }
        }
        // Walk back from the end.
        self.path.clear();
        let mut j = n;
        while j > 0 {
            let item = nodes[j].item;
            let len = (item >> VAL_BITS) as usize;
            let val = item & ((1 << VAL_BITS) - 1);
            if len == 0 {
                self.path.push(Item::literal(val as u8));
                j -= 1;
            } else {
                self.path.push(Item::matched(len, val));
                j -= len;
            }
        }
        self.path.reverse();
        // The offsets after the last item.
        let item = nodes[n].item;
        let len = (item >> VAL_BITS) as usize;
        if len == 0 {
            reps[n - 1]
        } else {
            let mut r = reps[n - len];
            match item & ((1 << VAL_BITS) - 1) {
                0 => {}
                1 => r.swap(0, 1),
                2 => r.swap(0, 2),
                f => r = [f - 2, r[0], r[1]],
            }
            r
        }
    }

    /// A quick greedy parse of the cached matches into `self.path`, for a first cost model.
    fn greedy_path(&mut self, data: &[u8], start: usize, end: usize, mut rep: [u32; 3]) {
        self.path.clear();
        let mut i = 0;
        let n = end - start;
        while i < n {
            let pos = start + i;
            let max_len = (n - i).min(MAX_MATCH);
            // The match that saves the most by a rough estimate, as the lazy parser judges.
            let mut best = (0usize, 0u32);
            let mut best_gain = 0;
            if max_len >= MIN_MATCH {
                for (k, &r) in rep.iter().enumerate() {
                    let r = r as usize;
                    if r <= pos {
                        let l = match_len(data, pos - r, pos, max_len);
                        if l >= MIN_MATCH && gain(l, k as u32) > best_gain {
                            best = (l, k as u32);
                            best_gain = gain(l, k as u32);
                        }
                    }
                }
                let (a, b) = (self.starts[i] as usize, self.starts[i + 1] as usize);
                for m in &self.matches[a..b] {
                    let l = (m.len as usize).min(max_len);
                    let g = gain(l, m.off + 2);
                    if g > best_gain && !rep.contains(&m.off) {
                        best = (l, m.off + 2);
                        best_gain = g;
                    }
                }
            }
            if best.0 < MIN_MATCH {
                self.path.push(Item::literal(data[pos]));
                i += 1;
                continue;
            }
            self.path.push(Item::matched(best.0, best.1));
            match best.1 {
                0 => {}
                1 => rep.swap(0, 1),
                2 => rep.swap(0, 2),
                f => rep = [f - 2, rep[0], rep[1]],
            }
            i += best.0;
        }
    }

    /// Parses `data[start..end]` (a block) into `items`, starting from repeat offsets `rep`,
    /// which are updated. `prev` holds the previous block's codes, if any, as the first model.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn parse_block(
        &mut self,
        data: &[u8],
        start: usize,
        end: usize,
        max_off: usize,
        rep: &mut [u32; 3],
        prev: Option<(&Codes, bool)>,
        num_main: usize,
        scratch: &mut Scratch,
        items: &mut Vec<Item>,
    ) {
        self.find_matches(data, start, end, max_off);
        match prev {
            Some((codes, aligned)) => self.costs.set_from_codes(codes, aligned, num_main),
            None if self.params.greedy_seed => {
                self.greedy_path(data, start, end, *rep);
                self.freqs.clear();
                self.freqs.add_all(&self.path);
                self.codes.build(&self.freqs, num_main, scratch);
                let aligned = self.codes.prefer_aligned(&self.freqs);
                self.costs.set_from_codes(&self.codes, aligned, num_main);
            }
            None => self.costs.defaults(&data[start..end], num_main),
        }
        let mut out_rep = *rep;
        for pass in 0..self.params.passes.max(1) {
            out_rep = self.min_cost_path(data, start, end, *rep);
            if pass + 1 < self.params.passes {
                self.freqs.clear();
                self.freqs.add_all(&self.path);
                self.codes.build(&self.freqs, num_main, scratch);
                let aligned = self.codes.prefer_aligned(&self.freqs);
                self.costs.set_from_codes(&self.codes, aligned, num_main);
            }
        }
        *rep = out_rep;
        items.extend_from_slice(&self.path);
    }
}

/// Offers a match of lengths `from..=to` with offset `val` (slot `slot`) from position `i`,
/// whose cost before the length is `base`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn relax(
    nodes: &mut [Node],
    costs: &Costs,
    i: usize,
    base: u32,
    slot: usize,
    val: u32,
    from: usize,
    to: usize,
) {
    let main = &costs.main[NUM_CHARS + slot * 8..NUM_CHARS + slot * 8 + 8];
    // Lengths 2..=8: the length is in the main symbol.
    let short_end = to.min(MIN_MATCH + NUM_PRIMARY_LENS - 1);
    if from <= short_end {
        let targets = &mut nodes[i + from..=i + short_end];
        for (k, t) in targets.iter_mut().enumerate() {
            let len = from + k;
            let c = base + main[len - MIN_MATCH];
            if c < t.cost {
                *t = Node {
                    cost: c,
                    item: (len as u32) << VAL_BITS | val,
                };
            }
        }
    }
    // Lengths 9..=257: main symbol with header 7, plus a length symbol.
    let long_from = from.max(MIN_MATCH + NUM_PRIMARY_LENS);
    if long_from <= to {
        let base = base + main[NUM_PRIMARY_LENS];
        let lens = &costs.len
            [long_from - MIN_MATCH - NUM_PRIMARY_LENS..=to - MIN_MATCH - NUM_PRIMARY_LENS];
        let targets = &mut nodes[i + long_from..=i + to];
        for (k, (t, &lc)) in targets.iter_mut().zip(lens).enumerate() {
            let c = base + lc;
            if c < t.cost {
                *t = Node {
                    cost: c,
                    item: ((long_from + k) as u32) << VAL_BITS | val,
                };
            }
        }
    }
}
