//! XPRESS round trips through the public API, and hostile input to the decompressor.

mod common;

use proptest::prelude::*;
use tsmedia_codecs::{DecodeError, Format, new_compressor, new_decompressor};

const LEVELS: [u32; 6] = [1, 20, 40, 50, 60, 100];

/// Data of one of several kinds, `len` bytes.
fn data(kind: u8, len: usize, seed: u64) -> Vec<u8> {
    match kind % 5 {
        0 => common::text_like(len, seed),
        1 => common::binary_like(len, seed),
        2 => common::random(len, seed),
        // Repetitive: a short random pattern repeated, with rare changes.
        3 => {
            let pattern = common::random(1 + (seed % 300) as usize, seed);
            let mut rng = common::Rng::new(seed);
            let mut v: Vec<u8> = pattern.iter().copied().cycle().take(len).collect();
            for _ in 0..len / 1000 {
                let at = rng.below(len as u64) as usize;
                v[at] = rng.next() as u8;
            }
            v
        }
        // Runs of a few byte values.
        _ => {
            let mut rng = common::Rng::new(seed);
            let mut v = Vec::with_capacity(len);
            while v.len() < len {
                let run = 1 + rng.below(600) as usize;
                let b = (rng.below(4) * 60) as u8;
                v.extend(std::iter::repeat_n(b, run.min(len - v.len())));
            }
            v
        }
    }
}

/// Compresses and, if that shrinks `input`, decompresses and compares.
fn round_trip(input: &[u8], chunk_size: usize, level: u32) -> Result<Option<usize>, TestCaseError> {
    let mut c = new_compressor(Format::Xpress, chunk_size, level).expect("compressor");
    let mut d = new_decompressor(Format::Xpress, chunk_size).expect("decompressor");
    let mut packed = vec![0; input.len()];
    let Some(n) = c.compress(input, &mut packed) else {
        return Ok(None);
    };
    prop_assert!(
        n < input.len(),
        "compressed size {} not below {}",
        n,
        input.len()
    );
    let mut out = vec![0; input.len()];
    d.decompress(&packed[..n], &mut out)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(out == input, "round trip differs");
    // The compressor is reused across chunks: a second time must give the same bytes.
    let mut again = vec![0; input.len()];
    prop_assert_eq!(c.compress(input, &mut again), Some(n));
    prop_assert!(again[..n] == packed[..n]);
    Ok(Some(n))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn generated_chunks_round_trip(
        kind in 0u8..5,
        shift in 12u32..=16,
        len_frac in 0.0f64..=1.0,
        seed in any::<u64>(),
        level_index in 0usize..LEVELS.len(),
    ) {
        let chunk_size = 1usize << shift;
        let len = ((chunk_size as f64) * len_frac) as usize;
        let input = data(kind, len, seed);
        let got = round_trip(&input, chunk_size, LEVELS[level_index])?;
        // Compressible kinds of a reasonable size must shrink.
        if kind % 5 != 2 && len >= 2048 {
            prop_assert!(got.is_some(), "kind {} of {} bytes did not shrink", kind, len);
        }
    }

    #[test]
    fn arbitrary_bytes_round_trip(input in prop::collection::vec(any::<u8>(), 0..3000)) {
        for level in [1, 50, 100] {
            round_trip(&input, 4096, level)?;
        }
    }

    #[test]
    fn small_alphabets_round_trip(
        input in prop::collection::vec(prop::sample::select(vec![b'a', b'b', 0u8]), 0..5000),
    ) {
        round_trip(&input, 8192, 50)?;
    }

    /// Arbitrary bytes, with a valid code table in front half of the time.
    #[test]
    fn arbitrary_chunks_never_panic(
        body in prop::collection::vec(any::<u8>(), 0..2000),
        valid_table in any::<bool>(),
        out_len in prop::sample::select(vec![0usize, 1, 3, 100, 4096]),
    ) {
        let mut input = Vec::new();
        if valid_table {
            // All 512 symbols of length 9: a complete code.
            input.extend(std::iter::repeat_n(0x99u8, 256));
        }
        input.extend(body);
        let mut d = new_decompressor(Format::Xpress, 4096).expect("decompressor");
        let mut out = vec![0; out_len];
        let _ = d.decompress(&input, &mut out);
    }

    /// Any corruption of a valid chunk decodes to an error or to some bytes, never a panic.
    #[test]
    fn corrupted_chunks_never_panic(
        seed in any::<u64>(),
        flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let input = data((seed % 5) as u8, 20_000, seed);
        let mut c = new_compressor(Format::Xpress, 32768, 50).expect("compressor");
        let mut packed = vec![0; input.len()];
        let Some(n) = c.compress(&input, &mut packed) else { return Ok(()) };
        packed.truncate(n);
        for (at, x) in flips {
            let at = at % n;
            packed[at] ^= x | 1;
        }
        let end = n - cut % (n / 4 + 1);
        let mut d = new_decompressor(Format::Xpress, 32768).expect("decompressor");
        let mut out = vec![0; input.len()];
        let _ = d.decompress(&packed[..end], &mut out);
    }
}

