//! Fuzzes the LZMS decompressor: arbitrary input must decode or fail cleanly, never panic or
//! write outside the output. The first two bytes choose the chunk size (2^15..=2^21) and
//! the output length; the rest is the compressed chunk.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsmedia_codecs::{Format, new_decompressor};

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let order = 15 + u32::from(data[0] % 7);
    let chunk = 1usize << order;
    // Output lengths from 1 byte to the whole chunk, biased to small sizes for speed.
    let out_len = match data[1] >> 6 {
        0 => 1 + usize::from(data[1] & 0x3F),
        1 => 1 + (usize::from(data[1] & 0x3F) << 6),
        2 => 1 + (usize::from(data[1] & 0x3F) << 9),
        _ => chunk >> (data[1] & 3),
    }
    .min(chunk);
    let mut d = new_decompressor(Format::Lzms, chunk).expect("valid chunk size");
    let mut out = vec![0u8; out_len];
    let _ = d.decompress(&data[2..], &mut out);
});
