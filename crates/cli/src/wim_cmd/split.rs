//! `split`, `join` and `verify`.

use super::common::open_with_refs;
use crate::progress::Bar;
use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::PathBuf;
use tsmedia_wim::{Wim, WriteOptions, ops};

#[derive(Args)]
#[command(args_override_self = true)]
pub struct SplitArgs {
    wim: PathBuf,
    /// First part's name, e.g. install.swm (then install2.swm, install3.swm, ...)
    part1: PathBuf,
    /// Largest part size in MiB; fractions are allowed (0.5 is 512 KiB)
    max_mib: f64,
    /// Check the integrity table of WIM first
    #[arg(long)]
    check: bool,
}

pub fn split(a: SplitArgs) -> Result<()> {
    if !(a.max_mib.is_finite() && a.max_mib > 0.0) {
        bail!("part size {} MiB: give a positive number", a.max_mib);
    }
    let bytes = (a.max_mib * 1_048_576.0) as u64;
    let wim = super::common::open_checked(&a.wim, &[], a.check)?;
    let parts = if wim.header.pipable {
        split_pipable(&wim, &a.part1, bytes.max(1))?
    } else {
        ops::split(&wim, &a.part1, bytes.max(1))?
    };
    for p in parts {
        println!("{}", p.display());
    }
    Ok(())
}

/// A pipable WIM is rebuilt in the normal layout first (same GUID, images, properties and boot
/// image), next to the parts, and that copy is split: the parts are normal WIM parts.
fn split_pipable(wim: &Wim, part1: &std::path::Path, bytes: u64) -> Result<Vec<PathBuf>> {
    let staging = part1.with_file_name(format!(
        ".{}.tsmedia-split-{}.wim",
        part1
            .file_name()
            .map_or_else(|| "part".into(), |n| n.to_string_lossy().into_owned()),
        std::process::id()
    ));
    let mut opts = ops::inherit_options(wim, WriteOptions::default(), false)?;
    opts.guid = Some(wim.header.guid);
    let spec = ops::ExportSpec {
        boot: wim.header.boot_index != 0,
        integrity: Some(false),
        ..ops::ExportSpec::default()
    };
    let images: Vec<u32> = (1..=wim.image_count()).collect();
    let result = ops::export_with(wim, &images, &staging, opts, &spec)
        .context("rebuilding the pipable WIM in the normal layout")
        .and_then(|()| {
            let plain =
                Wim::open(&staging).with_context(|| format!("opening {}", staging.display()))?;
            Ok(ops::split(&plain, part1, bytes)?)
        });
    let _ = std::fs::remove_file(&staging);
    result
}

#[derive(Args)]
#[command(args_override_self = true)]
pub struct JoinArgs {
    out: PathBuf,
    #[arg(required = true)]
    parts: Vec<PathBuf>,
    /// Write an integrity table (tsmedia's join writes one only when asked)
    #[arg(long)]
    check: bool,
}

pub fn join(a: JoinArgs) -> Result<()> {
    if a.check {
        bail!("--check is not supported by join yet");
    }
    Ok(ops::join(&a.out, &a.parts)?)
}

#[derive(Args)]
#[command(args_override_self = true)]
pub struct VerifyArgs {
    wim: PathBuf,
    #[arg(long = "ref")]
    refs: Vec<String>,
    #[arg(long, short)]
    quiet: bool,
}

pub fn verify(a: VerifyArgs) -> Result<()> {
    let wim: Wim = open_with_refs(&a.wim, &a.refs)?;
    let bar = Bar::new("verifying", a.quiet);
    let r = ops::verify(&wim, bar.as_ref())
        .with_context(|| format!("verifying {}", a.wim.display()))?;
    bar.clear();
    if !a.quiet {
        println!(
            "{}: OK — {} images, {} dentries, {} blobs ({} bytes) hash-checked{}",
            a.wim.display(),
            r.images,
            r.dentries,
            r.blobs,
            r.bytes,
            if r.integrity_checked {
                ", integrity table matches"
            } else {
                ", no integrity table"
            }
        );
    }
    Ok(())
}
