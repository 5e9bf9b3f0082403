//! `cargo xtask bench wim`: tsmedia against wimlib-imagex on the same corpus in the same run.
//!
//! For each format: both tools capture the corpus (same thread count, alternating order, median
//! of N runs), then each WIM is applied by both tools into a fresh directory. Correctness is
//! checked on the way: our WIM must pass `wimlib-imagex verify`, and our applied trees must equal
//! the corpus. A format tsmedia does not support yet is reported as "n/a" for ours.

use crate::report::thousands;
use crate::run::{self, Cmd, Sample, Summary};
use crate::tree;
use crate::wim_tables::{ApplyRow, CaptureRow, render};
use anyhow::{Context, Result, bail};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const WIMLIB: &str = "wimlib-imagex";

/// What `bench wim` does.
pub struct BenchOptions {
    /// Corpus location. Default: `target/bench-corpus`.
    pub corpus_dir: Option<PathBuf>,
    /// Use the corpus directory as it is. Default: false (generate when missing).
    pub skip_generate: bool,
    /// Timed runs per measurement. Default: 3.
    pub runs: usize,
    /// Compression threads for both tools. Default: all cores.
    pub threads: usize,
    /// Default: none, xpress, lzx, lzx:20.
    pub formats: Vec<FormatSpec>,
    /// Print Markdown instead of aligned text. Default: false.
    pub markdown: bool,
    /// Where applied trees go. Default: a folder in /dev/shm (tmpfs) when it has room, else
    /// `target/bench-wim/applied`.
    pub apply_dir: Option<PathBuf>,
    /// Corpora measured one after the other ([`crate::corpora::NAMES`]). Default: reference.
    pub corpora: Vec<String>,
}

impl Default for BenchOptions {
    fn default() -> BenchOptions {
        let formats = ["none", "xpress", "lzx", "lzx:20"]
            .map(|f| FormatSpec::parse(f).expect("valid built-in format"));
        BenchOptions {
            corpus_dir: None,
            skip_generate: false,
            runs: 3,
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            formats: formats.to_vec(),
            markdown: false,
            apply_dir: None,
            corpora: vec!["reference".into()],
        }
    }
}

/// A compression setting as both tools spell it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatSpec {
    /// tsmedia's `--compress` value, e.g. `lzx:20`.
    pub ours: String,
    /// wimlib-imagex's `--compress=` value, e.g. `LZX:20`.
    pub wimlib: String,
    /// Solid resources (`solid`: `--solid` for both tools, solid LZMS in 64 MiB chunks).
    pub solid: bool,
}

impl FormatSpec {
    pub fn parse(s: &str) -> Result<FormatSpec> {
        let s = s.trim().to_ascii_lowercase();
        if s == "solid" {
            return Ok(FormatSpec {
                ours: s,
                wimlib: "solid".into(),
                solid: true,
            });
        }
        let (name, level) = match s.split_once(':') {
            Some((n, l)) => {
                let l: u32 = l
                    .parse()
                    .with_context(|| format!("bad level in format {s:?}"))?;
                (n.to_string(), Some(l))
            }
            None => (s.clone(), None),
        };
        let upper = match name.as_str() {
            "none" if level.is_none() => "none".to_string(),
            "xpress" | "lzx" | "lzms" => name.to_ascii_uppercase(),
            _ => bail!("unknown format {s:?} (none, xpress[:L], lzx[:L], lzms[:L], solid)"),
        };
        let wimlib = match level {
            Some(l) => format!("{upper}:{l}"),
            None => upper,
        };
        Ok(FormatSpec {
            ours: s,
            wimlib,
            solid: false,
        })
    }

    fn file_tag(&self) -> String {
        self.ours.replace(':', "-")
    }
}

