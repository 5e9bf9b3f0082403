//! Where tsmedia PE's files go on bootable media, and how firmware finds them:
//!
//! - **ISO (CD/DVD)**: the files at the root of the disc as the boot image holds them; an El
//!   Torito BIOS entry for `isolinux/isolinux.bin` (4 sectors, with a boot information table
//!   patched in, which ISOLINUX needs to find the disc) and a UEFI entry whose image is a small
//!   FAT volume holding `EFI/boot/bootx64.efi` (shim), `grubx64.efi` (signed GRUB, which shim
//!   starts from its own folder) and `mmx64.efi`. GRUB finds the disc by `/.disk/info` and reads
//!   `boot/grub/grub.cfg`; ISOLINUX reads `isolinux/isolinux.cfg`. Both start `boot/vmlinuz`
//!   with `boot/initrd.gz`.

use tsmedia_image::fat::{FatOptions, FatTree};
use tsmedia_image::iso::{BootEntry, BootImage, IsoBuilder, IsoPlan};

use crate::build::PeFile;
use crate::error::{Error, Result};

/// The BIOS boot loader on an ISO.
pub const ISOLINUX_BIN: &str = "isolinux/isolinux.bin";

/// Files the UEFI El Torito image holds: (path in the PE, path in the FAT image).
const EFI_FILES: &[(&str, &str)] = &[
    ("EFI/boot/bootx64.efi", "EFI/BOOT/BOOTX64.EFI"),
    ("EFI/boot/grubx64.efi", "EFI/BOOT/grubx64.efi"),
    ("EFI/boot/mmx64.efi", "EFI/BOOT/mmx64.efi"),
];

fn file<'a>(files: &'a [PeFile], path: &str) -> Result<&'a PeFile> {
    files
        .iter()
        .find(|f| f.path == path)
        .ok_or_else(|| missing(path))
}

fn missing(path: &str) -> Error {
    Error::Layout {
        reason: format!("the boot image has no {path}; is it a tsmedia PE boot image?"),
    }
}

/// The PE paths of the files [`efi_image`] needs.
pub fn efi_files() -> impl Iterator<Item = &'static str> {
    EFI_FILES.iter().map(|(from, _)| *from)
}

/// The FAT volume of the UEFI El Torito entry, from the PE's shim, GRUB and MOK manager as
/// `read` gives them by PE path (`None`: missing).
pub fn efi_image(read: &mut dyn FnMut(&str) -> Option<Vec<u8>>) -> Result<Vec<u8>> {
    let mut tree = FatTree::new();
    for (from, to) in EFI_FILES {
        let data = read(from).ok_or_else(|| missing(from))?;
        tree.add_file(to, data.len() as u64, data)
            .map_err(|e| Error::Layout {
                reason: format!("UEFI boot image: {e}"),
            })?;
    }
    let options = FatOptions {
        label: Some("TSPE-EFI".into()),
        ..FatOptions::default()
    };
    let plan = tree.plan(&options).map_err(|e| Error::Layout {
        reason: format!("UEFI boot image: {e}"),
    })?;
    let mut out = Vec::with_capacity(plan.total_bytes() as usize);
    plan.write(&mut out).map_err(|e| Error::Layout {
        reason: format!("UEFI boot image: {e}"),
    })?;
    Ok(out)
}

/// Declares both El Torito entries in `iso`, whose files (ISOLINUX among them) are declared
/// already; `efi_image` is [`efi_image`]'s volume. After planning, call [`finish_iso`].
pub fn add_boot_entries(iso: &mut IsoBuilder, efi_image: Vec<u8>) {
    iso.add_boot_entry(BootEntry::bios(BootImage::File(ISOLINUX_BIN.into())));
    iso.add_boot_entry(BootEntry::uefi(BootImage::Hidden(efi_image)));
}

/// Declares the PE's files and both El Torito entries in `iso`. After planning, call
/// [`finish_iso`].
pub fn add_to_iso(iso: &mut IsoBuilder, files: &[PeFile]) -> Result<()> {
    let layout = |e: tsmedia_image::iso::Error| Error::Layout {
        reason: e.to_string(),
    };
    for f in files {
        if f.path == crate::image::DESCRIPTION_PATH {
            continue;
        }
        iso.add_file(&f.path, f.data.len() as u64, Box::new(f.data.clone()))
            .map_err(layout)?;
    }
    file(files, ISOLINUX_BIN)?;
    let efi = efi_image(&mut |p| file(files, p).ok().map(|f| f.data.clone()))?;
    add_boot_entries(iso, efi);
    Ok(())
}

/// Completes a planned ISO that [`add_to_iso`] declared: ISOLINUX's boot information table.
pub fn finish_iso(plan: &mut IsoPlan) -> Result<()> {
    plan.patch_boot_info_table(ISOLINUX_BIN)
        .map_err(|e| Error::Layout {
            reason: e.to_string(),
        })
}
