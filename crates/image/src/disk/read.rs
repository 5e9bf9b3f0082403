//! Reading partition tables of existing disks and images: the MBR (four primary entries with
//! active flag and type) and GPT (UEFI 2.10 §5.3: header CRC, entry array CRC, the backup
//! header when the primary is damaged), and finding the FAT volume of a USB stick, a staged
//! disk or a partitionless "superfloppy" image. Extended (logical) MBR partitions and sector
//! sizes other than 512 are not read.

use std::io::{Read, Seek, SeekFrom};

use super::guid::{Guid, crc32};
use crate::fat::{BootParameters, FatVolume, ReadError};

const SECTOR: u64 = 512;

/// Errors of the partition table reader.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TableError {
    /// Reading the disk failed or it ended early.
    #[error("reading the disk at byte {offset:#x}")]
    Io { offset: u64, source: std::io::Error },
    /// The MBR or GPT is damaged.
    #[error("{0}")]
    Bad(String),
    /// No partition (and no partitionless volume) holds a FAT file system.
    #[error("no FAT file system found: {0}")]
    NoFat(String),
    /// The FAT volume of the chosen partition could not be opened.
    #[error("FAT volume of partition {partition}")]
    Fat {
        partition: usize,
        #[source]
        source: ReadError,
    },
}

/// Which kind of table a disk has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    Mbr,
    Gpt,
    /// No partition table: the disk is one volume (a "superfloppy").
    None,
}

/// A partition's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionType {
    /// MBR system ID (0x0C FAT32 LBA, 0xEF EFI system, ...).
    Mbr(u8),
    /// GPT partition type GUID.
    Gpt(Guid),
}

/// One partition found in a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionInfo {
    /// 1-based number, as tools count (MBR slot or GPT entry index + 1).
    pub number: usize,
    pub kind: PartitionType,
    pub first_lba: u64,
    pub sectors: u64,
    /// MBR: the active (0x80) flag. GPT: attribute bit 2 ("legacy BIOS bootable").
    pub active: bool,
    /// GPT partition name (empty for MBR).
    pub name: String,
    /// GPT unique partition GUID.
    pub guid: Option<Guid>,
}

impl PartitionInfo {
    /// Byte offset of the partition.
    pub fn offset(&self) -> u64 {
        self.first_lba * SECTOR
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.sectors * SECTOR
    }

    /// Whether the type is one that can hold FAT (FAT12/16/32 MBR IDs, EFI system, basic data).
    pub fn may_hold_fat(&self) -> bool {
        match self.kind {
            PartitionType::Mbr(t) => matches!(t, 0x01 | 0x04 | 0x06 | 0x0B | 0x0C | 0x0E | 0xEF),
            PartitionType::Gpt(g) => g == Guid::EFI_SYSTEM || g == Guid::BASIC_DATA,
        }
    }
}

/// A disk's partition table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskLayout {
    pub table: TableKind,
    pub partitions: Vec<PartitionInfo>,
    /// GPT disk GUID.
    pub disk_guid: Option<Guid>,
    /// MBR disk signature (bytes 440..444).
    pub disk_signature: Option<u32>,
    /// GPT: whether the backup header was used because the primary was damaged.
    pub used_backup_gpt: bool,
}

fn read_at<R: Read + Seek>(r: &mut R, pos: u64, buf: &mut [u8]) -> Result<(), TableError> {
    let io = |source| TableError::Io {
        offset: pos,
        source,
    };
    r.seek(SeekFrom::Start(pos)).map_err(io)?;
    r.read_exact(buf).map_err(io)
}

fn u32_at(s: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([s[o], s[o + 1], s[o + 2], s[o + 3]])
}

fn u64_at(s: &[u8], o: usize) -> u64 {
    u64::from_le_bytes([
        s[o],
        s[o + 1],
        s[o + 2],
        s[o + 3],
        s[o + 4],
        s[o + 5],
        s[o + 6],
        s[o + 7],
    ])
}

