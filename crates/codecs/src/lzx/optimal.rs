//! Near-optimal parsing: matches from binary trees, then a minimum-cost path through the
//! segment under a bit-cost model, iterated: each pass takes the symbol statistics of its parse
//! and the next pass parses again with those costs. Costs are ideal code lengths in 1/16 bits
//! (log2 of each symbol's share, no code built), which prices rare symbols more finely than
//! Huffman lengths and is cheaper to compute; a following block starts from the previous
//! block's actual code lengths.
//!
//! Within a pass the model also adapts: every [`OptimalParams::adapt_every`] positions, the
//! cheapest path to there (final by then) and the seed's items for the rest make new costs for
//! the rest of the pass. With one pass from a greedy seed this recovers most of what a second
//! pass gains, at a fraction of its cost.
//!
//! Repeat offsets make the true optimum path-dependent; like other LZX compressors we keep, at
//! each position, the repeat-offset queue of the cheapest path that reaches it.

use super::bintree::{BinaryTrees, Match, SearchParams};
use super::block::{Codes, Freqs, Item};
use super::lazy::gain_with;
use super::matchfind::{extend, load_u16, match_len};
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
    /// In a block's first pass from the greedy seed, rebuild the cost model every this many
    /// positions (0: never).
    pub(crate) adapt_every: usize,
}

/// Weight of the path's items against the seed's in the in-pass model updates: the seed's
/// statistics only fill in what the path has not shown yet (on log-like text, weight 1 leaves a
/// third of what a second pass gains; 8 nearly all, and x86 code is indifferent).
const PATH_WEIGHT: u32 = 8;

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

/// 16 × log2(1 + (i + 1/2) / 32), rounded: the middle of each 1/32 step of the mantissa.
const LOG2_FRAC: [u32; 32] = [
    0, 1, 2, 2, 3, 4, 4, 5, 5, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 11, 12, 12, 13, 13, 14, 14, 14,
    15, 15, 15, 16,
];

/// 16 × log2(x) (x ≥ 1), within 1.
#[inline]
fn log2_16(x: u32) -> u32 {
    let k = 31 - x.leading_zeros();
    let frac = if k >= 5 {
        (x >> (k - 5)) & 31
    } else {
        (x << (5 - k)) & 31
    };
    16 * k + LOG2_FRAC[frac as usize]
}

/// Bit cost (in 1/16 bits) of each symbol of `freqs` from its share of `total`: the ideal code
/// length, clamped to `1..=max` bits; unused symbols cost `unused` bits.
fn costs_from_freqs(out: &mut [u32], freqs: &[u32], max: u32, unused: u32) {
    let total: u32 = freqs.iter().sum();
    let lt = log2_16(total.max(1));
    for (c, &f) in out.iter_mut().zip(freqs) {
        *c = if f == 0 {
            unused * BIT
        } else {
            (lt - log2_16(f)).clamp(BIT, max * BIT)
        };
    }
}

impl Costs {
    /// Costs straight from symbol frequencies (no code built): ideal code lengths, in fractions
    /// of a bit.
    fn set_from_freqs(&mut self, freqs: &Freqs, num_main: usize) {
        costs_from_freqs(&mut self.main[..num_main], &freqs.main[..num_main], 16, 15);
        costs_from_freqs(&mut self.len, &freqs.len, 16, 13);
        costs_from_freqs(&mut self.aligned, &freqs.aligned, 7, 6);
        // Aligned blocks pay off when the low 3 bits of offsets are skewed: compare their
        // ideal cost with 3 bits each (plus the aligned tree's 24 bits).
        let n: u32 = freqs.aligned.iter().sum();
        let cost: u32 = freqs
            .aligned
            .iter()
            .zip(&self.aligned)
            .map(|(&f, &c)| f * c)
            .sum();
        self.use_aligned = n > 0 && cost + 24 * BIT < 3 * BIT * n;
    }

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
}

/// The positions of the segment on the cheapest paths found so far: for each, its cost and the
/// item that reaches it (`val << 9 | len`, len 0 = literal, `val` < 2^22). Two arrays of 32-bit
/// numbers, so that offering a match to many lengths at once is a short vector loop.
#[derive(Default)]
struct Nodes {
    cost: Vec<u32>,
    item: Vec<u32>,
}

