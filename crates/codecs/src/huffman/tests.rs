use super::*;
use std::collections::BinaryHeap;

fn lengths(freqs: &[u32], max_len: u32) -> Vec<u8> {
    let mut lens = vec![0; freqs.len()];
    CodeBuilder::new(freqs.len()).build_lengths(freqs, max_len, &mut lens);
    lens
}

fn kraft(lens: &[u8], max_len: u32) -> u64 {
    lens.iter()
        .filter(|&&l| l > 0)
        .map(|&l| 1u64 << (max_len - u32::from(l)))
        .sum()
}

fn cost(freqs: &[u32], lens: &[u8]) -> u64 {
    freqs
        .iter()
        .zip(lens)
        .map(|(&f, &l)| u64::from(f) * u64::from(l))
        .sum()
}

/// Total cost of an unrestricted Huffman code, by the textbook heap construction.
fn huffman_cost(freqs: &[u32]) -> u64 {
    let mut heap: BinaryHeap<std::cmp::Reverse<u64>> = freqs
        .iter()
        .filter(|&&f| f > 0)
        .map(|&f| std::cmp::Reverse(u64::from(f)))
        .collect();
    let mut total = 0;
    while heap.len() > 1 {
        let a = heap.pop().expect("two").0;
        let b = heap.pop().expect("two").0;
        total += a + b;
        heap.push(std::cmp::Reverse(a + b));
    }
    total
}

#[test]
fn known_lengths() {
    // (frequencies, max length, expected lengths)
    let cases: &[(&[u32], u32, &[u8])] = &[
        (&[0, 0, 0], 15, &[0, 0, 0]),
        (&[0, 9, 0], 15, &[1, 1, 0]),
        (&[9, 0, 0], 15, &[1, 1, 0]),
        (&[1, 1], 15, &[1, 1]),
        (&[1, 1, 2, 4], 15, &[3, 3, 2, 1]),
        (&[10, 10, 10, 10], 15, &[2, 2, 2, 2]),
        // Limited: the unrestricted code would be 1,2,3,4,4; 1,3,3,3,3 costs 61 < 65 for
        // 2,2,2,3,3.
        (&[16, 8, 4, 2, 1], 3, &[1, 3, 3, 3, 3]),
        (&[16, 8, 4, 2, 1], 4, &[1, 2, 3, 4, 4]),
    ];
    for &(freqs, max, expected) in cases {
        assert_eq!(lengths(freqs, max), expected, "{freqs:?} max {max}");
    }
}

#[test]
fn fibonacci_frequencies_are_limited() {
    let mut freqs = vec![1u32, 1];
    while freqs.len() < 30 {
        let n = freqs.len();
        freqs.push(freqs[n - 1] + freqs[n - 2]);
    }
    for max in [5, 8, 15, 16] {
        let lens = lengths(&freqs, max);
        assert!(
            lens.iter().all(|&l| (1..=max as u8).contains(&l)),
            "{lens:?}"
        );
        assert_eq!(kraft(&lens, max), 1 << max);
    }
}

#[test]
fn canonical_codes_match_rfc1951_example() {
    // RFC 1951 §3.2.2: lengths (3,3,3,3,3,2,4,4) give 010 011 100 101 110 00 1110 1111.
    let lens = [3, 3, 3, 3, 3, 2, 4, 4];
    let mut codes = [0; 8];
    canonical_codes(&lens, &mut codes);
    assert_eq!(
        codes,
        [0b010, 0b011, 0b100, 0b101, 0b110, 0b00, 0b1110, 0b1111]
    );
}

#[test]
fn decode_table_rejects_bad_codes() {
    let mut t = DecodeTable::new(4, 2, 4);
    assert_eq!(t.build(&[1, 1, 1, 0]), Err(CodeError::Oversubscribed));
    assert_eq!(t.build(&[1, 2, 0, 0]), Err(CodeError::Incomplete));
    assert_eq!(t.build(&[5, 1, 2, 5]), Err(CodeError::TooLong));
    assert_eq!(t.build(&[0, 0, 0, 0]), Ok(()));
    assert!(t.is_empty());
    assert_eq!(t.build(&[1, 2, 3, 3]), Ok(()));
    assert!(!t.is_empty());
}

/// Packs `syms` MSB first with their canonical codes into a left-justified stream of u64s and
/// decodes them back with `table`.
fn encode_decode(lens: &[u8], syms: &[usize], table: &DecodeTable) -> Vec<usize> {
    let mut codes = vec![0; lens.len()];
    canonical_codes(lens, &mut codes);
    let mut bits: Vec<bool> = Vec::new();
    for &s in syms {
        for i in (0..lens[s]).rev() {
            bits.push(codes[s] >> i & 1 == 1);
        }
    }
    let mut out = Vec::new();
    let mut at = 0;
    while out.len() < syms.len() {
        let mut window = 0u64;
        for i in 0..64 {
            if bits.get(at + i).copied().unwrap_or(false) {
                window |= 1 << (63 - i);
            }
        }
        let (sym, len) = table.decode(window);
        out.push(sym as usize);
        at += len as usize;
    }
    out
}

proptest::proptest! {
    #[test]
    fn lengths_are_complete_limited_and_optimal_when_unconstrained(
        freqs in proptest::collection::vec(0u32..1000, 2..700),
        max in 10u32..=16,
    ) {
        let lens = lengths(&freqs, max);
        let used = freqs.iter().filter(|&&f| f > 0).count();
        proptest::prop_assert!(lens.iter().all(|&l| u32::from(l) <= max));
        for (&f, &l) in freqs.iter().zip(&lens) {
            proptest::prop_assert!(f == 0 || l > 0);
        }
        if used >= 1 {
            proptest::prop_assert_eq!(kraft(&lens, max), 1 << max);
        }
        if used >= 2 && lengths(&freqs, 24).iter().all(|&l| u32::from(l) <= max) {
            proptest::prop_assert_eq!(cost(&freqs, &lens), huffman_cost(&freqs));
        }
    }

    #[test]
    fn decode_table_decodes_canonical_codes(
        freqs in proptest::collection::vec(0u32..50_000, 2..700),
        seq in proptest::collection::vec(0usize..10_000, 1..300),
        table_bits in 1u32..=16,
    ) {
        let max = 16;
        // Skewed frequencies produce long codes and therefore subtables.
        let freqs: Vec<u32> = freqs.iter().enumerate()
            .map(|(i, &f)| if i % 3 == 0 { f } else { f / 1000 }).collect();
        let lens = lengths(&freqs, max);
        let used: Vec<usize> = (0..lens.len()).filter(|&s| lens[s] > 0).collect();
        proptest::prop_assume!(used.len() >= 2);
        let mut table = DecodeTable::new(lens.len(), table_bits, max);
        proptest::prop_assert_eq!(table.build(&lens), Ok(()));
        let syms: Vec<usize> = seq.iter().map(|&i| used[i % used.len()]).collect();
        proptest::prop_assert_eq!(encode_decode(&lens, &syms, &table), syms);
    }
}
