//! Round trips and hostile input for LZMS.

use super::*;
use crate::{Compressor, DecodeError, Decompressor};
use proptest::prelude::*;

fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed | 1;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

fn text(len: usize, seed: u64) -> Vec<u8> {
    const WORDS: [&str; 12] = [
        "the ",
        "task ",
        "sequence ",
        "media ",
        "boot ",
        "image ",
        "install ",
        "wim ",
        "of ",
        "and ",
        "Windows ",
        "driver\r\n",
    ];
    let mut r = xorshift(seed);
    let mut v = Vec::with_capacity(len + 16);
    while v.len() < len {
        v.extend_from_slice(WORDS[(r() % 12) as usize].as_bytes());
    }
    v.truncate(len);
    v
}

fn random(len: usize, seed: u64) -> Vec<u8> {
    let mut r = xorshift(seed);
    (0..len).map(|_| r() as u8).collect()
}

/// Code-like data: calls and rip-relative loads to a few targets amid filler.
fn x86_like(len: usize, seed: u64) -> Vec<u8> {
    let mut r = xorshift(seed);
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        let pos = v.len() as i64;
        let target = 0x4000 * ((r() % 8) as i64);
        match r() % 4 {
            0 => {
                v.push(0xE8);
                v.extend_from_slice(&((target - pos) as u32).to_le_bytes());
            }
            1 => {
                v.extend_from_slice(&[0x48, 0x8D, 0x05]);
                v.extend_from_slice(&((target - pos) as u32).to_le_bytes());
            }
            _ => v.extend_from_slice(&[0x55, 0x89, 0xE5, 0x83, 0xEC, (r() % 4) as u8]),
        }
    }
    v.truncate(len);
    v
}

fn round_trip(data: &[u8], chunk: usize, level: u32) -> Option<usize> {
    let mut c = LzmsCompressor::new(chunk, level);
    let mut out = vec![0u8; data.len()];
    let size = c.compress(data, &mut out)?;
    let mut d = LzmsDecompressor::new(chunk);
    let mut back = vec![0u8; data.len()];
    d.decompress(&out[..size], &mut back)
        .expect("own output decodes");
    assert!(back == data, "round trip differs");
    Some(size)
}

#[test]
fn text_compresses_and_round_trips() {
    for level in [1, 50, 100] {
        let data = text(100_000, 7);
        let size = round_trip(&data, 1 << 17, level).expect("text compresses");
        assert!(size < data.len() / 3, "level {level}: {size}");
    }
}

#[test]
fn zeros_and_runs() {
    let size = round_trip(&vec![0u8; 1 << 16], 1 << 16, 50).expect("zeros compress");
    assert!(size < 100, "{size}");
    let data: Vec<u8> = (0..70_000u32).map(|i| (i / 1000) as u8).collect();
    round_trip(&data, 1 << 17, 50).expect("runs compress");
}

#[test]
fn x86_data_round_trips() {
    for seed in 1..4 {
        round_trip(&x86_like(200_000, seed), 1 << 18, 50).expect("code compresses");
    }
}

#[test]
fn random_data_is_stored() {
    assert_eq!(round_trip(&random(1 << 16, 3), 1 << 16, 50), None);
}

#[test]
fn tiny_chunks() {
    for len in [1usize, 2, 3, 8, 9, 17, 18, 40] {
        let data = text(len, len as u64);
        round_trip(&data, 1 << 15, 50);
        let data = vec![b'a'; len];
        round_trip(&data, 1 << 15, 50);
    }
}

#[test]
fn large_chunk() {
    let mut data = text(8 << 20, 11);
    data.extend(x86_like(4 << 20, 5));
    data.extend(random(1 << 20, 5));
    data.extend(text(3 << 20, 12));
    let size = round_trip(&data, 1 << 24, 50).expect("compresses");
    assert!(size < data.len() / 2);
}

#[test]
fn hostile_inputs_fail_cleanly() {
    let data = text(50_000, 3);
    let mut c = LzmsCompressor::new(1 << 16, 50);
    let mut out = vec![0u8; data.len()];
    let size = c.compress(&data, &mut out).expect("compresses");
    let mut d = LzmsDecompressor::new(1 << 16);
    let mut back = vec![0u8; data.len()];
    assert!(d.decompress(&out[..3], &mut back).is_err());
    assert!(d.decompress(&out[..size - 1], &mut back).is_err());
    // Truncations: an error or wrong bytes, never a panic.
    for cut in (4..size).step_by(97) {
        let cut = cut & !1;
        if d.decompress(&out[..cut], &mut back).is_ok() {
            assert_ne!(back, data);
        }
    }
    // Wrong output sizes.
    let mut short = vec![0u8; data.len() - 1000];
    let _ = d.decompress(&out[..size], &mut short);
    let mut too_big = vec![0u8; (1 << 16) + 1];
    assert!(matches!(
        d.decompress(&out[..size], &mut too_big),
        Err(DecodeError::OutputTooLarge { .. })
    ));
    let mut r = xorshift(99);
    for len in [4usize, 6, 100, 4096] {
        for _ in 0..50 {
            let junk: Vec<u8> = (0..len).map(|_| r() as u8).collect();
            let _ = d.decompress(&junk, &mut back);
        }
    }
    // The decoder still works afterwards.
    d.decompress(&out[..size], &mut back).expect("decodes");
    assert_eq!(back, data);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn round_trips(kind in 0u8..4, order in 12u32..=17, fill in 0.0f64..=1.0, seed in any::<u64>(), level in 1u32..=100) {
        let chunk = 1usize << order;
        let len = ((chunk as f64 * fill) as usize).max(1);
        let data = match kind {
            0 => text(len, seed),
            1 => random(len, seed),
            2 => x86_like(len, seed),
            _ => {
                let mut v = text(len / 2, seed);
                v.extend(random(len - len / 2, seed));
                v
            }
        };
        round_trip(&data, chunk, level);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000), out_len in 1usize..5000) {
        let mut d = LzmsDecompressor::new(1 << 15);
        let mut out = vec![0u8; out_len];
        let _ = d.decompress(&bytes, &mut out);
    }
}

#[test]
fn largest_chunk_sizes() {
    // 64 MiB: one chunk of the size wimlib uses for solid resources.
    let data = text(64 << 20, 5);
    let size = round_trip(&data, 64 << 20, 20).expect("compresses");
    assert!(size < data.len() / 4);
}
