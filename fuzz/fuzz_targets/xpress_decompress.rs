//! Arbitrary bytes as an XPRESS chunk: decoding must return an error or fill the output,
//! never panic or touch memory outside its buffers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsmedia_codecs::{Format, new_decompressor};

fuzz_target!(|data: &[u8]| {
    // The first two bytes choose the output size, the rest is the chunk.
    let (size, chunk) = match data {
        [a, b, rest @ ..] => (usize::from(u16::from_le_bytes([*a, *b])) + 1, rest),
        _ => return,
    };
    let mut d = new_decompressor(Format::Xpress, 1 << 16).expect("64 KiB is a valid chunk size");
    for len in [size, 1, 4096, 65536] {
        let mut out = vec![0u8; len];
        let _ = d.decompress(chunk, &mut out);
    }
});
