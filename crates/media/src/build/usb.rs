//! USB media: one FAT32 volume in an MBR disk image (or written to a block device), UEFI
//! bootable through `EFI/Boot/bootx64.efi`.

use std::path::Path;

use tsmedia_base::AtomicFile;
use tsmedia_image::disk::{UsbImageOptions, UsbImagePlan};
use tsmedia_image::fat::{FatOptions, FatTimestamp, FatTree, FatType};

use super::{Files, Staged};
use crate::error::{Error, IoContext, Result};
use crate::plan::MediaPlan;
use crate::preflight::{MAX_FAT_LABEL, is_block_device};

/// Writes `files` to the image file or device `out`.
pub(super) fn write(plan: &MediaPlan, files: Files, out: &Path) -> Result<Staged> {
    let usb_err = |source| Error::Usb {
        what: out.display().to_string(),
        source,
    };
    let mut tree = FatTree::new();
    for (dest, size, src) in files {
        tree.add_file_boxed(&dest, size, src)
            .map_err(|e| usb_err(tsmedia_image::disk::Error::from(e)))?;
    }
    let label: String = plan
        .spec
        .label()
        .to_ascii_uppercase()
        .chars()
        .take(MAX_FAT_LABEL)
        .collect();
    let options = UsbImageOptions {
        guid_seed: plan
            .reproducible
            .then(|| u64::from_le_bytes(plan.seed[..8].try_into().unwrap_or([0; 8]))),
        fat: FatOptions {
            label: Some(label),
            fat_type: Some(FatType::Fat32),
            timestamp: plan
                .fixed_time
                .and_then(FatTimestamp::from_unix_seconds)
                .unwrap_or_default(),
            ..FatOptions::default()
        },
        ..UsbImageOptions::default()
    };
    let usb = UsbImagePlan::new(tree, &options).map_err(usb_err)?;
    if is_block_device(out) {
        let mut f = std::fs::OpenOptions::new().write(true).open(out).at(out)?;
        usb.write_seekable(&mut f).map_err(usb_err)?;
        return Ok(Staged::Done(out.to_path_buf()));
    }
    let mut f = AtomicFile::create(out)?;
    usb.write_seekable(f.file_mut()).map_err(usb_err)?;
    Ok(Staged::File(f))
}
