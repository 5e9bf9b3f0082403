//! The settings of Format and Partition Disk as Configuration Manager stores them in the
//! step (`OSDDiskIndex`, `OSDPartitionStyle`, `OSDPartitions` = the count, and per partition
//! `OSDPartitions<i>Type`, `…FileSystem`, `…Size`, `…SizeUnits`, `…VolumeName`,
//! `…QuickFormat`, `…Bootable`, `…Variable`), read into partition specifications.
//!
//! A step without `OSDPartitions` and `OSDPartitions0Type` is the short form tsmedia has
//! always taken: one FAT32 volume filling the disk, labelled `OSDPartitions0VolumeName`.

use tsmedia_image::disk::{
    PartitionFs, PartitionRole, PartitionSize, PartitionSpec, PartitionTable,
};
use tsmedia_tasksequence::{Step, StepError, Variables};

use super::{failed, setting};

/// One partition with what the step does with it besides laying it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PartitionRequest {
    pub spec: PartitionSpec,
    /// The volume label.
    pub label: String,
    /// Quick format (nothing zeroed). Default true.
    pub quick: bool,
    /// The variable that receives where the volume is (`OSDisk`).
    pub variable: Option<String>,
}

/// Everything the step asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DiskRequest {
    pub disk_index: u32,
    pub table: PartitionTable,
    pub partitions: Vec<PartitionRequest>,
}

/// Per-partition setting `OSDPartitions<i><what>` (or the property `Partitions<i><what>`).
fn part(step: &Step, env: &Variables, i: usize, what: &str) -> Option<String> {
    setting(
        step,
        env,
        &format!("OSDPartitions{i}{what}"),
        &format!("Partitions{i}{what}"),
    )
}

fn flag(value: Option<String>, default: bool) -> bool {
    value.map_or(default, |v| {
        matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes")
    })
}

/// Reads the step's settings.
pub(crate) fn read(step: &Step, env: &Variables) -> Result<DiskRequest, StepError> {
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
                format!("partition style {other:?} (OSDPartitionStyle) is not GPT or MBR"),
            ));
        }
    };
    let disk_index = match setting(step, env, "OSDDiskIndex", "DiskIndex") {
        None => 0,
        Some(v) => v.trim().parse().map_err(|_| {
            failed(
                step,
                format!("disk number {v:?} (OSDDiskIndex) is not a number"),
            )
        })?,
    };
    let count = setting(step, env, "OSDPartitions", "Partitions");
    if count.is_none() && part(step, env, 0, "Type").is_none() {
        // The short form: one FAT32 volume filling the disk.
        let label = part(step, env, 0, "VolumeName").unwrap_or_else(|| "Windows".into());
        return Ok(DiskRequest {
            disk_index,
            table,
            partitions: vec![PartitionRequest {
                spec: PartitionSpec {
                    role: PartitionRole::Primary,
                    size: PartitionSize::Percent(100),
                    fs: PartitionFs::Fat32,
                    name: String::new(),
                    bootable: true,
                },
                label,
                quick: true,
                variable: part(step, env, 0, "VolumeLetterVariable"),
            }],
        });
    }
    let count: usize = match count {
        Some(c) => c
            .trim()
            .parse()
            .ok()
            .filter(|n| (1..=128).contains(n))
            .ok_or_else(|| {
                failed(
                    step,
                    format!("partition count {c:?} (OSDPartitions) is not a number from 1 to 128"),
                )
            })?,
        None => (0..128)
            .take_while(|i| part(step, env, *i, "Type").is_some())
            .count(),
    };
    let mut partitions = Vec::with_capacity(count);
    for i in 0..count {
        let name = |what: &str| format!("OSDPartitions{i}{what}");
        let kind = part(step, env, i, "Type").unwrap_or_else(|| "Primary".into());
        let role = match kind.trim().to_ascii_lowercase().as_str() {
            "efi" => PartitionRole::Efi,
            "msr" => PartitionRole::Msr,
            "primary" => PartitionRole::Primary,
            "recovery" => PartitionRole::Recovery,
            other => {
                return Err(failed(
                    step,
                    format!(
                        "partition {i} type {other:?} ({}): tsmedia creates EFI, MSR, Primary \
                         and Recovery partitions (no extended or logical partitions)",
                        name("Type")
                    ),
                ));
            }
        };
        let fs = match part(step, env, i, "FileSystem") {
            None => match role {
                PartitionRole::Efi => PartitionFs::Fat32,
                PartitionRole::Msr => PartitionFs::None,
                _ => PartitionFs::Ntfs,
            },
            Some(f) => match f.trim().to_ascii_uppercase().as_str() {
                "FAT32" => PartitionFs::Fat32,
                "NTFS" => PartitionFs::Ntfs,
                other => {
                    return Err(failed(
                        step,
                        format!(
                            "partition {i} file system {other:?} ({}) is not FAT32 or NTFS",
                            name("FileSystem")
                        ),
                    ));
                }
            },
        };
        if role == PartitionRole::Msr && fs != PartitionFs::None {
            return Err(failed(
                step,
                format!(
                    "partition {i} is a Microsoft reserved partition, which has no file system"
                ),
            ));
        }
        let units = part(step, env, i, "SizeUnits").unwrap_or_else(|| "MB".into());
        let size = match part(step, env, i, "Size") {
            None => PartitionSize::Percent(100),
            Some(v) => {
                let n: u64 = v.trim().parse().map_err(|_| {
                    failed(
                        step,
                        format!(
                            "partition {i} size {v:?} ({}) is not a number",
                            name("Size")
                        ),
                    )
                })?;
                match units.trim().to_ascii_uppercase().as_str() {
                    "MB" => PartitionSize::Mib(n),
                    "GB" => PartitionSize::Mib(n.saturating_mul(1024)),
                    "%" | "PERCENT" => PartitionSize::Percent(u32::try_from(n).unwrap_or(u32::MAX)),
                    other => {
                        return Err(failed(
                            step,
                            format!(
                                "partition {i} size unit {other:?} ({}) is not MB, GB or %",
                                name("SizeUnits")
                            ),
                        ));
                    }
                }
            }
        };
        let label = part(step, env, i, "VolumeName").unwrap_or_default();
        partitions.push(PartitionRequest {
            spec: PartitionSpec {
                role,
                size,
                fs,
                name: label.clone(),
                bootable: flag(part(step, env, i, "Bootable"), false),
            },
            label,
            quick: flag(part(step, env, i, "QuickFormat"), true),
            variable: part(step, env, i, "Variable")
                .or_else(|| part(step, env, i, "VolumeLetterVariable")),
        });
    }
    Ok(DiskRequest {
        disk_index,
        table,
        partitions,
    })
}

