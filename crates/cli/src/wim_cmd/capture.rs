//! `capture` and `append`: a directory captured as a new image, with wimlib-imagex's syntax
//! (`capture SOURCE WIMFILE [IMAGE_NAME [IMAGE_DESCRIPTION]]`).

use super::common::{WriteArgs, print_warnings, write_options};
use super::pipe;
use crate::progress::Bar;
use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::PathBuf;
use tsmedia_base::Cancel;
use tsmedia_wim::capture::CaptureOptions;
use tsmedia_wim::capture_config::CaptureConfig;
use tsmedia_wim::header::flags as header_flags;
use tsmedia_wim::ops;
use tsmedia_wim::source_list;
use tsmedia_wim::{Wim, WimWriter};

#[derive(Args)]
#[command(args_override_self = true)]
pub struct CaptureArgs {
    /// Directory to capture (with --source-list: the list file, `-` for standard input)
    src: PathBuf,
    /// WIM file to write (`-`: a pipable WIM to standard output)
    wim: PathBuf,
    /// Image name (default: the source directory's name)
    #[arg(value_name = "IMAGE_NAME")]
    pos_name: Option<String>,
    /// Image description
    #[arg(value_name = "IMAGE_DESCRIPTION")]
    pos_description: Option<String>,
    /// Image name (the same as IMAGE_NAME)
    #[arg(long, conflicts_with = "pos_name")]
    name: Option<String>,
    /// Image description (the same as IMAGE_DESCRIPTION)
    #[arg(long, conflicts_with = "pos_description")]
    description: Option<String>,
    #[command(flatten)]
    write: WriteArgs,
    /// Make the new image the bootable one
    #[arg(long)]
    boot: bool,
    /// Capture configuration file: [ExclusionList] and [ExclusionException] globs (default:
    /// wimlib's exclusions of pagefile.sys, hiberfil.sys, swapfile.sys, System Volume
    /// Information, the recycle bins, ...)
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Store UNIX owner, group and mode of every file (restored by apply --unix-data)
    #[arg(long)]
    unix_data: bool,
    /// Store absolute symlinks into SOURCE relative to the image root, so apply makes them
    /// point into its target (the default of capture, and of append when the WIM has such
    /// fixups already)
    #[arg(long)]
    rpfix: bool,
    /// Store absolute symlink targets as they are
    #[arg(long, conflicts_with = "rpfix")]
    norpfix: bool,
    /// Capture no security descriptors (none are read on Linux)
    #[arg(long)]
    no_acls: bool,
    /// Fail when a security descriptor cannot be read (none are read on Linux)
    #[arg(long)]
    strict_acls: bool,
    /// append: rebuild the WIM (tsmedia always rebuilds it)
    #[arg(long)]
    rebuild: bool,
    /// append: create the WIM when it does not exist
    #[arg(long)]
    create: bool,
    /// SOURCE is a list of `SOURCE [TARGET]` lines: files and directories placed at paths of
    /// the image (directories sharing a path are merged)
    #[arg(long)]
    source_list: bool,
    /// No progress bar
    #[arg(long, short)]
    quiet: bool,
}