/// Reads the partition table of a disk or image (its size is taken from seeking to the end).
pub fn read_partition_table<R: Read + Seek>(r: &mut R) -> Result<DiskLayout, TableError> {
    let disk_bytes = r
        .seek(SeekFrom::End(0))
        .map_err(|source| TableError::Io { offset: 0, source })?;
    let mut mbr = [0u8; 512];
    read_at(r, 0, &mut mbr)?;
    let disk_sectors = disk_bytes / SECTOR;
    if BootParameters::parse(&mbr).is_ok() {
        return Ok(DiskLayout {
            table: TableKind::None,
            partitions: Vec::new(),
            disk_guid: None,
            disk_signature: None,
            used_backup_gpt: false,
        });
    }
    if mbr[510..512] != [0x55, 0xAA] {
        return Err(TableError::Bad(
            "sector 0 is neither an MBR (no 0x55AA signature) nor a FAT boot sector".into(),
        ));
    }
    let mut partitions = Vec::new();
    let mut protective = false;
    for i in 0..4 {
        let e = &mbr[446 + 16 * i..462 + 16 * i];
        let (status, kind) = (e[0], e[4]);
        let first = u64::from(u32_at(e, 8));
        let sectors = u64::from(u32_at(e, 12));
        if kind == 0 || sectors == 0 {
            continue;
        }
        if status != 0 && status != 0x80 {
            return Err(TableError::Bad(format!(
                "MBR entry {} has status {status:#04x} (0x00 or 0x80 expected)",
                i + 1
            )));
        }
        if kind == 0xEE {
            protective = true;
            continue;
        }
        if first == 0 || first + sectors > disk_sectors {
            return Err(TableError::Bad(format!(
                "MBR partition {} (sectors {first}..{}) is outside the disk's {disk_sectors} sectors",
                i + 1,
                first + sectors
            )));
        }
        partitions.push(PartitionInfo {
            number: i + 1,
            kind: PartitionType::Mbr(kind),
            first_lba: first,
            sectors,
            active: status == 0x80,
            name: String::new(),
            guid: None,
        });
    }
    if protective {
        return read_gpt(r, disk_sectors);
    }
    Ok(DiskLayout {
        table: TableKind::Mbr,
        partitions,
        disk_guid: None,
        disk_signature: Some(u32_at(&mbr, 440)),
        used_backup_gpt: false,
    })
}

/// Largest entry array read (the usual one is 16 KiB).
const MAX_ENTRY_BYTES: u64 = 1 << 20;

fn read_gpt<R: Read + Seek>(r: &mut R, disk_sectors: u64) -> Result<DiskLayout, TableError> {
    if disk_sectors < 3 {
        return Err(TableError::Bad("disk too small for a GPT".into()));
    }
    let primary = gpt_at(r, 1, disk_sectors);
    let (header, partitions, backup) = match primary {
        Ok((h, p)) => (h, p, false),
        Err(first) => match gpt_at(r, disk_sectors - 1, disk_sectors) {
            Ok((h, p)) => (h, p, true),
            Err(_) => return Err(first),
        },
    };
    let mut guid = [0u8; 16];
    guid.copy_from_slice(&header[56..72]);
    Ok(DiskLayout {
        table: TableKind::Gpt,
        partitions,
        disk_guid: Some(Guid(guid)),
        disk_signature: None,
        used_backup_gpt: backup,
    })
}

/// Reads and checks the GPT header at `lba` and its entry array.
fn gpt_at<R: Read + Seek>(
    r: &mut R,
    lba: u64,
    disk_sectors: u64,
) -> Result<([u8; 512], Vec<PartitionInfo>), TableError> {
    let bad = |m: String| TableError::Bad(format!("GPT header at LBA {lba}: {m}"));
    let mut h = [0u8; 512];
    read_at(r, lba * SECTOR, &mut h)?;
    if &h[..8] != b"EFI PART" {
        return Err(bad("no \"EFI PART\" signature".into()));
    }
    let size = u32_at(&h, 12) as usize;
    if !(92..=512).contains(&size) {
        return Err(bad(format!("header size {size}")));
    }
    let stored = u32_at(&h, 16);
    let mut check = h;
    check[16..20].fill(0);
    if crc32(&check[..size]) != stored {
        return Err(bad("header CRC mismatch".into()));
    }
    if u64_at(&h, 24) != lba {
        return Err(bad(format!("says it is at LBA {}", u64_at(&h, 24))));
    }
    let (first_usable, last_usable) = (u64_at(&h, 40), u64_at(&h, 48));
    let entries_lba = u64_at(&h, 72);
    let count = u64::from(u32_at(&h, 80));
    let entry_size = u64::from(u32_at(&h, 84));
    if entry_size < 128 || !entry_size.is_power_of_two() {
        return Err(bad(format!("entry size {entry_size}")));
    }
    let bytes = count * entry_size;
    if bytes > MAX_ENTRY_BYTES {
        return Err(bad(format!("{count} entries of {entry_size} bytes")));
    }
    if entries_lba < 1 || entries_lba + bytes.div_ceil(SECTOR) > disk_sectors {
        return Err(bad(format!(
            "entry array at LBA {entries_lba} is outside the disk"
        )));
    }
    let mut entries = vec![0u8; bytes as usize];
    read_at(r, entries_lba * SECTOR, &mut entries)?;
    if crc32(&entries) != u32_at(&h, 88) {
        return Err(bad("partition entry array CRC mismatch".into()));
    }
    let mut partitions = Vec::new();
    for (i, e) in entries.chunks_exact(entry_size as usize).enumerate() {
        if e[..16].iter().all(|&b| b == 0) {
            continue;
        }
        let (first, last) = (u64_at(e, 32), u64_at(e, 40));
        if first < first_usable || last > last_usable || last < first || last >= disk_sectors {
            return Err(bad(format!(
                "partition {} (LBA {first}..={last}) is outside the usable LBAs {first_usable}..={last_usable}",
                i + 1
            )));
        }
        let mut type_guid = [0u8; 16];
        type_guid.copy_from_slice(&e[..16]);
        let mut unique = [0u8; 16];
        unique.copy_from_slice(&e[16..32]);
        let units: Vec<u16> = e[56..128]
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .take_while(|&u| u != 0)
            .collect();
        partitions.push(PartitionInfo {
            number: i + 1,
            kind: PartitionType::Gpt(Guid(type_guid)),
            first_lba: first,
            sectors: last - first + 1,
            active: u64_at(e, 48) & 4 != 0,
            name: String::from_utf16_lossy(&units),
            guid: Some(Guid(unique)),
        });
    }
    Ok((h, partitions))
}

