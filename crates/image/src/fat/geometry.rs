//! Volume geometry as pure functions: FAT type, sectors per cluster, reserved sectors, FAT size
//! and cluster count.
//!
//! Follows Microsoft's "FAT: General Overview of On-Disk Format" (fatgen103, 2000): §3.5 (the
//! `DskTableFAT16` / `DskTableFAT32` tables that `format` uses to choose a cluster size),
//! §3.5 (FAT type is decided by the count of clusters alone: FAT12 < 4085 ≤ FAT16 < 65525 ≤
//! FAT32) and §4 (FAT size). The FAT size is computed exactly (the smallest FAT that covers all
//! clusters) rather than with fatgen103's closed-form over-estimate.

use std::fmt;

/// Bytes per sector. tsmedia writes 512-byte sectors only (USB sticks and El Torito images).
pub const SECTOR_SIZE: u32 = 512;

/// Largest cluster count of FAT12 (fatgen103 §3.5: "< 4085").
pub const FAT12_MAX_CLUSTERS: u32 = 4084;
/// Largest cluster count of FAT16 ("< 65525").
pub const FAT16_MAX_CLUSTERS: u32 = 65524;
/// Largest cluster count of FAT32: cluster numbers must stay below 0x0FFFFFF7 (bad cluster).
pub const FAT32_MAX_CLUSTERS: u32 = 0x0FFF_FFF4;

/// The three FAT variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FatType {
    Fat12,
    Fat16,
    Fat32,
}

impl FatType {
    /// The valid range of cluster counts for this type.
    pub fn cluster_range(self) -> (u32, u32) {
        match self {
            FatType::Fat12 => (1, FAT12_MAX_CLUSTERS),
            FatType::Fat16 => (FAT12_MAX_CLUSTERS + 1, FAT16_MAX_CLUSTERS),
            FatType::Fat32 => (FAT16_MAX_CLUSTERS + 1, FAT32_MAX_CLUSTERS),
        }
    }

    /// The FAT type that a count of clusters implies (how every reader decides).
    pub fn from_cluster_count(clusters: u32) -> FatType {
        if clusters <= FAT12_MAX_CLUSTERS {
            FatType::Fat12
        } else if clusters <= FAT16_MAX_CLUSTERS {
            FatType::Fat16
        } else {
            FatType::Fat32
        }
    }

    /// Bytes the FAT needs for `entries` entries (clusters + the two reserved entries).
    pub fn fat_bytes(self, entries: u64) -> u64 {
        match self {
            FatType::Fat12 => (entries * 3).div_ceil(2),
            FatType::Fat16 => entries * 2,
            FatType::Fat32 => entries * 4,
        }
    }

    /// Minimum reserved sectors before the first FAT: 1 for FAT12/16, 32 for FAT32 (boot sector,
    /// FSInfo, backup boot sector at 6), as Microsoft's format does.
    pub fn reserved_sectors(self) -> u32 {
        match self {
            FatType::Fat12 | FatType::Fat16 => 1,
            FatType::Fat32 => 32,
        }
    }

    /// The 8-byte `BS_FilSysType` string.
    pub fn label(self) -> &'static [u8; 8] {
        match self {
            FatType::Fat12 => b"FAT12   ",
            FatType::Fat16 => b"FAT16   ",
            FatType::Fat32 => b"FAT32   ",
        }
    }
}

impl fmt::Display for FatType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FatType::Fat12 => "FAT12",
            FatType::Fat16 => "FAT16",
            FatType::Fat32 => "FAT32",
        })
    }
}

/// Why a geometry cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GeometryError {
    /// Metadata alone fills the volume.
    #[error("a {fat_type} volume of {total_sectors} sectors has no room for data")]
    NoDataRegion {
        fat_type: FatType,
        total_sectors: u64,
    },
    /// The cluster count falls outside the FAT type's range.
    #[error(
        "a {fat_type} volume of {total_sectors} sectors with {sectors_per_cluster} sectors per cluster \
         has {clusters} clusters; {fat_type} needs {min}..={max}"
    )]
    ClusterCount {
        fat_type: FatType,
        total_sectors: u64,
        sectors_per_cluster: u32,
        clusters: u64,
        min: u32,
        max: u32,
    },
    /// More sectors than a 32-bit sector count can hold.
    #[error("{total_sectors} sectors exceed FAT's 32-bit sector count")]
    TooManySectors { total_sectors: u64 },
    /// Sectors per cluster must be a power of two from 1 to 128.
    #[error("invalid sectors per cluster {0}: must be a power of two from 1 to 128")]
    SectorsPerCluster(u32),
}

