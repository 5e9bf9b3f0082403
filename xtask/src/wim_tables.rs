//! The tables of `bench wim`: capture and apply figures of both tools, ratios and the goals.

use crate::bench_wim::{BenchOptions, FormatSpec, Paths, WIMLIB};
use crate::report::{Table, thousands};
use crate::run::{self, Cmd, Summary};
use crate::tree;
use anyhow::Result;
use std::fs;

/// Measurements of one tool on one task; `Err` holds why there are none.
pub type Outcome = Result<Summary, String>;

pub struct CaptureRow {
    pub format: FormatSpec,
    pub wimlib: Summary,
    pub wimlib_bytes: u64,
    pub ours: Outcome,
    pub ours_bytes: Option<u64>,
}

pub struct ApplyRow {
    pub label: String,
    pub wimlib: Outcome,
    pub ours: Outcome,
}

fn secs(s: &Outcome) -> String {
    s.as_ref()
        .map(|s| format!("{:.2}", s.secs))
        .unwrap_or_else(|_| "n/a".into())
}

fn mbps(bytes: u64, s: &Outcome) -> String {
    s.as_ref()
        .map(|s| format!("{:.0}", bytes as f64 / 1e6 / s.secs))
        .unwrap_or_else(|_| "n/a".into())
}

fn rss(s: &Outcome) -> String {
    s.as_ref()
        .map(|s| format!("{:.0}", s.peak_rss_kib as f64 / 1024.0))
        .unwrap_or_else(|_| "n/a".into())
}

fn cpu(s: &Outcome) -> String {
    s.as_ref()
        .map(|s| format!("{:.2}", s.cpu_secs))
        .unwrap_or_else(|_| "n/a".into())
}

/// ours / wimlib of a figure of two outcomes.
fn ratio_of(ours: &Outcome, theirs: &Outcome, f: fn(&Summary) -> f64) -> String {
    match (ours, theirs) {
        (Ok(o), Ok(t)) => ratio(Some(f(o)), f(t)),
        _ => "n/a".into(),
    }
}

fn ratio(ours: Option<f64>, theirs: f64) -> String {
    ours.map(|o| format!("{:.3}", o / theirs))
        .unwrap_or_else(|| "n/a".into())
}

pub fn render(
    o: &BenchOptions,
    p: &Paths,
    corpus: tree::TreeStats,
    captures: &[CaptureRow],
    applies: &[ApplyRow],
    markdown: bool,
) -> Result<String> {
    let table = |t: &Table| if markdown { t.markdown() } else { t.plain() };
    let mut out = String::new();
    let h = |s: &str| {
        if markdown {
            format!("\n### {s}\n\n")
        } else {
            format!("\n{s}\n\n")
        }
    };
    out.push_str(&h("Machine and corpus"));
    let wimlib_version = run::checked(&Cmd::new(WIMLIB).arg("--version"))?
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    let bullet = if markdown { "- " } else { "  " };
    for line in [
        format!(
            "CPU: {} ({} logical CPUs)",
            cpu_model(),
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        ),
        format!("Reference: {wimlib_version}"),
        format!(
            "Corpus: {} ({} files, {} directories, {} symlinks, {} bytes of file data)",
            p.corpus.display(),
            corpus.files,
            corpus.dirs,
            corpus.symlinks,
            thousands(corpus.bytes)
        ),
        format!(
            "{} compression threads for both tools; median wall and CPU time of {} runs, warm cache",
            o.threads, o.runs
        ),
        p.applied_note.clone(),
    ] {
        out.push_str(&format!("{bullet}{line}\n"));
    }

    out.push_str(&h(
        "Capture (ratio = ours / wimlib; below 1 is better for us)",
    ));
    let mut t = Table::new(&[
        "format",
        "wimlib bytes",
        "ours bytes",
        "size ratio",
        "wimlib s",
        "ours s",
        "time ratio",
        "wimlib CPU s",
        "ours CPU s",
        "CPU ratio",
        "wimlib MB/s",
        "ours MB/s",
        "wimlib RSS MiB",
        "ours RSS MiB",
    ]);
    for c in captures {
        let w: Outcome = Ok(c.wimlib);
        t.row(vec![
            format!("{} / {}", c.format.ours, c.format.wimlib),
            thousands(c.wimlib_bytes),
            c.ours_bytes.map(thousands).unwrap_or_else(|| "n/a".into()),
            ratio(c.ours_bytes.map(|b| b as f64), c.wimlib_bytes as f64),
            secs(&w),
            secs(&c.ours),
            ratio_of(&c.ours, &w, |s| s.secs),
            cpu(&w),
            cpu(&c.ours),
            ratio_of(&c.ours, &w, |s| s.cpu_secs),
            mbps(corpus.bytes, &w),
            mbps(corpus.bytes, &c.ours),
            rss(&w),
            rss(&c.ours),
        ]);
    }
    out.push_str(&table(&t));
    for c in captures {
        if let Err(e) = &c.ours {
            out.push_str(&format!("\n{bullet}ours n/a for {}: {e}\n", c.format.ours));
        }
    }

    out.push_str(&h("Apply (same WIM, both tools; ratio = ours / wimlib)"));
    let mut t = Table::new(&[
        "WIM",
        "wimlib s",
        "ours s",
        "time ratio",
        "wimlib CPU s",
        "ours CPU s",
        "CPU ratio",
        "wimlib MB/s",
        "ours MB/s",
        "wimlib RSS MiB",
        "ours RSS MiB",
    ]);
    for a in applies {
        t.row(vec![
            a.label.clone(),
            secs(&a.wimlib),
            secs(&a.ours),
            ratio_of(&a.ours, &a.wimlib, |s| s.secs),
            cpu(&a.wimlib),
            cpu(&a.ours),
            ratio_of(&a.ours, &a.wimlib, |s| s.cpu_secs),
            mbps(corpus.bytes, &a.wimlib),
            mbps(corpus.bytes, &a.ours),
            rss(&a.wimlib),
            rss(&a.ours),
        ]);
    }
    out.push_str(&table(&t));

    out.push_str(&h("Goals (wall time; CPU time in brackets)"));
    let met = |r: f64, limit: f64| if r <= limit { "met" } else { "NOT met" };
    for c in captures.iter().filter(|c| c.format.ours == "xpress") {
        let (Ok(s), Some(b)) = (&c.ours, c.ours_bytes) else {
            continue;
        };
        let (tr, cr) = (s.secs / c.wimlib.secs, s.cpu_secs / c.wimlib.cpu_secs);
        let sr = b as f64 / c.wimlib_bytes as f64;
        out.push_str(&format!(
            "{bullet}XPRESS capture time ≤ 1.00× wimlib: {tr:.3}× — {} ({cr:.3}× CPU — {})\n",
            met(tr, 1.0),
            met(cr, 1.0)
        ));
        out.push_str(&format!(
            "{bullet}XPRESS size ≤ 1.02× wimlib: {sr:.4}× — {}\n",
            met(sr, 1.02)
        ));
    }
    for a in applies {
        if let (Ok(w), Ok(ours)) = (&a.wimlib, &a.ours) {
            let (r, cr) = (ours.secs / w.secs, ours.cpu_secs / w.cpu_secs);
            out.push_str(&format!(
                "{bullet}apply ({}) ≤ 1.00× wimlib: {r:.3}× — {} ({cr:.3}× CPU — {})\n",
                a.label,
                met(r, 1.0),
                met(cr, 1.0)
            ));
        }
    }
    Ok(out)
}

