//! The OS image of prestaged media (the wizard's Images page): an OS image package, and the
//! image of its WIM the media are for. "If the package contains multiple operating system
//! images, specify the image to deploy" — an index the WIM does not hold is refused, naming
//! the WIM and the images it has.

use tsmedia_site::{PackageType, Site};
use tsmedia_wim::Wim;

use super::Checker;
use crate::error::Result;
use crate::spec::{MediaKind, MediaSpec};

/// Checks `--os-image` and `--os-image-index`; returns the image index the media are for
/// (`--os-image-index`, else the package's, else 1) when an OS image is carried.
pub(super) fn check(c: &mut Checker, site: &Site, spec: &MediaSpec) -> Result<Option<u32>> {
    if spec.kind != MediaKind::Prestaged {
        // Options of other media types are refused by `applicable`.
        return Ok(None);
    }
    let Some(id) = &spec.os_image else {
        if let Some(i) = spec.os_image_index {
            c.fail(
                format!("--os-image-index {i}"),
                "no OS image chosen",
                "add --os-image ID (`tsmedia package list --type os-image`)",
            );
        }
        return Ok(None);
    };
    // An unknown package is reported by the content checks.
    let Ok(p) = site.package(id) else {
        return Ok(None);
    };
    if p.kind != PackageType::OsImage {
        c.fail(
            format!("OS image {id}"),
            format!("is a {}", p.kind.as_str()),
            "give an OS image package",
        );
        return Ok(None);
    }
    let files = site.content_files(&p.content_id)?;
    let Some(wim_file) = files
        .iter()
        .find(|f| f.path.to_ascii_lowercase().ends_with(".wim"))
    else {
        c.fail(
            format!("OS image {}", p.id),
            "its content holds no .wim file",
            "update the OS image package with its install.wim",
        );
        return Ok(None);
    };
    let wim = match Wim::open(&wim_file.library_path) {
        Ok(w) => w,
        Err(e) => {
            c.fail(
                format!("OS image {}", p.id),
                format!("{}: {e}", wim_file.path),
                "update the OS image package with a valid WIM",
            );
            return Ok(None);
        }
    };
    let count = wim.image_count();
    let index = spec.os_image_index.or(p.image_index).unwrap_or(1);
    let images: Vec<String> = (1..=count)
        .map(|i| {
            let name = p
                .images
                .iter()
                .flatten()
                .find(|m| m.index == i)
                .map(|m| m.name.as_str())
                .filter(|n| !n.is_empty());
            match name {
                Some(n) => format!("{i} ({n})"),
                None => i.to_string(),
            }
        })
        .collect();
    if index == 0 || index > count {
        c.fail(
            format!("--os-image-index {index}"),
            format!(
                "OS image {} ({}) holds {count} image(s): {}",
                p.id,
                wim_file.path,
                images.join(", ")
            ),
            format!("choose one of them (`tsmedia package show {}`)", p.id),
        );
        return Ok(None);
    }
    c.pass(format!(
        "OS image {} ({}) image {index} of {count}",
        p.id, wim_file.path
    ));
    Ok(Some(index))
}
