//! Boot files taken from the boot image's `Windows\Boot` tree, placed as Windows PE media
//! place them (`MakeWinPEMedia`): `bootmgr`, `boot\`, `EFI\`.

use tsmedia_wim::dentry::Dentry;
use tsmedia_wim::{Sha1, Wim, ops};

use crate::error::{Result, wim};

/// Media path ← path in the boot image (case-insensitive).
pub const MAP: &[(&str, &str)] = &[
    ("boot/etfsboot.com", "Windows/Boot/DVD/PCAT/etfsboot.com"),
    ("boot/BCD", "Windows/Boot/DVD/PCAT/BCD"),
    ("boot/boot.sdi", "Windows/Boot/DVD/PCAT/boot.sdi"),
    ("bootmgr", "Windows/Boot/PCAT/bootmgr"),
    (
        "EFI/Microsoft/Boot/efisys.bin",
        "Windows/Boot/DVD/EFI/en-US/efisys.bin",
    ),
    ("EFI/Microsoft/Boot/BCD", "Windows/Boot/DVD/EFI/BCD"),
    ("EFI/Boot/bootx64.efi", "Windows/Boot/EFI/bootmgfw.efi"),
];

/// El Torito BIOS boot program.
pub const ETFSBOOT: &str = "boot/etfsboot.com";
/// El Torito UEFI image (a FAT image holding `EFI/BOOT/BOOTX64.EFI`).
pub const EFISYS: &str = "EFI/Microsoft/Boot/efisys.bin";
/// What UEFI firmware starts from a FAT volume.
pub const BOOTX64: &str = "EFI/Boot/bootx64.efi";

/// One boot file found in the boot image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootFile {
    pub dest: &'static str,
    pub wim_path: &'static str,
    pub size: u64,
    pub sha1: Sha1,
}

/// Files a media form cannot boot without.
pub fn required(usb: bool) -> &'static [&'static str] {
    if usb { &[BOOTX64] } else { &[ETFSBOOT, EFISYS] }
}

/// The boot image path a media path comes from.
pub fn source_of(dest: &str) -> Option<&'static str> {
    MAP.iter().find(|(d, _)| *d == dest).map(|(_, s)| *s)
}

/// Finds the boot files of image `index`.
pub fn find(w: &Wim, index: u32) -> Result<Vec<BootFile>> {
    let image = ops::load_image(w, index).map_err(wim("reading the boot image"))?;
    let mut out = Vec::new();
    for (dest, src) in MAP {
        if let Some(d) = lookup(&image.root, src) {
            if d.is_dir() || d.data.is_zero() {
                continue;
            }
            let size = w.blobs.get(&d.data).map(|l| l.size()).unwrap_or(0);
            out.push(BootFile {
                dest,
                wim_path: src,
                size,
                sha1: d.data,
            });
        }
    }
    Ok(out)
}

/// Reads one boot file (small: read whole).
pub fn read(w: &Wim, file: &BootFile) -> Result<Vec<u8>> {
    w.open_blob(&file.sha1, true)
        .and_then(|r| r.read_all())
        .map_err(wim(format!(
            "reading {} from the boot image",
            file.wim_path
        )))
}

/// Finds a path in an image tree, case-insensitively.
pub fn lookup<'a>(root: &'a Dentry, path: &str) -> Option<&'a Dentry> {
    let mut d = root;
    for part in path.split(['/', '\\']).filter(|p| !p.is_empty()) {
        d = d
            .children
            .iter()
            .find(|c| c.name_lossy().eq_ignore_ascii_case(part))?;
    }
    Some(d)
}
