//! Fuzzes the `key=value` reader of `SMS/data/TsmBootstrap.ini` and `MediaLabel.txt`, the first
//! files the runtime and the PE read from media they found (the runtime's `Bootstrap::parse`
//! is a lookup over these pairs). Any error is fine; a panic, hang or huge allocation is not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsmedia_mediafmt::variables;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let kv = variables::key_values(&text);
    for (k, v) in &kv {
        // What the readers do with the pairs: case-insensitive keys, numbers, booleans.
        let _ = k.eq_ignore_ascii_case("MediaType");
        let _ = v.parse::<u32>();
        let _ = v.eq_ignore_ascii_case("true");
    }
});