fn cpu_model() -> String {
    fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// One line of the all-corpora summary: ours / wimlib ratios of one format on one corpus.
pub struct SummaryRow {
    pub corpus: String,
    pub format: String,
    pub size: Option<f64>,
    pub wall: Option<f64>,
    pub cpu: Option<f64>,
    pub rss: Option<f64>,
    /// Apply of wimlib's WIM by both tools: wall and CPU ratios.
    pub apply_theirs: Option<(f64, f64)>,
    /// Apply of our WIM by both tools.
    pub apply_ours: Option<(f64, f64)>,
}

/// The summary rows of one corpus.
pub fn summary_rows(
    corpus: &str,
    captures: &[CaptureRow],
    applies: &[ApplyRow],
) -> Vec<SummaryRow> {
    let apply = |label: String| {
        applies
            .iter()
            .find(|a| a.label == label)
            .and_then(|a| match (&a.ours, &a.wimlib) {
                (Ok(o), Ok(w)) => Some((o.secs / w.secs, o.cpu_secs / w.cpu_secs)),
                _ => None,
            })
    };
    captures
        .iter()
        .map(|c| {
            let ours = c.ours.as_ref().ok();
            SummaryRow {
                corpus: corpus.to_string(),
                format: c.format.ours.clone(),
                size: c.ours_bytes.map(|b| b as f64 / c.wimlib_bytes as f64),
                wall: ours.map(|s| s.secs / c.wimlib.secs),
                cpu: ours.map(|s| s.cpu_secs / c.wimlib.cpu_secs),
                rss: ours.map(|s| s.peak_rss_kib as f64 / c.wimlib.peak_rss_kib as f64),
                apply_theirs: apply(format!("{}, wimlib's WIM", c.format.ours)),
                apply_ours: apply(format!("{}, our WIM", c.format.ours)),
            }
        })
        .collect()
}

/// The table of every corpus and format measured in this run.
pub fn render_summary(rows: &[SummaryRow], markdown: bool) -> String {
    let f = |v: Option<f64>| v.map_or_else(|| "n/a".into(), |v| format!("{v:.3}"));
    let mut t = Table::new(&[
        "corpus",
        "format",
        "size",
        "capture wall",
        "capture CPU",
        "peak RSS",
        "apply wimlib's WIM (wall / CPU)",
        "apply our WIM (wall / CPU)",
    ]);
    for r in rows {
        let pair = |p: Option<(f64, f64)>| {
            p.map_or_else(|| "n/a".into(), |(w, c)| format!("{w:.3} / {c:.3}"))
        };
        t.row(vec![
            r.corpus.clone(),
            r.format.clone(),
            f(r.size),
            f(r.wall),
            f(r.cpu),
            f(r.rss),
            pair(r.apply_theirs),
            pair(r.apply_ours),
        ]);
    }
    let title = "All corpora: ours / wimlib (below 1 is better for us)";
    if markdown {
        format!("\n## {title}\n\n{}", t.markdown())
    } else {
        format!("\n== {title} ==\n\n{}", t.plain())
    }
}
