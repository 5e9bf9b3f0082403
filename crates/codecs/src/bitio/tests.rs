use super::*;

/// One writer operation: `bits` of width `n`, then interleaved bytes.
#[derive(Debug, Clone)]
struct Op {
    bits: u32,
    n: u32,
    bytes: Vec<u8>,
}

fn write(ops: &[Op]) -> Vec<u8> {
    let mut out = vec![0u8; 16 + ops.iter().map(|o| 4 + o.bytes.len()).sum::<usize>()];
    let mut w = BitWriter::new(&mut out);
    for op in ops {
        w.write_bits(op.bits, op.n);
        for &b in &op.bytes {
            w.write_u8(b);
        }
    }
    let n = w.finish().expect("room");
    out.truncate(n);
    out
}

#[test]
fn writer_layout() {
    let op = |bits, n, bytes: &[u8]| Op {
        bits,
        n,
        bytes: bytes.to_vec(),
    };
    // (operations, expected bytes)
    let cases: Vec<(Vec<Op>, Vec<u8>)> = vec![
        // Nothing: the two reserved words.
        (vec![], vec![0, 0, 0, 0]),
        // 3 bits, MSB first in the first little-endian word.
        (vec![op(0b101, 3, &[])], vec![0x00, 0xA0, 0, 0]),
        // Exactly 16 bits stay pending until the 17th.
        (vec![op(0x1234, 16, &[])], vec![0x34, 0x12, 0, 0]),
        (
            vec![op(0x1234, 16, &[]), op(1, 1, &[])],
            vec![0x34, 0x12, 0x00, 0x80, 0, 0],
        ),
        // A byte goes after the two reserved word slots.
        (vec![op(0b101, 3, &[0xAB])], vec![0x00, 0xA0, 0, 0, 0xAB]),
        // After one completed word, the next byte follows the third slot.
        (
            vec![op(0xFFFF, 16, &[]), op(0b11, 2, &[0xCD]), op(0x7, 3, &[])],
            vec![0xFF, 0xFF, 0x00, 0xF8, 0x00, 0x00, 0xCD],
        ),
    ];
    for (ops, expected) in cases {
        assert_eq!(write(&ops), expected, "{ops:?}");
    }
}

#[test]
fn writer_reports_overflow() {
    let mut out = [0u8; 5];
    let mut w = BitWriter::new(&mut out);
    w.write_bits(1, 1);
    w.write_u16(0xFFFF);
    assert_eq!(w.finish(), None);
    let mut out = [0u8; 3];
    assert_eq!(BitWriter::new(&mut out).finish(), None);
}

#[test]
fn size_for_matches_finish() {
    for bits in 0..100u32 {
        for bytes in 0..3 {
            let mut ops = Vec::new();
            let mut left = bits;
            while left > 0 {
                let n = left.min(13);
                ops.push(Op {
                    bits: 0,
                    n,
                    bytes: vec![],
                });
                left -= n;
            }
            if let Some(last) = ops.last_mut() {
                last.bytes = vec![7; bytes];
            } else if bytes > 0 {
                continue;
            }
            let got = write(&ops).len() as u64;
            assert_eq!(
                got,
                BitWriter::size_for(u64::from(bits), bytes as u64),
                "{bits} {bytes}"
            );
        }
    }
}

#[test]
fn reader_pop_and_overrun() {
    let data = [0x34, 0x12, 0x78, 0x56, 0xBC, 0x9A];
    let mut r = BitReader::new(&data);
    r.refill();
    assert_eq!(r.pop(0), 0);
    assert_eq!(r.pop(4), 0x1);
    assert_eq!(r.pop(12), 0x234);
    assert_eq!(r.pop(16), 0x5678);
    r.refill();
    assert_eq!(r.pop(16), 0x9ABC);
    assert!(!r.overrun());
    r.refill();
    assert_eq!(r.pop(1), 0);
    assert!(r.overrun());
}

/// Reads `ops` back the way an XPRESS decoder does: bits after a refill, bytes after aligning.
fn read(data: &[u8], ops: &[Op]) -> Result<(), String> {
    let mut r = BitReader::new(data);
    for (i, op) in ops.iter().enumerate() {
        r.refill();
        let v = r.pop(op.n);
        if v != op.bits {
            return Err(format!("op {i}: bits {v:#x} != {:#x}", op.bits));
        }
        if !op.bytes.is_empty() {
            r.align_for_bytes();
            for &b in &op.bytes {
                let got = r.read_u8().ok_or(format!("op {i}: byte missing"))?;
                if got != b {
                    return Err(format!("op {i}: byte {got:#x} != {b:#x}"));
                }
            }
        }
    }
    if r.overrun() {
        return Err("overrun".into());
    }
    Ok(())
}

proptest::proptest! {
    #[test]
    fn interleaved_round_trip(
        raw in proptest::collection::vec((1u32..=16, proptest::num::u32::ANY,
            proptest::collection::vec(proptest::num::u8::ANY, 0..3)), 0..200)
    ) {
        let ops: Vec<Op> = raw
            .into_iter()
            .map(|(n, v, bytes)| Op { bits: v & ((1 << n) - 1), n, bytes })
            .collect();
        let data = write(&ops);
        proptest::prop_assert_eq!(read(&data, &ops), Ok(()));
    }
}