const LEN_BITS: u32 = 9;
const LEN_MASK: u32 = (1 << LEN_BITS) - 1;
/// Positions of repeat-offset history kept by the path search (a power of two > MAX_MATCH).
const RING: usize = 512;

/// The three repeat offsets packed in one integer, 21 bits each (offsets are below 2^21), R0 in
/// the low bits: cheap to copy and kept in a register.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Queue(u64);

const Q_BITS: u32 = 21;
const Q_MASK: u64 = (1 << Q_BITS) - 1;

impl Queue {
    fn new(r: [u32; 3]) -> Self {
        Queue(u64::from(r[0]) | u64::from(r[1]) << Q_BITS | u64::from(r[2]) << (2 * Q_BITS))
    }

    fn get(self) -> [u32; 3] {
        [self.r(0), self.r(1), self.r(2)]
    }

    #[inline(always)]
    fn r(self, k: u32) -> u32 {
        ((self.0 >> (k * Q_BITS)) & Q_MASK) as u32
    }

    /// Whether `off` is one of the three.
    #[inline(always)]
    fn contains(self, off: u32) -> bool {
        self.r(0) == off || self.r(1) == off || self.r(2) == off
    }

    /// The offsets after a match with formatted offset `val`.
    #[inline(always)]
    fn after(self, val: u32) -> Self {
        if val >= 3 {
            return Queue(((self.0 << Q_BITS) | u64::from(val - 2)) & ((1 << (3 * Q_BITS)) - 1));
        }
        // Swap R0 and R`val` (a no-op for 0).
        let shift = val * Q_BITS;
        let hi = Q_MASK << shift;
        Queue((self.0 & !(Q_MASK | hi)) | ((self.0 & hi) >> shift) | ((self.0 & Q_MASK) << shift))
    }
}

/// Cost of a match by length (index `len - 2`) for each offset slot: main symbol, length symbol
/// and the offset's verbatim extra bits; aligned bits are added per offset.
struct MatchCosts {
    rep: [[u32; COST_ROW]; 3],
    explicit: Vec<[u32; COST_ROW]>,
    aligned: [u32; ALIGNED_SYMS],
    use_aligned: bool,
}

impl MatchCosts {
    fn new() -> Self {
        MatchCosts {
            rep: [[0; COST_ROW]; 3],
            explicit: vec![[0; COST_ROW]; MAX_MAIN_SYMS / 8],
            aligned: [0; ALIGNED_SYMS],
            use_aligned: false,
        }
    }

    fn update(&mut self, costs: &Costs, num_main: usize) {
        let slots = (num_main - NUM_CHARS) / 8;
        for (slot, &extra) in SLOT_EXTRA[..slots].iter().enumerate() {
            let main = &costs.main[NUM_CHARS + slot * 8..NUM_CHARS + slot * 8 + 8];
            let extra = u32::from(extra);
            let extra = if costs.use_aligned && extra >= 3 {
                extra - 3
            } else {
                extra
            } * BIT;
            let row = if slot < 3 {
                &mut self.rep[slot]
            } else {
                &mut self.explicit[slot]
            };
            let (short, long) = row.split_at_mut(NUM_PRIMARY_LENS);
            for (c, &m) in short.iter_mut().zip(main) {
                *c = extra + m;
            }
            let base = extra + main[NUM_PRIMARY_LENS];
            for (c, &l) in long.iter_mut().zip(&costs.len) {
                *c = base + l;
            }
        }
        self.aligned = costs.aligned;
        self.use_aligned = costs.use_aligned;
    }

    /// The aligned-symbol part of an explicit offset's cost.
    #[inline(always)]
    fn aligned_cost(&self, slot: usize, formatted: u32) -> u32 {
        if self.use_aligned && SLOT_EXTRA[slot] >= 3 {
            self.aligned[(formatted & 7) as usize]
        } else {
            0
        }
    }
}

