//! A disk partitioned the Windows way: any number of GPT partitions (or up to four primary MBR
//! partitions) laid out in order at 1 MiB boundaries, as Format and Partition Disk asks
//! (EFI system, Microsoft reserved, primary, recovery), sized in MiB, in percent of the space
//! still free, or "the rest". Pure geometry first ([`PartitionPlan::new`]), then only the
//! tables written ([`PartitionPlan::write_tables`]): the volumes are formatted by their own
//! writers. The facts are in `docs/tsmedia-pe.md`, "Format and Partition Disk".

use std::io::{Seek, SeekFrom, Write};

use super::error::{Error, Result};
use super::gpt::{ENTRY_SECTORS, GptPartition, HeaderFields, entry_array, header_sector};
use super::guid::{Guid, GuidGenerator, crc32};
use super::mbr::{MbrPartition, mbr_sector};
use super::usb::PartitionTable;

const SECTOR: u64 = 512;
/// Partitions start and end on 1 MiB boundaries, as diskpart aligns them.
const ALIGN: u64 = 2048;
const MIB_SECTORS: u64 = (1 << 20) / SECTOR;

/// What a partition is for (Configuration Manager's partition "type").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionRole {
    /// The EFI system partition (boot manager and BCD on UEFI computers).
    Efi,
    /// The Microsoft reserved partition (GPT only; no file system).
    Msr,
    /// A primary (basic data) partition, e.g. the Windows volume.
    Primary,
    /// The Windows recovery tools partition (hidden, required).
    Recovery,
}

/// The file system a partition will hold (it decides the MBR type byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionFs {
    /// None (MSR, or left unformatted).
    None,
    Fat32,
    Ntfs,
}

/// How big a partition is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionSize {
    /// A size in MiB (what Configuration Manager calls MB).
    Mib(u64),
    /// A percentage (1 to 100) of the space still free when the partition is laid out.
    Percent(u32),
}

/// One partition asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionSpec {
    pub role: PartitionRole,
    pub size: PartitionSize,
    pub fs: PartitionFs,
    /// GPT partition name (at most 36 UTF-16 units); empty: the name Windows gives the role.
    pub name: String,
    /// MBR: marked active. Default for the first primary partition when none is marked.
    pub bootable: bool,
}

/// How to plan. Required data (disk size, partitions) is passed separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PartitionPlanOptions {
    /// Seed of the disk GUID, partition GUIDs and MBR disk signature. Default: random.
    pub guid_seed: Option<u64>,
}

/// One partition as laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedPartition {
    /// 1-based, as the kernel and tools number it.
    pub number: u32,
    pub role: PartitionRole,
    pub fs: PartitionFs,
    pub first_lba: u64,
    pub sectors: u64,
    /// GPT type GUID (also set for MBR disks, for the caller's convenience).
    pub type_guid: Guid,
    /// GPT unique partition GUID (None on MBR).
    pub guid: Option<Guid>,
    /// MBR system ID.
    pub mbr_type: u8,
    pub attributes: u64,
    pub name: String,
    pub bootable: bool,
}

impl PlannedPartition {
    /// Byte offset.
    pub fn offset(&self) -> u64 {
        self.first_lba * SECTOR
    }

    /// Size in bytes.
    pub fn bytes(&self) -> u64 {
        self.sectors * SECTOR
    }
}

/// A planned partition table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionPlan {
    pub table: PartitionTable,
    pub disk_sectors: u64,
    pub partitions: Vec<PlannedPartition>,
    /// GPT disk GUID (None on MBR).
    pub disk_guid: Option<Guid>,
    /// MBR disk signature (0 on GPT, whose protective MBR carries none).
    pub disk_signature: u32,
}

impl Guid {
    /// Microsoft reserved partition, E3C9E316-0B5C-4DB8-817D-F92DF00215AE.
    pub const MICROSOFT_RESERVED: Guid = Guid::from_fields(
        0xE3C9_E316,
        0x0B5C,
        0x4DB8,
        [0x81, 0x7D, 0xF9, 0x2D, 0xF0, 0x02, 0x15, 0xAE],
    );
    /// Windows recovery environment, DE94BBA4-06D1-4D40-A16A-BFD50179D6AC.
    pub const WINDOWS_RECOVERY: Guid = Guid::from_fields(
        0xDE94_BBA4,
        0x06D1,
        0x4D40,
        [0xA1, 0x6A, 0xBF, 0xD5, 0x01, 0x79, 0xD6, 0xAC],
    );
}

