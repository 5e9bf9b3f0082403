//! `tsmedia demo`: the main job on an embedded default. A deterministic tree shaped like an OS
//! image is captured to a WIM, verified, applied back and compared file by file; a demo site
//! builds media from it; then (unless `--no-boot`) tsmedia PE is built from Debian's packages,
//! stand-alone media with it boot in QEMU and deploy a blank virtual disk
//! ([`crate::demo_deploy`]).

use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tsmedia_base::Cancel;
use tsmedia_wim::apply::ApplyOptions;
use tsmedia_wim::capture::CaptureOptions;
use tsmedia_wim::write::NoProgress;
use tsmedia_wim::{Wim, WimWriter, WriteOptions};

#[derive(Args)]
pub struct DemoArgs {
    /// Working directory (created; default: ./demo)
    #[arg(long, default_value = "demo")]
    dir: PathBuf,
    /// Folder of tsmedia PE's Debian packages (scripts/fetch-pe-debs.sh DIR fills it)
    #[arg(long, default_value_os_t = crate::demo_deploy::default_debs())]
    debs: PathBuf,
    /// The demo machine's firmware
    #[arg(long, value_enum, default_value = "bios")]
    firmware: crate::demo_deploy::Firmware,
    /// Skip the deployment (tsmedia PE, QEMU); --debs and --firmware are then refused
    #[arg(long, conflicts_with_all = ["debs", "firmware"])]
    no_boot: bool,
}

pub fn run(a: DemoArgs, cancel: &Cancel) -> Result<()> {
    // What the deployment needs is checked before anything is written.
    if !a.no_boot {
        crate::demo_deploy::check(&a.debs, a.firmware)?;
    }
    let src = a.dir.join("source");
    let wim_path = a.dir.join("demo.wim");
    let out = a.dir.join("applied");
    for p in [&src, &out] {
        if p.exists() {
            std::fs::remove_dir_all(p).with_context(|| format!("clearing {}", p.display()))?;
        }
    }
    let t = Instant::now();
    let bytes = tsmedia_corpus::generate(&src, &tsmedia_corpus::Spec::small())
        .with_context(|| format!("generating {}", src.display()))?;
    println!(
        "generated {} ({bytes} bytes) in {:.2?}",
        src.display(),
        t.elapsed()
    );

    let t = Instant::now();
    let opts = WriteOptions {
        cancel: cancel.clone(),
        integrity: true,
        ..WriteOptions::default()
    };
    let mut w = WimWriter::create(&wim_path, opts)?;
    let copts = CaptureOptions {
        name: Some("Demo".into()),
        unix_data: true,
        ..CaptureOptions::default()
    };
    let report = tsmedia_wim::capture::capture(&src, &mut w, &copts)?;
    w.finish(1)?;
    let size = std::fs::metadata(&wim_path)?.len();
    println!(
        "captured {} dirs, {} files into {} ({size} bytes, LZX, integrity table) in {:.2?}",
        report.dirs,
        report.files,
        wim_path.display(),
        t.elapsed()
    );

    let wim = Wim::open(&wim_path)?;
    let t = Instant::now();
    let v = tsmedia_wim::ops::verify(&wim, &NoProgress)?;
    println!(
        "verified {} blobs and the integrity table in {:.2?}",
        v.blobs,
        t.elapsed()
    );

    let t = Instant::now();
    let r = tsmedia_wim::apply::apply(
        &wim,
        1,
        &out,
        &ApplyOptions {
            cancel: cancel.clone(),
            ..Default::default()
        },
    )?;
    println!(
        "applied {} files, {} symlinks to {} in {:.2?}",
        r.files,
        r.symlinks,
        out.display(),
        t.elapsed()
    );

    let n = compare_trees(&src, &out)?;
    println!("compared {n} entries: contents, symlink targets, modes and mtimes are identical");

    let t = Instant::now();
    let media = crate::demo_media::run(&a.dir, &wim_path).context("building demo media")?;
    for m in &media {
        println!("media: {}", m.display());
    }
    println!(
        "built a demo site, a bootable ISO and a prestaged WIM in {:.2?} (media password: demo; \
         `tsmedia media inspect PATH --password demo`)",
        t.elapsed()
    );
    if !a.no_boot {
        crate::demo_deploy::run(&a.dir, &a.debs, a.firmware)?;
    }
    Ok(())
}

/// Compares two trees: names, types, contents, symlink targets, modes, mtimes (to the 100 ns
/// that WIM stores).
fn compare_trees(a: &Path, b: &Path) -> Result<usize> {
    use std::os::unix::fs::MetadataExt;
    let mut n = 0;
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let (pa, pb) = (a.join(&rel), b.join(&rel));
        let (ma, mb) = (
            std::fs::symlink_metadata(&pa)?,
            std::fs::symlink_metadata(&pb).with_context(|| format!("{} missing", pb.display()))?,
        );
        if ma.file_type() != mb.file_type()
            || ma.mode() != mb.mode()
            || ma.mtime() != mb.mtime()
            || ma.mtime_nsec() / 100 != mb.mtime_nsec() / 100
        {
            bail!(
                "{} differs from {} (type, mode or mtime)",
                pb.display(),
                pa.display()
            );
        }
        if ma.is_symlink() {
            if std::fs::read_link(&pa)? != std::fs::read_link(&pb)? {
                bail!("symlink {} has another target", pb.display());
            }
        } else if ma.is_file() {
            if std::fs::read(&pa)? != std::fs::read(&pb)? {
                bail!("{} has other contents", pb.display());
            }
        } else if ma.is_dir() {
            let mut names_a: Vec<_> = std::fs::read_dir(&pa)?
                .map(|e| e.map(|e| e.file_name()))
                .collect::<Result<_, _>>()?;
            let mut names_b: Vec<_> = std::fs::read_dir(&pb)?
                .map(|e| e.map(|e| e.file_name()))
                .collect::<Result<_, _>>()?;
            names_a.sort();
            names_b.sort();
            if names_a != names_b {
                bail!("{} lists other entries than {}", pb.display(), pa.display());
            }
            stack.extend(names_a.into_iter().map(|x| rel.join(x)));
        }
        n += 1;
    }
    Ok(n)
}
