//! A bootable USB drive image: a partition table (MBR or GPT) and one FAT32 partition at
//! 1 MiB holding a declared tree, planned first and then streamed front to back to a file or a
//! block device.

use std::io::{self, Seek, SeekFrom, Write};

use super::chainload::{MAX_SECTORS, chainload_code};
use super::error::{Error, Result};
use super::gpt::{ENTRY_SECTORS, GptPartition, HeaderFields, entry_array, header_sector};
use super::guid::{Guid, GuidGenerator, crc32};
use super::mbr::{MbrPartition, mbr_sector};
use crate::fat::{FatOptions, FatPlan, FatTree, FatType};

const SECTOR: u64 = 512;
/// Partitions start and end on 1 MiB boundaries, as Windows and Linux tools align them.
const ALIGN_SECTORS: u64 = 2048;

/// Which partition table to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PartitionTable {
    /// MBR with one active partition: what `MakeWinPEMedia /UFD` and Rufus write, bootable by
    /// UEFI and BIOS firmware, and mounted by Windows with a drive letter.
    #[default]
    Mbr,
    /// GPT with a protective MBR.
    Gpt,
}

/// The partition's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PartitionKind {
    /// MBR type 0x0C (FAT32, LBA) / GPT Microsoft basic data. Windows gives it a drive letter.
    #[default]
    BasicData,
    /// MBR type 0xEF / GPT EFI System Partition (C12A7328-F81F-11D2-BA4B-00A0C93EC93B).
    /// Windows does not mount an ESP by default.
    EfiSystem,
}

/// How to build a USB image. Required data (the tree) is passed separately.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsbImageOptions {
    /// Partition table. Default: MBR.
    pub table: PartitionTable,
    /// Partition type. Default: basic data (MBR 0x0C).
    pub partition_kind: PartitionKind,
    /// Whole disk size in bytes (a multiple of 512), e.g. the target device's size; the
    /// partition fills it up to the last 1 MiB boundary (GPT keeps its backup after it).
    /// Default: the smallest disk that holds the content.
    pub disk_size: Option<u64>,
    /// Seed of the disk GUID, partition GUID and MBR disk signature. Default: random.
    pub guid_seed: Option<u64>,
    /// GPT partition name (at most 36 UTF-16 units). Default: "tsmedia".
    pub partition_name: String,
    /// The FAT volume (label, serial, timestamp, cluster size). `volume_size` and
    /// `hidden_sectors` are set by the plan; `fat_type` defaults to FAT32 here.
    pub fat: FatOptions,
    /// At most 440 bytes of MBR boot code (for BIOS boot). Default: a stub that returns to
    /// the BIOS (INT 18h), so BIOS firmware tries the next device.
    pub mbr_boot_code: Option<Vec<u8>>,
    /// BIOS boot: the path (in the tree) of a boot program of at most 127 sectors that
    /// generated MBR code loads to 0000:7C00 and jumps to, boot drive in DL (files are stored
    /// contiguously, so no file-system code is needed). Excludes `mbr_boot_code`.
    /// Default: none.
    pub bios_boot_file: Option<String>,
    /// Bytes written from the first byte of the disk, before the partition (which then
    /// starts at the first 1 MiB boundary after them), e.g. an ISO 9660 area that a BIOS
    /// boot loader reads. Its first 17 KiB (the MBR and the primary GPT) must be zero: the
    /// tables go there. Default: none.
    pub leading_area: Vec<u8>,
}

impl Default for UsbImageOptions {
    fn default() -> Self {
        UsbImageOptions {
            table: PartitionTable::default(),
            partition_kind: PartitionKind::default(),
            disk_size: None,
            guid_seed: None,
            partition_name: "tsmedia".into(),
            fat: FatOptions::default(),
            mbr_boot_code: None,
            bios_boot_file: None,
            leading_area: Vec::new(),
        }
    }
}