#[test]
fn every_chunk_size_and_level_round_trips_full_chunks() {
    for shift in 12..=16 {
        let chunk_size = 1 << shift;
        for kind in 0..5 {
            let input = data(kind, chunk_size, 1000 + u64::from(kind));
            for level in LEVELS {
                let got = round_trip(&input, chunk_size, level).expect("round trip");
                assert_eq!(
                    got.is_some(),
                    kind != 2,
                    "{chunk_size} kind {kind} level {level}"
                );
            }
        }
    }
}

#[test]
fn tiny_and_incompressible_inputs_are_stored_raw() {
    let mut c = new_compressor(Format::Xpress, 4096, 50).expect("compressor");
    let mut out = vec![0; 4096];
    assert_eq!(c.compress(&[], &mut out[..0]), None);
    assert_eq!(c.compress(b"x", &mut out[..1]), None);
    assert_eq!(
        c.compress(&[7; 200], &mut out[..200]),
        None,
        "table alone is 256 bytes"
    );
    let random = common::random(4096, 5);
    assert_eq!(c.compress(&random, &mut out), None);
    // Larger than the maximum chunk size: refused, to be stored raw.
    let big = vec![0; 8192];
    let mut out = vec![0; 8192];
    assert_eq!(c.compress(&big, &mut out), None);
    // Smallest compressible: zeros just past the table size.
    let zeros = vec![0; 300];
    assert!(c.compress(&zeros, &mut out[..300]).is_some());
}

#[test]
fn truncated_chunks_are_errors() {
    let input = common::text_like(30_000, 8);
    let mut c = new_compressor(Format::Xpress, 32768, 50).expect("compressor");
    let mut d = new_decompressor(Format::Xpress, 32768).expect("decompressor");
    let mut packed = vec![0; input.len()];
    let n = c.compress(&input, &mut packed).expect("compresses");
    let mut out = vec![0; input.len()];
    // Each cut loses bits the decoder needs (the last 4 bytes are padding and the final
    // end-of-data symbol).
    for end in (0..n - 6).step_by(97) {
        assert!(
            d.decompress(&packed[..end], &mut out).is_err(),
            "cut at {end} of {n}"
        );
    }
    // A chunk longer than the decompressor's maximum is refused.
    let mut big = vec![0; 65536];
    assert_eq!(
        d.decompress(&packed[..n], &mut big),
        Err(DecodeError::OutputTooLarge {
            size: 65536,
            max: 32768
        })
    );
}

#[test]
fn empty_output_decodes_from_any_valid_table() {
    let mut d = new_decompressor(Format::Xpress, 4096).expect("decompressor");
    assert_eq!(d.decompress(&[0; 256], &mut []), Ok(()));
    assert_eq!(d.decompress(&[0; 10], &mut []), Err(DecodeError::Truncated));
}
