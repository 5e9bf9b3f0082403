//! Format and Partition Disk: the partition table (GPT or MBR) with the partitions the step
//! asks for ([`super::partitions`]), each formatted — FAT32 with tsmedia's FAT writer, NTFS
//! with `mkntfs` (tsmedia-ntfs) on the partition's device — and the target volume (the first
//! formatted primary partition) mounted; the step's drive-letter variables (`OSDisk`) hold
//! where each volume is. A disk too small for the partitions fails before anything is
//! written. See `docs/tsmedia-pe.md`, "Format and Partition Disk".

use std::fs::OpenOptions;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use tsmedia_image::disk::{
    PartitionFs, PartitionPlan, PartitionPlanOptions, PlannedPartition, block_device_size,
};
use tsmedia_image::fat::{FatOptions, FatPlan, FatTree, FatType};
use tsmedia_tasksequence::{Step, StepError, StepOutcome, Variables};

use super::partitions::{self, PartitionRequest};
use super::{failed, failed_by};
use crate::runner::MediaStepRunner;

pub(crate) fn partition(
    r: &mut MediaStepRunner<'_>,
    step: &Step,
    env: &mut Variables,
) -> Result<StepOutcome, StepError> {
    let request = partitions::read(step, env)?;
    let disk = r
        .options
        .disk
        .clone()
        .ok_or_else(|| failed(step, "no disk to partition was given (--disk)"))?;
    if request.disk_index != 0 {
        return Err(failed(
            step,
            format!(
                "disk {} (OSDDiskIndex) does not exist: this computer's disk to deploy to is disk 0 ({})",
                request.disk_index,
                disk.display()
            ),
        ));
    }
    let size = match block_device_size(&disk).map_err(|e| failed_by(step, &e))? {
        Some(size) => size,
        None => match std::fs::metadata(&disk) {
            Ok(m) if m.len() > 0 => m.len(),
            _ => r.options.new_disk_size,
        },
    } / 512
        * 512;
    let specs: Vec<_> = request.partitions.iter().map(|p| p.spec.clone()).collect();
    let plan = PartitionPlan::new(
        request.table,
        size,
        &specs,
        &PartitionPlanOptions::default(),
    )
    .map_err(|e| failed(step, format!("{}: {e}", disk.display())))?;
    let formats_ntfs = plan.partitions.iter().any(|p| p.fs == PartitionFs::Ntfs);
    if formats_ntfs && r.options.mounter.is_none() {
        return Err(failed(
            step,
            format!(
                "{}: NTFS partitions are formatted on the partition's device node, which only \
                 tsmedia PE's session provides (a disk image file has none)",
                disk.display()
            ),
        ));
    }
    // Nothing of the disk may stay mounted while its table changes.
    if let Some(m) = &r.options.mounter {
        m.release()
            .map_err(|e| failed(step, format!("unmounting {}: {e}", disk.display())))?;
    }
    write_tables(step, &disk, size, &plan)?;
    r.note(format!(
        "{}: {:?} partition table on {} bytes{}",
        disk.display(),
        plan.table,
        size,
        plan.disk_guid
            .map(|g| format!(", disk GUID {{{g}}}"))
            .unwrap_or_default()
    ));
    // In tsmedia PE the kernel re-reads the table and each partition gets its device node.
    let mut nodes = Vec::with_capacity(plan.partitions.len());
    for p in &plan.partitions {
        nodes.push(match &r.options.mounter {
            Some(m) => Some(m.partition(&disk, p.number).map_err(|e| failed(step, e))?),
            None => None,
        });
    }
    for ((p, req), node) in plan.partitions.iter().zip(&request.partitions).zip(&nodes) {
        format_partition(r, step, &disk, node.as_deref(), p, req)?;
    }

    let target = partitions::target_index(&request.partitions);
    for (i, ((p, req), node)) in plan
        .partitions
        .iter()
        .zip(&request.partitions)
        .zip(&nodes)
        .enumerate()
    {
        let mounted = if Some(i) == target {
            mount_target(r, step, env, &disk, p.number)?
        } else {
            None
        };
        let Some(name) = &req.variable else { continue };
        // In tsmedia PE a drive-letter variable holds the target volume's mount path (so
        // `%OSDisk%/file` works in a command line) or another volume's device node.
        let value = match mounted {
            Some(path) => path.display().to_string(),
            None => node
                .as_ref()
                .map(|n| n.display().to_string())
                .unwrap_or_default(),
        };
        env.set(name, value.as_str())
            .map_err(|e| failed(step, format!("variable {name:?}: {e}")))?;
        r.note(format!("{name} = {value}"));
    }
    Ok(StepOutcome::exit(0))
}

fn is_block_device(path: &Path) -> bool {
    matches!(block_device_size(path), Ok(Some(_)))
}