/// GPT attribute bits: platform required (0) and "no drive letter" (63), what Windows sets
/// on its recovery partition.
const RECOVERY_ATTRIBUTES: u64 = 0x8000_0000_0000_0001;

impl PartitionPlan {
    /// Lays `specs` out in order on a disk of `disk_bytes`. A partition that does not fit, or a
    /// percentage that leaves it less than 1 MiB, is [`Error::DiskTooSmall`] with the size the
    /// fixed-size partitions need.
    pub fn new(
        table: PartitionTable,
        disk_bytes: u64,
        specs: &[PartitionSpec],
        options: &PartitionPlanOptions,
    ) -> Result<PartitionPlan> {
        let gpt = table == PartitionTable::Gpt;
        if specs.is_empty() {
            return Err(Error::InvalidOption("no partitions to create".into()));
        }
        if !gpt && specs.len() > 4 {
            return Err(Error::InvalidOption(format!(
                "{} partitions asked for; an MBR holds 4 primary partitions",
                specs.len()
            )));
        }
        let disk_sectors = disk_bytes / SECTOR;
        if !gpt && disk_sectors > u64::from(u32::MAX) {
            return Err(Error::InvalidOption(format!(
                "an MBR cannot address a disk of {disk_sectors} sectors; use GPT"
            )));
        }
        // GPT keeps its backup entries and header in the last 33 sectors.
        let tail = if gpt { ENTRY_SECTORS + 1 } else { 0 };
        let end = disk_sectors.saturating_sub(tail) / ALIGN * ALIGN;
        let needed = needed_bytes(specs, tail);
        let too_small = || Error::DiskTooSmall {
            available: disk_bytes,
            needed,
        };
        let mut guids = options
            .guid_seed
            .map_or_else(GuidGenerator::random, GuidGenerator::seeded);
        let disk_signature = guids.next_u64() as u32;
        let disk_guid = gpt.then(|| guids.next_guid());
        let any_bootable = specs.iter().any(|s| s.bootable);
        let mut first_primary = true;
        let mut cursor = ALIGN;
        let mut partitions = Vec::with_capacity(specs.len());
        for (i, spec) in specs.iter().enumerate() {
            if spec.name.encode_utf16().count() > 36 {
                return Err(Error::InvalidOption(format!(
                    "partition {} name {:?} is longer than 36 UTF-16 units",
                    i + 1,
                    spec.name
                )));
            }
            if !gpt && spec.role == PartitionRole::Msr {
                return Err(Error::InvalidOption(format!(
                    "partition {}: a Microsoft reserved partition exists only on GPT disks",
                    i + 1
                )));
            }
            let free = end.saturating_sub(cursor);
            let sectors = match spec.size {
                PartitionSize::Mib(0) | PartitionSize::Percent(0) => {
                    return Err(Error::InvalidOption(format!(
                        "partition {} has size 0",
                        i + 1
                    )));
                }
                PartitionSize::Percent(p) if p > 100 => {
                    return Err(Error::InvalidOption(format!(
                        "partition {} is {p}% of the free space; at most 100%",
                        i + 1
                    )));
                }
                PartitionSize::Mib(m) => m.checked_mul(MIB_SECTORS).ok_or_else(too_small)?,
                PartitionSize::Percent(p) => free * u64::from(p) / 100 / ALIGN * ALIGN,
            };
            if sectors == 0 || sectors > free {
                return Err(too_small());
            }
            let (type_guid, mbr_type, attributes, default_name) = match spec.role {
                PartitionRole::Efi => (Guid::EFI_SYSTEM, 0xEF, 0, "EFI system partition"),
                PartitionRole::Msr => (
                    Guid::MICROSOFT_RESERVED,
                    0,
                    0,
                    "Microsoft reserved partition",
                ),
                PartitionRole::Primary => (
                    Guid::BASIC_DATA,
                    if spec.fs == PartitionFs::Fat32 {
                        0x0C
                    } else {
                        0x07
                    },
                    0,
                    "Basic data partition",
                ),
                PartitionRole::Recovery => (
                    Guid::WINDOWS_RECOVERY,
                    0x27,
                    RECOVERY_ATTRIBUTES,
                    "Windows recovery",
                ),
            };
            let bootable = if any_bootable {
                spec.bootable
            } else {
                spec.role == PartitionRole::Primary && std::mem::take(&mut first_primary)
            };
            partitions.push(PlannedPartition {
                number: i as u32 + 1,
                role: spec.role,
                fs: spec.fs,
                first_lba: cursor,
                sectors,
                type_guid,
                guid: gpt.then(|| guids.next_guid()),
                mbr_type,
                attributes,
                name: if spec.name.is_empty() {
                    default_name.to_string()
                } else {
                    spec.name.clone()
                },
                bootable: !gpt && bootable,
            });
            cursor += sectors.div_ceil(ALIGN) * ALIGN;
        }
        Ok(PartitionPlan {
            table,
            disk_sectors,
            partitions,
            disk_guid,
            disk_signature: if gpt { 0 } else { disk_signature },
        })
    }