/// The partition that becomes the target volume: the first primary partition with a file
/// system (the Windows volume), else the first partition with one.
pub(crate) fn target_index(partitions: &[PartitionRequest]) -> Option<usize> {
    let formatted = |p: &&PartitionRequest| p.spec.fs != PartitionFs::None;
    partitions
        .iter()
        .position(|p| formatted(&p) && p.spec.role == PartitionRole::Primary)
        .or_else(|| partitions.iter().position(|p| formatted(&p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(vars: &[(&str, &str)]) -> Step {
        let mut s = Step::new(
            "Partition Disk 0 - UEFI",
            "SMS_TaskSequence_PartitionDiskAction",
        );
        s.variables = vars
            .iter()
            .map(|(n, v)| tsmedia_tasksequence::Variable::new(*n, *v))
            .collect();
        s
    }

    #[test]
    fn configuration_manager_uefi_layout() {
        let s = step(&[
            ("OSDDiskIndex", "0"),
            ("OSDPartitions0Type", "EFI"),
            ("OSDPartitions0Size", "500"),
            ("OSDPartitions0SizeUnits", "MB"),
            ("OSDPartitions0VolumeName", "EFI"),
            ("OSDPartitions1Type", "MSR"),
            ("OSDPartitions1Size", "128"),
            ("OSDPartitions2Type", "Primary"),
            ("OSDPartitions2FileSystem", "NTFS"),
            ("OSDPartitions2Size", "99"),
            ("OSDPartitions2SizeUnits", "%"),
            ("OSDPartitions2VolumeName", "Windows"),
            ("OSDPartitions2Variable", "OSDisk"),
            ("OSDPartitions3Type", "Recovery"),
            ("OSDPartitions3QuickFormat", "False"),
            ("OSDPartitions", "4"),
            ("OSDPartitionStyle", "GPT"),
        ]);
        let r = read(&s, &Variables::new()).unwrap();
        assert_eq!(r.table, PartitionTable::Gpt);
        let got: Vec<_> = r
            .partitions
            .iter()
            .map(|p| {
                (
                    p.spec.role,
                    p.spec.size,
                    p.spec.fs,
                    p.quick,
                    p.variable.clone(),
                )
            })
            .collect();
        use PartitionRole::*;
        use PartitionSize::*;
        let (fat, ntfs) = (PartitionFs::Fat32, PartitionFs::Ntfs);
        assert_eq!(
            got,
            vec![
                (Efi, Mib(500), fat, true, None),
                (Msr, Mib(128), PartitionFs::None, true, None),
                (Primary, Percent(99), ntfs, true, Some("OSDisk".into())),
                (Recovery, Percent(100), ntfs, false, None),
            ]
        );
        assert_eq!(target_index(&r.partitions), Some(2));
    }

    #[test]
    fn short_form_and_refusals() {
        let r = read(
            &step(&[
                ("OSDPartitions0VolumeName", "DATA"),
                ("OSDPartitionStyle", "MBR"),
            ]),
            &Variables::new(),
        )
        .unwrap();
        assert_eq!(r.partitions.len(), 1);
        assert_eq!(r.partitions[0].spec.fs, PartitionFs::Fat32);
        assert_eq!(r.partitions[0].label, "DATA");
        for (vars, want) in [
            (vec![("OSDPartitionStyle", "APM")], "OSDPartitionStyle"),
            (
                vec![("OSDPartitions", "1"), ("OSDPartitions0Type", "Logical")],
                "OSDPartitions0Type",
            ),
            (
                vec![
                    ("OSDPartitions", "1"),
                    ("OSDPartitions0FileSystem", "exFAT"),
                ],
                "OSDPartitions0FileSystem",
            ),
            (
                vec![("OSDPartitions", "1"), ("OSDPartitions0Size", "ten")],
                "OSDPartitions0Size",
            ),
            (
                vec![
                    ("OSDPartitions", "1"),
                    ("OSDPartitions0Size", "1"),
                    ("OSDPartitions0SizeUnits", "TB"),
                ],
                "OSDPartitions0SizeUnits",
            ),
            (vec![("OSDPartitions", "x")], "OSDPartitions"),
            (vec![("OSDDiskIndex", "first")], "OSDDiskIndex"),
        ] {
            let e = read(&step(&vars), &Variables::new())
                .unwrap_err()
                .to_string();
            assert!(e.contains(want), "{want}: {e}");
        }
    }
}
