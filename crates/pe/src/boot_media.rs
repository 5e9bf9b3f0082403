//! Where tsmedia PE's files go on bootable media, and how firmware finds them:
//!
//! - **ISO (CD/DVD)**: the files at the root of the disc as the boot image holds them; an El
//!   Torito BIOS entry for `isolinux/isolinux.bin` (4 sectors, with a boot information table
//!   patched in, which ISOLINUX needs to find the disc) and a UEFI entry whose image is a small
//!   FAT volume holding `EFI/boot/bootx64.efi` (shim), `grubx64.efi` (signed GRUB, which shim
//!   starts from its own folder) and `mmx64.efi`. GRUB finds the disc by `/.disk/info` and reads
//!   `boot/grub/grub.cfg`; ISOLINUX reads `isolinux/isolinux.cfg`. Both start `boot/vmlinuz`
//!   with `boot/initrd.gz`.
//! - **The same ISO written to a USB stick** (`dd`): the system area holds ISOLINUX's hybrid
//!   MBR (`isolinux/isohdpfx.bin`, which loads `isolinux.bin` from the LBA written after its
//!   code) with an active partition over the whole image (type 0, which UEFI firmware skips)
//!   and an EFI system partition over the UEFI El Torito image, so BIOS boots ISOLINUX from the
//!   stick and UEFI boots shim from the ESP. See docs/tsmedia-pe.md, "BIOS and UEFI from one
//!   image on a USB stick".

use tsmedia_image::disk::{MbrPartition, crc32, mbr_sector};
use tsmedia_image::fat::{FatOptions, FatTree};
use tsmedia_image::iso::{
    BootEntry, BootImage, BootImageExtent, BootPlatform, IsoBuilder, IsoPlan,
};

use crate::build::PeFile;
use crate::error::{Error, Result};

/// The BIOS boot loader on an ISO.
pub const ISOLINUX_BIN: &str = "isolinux/isolinux.bin";

/// ISOLINUX's hybrid MBR boot code (432 bytes are used).
pub const HYBRID_MBR: &str = "isolinux/isohdpfx.bin";

/// How many bytes of the hybrid MBR code go into the MBR; the next 8 bytes are the LBA (in
/// 512-byte sectors) of `isolinux.bin`, which the code loads.
const HYBRID_CODE_LEN: usize = 432;

/// Bytes 0x40..0x44 of an `isolinux.bin` that a hybrid MBR can start.
const HYBRID_MAGIC: [u8; 4] = [0xFB, 0xC0, 0x78, 0x70];

/// What an ISO needs to boot tsmedia PE besides its files: the UEFI El Torito image and the
/// hybrid MBR code. Made by [`iso_boot`].
#[derive(Debug, Clone)]
pub struct IsoBoot {
    efi_image: Vec<u8>,
    mbr_code: Vec<u8>,
}

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

/// The boot pieces of an ISO from the PE's files as `read` gives them by PE path (`None`:
/// missing): the UEFI image ([`efi_image`]) and the hybrid MBR code, checked against
/// `isolinux.bin` (it must be a hybrid-capable ISOLINUX).
pub fn iso_boot(read: &mut dyn FnMut(&str) -> Option<Vec<u8>>) -> Result<IsoBoot> {
    let efi_image = efi_image(read)?;
    let code = read(HYBRID_MBR).ok_or_else(|| missing(HYBRID_MBR))?;
    if code.len() < HYBRID_CODE_LEN {
        return Err(Error::Layout {
            reason: format!(
                "{HYBRID_MBR} is {} bytes; hybrid MBR code has at least {HYBRID_CODE_LEN}",
                code.len()
            ),
        });
    }
    let loader = read(ISOLINUX_BIN).ok_or_else(|| missing(ISOLINUX_BIN))?;
    if loader.get(0x40..0x44) != Some(&HYBRID_MAGIC[..]) {
        return Err(Error::Layout {
            reason: format!(
                "{ISOLINUX_BIN} cannot start from a hybrid MBR (ISOLINUX 3.72 or later needed)"
            ),
        });
    }
    Ok(IsoBoot {
        efi_image,
        mbr_code: code[..HYBRID_CODE_LEN].to_vec(),
    })
}

