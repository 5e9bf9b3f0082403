//! The file allocation table, generated from the contiguous runs of the plan and streamed in
//! chunks (a FAT32 table for a large stick is hundreds of megabytes).

use std::io::Write;

use super::boot::MEDIA_FIXED;
use super::geometry::{FatType, SECTOR_SIZE};

/// End-of-chain marker of a FAT type (the largest value, as Microsoft writes).
fn end_of_chain(fat_type: FatType) -> u32 {
    match fat_type {
        FatType::Fat12 => 0xFFF,
        FatType::Fat16 => 0xFFFF,
        FatType::Fat32 => 0x0FFF_FFFF,
    }
}

/// Value of FAT entry 0: the media byte in the low 8 bits, all other bits set.
fn entry_zero(fat_type: FatType) -> u32 {
    end_of_chain(fat_type) & !0xFF | u32::from(MEDIA_FIXED)
}

/// Writes one FAT of `fat_sectors` sectors. `runs` are `(first cluster, cluster count)` in
/// ascending, gap-free order starting at cluster 2; every other entry is free (0).
pub(crate) fn write_fat(
    out: &mut impl Write,
    fat_type: FatType,
    fat_sectors: u32,
    runs: &[(u32, u32)],
) -> std::io::Result<()> {
    let eoc = end_of_chain(fat_type);
    let entries = std::iter::once(entry_zero(fat_type))
        .chain(std::iter::once(eoc))
        .chain(runs.iter().flat_map(move |&(first, count)| {
            (first..first + count).map(move |c| if c + 1 == first + count { eoc } else { c + 1 })
        }));
    let total_bytes = u64::from(fat_sectors) * u64::from(SECTOR_SIZE);
    let mut written = 0u64;
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
    match fat_type {
        FatType::Fat12 => {
            // Two 12-bit entries pack into three bytes; FAT12 tables are at most 6 KiB.
            let list: Vec<u32> = entries.collect();
            for pair in list.chunks(2) {
                let a = pair[0];
                let b = pair.get(1).copied().unwrap_or(0);
                buf.push(a as u8);
                buf.push(((a >> 8) & 0x0F) as u8 | ((b & 0x0F) << 4) as u8);
                if pair.len() == 2 {
                    buf.push((b >> 4) as u8);
                }
            }
        }
        FatType::Fat16 | FatType::Fat32 => {
            for value in entries {
                if fat_type == FatType::Fat16 {
                    buf.extend_from_slice(&(value as u16).to_le_bytes());
                } else {
                    buf.extend_from_slice(&value.to_le_bytes());
                }
                if buf.len() >= 1 << 16 {
                    out.write_all(&buf)?;
                    written += buf.len() as u64;
                    buf.clear();
                }
            }
        }
    }
    out.write_all(&buf)?;
    written += buf.len() as u64;
    super::write::write_zeros(out, total_bytes - written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fat12_packing() {
        let mut out = Vec::new();
        // Cluster 2 alone, clusters 3..=4 chained.
        write_fat(&mut out, FatType::Fat12, 1, &[(2, 1), (3, 2)]).unwrap();
        assert_eq!(out.len(), 512);
        // entries: FF8 FFF FFF 004 FFF
        assert_eq!(&out[..8], &[0xF8, 0xFF, 0xFF, 0xFF, 0x4F, 0x00, 0xFF, 0x0F]);
        assert!(out[8..].iter().all(|&b| b == 0));
    }

    #[test]
    fn fat32_chains() {
        let mut out = Vec::new();
        write_fat(&mut out, FatType::Fat32, 1, &[(2, 1), (3, 3)]).unwrap();
        let e: Vec<u32> = out
            .chunks(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        assert_eq!(
            &e[..7],
            &[0x0FFF_FFF8, 0x0FFF_FFFF, 0x0FFF_FFFF, 4, 5, 0x0FFF_FFFF, 0]
        );
    }

    #[test]
    fn fat16_entries() {
        let mut out = Vec::new();
        write_fat(&mut out, FatType::Fat16, 1, &[(2, 2)]).unwrap();
        assert_eq!(
            &out[..10],
            &[0xF8, 0xFF, 0xFF, 0xFF, 3, 0, 0xFF, 0xFF, 0, 0]
        );
    }
}
