//! Export and append: new images added to a WIM, which is rebuilt under a temporary name and
//! renamed when complete.

use super::{copy_blobs_of, copy_image, inherit_options, load_image};
use crate::capture::{self, CaptureReport};
use crate::error::{Error, Result};
use crate::read::Wim;
use crate::write::{WimWriter, WriteOptions};
use crate::xml::{self, Element};
use std::path::Path;

/// How [`export_with`] names the copies and treats an existing destination.
#[derive(Clone, Debug, Default)]
pub struct ExportSpec {
    /// Mark the copy bootable; with several images, the copy of the source's bootable one
    /// (refused when the source has none).
    pub boot: bool,
    /// New name of the copy (one image only); `Some("")` leaves it unnamed.
    pub name: Option<String>,
    /// New description of the copy (one image only).
    pub description: Option<String>,
    /// The compression was given: refused when `dest` exists with another one.
    pub compression_given: bool,
    /// Integrity table of the result: `None` keeps an existing destination's choice
    /// (`opts.integrity` for a new one).
    pub integrity: Option<bool>,
}

/// Exports `images` of `src` to `dest`: appended to it when it exists (the result replaces it
/// atomically), else a new WIM with `opts`.
pub fn export(
    src: &Wim,
    images: &[u32],
    dest: &Path,
    opts: WriteOptions,
    boot: bool,
) -> Result<()> {
    let spec = ExportSpec {
        boot,
        ..ExportSpec::default()
    };
    export_with(src, images, dest, opts, &spec)
}

/// [`export`] with wimlib's naming, `--boot` and compression rules ([`ExportSpec`]).
pub fn export_with(
    src: &Wim,
    images: &[u32],
    dest: &Path,
    opts: WriteOptions,
    spec: &ExportSpec,
) -> Result<()> {
    src.check_parts()?;
    let refuse = |reason: String| Err(Error::Refused { reason });
    if images.len() != 1 && (spec.name.is_some() || spec.description.is_some()) {
        return refuse("a new name or description can only be given to one image".into());
    }
    let src_boot = src.header.boot_index;
    if spec.boot && images.len() > 1 && (src_boot == 0 || !images.contains(&src_boot)) {
        return refuse("--boot: the source WIM has no bootable image to export".into());
    }
    let existing = if dest.exists() {
        Some(Wim::open(dest)?)
    } else {
        None
    };
    let mut opts = match &existing {
        Some(d) => {
            if spec.compression_given && d.header.compression()? != opts.compression {
                return refuse(format!(
                    "{} exists with another compression; its compression cannot be changed by \
                     an export",
                    dest.display()
                ));
            }
            let integrity = !d.header.integrity.is_zero() || opts.integrity;
            let mut o = inherit_options(d, opts, false)?;
            super::keep_solid(d, &mut o)?;
            o.integrity = integrity;
            o
        }
        None => opts,
    };
    if let Some(c) = spec.integrity {
        opts.integrity = c;
    }
    let mut names: Vec<String> = existing
        .iter()
        .flat_map(|d| xml::images(&d.xml).filter_map(|e| e.get("NAME").map(str::to_string)))
        .collect();
    let mut w = WimWriter::create(dest, opts)?;
    // Reparse point fixups stay recorded, from the destination and from the source (as wimlib).
    let rpfix = crate::header::flags::RP_FIX;
    w.header.flags |= src.header.flags & rpfix;
    w.header.flags |= existing.as_ref().map_or(0, |d| d.header.flags & rpfix);
    let mut boot_index = 0;
    if let Some(d) = &existing {
        for i in 1..=d.image_count() {
            copy_image(d, i, &mut w)?;
        }
        boot_index = d.header.boot_index;
    }
    for &i in images {
        let mut props = src
            .image_xml(i)
            .cloned()
            .unwrap_or_else(|| Element::new("IMAGE"));
        if let Some(n) = &spec.name {
            props.set("NAME", (!n.is_empty()).then_some(n.as_str()));
        }
        if let Some(d) = &spec.description {
            props.set("DESCRIPTION", (!d.is_empty()).then_some(d.as_str()));
        }
        if let Some(n) = props.get("NAME").filter(|n| !n.is_empty()) {
            if names.iter().any(|m| m == n) {
                return Err(Error::DuplicateImageName {
                    name: n.to_string(),
                    wim: dest.to_path_buf(),
                });
            }
            names.push(n.to_string());
        }
        let img = load_image(src, i)?;
        copy_blobs_of(src, &img.root, &mut w)?;
        w.add_image(&img, props)?;
        let bootable = if images.len() == 1 {
            spec.boot || src_boot == i && boot_index == 0
        } else {
            spec.boot && src_boot == i
        };
        if bootable {
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
    let mut opts = inherit_options(&old, opts, false)?;
    super::keep_solid(&old, &mut opts)?;
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
    w.header.flags |= old.header.flags & crate::header::flags::RP_FIX;
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
