//! Benchmark (ignored; run with `cargo test -p tsmedia-codecs --release --test lzx_bench --
//! --ignored --nocapture`): single-thread speed (CPU time, from /proc) and compressed size of our LZX levels against
//! `wimlib-imagex capture --threads=1` on the same data, in 32 KiB chunks (WIM's default).
//!
//! Corpora: text-like and x86-like generated data, and real files from this machine
//! (`/usr/bin`, `/usr/lib/x86_64-linux-gnu`, `/usr/share/doc`, ...) up to `LZX_BENCH_MB`
//! (default 32) MiB, or from `LZX_BENCH_DIR`; files from 8 MiB on are left out unless
//! `LZX_BENCH_MAX_FILE_MB` raises that bound, and `LZX_BENCH_DEDUP=1` keeps one of identical
//! files (as a WIM stores them; e.g. the WIM benchmark's whole corpus: `LZX_BENCH_DIR=
//! target/bench-corpus LZX_BENCH_MB=400 LZX_BENCH_MAX_FILE_MB=64 LZX_BENCH_DEDUP=1`).
//! `LZX_BENCH_COMPRESS_ROUNDS=N` keeps the fastest of N compression rounds.
//! Prints numbers; asserts only correctness.

mod common;
mod lzx_common;

use lzx_common::*;
use std::path::Path;
use tsmedia_codecs::{Format, new_compressor, new_decompressor};

fn real_files(limit: usize) -> Vec<Vec<u8>> {
    let mut files = Vec::new();
    let mut total = 0;
    let max_file: u64 = std::env::var("LZX_BENCH_MAX_FILE_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(8 << 20, |mb: u64| (mb << 20) + 1);
    let dedup = std::env::var("LZX_BENCH_DEDUP").is_ok_and(|v| v == "1");
    let mut seen = std::collections::HashSet::new();
    // LZX_BENCH_DIR replaces the default directories (e.g. the WIM benchmark's corpus).
    let dirs: Vec<String> = match std::env::var("LZX_BENCH_DIR") {
        Ok(d) => vec![d],
        Err(_) => [
            "/usr/share/doc",
            "/usr/bin",
            "/usr/lib/x86_64-linux-gnu",
            "/usr/share/perl",
            "/usr/lib/python3",
        ]
        .map(String::from)
        .to_vec(),
    };
    let mut stack: Vec<std::path::PathBuf> = dirs.iter().map(|p| p.into()).collect();
    stack.reverse();
    while let Some(p) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            let mut entries: Vec<_> = std::fs::read_dir(&p)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .collect();
            entries.sort();
            entries.reverse();
            stack.extend(entries);
        } else if meta.is_file()
            && meta.len() > 0
            && meta.len() < max_file
            && !p.extension().is_some_and(|e| {
                ["gz", "xz", "bz2", "zst", "png", "jpg", "zip"]
                    .iter()
                    .any(|x| e == *x)
            })
            && let Ok(d) = std::fs::read(&p)
            && (!dedup || seen.insert(d.clone()))
        {
            total += d.len();
            files.push(d);
            if total >= limit {
                break;
            }
        }
    }
    files
}

