//! Whole-WIM operations built on the reader and writer: export, append, update, verify, split
//! and join. Every output is written under a temporary name and renamed when complete.

mod apply_all;
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

use crate::dentry::Dentry;
use crate::error::{Error, Result};
use crate::metadata::Image;
use crate::read::Wim;
use crate::sha1::Sha1;
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

pub(crate) fn copy_blobs_of(src: &Wim, root: &Dentry, w: &mut WimWriter) -> Result<()> {
    let mut hashes: Vec<Sha1> = Vec::new();
    root.walk(&mut |_, d| hashes.extend(d.blobs()));
    // In file order, so the source is read sequentially.
    let mut locs = Vec::with_capacity(hashes.len());
    for h in hashes.into_iter().filter(|h| !w.has_blob(h)) {
        let loc = src.blobs.get(&h).ok_or(Error::MissingBlob {
            sha1: h,
            user: None,
        })?;
        locs.push(loc);
    }
    locs.sort_by_key(|l| (l.part, l.entry.resource.offset));
    for loc in locs {
        w.copy_blob(src, loc)?;
    }
    Ok(())
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
