//! Compress arbitrary bytes at a fuzzer-chosen level and chunk size; whatever the compressor
//! emits must decompress to the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsmedia_codecs::{Format, new_compressor, new_decompressor};

fuzz_target!(|data: &[u8]| {
    let Some((&control, input)) = data.split_first() else { return };
    let chunk_size = 4096usize << (control % 5);
    let level = [1, 20, 40, 50, 80, 100][usize::from(control / 5) % 6];
    let input = &input[..input.len().min(chunk_size)];
    let mut c = new_compressor(Format::Xpress, chunk_size, level).expect("valid chunk size");
    let mut packed = vec![0u8; input.len()];
    let Some(n) = c.compress(input, &mut packed) else { return };
    assert!(n < input.len());
    let mut d = new_decompressor(Format::Xpress, chunk_size).expect("valid chunk size");
    let mut out = vec![0u8; input.len()];
    d.decompress(&packed[..n], &mut out).expect("own output decodes");
    assert_eq!(out, input);
});