/// A planned USB image: partition table and FAT volume, every limit checked.
#[derive(Debug)]
pub struct UsbImagePlan {
    fat: FatPlan,
    table: PartitionTable,
    disk_sectors: u64,
    partition_start: u64,
    partition_sectors: u64,
    mbr: [u8; 512],
    /// GPT: (primary header, backup header, entry array).
    gpt: Option<([u8; 512], [u8; 512], Vec<u8>)>,
    disk_guid: Option<Guid>,
    partition_guid: Option<Guid>,
    disk_signature: u32,
    leading_area: Vec<u8>,
}

impl UsbImagePlan {
    /// Plans the disk: the FAT32 volume (its size from `disk_size`, or the smallest that holds
    /// `tree`), the partition at 1 MiB and the table.
    pub fn new(tree: FatTree, options: &UsbImageOptions) -> Result<UsbImagePlan> {
        let gpt = options.table == PartitionTable::Gpt;
        if let Some(code) = &options.mbr_boot_code
            && code.len() > 440
        {
            return Err(Error::InvalidOption(format!(
                "MBR boot code is {} bytes; at most 440 fit",
                code.len()
            )));
        }
        if options.partition_name.encode_utf16().count() > 36 {
            return Err(Error::InvalidOption(format!(
                "GPT partition name {:?} is longer than 36 UTF-16 units",
                options.partition_name
            )));
        }
        let tables = (2 + ENTRY_SECTORS) * SECTOR;
        if options.leading_area[..options.leading_area.len().min(tables as usize)]
            .iter()
            .any(|&b| b != 0)
        {
            return Err(Error::InvalidOption(format!(
                "the leading area's first {tables} bytes must be zero: the partition tables go there"
            )));
        }
        // The partition starts at the first 1 MiB boundary after the leading area.
        let partition_start = (options.leading_area.len() as u64)
            .div_ceil(SECTOR * ALIGN_SECTORS)
            .max(1)
            * ALIGN_SECTORS;
        let hidden_sectors = u32::try_from(partition_start).map_err(|_| {
            Error::InvalidOption(format!(
                "a leading area of {} bytes is too large",
                options.leading_area.len()
            ))
        })?;
        // GPT needs its backup entries and header after the partition.
        let tail = if gpt { ENTRY_SECTORS + 1 } else { 0 };
        let mut fat_options = FatOptions {
            fat_type: Some(options.fat.fat_type.unwrap_or(FatType::Fat32)),
            hidden_sectors,
            ..options.fat.clone()
        };
        let (fat, disk_sectors) = match options.disk_size {
            Some(size) => {
                if size % SECTOR != 0 {
                    return Err(Error::InvalidOption(format!(
                        "disk size {size} is not a multiple of 512"
                    )));
                }
                let disk = size / SECTOR;
                let room = disk.saturating_sub(partition_start + tail);
                let part = room / ALIGN_SECTORS * ALIGN_SECTORS;
                fat_options.volume_size = Some(part * SECTOR);
                let fat = match FatPlan::new(tree, &fat_options) {
                    Err(crate::fat::Error::VolumeTooSmall { needed, .. }) => {
                        return Err(Error::DiskTooSmall {
                            available: size,
                            needed: disk_bytes_for(partition_start, needed, tail),
                        });
                    }
                    // Too small for the FAT type at all: say what an empty volume needs.
                    Err(crate::fat::Error::Geometry(_)) if part * SECTOR < 64 << 20 => {
                        return Err(Error::DiskTooSmall {
                            available: size,
                            needed: disk_bytes_for(
                                partition_start,
                                minimal_fat_bytes(&fat_options).unwrap_or(64 << 20),
                                tail,
                            ),
                        });
                    }
                    other => other?,
                };
                (fat, disk)
            }
            None => {
                fat_options.volume_size = None;
                let minimal = FatPlan::new(tree, &fat_options)?;
                let part = minimal.total_bytes().div_ceil(SECTOR * ALIGN_SECTORS) * ALIGN_SECTORS;
                fat_options.volume_size = Some(part * SECTOR);
                let fat = FatPlan::new(minimal.into_tree(), &fat_options)?;
                let disk = partition_start + part + if gpt { ALIGN_SECTORS } else { 0 };
                (fat, disk)
            }
        };
        let partition_sectors = fat.total_bytes() / SECTOR;
        if !gpt && disk_sectors > u64::from(u32::MAX) {
            return Err(Error::InvalidOption(format!(
                "an MBR cannot address a disk of {disk_sectors} sectors; use GPT"
            )));
        }

        let mut guids = options
            .guid_seed
            .map_or_else(GuidGenerator::random, GuidGenerator::seeded);
        let disk_signature = guids.next_u64() as u32;
        let chainload = match &options.bios_boot_file {
            None => None,
            Some(_) if options.mbr_boot_code.is_some() => {
                return Err(Error::InvalidOption(
                    "give either MBR boot code or a BIOS boot file, not both".into(),
                ));
            }
            Some(path) => {
                let (offset, size) = fat.file_extent(path).ok_or_else(|| {
                    Error::InvalidOption(format!("BIOS boot file {path:?} is not a declared file"))
                })?;
                let sectors = size.div_ceil(SECTOR);
                if sectors == 0 || sectors > u64::from(MAX_SECTORS) {
                    return Err(Error::InvalidOption(format!(
                        "BIOS boot file {path:?} is {size} bytes; the loader takes 1 to {MAX_SECTORS} sectors"
                    )));
                }
                Some(chainload_code(
                    partition_start + offset / SECTOR,
                    sectors as u16,
                ))
            }
        };
        let boot_code = chainload.as_deref().or(options.mbr_boot_code.as_deref());
        let (mbr, gpt_parts, disk_guid, partition_guid) = if gpt {
            let disk_guid = guids.next_guid();
            let partition_guid = guids.next_guid();
            let protective = MbrPartition {
                bootable: false,
                kind: 0xEE,
                first_lba: 1,
                sectors: u32::try_from(disk_sectors - 1).unwrap_or(u32::MAX),
            };
            let entries = entry_array(&[GptPartition {
                type_guid: match options.partition_kind {
                    PartitionKind::EfiSystem => Guid::EFI_SYSTEM,
                    PartitionKind::BasicData => Guid::BASIC_DATA,
                },
                unique_guid: partition_guid,
                first_lba: partition_start,
                last_lba: partition_start + partition_sectors - 1,
                attributes: 0,
                name: options.partition_name.clone(),
            }]);
            let header = |primary| {
                header_sector(&HeaderFields {
                    disk_guid,
                    disk_sectors,
                    primary,
                    entries_crc: crc32(&entries),
                })
            };
            let tables = (header(true), header(false), entries);
            (
                // The protective MBR carries no disk signature (UEFI 2.10 Table 5.4: zero).
                mbr_sector(boot_code, 0, &[protective]),
                Some(tables),
                Some(disk_guid),
                Some(partition_guid),
            )
        } else {
            let part = MbrPartition {
                bootable: true,
                kind: match options.partition_kind {
                    PartitionKind::EfiSystem => 0xEF,
                    PartitionKind::BasicData => 0x0C,
                },
                first_lba: partition_start as u32,
                sectors: partition_sectors as u32,
            };
            (
                mbr_sector(boot_code, disk_signature, &[part]),
                None,
                None,
                None,
            )
        };
        Ok(UsbImagePlan {
            fat,
            table: options.table,
            disk_sectors,
            partition_start,
            partition_sectors,
            mbr,
            gpt: gpt_parts,
            disk_guid,
            partition_guid,
            disk_signature: if gpt { 0 } else { disk_signature },
            leading_area: options.leading_area.clone(),
        })
    }

