//! Project tasks, run as `cargo xtask ...` (alias in `.cargo/config.toml`).
//!
//! - `bench wim`: times `tsmedia wim capture/apply` against `wimlib-imagex` on the deterministic
//!   reference corpus and on the other corpora of `corpora` (real files, synthetic shapes; see
//!   `bench_wim`), prints absolute figures and ours/wimlib ratios per corpus and a summary of
//!   all, and writes a Markdown copy to `target/bench-wim.md`.
//!
//! Everything the tasks write goes under the workspace's `target/` directory unless told otherwise.

mod bench_media;
mod bench_ntfs;
mod bench_wim;
mod corpora;
mod report;
mod run;
mod tree;
mod wim_tables;

use anyhow::{Context, Result, bail};
use bench_wim::{BenchOptions, FormatSpec};
use std::path::PathBuf;

const USAGE: &str = "\
usage: cargo xtask bench wim [OPTIONS]
       cargo xtask bench media [--runs N] [--threads N] [--markdown]
       cargo xtask bench ntfs [--runs N] [--markdown]

Times tsmedia against wimlib-imagex on a deterministic ~306 MB corpus (capture and apply).
`bench media` builds prestaged and stand-alone ISO media holding the same corpus and times
them against `wimlib-imagex capture` and `xorriso -as mkisofs` of the same staged trees.
`bench ntfs` applies the corpus's WIM onto an NTFS volume image with `tsmedia wim apply` and
`wimlib-imagex apply` (NTFS-3G mode), as root.

options:
  --corpus-dir DIR     corpus location (default: target/bench-corpus, generated when missing)
  --skip-generate      use the corpus directory as it is, never (re)generate it
  --runs N             timed runs per measurement, median reported (default: 3)
  --threads N          compression threads for both tools (default: all cores)
  --formats LIST       comma-separated: none, xpress[:L], lzx[:L], lzms[:L], solid
                       (default: none,xpress,lzx,lzx:20)
  --corpora LIST       comma-separated, measured in turn, then summarised (default: reference):
                       reference, usrlib, debs, json, series, source, tiny
  --markdown           print the tables as Markdown (always written to target/bench-wim.md)
  --apply-dir DIR      where applied trees go (default: /dev/shm when it has room, so the
                       figures hold the tools' work and not the disk's inode allocator)
  -h, --help           this text";

fn main() {
    if let Err(e) = real_main() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn real_main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["bench", "wim", rest @ ..] => bench_wim::run(&parse_bench(rest)?),
        ["bench", "media", rest @ ..] => bench_media::run(&parse_bench(rest)?),
        ["bench", "ntfs", rest @ ..] => bench_ntfs::run(&parse_bench(rest)?),
        ["-h" | "--help" | "help"] | [] => {
            println!("{USAGE}");
            Ok(())
        }
        _ => bail!("unknown task {:?}\n\n{USAGE}", args.join(" ")),
    }
}

fn parse_bench(args: &[&str]) -> Result<BenchOptions> {
    let mut o = BenchOptions::default();
    let mut it = args.iter();
    while let Some(&a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (a, None),
        };
        let mut value = || -> Result<String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => it
                    .next()
                    .map(|s| s.to_string())
                    .with_context(|| format!("{flag} needs a value")),
            }
        };
        match flag {
            "--corpus-dir" => o.corpus_dir = Some(PathBuf::from(value()?)),
            "--skip-generate" => o.skip_generate = true,
            "--runs" => {
                o.runs = value()?.parse().context("--runs takes a number")?;
                if o.runs == 0 {
                    bail!("--runs must be at least 1");
                }
            }
            "--threads" => {
                o.threads = value()?.parse().context("--threads takes a number")?;
                if o.threads == 0 {
                    bail!("--threads must be at least 1");
                }
            }
            "--formats" => {
                o.formats = value()?
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(FormatSpec::parse)
                    .collect::<Result<_>>()?;
                if o.formats.is_empty() {
                    bail!("--formats is empty");
                }
            }
            "--markdown" => o.markdown = true,
            "--corpora" => {
                o.corpora = value()?
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
                if let Some(bad) = o
                    .corpora
                    .iter()
                    .find(|c| !corpora::NAMES.iter().any(|(n, _)| n == c))
                {
                    bail!("unknown corpus {bad:?}\n\n{USAGE}");
                }
                if o.corpora.is_empty() {
                    bail!("--corpora is empty");
                }
            }
            "--apply-dir" => o.apply_dir = Some(PathBuf::from(value()?)),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => bail!("unknown option {a:?}\n\n{USAGE}"),
        }
    }
    Ok(o)
}
