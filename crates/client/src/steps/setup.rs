//! Setup Windows and ConfigMgr, as far as it runs before Windows starts: make the applied
//! image boot (what `bcdboot` does: the boot manager from `Windows\Boot\EFI` onto the EFI
//! system partition, `EFI\Boot\bootx64.efi`, and a BCD store whose Windows Boot Loader has
//! device and osdevice = the Windows partition), check that the answer file is in place, and
//! restart into the deployed disk. The task sequence's state is saved on the Windows volume
//! by the runtime when the step asks for the restart.
//!
//! What only the full operating system can do (installing the Configuration Manager client,
//! the steps after this one) is reported as deferred in the log, never skipped silently.

use std::fs::File;
use std::path::Path;

use tsmedia_image::disk::{DiskLayout, Guid, PartitionInfo, PartitionType, TableKind};
use tsmedia_tasksequence::{RestartTarget, Step, StepError, StepOutcome, Variables};
use tsmedia_winboot::{BcdTarget, Firmware, PartitionRef, install_boot_files};

use super::{action_arg, failed, failed_by, setting};
use crate::runner::MediaStepRunner;

/// Where Apply Windows Settings writes the answer file on the Windows volume.
const ANSWER_FILE: &str = "Windows/Panther/unattend.xml";

pub(crate) fn setup_windows(
    r: &mut MediaStepRunner<'_>,
    step: &Step,
    env: &mut Variables,
) -> Result<StepOutcome, StepError> {
    let target = r.options.target.clone();
    let disk = r
        .options
        .disk
        .clone()
        .ok_or_else(|| failed(step, "no disk holds the Windows volume (--disk)"))?;
    let mounter = r.options.mounter.clone().ok_or_else(|| {
        failed(
            step,
            "the system partition is mounted by tsmedia PE's session; there is none here",
        )
    })?;
    let layout = read_layout(step, &disk)?;
    let device = tsmedia_ntfs::mounted_ntfs_device(&target).ok_or_else(|| {
        failed(
            step,
            format!(
                "{} is not an NTFS volume mounted by ntfs-3g: apply Windows onto the NTFS \
                 partition Format and Partition Disk made first",
                target.display()
            ),
        )
    })?;
    let windows = partition_number(&device)
        .and_then(|n| layout.partitions.iter().find(|p| p.number == n))
        .ok_or_else(|| {
            failed(
                step,
                format!(
                    "{} is not a partition of {}",
                    device.display(),
                    disk.display()
                ),
            )
        })?;
    let esp = layout.partitions.iter().find(|p| is_esp(p));
    let (firmware, system) = match (layout.table, esp) {
        (_, Some(esp)) => (Firmware::Uefi, esp),
        (TableKind::Mbr, None) => (
            Firmware::Bios,
            layout
                .partitions
                .iter()
                .find(|p| p.active)
                .unwrap_or(windows),
        ),
        _ => {
            return Err(failed(
                step,
                format!(
                    "{} has no EFI system partition for the boot files",
                    disk.display()
                ),
            ));
        }
    };
    let bcd = BcdTarget::new(
        firmware,
        partition_ref(step, &layout, system)?,
        partition_ref(step, &layout, windows)?,
    );
    let system_dir = if system.number == windows.number {
        target.clone()
    } else {
        mounter
            .mount_system(&disk, system.number as u32)
            .map_err(|e| failed(step, format!("mounting the system partition: {e}")))?
    };
    let installed = install_boot_files(&target, &system_dir, &bcd);
    let unmounted = if system.number == windows.number {
        Ok(())
    } else {
        mounter.unmount_system()
    };
    let report = installed.map_err(|e| failed_by(step, &e))?;
    unmounted.map_err(|e| failed(step, format!("unmounting the system partition: {e}")))?;
    r.note(format!(
        "boot files ({firmware:?}): {} files onto partition {}, {} (fallback loader {}); \
         the Windows Boot Loader's device and osdevice are {}",
        report.copied.len(),
        system.number,
        report.bcd,
        if report.fallback_loader.is_empty() {
            "none"
        } else {
            &report.fallback_loader
        },
        describe(&bcd.windows_partition)
    ));

    let answer = target.join(ANSWER_FILE);
    if answer.is_file() {
        r.note(format!("answer file in place: {ANSWER_FILE}"));
    } else {
        r.note(format!(
            "no answer file at {ANSWER_FILE} (no Apply Windows Settings step ran): Windows \
             setup asks its questions at first start"
        ));
    }
    let client = step
        .action
        .as_deref()
        .and_then(|a| action_arg(&env.expand(a), "client"))
        .or_else(|| setting(step, env, "OSDClientPackageID", "ClientPackageID"));
    r.note(format!(
        "deferred to the full operating system: installing the Configuration Manager client{} \
         and every step after this one run there, after the restart into {}",
        client
            .map(|c| format!(" (package {c})"))
            .unwrap_or_default(),
        target.display()
    ));
    Ok(StepOutcome {
        exit_code: 0,
        restart: Some(RestartTarget::InstalledOs),
    })
}