/// Opens the FAT volume of a disk or image: the volume itself when sector 0 is a FAT boot
/// sector, else the first partition of a FAT-capable type whose volume opens. Returns the
/// volume and the partition it came from (`None` for a superfloppy).
pub fn open_fat_volume<R: Read + Seek>(
    mut r: R,
) -> Result<(FatVolume<R>, Option<PartitionInfo>), TableError> {
    let layout = read_partition_table(&mut r)?;
    if layout.table == TableKind::None {
        return FatVolume::open(r, 0)
            .map(|v| (v, None))
            .map_err(|source| TableError::Fat {
                partition: 0,
                source,
            });
    }
    let mut tried = Vec::new();
    for p in layout.partitions.iter().filter(|p| p.may_hold_fat()) {
        // Check the boot sector first so that a failed candidate does not consume `r`.
        let mut sector = [0u8; 512];
        read_at(&mut r, p.offset(), &mut sector)?;
        match BootParameters::parse(&sector) {
            Ok(bpb) if bpb.volume_bytes() <= p.size() => {
                return FatVolume::open(r, p.offset())
                    .map(|v| (v, Some(p.clone())))
                    .map_err(|source| TableError::Fat {
                        partition: p.number,
                        source,
                    });
            }
            Ok(bpb) => {
                tried.push(format!(
                    "partition {}: the volume ({} bytes) is larger than the partition ({} bytes)",
                    p.number,
                    bpb.volume_bytes(),
                    p.size()
                ));
            }
            Err(e) => {
                tried.push(format!("partition {}: {e}", p.number));
            }
        }
    }
    Err(TableError::NoFat(if tried.is_empty() {
        format!(
            "the {:?} table has no partition of a FAT type ({} partitions)",
            layout.table,
            layout.partitions.len()
        )
    } else {
        tried.join("; ")
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::{MbrPartition, mbr_sector};
    use std::io::Cursor;

    fn disk(entries: &[MbrPartition], sectors: usize) -> Cursor<Vec<u8>> {
        let mut d = vec![0u8; sectors * 512];
        d[..512].copy_from_slice(&mbr_sector(None, 0x1234_5678, entries));
        Cursor::new(d)
    }

    fn part(bootable: bool, kind: u8, first_lba: u32, sectors: u32) -> MbrPartition {
        MbrPartition {
            bootable,
            kind,
            first_lba,
            sectors,
        }
    }

    #[test]
    fn mbr_entries_and_their_checks() {
        let layout = read_partition_table(&mut disk(
            &[part(false, 0x83, 2048, 100), part(true, 0x0C, 4096, 1000)],
            8192,
        ))
        .unwrap();
        assert_eq!(layout.table, TableKind::Mbr);
        assert_eq!(layout.disk_signature, Some(0x1234_5678));
        let p = &layout.partitions;
        assert_eq!(
            (p[0].number, p[0].active, p[0].may_hold_fat()),
            (1, false, false)
        );
        assert_eq!(
            (p[1].number, p[1].active, p[1].may_hold_fat()),
            (2, true, true)
        );
        assert_eq!((p[1].offset(), p[1].size()), (4096 * 512, 1000 * 512));

        // Past the end of the disk.
        let err = read_partition_table(&mut disk(&[part(true, 0x0C, 4096, 8192)], 8192));
        assert!(matches!(err, Err(TableError::Bad(_))), "{err:?}");
        // A status byte other than 0x00 / 0x80.
        let mut d = disk(&[part(true, 0x0C, 2048, 100)], 8192);
        d.get_mut()[446] = 0x12;
        assert!(read_partition_table(&mut d).is_err());
        // Protective MBR without a GPT behind it.
        let err = read_partition_table(&mut disk(&[part(false, 0xEE, 1, 8191)], 8192));
        assert!(err.unwrap_err().to_string().contains("EFI PART"));
        // No FAT partition: the error says what was there.
        let err = open_fat_volume(disk(&[part(false, 0x83, 2048, 100)], 8192)).unwrap_err();
        assert!(matches!(err, TableError::NoFat(_)), "{err}");
        // A FAT-typed partition without a FAT boot sector.
        let err = open_fat_volume(disk(&[part(true, 0x0C, 2048, 100)], 8192)).unwrap_err();
        assert!(err.to_string().contains("partition 1"), "{err}");
        // A disk shorter than one sector.
        assert!(read_partition_table(&mut Cursor::new(vec![0u8; 100])).is_err());
    }
}
