//! Prestaged media: one WIM holding `sources/boot.wim`, the boot files, the media
//! configuration and the content under `SMS/PKG`, with the media properties in its XML.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use tsmedia_wim::dentry::{Dentry, attr};
use tsmedia_wim::xml::Element;
use tsmedia_wim::{WimWriter, WriteOptions};

use super::boot_wim::{file_time, insert, write_options};
use super::{Files, Staged};
use crate::error::{IoContext, Result, wim};
use crate::plan::MediaPlan;

/// Writes `files` as the one image of the WIM `out`, each read once.
pub(super) fn write(
    plan: &MediaPlan,
    files: Files,
    out: &Path,
    cancel: &Option<Arc<AtomicBool>>,
) -> Result<Staged> {
    let what = || format!("writing {}", out.display());
    let mut w = WimWriter::create(out, write_options(plan, WriteOptions::default(), cancel))
        .map_err(wim(what()))?;
    let t = file_time(plan);
    let mut root = Dentry {
        attributes: attr::DIRECTORY,
        security_id: -1,
        creation_time: t,
        last_write_time: t,
        last_access_time: t,
        ..Dentry::default()
    };
    for (dest, size, src) in files {
        let mut r = src.open().at(Path::new(&dest))?;
        let sha = w
            .write_blob(&mut r, size, None, Path::new(&dest))
            .map_err(wim(what()))?;
        insert(&mut root, &dest, sha, t);
    }
    root.sort_children();
    let image = tsmedia_wim::metadata::Image {
        security: Default::default(),
        root,
    };
    let mut xml = Element::new("IMAGE");
    xml.children.push(Element::with_text(
        "NAME",
        format!("Prestaged media {}", plan.spec.label()),
    ));
    let mut desc = format!("boot image {}", plan.boot_image.id);
    if let Some((id, _)) = &plan.task_sequence {
        desc.push_str(&format!(", task sequence {id}"));
    }
    for (k, v) in [
        ("created by", &plan.spec.created_by),
        ("version", &plan.spec.version),
        ("comment", &plan.spec.comment),
    ] {
        if let Some(v) = v {
            desc.push_str(&format!(", {k}: {v}"));
        }
    }
    xml.children.push(Element::with_text("DESCRIPTION", desc));
    w.add_image(&image, xml).map_err(wim(what()))?;
    w.finish(0).map_err(wim(what()))?;
    Ok(Staged::Done(out.to_path_buf()))
}
