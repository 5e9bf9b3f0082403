//! `export` and `delete`: images copied to another WIM, or removed from one.

use super::common::{WriteArgs, open_checked, parse_compression, resolve_images, solid_options};
use super::pipe;
use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::PathBuf;
use tsmedia_base::Cancel;
use tsmedia_wim::WriteOptions;
use tsmedia_wim::ops::{self, ExportSpec};

#[derive(Args)]
#[command(args_override_self = true)]
pub struct ExportArgs {
    src: PathBuf,
    /// Image index, name or `all`
    image: String,
    dest: PathBuf,
    /// Name of the copy (one image only; "" for none)
    #[arg(value_name = "DEST_IMAGE_NAME")]
    dest_name: Option<String>,
    /// Description of the copy (one image only)
    #[arg(value_name = "DEST_IMAGE_DESCRIPTION")]
    dest_description: Option<String>,
    #[arg(long = "ref")]
    refs: Vec<String>,
    #[command(flatten)]
    write: WriteArgs,
    /// Make the copy bootable; with `all`, the copy of the source's bootable image
    #[arg(long)]
    boot: bool,
    /// Rebuild the destination (tsmedia always rebuilds it)
    #[arg(long)]
    rebuild: bool,
}

pub fn export(a: ExportArgs, cancel: &Cancel) -> Result<()> {
    let _ = a.rebuild; // accepted: tsmedia always rebuilds the destination
    let src = open_checked(&a.src, &a.refs, a.write.check)?;
    let images = resolve_images(&src, &a.image)?;
    let mut opts = ops::inherit_options(&src, WriteOptions::default(), false)?;
    opts.solid = solid_options(&a.write)?;
    // wimlib: a new solid WIM's other resources are LZMS unless --compress says otherwise.
    let default_compress = (opts.solid.is_some() && !a.dest.exists()).then_some("lzms");
    if let Some(c) = a.write.compress.as_deref().or(default_compress) {
        let (f, level) = parse_compression(c)?;
        opts.compression = f;
        opts.chunk_size = f.map(|f| f.default_chunk_size() as u32).unwrap_or(0);
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
    opts.integrity = a.write.integrity_wanted();
    opts.cancel = cancel.clone();
    let spec = ExportSpec {
        boot: a.boot,
        name: a.dest_name,
        description: a.dest_description,
        compression_given: a.write.compress.is_some(),
        integrity: a.write.nocheck.then_some(false),
    };
    let to_stdout = pipe::is_std(&a.dest);
    let pipable =
        to_stdout || a.write.pipable || (!a.write.not_pipable && pipe::file_is_pipable(&a.dest));
    if pipable && opts.solid.is_some() {
        bail!("--solid: pipable WIMs cannot hold solid resources (wimlib refuses them too)");
    }
    if !pipable {
        ops::export_with(&src, &images, &a.dest, opts, &spec)
            .with_context(|| format!("exporting to {}", a.dest.display()))?;
        return Ok(());
    }
    if to_stdout {
        let staging = pipe::Staging::for_dest(&a.dest);
        ops::export_with(&src, &images, &staging.path, opts, &spec)
            .context("exporting to standard output")?;
        return pipe::emit(&staging.path, &a.dest);
    }
    ops::export_with(&src, &images, &a.dest, opts, &spec)
        .with_context(|| format!("exporting to {}", a.dest.display()))?;
    pipe::make_pipable(&a.dest)
}

#[derive(Args)]
#[command(args_override_self = true)]
pub struct DeleteArgs {
    wim: PathBuf,
    /// Image index, name or `all`
    image: String,
    /// Check the integrity table first, and write one
    #[arg(long)]
    check: bool,
    /// Write an integrity table (without checking the old one)
    #[arg(long)]
    include_integrity: bool,
    /// Remove the integrity table
    #[arg(long, conflicts_with_all = ["check", "include_integrity"])]
    nocheck: bool,
    /// Only mark the image deleted (tsmedia always rebuilds the WIM, which is also smaller)
    #[arg(long)]
    soft: bool,
}

pub fn delete(a: DeleteArgs) -> Result<()> {
    if a.soft {
        bail!("--soft is not supported: tsmedia rebuilds the WIM without the deleted images");
    }
    let wim = open_checked(&a.wim, &[], a.check)?;
    let images = resolve_images(&wim, &a.image)?;
    drop(wim);
    let integrity = if a.nocheck {
        Some(false)
    } else if a.check || a.include_integrity {
        Some(true)
    } else {
        None
    };
    let pipable = pipe::file_is_pipable(&a.wim);
    ops::delete_images(&a.wim, &images, integrity)
        .with_context(|| format!("deleting from {}", a.wim.display()))?;
    if pipable {
        pipe::make_pipable(&a.wim)?;
    }
    Ok(())
}