    /// The partition numbered `number`.
    pub fn partition(&self, number: u32) -> Option<&PlannedPartition> {
        self.partitions.iter().find(|p| p.number == number)
    }

    /// The MBR sector (the protective MBR on GPT).
    pub fn mbr(&self) -> [u8; 512] {
        match self.table {
            PartitionTable::Gpt => mbr_sector(
                None,
                0,
                &[MbrPartition {
                    bootable: false,
                    kind: 0xEE,
                    first_lba: 1,
                    sectors: u32::try_from(self.disk_sectors - 1).unwrap_or(u32::MAX),
                }],
            ),
            PartitionTable::Mbr => {
                let entries: Vec<MbrPartition> = self
                    .partitions
                    .iter()
                    .map(|p| MbrPartition {
                        bootable: p.bootable,
                        kind: p.mbr_type,
                        // `new` refused disks an MBR cannot address.
                        first_lba: p.first_lba as u32,
                        sectors: p.sectors as u32,
                    })
                    .collect();
                mbr_sector(None, self.disk_signature, &entries)
            }
        }
    }

    /// GPT: the entry array and the primary and backup headers.
    pub fn gpt(&self) -> Option<(Vec<u8>, [u8; 512], [u8; 512])> {
        let disk_guid = self.disk_guid?;
        let entries = entry_array(
            &self
                .partitions
                .iter()
                .map(|p| GptPartition {
                    type_guid: p.type_guid,
                    unique_guid: p.guid.unwrap_or(Guid([0; 16])),
                    first_lba: p.first_lba,
                    last_lba: p.first_lba + p.sectors - 1,
                    attributes: p.attributes,
                    name: p.name.clone(),
                })
                .collect::<Vec<_>>(),
        );
        let header = |primary| {
            header_sector(&HeaderFields {
                disk_guid,
                disk_sectors: self.disk_sectors,
                primary,
                entries_crc: crc32(&entries),
            })
        };
        Some((entries.clone(), header(true), header(false)))
    }

    /// Writes the tables to a disk of [`PartitionPlan::disk_sectors`] sectors (a device or an
    /// image file, which grows to that size): the MBR, on GPT both headers and entry arrays,
    /// and zeros over the first MiB of every partition and the last MiB of the disk, so no
    /// old file system or table is found there afterwards.
    pub fn write_tables<W: Write + Seek>(&self, out: &mut W) -> Result<()> {
        let mut put = |at: u64, bytes: &[u8]| -> Result<()> {
            out.seek(SeekFrom::Start(at))
                .and_then(|_| out.write_all(bytes))
                .map_err(|source| Error::Write { offset: at, source })
        };
        let zeros = vec![0u8; (MIB_SECTORS * SECTOR) as usize];
        let disk_end = self.disk_sectors * SECTOR;
        put(0, &zeros)?;
        let last_mib = disk_end.saturating_sub(MIB_SECTORS * SECTOR);
        put(last_mib, &zeros[..(disk_end - last_mib) as usize])?;
        for p in &self.partitions {
            put(
                p.offset(),
                &zeros[..p.bytes().min(zeros.len() as u64) as usize],
            )?;
        }
        put(0, &self.mbr())?;
        if let Some((entries, primary, backup)) = self.gpt() {
            put(SECTOR, &primary)?;
            put(2 * SECTOR, &entries)?;
            put(disk_end - (ENTRY_SECTORS + 1) * SECTOR, &entries)?;
            put(disk_end - SECTOR, &backup)?;
        }
        out.flush().map_err(|source| Error::Write {
            offset: disk_end,
            source,
        })
    }
}