/// FAT type Microsoft-style automatic choice by volume size (in 512-byte sectors):
/// FAT12 up to 8400 sectors (≈4 MiB, below which `DskTableFAT16` refuses FAT16), FAT16 up to
/// 1048576 sectors (512 MiB, where fatgen103 recommends FAT32), FAT32 above.
pub fn auto_fat_type(total_sectors: u64) -> FatType {
    if total_sectors <= 8400 {
        FatType::Fat12
    } else if total_sectors <= 1_048_576 {
        FatType::Fat16
    } else {
        FatType::Fat32
    }
}

/// Sectors per cluster that Microsoft's format chooses for a volume (fatgen103 `DskTableFAT16`
/// and `DskTableFAT32`); for FAT12, which has no table, the smallest power of two that keeps
/// the cluster count within FAT12's range. `None` where the table says the size is invalid for
/// the type (FAT16 ≤ 8400 sectors, FAT32 ≤ 66600 sectors, FAT16 > 4 GiB).
pub fn default_sectors_per_cluster(fat_type: FatType, total_sectors: u64) -> Option<u32> {
    match fat_type {
        FatType::Fat12 => {
            let mut spc = 1u32;
            while total_sectors / u64::from(spc) > u64::from(FAT12_MAX_CLUSTERS) {
                spc *= 2;
                if spc > 64 {
                    return None;
                }
            }
            Some(spc)
        }
        FatType::Fat16 => match total_sectors {
            0..=8400 => None,
            8401..=32_680 => Some(2),
            32_681..=262_144 => Some(4),
            262_145..=524_288 => Some(8),
            524_289..=1_048_576 => Some(16),
            1_048_577..=2_097_152 => Some(32),
            2_097_153..=4_194_304 => Some(64),
            _ => None,
        },
        FatType::Fat32 => match total_sectors {
            0..=66_600 => None,
            66_601..=532_480 => Some(1),
            532_481..=16_777_216 => Some(8),
            16_777_217..=33_554_432 => Some(16),
            33_554_433..=67_108_864 => Some(32),
            _ => Some(64),
        },
    }
}

/// The computed layout of a FAT volume, all in 512-byte sectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    pub fat_type: FatType,
    pub total_sectors: u32,
    pub sectors_per_cluster: u32,
    pub reserved_sectors: u32,
    pub fat_count: u32,
    pub fat_sectors: u32,
    /// Entries of the fixed root directory (FAT12/16); 0 on FAT32.
    pub root_entries: u32,
    pub cluster_count: u32,
}

