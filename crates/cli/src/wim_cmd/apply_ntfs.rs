//! `apply` onto an NTFS volume: a block device, or a regular file that holds an NTFS volume
//! (what wimlib does with NTFS-3G), written with every piece of Windows metadata through
//! `tsmedia-ntfs`.

use super::common::print_warnings;
use crate::progress::Bar;
use anyhow::{Context, Result, bail};
use std::path::Path;
use tsmedia_base::Cancel;
use tsmedia_wim::{ApplyOptions, Wim};

/// Whether `target` is applied as an NTFS volume; a regular file that holds none is refused
/// here rather than failing as "not a directory".
pub fn is_ntfs_mode(target: &Path) -> Result<bool> {
    if tsmedia_ntfs::is_ntfs_target(target)? {
        return Ok(true);
    }
    if target.is_file() {
        bail!(
            "{}: a regular file with no NTFS volume in it (no \"NTFS    \" boot sector); \
             format it with mkntfs to apply onto it, or give a directory",
            target.display()
        );
    }
    Ok(false)
}

/// The NTFS-mode apply of image `image` of `wim` onto `target`. `refused` lists the options
/// given that have no meaning on NTFS.
pub fn apply(
    wim: &Wim,
    wim_path: &Path,
    image: &str,
    target: &Path,
    refused: &[&str],
    quiet: bool,
    cancel: &Cancel,
) -> Result<()> {
    if !refused.is_empty() {
        bail!(
            "{} cannot be used when applying onto an NTFS volume ({})",
            refused.join(", "),
            target.display()
        );
    }
    if image.eq_ignore_ascii_case("all") {
        bail!(
            "an NTFS volume takes one image: name it (index or name), not `all` ({})",
            target.display()
        );
    }
    let i = wim.resolve_image(image)?;
    let bar = Bar::new("applying", quiet);
    let opts = ApplyOptions {
        cancel: cancel.clone(),
        progress: bar.clone(),
        ..Default::default()
    };
    let report = tsmedia_ntfs::apply_to_ntfs(wim, i, target, &opts).with_context(|| {
        format!(
            "applying image {i} of {} to the NTFS volume {}",
            wim_path.display(),
            target.display()
        )
    })?;
    bar.clear();
    print_warnings(&report.warnings);
    if !quiet {
        eprintln!(
            "applied {} directories, {} files, {} reparse points, {} bytes to the NTFS volume {}",
            report.dirs,
            report.files,
            report.symlinks,
            report.bytes,
            target.display()
        );
    }
    Ok(())
}