/// The smallest disk the fixed-size partitions fit on (each percentage counted as 1 MiB).
fn needed_bytes(specs: &[PartitionSpec], tail: u64) -> u64 {
    let sectors: u64 = specs
        .iter()
        .map(|s| match s.size {
            PartitionSize::Mib(m) => m.saturating_mul(MIB_SECTORS).div_ceil(ALIGN) * ALIGN,
            PartitionSize::Percent(_) => ALIGN,
        })
        .fold(ALIGN, u64::saturating_add);
    sectors.saturating_add(tail).saturating_mul(SECTOR)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(role: PartitionRole, size: PartitionSize, fs: PartitionFs) -> PartitionSpec {
        PartitionSpec {
            role,
            size,
            fs,
            name: String::new(),
            bootable: false,
        }
    }

    /// Configuration Manager's default UEFI layout: EFI 500 MB, MSR 128 MB, Windows 99% of the
    /// rest, recovery 100% of what is left.
    pub(crate) fn uefi_layout() -> Vec<PartitionSpec> {
        use PartitionFs::*;
        use PartitionRole::*;
        use PartitionSize::*;
        vec![
            spec(Efi, Mib(500), Fat32),
            spec(Msr, Mib(128), None),
            spec(Primary, Percent(99), Ntfs),
            spec(Recovery, Percent(100), Ntfs),
        ]
    }

    #[test]
    fn uefi_layout_on_16_gib() {
        let disk = 16u64 << 30;
        let plan = PartitionPlan::new(
            PartitionTable::Gpt,
            disk,
            &uefi_layout(),
            &PartitionPlanOptions { guid_seed: Some(1) },
        )
        .unwrap();
        let got: Vec<(u64, u64)> = plan
            .partitions
            .iter()
            .map(|p| (p.first_lba, p.sectors))
            .collect();
        // The last usable aligned sector: (33554432 - 33) rounded down to 2048 = 33552384.
        let free = 33_552_384 - (2048 + 1_024_000 + 262_144);
        let windows = free * 99 / 100 / 2048 * 2048;
        assert_eq!(
            got,
            vec![
                (2048, 1_024_000),
                (1_026_048, 262_144),
                (1_288_192, windows),
                (1_288_192 + windows, 33_552_384 - 1_288_192 - windows),
            ]
        );
        assert_eq!(plan.partitions[3].attributes, RECOVERY_ATTRIBUTES);
        assert_eq!(plan.partitions[1].type_guid, Guid::MICROSOFT_RESERVED);
        assert!(plan.partitions.iter().all(|p| p.guid.is_some()));
        assert!(plan.disk_guid.is_some());
    }

    #[test]
    fn sizes_and_refusals() {
        use PartitionFs::*;
        use PartitionRole::*;
        use PartitionSize::*;
        let o = PartitionPlanOptions::default();
        let cases: Vec<(PartitionTable, u64, Vec<PartitionSpec>, &str)> = vec![
            (
                PartitionTable::Gpt,
                64 << 20,
                uefi_layout(),
                "too small: needs 500+128+2+2 MiB",
            ),
            (
                PartitionTable::Mbr,
                1 << 30,
                vec![spec(Msr, Mib(16), None)],
                "exists only on GPT",
            ),
            (
                PartitionTable::Mbr,
                1 << 30,
                vec![spec(Primary, Percent(20), Ntfs); 5],
                "4 primary partitions",
            ),
            (
                PartitionTable::Gpt,
                1 << 30,
                vec![spec(Primary, Percent(101), Ntfs)],
                "at most 100%",
            ),
            (
                PartitionTable::Gpt,
                1 << 30,
                vec![spec(Primary, Mib(0), Ntfs)],
                "size 0",
            ),
        ];
        for (table, size, specs, what) in cases {
            let e = PartitionPlan::new(table, size, &specs, &o).unwrap_err();
            let text = e.to_string();
            let matched = match &e {
                Error::DiskTooSmall { needed, available } => {
                    *available == size
                        && *needed == (2048 + 2048 * (500 + 128 + 2)) * 512 + 33 * 512
                }
                _ => what.split(':').next().is_some_and(|w| text.contains(w)),
            };
            assert!(matched, "{what}: {text}");
        }
    }

    #[test]
    fn mbr_types_and_active_flag() {
        use PartitionFs::*;
        use PartitionRole::*;
        use PartitionSize::*;
        let plan = PartitionPlan::new(
            PartitionTable::Mbr,
            1 << 30,
            &[
                spec(Primary, Mib(100), Fat32),
                spec(Primary, Percent(100), Ntfs),
            ],
            &PartitionPlanOptions { guid_seed: Some(3) },
        )
        .unwrap();
        let mbr = plan.mbr();
        assert_eq!((mbr[446], mbr[450]), (0x80, 0x0C));
        assert_eq!((mbr[462], mbr[466]), (0, 0x07));
        assert_eq!(&mbr[440..444], &plan.disk_signature.to_le_bytes());
        assert!(plan.gpt().is_none());
        assert_eq!(plan.partitions[1].first_lba, 2048 + 204_800);
        assert_eq!(plan.partitions[1].sectors, 2_097_152 - 2048 - 204_800);
    }
}
