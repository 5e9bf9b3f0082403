//! The boot sector of an existing volume, parsed and checked (fatgen103 §3.1–§3.5): every
//! value the reader later uses as an offset or a count is validated here, so hostile values
//! become one clear error instead of huge seeks or allocations.

use super::geometry::FatType;
use super::read_error::{ReadError, ReadResult};

/// The parsed BIOS parameter block with its derived layout.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BootParameters {
    pub fat_type: FatType,
    /// 512, 1024, 2048 or 4096.
    pub bytes_per_sector: u32,
    /// A power of two, 1 to 128.
    pub sectors_per_cluster: u32,
    pub reserved_sectors: u32,
    pub fat_count: u32,
    /// Sectors of one FAT.
    pub fat_sectors: u32,
    /// Root directory entries (FAT12/16; 0 on FAT32).
    pub root_entries: u32,
    pub total_sectors: u32,
    /// Data clusters (numbered 2 ..= cluster_count + 1).
    pub cluster_count: u32,
    /// First cluster of the root directory (FAT32; 0 on FAT12/16).
    pub root_cluster: u32,
    /// The FAT the reader uses (FAT32 may disable mirroring and name an active FAT).
    pub active_fat: u32,
    /// Volume serial number from the extended boot record, when present.
    pub volume_id: Option<u32>,
    /// Volume label from the extended boot record (trailing spaces removed), when present.
    pub label: Option<String>,
}

fn u16_at(s: &[u8], o: usize) -> u32 {
    u32::from(u16::from_le_bytes([s[o], s[o + 1]]))
}

fn u32_at(s: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([s[o], s[o + 1], s[o + 2], s[o + 3]])
}

impl BootParameters {
    /// Parses and checks a boot sector (at least its first 512 bytes).
    pub fn parse(s: &[u8]) -> ReadResult<BootParameters> {
        let bad = |m: String| Err(ReadError::BadBootSector(m));
        if s.len() < 512 {
            return bad(format!("{} bytes; a boot sector has 512", s.len()));
        }
        // fatgen103 §3.1: BS_jmpBoot is EB ?? 90 or E9 ?? ??.
        if !(s[0] == 0xEB && s[2] == 0x90 || s[0] == 0xE9) {
            return bad(format!("no jump instruction (first byte {:#04x})", s[0]));
        }
        let bytes_per_sector = u16_at(s, 11);
        if !matches!(bytes_per_sector, 512 | 1024 | 2048 | 4096) {
            return bad(format!("{bytes_per_sector} bytes per sector"));
        }
        let sectors_per_cluster = u32::from(s[13]);
        if !sectors_per_cluster.is_power_of_two() {
            return bad(format!("{sectors_per_cluster} sectors per cluster"));
        }
        let reserved_sectors = u16_at(s, 14);
        if reserved_sectors == 0 {
            return bad("no reserved sectors".into());
        }
        let fat_count = u32::from(s[16]);
        if fat_count == 0 {
            return bad("no FAT".into());
        }
        let root_entries = u16_at(s, 17);
        let total_sectors = match u16_at(s, 19) {
            0 => u32_at(s, 32),
            n => n,
        };
        let fat16_sectors = u16_at(s, 22);
        let fat_sectors = match fat16_sectors {
            0 => u32_at(s, 36),
            n => n,
        };
        if fat_sectors == 0 {
            return bad("FAT size 0".into());
        }
        let root_dir_sectors = (u64::from(root_entries) * 32).div_ceil(u64::from(bytes_per_sector));
        let data_start = u64::from(reserved_sectors)
            + u64::from(fat_count) * u64::from(fat_sectors)
            + root_dir_sectors;
        if data_start >= u64::from(total_sectors) {
            return bad(format!(
                "the data area would start at sector {data_start}, past the volume's {total_sectors} sectors"
            ));
        }
        let counted = (u64::from(total_sectors) - data_start) / u64::from(sectors_per_cluster);
        let counted = u32::try_from(counted).unwrap_or(u32::MAX);
        if counted == 0 {
            return bad("no data clusters".into());
        }
        // fatgen103 §3.5: the cluster count alone decides the type.
        let fat_type = FatType::from_cluster_count(counted);
        let fat32 = fat_type == FatType::Fat32;
        if fat32 && (root_entries != 0 || fat16_sectors != 0) {
            return bad(format!(
                "{counted} clusters make FAT32, but the BPB has FAT12/16 fields"
            ));
        }
        if !fat32 && root_entries == 0 {
            return bad(format!(
                "{counted} clusters make {fat_type:?}, which needs a root directory size"
            ));
        }
        // Like Linux, trust the FAT's capacity over the sector count when they disagree.
        let fat_bytes = u64::from(fat_sectors) * u64::from(bytes_per_sector);
        let capacity = match fat_type {
            FatType::Fat12 => fat_bytes * 2 / 3,
            FatType::Fat16 => fat_bytes / 2,
            FatType::Fat32 => fat_bytes / 4,
        };
        let cluster_count = u64::from(counted).min(capacity.saturating_sub(2));
        if cluster_count == 0 {
            return bad("the FAT has no room for any cluster".into());
        }
        let cluster_count = cluster_count as u32;
        let (root_cluster, active_fat, ext) = if fat32 {
            let flags = u16_at(s, 40);
            if u16_at(s, 42) != 0 {
                return bad(format!("FAT32 version {:#06x}", u16_at(s, 42)));
            }
            let root = u32_at(s, 44);
            if root < 2 || u64::from(root) >= u64::from(cluster_count) + 2 {
                return bad(format!(
                    "root directory cluster {root} is outside the volume"
                ));
            }
            // BPB_ExtFlags: bit 7 set = only the FAT numbered in bits 0-3 is active.
            let active = if flags & 0x80 != 0 { flags & 0x0F } else { 0 };
            if active >= fat_count {
                return bad(format!("active FAT {active} of {fat_count}"));
            }
            (root, active, 64)
        } else {
            (0, 0, 36)
        };
        let (volume_id, label) = if s[ext + 2] == 0x29 {
            let label = String::from_utf8_lossy(&s[ext + 7..ext + 18])
                .trim_end()
                .to_string();
            (Some(u32_at(s, ext + 3)), Some(label))
        } else {
            (None, None)
        };
        Ok(BootParameters {
            fat_type,
            bytes_per_sector,
            sectors_per_cluster,
            reserved_sectors,
            fat_count,
            fat_sectors,
            root_entries,
            total_sectors,
            cluster_count,
            root_cluster,
            active_fat,
            volume_id,
            label,
        })
    }

