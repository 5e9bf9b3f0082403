//! Prestaged media: one WIM holding `sources/boot.wim`, the boot files, the media
//! configuration and the content under `SMS/PKG`, with the media properties in its XML.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use tsmedia_base::Cancel;

use tsmedia_image::DataSource;
use tsmedia_wim::dentry::{Dentry, attr};
use tsmedia_wim::header::{HEADER_SIZE, Header};
use tsmedia_wim::xml::Element;
use tsmedia_wim::{Sha1, WimWriter, WriteOptions};

use super::boot_wim::{file_time, write_options};
use super::{Files, Staged};
use crate::error::{IoContext, Result, wim};
use crate::layout::{PROPERTY_COMMENT, PROPERTY_CREATED_BY, PROPERTY_LABEL, PROPERTY_VERSION};
use crate::plan::{FileSource, MediaPlan, PlannedFile};

/// Writes `files` (`planned` says where each comes from) as the one image of the WIM `out`,
/// each library file read once.
pub(super) fn write(
    plan: &MediaPlan,
    files: Files,
    planned: &[PlannedFile],
    out: &Path,
    cancel: &Cancel,
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
    // The library is single-instance: one library file is one blob, read and compressed once
    // however many packages hold it.
    let mut stored: HashMap<&Path, Sha1> = HashMap::new();
    for ((dest, size, src), planned) in files.into_iter().zip(planned) {
        let library = match &planned.source {
            FileSource::Library(p) if planned.dest == dest => Some(p.as_path()),
            _ => None,
        };
        if let Some(sha) = library.and_then(|p| stored.get(p)) {
            root.insert_file(&dest, *sha, t);
            continue;
        }
        let raw = compressed_wim(src.as_ref()).at(Path::new(&dest))?;
        let mut r = src.open().at(Path::new(&dest))?;
        let sha = if raw {
            w.write_blob_stored(&mut r, size, None, Path::new(&dest))
        } else {
            w.write_blob(&mut r, size, None, Path::new(&dest))
        }
        .map_err(wim(what()))?;
        if let Some(p) = library {
            stored.insert(p, sha);
        }
        root.insert_file(&dest, sha, t);
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
    // The wizard's Media Properties page, each in its own element for `media inspect` (WIM
    // readers keep elements they do not know).
    xml.set(PROPERTY_LABEL, Some(&plan.spec.label()));
    for (path, v) in [
        (PROPERTY_CREATED_BY, &plan.spec.created_by),
        (PROPERTY_VERSION, &plan.spec.version),
        (PROPERTY_COMMENT, &plan.spec.comment),
    ] {
        if let Some(v) = v {
            xml.set(path, Some(v));
        }
    }
    w.add_image(&image, xml).map_err(wim(what()))?;
    w.finish(0).map_err(wim(what()))?;
    Ok(Staged::Done(out.to_path_buf()))
}

/// Whether a file is a WIM (or `.swm` part) with compressed resources: `sources/boot.wim` and
/// OS images, the bulk of prestaged media. Compressing them again costs minutes on real
/// images and gains nothing, so they are stored as they are.
fn compressed_wim(src: &dyn DataSource) -> std::io::Result<bool> {
    let mut head = Vec::with_capacity(HEADER_SIZE);
    src.open()?
        .take(HEADER_SIZE as u64)
        .read_to_end(&mut head)?;
    Ok(Header::parse(&head)
        .and_then(|h| h.compression())
        .is_ok_and(|c| c.is_some()))
}

#[cfg(test)]
mod tests {
    use super::compressed_wim;
    use tsmedia_codecs::Format;
    use tsmedia_wim::header::Header;

    #[test]
    fn compressed_wims_are_recognised_by_their_header() {
        let lzx = Header::new([1; 16], Some(Format::Lzx), 32_768)
            .to_bytes()
            .to_vec();
        let none = Header::new([1; 16], None, 32_768).to_bytes().to_vec();
        assert!(compressed_wim(&lzx).expect("reads"));
        assert!(!compressed_wim(&none).expect("reads"));
        assert!(!compressed_wim(&lzx[..100].to_vec()).expect("reads"));
        assert!(!compressed_wim(&vec![0u8; 4096]).expect("reads"));
    }
}