/// The near-optimal parser's state, reused across chunks.
pub(crate) struct NearOptimal {
    params: OptimalParams,
    bt: BinaryTrees,
    matches: Vec<Match>,
    /// Index into `matches` of each segment position's first match (one extra at the end).
    starts: Vec<u32>,
    nodes: Nodes,
    /// Repeat offsets on arrival at the last `RING` positions, filled in as the pass reaches
    /// them.
    ring: Box<[Queue; RING]>,
    costs: Box<Costs>,
    match_costs: Box<MatchCosts>,
    freqs: Freqs,
    path: Vec<Item>,
    /// The greedy seed's items, for the in-pass model updates.
    seed: Vec<Item>,
    adapt: Box<Adapt>,
}

/// Tallies for the in-pass model updates.
struct Adapt {
    /// The path's items up to position `tallied`.
    path: Freqs,
    tallied: usize,
    /// The seed's items from the `seed_next`th on, which starts at position `seed_pos`.
    rest: Freqs,
    seed_next: usize,
    seed_pos: usize,
}

impl NearOptimal {
    pub(crate) fn new(params: OptimalParams, max_chunk: usize) -> Self {
        NearOptimal {
            params,
            bt: BinaryTrees::new(max_chunk),
            matches: Vec::new(),
            starts: Vec::new(),
            nodes: Nodes::default(),
            ring: Box::new([Queue::new([1; 3]); RING]),
            match_costs: Box::new(MatchCosts::new()),
            costs: Box::new(Costs {
                main: [0; MAX_MAIN_SYMS],
                len: [0; LEN_SYMS],
                aligned: [0; ALIGNED_SYMS],
                use_aligned: false,
            }),
            freqs: Freqs::default(),
            path: Vec::new(),
            seed: Vec::new(),
            adapt: Box::new(Adapt {
                path: Freqs::default(),
                tallied: 0,
                rest: Freqs::default(),
                seed_next: 0,
                seed_pos: 0,
            }),
        }
    }

    pub(crate) fn reset(&mut self) {
        self.bt.reset();
    }

    /// Finds and caches the matches of every position of `data[start..end]`.
    fn find_matches(&mut self, data: &[u8], start: usize, end: usize, max_off: usize) {
        let p = SearchParams {
            depth: self.params.depth,
            nice: self.params.nice,
            skip_depth: (self.params.depth / 4).max(1),
            max_off,
        };
        self.bt
            .find_all(data, start, end, p, &mut self.matches, &mut self.starts);
    }

    /// One minimum-cost pass over `data[start..end]` with the current costs; the chosen items
    /// go to `self.path` in order. Returns the repeat offsets at the end. With `adapt` (main
    /// alphabet size, interval), the costs are rebuilt every interval positions from
    /// the path so far and `self.seed` for the rest.
    fn min_cost_path(
        &mut self,
        data: &[u8],
        start: usize,
        end: usize,
        rep_in: [u32; 3],
        adapt: Option<(usize, usize)>,
    ) -> [u32; 3] {
        let n = end - start;
        let every = match &adapt {
            Some((_, every)) if *every > 0 => *every,
            _ => n,
        };
        let nodes = &mut self.nodes;
        // LANES spare nodes at the end: offers are made in whole groups of lanes.
        nodes.cost.clear();
        nodes.cost.resize(n + 1 + LANES, INFINITE);
        nodes.cost[0] = 0;
        nodes.item.clear();
        nodes.item.resize(n + 1 + LANES, 0);
        // Repeat offsets on arrival at each of the last RING positions: a match reaches back
        // at most MAX_MATCH positions.
        let rep_in = Queue::new(rep_in);
        self.ring[0] = rep_in;
        let mut rep = rep_in;
        let mut seg = 0;
        while seg < n {
            if seg > 0
                && let Some((num_main, _)) = adapt
            {
                self.adapt_costs(seg, num_main);
            }
            // Twice as often in the first quarter, where the model is furthest off.
            let step = if seg < n / 4 {
                (every / 2).max(1)
            } else {
                every
            };
            let seg_end = (seg + step).min(n);
            rep = self.min_cost_range(data, start, end, seg, seg_end, rep);
            seg = seg_end;
        }
        // Walk back from the end.
        self.path.clear();
        let mut j = n;
        while j > 0 {
            j = step_back(&self.nodes, j, |it| self.path.push(it));
        }
        self.path.reverse();
        rep.get()
    }