pub fn capture(a: CaptureArgs, cancel: &Cancel, append: bool) -> Result<()> {
    if a.create && !append {
        bail!("--create is an option of append");
    }
    // Accepted because tsmedia already does what they ask: no ACLs are read on Linux,
    // absolute symlinks are stored as they are, and an append always rebuilds the WIM.
    let _ = (a.no_acls, a.strict_acls, a.rebuild);
    let to_stdout = pipe::is_std(&a.wim);
    if to_stdout && append && !a.create {
        bail!("append to standard output (`-`) makes no sense: give a WIM file");
    }
    // append --create on a missing WIM (or on standard output) is a capture.
    let append = append && !to_stdout && (!a.create || a.wim.exists());
    // wimlib keeps a pipable WIM pipable on append unless --not-pipable.
    let pipable = to_stdout
        || a.write.pipable
        || (append && !a.write.not_pipable && pipe::file_is_pipable(&a.wim));
    let mut opts = write_options(&a.write, cancel)?;
    if pipable && opts.solid.is_some() {
        bail!("--solid: pipable WIMs cannot hold solid resources (wimlib refuses them too)");
    }
    // wimlib: fixups by default on capture; on append, when the WIM already has them.
    let mut rpfix = !a.norpfix;
    if append {
        let old = Wim::open(&a.wim).with_context(|| format!("opening {}", a.wim.display()))?;
        if a.write.check && !old.header.integrity.is_zero() {
            ops::check_integrity(&old)
                .with_context(|| format!("checking the integrity table of {}", a.wim.display()))?;
        }
        opts.integrity = a.write.integrity_given(!old.header.integrity.is_zero());
        rpfix = a.rpfix || (!a.norpfix && old.header.flags & header_flags::RP_FIX != 0);
        if let Some(c) = &a.write.compress {
            let (f, _) = super::common::parse_compression(c)?;
            if old.header.compression()? != f {
                bail!(
                    "--compress={c}: {} has another compression, which append cannot change",
                    a.wim.display()
                );
            }
        }
    }
    let mut config = match &a.config {
        Some(p) => CaptureConfig::load(p)?,
        None => CaptureConfig::default_exclusions(),
    };
    config.ignore_case = std::env::var("WIMLIB_IMAGEX_IGNORE_CASE").is_ok_and(|v| v == "1");
    let copts = CaptureOptions {
        name: a.name.or(a.pos_name),
        description: a.description.or(a.pos_description),
        unix_data: a.unix_data,
        config: Some(config),
        rpfix,
    };
    let sources = if a.source_list {
        let text = if pipe::is_std(&a.src) {
            let mut t = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut t)
                .context("reading the source list from standard input")?;
            t
        } else {
            std::fs::read_to_string(&a.src)
                .with_context(|| format!("reading the source list {}", a.src.display()))?
        };
        if append {
            bail!("--source-list is supported by capture, not yet by append");
        }
        Some(source_list::parse(&text, &a.src)?)
    } else {
        None
    };
    let bar = Bar::new(if append { "appending" } else { "capturing" }, a.quiet);
    let report = if append {
        let r = ops::append(&a.wim, &a.src, opts, &copts, a.boot)
            .with_context(|| format!("appending {} to {}", a.src.display(), a.wim.display()))?;
        if pipable {
            pipe::make_pipable(&a.wim)?;
        }
        r
    } else {
        // A pipable WIM is written normally to a staging file first, then streamed out.
        let staging = pipable.then(|| pipe::Staging::for_dest(&a.wim));
        let first = staging
            .as_ref()
            .map_or(a.wim.as_path(), |s| s.path.as_path());
        let mut w = WimWriter::create(first, opts)?;
        w.set_progress(bar.clone());
        let r = match &sources {
            Some(list) => {
                let name = a
                    .src
                    .file_name()
                    .map_or_else(|| "image".to_string(), |n| n.to_string_lossy().into_owned());
                source_list::capture_list(list, &mut w, &copts, &name)
            }
            None => tsmedia_wim::capture::capture(&a.src, &mut w, &copts),
        }
        .with_context(|| format!("capturing {}", a.src.display()))?;
        w.finish(if a.boot { 1 } else { 0 })
            .with_context(|| format!("writing {}", a.wim.display()))?;
        if let Some(s) = &staging {
            pipe::emit(&s.path, &a.wim)?;
        }
        r
    };
    bar.clear();
    print_warnings(&report.warnings);
    if !a.quiet {
        eprintln!(
            "{} {} directories, {} files, {} bytes into {}",
            if append { "appended" } else { "captured" },
            report.dirs,
            report.files,
            report.bytes,
            if to_stdout {
                "standard output".into()
            } else {
                a.wim.display().to_string()
            }
        );
    }
    Ok(())
}
