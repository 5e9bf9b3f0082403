//! Boot files, by the boot image's flavour:
//!
//! - **Windows PE**: taken from the boot image's `Windows\Boot` tree and placed as Windows PE
//!   media place them (`MakeWinPEMedia`): `bootmgr`, `boot\`, `EFI\`; the image itself goes
//!   to `sources/boot.wim` with the runtime injected.
//! - **tsmedia PE**: every file of the image (kernel, initramfs with the runtime, ISOLINUX,
//!   shim, GRUB and their configurations) at the same path on the media; there is no
//!   `boot.wim`. The loader configurations get the media GUID on the kernel command line
//!   (`tsmedia.media=`) so the runtime finds its own medium (`docs/tsmedia-pe.md`).

use tsmedia_site::Package;
use tsmedia_wim::dentry::Dentry;
use tsmedia_wim::{Sha1, Wim, ops};

use crate::error::{Result, wim};

/// What kind of boot environment a boot image is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// Windows PE (`boot.wim` with its `Windows\Boot` tree).
    WinPe,
    /// tsmedia PE (`tsmedia pe build`).
    TsmediaPe,
}

impl Flavour {
    /// The flavour the site recorded for a boot image package (Windows PE unless it says
    /// tsmedia PE).
    pub fn of(package: &Package) -> Flavour {
        match package.boot_image().map(|i| i.boot_flavour()) {
            Some(tsmedia_site::TSMEDIA_PE) => Flavour::TsmediaPe,
            _ => Flavour::WinPe,
        }
    }

    /// `winpe` or `tsmedia-pe`, as `package show` says.
    pub fn as_str(self) -> &'static str {
        match self {
            Flavour::WinPe => "winpe",
            Flavour::TsmediaPe => tsmedia_site::TSMEDIA_PE,
        }
    }
}

/// Media path ← path in a Windows PE boot image (case-insensitive).
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

/// tsmedia PE files a media form cannot boot without.
const PE_ISO: &[&str] = &[
    "boot/vmlinuz",
    "boot/initrd.gz",
    "boot/grub/grub.cfg",
    "isolinux/isolinux.bin",
    "isolinux/isolinux.cfg",
    "EFI/boot/bootx64.efi",
    "EFI/boot/grubx64.efi",
];
const PE_USB: &[&str] = &[
    "boot/vmlinuz",
    "boot/initrd.gz",
    "boot/grub/grub.cfg",
    "EFI/boot/bootx64.efi",
    "EFI/boot/grubx64.efi",
];

/// One boot file found in the boot image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootFile {
    /// Path on the media.
    pub dest: String,
    /// Path in the boot image.
    pub wim_path: String,
    pub size: u64,
    pub sha1: Sha1,
}

/// Files a media form cannot boot without.
pub fn required(usb: bool, flavour: Flavour) -> &'static [&'static str] {
    match (flavour, usb) {
        (Flavour::WinPe, true) => &[BOOTX64],
        (Flavour::WinPe, false) => &[ETFSBOOT, EFISYS],
        (Flavour::TsmediaPe, true) => PE_USB,
        (Flavour::TsmediaPe, false) => PE_ISO,
    }
}

/// The boot image path a media path comes from.
pub fn source_of(dest: &str) -> Option<&'static str> {
    MAP.iter().find(|(d, _)| *d == dest).map(|(_, s)| *s)
}

/// Finds the boot files of image `index`.
pub fn find(w: &Wim, index: u32, flavour: Flavour) -> Result<Vec<BootFile>> {
    let image = ops::load_image(w, index).map_err(wim("reading the boot image"))?;
    let size = |d: &Dentry| w.blobs.get(&d.data).map(|l| l.size()).unwrap_or(0);
    let mut out = Vec::new();
    match flavour {
        Flavour::WinPe => {
            for (dest, src) in MAP {
                if let Some(d) = lookup(&image.root, src) {
                    if d.is_dir() || d.data.is_zero() {
                        continue;
                    }
                    out.push(BootFile {
                        dest: (*dest).into(),
                        wim_path: (*src).into(),
                        size: size(d),
                        sha1: d.data,
                    });
                }
            }
        }
        Flavour::TsmediaPe => image.root.walk(&mut |parents, d| {
            if d.is_dir() || d.data.is_zero() {
                return;
            }
            let mut path: Vec<String> = parents.iter().skip(1).map(|p| p.name_lossy()).collect();
            path.push(d.name_lossy());
            let path = path.join("/");
            if path == tsmedia_pe::image::DESCRIPTION_PATH {
                return;
            }
            out.push(BootFile {
                dest: path.clone(),
                wim_path: path,
                size: size(d),
                sha1: d.data,
            });
        }),
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
