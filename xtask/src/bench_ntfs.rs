//! `cargo xtask bench ntfs`: `tsmedia wim apply` onto an NTFS volume image against
//! `wimlib-imagex apply` (its NTFS-3G mode) onto one, same WIM, same run.
//!
//! Set-up (not timed): the reference corpus captured once by wimlib (LZX) into
//! `target/bench-ntfs/corpus.wim`. Timed, median of `--runs`, each tool onto a volume image
//! `mkntfs --fast` formatted just before its run (twice the corpus plus 256 MiB, sparse).
//! Checked once: `ntfsfix -n` on both volumes. The exactness of the metadata is the oracle
//! test's job (`crates/cli/tests/wim_ntfs.rs`); here the trees are large and plain.

use anyhow::{Context, Result, bail};
use std::fs;
use std::path::Path;

use crate::bench_wim::{self, BenchOptions, WIMLIB};
use crate::report::{Table, thousands};
use crate::run::{self, Cmd, Sample, Summary};

pub fn run(o: &BenchOptions) -> Result<()> {
    run::checked(&Cmd::new(WIMLIB).arg("--version"))
        .map_err(|e| anyhow::anyhow!("{e:#}\napt-get install -y wimtools"))?;
    run::checked(&Cmd::new("mkntfs").arg("--version"))
        .map_err(|e| anyhow::anyhow!("{e:#}\napt-get install -y ntfs-3g"))?;
    run::check_gnu_time()?;
    let p = bench_wim::paths(o)?;
    bench_wim::build_tsmedia()?;
    bench_wim::prepare_corpus(o, &p)?;
    let corpus = crate::tree::stats(&p.corpus)?;
    let work = p.target.join("bench-ntfs");
    fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let wim = work.join("corpus.wim");
    if !wim.is_file() {
        eprintln!("capturing the corpus with wimlib (LZX, not timed) ...");
        run::checked(
            &Cmd::new(WIMLIB)
                .arg("capture")
                .arg(&p.corpus)
                .arg(&wim)
                .arg(format!("--threads={}", o.threads)),
        )?;
    }
    let size = corpus.bytes.saturating_mul(2) + (256 << 20);
    let rss = work.join("rss.txt");
    let (ours_img, ref_img) = (work.join("ours.img"), work.join("wimlib.img"));
    let mut samples: (Vec<Sample>, Vec<Sample>) = (Vec::new(), Vec::new());
    for i in 0..o.runs {
        eprintln!("NTFS apply run {}/{} ...", i + 1, o.runs);
        format(&ours_img, size)?;
        samples.0.push(run::timed(
            &Cmd::new(&p.tsmedia)
                .arg("wim")
                .arg("apply")
                .arg(&wim)
                .arg("1")
                .arg(&ours_img)
                .arg("--quiet"),
            &rss,
        )?);
        format(&ref_img, size)?;
        samples.1.push(run::timed(
            &Cmd::new(WIMLIB)
                .arg("apply")
                .arg(&wim)
                .arg("1")
                .arg(&ref_img),
            &rss,
        )?);
    }
    for img in [&ours_img, &ref_img] {
        let out = run::checked(&Cmd::new("ntfsfix").arg("-n").arg(img))?;
        if !out.contains("processed successfully") {
            bail!("ntfsfix -n {}: {out}", img.display());
        }
    }
    let ours = Summary::of(&samples.0).context("no runs")?;
    let reference = Summary::of(&samples.1).context("no runs")?;
    let mut t = Table::new(&[
        "apply onto an NTFS image",
        "file bytes",
        "ours s",
        "wimlib s",
        "ours CPU s",
        "wimlib CPU s",
        "ours RSS MiB",
        "wimlib RSS MiB",
        "time ours/wimlib",
    ]);
    t.row(vec![
        format!("{} files, {} dirs", corpus.files, corpus.dirs),
        thousands(corpus.bytes),
        format!("{:.2}", ours.secs),
        format!("{:.2}", reference.secs),
        format!("{:.2}", ours.cpu_secs),
        format!("{:.2}", reference.cpu_secs),
        format!("{:.0}", ours.peak_rss_kib as f64 / 1024.0),
        format!("{:.0}", reference.peak_rss_kib as f64 / 1024.0),
        format!("{:.2}", ours.secs / reference.secs),
    ]);
    let note = "tsmedia writes through the ntfs-3g FUSE driver (its CPU time counted: it is \
                tsmedia's child); wimlib-imagex calls libntfs-3g in its own process.\n";
    let md = format!("{}\n{note}", t.markdown());
    let md_path = p.target.join("bench-ntfs.md");
    fs::write(&md_path, &md).with_context(|| format!("writing {}", md_path.display()))?;
    if o.markdown {
        print!("{md}");
    } else {
        print!("{}\n{note}", t.plain());
    }
    for img in [&ours_img, &ref_img] {
        let _ = fs::remove_file(img);
    }
    Ok(())
}

/// A fresh sparse image of `size` bytes, formatted as NTFS.
fn format(img: &Path, size: u64) -> Result<()> {
    let _ = fs::remove_file(img);
    let f = fs::File::create(img).with_context(|| format!("creating {}", img.display()))?;
    f.set_len(size)
        .with_context(|| format!("sizing {}", img.display()))?;
    drop(f);
    run::checked(
        &Cmd::new("mkntfs")
            .arg("--quiet")
            .arg("--force")
            .arg("--fast")
            .arg(img),
    )?;
    Ok(())
}
