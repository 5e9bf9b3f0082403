use super::*;
use crate::{Compressor, DecodeError, Decompressor};

/// Text-like sample: words from a small vocabulary with numbers, deterministic.
fn text(len: usize, seed: u64) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "the",
        "image",
        "deployment",
        "task",
        "sequence",
        "boot",
        "media",
        "driver",
        "package",
        "install",
        "windows",
        "error",
        "0x80070002",
        "success",
        "log",
        "step",
        "\n",
        ", ",
    ];
    let mut s = seed | 1;
    let mut out = Vec::with_capacity(len + 16);
    while out.len() < len {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        out.extend_from_slice(WORDS[(s % WORDS.len() as u64) as usize].as_bytes());
        if s.is_multiple_of(5) {
            out.extend_from_slice(format!("{}", s % 100_000).as_bytes());
        }
        out.push(b' ');
    }
    out.truncate(len);
    out
}

fn roundtrip(data: &[u8], level: u32) -> Option<usize> {
    let mut c = XpressCompressor::new(1 << 16, level);
    let mut d = XpressDecompressor::new(1 << 16);
    let mut buf = vec![0; data.len()];
    let n = c.compress(data, &mut buf)?;
    assert!(n < data.len());
    let mut out = vec![0; data.len()];
    d.decompress(&buf[..n], &mut out)
        .expect("own output decodes");
    assert!(out == data, "round trip differs");
    Some(n)
}

#[test]
fn text_round_trips_at_each_parser() {
    let data = text(32768, 7);
    for level in [1, 10, 29, 30, 50, 100] {
        let n = roundtrip(&data, level).expect("text compresses");
        assert!(n < data.len() / 2, "level {level}: {n}");
    }
}

#[test]
fn long_runs_use_length_escapes() {
    // 1-byte, u16 escapes and a run covering the whole chunk.
    let mut data = vec![b'a'; 300];
    data.extend(text(1000, 3));
    data.extend(std::iter::repeat_n(b'z', 20));
    data.extend(std::iter::repeat_n(b'q', 40000));
    data.extend(text(500, 4));
    roundtrip(&data, 50).expect("compresses");
    roundtrip(&vec![0u8; 65536], 50).expect("compresses");
    roundtrip(&vec![0u8; 65536], 1).expect("compresses");
}

#[test]
fn truncated_stream_is_an_error() {
    let data = text(20000, 9);
    let mut c = XpressCompressor::new(1 << 16, 50);
    let mut buf = vec![0; data.len()];
    let n = c.compress(&data, &mut buf).expect("compresses");
    let mut d = XpressDecompressor::new(1 << 16);
    let mut out = vec![0; data.len()];
    for cut in [0, 100, 255, 256, 257, 300, n / 2, n - 8] {
        assert!(d.decompress(&buf[..cut], &mut out).is_err(), "cut at {cut}");
    }
}

#[test]
fn bad_tables_are_rejected() {
    let mut d = XpressDecompressor::new(1 << 16);
    let mut out = [0u8; 16];
    // All lengths 1: oversubscribed.
    assert_eq!(
        d.decompress(&[0x11; 300], &mut out),
        Err(DecodeError::BadHuffmanCode)
    );
    // Empty code with output to produce.
    assert_eq!(
        d.decompress(&[0; 300], &mut out),
        Err(DecodeError::BadHuffmanCode)
    );
    // Incomplete: one symbol of length 1.
    let mut input = [0u8; 300];
    input[0] = 0x01;
    assert_eq!(
        d.decompress(&input, &mut out),
        Err(DecodeError::BadHuffmanCode)
    );
}

#[test]
fn match_before_start_is_rejected() {
    // Symbols 'a' (0x61) and 256 (match length 3, offset 1) of length 1: bit 0 = 'a', 1 = match.
    let mut input = vec![0u8; TABLE_SIZE];
    input[0x61 / 2] = 0x10;
    input[128] = 0x01;
    // Bits: match first, then offset has no bits (log 0).
    input.extend_from_slice(&[0x00, 0x80, 0, 0, 0, 0]);
    let mut d = XpressDecompressor::new(1 << 16);
    let mut out = [0u8; 4];
    assert_eq!(
        d.decompress(&input, &mut out),
        Err(DecodeError::OffsetTooFar {
            position: 0,
            offset: 1
        })
    );
    // 'a' then the match: "aaaa".
    input[TABLE_SIZE..TABLE_SIZE + 2].copy_from_slice(&0x4000u16.to_le_bytes());
    d.decompress(&input, &mut out).expect("valid");
    assert_eq!(&out, b"aaaa");
    // Same but one byte too short an output: the match overruns.
    let mut out = [0u8; 3];
    assert_eq!(
        d.decompress(&input, &mut out),
        Err(DecodeError::Overrun { expected: 3 })
    );
}

/// Decodes the symbols of a compressed chunk of `len` bytes, then the one after them.
fn symbols_then_next(chunk: &[u8], len: usize) -> (Vec<u32>, u32) {
    use crate::bitio::BitReader;
    use crate::huffman::DecodeTable;
    let mut lens = [0u8; NUM_SYMBOLS];
    for (i, &b) in chunk[..TABLE_SIZE].iter().enumerate() {
        lens[2 * i] = b & 0xF;
        lens[2 * i + 1] = b >> 4;
    }
    let mut table = DecodeTable::new(NUM_SYMBOLS, 10, MAX_CODEWORD_LEN);
    table.build(&lens).expect("valid code");
    let mut bits = BitReader::new(&chunk[TABLE_SIZE..]);
    let mut syms = Vec::new();
    let mut produced = 0;
    loop {
        bits.refill();
        let (sym, l) = table.decode(bits.peek());
        bits.consume(l);
        if produced == len {
            return (syms, sym);
        }
        syms.push(sym);
        if sym < 256 {
            produced += 1;
            continue;
        }
        let mut adjusted = (sym - 256) as usize & 0xF;
        if adjusted == 0xF {
            bits.align_for_bytes();
            let b = bits.read_u8().expect("length byte");
            adjusted = if b == 0xFF {
                usize::from(bits.read_u16().expect("length u16"))
            } else {
                0xF + usize::from(b)
            };
        }
        bits.pop((sym - 256) >> 4);
        produced += adjusted + MIN_MATCH_LEN;
    }
}

#[test]
fn chunks_end_with_the_end_of_data_symbol() {
    for level in [1, 50, 100] {
        for data in [text(30_000, 11), vec![9u8; 5000]] {
            let mut c = XpressCompressor::new(1 << 16, level);
            let mut buf = vec![0; data.len()];
            let n = c.compress(&data, &mut buf).expect("compresses");
            let (syms, next) = symbols_then_next(&buf[..n], data.len());
            assert!(!syms.is_empty());
            assert_eq!(next as usize, END_OF_DATA, "level {level}");
        }
    }
}