/// Declares both El Torito entries in `iso`, whose files (ISOLINUX among them) are declared
/// already. After planning, call [`finish_iso`] with the same `boot`.
pub fn add_boot_entries(iso: &mut IsoBuilder, boot: &IsoBoot) {
    iso.add_boot_entry(BootEntry::bios(BootImage::File(ISOLINUX_BIN.into())));
    iso.add_boot_entry(BootEntry::uefi(BootImage::Hidden(boot.efi_image.clone())));
}

/// Declares the PE's files and both El Torito entries in `iso`. After planning, call
/// [`finish_iso`] with the [`IsoBoot`] returned.
pub fn add_to_iso(iso: &mut IsoBuilder, files: &[PeFile]) -> Result<IsoBoot> {
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
    let boot = iso_boot(&mut |p| file(files, p).ok().map(|f| f.data.clone()))?;
    add_boot_entries(iso, &boot);
    Ok(boot)
}

/// Completes a planned ISO that [`add_to_iso`] or [`add_boot_entries`] declared: ISOLINUX's
/// boot information table and the hybrid MBR in the system area.
pub fn finish_iso(plan: &mut IsoPlan, boot: &IsoBoot) -> Result<()> {
    let layout = |e: tsmedia_image::iso::Error| Error::Layout {
        reason: e.to_string(),
    };
    plan.patch_boot_info_table(ISOLINUX_BIN).map_err(layout)?;
    let loader = plan
        .file_extent(ISOLINUX_BIN)
        .ok_or_else(|| missing(ISOLINUX_BIN))?;
    let efi = plan
        .boot_images()
        .into_iter()
        .find(|b| b.platform == BootPlatform::Uefi);
    let mbr = hybrid_mbr(&boot.mbr_code, loader.offset, efi, plan.total_size())?;
    plan.set_system_area(mbr.to_vec()).map_err(layout)
}

/// The hybrid MBR: the code, the loader's LBA after it, an active partition of type 0 over
/// the whole image (BIOS boot code needs an active entry; type 0 keeps UEFI from reading the
/// ISO as a partition that overlaps the ESP) and an EFI system partition over the UEFI image.
/// The disk signature is derived from the layout, so equal builds give equal bytes.
fn hybrid_mbr(
    code: &[u8],
    loader_offset: u64,
    efi: Option<BootImageExtent>,
    total: u64,
) -> Result<[u8; 512]> {
    let sectors = |bytes: u64| {
        u32::try_from(bytes.div_ceil(512)).map_err(|_| Error::Layout {
            reason: format!("an ISO of {bytes} bytes is too large for a hybrid MBR (2 TiB)"),
        })
    };
    let mut boot_code = [0u8; 440];
    boot_code[..HYBRID_CODE_LEN].copy_from_slice(&code[..HYBRID_CODE_LEN]);
    boot_code[HYBRID_CODE_LEN..].copy_from_slice(&(loader_offset / 512).to_le_bytes());
    let mut parts = vec![MbrPartition {
        bootable: true,
        kind: 0x00,
        first_lba: 0,
        sectors: sectors(total)?,
    }];
    let mut id = Vec::with_capacity(32);
    id.extend_from_slice(&loader_offset.to_le_bytes());
    id.extend_from_slice(&total.to_le_bytes());
    if let Some(e) = efi {
        parts.push(MbrPartition {
            bootable: false,
            kind: 0xEF,
            first_lba: sectors(e.offset)?,
            sectors: sectors(e.size)?,
        });
        id.extend_from_slice(&e.offset.to_le_bytes());
        id.extend_from_slice(&e.size.to_le_bytes());
    }
    Ok(mbr_sector(Some(&boot_code), crc32(&id), &parts))
}

