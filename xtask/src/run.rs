//! Running a tool once under `/usr/bin/time` (Debian package `time`): wall time measured here,
//! peak resident set size (`%M`, KiB) reported by GNU time from the child's rusage.

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
    pub peak_rss_kib: u64,
}

/// The median wall time of several runs, with the largest peak RSS seen.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    pub secs: f64,
    pub peak_rss_kib: u64,
}

impl Summary {
    pub fn of(samples: &[Sample]) -> Option<Summary> {
        if samples.is_empty() {
            return None;
        }
        let mut t: Vec<f64> = samples.iter().map(|s| s.secs).collect();
        t.sort_by(f64::total_cmp);
        let n = t.len();
        let secs = if n % 2 == 1 { t[n / 2] } else { (t[n / 2 - 1] + t[n / 2]) / 2.0 };
        let peak_rss_kib = samples.iter().map(|s| s.peak_rss_kib).max().unwrap_or(0);
        Some(Summary { secs, peak_rss_kib })
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
        Cmd { program: program.into(), args: Vec::new() }
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
    let ok = Command::new(GNU_TIME).args(["-f", "%M", "true"]).stderr(Stdio::null()).status().map(|s| s.success());
    match ok {
        Ok(true) => Ok(()),
        _ => bail!("{GNU_TIME} (GNU time) is needed for peak memory figures: apt-get install -y time"),
    }
}

/// Runs `cmd` to completion under GNU time. A non-zero exit is an error carrying the tool's stderr.
/// `rss_file` is scratch space for GNU time's report.
pub fn timed(cmd: &Cmd, rss_file: &Path) -> Result<Sample> {
    let _ = std::fs::remove_file(rss_file);
    let start = Instant::now();
    let out = Command::new(GNU_TIME)
        .arg("-f")
        .arg("%M")
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
        bail!("{} failed ({}): {}", cmd.display(), out.status, err.trim());
    }
    let report = std::fs::read_to_string(rss_file).with_context(|| format!("reading {}", rss_file.display()))?;
    let peak_rss_kib = report
        .lines()
        .rev()
        .find_map(|l| l.trim().parse::<u64>().ok())
        .with_context(|| format!("no peak RSS in GNU time's report {report:?}"))?;
    Ok(Sample { secs, peak_rss_kib })
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
        Sample { secs, peak_rss_kib: rss }
    }

    #[test]
    fn median_odd_even_and_peak() {
        let m = Summary::of(&[s(3.0, 10), s(1.0, 30), s(2.0, 20)]).expect("three samples");
        assert_eq!((m.secs, m.peak_rss_kib), (2.0, 30));
        let m = Summary::of(&[s(4.0, 1), s(1.0, 2)]).expect("two samples");
        assert_eq!(m.secs, 2.5);
        assert!(Summary::of(&[]).is_none());
    }
}