fn read_layout(step: &Step, disk: &Path) -> Result<DiskLayout, StepError> {
    let mut f = File::open(disk).map_err(|e| failed(step, format!("{}: {e}", disk.display())))?;
    tsmedia_image::disk::read_partition_table(&mut f).map_err(|e| {
        failed(
            step,
            format!("{}: {}", disk.display(), tsmedia_base::error_chain(&e)),
        )
    })
}

fn is_esp(p: &PartitionInfo) -> bool {
    matches!(p.kind, PartitionType::Gpt(g) if g == Guid::EFI_SYSTEM)
        || matches!(p.kind, PartitionType::Mbr(0xEF))
}

/// The partition number of a device node (`/dev/vda3` → 3, `/dev/nvme0n1p3` → 3).
fn partition_number(device: &Path) -> Option<usize> {
    let name = device.file_name()?.to_str()?;
    let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    name[name.len() - digits..].parse().ok()
}

fn uuid(g: Guid) -> uuid::Uuid {
    uuid::Uuid::from_bytes_le(g.0)
}

/// How BCD names a partition: GUIDs on GPT, disk signature and byte offset on MBR.
fn partition_ref(
    step: &Step,
    layout: &DiskLayout,
    p: &PartitionInfo,
) -> Result<PartitionRef, StepError> {
    match (
        layout.table,
        layout.disk_guid,
        p.guid,
        layout.disk_signature,
    ) {
        (TableKind::Gpt, Some(disk), Some(part), _) => Ok(PartitionRef::Gpt {
            disk_guid: uuid(disk),
            partition_guid: uuid(part),
        }),
        (TableKind::Mbr, _, _, Some(signature)) => Ok(PartitionRef::Mbr {
            disk_signature: signature,
            partition_offset: p.offset(),
        }),
        _ => Err(failed(
            step,
            format!("partition {} cannot be named in the BCD store", p.number),
        )),
    }
}

fn describe(p: &PartitionRef) -> String {
    match p {
        PartitionRef::Gpt {
            disk_guid,
            partition_guid,
        } => format!("partition {{{partition_guid}}} on GPT disk {{{disk_guid}}}"),
        PartitionRef::Mbr {
            disk_signature,
            partition_offset,
        } => format!("the partition at byte {partition_offset} of MBR disk {disk_signature:08X}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_numbers_of_device_nodes() {
        for (dev, n) in [
            ("/dev/vda3", Some(3)),
            ("/dev/sda12", Some(12)),
            ("/dev/nvme0n1p2", Some(2)),
            ("/dev/vda", None),
        ] {
            assert_eq!(partition_number(Path::new(dev)), n, "{dev}");
        }
    }
}