/// BIOS boot of a disk that holds tsmedia PE's files on a FAT32 partition (prestaged media
/// staged with `tsmedia prestage apply`): the same ISOLINUX hybrid start as a USB stick, from
/// a small ISO 9660 area at the start of the disk, before the partition.
///
/// `area` is an ISO 9660 volume holding ISOLINUX (`isolinux/…`, its boot information table
/// filled in) and the kernel and initramfs it starts, written from the first byte of the disk;
/// its first 32 KiB (the ISO system area) are zero, so the partition tables fit there. `mbr_code`
/// (440 bytes) is ISOLINUX's hybrid MBR code followed by the LBA of `isolinux.bin` on the disk.
/// The loaders read the ISO area with disk LBAs from 0, which the partitions never overlap.
#[derive(Debug, Clone)]
pub struct DiskBiosArea {
    pub area: Vec<u8>,
    pub mbr_code: Vec<u8>,
}

/// The PE paths [`disk_bios_area`] takes: ISOLINUX's folder and the kernel and initramfs.
pub fn is_bios_area_file(path: &str) -> bool {
    path.starts_with("isolinux/") || path == "boot/vmlinuz" || path == "boot/initrd.gz"
}

/// Builds the [`DiskBiosArea`] from the PE's files selected by [`is_bios_area_file`] (path,
/// bytes), reproducibly (`timestamp`: seconds since 1970 recorded in the ISO).
pub fn disk_bios_area(files: Vec<(String, Vec<u8>)>, timestamp: i64) -> Result<DiskBiosArea> {
    let layout = |e: tsmedia_image::iso::Error| Error::Layout {
        reason: format!("BIOS boot area: {e}"),
    };
    let find = |path: &str| {
        files
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, d)| d.clone())
            .ok_or_else(|| missing(path))
    };
    let code = find(HYBRID_MBR)?;
    let loader = find(ISOLINUX_BIN)?;
    for needed in ["boot/vmlinuz", "boot/initrd.gz", "isolinux/isolinux.cfg"] {
        find(needed)?;
    }
    if code.len() < HYBRID_CODE_LEN || loader.get(0x40..0x44) != Some(&HYBRID_MAGIC[..]) {
        return Err(Error::Layout {
            reason: format!(
                "{ISOLINUX_BIN} and {HYBRID_MBR} are not a hybrid-capable ISOLINUX (3.72 or later)"
            ),
        });
    }
    let mut iso = IsoBuilder::new(tsmedia_image::iso::IsoOptions {
        volume_label: "TSPE_BIOS".into(),
        timestamp: Some(timestamp),
        joliet: false,
        udf: false,
        ..tsmedia_image::iso::IsoOptions::default()
    });
    for (path, data) in files {
        if path == HYBRID_MBR || !is_bios_area_file(&path) {
            continue;
        }
        iso.add_file(&path, data.len() as u64, Box::new(data))
            .map_err(layout)?;
    }
    iso.add_boot_entry(BootEntry::bios(BootImage::File(ISOLINUX_BIN.into())));
    let mut plan = iso.plan().map_err(layout)?;
    plan.patch_boot_info_table(ISOLINUX_BIN).map_err(layout)?;
    let loader = plan
        .file_extent(ISOLINUX_BIN)
        .ok_or_else(|| missing(ISOLINUX_BIN))?;
    let mut area = Vec::with_capacity(plan.total_size() as usize);
    tsmedia_image::iso::write(&plan, &mut area).map_err(layout)?;
    let mut mbr_code = vec![0u8; 440];
    mbr_code[..HYBRID_CODE_LEN].copy_from_slice(&code[..HYBRID_CODE_LEN]);
    mbr_code[HYBRID_CODE_LEN..].copy_from_slice(&(loader.offset / 512).to_le_bytes());
    Ok(DiskBiosArea { area, mbr_code })
}
