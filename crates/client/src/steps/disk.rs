//! Format and Partition Disk: one empty FAT32 volume filling the disk, MBR or GPT
//! (`OSDPartitionStyle`, default GPT as for UEFI computers), labelled from
//! `OSDPartitions0VolumeName` (default `Windows`).

use tsmedia_image::disk::{
    PartitionTable, TargetOptions, UsbImageOptions, UsbImagePlan, block_device_size,
};
use tsmedia_image::fat::{FatOptions, FatTree};
use tsmedia_tasksequence::{Step, StepError, StepOutcome, Variables};

use super::{failed, failed_by, setting};
use crate::runner::MediaStepRunner;

pub(crate) fn partition(
    r: &mut MediaStepRunner<'_>,
    step: &Step,
    env: &mut Variables,
) -> Result<StepOutcome, StepError> {
    let disk = r
        .options
        .disk
        .clone()
        .ok_or_else(|| failed(step, "no disk to partition was given (--disk)"))?;
    let table = match setting(step, env, "OSDPartitionStyle", "PartitionStyle")
        .unwrap_or_else(|| "GPT".into())
        .to_ascii_uppercase()
        .as_str()
    {
        "GPT" => PartitionTable::Gpt,
        "MBR" => PartitionTable::Mbr,
        other => {
            return Err(failed(
                step,
                format!("partition style {other:?} is not GPT or MBR"),
            ));
        }
    };
    let size = match block_device_size(&disk).map_err(|e| failed(step, e))? {
        Some(size) => size,
        None => match std::fs::metadata(&disk) {
            Ok(m) if m.len() > 0 => m.len(),
            _ => r.options.new_disk_size,
        },
    } / 512
        * 512;
    let label = setting(step, env, "OSDPartitions0VolumeName", "VolumeName")
        .unwrap_or_else(|| "Windows".into());
    let options = UsbImageOptions {
        table,
        disk_size: Some(size),
        partition_name: "Basic data partition".into(),
        fat: FatOptions {
            label: Some(label),
            ..FatOptions::default()
        },
        ..UsbImageOptions::default()
    };
    let plan = UsbImagePlan::new(FatTree::new(), &options).map_err(|e| failed_by(step, &e))?;
    plan.write_to_path(
        &disk,
        TargetOptions {
            overwrite: true,
            ..TargetOptions::default()
        },
    )
    .map_err(|e| failed(step, format!("{}: {e}", disk.display())))?;
    r.note(format!(
        "{}: {:?} partition table, one FAT32 volume of {} bytes at offset {}",
        disk.display(),
        table,
        plan.partition_bytes(),
        plan.partition_offset()
    ));
    if let Some(mounter) = r.options.mounter.clone() {
        let volume = mounter
            .mount(&disk, 1)
            .map_err(|e| failed(step, format!("mounting the new volume: {e}")))?;
        r.note(format!(
            "volume 1 mounted at {}; it is the target from now on",
            volume.display()
        ));
        let path = volume.display().to_string();
        r.options.target = volume;
        env.set("OSDTargetSystemDrive", path.as_str())
            .map_err(|e| failed(step, e))?;
        // A drive-letter variable holds the volume's mount path in tsmedia PE, so
        // `%OSDisk%/file` works in a command line.
        if let Some(name) = setting(
            step,
            env,
            "OSDPartitions0VolumeLetterVariable",
            "VolumeLetterVariable",
        ) {
            env.set(&name, path.as_str())
                .map_err(|e| failed(step, format!("variable {name:?}: {e}")))?;
            r.note(format!("{name} = {path}"));
        }
    }
    Ok(StepOutcome::exit(0))
}
