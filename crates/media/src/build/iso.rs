//! One disc of a CD/DVD set: ISO 9660 + Joliet + UDF bridge; disc 1 carries the El Torito
//! entries: for Windows PE, BIOS (`boot/etfsboot.com`, no emulation) and UEFI (`efisys.bin`,
//! platform 0xEF); for tsmedia PE, BIOS (ISOLINUX, with its boot information table) and UEFI
//! (a FAT image holding shim and GRUB).

use std::path::Path;

use tsmedia_base::AtomicFile;
use tsmedia_image::iso::{self, BootEntry, BootImage, IsoBuilder, IsoOptions};
use tsmedia_pe::boot_media;

use super::{Files, Staged};
use crate::bootfiles::{EFISYS, ETFSBOOT};
use crate::error::{Error, Result};
use crate::plan::MediaPlan;

/// Writes `files` as the ISO `out` (under a temporary name until committed). `boot`: the disc
/// boots (disc 1); `pe_efi`: tsmedia PE's UEFI El Torito image and hybrid MBR code.
pub(super) fn write(
    plan: &MediaPlan,
    files: Files,
    out: &Path,
    boot: bool,
    pe_efi: Option<&tsmedia_pe::boot_media::IsoBoot>,
) -> Result<Staged> {
    let iso_err = |source| Error::Iso {
        what: out.display().to_string(),
        source,
    };
    let mut options = IsoOptions {
        volume_label: plan.spec.label().to_ascii_uppercase(),
        ..IsoOptions::default()
    };
    if let Some(t) = plan.fixed_time {
        options.timestamp = Some(t);
    }
    let mut b = IsoBuilder::new(options);
    let mut has = (false, false);
    for (dest, size, src) in files {
        has.0 |= dest == ETFSBOOT;
        has.1 |= dest == EFISYS;
        b.add_file(&dest, size, src).map_err(iso_err)?;
    }
    let pe = boot.then_some(pe_efi).flatten();
    match pe {
        Some(boot) => boot_media::add_boot_entries(&mut b, boot),
        None => {
            if boot && has.0 {
                b.add_boot_entry(BootEntry::bios(BootImage::File(ETFSBOOT.into())));
            }
            if boot && has.1 {
                b.add_boot_entry(BootEntry::uefi(BootImage::File(EFISYS.into())));
            }
        }
    }
    let mut iso_plan = b.plan().map_err(iso_err)?;
    if let Some(boot) = pe {
        boot_media::finish_iso(&mut iso_plan, boot).map_err(|source| Error::PeBoot {
            path: plan.boot_wim.clone(),
            source,
        })?;
    }
    let mut f = AtomicFile::create(out)?;
    iso::write(&iso_plan, std::io::BufWriter::new(f.file_mut())).map_err(iso_err)?;
    Ok(Staged::File(f))
}