/// Writes the tables (an image file is created or grown to `size`).
fn write_tables(
    step: &Step,
    disk: &Path,
    size: u64,
    plan: &PartitionPlan,
) -> Result<(), StepError> {
    let io = |e: std::io::Error| failed(step, format!("{}: {e}", disk.display()));
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(!is_block_device(disk))
        .truncate(false)
        .open(disk)
        .map_err(io)?;
    if !is_block_device(disk) && f.metadata().map_err(io)?.len() < size {
        f.set_len(size).map_err(io)?;
    }
    plan.write_tables(&mut f).map_err(|e| {
        failed(
            step,
            format!("{}: {}", disk.display(), tsmedia_base::error_chain(&e)),
        )
    })?;
    f.sync_all().map_err(io)
}

/// Formats one partition as the step asks (FAT32 in place, NTFS on its device).
fn format_partition(
    r: &mut MediaStepRunner<'_>,
    step: &Step,
    disk: &Path,
    node: Option<&Path>,
    p: &PlannedPartition,
    req: &PartitionRequest,
) -> Result<(), StepError> {
    let what = format!(
        "partition {} ({:?}{})",
        p.number,
        p.role,
        if req.label.is_empty() {
            String::new()
        } else {
            format!(" {:?}", req.label)
        }
    );
    match p.fs {
        PartitionFs::None => {}
        PartitionFs::Fat32 => format_fat32(disk, p, req)
            .map_err(|e| failed(step, format!("formatting {what} as FAT32: {e}")))?,
        PartitionFs::Ntfs => {
            // Without tsmedia PE's nodes the step refused NTFS before writing anything.
            let device = node
                .ok_or_else(|| failed(step, format!("{what}: no device node for the partition")))?;
            let options = tsmedia_ntfs::FormatOptions {
                label: if req.label.is_empty() {
                    "Windows".into()
                } else {
                    req.label.clone()
                },
                partition_start: Some(p.first_lba),
                quick: req.quick,
                ..tsmedia_ntfs::FormatOptions::default()
            };
            tsmedia_ntfs::format(device, &options).map_err(|e| {
                failed(
                    step,
                    format!(
                        "formatting {what} as NTFS: {}",
                        tsmedia_base::error_chain(&e)
                    ),
                )
            })?;
        }
    }
    r.note(format!(
        "{what}: {:?}, {} MiB at {} MiB{}{}",
        p.fs,
        p.bytes() >> 20,
        p.offset() >> 20,
        p.guid
            .map(|g| format!(", GUID {{{g}}}"))
            .unwrap_or_default(),
        if req.quick || p.fs == PartitionFs::None {
            ""
        } else {
            ", full format"
        }
    ));
    Ok(())
}

/// Writes an empty FAT32 volume over the partition with tsmedia's FAT writer (a full format
/// writes every free cluster too).
fn format_fat32(disk: &Path, p: &PlannedPartition, req: &PartitionRequest) -> Result<(), String> {
    let label = (!req.label.is_empty()).then(|| fat_label(&req.label));
    let options = FatOptions {
        label,
        fat_type: Some(FatType::Fat32),
        volume_size: Some(p.bytes()),
        hidden_sectors: u32::try_from(p.first_lba)
            .map_err(|_| format!("starts past sector {}", u32::MAX))?,
        ..FatOptions::default()
    };
    let plan = FatPlan::new(FatTree::new(), &options).map_err(|e| tsmedia_base::error_chain(&e))?;
    let mut f = OpenOptions::new()
        .write(true)
        .open(disk)
        .map_err(|e| format!("{}: {e}", disk.display()))?;
    f.seek(SeekFrom::Start(p.offset()))
        .map_err(|e| format!("{}: {e}", disk.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, &mut f);
    let written = if req.quick {
        plan.write_seekable(&mut out)
    } else {
        plan.write(&mut out)
    };
    written.map_err(|e| tsmedia_base::error_chain(&e))?;
    out.flush()
        .map_err(|e| format!("{}: {e}", disk.display()))?;
    drop(out);
    f.sync_all().map_err(|e| format!("{}: {e}", disk.display()))
}

/// A FAT label: at most 11 characters, upper case, what FAT short names allow.
fn fat_label(label: &str) -> String {
    label
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "_-".contains(*c))
        .take(11)
        .collect::<String>()
        .to_ascii_uppercase()
}

/// Mounts the target volume (in tsmedia PE) and makes it the target; returns where.
fn mount_target(
    r: &mut MediaStepRunner<'_>,
    step: &Step,
    env: &mut Variables,
    disk: &Path,
    number: u32,
) -> Result<Option<PathBuf>, StepError> {
    let Some(mounter) = r.options.mounter.clone() else {
        return Ok(None);
    };
    let volume = mounter
        .mount(disk, number)
        .map_err(|e| failed(step, format!("mounting partition {number}: {e}")))?;
    r.note(format!(
        "partition {number} mounted at {}; it is the target from now on",
        volume.display()
    ));
    let path = volume.display().to_string();
    r.options.target = volume.clone();
    env.set("OSDTargetSystemDrive", path.as_str())
        .map_err(|e| failed(step, e))?;
    Ok(Some(volume))
}

#[cfg(test)]
mod tests {
    use super::fat_label;

    #[test]
    fn fat_labels() {
        assert_eq!(fat_label("EFI"), "EFI");
        assert_eq!(fat_label("System Partition"), "SYSTEMPARTI");
        assert_eq!(fat_label("é-x"), "-X");
    }
}