    /// Size of the whole image in bytes.
    pub fn disk_bytes(&self) -> u64 {
        self.disk_sectors * SECTOR
    }

    /// Byte offset of the FAT partition (1 MiB, or after the leading area).
    pub fn partition_offset(&self) -> u64 {
        self.partition_start * SECTOR
    }

    /// Size of the FAT partition in bytes.
    pub fn partition_bytes(&self) -> u64 {
        self.partition_sectors * SECTOR
    }

    /// The planned FAT volume.
    pub fn fat(&self) -> &FatPlan {
        &self.fat
    }

    /// The partition table written.
    pub fn table(&self) -> PartitionTable {
        self.table
    }

    /// GPT disk GUID (None for MBR).
    pub fn disk_guid(&self) -> Option<Guid> {
        self.disk_guid
    }

    /// GPT partition GUID (None for MBR).
    pub fn partition_guid(&self) -> Option<Guid> {
        self.partition_guid
    }

    /// MBR disk signature (0 for GPT).
    pub fn disk_signature(&self) -> u32 {
        self.disk_signature
    }

    /// Streams the whole image (exactly [`UsbImagePlan::disk_bytes`] bytes) to `out`, front
    /// to back, reading each file's source once.
    pub fn write<W: Write>(&self, out: W) -> Result<()> {
        self.write_with(out, |fat, out| fat.write(out))
    }