    /// Rebuilds the cost model at position `i` of a pass: the path to `i` (final by now) and
    /// the seed's items for the rest. Incremental: the path's items are tallied back to the
    /// previous update only (where the cheapest path to `i` leaves the one tallied before, the
    /// difference is small and ignored), and the seed's items before `i` are taken out.
    fn adapt_costs(&mut self, i: usize, num_main: usize) {
        let a = &mut *self.adapt;
        let mut j = i;
        while j > a.tallied {
            j = step_back(&self.nodes, j, |it| a.path.add(it));
        }
        a.tallied = i;
        while a.seed_pos < i && a.seed_next < self.seed.len() {
            let it = self.seed[a.seed_next];
            a.rest.remove(it);
            a.seed_pos += if it.len == 0 { 1 } else { it.len as usize };
            a.seed_next += 1;
        }
        self.freqs.set_weighted_sum(PATH_WEIGHT, &a.path, &a.rest);
        self.costs.set_from_freqs(&self.freqs, num_main);
        self.match_costs.update(&self.costs, num_main);
    }

    /// The path search over positions `i0..i1` of the segment `data[start..end]`, arriving at
    /// `i0` with repeat offsets `rep`; returns those on arrival at `i1`.
    #[allow(clippy::too_many_arguments)]
    fn min_cost_range(
        &mut self,
        data: &[u8],
        start: usize,
        end: usize,
        i0: usize,
        i1: usize,
        mut rep: Queue,
    ) -> Queue {
        let n = end - start;
        let nice = self.params.nice;
        let costs = &*self.costs;
        let mc = &*self.match_costs;
        let nodes = &mut self.nodes;
        let ring = &mut *self.ring;
        let block = &data[..end];
        let starts = &self.starts[..=n];
        for i in i0..i1 {
            let cur_cost = nodes.cost[i];
            let pos = start + i;
            let (a, b) = (starts[i] as usize, starts[i + 1] as usize);
            let max_len = (n - i).min(MAX_MATCH);
            if max_len >= MIN_MATCH {
                // Repeat offsets. A length that a cheaper kind of match (R0 before R1 before
                // R2 before an explicit offset, nearly always) already offers is not offered
                // again. Where the match finder found nothing (inside long matches, in
                // incompressible stretches) only R0 is tried: the others rarely pay there.
                let cur = &block[pos..pos + max_len];
                let at = RepAt {
                    block,
                    pos,
                    cur,
                    here: load_u16(cur, 0),
                    nice,
                    i,
                    cur_cost,
                };
                let mut covered = at.offer::<0>(nodes, mc, rep, MIN_MATCH - 1);
                if a < b {
                    covered = at.offer::<1>(nodes, mc, rep, covered);
                    covered = at.offer::<2>(nodes, mc, rep, covered);
                }
                // Explicit offsets.
                let mut prev = covered;
                for m in &self.matches[a..b] {
                    let off = m.off;
                    let mlen = (m.len as usize).min(max_len);
                    if mlen <= prev || rep.contains(off) {
                        prev = prev.max(mlen);
                        continue;
                    }
                    let f = off + 2;
                    let slot = offset_slot(f);
                    let base = cur_cost + mc.aligned_cost(slot, f);
                    let from = if mlen >= nice { mlen } else { prev + 1 };
                    relax(nodes, &mc.explicit[slot], i, base, f, from, mlen);
                    prev = mlen;
                }
            }
            // Literal (preferred on a tie); then the next node's cost is final and so are its
            // repeat offsets. Both outcomes are computed and one selected: which one wins is
            // unpredictable.
            let lit = block[pos];
            let c = cur_cost + costs.literal(lit);
            let (next_cost, next) = (nodes.cost[i + 1], nodes.item[i + 1]);
            let len = (next & LEN_MASK) as usize;
            let by_match = ring[(i + 1).wrapping_sub(len) % RING].after(next >> LEN_BITS);
            let is_lit = c <= next_cost;
            nodes.cost[i + 1] = if is_lit { c } else { next_cost };
            nodes.item[i + 1] = if is_lit {
                u32::from(lit) << LEN_BITS
            } else {
                next
            };
            rep = if is_lit { rep } else { by_match };
            ring[(i + 1) % RING] = rep;
        }
        rep
    }

