//! `optimize`: a WIM rebuilt in place (holes dropped), optionally with another compression,
//! chunk size or solid resources, with wimlib-imagex's options.

use super::common::{WriteArgs, open_checked, parse_compression, solid_options};
use super::pipe;
use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::PathBuf;
use tsmedia_base::Cancel;
use tsmedia_wim::WriteOptions;
use tsmedia_wim::ops::{self, Rewrite};

#[derive(Args)]
#[command(args_override_self = true)]
pub struct OptimizeArgs {
    wim: PathBuf,
    #[command(flatten)]
    write: WriteArgs,
    /// Compress every blob again, even those stored with the output's compression already
    /// (implied by --solid)
    #[arg(long)]
    recompress: bool,
    /// Rebuild the whole WIM (what optimize always does)
    #[arg(long)]
    rebuild: bool,
    /// Show no sizes
    #[arg(long, short)]
    quiet: bool,
}

pub fn optimize(a: OptimizeArgs, cancel: &Cancel) -> Result<()> {
    let _ = a.rebuild; // accepted: optimize always rebuilds the WIM
    pipe::refuse_std(&a.wim)?;
    let wim = open_checked(&a.wim, &[], a.write.check)?;
    if wim.header.total_parts > 1 {
        bail!("{} is part of a split WIM: join it first", a.wim.display());
    }
    let mut opts = ops::inherit_options(&wim, WriteOptions::default(), false)?;
    opts.solid = solid_options(&a.write)?;
    // wimlib: --solid recompresses everything and makes the other resources LZMS unless
    // --compress says otherwise.
    let default_compress = opts.solid.is_some().then_some("lzms");
    if let Some(c) = a.write.compress.as_deref().or(default_compress) {
        let (f, level) = parse_compression(c)?;
        opts.compression = f;
        opts.chunk_size = f.map_or(0, |f| f.default_chunk_size() as u32);
        if let Some(l) = level {
            opts.level = l;
        }
    }
    if let Some(cs) = a.write.chunk_size {
        opts.chunk_size = cs;
    }
    if let Some(t) = a.write.threads {
        opts.threads = t.max(1);
    }
    opts.recompress = a.recompress || opts.solid.is_some();
    if opts.solid.is_none() && a.write.compress.is_none() && a.write.chunk_size.is_none() {
        ops::keep_solid(&wim, &mut opts)?;
    }
    let pipable = a.write.pipable || (!a.write.not_pipable && pipe::file_is_pipable(&a.wim));
    if pipable && opts.solid.is_some() {
        bail!("--solid: pipable WIMs cannot hold solid resources (wimlib refuses them too)");
    }
    let mut spec = Rewrite::unchanged(&wim);
    spec.integrity = a.write.integrity_given(!wim.header.integrity.is_zero());
    spec.cancel = cancel.clone();
    spec.write = Some(opts);
    let before = std::fs::metadata(&a.wim)
        .with_context(|| format!("reading {}", a.wim.display()))?
        .len();
    ops::rewrite(&a.wim, &wim, &spec).with_context(|| format!("optimizing {}", a.wim.display()))?;
    drop(wim);
    if pipable {
        pipe::make_pipable(&a.wim)?;
    }
    let after = std::fs::metadata(&a.wim)
        .with_context(|| format!("reading {}", a.wim.display()))?
        .len();
    if !a.quiet {
        println!(
            "\"{}\" original size: {} KiB",
            a.wim.display(),
            before >> 10
        );
        println!(
            "\"{}\" optimized size: {} KiB",
            a.wim.display(),
            after >> 10
        );
        let saved = i128::from(before) - i128::from(after);
        let pct = if before == 0 {
            0.0
        } else {
            saved as f64 * 100.0 / before as f64
        };
        println!("Space saved: {} KiB ({pct:.2} %)", saved >> 10);
    }
    Ok(())
}