pub struct Paths {
    pub target: PathBuf,
    pub tsmedia: PathBuf,
    pub corpus: PathBuf,
    pub work: PathBuf,
    /// Where applied trees go, one directory per run.
    applied: PathBuf,
    /// Said in the report: where and how trees were applied.
    pub applied_note: String,
    /// Keep applied trees until every run is done. Deleting a tree between runs makes the next
    /// run's file creations slow and erratic: ext4's inode allocator then scans past recently
    /// deleted inodes (`recently_deleted` and `find_inode_bit` dominate a profile).
    keep_applied: bool,
}

pub fn run(o: &BenchOptions) -> Result<()> {
    run::checked(&Cmd::new(WIMLIB).arg("--version")).map_err(|e| {
        anyhow::anyhow!("{e:#}\nwimlib-imagex is the reference: apt-get install -y wimtools")
    })?;
    run::check_gnu_time()?;
    let base = paths(o)?;
    build_tsmedia()?;
    if !base.tsmedia.is_file() {
        bail!("cargo built no {}", base.tsmedia.display());
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("xtask has no parent directory")?
        .to_path_buf();
    let mut text = String::new();
    let mut plain = String::new();
    let mut summary = Vec::new();
    let mut failures = Vec::new();
    for name in &o.corpora {
        let mut p = paths(o)?;
        if name != "reference" {
            p.corpus = crate::corpora::prepare(name, &p.target.join("bench-corpora"), &workspace)?;
            p.work = p.target.join("bench-wim").join(name);
        } else {
            prepare_corpus(o, &p)?;
        }
        let (md, txt, rows) = run_corpus(o, p, name, &mut failures)?;
        text.push_str(&md);
        plain.push_str(&txt);
        summary.extend(rows);
    }
    let table = crate::wim_tables::render_summary(&summary, true);
    text.push_str(&table);
    plain.push_str(&crate::wim_tables::render_summary(&summary, false));
    let md_path = base.target.join("bench-wim.md");
    fs::write(&md_path, &text).with_context(|| format!("writing {}", md_path.display()))?;
    print!("{}", if o.markdown { &text } else { &plain });
    eprintln!("markdown written to {}", md_path.display());
    if !failures.is_empty() {
        bail!("correctness checks failed:\n  {}", failures.join("\n  "));
    }
    Ok(())
}

/// Measures one corpus: every format's capture and apply. Returns the Markdown and plain
/// reports and the summary rows.
fn run_corpus(
    o: &BenchOptions,
    mut p: Paths,
    name: &str,
    failures: &mut Vec<String>,
) -> Result<(String, String, Vec<crate::wim_tables::SummaryRow>)> {
    eprintln!("reading the corpus once (warm cache) ...");
    let corpus = tree::stats(&p.corpus)?;
    eprintln!(
        "corpus {}: {} files, {} dirs, {} symlinks, {} bytes; {} threads, {} runs",
        p.corpus.display(),
        corpus.files,
        corpus.dirs,
        corpus.symlinks,
        thousands(corpus.bytes),
        o.threads,
        o.runs
    );
    fs::create_dir_all(&p.work).with_context(|| format!("creating {}", p.work.display()))?;
    // A tmpfs measures the tools, not a disk file system's inode allocator (see keep_applied).
    let shm = Path::new("/dev/shm");
    let on_tmpfs = o.apply_dir.is_none()
        && free_bytes(shm).is_some_and(|free| free > corpus.bytes.saturating_mul(3));
    if on_tmpfs {
        p.applied = shm.join("tsmedia-bench-applied");
    }
    fresh_dir(&p.applied)?;
    // wimlib-imagex apply creates the target but not its parents.
    fs::create_dir_all(&p.applied).with_context(|| format!("creating {}", p.applied.display()))?;
    // Every applied tree kept: two tools, two WIMs per format, each run; plus the WIMs.
    let need = corpus
        .bytes
        .saturating_mul((4 * o.runs * o.formats.len()) as u64 + 4 * o.formats.len() as u64);
    p.keep_applied =
        !on_tmpfs && free_bytes(&p.work).is_some_and(|free| free > need.saturating_add(need / 4));
    p.applied_note = format!(
        "Apply: into {}{}; tsmedia decompresses on {} threads, wimlib-imagex apply on one",
        p.applied.display(),
        if on_tmpfs {
            " (tmpfs: no disk allocator in the figures)"
        } else {
            ""
        },
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    if !p.keep_applied && !on_tmpfs {
        eprintln!(
            "not enough free space to keep every applied tree: deleting each after its run (noisier)"
        );
    }

    let mut captures = Vec::new();
    let mut applies = Vec::new();
    for f in &o.formats {
        let (row, ours_wim) = bench_capture(o, &p, f, failures)?;
        let ours_supported = row.ours.is_ok();
        let wimlib_wim = p.work.join(format!("wimlib-{}.wim", f.file_tag()));
        applies.push(bench_apply(
            o,
            &p,
            &format!("{}, wimlib's WIM", f.ours),
            &wimlib_wim,
            ours_supported,
            failures,
        )?);
        if let Some(w) = ours_wim {
            applies.push(bench_apply(
                o,
                &p,
                &format!("{}, our WIM", f.ours),
                &w,
                true,
                failures,
            )?);
        }
        captures.push(row);
    }

    eprintln!("removing the applied trees ...");
    fresh_dir(&p.applied)?;
    let md = format!(
        "\n## Corpus {name}\n{}",
        render(o, &p, corpus, &captures, &applies, true)?
    );
    let txt = format!(
        "\n== Corpus {name} ==\n{}",
        render(o, &p, corpus, &captures, &applies, false)?
    );
    let rows = crate::wim_tables::summary_rows(name, &captures, &applies);
    print!("{}", if o.markdown { &md } else { &txt });
    Ok((md, txt, rows))
}

pub fn paths(o: &BenchOptions) -> Result<Paths> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("xtask has no parent directory")?
        .to_path_buf();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let target = if target.is_relative() {
        root.join(target)
    } else {
        target
    };
    Ok(Paths {
        tsmedia: target.join("release/tsmedia"),
        corpus: o
            .corpus_dir
            .clone()
            .unwrap_or_else(|| target.join("bench-corpus")),
        applied: o
            .apply_dir
            .clone()
            .unwrap_or_else(|| target.join("bench-wim/applied")),
        applied_note: String::new(),
        work: target.join("bench-wim"),
        keep_applied: false,
        target,
    })
}

pub fn build_tsmedia() -> Result<()> {
    eprintln!("cargo build --release -p tsmedia ...");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let st = Command::new(cargo)
        .args(["build", "--release", "-p", "tsmedia"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .context("running cargo")?;
    if !st.success() {
        bail!("cargo build --release -p tsmedia failed ({st})");
    }
    Ok(())
}

/// The stamp next to a generated corpus says which spec made it, so a half-written or stale
/// corpus is regenerated rather than measured.
pub fn prepare_corpus(o: &BenchOptions, p: &Paths) -> Result<()> {
    let spec = tsmedia_corpus::Spec::reference();
    let stamp_path = p.corpus.with_extension("stamp");
    let stamp = format!("{spec:?}\n");
    if o.skip_generate {
        if !p.corpus.is_dir() {
            bail!("--skip-generate: no corpus at {}", p.corpus.display());
        }
        return Ok(());
    }
    if fs::read_to_string(&stamp_path).ok().as_deref() == Some(stamp.as_str()) && p.corpus.is_dir()
    {
        return Ok(());
    }
    if p.corpus.exists() {
        let ours = o.corpus_dir.is_none() || stamp_path.exists();
        if !ours {
            bail!(
                "{} exists but was not generated by xtask (no {}); pass --skip-generate to measure it as is",
                p.corpus.display(),
                stamp_path.display()
            );
        }
        fs::remove_dir_all(&p.corpus)
            .with_context(|| format!("removing stale {}", p.corpus.display()))?;
    }
    let _ = fs::remove_file(&stamp_path);
    eprintln!(
        "generating the reference corpus in {} ...",
        p.corpus.display()
    );
    let bytes = tsmedia_corpus::generate(&p.corpus, &spec)
        .with_context(|| format!("generating {}", p.corpus.display()))?;
    eprintln!("  {} bytes of file data", thousands(bytes));
    fs::write(&stamp_path, stamp).with_context(|| format!("writing {}", stamp_path.display()))?;
    Ok(())
}

/// Writes dirty pages back before a timed run, so one run's writeback is not billed to the next.
fn settle() {
    let _ = Command::new("sync").status();
}

fn bench_capture(
    o: &BenchOptions,
    p: &Paths,
    f: &FormatSpec,
    failures: &mut Vec<String>,
) -> Result<(CaptureRow, Option<PathBuf>)> {
    let tag = f.file_tag();
    let wimlib_wim = p.work.join(format!("wimlib-{tag}.wim"));
    let ours_wim = p.work.join(format!("ours-{tag}.wim"));
    let rss = p.work.join("rss.txt");
    let threads = o.threads.to_string();
    let wimlib_cmd = Cmd::new(WIMLIB)
        .arg("capture")
        .arg(&p.corpus)
        .arg(&wimlib_wim)
        .arg(if f.solid {
            "--solid".to_string()
        } else {
            format!("--compress={}", f.wimlib)
        })
        .arg(format!("--threads={threads}"));
    let ours_cmd = Cmd::new(&p.tsmedia)
        .arg("wim")
        .arg("capture")
        .arg(&p.corpus)
        .arg(&ours_wim);
    let ours_cmd = if f.solid {
        ours_cmd.arg("--solid")
    } else {
        ours_cmd.arg("--compress").arg(&f.ours)
    }
    .arg("--threads")
    .arg(&threads)
    .arg("--quiet");
    let (mut ws, mut os) = (Vec::new(), Vec::new());
    let mut ours_err: Option<String> = None;
    for i in 0..o.runs {
        for ours_turn in if i % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        } {
            settle();
            if ours_turn {
                if ours_err.is_some() {
                    continue;
                }
                let _ = fs::remove_file(&ours_wim);
                eprintln!("  capture {:8} run {}: tsmedia", f.ours, i + 1);
                match run::timed(&ours_cmd, &rss) {
                    Ok(s) => os.push(s),
                    Err(e) => ours_err = Some(format!("{e:#}")),
                }
            } else {
                let _ = fs::remove_file(&wimlib_wim);
                eprintln!("  capture {:8} run {}: wimlib-imagex", f.ours, i + 1);
                ws.push(run::timed(&wimlib_cmd, &rss)?);
            }
        }
    }
    let wimlib = Summary::of(&ws).context("no wimlib runs")?;
    let wimlib_bytes = file_len(&wimlib_wim)?;
    let (ours, ours_bytes, ours_path) = match ours_err {
        Some(e) => {
            eprintln!("  tsmedia cannot capture {}: {}", f.ours, first_line(&e));
            if !os.is_empty() {
                failures.push(format!(
                    "capture {}: failed after {} good runs: {e}",
                    f.ours,
                    os.len()
                ));
            }
            let _ = fs::remove_file(&ours_wim);
            (Err(first_line(&e)), None, None)
        }
        None => {
            let s = Summary::of(&os).context("no tsmedia runs")?;
            eprintln!("  wimlib-imagex verify {}", ours_wim.display());
            if let Err(e) = run::checked(&Cmd::new(WIMLIB).arg("verify").arg(&ours_wim)) {
                failures.push(format!(
                    "capture {}: our WIM fails wimlib-imagex verify: {e:#}",
                    f.ours
                ));
            }
            (Ok(s), Some(file_len(&ours_wim)?), Some(ours_wim))
        }
    };
    Ok((
        CaptureRow {
            format: f.clone(),
            wimlib,
            wimlib_bytes,
            ours,
            ours_bytes,
        },
        ours_path,
    ))
}

/// Applies `wim` with both tools. `ours_expected`: a failure of ours is a correctness failure
/// (otherwise the format is merely unsupported and shown as "n/a").
fn bench_apply(
    o: &BenchOptions,
    p: &Paths,
    label: &str,
    wim: &Path,
    ours_expected: bool,
    failures: &mut Vec<String>,
) -> Result<ApplyRow> {
    let rss = p.work.join("rss.txt");
    let tag: String = label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let (mut ws, mut os) = (Vec::new(), Vec::new());
    let (mut wimlib_err, mut ours_err) = (None::<String>, None::<String>);
    for i in 0..o.runs {
        for ours_turn in if i % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        } {
            let (samples, err, who) = if ours_turn {
                (&mut os, &mut ours_err, "tsmedia")
            } else {
                (&mut ws, &mut wimlib_err, "wimlib-imagex")
            };
            if err.is_some() {
                continue;
            }
            let dir = p.applied.join(format!("{tag}-{who}-{i}"));
            fresh_dir(&dir)?;
            let cmd = &if ours_turn {
                Cmd::new(&p.tsmedia)
                    .arg("wim")
                    .arg("apply")
                    .arg(wim)
                    .arg("1")
                    .arg(&dir)
                    .arg("--quiet")
            } else {
                Cmd::new(WIMLIB).arg("apply").arg(wim).arg("1").arg(&dir)
            };
            settle();
            eprintln!("  apply {label} run {}: {who}", i + 1);
            match run::timed(cmd, &rss) {
                Ok(s) => samples.push(s),
                Err(e) => *err = Some(format!("{e:#}")),
            }
            if ours_turn && i == 0 && ours_err.is_none() {
                let diffs = tree::compare(&p.corpus, &dir, 10)?;
                if !diffs.is_empty() {
                    failures.push(format!(
                        "apply {label}: tsmedia's tree differs from the corpus:\n    {}",
                        diffs.join("\n    ")
                    ));
                }
            }
            if !p.keep_applied {
                fresh_dir(&dir)?;
            }
        }
    }
    let outcome = |samples: &[Sample],
                   err: Option<String>,
                   who: &str,
                   expected: bool,
                   failures: &mut Vec<String>| {
        match err {
            Some(e) => {
                if expected {
                    failures.push(format!("apply {label}: {who} failed: {e}"));
                }
                Err(first_line(&e))
            }
            None => Summary::of(samples).ok_or_else(|| "no runs".to_string()),
        }
    };
    let wimlib = outcome(&ws, wimlib_err, WIMLIB, true, failures);
    let ours = outcome(&os, ours_err, "tsmedia", ours_expected, failures);
    Ok(ApplyRow {
        label: label.to_string(),
        wimlib,
        ours,
    })
}

fn fresh_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    Ok(())
}