    /// A quick greedy parse of the cached matches into `self.path`, for a first cost model.
    fn greedy_path(&mut self, data: &[u8], start: usize, end: usize, mut rep: [u32; 3]) {
        self.path.clear();
        let mut i = 0;
        let n = end - start;
        // Literals cost what the block's byte entropy says plus half a bit (in eighths of a
        // bit; entropy clamped to 2..=8 bits): a fixed guess takes too many short matches on
        // text and so starts the cost model badly.
        let mut hist = [0u32; 256];
        for &b in &data[start..end] {
            hist[usize::from(b)] += 1;
        }
        let total = n.max(1) as f64;
        let entropy: f64 = hist
            .iter()
            .filter(|&&h| h > 0)
            .map(|&h| {
                let p = f64::from(h) / total;
                -p * p.log2()
            })
            .sum();
        let literal = ((entropy.clamp(2.0, 8.0) + 0.5) * 8.0) as i32;
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
                        if l >= MIN_MATCH && gain_with(l, k as u32, literal) > best_gain {
                            best = (l, k as u32);
                            best_gain = gain_with(l, k as u32, literal);
                        }
                    }
                }
                let (a, b) = (self.starts[i] as usize, self.starts[i + 1] as usize);
                for m in &self.matches[a..b] {
                    let l = (m.len as usize).min(max_len);
                    let g = gain_with(l, m.off + 2, literal);
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
        items: &mut Vec<Item>,
    ) {
        self.find_matches(data, start, end, max_off);
        let mut adapt_first = false;
        match prev {
            Some((codes, aligned)) => self.costs.set_from_codes(codes, aligned, num_main),
            None if self.params.greedy_seed => {
                self.greedy_path(data, start, end, *rep);
                self.freqs.clear();
                self.freqs.add_all(&self.path);
                self.costs.set_from_freqs(&self.freqs, num_main);
                std::mem::swap(&mut self.seed, &mut self.path);
                adapt_first = self.params.adapt_every > 0;
                let a = &mut *self.adapt;
                a.path.clear();
                a.tallied = 0;
                a.rest.clone_from(&self.freqs);
                a.seed_next = 0;
                a.seed_pos = 0;
            }
            None => self.costs.defaults(&data[start..end], num_main),
        }
        let mut out_rep = *rep;
        for pass in 0..self.params.passes.max(1) {
            self.match_costs.update(&self.costs, num_main);
            let adapt = (adapt_first && pass == 0).then_some((num_main, self.params.adapt_every));
            out_rep = self.min_cost_path(data, start, end, *rep, adapt);
            if pass + 1 < self.params.passes {
                self.freqs.clear();
                self.freqs.add_all(&self.path);
                self.costs.set_from_freqs(&self.freqs, num_main);
            }
        }
        *rep = out_rep;
        items.extend_from_slice(&self.path);
    }
}

/// A position of the path search, for offering its repeat-offset matches.
struct RepAt<'a> {
    block: &'a [u8],
    pos: usize,
    /// The bytes from `pos` on, up to the longest match.
    cur: &'a [u8],
    /// The 2 bytes at `pos`.
    here: u16,
    nice: usize,
    i: usize,
    cur_cost: u32,
}

impl RepAt<'_> {
    /// Offers the match at repeat offset `K` if it is longer than `covered` (the longest
    /// match a cheaper kind already offers) and returns the new longest.
    #[inline(always)]
    fn offer<const K: u32>(
        &self,
        nodes: &mut Nodes,
        mc: &MatchCosts,
        rep: Queue,
        covered: usize,
    ) -> usize {
        let r = rep.r(K) as usize;
        let (block, pos, cur) = (self.block, self.pos, self.cur);
        if r > pos || covered >= cur.len() {
            return covered;
        }
        // To beat `covered` the match must reach its last byte: test that first.
        let there = &block[pos - r..pos - r + cur.len()];
        if there[covered] != cur[covered] || self.here != load_u16(there, 0) {
            return covered;
        }
        let l = extend(there, cur, 2);
        if l <= covered {
            return covered;
        }
        let from = if l >= self.nice { l } else { covered + 1 };
        relax(
            nodes,
            &mc.rep[K as usize],
            self.i,
            self.cur_cost,
            K,
            from,
            l,
        );
        l
    }
}

