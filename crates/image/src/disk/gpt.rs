//! The GUID partition table (UEFI 2.10 §5.3): header, 128 entries of 128 bytes, and their
//! backup copies at the end of the disk.

use super::guid::{Guid, crc32};

/// Entries in the partition entry array (the minimum the specification asks room for).
pub const ENTRY_COUNT: u32 = 128;
/// Bytes per entry.
pub const ENTRY_SIZE: u32 = 128;
/// Sectors the entry array takes (128 × 128 bytes).
pub const ENTRY_SECTORS: u64 = (ENTRY_COUNT * ENTRY_SIZE / 512) as u64;

/// One GPT partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GptPartition {
    pub type_guid: Guid,
    pub unique_guid: Guid,
    pub first_lba: u64,
    /// Inclusive.
    pub last_lba: u64,
    pub attributes: u64,
    /// At most 36 UTF-16 units.
    pub name: String,
}

/// The partition entry array (ENTRY_COUNT × ENTRY_SIZE bytes).
pub fn entry_array(partitions: &[GptPartition]) -> Vec<u8> {
    let mut out = vec![0u8; (ENTRY_COUNT * ENTRY_SIZE) as usize];
    for (i, p) in partitions.iter().take(ENTRY_COUNT as usize).enumerate() {
        let e = &mut out[i * ENTRY_SIZE as usize..(i + 1) * ENTRY_SIZE as usize];
        e[0..16].copy_from_slice(&p.type_guid.0);
        e[16..32].copy_from_slice(&p.unique_guid.0);
        e[32..40].copy_from_slice(&p.first_lba.to_le_bytes());
        e[40..48].copy_from_slice(&p.last_lba.to_le_bytes());
        e[48..56].copy_from_slice(&p.attributes.to_le_bytes());
        for (j, unit) in p.name.encode_utf16().take(36).enumerate() {
            e[56 + 2 * j..58 + 2 * j].copy_from_slice(&unit.to_le_bytes());
        }
    }
    out
}

/// Where a header sits and what it describes.
pub struct HeaderFields {
    pub disk_guid: Guid,
    pub disk_sectors: u64,
    /// True for the primary header at LBA 1, false for the backup at the last LBA.
    pub primary: bool,
    pub entries_crc: u32,
}

/// Builds a 512-byte GPT header sector.
pub fn header_sector(f: &HeaderFields) -> [u8; 512] {
    let last = f.disk_sectors - 1;
    let (my_lba, alternate, entries_lba) = if f.primary {
        (1, last, 2)
    } else {
        (last, 1, last - ENTRY_SECTORS)
    };
    let mut s = [0u8; 512];
    s[0..8].copy_from_slice(b"EFI PART");
    s[8..12].copy_from_slice(&0x0001_0000u32.to_le_bytes());
    s[12..16].copy_from_slice(&92u32.to_le_bytes());
    s[24..32].copy_from_slice(&my_lba.to_le_bytes());
    s[32..40].copy_from_slice(&alternate.to_le_bytes());
    s[40..48].copy_from_slice(&(2 + ENTRY_SECTORS).to_le_bytes());
    s[48..56].copy_from_slice(&(last - 1 - ENTRY_SECTORS).to_le_bytes());
    s[56..72].copy_from_slice(&f.disk_guid.0);
    s[72..80].copy_from_slice(&entries_lba.to_le_bytes());
    s[80..84].copy_from_slice(&ENTRY_COUNT.to_le_bytes());
    s[84..88].copy_from_slice(&ENTRY_SIZE.to_le_bytes());
    s[88..92].copy_from_slice(&f.entries_crc.to_le_bytes());
    let crc = crc32(&s[..92]);
    s[16..20].copy_from_slice(&crc.to_le_bytes());
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields_and_crc() {
        let entries = entry_array(&[GptPartition {
            type_guid: Guid::EFI_SYSTEM,
            unique_guid: Guid::BASIC_DATA,
            first_lba: 2048,
            last_lba: 4095,
            attributes: 0,
            name: "EFI".into(),
        }]);
        assert_eq!(entries.len(), 16_384);
        assert_eq!(&entries[56..62], &[b'E', 0, b'F', 0, b'I', 0]);
        let f = |primary| HeaderFields {
            disk_guid: Guid::BASIC_DATA,
            disk_sectors: 8192,
            primary,
            entries_crc: crc32(&entries),
        };
        let p = header_sector(&f(true));
        let b = header_sector(&f(false));
        let u64_at = |s: &[u8], o: usize| u64::from_le_bytes(s[o..o + 8].try_into().unwrap());
        assert_eq!(
            (u64_at(&p, 24), u64_at(&p, 32), u64_at(&p, 72)),
            (1, 8191, 2)
        );
        assert_eq!(
            (u64_at(&b, 24), u64_at(&b, 32), u64_at(&b, 72)),
            (8191, 1, 8159)
        );
        assert_eq!((u64_at(&p, 40), u64_at(&p, 48)), (34, 8158));
        let mut check = p;
        check[16..20].fill(0);
        assert_eq!(crc32(&check[..92]).to_le_bytes(), p[16..20]);
    }
}
