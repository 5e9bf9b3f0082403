//! Export and append: new images added to a WIM, which is rebuilt under a temporary name and
//! renamed when complete.

use super::{copy_image, inherit_options};
use crate::capture::{self, CaptureReport};
use crate::error::{Error, Result};
use crate::read::Wim;
use crate::write::{WimWriter, WriteOptions};
use crate::xml;
use std::path::Path;

/// Exports `images` of `src` to `dest`: appended to it when it exists (the result replaces it
/// atomically), else a new WIM with `opts`.
pub fn export(
    src: &Wim,
    images: &[u32],
    dest: &Path,
    opts: WriteOptions,
    boot: bool,
) -> Result<()> {
    src.check_parts()?;
    let existing = if dest.exists() {
        Some(Wim::open(dest)?)
    } else {
        None
    };
    let opts = match &existing {
        Some(d) => inherit_options(d, opts, false)?,
        None => opts,
    };
    let mut w = WimWriter::create(dest, opts)?;
    let mut boot_index = 0;
    if let Some(d) = &existing {
        for i in 1..=d.image_count() {
            copy_image(d, i, &mut w)?;
        }
        boot_index = d.header.boot_index;
    }
    for &i in images {
        copy_image(src, i, &mut w)?;
        if boot || src.header.boot_index == i && images.len() == 1 && boot_index == 0 {
            boot_index = w.image_count();
        }
    }
    w.finish(boot_index)
}

/// Appends a captured directory as a new image of the WIM at `path`.
pub fn append(
    path: &Path,
    src_dir: &Path,
    opts: WriteOptions,
    copts: &capture::CaptureOptions,
    boot: bool,
) -> Result<CaptureReport> {
    let old = Wim::open(path)?;
    old.check_parts()?;
    let opts = inherit_options(&old, opts, false)?;
    let name = copts.name.clone();
    if let Some(n) = &name
        && xml::images(&old.xml).any(|e| e.get("NAME") == Some(n))
    {
        return Err(Error::DuplicateImageName {
            name: n.clone(),
            wim: path.to_path_buf(),
        });
    }
    let mut w = WimWriter::create(path, opts)?;
    for i in 1..=old.image_count() {
        copy_image(&old, i, &mut w)?;
    }
    let report = capture::capture(src_dir, &mut w, copts)?;
    let boot_index = if boot {
        w.image_count()
    } else {
        old.header.boot_index
    };
    w.finish(boot_index)?;
    Ok(report)
}
