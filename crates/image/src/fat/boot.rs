//! The boot sector with its BIOS parameter block, and the FAT32 FSInfo sector
//! (fatgen103 §3.1–§3.3 and "FAT32 FSInfo Sector Structure").

use super::geometry::{FatType, Geometry, SECTOR_SIZE};

/// Media descriptor of a fixed (non-removable) disk; also the low byte of FAT entry 0.
pub const MEDIA_FIXED: u8 = 0xF8;

/// The BPB fields that are not geometry.
pub(crate) struct BootFields<'a> {
    pub geometry: &'a Geometry,
    pub volume_id: u32,
    pub label: [u8; 11],
    pub hidden_sectors: u32,
}

/// Sectors per track reported in the BPB: the first of a few customary values that divides the
/// volume size, because mtools refuses volumes whose size is not a multiple of it.
fn sectors_per_track(total: u32) -> u16 {
    [63u16, 32, 18, 16, 9, 8, 4, 2]
        .into_iter()
        .find(|&spt| total.is_multiple_of(u32::from(spt)))
        .unwrap_or(1)
}

/// Builds the 512-byte boot sector.
pub(crate) fn boot_sector(f: &BootFields<'_>) -> [u8; 512] {
    let g = f.geometry;
    let mut s = [0u8; 512];
    let fat32 = g.fat_type == FatType::Fat32;
    // Jump over the BPB to the boot code (0x3E, or 0x5A after the FAT32 BPB).
    let code_at: usize = if fat32 { 0x5A } else { 0x3E };
    s[0] = 0xEB;
    s[1] = (code_at - 2) as u8;
    s[2] = 0x90;
    s[3..11].copy_from_slice(b"MSWIN4.1");
    s[11..13].copy_from_slice(&(SECTOR_SIZE as u16).to_le_bytes());
    s[13] = g.sectors_per_cluster as u8;
    s[14..16].copy_from_slice(&(g.reserved_sectors as u16).to_le_bytes());
    s[16] = g.fat_count as u8;
    s[17..19].copy_from_slice(&(g.root_entries as u16).to_le_bytes());
    if !fat32 && g.total_sectors < 0x1_0000 {
        s[19..21].copy_from_slice(&(g.total_sectors as u16).to_le_bytes());
    } else {
        s[32..36].copy_from_slice(&g.total_sectors.to_le_bytes());
    }
    s[21] = MEDIA_FIXED;
    if !fat32 {
        s[22..24].copy_from_slice(&(g.fat_sectors as u16).to_le_bytes());
    }
    let spt = sectors_per_track(g.total_sectors);
    s[24..26].copy_from_slice(&spt.to_le_bytes());
    s[26..28].copy_from_slice(&255u16.to_le_bytes());
    s[28..32].copy_from_slice(&f.hidden_sectors.to_le_bytes());
    let ext = if fat32 {
        s[36..40].copy_from_slice(&g.fat_sectors.to_le_bytes());
        // 40: ExtFlags 0 (FAT mirrored), 42: version 0.0
        s[44..48].copy_from_slice(&2u32.to_le_bytes()); // root cluster
        s[48..50].copy_from_slice(&1u16.to_le_bytes()); // FSInfo sector
        s[50..52].copy_from_slice(&6u16.to_le_bytes()); // backup boot sector
        64
    } else {
        36
    };
    s[ext] = 0x80; // BS_DrvNum: first hard disk
    s[ext + 2] = 0x29; // BS_BootSig: the next three fields are present
    s[ext + 3..ext + 7].copy_from_slice(&f.volume_id.to_le_bytes());
    s[ext + 7..ext + 18].copy_from_slice(&f.label);
    s[ext + 18..ext + 26].copy_from_slice(g.fat_type.label());
    // Not bootable: ask the BIOS for the next boot device (INT 18h), else halt.
    s[code_at..code_at + 5].copy_from_slice(&[0xCD, 0x18, 0xF4, 0xEB, 0xFD]);
    s[510] = 0x55;
    s[511] = 0xAA;
    s
}

/// Builds the FAT32 FSInfo sector.
pub(crate) fn fsinfo_sector(free_clusters: u32, next_free: u32) -> [u8; 512] {
    let mut s = [0u8; 512];
    s[0..4].copy_from_slice(&0x4161_5252u32.to_le_bytes());
    s[484..488].copy_from_slice(&0x6141_7272u32.to_le_bytes());
    s[488..492].copy_from_slice(&free_clusters.to_le_bytes());
    s[492..496].copy_from_slice(&next_free.to_le_bytes());
    s[508..512].copy_from_slice(&0xAA55_0000u32.to_le_bytes());
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bpb_fields_fat16_and_fat32() {
        let g16 = Geometry::compute(FatType::Fat16, 32_768, 4, 512).unwrap();
        let s = boot_sector(&BootFields {
            geometry: &g16,
            volume_id: 0x1234_5678,
            label: *b"TSMEDIA    ",
            hidden_sectors: 0,
        });
        assert_eq!(&s[0..3], &[0xEB, 0x3C, 0x90]);
        assert_eq!(u16::from_le_bytes([s[19], s[20]]), 32_768);
        assert_eq!(u16::from_le_bytes([s[22], s[23]]), g16.fat_sectors as u16);
        assert_eq!(&s[39..43], &0x1234_5678u32.to_le_bytes());
        assert_eq!(&s[43..54], b"TSMEDIA    ");
        assert_eq!(&s[54..62], b"FAT16   ");
        assert_eq!(&s[510..], &[0x55, 0xAA]);

        let g32 = Geometry::compute(FatType::Fat32, 131_072, 1, 0).unwrap();
        let s = boot_sector(&BootFields {
            geometry: &g32,
            volume_id: 1,
            label: *b"NO NAME    ",
            hidden_sectors: 2048,
        });
        assert_eq!(&s[0..3], &[0xEB, 0x58, 0x90]);
        assert_eq!(u16::from_le_bytes([s[17], s[18]]), 0);
        assert_eq!(u32::from_le_bytes([s[32], s[33], s[34], s[35]]), 131_072);
        assert_eq!(u32::from_le_bytes([s[28], s[29], s[30], s[31]]), 2048);
        assert_eq!(&s[82..90], b"FAT32   ");
        assert_eq!(s[0x5A], 0xCD);
    }

    #[test]
    fn track_size_divides_volume() {
        for (total, want) in [(2880, 32), (131_072, 32), (129_024, 63), (2881, 1)] {
            assert_eq!(sectors_per_track(total), want, "{total}");
        }
    }
}