impl Geometry {
    /// Computes the geometry of a volume; the FAT is the smallest that maps every cluster.
    /// The data region starts on a cluster boundary (reserved sectors are added for it).
    pub fn compute(
        fat_type: FatType,
        total_sectors: u64,
        sectors_per_cluster: u32,
        root_entries: u32,
    ) -> Result<Geometry, GeometryError> {
        if !sectors_per_cluster.is_power_of_two() || sectors_per_cluster > 128 {
            return Err(GeometryError::SectorsPerCluster(sectors_per_cluster));
        }
        let total = u32::try_from(total_sectors)
            .map_err(|_| GeometryError::TooManySectors { total_sectors })?;
        let root_entries = if fat_type == FatType::Fat32 {
            0
        } else {
            root_entries
        };
        let fat_count = 2u64;
        let root_sectors = (u64::from(root_entries) * 32).div_ceil(u64::from(SECTOR_SIZE));
        let spc = u64::from(sectors_per_cluster);
        // The smallest FAT that maps every cluster left beside it, given the other metadata.
        let smallest_fat = |fixed: u64| -> Result<(u64, u64), GeometryError> {
            let clusters_with = |fat_sectors: u64| -> Option<u64> {
                let meta = fixed + fat_count * fat_sectors;
                (meta < total_sectors).then(|| (total_sectors - meta) / spc)
            };
            let fits = |fat_sectors: u64, clusters: u64| {
                fat_type.fat_bytes(clusters + 2) <= fat_sectors * u64::from(SECTOR_SIZE)
            };
            let no_data = GeometryError::NoDataRegion {
                fat_type,
                total_sectors,
            };
            // An upper bound (as if the FAT took no room), then shrink.
            let max_clusters = clusters_with(0).ok_or(no_data.clone())?;
            let mut fat_sectors = fat_type
                .fat_bytes(max_clusters + 2)
                .div_ceil(u64::from(SECTOR_SIZE))
                .max(1);
            while fat_sectors > 1 {
                match clusters_with(fat_sectors - 1) {
                    Some(c) if fits(fat_sectors - 1, c) => fat_sectors -= 1,
                    _ => break,
                }
            }
            Ok((fat_sectors, clusters_with(fat_sectors).ok_or(no_data)?))
        };
        // Align the data region to the cluster size (as mkfs.fat does) by growing the reserved
        // area, so clusters sit on flash-page boundaries when the partition is aligned. Each
        // step only adds reserved sectors, which can only shrink the FAT; stop after a few.
        let mut reserved = u64::from(fat_type.reserved_sectors());
        let (mut fat_sectors, mut clusters) = smallest_fat(reserved + root_sectors)?;
        for _ in 0..16 {
            let data_start = reserved + fat_count * fat_sectors + root_sectors;
            let pad = (spc - data_start % spc) % spc;
            if pad == 0 {
                break;
            }
            reserved += pad;
            (fat_sectors, clusters) = smallest_fat(reserved + root_sectors)?;
        }
        let (min, max) = fat_type.cluster_range();
        if clusters < u64::from(min) || clusters > u64::from(max) {
            return Err(GeometryError::ClusterCount {
                fat_type,
                total_sectors,
                sectors_per_cluster,
                clusters,
                min,
                max,
            });
        }
        Ok(Geometry {
            fat_type,
            total_sectors: total,
            sectors_per_cluster,
            reserved_sectors: reserved as u32,
            fat_count: 2,
            fat_sectors: u32::try_from(fat_sectors).expect("FAT of ≤ 2^28 entries fits u32"),
            root_entries,
            cluster_count: u32::try_from(clusters).expect("checked against the type's maximum"),
        })
    }

    /// Bytes per cluster.
    pub fn cluster_bytes(&self) -> u32 {
        self.sectors_per_cluster * SECTOR_SIZE
    }

    /// Sectors of the fixed root directory (0 on FAT32).
    pub fn root_dir_sectors(&self) -> u32 {
        (self.root_entries * 32).div_ceil(SECTOR_SIZE)
    }

    /// First sector of the FAT number `index`.
    pub fn fat_start(&self, index: u32) -> u32 {
        self.reserved_sectors + index * self.fat_sectors
    }

    /// First sector of the fixed root directory (FAT12/16).
    pub fn root_dir_start(&self) -> u32 {
        self.fat_start(self.fat_count)
    }

    /// First sector of the data region (cluster 2).
    pub fn data_start(&self) -> u32 {
        self.root_dir_start() + self.root_dir_sectors()
    }