    /// Bytes per cluster.
    pub fn cluster_bytes(&self) -> u32 {
        self.bytes_per_sector * self.sectors_per_cluster
    }

    /// Size of the volume in bytes.
    pub fn volume_bytes(&self) -> u64 {
        u64::from(self.total_sectors) * u64::from(self.bytes_per_sector)
    }

    /// Byte offset (from the volume start) of the active FAT.
    pub fn fat_offset(&self) -> u64 {
        (u64::from(self.reserved_sectors) + u64::from(self.active_fat * self.fat_sectors))
            * u64::from(self.bytes_per_sector)
    }

    /// Bytes of one FAT.
    pub fn fat_bytes(&self) -> u64 {
        u64::from(self.fat_sectors) * u64::from(self.bytes_per_sector)
    }

    /// Byte offset of the FAT12/16 root directory region.
    pub fn root_dir_offset(&self) -> u64 {
        (u64::from(self.reserved_sectors) + u64::from(self.fat_count) * u64::from(self.fat_sectors))
            * u64::from(self.bytes_per_sector)
    }

    /// Byte offset of cluster 2, the first data cluster.
    pub fn data_offset(&self) -> u64 {
        let bps = u64::from(self.bytes_per_sector);
        self.root_dir_offset() + (u64::from(self.root_entries) * 32).div_ceil(bps) * bps
    }

    /// Whether `cluster` is a data cluster of this volume.
    pub fn is_data_cluster(&self, cluster: u32) -> bool {
        cluster >= 2 && u64::from(cluster) < u64::from(self.cluster_count) + 2
    }

    /// Byte offset of a data cluster (checked with [`BootParameters::is_data_cluster`] first).
    pub fn cluster_offset(&self, cluster: u32) -> u64 {
        self.data_offset() + u64::from(cluster - 2) * u64::from(self.cluster_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fat::boot::{BootFields, boot_sector};
    use crate::fat::geometry::Geometry;

    fn sector(g: &Geometry) -> [u8; 512] {
        boot_sector(&BootFields {
            geometry: g,
            volume_id: 0xABCD_0123,
            label: *b"READER     ",
            hidden_sectors: 0,
        })
    }

    #[test]
    fn our_own_boot_sectors_parse_back() {
        for (t, total, spc, root) in [
            (FatType::Fat12, 2880u64, 1u32, 224u32),
            (FatType::Fat16, 32_768, 4, 512),
            (FatType::Fat32, 131_072, 1, 0),
        ] {
            let g = Geometry::compute(t, total, spc, root).unwrap();
            let p = BootParameters::parse(&sector(&g)).unwrap();
            assert_eq!(p.fat_type, t);
            assert_eq!(p.cluster_count, g.cluster_count);
            assert_eq!(p.fat_sectors, g.fat_sectors);
            assert_eq!(p.data_offset(), u64::from(g.data_start()) * 512);
            assert_eq!(p.label.as_deref(), Some("READER"));
            assert_eq!(p.volume_id, Some(0xABCD_0123));
        }
    }

    #[test]
    fn bad_fields_are_errors() {
        let g = Geometry::compute(FatType::Fat16, 32_768, 4, 512).unwrap();
        let good = sector(&g);
        let cases: [(usize, &[u8]); 9] = [
            (0, &[0x00]),        // no jump
            (11, &[0x00, 0x03]), // 768 bytes per sector
            (13, &[3]),          // 3 sectors per cluster
            (13, &[0]),          // 0 sectors per cluster
            (14, &[0, 0]),       // no reserved sectors
            (16, &[0]),          // no FAT
            (17, &[0, 0]),       // FAT16 without a root directory
            (22, &[0, 0]),       // FAT size 0 (and no FAT32 size)
            (19, &[0x10, 0]),    // 16 sectors: the data area is past the end
        ];
        for (at, bytes) in cases {
            let mut s = good;
            s[at..at + bytes.len()].copy_from_slice(bytes);
            assert!(BootParameters::parse(&s).is_err(), "{at} {bytes:?}");
        }
        assert!(BootParameters::parse(&good[..100]).is_err());
    }

    #[test]
    fn fat32_root_cluster_and_version_checked() {
        let g = Geometry::compute(FatType::Fat32, 131_072, 1, 0).unwrap();
        let mut s = sector(&g);
        s[44..48].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(BootParameters::parse(&s).is_err());
        let mut s = sector(&g);
        s[42] = 1;
        assert!(BootParameters::parse(&s).is_err());
        let mut s = sector(&g);
        s[40] = 0x81; // FAT 1 active
        assert_eq!(BootParameters::parse(&s).unwrap().active_fat, 1);
        s[40] = 0x85; // FAT 5 of 2
        assert!(BootParameters::parse(&s).is_err());
    }
}
