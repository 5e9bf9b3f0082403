//! wimlib's LZX output, decoded by ours: `wimlib-imagex capture` at levels 20, 50 and 100 with
//! chunk sizes 32 KiB, 1 MiB and 2 MiB; every resource (files and image metadata) must decode,
//! and the file resources must be exactly the captured files.
//!
//! Needs `wimlib-imagex` (Debian package `wimtools`).

mod lzx_common;

use lzx_common::*;
use tsmedia_codecs::{Format, new_decompressor};

fn source_files() -> Vec<(String, Vec<u8>)> {
    vec![
        ("text.txt".into(), text_like(1, 2_500_000)),
        ("code.exe".into(), x86_like(2, 1_300_000)),
        ("small_code.dll".into(), x86_like(3, 40_000)),
        ("random.bin".into(), random_bytes(4, 200_000)),
        ("zeros.bin".into(), vec![0u8; 70_000]),
        ("mixed.bin".into(), {
            let mut v = text_like(5, 300_000);
            v.extend(random_bytes(6, 50_000));
            v.extend(x86_like(7, 300_000));
            v
        }),
        ("tiny.txt".into(), b"hello, hello, hello".to_vec()),
        ("ten.bin".into(), vec![0xE8; 10]),
        (
            "eleven.bin".into(),
            vec![0xE8, 1, 0, 0, 0, 0xE8, 0xE8, 0xE8, 0xE8, 0xE8, 0xE8],
        ),
    ]
}

fn check(level: u32, chunk: usize) {
    let dir = std::env::temp_dir().join(format!(
        "tsmedia-lzx-dec-{}-{level}-{chunk}",
        std::process::id()
    ));
    let src = dir.join("src");
    std::fs::create_dir_all(&src).unwrap();
    let files = source_files();
    for (name, data) in &files {
        std::fs::write(src.join(name), data).unwrap();
    }
    let wim = dir.join("out.wim");
    wimlib(&[
        "capture",
        src.to_str().unwrap(),
        wim.to_str().unwrap(),
        &format!("--compress=LZX:{level}"),
        &format!("--chunk-size={chunk}"),
        "--threads=2",
    ]);
    let w = read_wim(&wim);
    assert_eq!(w.chunk_size, chunk);
    assert_ne!(w.flags & 0x40000, 0, "LZX flag");
    let mut dec = new_decompressor(Format::Lzx, chunk).unwrap();
    let mut found = vec![false; files.len()];
    let mut compressed_chunks = 0;
    for res in &w.resources {
        let mut data = Vec::with_capacity(res.original_size as usize);
        for (stored, size) in &res.chunks {
            if stored.len() == *size {
                data.extend_from_slice(stored);
            } else {
                let mut out = vec![0u8; *size];
                dec.decompress(stored, &mut out)
                    .unwrap_or_else(|e| panic!("level {level} chunk {chunk}: {e}"));
                data.extend_from_slice(&out);
                compressed_chunks += 1;
            }
        }
        if res.flags & 0x02 != 0 {
            continue; // image metadata: decoding without error is the check
        }
        let k = files
            .iter()
            .position(|(_, d)| *d == data)
            .unwrap_or_else(|| {
                panic!(
                    "level {level} chunk {chunk}: decoded blob of {} bytes matches no file",
                    data.len()
                )
            });
        found[k] = true;
    }
    assert!(compressed_chunks > 3);
    for (k, (name, _)) in files.iter().enumerate() {
        assert!(found[k], "{name} missing from the WIM");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn decodes_wimlib_lzx20() {
    for chunk in [1 << 15, 1 << 20, 1 << 21] {
        check(20, chunk);
    }
}

#[test]
fn decodes_wimlib_lzx50() {
    for chunk in [1 << 15, 1 << 20, 1 << 21] {
        check(50, chunk);
    }
}

#[test]
fn decodes_wimlib_lzx100() {
    for chunk in [1 << 15, 1 << 20, 1 << 21] {
        check(100, chunk);
    }
}
