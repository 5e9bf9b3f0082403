//! The adaptive probabilities that drive LZMS's range coder.
//!
//! Every binary decision (literal or match, LZ or delta, explicit or repeat offset, which
//! repeat slot) has its own class. A class remembers its last few bits (4, 5 or 6 of them, the
//! newest in the low bit) and uses them to pick one of its 16, 32 or 64 probability entries.
//! An entry predicts "0" with probability `zeros / 64`, where `zeros` counts the zero bits
//! among the last 64 bits coded with that entry, clamped to 1..=63 when used. Each entry starts
//! as if its last 64 bits were `0x0000_0000_5555_5555` (48 zeros).

/// Denominator of every probability, as a power of two.
pub(crate) const PROBABILITY_BITS: u32 = 6;
const INITIAL_HISTORY: u64 = 0x0000_0000_5555_5555;

/// One adaptive probability: the last 64 bits coded with it and how many were zero.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    history: u64,
    zeros: u32,
}

impl Entry {
    const INITIAL: Entry = Entry {
        history: INITIAL_HISTORY,
        zeros: 64 - INITIAL_HISTORY.count_ones(),
    };

    /// The chance out of 64 that the next bit is 0, never 0 or 64.
    #[inline(always)]
    pub(crate) fn probability(&self) -> u32 {
        self.zeros.clamp(1, 63)
    }

    /// Records a coded bit: the oldest bit leaves the window, `bit` enters it.
    #[inline(always)]
    pub(crate) fn update(&mut self, bit: bool) {
        let oldest = (self.history >> 63) as u32;
        // A zero leaving lowers the count, a zero entering raises it.
        self.zeros = self.zeros + u32::from(!bit) - (1 - oldest);
        self.history = (self.history << 1) | u64::from(bit);
    }
}

/// One binary decision class with `N` entries (`N` a power of two) selected by its last
/// `log2 N` bits.
#[derive(Clone, Debug)]
pub(crate) struct Decision<const N: usize> {
    entries: [Entry; N],
    recent: usize,
}

impl<const N: usize> Decision<N> {
    pub(crate) fn new() -> Self {
        Decision {
            entries: [Entry::INITIAL; N],
            recent: 0,
        }
    }

    /// The entry to code the next bit with.
    #[inline(always)]
    pub(crate) fn current(&mut self) -> &mut Entry {
        &mut self.entries[self.recent]
    }

    /// Records the bit just coded with [`Self::current`] in both the entry and the class.
    #[inline(always)]
    pub(crate) fn record(&mut self, bit: bool) {
        self.entries[self.recent].update(bit);
        self.recent = ((self.recent << 1) | usize::from(bit)) & (N - 1);
    }
}

/// All decision classes of one chunk.
#[derive(Clone, Debug)]
pub(crate) struct Decisions {
    /// Literal (0) or match (1).
    pub(crate) main: Decision<16>,
    /// LZ match (0) or delta match (1).
    pub(crate) matches: Decision<32>,
    /// LZ match: explicit offset (0) or repeat offset (1).
    pub(crate) lz: Decision<64>,
    /// Delta match: explicit (0) or repeat (1) pair.
    pub(crate) delta: Decision<64>,
    /// LZ repeat: slot 0 (0) or beyond (1); then slot 1 (0) or slot 2 (1).
    pub(crate) lz_rep: [Decision<64>; 2],
    /// Delta repeat, likewise.
    pub(crate) delta_rep: [Decision<64>; 2],
}

impl Decisions {
    pub(crate) fn new() -> Self {
        Decisions {
            main: Decision::new(),
            matches: Decision::new(),
            lz: Decision::new(),
            delta: Decision::new(),
            lz_rep: [Decision::new(), Decision::new()],
            delta_rep: [Decision::new(), Decision::new()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_probability_is_48_of_64() {
        assert_eq!(Entry::INITIAL.probability(), 48);
    }

    #[test]
    fn counts_zeros_in_a_64_bit_window() {
        let mut e = Entry::INITIAL;
        for _ in 0..64 {
            e.update(true);
        }
        assert_eq!(e.zeros, 0);
        assert_eq!(e.probability(), 1);
        for _ in 0..64 {
            e.update(false);
        }
        assert_eq!(e.zeros, 64);
        assert_eq!(e.probability(), 63);
        e.update(true);
        assert_eq!(e.zeros, 63);
    }

    #[test]
    fn class_selects_entry_by_recent_bits() {
        let mut d = Decision::<16>::new();
        for bit in [true, false, true, true, false] {
            d.record(bit);
        }
        // The last four bits, 1 0 1 1 0 minus the first, newest in the low bit.
        assert_eq!(d.recent, 0b0110);
    }
}