fn ours(files: &[Vec<u8>], level: u32, chunk: usize) -> (usize, f64, f64) {
    let mut c = new_compressor(Format::Lzx, chunk, level).unwrap();
    let mut d = new_decompressor(Format::Lzx, chunk).unwrap();
    let mut out = vec![0u8; chunk];
    let mut comp: Vec<(Vec<u8>, usize)> = Vec::new();
    // LZX_BENCH_COMPRESS_ROUNDS=N compresses everything N times and keeps the fastest round
    // (steadier on a shared machine).
    let rounds: u32 = std::env::var("LZX_BENCH_COMPRESS_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let mut size = 0;
    let mut ct = f64::MAX;
    for _ in 0..rounds.max(1) {
        comp.clear();
        size = 0;
        let t = common::thread_cpu_seconds();
        for f in files {
            for ch in f.chunks(chunk) {
                match c.compress(ch, &mut out) {
                    Some(n) => {
                        size += n;
                        comp.push((out[..n].to_vec(), ch.len()));
                    }
                    None => size += ch.len(),
                }
            }
        }
        ct = ct.min(common::thread_cpu_seconds() - t);
    }
    let t = common::thread_cpu_seconds();
    let mut back = vec![0u8; chunk];
    // Five rounds by default (the time of one is short). LZX_BENCH_DECOMPRESS_ROUNDS=0
    // leaves decompression out (when profiling the compressor).
    let rounds: u32 = std::env::var("LZX_BENCH_DECOMPRESS_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    for _ in 0..rounds {
        for (cdata, len) in &comp {
            d.decompress(cdata, &mut back[..*len]).unwrap();
        }
    }
    let dt = (common::thread_cpu_seconds() - t) / f64::from(rounds.max(1));
    (size, ct, dt)
}

fn theirs(files: &[Vec<u8>], level: u32, chunk: usize, dir: &Path) -> (usize, f64, f64) {
    let src = dir.join("src");
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(&src).unwrap();
    for (i, f) in files.iter().enumerate() {
        // A unique prefix keeps identical files from being deduplicated away.
        let mut d = (i as u64).to_le_bytes().to_vec();
        d.extend_from_slice(f);
        std::fs::write(src.join(format!("f{i}")), d).unwrap();
    }
    let wim = dir.join("w.wim");
    // The shell's stat reports the CPU time of its waited-for children: wimlib's.
    let script = format!(
        "wimlib-imagex capture '{}' '{}' --compress=LZX:{level} --chunk-size={chunk} --threads=1 --no-acls >/dev/null && cat /proc/$$/stat",
        src.display(),
        wim.display()
    );
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "wimlib-imagex (package wimtools) failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stat = String::from_utf8(out.stdout).unwrap();
    let f: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    // Fields 16 and 17 (cutime, cstime) are at 13 and 14 after the command name.
    let secs =
        (f[13].trim().parse::<f64>().unwrap() + f[14].trim().parse::<f64>().unwrap()) / 100.0;
    let w = read_wim(&wim);
    let size = w
        .resources
        .iter()
        .filter(|r| r.flags & 0x02 == 0)
        .flat_map(|r| r.chunks.iter().map(|(s, _)| s.len()))
        .sum();
    // Decompression: `verify` decompresses every resource (and checks its SHA-1).
    let script = format!(
        "wimlib-imagex verify '{}' >/dev/null 2>&1 && cat /proc/$$/stat",
        wim.display()
    );
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "wimlib-imagex verify failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stat = String::from_utf8(out.stdout).unwrap();
    let f: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let dsecs =
        (f[13].trim().parse::<f64>().unwrap() + f[14].trim().parse::<f64>().unwrap()) / 100.0;
    (size, secs, dsecs)
}

#[test]
#[ignore = "benchmark: prints numbers"]
fn lzx_bench() {
    let mb: usize = std::env::var("LZX_BENCH_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(32);
    let levels: Vec<u32> = std::env::var("LZX_BENCH_LEVELS")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.parse().ok()).collect())
        .unwrap_or_else(|| vec![20, 50, 100]);
    let with_wimlib = std::env::var("LZX_BENCH_NO_WIMLIB").is_err();
    let chunk = std::env::var("LZX_BENCH_CHUNK")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1 << 15);
    let only = std::env::var("LZX_BENCH_CORPUS").unwrap_or_default();
    let mut corpora: Vec<(&str, Vec<Vec<u8>>)> = Vec::new();
    if only.is_empty() || only == "text" {
        corpora.push(("text-like", vec![text_like(1, 8 << 20)]));
    }
    if only.is_empty() || only == "x86" {
        corpora.push(("x86-like", vec![x86_like(2, 8 << 20)]));
    }
    if only.is_empty() || only == "real" {
        corpora.push(("real files", real_files(mb << 20)));
    }
    let dir = std::env::temp_dir().join(format!("tsmedia-lzx-bench-{}", std::process::id()));
    for (name, files) in &corpora {
        let total: usize = files.iter().map(|f| f.len()).sum();
        let mbs = total as f64 / 1e6;
        println!(
            "== {name}: {} files, {:.1} MB, chunk {chunk}",
            files.len(),
            mbs
        );
        for &level in &levels {
            let (size, ct, dt) = ours(files, level, chunk);
            print!(
                "ours   LZX:{level:<3} {size:>11} B ({:.4}) compress {:6.1} MB/s  decompress {:6.1} MB/s",
                size as f64 / total as f64,
                mbs / ct,
                mbs / dt
            );
            if with_wimlib {
                let (wsize, wt, wdt) = theirs(files, level, chunk, &dir);
                println!(
                    " | wimlib {wsize:>11} B ({:.4}) {:6.1} MB/s, verify {:6.1} MB/s | size ratio {:.4} time ratio {:.2}",
                    wsize as f64 / total as f64,
                    mbs / wt,
                    mbs / wdt,
                    size as f64 / wsize as f64,
                    ct / wt
                );
            } else {
                println!();
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
