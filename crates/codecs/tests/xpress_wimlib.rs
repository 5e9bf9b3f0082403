//! wimlib as the oracle for XPRESS, both directions.
//!
//! 1. wimlib → us: `wimlib-imagex capture --compress=XPRESS` at several chunk sizes and levels;
//!    every chunk of every resource must decompress with our decoder to the captured bytes.
//! 2. us → wimlib: our compressed chunks are written over wimlib's (where they fit; decoders
//!    ignore bytes after the end of the data) and `wimlib-imagex apply` must reproduce the files,
//!    which it checks against their SHA-1s.
//!
//! Needs `wimlib-imagex` (Debian package `wimtools`).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use tsmedia_codecs::{Format, new_compressor, new_decompressor};

const RESHDR_COMPRESSED: u8 = 0x04;
const RESHDR_METADATA: u8 = 0x02;

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let path =
            std::env::temp_dir().join(format!("tsmedia-xpress-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The files to capture: name → content.
fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut files = vec![
        ("empty".to_string(), Vec::new()),
        ("one".to_string(), b"x".to_vec()),
        ("small.txt".to_string(), common::text_like(30, 1)),
        ("text.log".to_string(), common::text_like(300_000, 2)),
        ("binary.bin".to_string(), common::binary_like(200_000, 3)),
        ("random.bin".to_string(), common::random(100_000, 4)),
        ("zeros.bin".to_string(), vec![0; 150_000]),
    ];
    let mut mixed = common::text_like(70_000, 5);
    mixed.extend(common::random(140_000, 6));
    mixed.extend(std::iter::repeat_n(b"abcabcabd".as_slice(), 5000).flatten());
    files.push(("mixed.bin".to_string(), mixed));
    for i in 0..12u64 {
        let len = 200 + (i as usize * 3331) % 20_000;
        files.push((format!("t{i}.txt"), common::text_like(len, 100 + i)));
    }
    files
}

fn write_corpus(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let files = corpus();
    for (name, data) in &files {
        fs::write(dir.join(name), data).expect("write corpus file");
    }
    files
}

fn wimlib_imagex(args: &[&str]) {
    let out = Command::new("wimlib-imagex")
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run wimlib-imagex ({e}); install the Debian package `wimtools`")
        });
    assert!(
        out.status.success(),
        "wimlib-imagex {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

/// A resource header: stored size, flags, offset, uncompressed size.
#[derive(Debug, Clone, Copy)]
struct Reshdr {
    stored: u64,
    flags: u8,
    offset: u64,
    size: u64,
}

fn reshdr(b: &[u8]) -> Reshdr {
    let mut stored = [0u8; 8];
    stored[..7].copy_from_slice(&b[..7]);
    Reshdr {
        stored: u64::from_le_bytes(stored),
        flags: b[7],
        offset: u64_at(b, 8),
        size: u64_at(b, 16),
    }
}

/// One chunk of a compressed resource: where it is stored and its uncompressed size.
#[derive(Debug, Clone, Copy)]
struct Chunk {
    at: usize,
    stored: usize,
    size: usize,
}

fn chunks(wim: &[u8], r: Reshdr, chunk_size: usize) -> Vec<Chunk> {
    if r.flags & RESHDR_COMPRESSED == 0 {
        return Vec::new();
    }
    let size = r.size as usize;
    let n = size.div_ceil(chunk_size);
    assert!(
        r.size <= u64::from(u32::MAX),
        "test data uses 4-byte chunk table entries"
    );
    let table_len = 4 * (n - 1);
    let start = r.offset as usize;
    let mut offsets = vec![0usize];
    offsets.extend((0..n - 1).map(|i| u32_at(wim, start + 4 * i) as usize));
    offsets.push(r.stored as usize - table_len);
    (0..n)
        .map(|i| Chunk {
            at: start + table_len + offsets[i],
            stored: offsets[i + 1] - offsets[i],
            size: chunk_size.min(size - i * chunk_size),
        })
        .collect()
}

/// The blob table entries of a WIM: resource header and flags.
fn blobs(wim: &[u8]) -> Vec<Reshdr> {
    assert_eq!(&wim[..8], b"MSWIM\0\0\0", "WIM magic");
    let table = reshdr(&wim[0x30..0x48]);
    assert_eq!(
        table.flags & RESHDR_COMPRESSED,
        0,
        "blob table is stored uncompressed"
    );
    let t = &wim[table.offset as usize..(table.offset + table.stored) as usize];
    t.chunks_exact(50).map(|e| reshdr(&e[..24])).collect()
}

/// Decompresses every resource of `wim` with our decoder; returns the file blobs' contents and
/// counts of (compressed, raw) chunks.
fn read_all(wim: &[u8]) -> (Vec<Vec<u8>>, usize, usize) {
    let chunk_size = u32_at(wim, 0x14) as usize;
    assert_ne!(u32_at(wim, 0x10) & 0x20000, 0, "XPRESS flag set");
    let mut d = new_decompressor(Format::Xpress, chunk_size).expect("decompressor");
    let (mut compressed, mut raw) = (0, 0);
    let mut contents = Vec::new();
    for r in blobs(wim) {
        let mut data = Vec::with_capacity(r.size as usize);
        if r.flags & RESHDR_COMPRESSED == 0 {
            // wimlib stores resources that do not shrink (tiny ones) uncompressed.
            assert_eq!(r.stored, r.size, "uncompressed resource {r:?}");
            data.extend_from_slice(&wim[r.offset as usize..(r.offset + r.size) as usize]);
        }
        for c in chunks(wim, r, chunk_size) {
            let stored = &wim[c.at..c.at + c.stored];
            if c.stored == c.size {
                raw += 1;
                data.extend_from_slice(stored);
            } else {
                compressed += 1;
                let mut out = vec![0; c.size];
                d.decompress(stored, &mut out)
                    .unwrap_or_else(|e| panic!("chunk at {:#x} of {r:?}: {e}", c.at));
                data.extend_from_slice(&out);
            }
        }
        if r.flags & RESHDR_METADATA == 0 {
            contents.push(data);
        }
    }
    (contents, compressed, raw)
}

#[test]
fn we_decompress_what_wimlib_compresses() {
    let tmp = TempDir::new("read");
    let src = tmp.0.join("src");
    fs::create_dir(&src).expect("mkdir");
    let files = write_corpus(&src);
    let mut expected: Vec<&Vec<u8>> = files
        .iter()
        .map(|(_, d)| d)
        .filter(|d| !d.is_empty())
        .collect();
    expected.sort();
    expected.dedup();

    let settings = [
        (4096, "XPRESS"),
        (8192, "XPRESS"),
        (16384, "XPRESS:20"),
        (32768, "XPRESS"),
        (32768, "XPRESS:80"),
        (65536, "XPRESS"),
        (65536, "XPRESS:100"),
    ];
    for (chunk_size, compress) in settings {
        let wim_path = tmp.0.join(format!("{chunk_size}-{compress}.wim"));
        wimlib_imagex(&[
            "capture",
            src.to_str().expect("utf-8 path"),
            wim_path.to_str().expect("utf-8 path"),
            &format!("--compress={compress}"),
            &format!("--chunk-size={chunk_size}"),
        ]);
        let wim = fs::read(&wim_path).expect("read wim");
        let (mut got, compressed, raw) = read_all(&wim);
        got.sort();
        let got: Vec<&Vec<u8>> = got.iter().collect();
        assert!(
            got == expected,
            "{chunk_size} {compress}: blob contents differ from the files"
        );
        assert!(
            compressed > 20 && raw > 0,
            "{chunk_size}: {compressed} compressed, {raw} raw"
        );
    }
}

#[test]
fn wimlib_decompresses_what_we_compress() {
    let tmp = TempDir::new("write");
    let src = tmp.0.join("src");
    fs::create_dir(&src).expect("mkdir");
    let files = write_corpus(&src);
    // wimlib's greedy level 1 leaves room in most chunks for ours.
    for (chunk_size, level) in [(4096, 50), (32768, 50), (32768, 10), (65536, 100)] {
        let wim_path = tmp.0.join(format!("{chunk_size}-{level}.wim"));
        wimlib_imagex(&[
            "capture",
            src.to_str().expect("utf-8 path"),
            wim_path.to_str().expect("utf-8 path"),
            "--compress=XPRESS:1",
            &format!("--chunk-size={chunk_size}"),
        ]);
        let mut wim = fs::read(&wim_path).expect("read wim");
        let mut c = new_compressor(Format::Xpress, chunk_size, level).expect("compressor");
        let mut d = new_decompressor(Format::Xpress, chunk_size).expect("decompressor");
        let mut replaced = 0;
        let mut out = vec![0; chunk_size];
        let mut plain = vec![0; chunk_size];
        for r in blobs(&wim) {
            for ch in chunks(&wim, r, chunk_size) {
                if ch.stored == ch.size {
                    continue;
                }
                d.decompress(&wim[ch.at..ch.at + ch.stored], &mut plain[..ch.size])
                    .expect("wimlib chunk decodes");
                let Some(n) = c.compress(&plain[..ch.size], &mut out[..ch.size]) else {
                    continue;
                };
                if n <= ch.stored {
                    let slot = &mut wim[ch.at..ch.at + ch.stored];
                    slot[..n].copy_from_slice(&out[..n]);
                    slot[n..].fill(0);
                    replaced += 1;
                }
            }
        }
        assert!(replaced > 20, "only {replaced} chunks replaced");
        fs::write(&wim_path, &wim).expect("write patched wim");
        let dest = tmp.0.join(format!("apply-{chunk_size}-{level}"));
        wimlib_imagex(&[
            "apply",
            wim_path.to_str().expect("utf-8 path"),
            "1",
            dest.to_str().expect("utf-8 path"),
        ]);
        for (name, data) in &files {
            let got = fs::read(dest.join(name)).expect("applied file");
            assert!(
                &got == data,
                "{chunk_size}/{level}: {name} differs after apply"
            );
        }
    }
}