    /// Total size of the volume in bytes.
    pub fn total_bytes(&self) -> u64 {
        u64::from(self.total_sectors) * u64::from(SECTOR_SIZE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn microsoft_cluster_size_tables() {
        let cases: &[(FatType, u64, Option<u32>)] = &[
            (FatType::Fat16, 8400, None),
            (FatType::Fat16, 8401, Some(2)),
            (FatType::Fat16, 32_680, Some(2)),
            (FatType::Fat16, 32_681, Some(4)),
            (FatType::Fat16, 262_145, Some(8)),
            (FatType::Fat16, 1_048_576, Some(16)),
            (FatType::Fat16, 4_194_304, Some(64)),
            (FatType::Fat16, 4_194_305, None),
            (FatType::Fat32, 66_600, None),
            (FatType::Fat32, 66_601, Some(1)),
            (FatType::Fat32, 532_480, Some(1)),
            (FatType::Fat32, 532_481, Some(8)),
            (FatType::Fat32, 16_777_216, Some(8)),
            (FatType::Fat32, 16_777_217, Some(16)),
            (FatType::Fat32, 67_108_864, Some(32)),
            (FatType::Fat32, 67_108_865, Some(64)),
            (FatType::Fat12, 2880, Some(1)),
            (FatType::Fat12, 4084, Some(1)),
            (FatType::Fat12, 4085, Some(2)),
            (FatType::Fat12, 8400, Some(4)),
        ];
        for &(t, sectors, want) in cases {
            assert_eq!(
                default_sectors_per_cluster(t, sectors),
                want,
                "{t} {sectors}"
            );
        }
    }

    #[test]
    fn auto_type_by_size() {
        let cases = [
            (2880, FatType::Fat12),
            (8400, FatType::Fat12),
            (8401, FatType::Fat16),
            (1_048_576, FatType::Fat16),
            (1_048_577, FatType::Fat32),
            (62_500_000, FatType::Fat32),
        ];
        for (sectors, want) in cases {
            assert_eq!(auto_fat_type(sectors), want, "{sectors}");
        }
    }

    #[test]
    fn known_geometries() {
        // (type, sectors, spc, root entries) -> (fat sectors, clusters)
        let cases: &[(FatType, u64, u32, u32, u32, u32)] = &[
            // The 1.44 MB floppy: 9-sector FATs, 2847 clusters.
            (FatType::Fat12, 2880, 1, 224, 9, 2847),
            // 16 MiB FAT16 with 2 KiB clusters (mkfs.fat -F 16 -s 4 -r 512: 32, 8167).
            (FatType::Fat16, 32_768, 4, 512, 32, 8167),
            // 64 MiB FAT32 with 512-byte clusters (mkfs.fat -F 32 -s 1 -R 32: 1009, 129022).
            (FatType::Fat32, 131_072, 1, 0, 1009, 129_022),
            // 8 GiB FAT32 with 4 KiB clusters (mkfs.fat pads its FAT to align the data region
            // and gets 16360 sectors; the smallest sufficient FAT is 16353).
            (FatType::Fat32, 16_777_216, 8, 0, 16_353, 2_093_059),
        ];
        for &(t, sectors, spc, root, fat, clusters) in cases {
            let g = Geometry::compute(t, sectors, spc, root).unwrap();
            assert_eq!(
                (g.fat_sectors, g.cluster_count),
                (fat, clusters),
                "{t} {sectors}"
            );
            // The FAT is minimal and sufficient.
            assert!(t.fat_bytes(u64::from(g.cluster_count) + 2) <= u64::from(g.fat_sectors) * 512);
            let data = u64::from(g.data_start());
            assert_eq!(
                (sectors - data) / u64::from(spc),
                u64::from(g.cluster_count)
            );
            assert_eq!(data % u64::from(spc), 0, "data region aligned to clusters");
        }
        // mkfs.fat -F 16 -s 4 -r 512 also pads to 4 reserved sectors (data at sector 100).
        let g = Geometry::compute(FatType::Fat16, 32_768, 4, 512).unwrap();
        assert_eq!((g.reserved_sectors, g.data_start()), (4, 100));
        // The floppy needs no padding.
        let g = Geometry::compute(FatType::Fat12, 2880, 1, 224).unwrap();
        assert_eq!((g.reserved_sectors, g.data_start()), (1, 33));
    }

    #[test]
    fn cluster_count_ranges_are_enforced() {
        assert!(matches!(
            Geometry::compute(FatType::Fat32, 40_000, 1, 0),
            Err(GeometryError::ClusterCount { .. })
        ));
        assert!(matches!(
            Geometry::compute(FatType::Fat16, 4_000, 1, 512),
            Err(GeometryError::ClusterCount { .. })
        ));
        assert!(matches!(
            Geometry::compute(FatType::Fat12, 20_000, 1, 224),
            Err(GeometryError::ClusterCount { .. })
        ));
        assert!(matches!(
            Geometry::compute(FatType::Fat12, 10, 1, 224),
            Err(GeometryError::NoDataRegion { .. })
        ));
        assert!(matches!(
            Geometry::compute(FatType::Fat32, 1 << 33, 64, 0),
            Err(GeometryError::TooManySectors { .. })
        ));
        assert!(matches!(
            Geometry::compute(FatType::Fat16, 100_000, 3, 512),
            Err(GeometryError::SectorsPerCluster(3))
        ));
    }

    #[test]
    fn type_from_cluster_count_boundaries() {
        assert_eq!(FatType::from_cluster_count(4084), FatType::Fat12);
        assert_eq!(FatType::from_cluster_count(4085), FatType::Fat16);
        assert_eq!(FatType::from_cluster_count(65524), FatType::Fat16);
        assert_eq!(FatType::from_cluster_count(65525), FatType::Fat32);
    }
}
