//! Single-thread XPRESS speed and ratio on 32 MB of text-like and binary-like data, compared
//! with wimlib's stored size for the same data. Prints figures; asserts only correctness.
//!
//! `cargo test -p tsmedia-codecs --release --test xpress_bench -- --ignored --nocapture`
//! (needs `wimlib-imagex`, Debian package `wimtools`).

mod common;

use std::fs;
use std::process::Command;

use tsmedia_codecs::{Format, new_compressor, new_decompressor};

const SIZE: usize = 32 << 20;

/// User + system CPU time of waited-for children in seconds (clock ticks of 10 ms).
fn children_cpu_seconds() -> f64 {
    let s = fs::read_to_string("/proc/self/stat").expect("stat");
    // Fields after the parenthesised command name; cutime and cstime are fields 16 and 17.
    let rest = &s[s.rfind(')').expect("comm") + 2..];
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    (f[13] + f[14]) as f64 / 100.0
}

/// Compresses `data` in chunks like a WIM writer, into one preallocated buffer; returns the
/// stored resource size (chunk table included), the buffer and each chunk's stored range.
fn compress_resource(
    data: &[u8],
    chunk_size: usize,
    level: u32,
) -> (usize, Vec<u8>, Vec<std::ops::Range<usize>>) {
    let mut c = new_compressor(Format::Xpress, chunk_size, level).expect("compressor");
    let mut out = vec![0u8; data.len()];
    let mut ranges = Vec::with_capacity(data.len() / chunk_size + 1);
    let mut at = 0;
    for chunk in data.chunks(chunk_size) {
        let n = match c.compress(chunk, &mut out[at..at + chunk.len()]) {
            Some(n) => n,
            None => {
                out[at..at + chunk.len()].copy_from_slice(chunk);
                chunk.len()
            }
        };
        ranges.push(at..at + n);
        at += n;
    }
    (at + 4 * (ranges.len() - 1), out, ranges)
}

/// wimlib's stored size for `data` captured alone at the given settings, and the capture time.
fn wimlib_stored_size(data: &[u8], chunk_size: usize, compress: &str) -> (u64, f64) {
    let dir = std::env::temp_dir().join(format!("tsmedia-xpress-bench-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("src")).expect("mkdir");
    fs::write(dir.join("src/data"), data).expect("write");
    let wim = dir.join("out.wim");
    let start = children_cpu_seconds();
    let status = Command::new("wimlib-imagex")
        .args([
            "capture",
            dir.join("src").to_str().expect("utf-8"),
            wim.to_str().expect("utf-8"),
        ])
        .arg(format!("--compress={compress}"))
        .arg(format!("--chunk-size={chunk_size}"))
        .arg("--threads=1")
        .output()
        .expect("run wimlib-imagex (Debian package `wimtools`)");
    let secs = children_cpu_seconds() - start;
    assert!(status.status.success(), "wimlib-imagex failed");
    let w = fs::read(&wim).expect("read wim");
    let off = u64::from_le_bytes(w[0x38..0x40].try_into().expect("8")) as usize;
    let mut len = [0u8; 8];
    len[..7].copy_from_slice(&w[0x30..0x37]);
    let table = &w[off..off + u64::from_le_bytes(len) as usize];
    let _ = fs::remove_dir_all(&dir);
    let stored = table
        .chunks_exact(50)
        .find(|e| u64::from_le_bytes(e[16..24].try_into().expect("8")) == data.len() as u64)
        .map(|e| {
            let mut s = [0u8; 8];
            s[..7].copy_from_slice(&e[..7]);
            u64::from_le_bytes(s)
        })
        .expect("blob of the data");
    (stored, secs)
}

fn bench(name: &str, data: &[u8]) {
    if let Some(dir) = std::env::var_os("XPRESS_BENCH_DUMP") {
        fs::write(std::path::Path::new(&dir).join(name), data).expect("dump data");
    }
    let mb = data.len() as f64 / 1e6;
    // XPRESS_BENCH_QUICK=1: only the default setting, without wimlib.
    let quick = std::env::var_os("XPRESS_BENCH_QUICK").is_some();
    // XPRESS_BENCH_LEVEL=n: the level of the quick run (default 50).
    let quick_level = std::env::var("XPRESS_BENCH_LEVEL")
        .ok()
        .and_then(|v| v.parse().ok());
    let settings: Vec<(usize, u32)> = if quick {
        vec![(32768, quick_level.unwrap_or(50))]
    } else {
        vec![
            (32768, 50),
            (32768, 20),
            (32768, 80),
            (32768, 100),
            (65536, 50),
            (4096, 50),
        ]
    };
    for (chunk_size, level) in settings {
        // Best of three: the machine is shared.
        let mut ctime = f64::MAX;
        let (mut ours, mut out_buf, mut ranges) = (0, Vec::new(), Vec::new());
        for _ in 0..3 {
            let start = common::thread_cpu_seconds();
            (ours, out_buf, ranges) = compress_resource(data, chunk_size, level);
            ctime = ctime.min(common::thread_cpu_seconds() - start);
        }

        let mut d = new_decompressor(Format::Xpress, chunk_size).expect("decompressor");
        let mut out = vec![0; data.len()];
        let mut dtime = f64::MAX;
        for _ in 0..3 {
            let start = common::thread_cpu_seconds();
            for (range, dst) in ranges.iter().zip(out.chunks_mut(chunk_size)) {
                let chunk = &out_buf[range.clone()];
                if chunk.len() == dst.len() {
                    dst.copy_from_slice(chunk);
                } else {
                    d.decompress(chunk, dst).expect("round trip");
                }
            }
            dtime = dtime.min(common::thread_cpu_seconds() - start);
        }
        assert!(out == data, "round trip");

        let (theirs, wtime) = if quick {
            (ours as u64, 0.0)
        } else {
            wimlib_stored_size(data, chunk_size, &format!("XPRESS:{level}"))
        };
        println!(
            "{name:7} chunk {chunk_size:5} level {level:3}: ratio {:.4}, compress {:6.1} MB/s, \
             decompress {:6.1} MB/s | wimlib {theirs} bytes (ours/wimlib {:.4}), capture {:.2} s \
             CPU",
            ours as f64 / data.len() as f64,
            mb / ctime,
            mb / dtime,
            ours as f64 / theirs as f64,
            wtime,
        );
    }
}

#[test]
#[ignore = "benchmark: run with --release --ignored --nocapture"]
fn xpress_speed_and_ratio() {
    bench("text", &common::text_like(SIZE, 42));
    bench("binary", &common::binary_like(SIZE, 43));
}
