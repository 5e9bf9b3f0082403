//! Running a tool once under `/usr/bin/time` (Debian package `time`): wall time measured here;
//! peak resident set size (`%M`, KiB) and CPU time (`%U` + `%S`) reported by GNU time from the
//! child's rusage. CPU time is the steadier figure on a machine shared with other work.

use anyhow::{Context, Result, bail};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const GNU_TIME: &str = "/usr/bin/time";

/// One timed run.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    pub secs: f64,
    /// User + system CPU seconds, all threads.
    pub cpu_secs: f64,
    pub peak_rss_kib: u64,
}

/// The median wall and CPU times of several runs, with the largest peak RSS seen.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    pub secs: f64,
    pub cpu_secs: f64,
    pub peak_rss_kib: u64,
}

impl Summary {
    pub fn of(samples: &[Sample]) -> Option<Summary> {
        if samples.is_empty() {
            return None;
        }
        let peak_rss_kib = samples.iter().map(|s| s.peak_rss_kib).max().unwrap_or(0);
        Some(Summary {
            secs: median(samples.iter().map(|s| s.secs).collect()),
            cpu_secs: median(samples.iter().map(|s| s.cpu_secs).collect()),
            peak_rss_kib,
        })
    }
}

fn median(mut t: Vec<f64>) -> f64 {
    t.sort_by(f64::total_cmp);
    let n = t.len();
    if n % 2 == 1 {
        t[n / 2]
    } else {
        (t[n / 2 - 1] + t[n / 2]) / 2.0
    }
}

/// A command line: the program and its arguments.
#[derive(Clone, Debug)]
pub struct Cmd {
    pub program: PathBuf,
    pub args: Vec<OsString>,
}

impl Cmd {
    pub fn new(program: impl Into<PathBuf>) -> Cmd {
        Cmd {
            program: program.into(),
            args: Vec::new(),
        }
    }

    pub fn arg(mut self, a: impl Into<OsString>) -> Cmd {
        self.args.push(a.into());
        self
    }

    pub fn display(&self) -> String {
        let mut s = self.program.display().to_string();
        for a in &self.args {
            s.push(' ');
            s.push_str(&a.to_string_lossy());
        }
        s
    }
}

/// Fails, naming the Debian package, when GNU time is missing.
pub fn check_gnu_time() -> Result<()> {
    let ok = Command::new(GNU_TIME)
        .args(["-f", "%M %U %S", "true"])
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success());
    match ok {
        Ok(true) => Ok(()),
        _ => bail!(
            "{GNU_TIME} (GNU time) is needed for peak memory figures: apt-get install -y time"
        ),
    }
}

/// Runs `cmd` to completion under GNU time. A non-zero exit is an error carrying the tool's stderr.
/// `rss_file` is scratch space for GNU time's report.
pub fn timed(cmd: &Cmd, rss_file: &Path) -> Result<Sample> {
    let _ = std::fs::remove_file(rss_file);
    let start = Instant::now();
    let out = Command::new(GNU_TIME)
        .arg("-f")
        .arg("%M %U %S")
        .arg("-o")
        .arg(rss_file)
        .arg(&cmd.program)
        .args(&cmd.args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("starting {}", cmd.display()))?;
    let secs = start.elapsed().as_secs_f64();
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        bail!("{} failed ({}):\n{}", cmd.display(), out.status, err.trim());
    }
    let report = std::fs::read_to_string(rss_file)
        .with_context(|| format!("reading {}", rss_file.display()))?;
    parse_report(&report, secs).with_context(|| format!("unexpected GNU time report {report:?}"))
}

/// The last line of GNU time's report: `%M %U %S`.
fn parse_report(report: &str, secs: f64) -> Option<Sample> {
    let line = report.lines().rev().find(|l| !l.trim().is_empty())?;
    let mut f = line.split_whitespace();
    let peak_rss_kib = f.next()?.parse().ok()?;
    let user: f64 = f.next()?.parse().ok()?;
    let sys: f64 = f.next()?.parse().ok()?;
    Some(Sample {
        secs,
        cpu_secs: user + sys,
        peak_rss_kib,
    })
}

/// Runs `cmd` untimed and returns its stdout; a non-zero exit is an error with its output.
pub fn checked(cmd: &Cmd) -> Result<String> {
    let out = Command::new(&cmd.program)
        .args(&cmd.args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("starting {}", cmd.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!(
            "{} failed ({}): {} {}",
            cmd.display(),
            out.status,
            stdout.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: f64, rss: u64) -> Sample {
        Sample {
            secs,
            cpu_secs: secs * 2.0,
            peak_rss_kib: rss,
        }
    }

    #[test]
    fn median_odd_even_and_peak() {
        let m = Summary::of(&[s(3.0, 10), s(1.0, 30), s(2.0, 20)]).expect("three samples");
        assert_eq!((m.secs, m.cpu_secs, m.peak_rss_kib), (2.0, 4.0, 30));
        let m = Summary::of(&[s(4.0, 1), s(1.0, 2)]).expect("two samples");
        assert_eq!(m.secs, 2.5);
        assert!(Summary::of(&[]).is_none());
    }

    #[test]
    fn gnu_time_report() {
        let r = parse_report(
            "Command exited with non-zero status 1\n12548 4.85 0.19\n",
            9.0,
        )
        .expect("parses");
        assert_eq!(r.peak_rss_kib, 12548);
        assert!((r.cpu_secs - 5.04).abs() < 1e-9);
        assert!(parse_report("12548\n", 1.0).is_none());
        assert!(parse_report("", 1.0).is_none());
    }
}
