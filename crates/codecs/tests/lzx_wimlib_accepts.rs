//! Our LZX chunks, accepted by wimlib: a WIM captured by `wimlib-imagex` is rewritten with every
//! chunk (file data and image metadata) recompressed by our compressor, then `wimlib-imagex
//! verify` (which decompresses everything and checks SHA-1s) and `apply` must succeed and give
//! back the captured files. Levels 1, 20, 50, 100; chunk sizes 32 KiB, 1 MiB, 2 MiB.
//!
//! Needs `wimlib-imagex` (Debian package `wimtools`).

mod lzx_common;

use lzx_common::*;
use tsmedia_codecs::{Format, new_compressor, new_decompressor};

fn files() -> Vec<(String, Vec<u8>)> {
    vec![
        ("text.txt".into(), text_like(11, 1_200_000)),
        ("code.exe".into(), x86_like(12, 2_300_000)),
        ("random.bin".into(), random_bytes(13, 70_000)),
        ("mixed.bin".into(), {
            let mut v = x86_like(14, 100_000);
            v.extend(vec![0u8; 100_000]);
            v.extend(text_like(15, 100_000));
            v
        }),
        ("tiny.txt".into(), b"tiny tiny tiny tiny".to_vec()),
    ]
}

fn check(level: u32, chunk: usize) {
    let dir = std::env::temp_dir().join(format!(
        "tsmedia-lzx-acc-{}-{level}-{chunk}",
        std::process::id()
    ));
    let src = dir.join("src");
    std::fs::create_dir_all(&src).unwrap();
    let files = files();
    for (name, data) in &files {
        std::fs::write(src.join(name), data).unwrap();
    }
    let theirs = dir.join("theirs.wim");
    let ours = dir.join("ours.wim");
    wimlib(&[
        "capture",
        src.to_str().unwrap(),
        theirs.to_str().unwrap(),
        "--compress=LZX:20",
        &format!("--chunk-size={chunk}"),
    ]);
    let mut d = new_decompressor(Format::Lzx, chunk).unwrap();
    let mut c = new_compressor(Format::Lzx, chunk, level).unwrap();
    let mut ours_chunks = 0;
    rewrite_wim(
        &theirs,
        &ours,
        |stored, size| {
            let mut out = vec![0u8; size];
            d.decompress(stored, &mut out).unwrap();
            out
        },
        |plain| {
            let mut out = vec![0u8; plain.len()];
            let n = c.compress(plain, &mut out)?;
            ours_chunks += 1;
            out.truncate(n);
            Some(out)
        },
    );
    assert!(ours_chunks > 3);
    wimlib(&["verify", ours.to_str().unwrap()]);
    let dest = dir.join("dest");
    wimlib(&["apply", ours.to_str().unwrap(), "1", dest.to_str().unwrap()]);
    for (name, data) in &files {
        assert!(
            std::fs::read(dest.join(name)).unwrap() == *data,
            "{name} differs after apply"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn wimlib_accepts_our_fast_levels() {
    for chunk in [1 << 15, 1 << 20, 1 << 21] {
        check(1, chunk);
        check(20, chunk);
    }
}

#[test]
fn wimlib_accepts_our_default_and_max_levels() {
    for chunk in [1 << 15, 1 << 20, 1 << 21] {
        check(50, chunk);
        check(100, chunk);
    }
}
