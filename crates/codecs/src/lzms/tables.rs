//! Slot tables of LZMS: how a match offset or length splits into a Huffman-coded slot and
//! verbatim extra bits.
//!
//! Both tables are runs of slots with the same number of extra bits; the base of each slot is
//! the base of the one before plus the span of that slot (`1 << extra`). The tables are built
//! here from the run lengths (see `docs/lzms.md` for the rule and where the numbers come from).

/// Offset slots (the largest offset alphabet).
pub(crate) const NUM_OFFSET_SLOTS: usize = 799;
/// Length slots (the size of the length alphabet).
pub(crate) const NUM_LENGTH_SLOTS: usize = 54;

/// Offset slot runs: `(extra bits, number of slots)`, starting at offset 1.
const OFFSET_RUNS: [(u8, u16); 21] = [
    (0, 8),
    (2, 9),
    (3, 7),
    (4, 10),
    (5, 15),
    (6, 15),
    (7, 20),
    (8, 20),
    (9, 30),
    (10, 33),
    (11, 40),
    (12, 42),
    (13, 45),
    (14, 60),
    (15, 73),
    (16, 80),
    (17, 85),
    (18, 95),
    (19, 105),
    (20, 6),
    (30, 1),
];

/// Length slot runs: `(extra bits, number of slots)`, starting at length 1.
const LENGTH_RUNS: [(u8, u16); 13] = [
    (0, 26),
    (1, 4),
    (2, 6),
    (3, 4),
    (4, 5),
    (5, 2),
    (6, 1),
    (7, 1),
    (8, 1),
    (9, 1),
    (10, 1),
    (16, 1),
    (30, 1),
];

/// Extra bits of each offset slot.
pub(crate) const OFFSET_EXTRA: [u8; NUM_OFFSET_SLOTS] = expand(&OFFSET_RUNS);
/// Smallest offset of each offset slot, plus one past the largest offset at the end.
pub(crate) const OFFSET_BASE: [u32; NUM_OFFSET_SLOTS + 1] = bases(&OFFSET_EXTRA);
/// Extra bits of each length slot.
pub(crate) const LENGTH_EXTRA: [u8; NUM_LENGTH_SLOTS] = expand(&LENGTH_RUNS);
/// Smallest length of each length slot, plus one past the largest length at the end.
pub(crate) const LENGTH_BASE: [u32; NUM_LENGTH_SLOTS + 1] = bases(&LENGTH_EXTRA);

const fn expand<const N: usize>(runs: &[(u8, u16)]) -> [u8; N] {
    let mut out = [0u8; N];
    let (mut r, mut i) = (0, 0);
    while r < runs.len() {
        let mut k = 0;
        while k < runs[r].1 {
            out[i] = runs[r].0;
            i += 1;
            k += 1;
        }
        r += 1;
    }
    assert!(i == N, "runs must fill the table");
    out
}

const fn bases<const N: usize, const M: usize>(extra: &[u8; N]) -> [u32; M] {
    let mut out = [0u32; M];
    out[0] = 1;
    let mut s = 0;
    while s < N {
        out[s + 1] = out[s] + (1u32 << extra[s]);
        s += 1;
    }
    out
}

/// The slot of `value` in a base table (`value` must be at least `base[0]` and below the last
/// entry).
#[inline]
fn slot_of(value: u32, base: &[u32]) -> usize {
    // The first slot whose successor's base exceeds `value`.
    base[1..].partition_point(|&b| b <= value)
}

/// The offset slot of an offset (1 ..= the largest representable offset).
#[inline]
pub(crate) fn offset_slot(offset: u32) -> usize {
    slot_of(offset, &OFFSET_BASE)
}

/// The length slot of a match length (1 ..= the largest representable length).
#[inline]
pub(crate) fn length_slot(length: u32) -> usize {
    slot_of(length, &LENGTH_BASE)
}

/// How many offset slots a chunk of `size` bytes uses: enough for offsets up to `size - 1`.
pub(crate) fn num_offset_slots(size: usize) -> usize {
    if size < 2 {
        return 0;
    }
    let largest = u32::try_from(size - 1).unwrap_or(u32::MAX);
    1 + offset_slot(largest.min(OFFSET_BASE[NUM_OFFSET_SLOTS] - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_table_landmarks() {
        assert_eq!(&OFFSET_BASE[..10], &[1, 2, 3, 4, 5, 6, 7, 8, 9, 0xd]);
        assert_eq!(OFFSET_BASE[17], 0x2d);
        assert_eq!(OFFSET_BASE[100], 0x20a5);
        assert_eq!(OFFSET_BASE[797], 0x064b_e4a5);
        assert_eq!(OFFSET_BASE[798], 0x065b_e4a5);
        assert_eq!(OFFSET_BASE[799], 0x465b_e4a5);
        assert_eq!(OFFSET_EXTRA[798], 30);
    }

    #[test]
    fn length_table_landmarks() {
        assert_eq!(LENGTH_BASE[0], 1);
        assert_eq!(LENGTH_BASE[26], 27);
        assert_eq!(LENGTH_BASE[27], 0x1d);
        assert_eq!(LENGTH_BASE[52], 0x8ab);
        assert_eq!(LENGTH_BASE[53], 0x1_08ab);
        assert_eq!(LENGTH_BASE[54], 0x4001_08ab);
    }

    #[test]
    fn slots_contain_their_values() {
        for v in (1..200_000u32).chain([0x065b_e4a4, 0x065b_e4a5, 0x465b_e4a4]) {
            let s = offset_slot(v);
            assert!(OFFSET_BASE[s] <= v && v < OFFSET_BASE[s + 1], "{v} -> {s}");
        }
        for v in (1..70_000u32).chain([0x4001_08aa]) {
            let s = length_slot(v);
            assert!(LENGTH_BASE[s] <= v && v < LENGTH_BASE[s + 1], "{v} -> {s}");
        }
    }

    #[test]
    fn offset_slots_per_chunk_size() {
        assert_eq!(num_offset_slots(0), 0);
        assert_eq!(num_offset_slots(1), 0);
        assert_eq!(num_offset_slots(2), 1);
        assert_eq!(num_offset_slots(9), 8);
        assert_eq!(num_offset_slots(10), 9);
        let s = num_offset_slots(1 << 17);
        assert!(OFFSET_BASE[s - 1] < 1 << 17 && OFFSET_BASE[s] >= (1 << 17) - 1);
    }
}
