//! Changes to a WIM's list of images and their properties: delete images, rename them, change
//! their properties or the boot index. The WIM is rebuilt under a temporary name (blobs copied
//! verbatim) and renamed into place.

use super::{copy_blobs_of, inherit_options, load_image};
use crate::error::{Error, Result};
use crate::read::Wim;
use crate::write::{Cancel, WimWriter, WriteOptions};
use crate::xml::{self, Element};
use std::path::Path;

/// What a rebuilt WIM holds.
#[derive(Clone, Debug)]
pub struct Rewrite {
    /// The images kept, in their new order: the 1-based index in the old WIM and the
    /// `<IMAGE>` properties to give it.
    pub images: Vec<(u32, Element)>,
    /// 1-based index in the new WIM of the bootable image, 0 for none.
    pub boot_index: u32,
    /// Whether the new WIM has an integrity table.
    pub integrity: bool,
    /// Stops the copy at the next chunk when set.
    pub cancel: Cancel,
    /// How to write the new WIM (`optimize`); `None` keeps the old WIM's compression, chunk
    /// size and solid resources. Its integrity, cancel and GUID fields are ignored.
    pub write: Option<WriteOptions>,
}

impl Rewrite {
    /// Everything as it is in `wim`: every image with its properties, its boot index and
    /// whether it has an integrity table.
    pub fn unchanged(wim: &Wim) -> Rewrite {
        Rewrite {
            images: xml::images(&wim.xml)
                .enumerate()
                .map(|(i, e)| (i as u32 + 1, e.clone()))
                .collect(),
            boot_index: wim.header.boot_index,
            integrity: !wim.header.integrity.is_zero(),
            cancel: Cancel::default(),
            write: None,
        }
    }
}

/// Rebuilds the WIM at `path` (opened as `old`) as `spec` says.
pub fn rewrite(path: &Path, old: &Wim, spec: &Rewrite) -> Result<()> {
    old.check_parts()?;
    if old.header.total_parts > 1 {
        return Err(Error::Refused {
            reason: format!(
                "{} is part of a split WIM, which cannot be changed (join it first)",
                path.display()
            ),
        });
    }
    let mut opts = match &spec.write {
        Some(o) => o.clone(),
        None => {
            let mut o = inherit_options(old, WriteOptions::default(), false)?;
            super::keep_solid(old, &mut o)?;
            o
        }
    };
    opts.integrity = spec.integrity;
    opts.cancel = spec.cancel.clone();
    opts.guid = Some(old.header.guid);
    let mut w = WimWriter::create(path, opts)?;
    w.header.flags |= old.header.flags & crate::header::flags::RP_FIX;
    for (i, props) in &spec.images {
        let img = load_image(old, *i)?;
        copy_blobs_of(old, &img.root, &mut w)?;
        w.add_image(&img, props.clone())?;
    }
    w.finish(spec.boot_index)
}

/// Deletes `images` (1-based) from the WIM at `path`. The boot index follows the bootable
/// image, or becomes 0 when it is deleted.
pub fn delete_images(path: &Path, images: &[u32], integrity: Option<bool>) -> Result<()> {
    let old = Wim::open(path)?;
    for &i in images {
        if i == 0 || i > old.image_count() {
            return Err(Error::NoSuchImage {
                index: i,
                count: old.image_count(),
            });
        }
    }
    let mut spec = Rewrite::unchanged(&old);
    spec.images.retain(|(i, _)| !images.contains(i));
    spec.boot_index = spec
        .images
        .iter()
        .position(|(i, _)| *i == old.header.boot_index)
        .map_or(0, |p| p as u32 + 1);
    if let Some(c) = integrity {
        spec.integrity = c;
    }
    rewrite(path, &old, &spec)
}
