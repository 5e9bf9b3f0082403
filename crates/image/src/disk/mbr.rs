//! The master boot record: a partition table of four 16-byte entries at offset 446, the disk
//! signature at 440 and the 0x55AA signature (also the GPT protective MBR, UEFI 2.10 §5.2.3).

/// Heads and sectors per track of the CHS translation used for CHS fields (the LBA-assist
/// geometry every BIOS uses for large disks).
const HEADS: u64 = 255;
const SECTORS: u64 = 63;

/// One partition entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MbrPartition {
    /// Marked active (0x80) for BIOS boot code that looks for it.
    pub bootable: bool,
    /// Partition type: 0x0C FAT32 (LBA), 0xEF EFI system, 0xEE GPT protective.
    pub kind: u8,
    pub first_lba: u32,
    pub sectors: u32,
}

/// CHS address of an LBA, clamped to the largest (1023, 254, 63) as tools write for
/// addresses past the CHS range.
pub fn chs(lba: u64) -> [u8; 3] {
    let cylinder = lba / (HEADS * SECTORS);
    if cylinder > 1023 {
        return [0xFE, 0xFF, 0xFF];
    }
    let head = (lba / SECTORS) % HEADS;
    let sector = lba % SECTORS + 1;
    [
        head as u8,
        (sector as u8) | (((cylinder >> 8) as u8) << 6),
        cylinder as u8,
    ]
}

/// Builds a 512-byte MBR. `boot_code` (at most 440 bytes) goes first; without it, a stub
/// that asks the BIOS for the next boot device (INT 18h).
pub fn mbr_sector(
    boot_code: Option<&[u8]>,
    disk_signature: u32,
    partitions: &[MbrPartition],
) -> [u8; 512] {
    let mut s = [0u8; 512];
    match boot_code {
        Some(code) => {
            let n = code.len().min(440);
            s[..n].copy_from_slice(&code[..n]);
        }
        None => s[..5].copy_from_slice(&[0xCD, 0x18, 0xF4, 0xEB, 0xFD]),
    }
    s[440..444].copy_from_slice(&disk_signature.to_le_bytes());
    for (i, p) in partitions.iter().take(4).enumerate() {
        let e = &mut s[446 + 16 * i..462 + 16 * i];
        e[0] = if p.bootable { 0x80 } else { 0 };
        e[1..4].copy_from_slice(&chs(u64::from(p.first_lba)));
        e[4] = p.kind;
        let last = u64::from(p.first_lba) + u64::from(p.sectors) - 1;
        e[5..8].copy_from_slice(&if p.kind == 0xEE && last > 0xFF_FFFF {
            [0xFF, 0xFF, 0xFF]
        } else {
            chs(last)
        });
        e[8..12].copy_from_slice(&p.first_lba.to_le_bytes());
        e[12..16].copy_from_slice(&p.sectors.to_le_bytes());
    }
    s[510] = 0x55;
    s[511] = 0xAA;
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chs_values() {
        let cases = [
            (0u64, [0u8, 1, 0]),
            (1, [0, 2, 0]),
            (2048, [32, 33, 0]),
            (16_065, [0, 1, 1]),
            (1023 * 16_065, [0, 0xC1, 0xFF]),
            (1024 * 16_065, [0xFE, 0xFF, 0xFF]),
        ];
        for (lba, want) in cases {
            assert_eq!(chs(lba), want, "{lba}");
        }
    }

    #[test]
    fn entry_layout() {
        let s = mbr_sector(
            None,
            0xDEAD_BEEF,
            &[MbrPartition {
                bootable: true,
                kind: 0x0C,
                first_lba: 2048,
                sectors: 129_024,
            }],
        );
        assert_eq!(&s[440..444], &0xDEAD_BEEFu32.to_le_bytes());
        assert_eq!(s[446], 0x80);
        assert_eq!(s[450], 0x0C);
        assert_eq!(&s[454..458], &2048u32.to_le_bytes());
        assert_eq!(&s[458..462], &129_024u32.to_le_bytes());
        assert!(s[462..510].iter().all(|&b| b == 0));
        assert_eq!(&s[510..], &[0x55, 0xAA]);
    }
}