/// Free bytes on the file system holding `dir`, from `df`.
fn free_bytes(dir: &Path) -> Option<u64> {
    let out = Command::new("df")
        .arg("-B1")
        .arg("--output=avail")
        .arg(dir)
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)?
        .trim()
        .parse()
        .ok()
}

fn file_len(p: &Path) -> Result<u64> {
    Ok(fs::metadata(p)
        .with_context(|| format!("stat {}", p.display()))?
        .len())
}

/// The line of a tool's error output that says what went wrong.
fn first_line(s: &str) -> String {
    let said = |l: &&str| {
        let l = l.to_ascii_lowercase();
        l.contains("error")
            || l.contains("panicked")
            || l.contains("unsupported")
            || l.contains("not supported")
    };
    let l = s
        .lines()
        .skip(1)
        .find(said)
        .or_else(|| s.lines().nth(1))
        .or_else(|| s.lines().next())
        .unwrap_or("");
    l.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_spellings() {
        let f = |s: &str| FormatSpec::parse(s).map(|f| (f.ours, f.wimlib));
        assert_eq!(f("none").ok(), Some(("none".into(), "none".into())));
        assert_eq!(f("XPRESS").ok(), Some(("xpress".into(), "XPRESS".into())));
        assert_eq!(f("lzx:20").ok(), Some(("lzx:20".into(), "LZX:20".into())));
        assert!(f("none:3").is_err());
        assert!(f("zstd").is_err());
        assert!(f("lzx:x").is_err());
    }
}
