//! Whole-WIM operations built on the reader and writer: export, append, update, verify, split
//! and join. Every output is written under a temporary name and renamed when complete.

mod apply_all;
mod copy;
mod edit;
mod export;
mod extract;
mod split;
mod split_plan;
mod update;
mod verify;

pub use apply_all::apply_all;
pub use edit::{Rewrite, delete_images, rewrite};
pub use export::{ExportSpec, append, export, export_with};
pub use extract::{ExtractSpec, extract, extract_to};
pub use split::{join, part_name, split};
pub use split_plan::{PlannedPart, PlannedResource, SplitPlan};
pub use update::{UpdateCommand, update, update_with};
pub use verify::{VerifyReport, check_integrity, verify};

pub(crate) use copy::copy_blobs_of;

use crate::error::Result;
use crate::metadata::Image;
use crate::read::Wim;
use crate::write::{WimWriter, WriteOptions};
use crate::xml::Element;

/// Reads and parses an image's metadata.
pub fn load_image(wim: &Wim, image: u32) -> Result<Image> {
    let data = wim.read_metadata_resource(image)?;
    Image::parse(&data, image)
}

/// Copies image `image` of `src` (its blobs verbatim when the compression matches) into `w`.
pub fn copy_image(src: &Wim, image: u32, w: &mut WimWriter) -> Result<()> {
    let img = load_image(src, image)?;
    copy_blobs_of(src, &img.root, w)?;
    let xml = src
        .image_xml(image)
        .cloned()
        .unwrap_or_else(|| Element::new("IMAGE"));
    w.add_image(&img, xml)
}

/// Options of a new WIM that inherits the source's compression unless told otherwise.
pub fn inherit_options(
    src: &Wim,
    mut opts: WriteOptions,
    compression_given: bool,
) -> Result<WriteOptions> {
    if !compression_given {
        opts.compression = src.header.compression()?;
        if src.header.chunk_size != 0 {
            opts.chunk_size = src.header.chunk_size;
        }
    }
    Ok(opts)
}

/// With no solid options given, the solid options of `src` when it has solid resources (the
/// compression and chunk size of its first one): a WIM that was solid stays solid when
/// images are added to it or it is rebuilt, as wimlib does.
pub fn keep_solid(src: &Wim, opts: &mut WriteOptions) -> Result<()> {
    if opts.solid.is_some() {
        return Ok(());
    }
    let Some(loc) = src.blobs.values().find(|l| l.solid_run.is_some()) else {
        return Ok(());
    };
    let run = loc.solid_run.as_ref().expect("found with a run");
    let Some(first) = run.first() else {
        return Ok(());
    };
    let layout = crate::read::chunks::ChunkLayout::read(&src.parts[loc.part], first, None, 0)?;
    opts.solid = Some(crate::write::SolidOptions {
        compression: layout.format,
        level: opts.level,
        chunk_size: layout.chunk_size as u32,
        ..crate::write::SolidOptions::default()
    });
    Ok(())
}
