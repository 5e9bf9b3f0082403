//! `apply`: an image, or all images, extracted to a directory; or an image onto an NTFS
//! volume (a block device or an NTFS image file: [`super::apply_ntfs`]).

use super::common::{open_checked, print_warnings};
use super::pipe;
use crate::progress::Bar;
use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::PathBuf;
use tsmedia_base::Cancel;
use tsmedia_wim::apply::ApplyOptions;
use tsmedia_wim::ops;

#[derive(Args)]
#[command(args_override_self = true)]
pub struct ApplyArgs {
    /// WIM file (first part of a split WIM); `-`: a pipable WIM from standard input
    wim: PathBuf,
    /// IMAGE (index, name or `all`) and TARGET directory; IMAGE may be omitted for a one-image WIM
    #[arg(num_args = 1..=2, required = true, value_names = ["IMAGE", "TARGET"])]
    rest: Vec<String>,
    /// The other parts of a split WIM, as a quoted glob (e.g. 'os*.swm')
    #[arg(long = "ref")]
    refs: Vec<String>,
    /// Check the integrity table first (when the WIM has one)
    #[arg(long)]
    check: bool,
    /// Restore no security descriptors (none are restored on Linux)
    #[arg(long)]
    no_acls: bool,
    /// Fail when a security descriptor cannot be restored (none are restored on Linux)
    #[arg(long)]
    strict_acls: bool,
    /// Make absolute symlinks fixed up at capture point into TARGET (the default when the
    /// WIM says its links were fixed up)
    #[arg(long)]
    rpfix: bool,
    /// Make absolute symlinks as they are stored
    #[arg(long, conflicts_with = "rpfix")]
    norpfix: bool,
    /// Accepted: UNIX owners and modes stored in the WIM are restored
    #[arg(long)]
    unix_data: bool,
    /// Write files whose data is corrupt anyway, with a warning (undecodable chunks as zeros)
    #[arg(long)]
    recover_data: bool,
    #[arg(long, short)]
    quiet: bool,
}

pub fn apply(a: ApplyArgs, cancel: &Cancel) -> Result<()> {
    // Accepted because tsmedia already does what they ask (see their help).
    let _ = (a.no_acls, a.strict_acls, a.unix_data);
    let spooled;
    let opened;
    let wim = if pipe::is_std(&a.wim) {
        if !a.refs.is_empty() {
            bail!("--ref cannot be given when applying from standard input (`-`)");
        }
        let target = a.rest.last().map(PathBuf::from).unwrap_or_default();
        spooled = pipe::from_stdin(&pipe::dir_for_target(&target))?;
        if a.check && !spooled.wim.header.integrity.is_zero() {
            tsmedia_wim::ops::check_integrity(&spooled.wim)
                .context("checking the integrity table of standard input")?;
        }
        &spooled.wim
    } else {
        opened = open_checked(&a.wim, &a.refs, a.check)?;
        &opened
    };
    let (image, target) = match a.rest.as_slice() {
        [t] => {
            if wim.image_count() != 1 {
                bail!(
                    "{} has {} images: name one (index, name or `all`)",
                    a.wim.display(),
                    wim.image_count()
                );
            }
            ("1".to_string(), PathBuf::from(t))
        }
        [i, t] => (i.clone(), PathBuf::from(t)),
        _ => bail!("expected [IMAGE] TARGET"),
    };
    if super::apply_ntfs::is_ntfs_mode(&target)? {
        let refused: Vec<&str> = [(a.unix_data, "--unix-data"), (a.no_acls, "--no-acls")]
            .iter()
            .filter(|(given, _)| *given)
            .map(|(_, name)| *name)
            .collect();
        return super::apply_ntfs::apply(wim, &a.wim, &image, &target, &refused, a.quiet, cancel);
    }
    let bar = Bar::new("applying", a.quiet);
    let opts = ApplyOptions {
        cancel: cancel.clone(),
        progress: bar.clone(),
        recover_data: a.recover_data,
        rpfix: if a.rpfix {
            Some(true)
        } else if a.norpfix {
            Some(false)
        } else {
            None
        },
        ..Default::default()
    };
    let report = if image.eq_ignore_ascii_case("all") {
        if pipe::is_std(&a.wim) {
            bail!("applying all images from standard input (`-`) is not supported, as in wimlib");
        }
        ops::apply_all(wim, &target, &opts)?
    } else {
        let i = wim.resolve_image(&image)?;
        tsmedia_wim::apply::apply(wim, i, &target, &opts).with_context(|| {
            format!(
                "applying image {i} of {} to {}",
                a.wim.display(),
                target.display()
            )
        })?
    };
    bar.clear();
    print_warnings(&report.warnings);
    if !a.quiet {
        eprintln!(
            "applied {} directories, {} files, {} symlinks, {} bytes to {}",
            report.dirs,
            report.files,
            report.symlinks,
            report.bytes,
            target.display()
        );
    }
    Ok(())
}
