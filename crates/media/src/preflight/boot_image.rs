//! The boot image: chosen or the task sequence's, the same as the task sequence's on prestaged
//! media, an architecture that boots the target (x64 boots x86 and x64; x86 only x86), a valid
//! WIM with the image index, and the Windows PE boot files the media form needs.

use std::path::PathBuf;

use tsmedia_site::{Arch, Package, PackageType, Site, StoredTaskSequence};
use tsmedia_wim::Wim;

use super::Checker;
use crate::bootfiles::{self, BootFile, Flavour};
use crate::error::Result;
use crate::spec::{MediaKind, MediaSpec, MediaType};

/// A checked boot image: the WIM in the library, the image index, its architecture and the
/// boot files found in it.
pub(super) struct BootImage {
    pub package: Package,
    pub wim: PathBuf,
    pub index: u32,
    pub arch: Arch,
    pub files: Vec<BootFile>,
    pub flavour: Flavour,
}

/// Finds and checks the boot image: its package (for the distribution checks) and, when every
/// check passed, the [`BootImage`].
pub(super) fn check(
    c: &mut Checker,
    site: &Site,
    spec: &MediaSpec,
    ts: Option<&StoredTaskSequence>,
) -> Result<(Option<Package>, Option<BootImage>)> {
    let boot_id = spec
        .boot_image
        .clone()
        .or_else(|| ts.and_then(|t| t.boot_image.clone()));
    let boot = match &boot_id {
        None => {
            c.fail(
                "--boot-image",
                "no boot image chosen and the task sequence names none",
                "add --boot-image ID",
            );
            return Ok((None, None));
        }
        Some(id) => match site.package_of_type(id, PackageType::BootImage) {
            Ok(p) => p,
            Err(e) => {
                c.fail_site(
                    format!("boot image {id}"),
                    &e,
                    "give the ID of a boot image package",
                );
                return Ok((None, None));
            }
        },
    };
    if let (MediaKind::Prestaged, Some(ts)) = (spec.kind, ts)
        && ts.boot_image.as_deref().is_some_and(|t| t != boot.id)
    {
        c.fail(
            format!("boot image {}", boot.id),
            format!(
                "task sequence {} uses boot image {}",
                ts.id,
                ts.boot_image.as_deref().unwrap_or("")
            ),
            "prestaged media must use the task sequence's boot image: drop --boot-image or give that one",
        );
    }
    Ok((Some(boot.clone()), check_wim(c, site, spec, boot)?))
}

fn check_wim(
    c: &mut Checker,
    site: &Site,
    spec: &MediaSpec,
    b: Package,
) -> Result<Option<BootImage>> {
    let files = site.content_files(&b.content_id)?;
    let Some(wim_file) = files
        .iter()
        .find(|f| f.path.to_ascii_lowercase().ends_with(".wim"))
    else {
        c.fail(
            format!("boot image {}", b.id),
            "its content holds no .wim file",
            "update the boot image package with its boot.wim",
        );
        return Ok(None);
    };
    let index = b.image_index.unwrap_or(1);
    let arch = b.arch.or_else(|| {
        b.images
            .as_ref()
            .and_then(|i| i.iter().find(|i| i.index == index))
            .and_then(|i| i.arch)
    });
    let Some(arch) = arch else {
        c.fail(
            format!("boot image {}", b.id),
            "has no architecture (WINDOWS/ARCH missing)",
            "set the architecture of the boot image package",
        );
        return Ok(None);
    };
    // The seeds' rule: "an x64 destination computer can boot and run an x86 or x64 boot
    // image; an x86 destination computer can boot and run only an x86 boot image". The
    // computer is `--arch`; without it the media are for computers of the boot image's own
    // architecture, and the log says so.
    match spec.arch.as_deref() {
        None => c.pass(format!(
            "no --arch given: media for {arch} computers, the architecture of boot image {}",
            b.id
        )),
        Some(want) => match want.parse::<Arch>().ok() {
            None => c.fail(
                "--arch",
                format!("{want:?} is not x86, x64 or arm64"),
                "use x86, x64 or arm64",
            ),
            Some(w) if !w.boots(arch) => c.fail(
                format!("boot image {} ({arch})", b.id),
                format!(
                    "cannot boot {w} computers (an x64 computer boots x86 and x64 boot images; an x86 computer only x86 ones)"
                ),
                format!("choose a boot image that {w} computers boot (`tsmedia package list --type boot-image`)"),
            ),
            Some(w) => c.pass(format!("boot image {} ({arch}) boots {w} computers", b.id)),
        },
    }
    let wim = match Wim::open(&wim_file.library_path) {
        Ok(w) => w,
        Err(e) => {
            c.fail(
                format!("boot image {}", b.id),
                format!("{}: {e}", wim_file.path),
                "update the boot image package with a valid WIM",
            );
            return Ok(None);
        }
    };
    if index == 0 || index > wim.image_count() {
        c.fail(
            format!("boot image {}", b.id),
            format!("image index {index} but the WIM has {}", wim.image_count()),
            "fix the package's image index",
        );
        return Ok(None);
    }
    let flavour = Flavour::of(&b);
    let boot_files = match bootfiles::find(&wim, index, flavour) {
        Ok(f) => f,
        Err(e) => {
            c.fail(
                format!("boot image {}", b.id),
                e.to_string(),
                "use a Windows PE boot image",
            );
            return Ok(None);
        }
    };
    let usb = spec.media_type == MediaType::Usb && spec.kind != MediaKind::Prestaged;
    for need in bootfiles::required(usb, flavour) {
        if !boot_files.iter().any(|f| f.dest == *need) {
            let fix = match flavour {
                Flavour::WinPe => "use a Windows PE boot image with its Windows\\Boot tree",
                Flavour::TsmediaPe => "rebuild the boot image with `tsmedia pe build`",
            };
            c.fail(
                format!("boot image {}", b.id),
                format!(
                    "has no {} (needed for {need})",
                    bootfiles::source_of(need).unwrap_or(need)
                ),
                fix,
            );
        }
    }
    c.pass(format!(
        "boot image {} ({arch}, {}) image {index} has its boot files",
        b.id,
        flavour.as_str()
    ));
    Ok(Some(BootImage {
        wim: wim_file.library_path.clone(),
        package: b,
        index,
        arch,
        files: boot_files,
        flavour,
    }))
}