    /// Like [`UsbImagePlan::write`], but seeks over the FAT volume's free space instead of
    /// writing zeros (see [`FatPlan::write_seekable`]); for a new file or a device being
    /// formatted. Positions are relative to where `out` stands when called.
    pub fn write_seekable<W: Write + Seek>(&self, out: W) -> Result<()> {
        self.write_with(out, |fat, out| fat.write_seekable(out))
    }

    fn write_with<W: Write>(
        &self,
        out: W,
        write_fat: impl FnOnce(&FatPlan, &mut Offset<W>) -> crate::fat::Result<()>,
    ) -> Result<()> {
        let mut out = Offset { inner: out, at: 0 };
        out.put(&self.mbr)?;
        if let Some((primary, _, entries)) = &self.gpt {
            out.put(primary)?;
            out.put(entries)?;
        }
        if let Some(rest) = self.leading_area.get(out.at as usize..) {
            out.put(rest)?;
        }
        out.zero_to(self.partition_offset())?;
        write_fat(&self.fat, &mut out)?;
        let end = self.disk_bytes();
        if let Some((_, backup, entries)) = &self.gpt {
            out.zero_to(end - (ENTRY_SECTORS + 1) * SECTOR)?;
            out.put(entries)?;
            out.put(backup)?;
        }
        out.zero_to(end)?;
        let at = out.at;
        out.flush()
            .map_err(|source| Error::Write { offset: at, source })
    }
}

/// Disk bytes for a FAT volume of `fat_bytes` starting at sector `start`, aligned as the
/// plan aligns it.
fn disk_bytes_for(start: u64, fat_bytes: u64, tail: u64) -> u64 {
    let part = fat_bytes.div_ceil(SECTOR * ALIGN_SECTORS) * ALIGN_SECTORS;
    (start + part + tail) * SECTOR
}

fn minimal_fat_bytes(options: &FatOptions) -> Option<u64> {
    FatPlan::new(
        FatTree::new(),
        &FatOptions {
            volume_size: None,
            ..options.clone()
        },
    )
    .ok()
    .map(|p| p.total_bytes())
}

static ZEROS: [u8; 1 << 16] = [0; 1 << 16];

struct Offset<W> {
    inner: W,
    at: u64,
}

impl<W: Write> Offset<W> {
    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        let offset = self.at;
        self.write_all(bytes)
            .map_err(|source| Error::Write { offset, source })
    }

    fn zero_to(&mut self, target: u64) -> Result<()> {
        while self.at < target {
            let n = (target - self.at).min(ZEROS.len() as u64) as usize;
            self.put(&ZEROS[..n])?;
        }
        Ok(())
    }
}

impl<W: Seek> Seek for Offset<W> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let before = self.inner.stream_position()?;
        let after = self.inner.seek(pos)?;
        self.at = self.at.wrapping_add(after.wrapping_sub(before));
        Ok(after)
    }
}

impl<W: Write> Write for Offset<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.at += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