/// Steps back over the item that reaches node `j` of a path, giving it to `push`; returns the
/// node it leaves from.
#[inline]
fn step_back(nodes: &Nodes, j: usize, mut push: impl FnMut(Item)) -> usize {
    let item = nodes.item[j];
    let len = (item & LEN_MASK) as usize;
    let val = item >> LEN_BITS;
    if len == 0 {
        push(Item::literal(val as u8));
        j - 1
    } else {
        push(Item::matched(len, val));
        j - len
    }
}

/// Lengths offered together by [`relax`]: a span of lengths is handled in whole groups of
/// this many (one SSE2 vector), the lanes past its end masked off, instead of a vector loop plus
/// a scalar remainder whose exits mispredicted (16 M times on 8 MB of logs at level 50). Groups
/// of 4 were 2-3 % faster than before on the bench corpus, of 8 about the same, of 16 slower.
const LANES: usize = 4;

/// Length-dependent costs of one offset slot, by `len - 2`, with room for the lanes that a
/// group reads past the longest length.
const COST_ROW: usize = 256 + LANES;

/// Offers a match of lengths `from..=to` with formatted offset `val` from position `i`, whose
/// cost apart from the length-dependent part (`costs`, by `len - 2`) is `base`.
#[inline(always)]
fn relax(
    nodes: &mut Nodes,
    costs: &[u32; COST_ROW],
    i: usize,
    base: u32,
    val: u32,
    from: usize,
    to: usize,
) {
    let n = to + 1 - from;
    // The span rounded up to whole groups of lanes.
    let width = n.div_ceil(LANES) * LANES;
    relax_span(
        &mut nodes.cost[i + from..i + from + width],
        &mut nodes.item[i + from..i + from + width],
        &costs[from - MIN_MATCH..from - MIN_MATCH + width],
        n,
        base,
        val << LEN_BITS | from as u32,
    );
}

/// [`relax`] on the nodes' costs and items from the shortest length on (separate slices, so
/// that the loop is vectorised): `lens` has the length-dependent costs and `first` the item of
/// the shortest; the slices are whole groups of lanes, of which the first `n` are offered.
#[inline(always)]
fn relax_span(cost: &mut [u32], item: &mut [u32], lens: &[u32], n: usize, base: u32, first: u32) {
    let groups = cost
        .chunks_exact_mut(LANES)
        .zip(item.chunks_exact_mut(LANES))
        .zip(lens.chunks_exact(LANES));
    for (g, ((cost, item), lens)) in groups.enumerate() {
        let k0 = g * LANES;
        for k in 0..LANES {
            // Without a branch (which one wins is unpredictable); on a tie the first offer
            // stays: a repeat offset before an explicit one, a shorter match before a longer
            // one. Lanes past the span keep what they have.
            let new = base + lens[k];
            let keep = u32::from((new >= cost[k]) | (k0 + k >= n)).wrapping_neg();
            cost[k] = (cost[k] & keep) | (new & !keep);
            item[k] = (item[k] & keep) | ((first + (k0 + k) as u32) & !keep);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_point_log2_is_within_a_sixteenth_of_a_bit() {
        for x in (1..200_000u32).chain([u32::MAX / 3, u32::MAX]) {
            let want = 16.0 * f64::from(x).log2();
            let got = f64::from(log2_16(x));
            assert!((got - want).abs() <= 1.0, "{x}: {got} vs {want}");
        }
    }

    #[test]
    fn costs_follow_symbol_shares() {
        let mut out = [0u32; 4];
        costs_from_freqs(&mut out, &[512, 256, 256, 0], 16, 15);
        // Shares 1/2, 1/4, 1/4: 1, 2 and 2 bits; unused: the given default.
        assert_eq!(out, [BIT, 2 * BIT, 2 * BIT, 15 * BIT]);
        // A symbol rarer than 2^-16 is capped at the longest codeword.
        let mut out = [0u32; 2];
        costs_from_freqs(&mut out, &[1 << 20, 1], 16, 15);
        assert_eq!(out, [BIT, 16 * BIT]);
    }
}
