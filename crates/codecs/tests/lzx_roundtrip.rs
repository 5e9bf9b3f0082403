//! LZX round trips through our compressor and decompressor: random, text-like and x86-like data
//! (with E8 bytes), every chunk size, several levels; plus proptest inputs.

mod lzx_common;

use lzx_common::*;
use proptest::prelude::*;
use tsmedia_codecs::{Compressor, Decompressor, Format, new_compressor, new_decompressor};

const LEVELS: [u32; 6] = [1, 10, 20, 35, 50, 100];

fn round_trip(c: &mut dyn Compressor, d: &mut dyn Decompressor, data: &[u8]) -> Option<usize> {
    let mut comp = vec![0u8; data.len()];
    let n = c.compress(data, &mut comp)?;
    assert!(n < data.len());
    let mut out = vec![0u8; data.len()];
    d.decompress(&comp[..n], &mut out)
        .expect("our own output decodes");
    assert!(out == data, "round trip differs ({} bytes)", data.len());
    Some(n)
}

fn samples(n: usize, seed: u64) -> Vec<(&'static str, Vec<u8>)> {
    let mut mixed = text_like(seed, n / 3);
    mixed.extend(random_bytes(seed + 1, n / 6));
    mixed.extend(x86_like(seed + 2, n - mixed.len()));
    vec![
        ("text", text_like(seed, n)),
        ("x86", x86_like(seed, n)),
        ("random", random_bytes(seed, n)),
        ("mixed", mixed),
        ("zeros", vec![0; n]),
        ("e8s", vec![0xE8; n]),
    ]
}

#[test]
fn every_chunk_size_and_level() {
    for order in 15..=21 {
        let chunk = 1usize << order;
        let mut d = new_decompressor(Format::Lzx, chunk).unwrap();
        for &level in &LEVELS {
            let mut c = new_compressor(Format::Lzx, chunk, level).unwrap();
            // Full chunks for small windows; for large ones a full chunk of one kind only.
            let n = if order <= 17 { chunk } else { chunk / 4 };
            for (name, data) in samples(n, order as u64) {
                let r = round_trip(c.as_mut(), d.as_mut(), &data);
                if name != "random" {
                    assert!(
                        r.is_some(),
                        "{name} at level {level}, chunk {chunk} did not shrink"
                    );
                }
            }
            if order >= 18 && level == 20 || level == 50 {
                let data = text_like(99, chunk);
                round_trip(c.as_mut(), d.as_mut(), &data).expect("text shrinks");
            }
            // Short last chunks.
            for len in [1, 2, 3, 10, 11, 100, 1000, 4097] {
                round_trip(c.as_mut(), d.as_mut(), &x86_like(len as u64, len));
            }
        }
    }
}

#[test]
fn compressor_is_reusable_across_chunks() {
    let mut c = new_compressor(Format::Lzx, 1 << 15, 50).unwrap();
    let mut d = new_decompressor(Format::Lzx, 1 << 15).unwrap();
    let data = x86_like(7, 1 << 18);
    for chunk in data.chunks(1 << 15) {
        round_trip(c.as_mut(), d.as_mut(), chunk).expect("shrinks");
    }
}

/// Data made of repeated pieces, so matches and repeat offsets are common.
fn structured() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            prop::collection::vec(any::<u8>(), 1..40).prop_map(|v| (v, 1usize)),
            (
                prop::collection::vec(prop::sample::select(vec![0u8, 0xE8, 1, 0xFF, b'a']), 1..8),
                1usize..40
            ),
        ],
        1..60,
    )
    .prop_map(|parts| {
        let mut out = Vec::new();
        for (piece, times) in parts {
            for _ in 0..times {
                out.extend_from_slice(&piece);
            }
        }
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn structured_round_trips(data in structured(), level in prop::sample::select(LEVELS.to_vec())) {
        let data = &data[..data.len().min(1 << 15)];
        let mut c = new_compressor(Format::Lzx, 1 << 15, level).unwrap();
        let mut d = new_decompressor(Format::Lzx, 1 << 15).unwrap();
        round_trip(c.as_mut(), d.as_mut(), data);
    }

    #[test]
    fn decoder_never_panics_on_garbage(data in prop::collection::vec(any::<u8>(), 0..2000), out_len in 1usize..70000) {
        let mut d = new_decompressor(Format::Lzx, 1 << 17).unwrap();
        let mut out = vec![0u8; out_len];
        let _ = d.decompress(&data, &mut out);
    }

    #[test]
    fn decoder_rejects_or_survives_corrupted_output(seed in any::<u64>(), flips in 1usize..8) {
        let data = text_like(seed, 20_000);
        let mut c = new_compressor(Format::Lzx, 1 << 15, 20).unwrap();
        let mut comp = vec![0u8; data.len()];
        let n = c.compress(&data, &mut comp).unwrap();
        let mut r = lzx_common::Rng::new(seed);
        for _ in 0..flips {
            let i = r.below(n as u64) as usize;
            comp[i] ^= 1 << r.below(8);
        }
        let mut d = new_decompressor(Format::Lzx, 1 << 15).unwrap();
        let mut out = vec![0u8; data.len()];
        let _ = d.decompress(&comp[..n], &mut out);
        // Truncated input is always an error, never a panic.
        prop_assert!(d.decompress(&comp[..n / 2], &mut out).is_err());
    }
}
