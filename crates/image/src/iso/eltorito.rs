//! El Torito (Bootable CD-ROM Format Specification 1.0): the boot record volume descriptor
//! (2.0) and the boot catalog (2.1–2.4), no-emulation entries only.

use super::plan::{PlannedBoot, SECTOR_SIZE};

/// The boot record volume descriptor pointing at the catalog.
pub(crate) fn boot_record(catalog_lba: u32) -> Vec<u8> {
    let mut v = vec![0u8; SECTOR_SIZE as usize];
    v[1..6].copy_from_slice(b"CD001");
    v[6] = 1;
    let id = b"EL TORITO SPECIFICATION";
    v[7..7 + id.len()].copy_from_slice(id);
    v[0x47..0x4B].copy_from_slice(&catalog_lba.to_le_bytes());
    v
}

const ENTRY: usize = 32;

/// The boot catalog: validation entry, the first image as the initial/default entry, then
/// one section (header + entries) per run of entries of the same platform.
pub(crate) fn catalog(boot: &[PlannedBoot]) -> Vec<u8> {
    let mut c = vec![0u8; SECTOR_SIZE as usize];
    let Some(first) = boot.first() else {
        return c;
    };
    // Validation entry (2.1): header id 1, platform, id string, checksum, 55 AA.
    c[0] = 1;
    c[1] = first.platform.id();
    c[4..11].copy_from_slice(b"TSMEDIA");
    c[30] = 0x55;
    c[31] = 0xAA;
    let sum = c[..ENTRY].chunks_exact(2).fold(0u16, |s, w| {
        s.wrapping_add(u16::from_le_bytes([w[0], w[1]]))
    });
    c[28..30].copy_from_slice(&0u16.wrapping_sub(sum).to_le_bytes());
    entry(&mut c[ENTRY..2 * ENTRY], first);

    let mut at = 2 * ENTRY;
    let rest = &boot[1..];
    let mut i = 0;
    while i < rest.len() {
        let platform = rest[i].platform;
        let run = rest[i..]
            .iter()
            .take_while(|b| b.platform == platform)
            .count();
        let last = i + run == rest.len();
        // Section header (2.4): 0x90, or 0x91 for the final one.
        c[at] = if last { 0x91 } else { 0x90 };
        c[at + 1] = platform.id();
        c[at + 2..at + 4].copy_from_slice(&(run as u16).to_le_bytes());
        at += ENTRY;
        for b in &rest[i..i + run] {
            entry(&mut c[at..at + ENTRY], b);
            at += ENTRY;
        }
        i += run;
    }
    c
}

/// A bootable no-emulation entry (2.2, 2.5): load segment 0 means the traditional 0x7C0.
fn entry(e: &mut [u8], b: &PlannedBoot) {
    e[0] = 0x88;
    e[6..8].copy_from_slice(&b.load_sectors.to_le_bytes());
    e[8..12].copy_from_slice(&b.lba.to_le_bytes());
}

/// Fills bytes 8–63 of a boot file with its boot information table: the LBA of the primary
/// volume descriptor (always 16), the file's LBA, its length, and the sum (mod 2^32) of the
/// little-endian 32-bit words from byte 64 to the end (a partial last word padded with zeros).
pub(crate) fn boot_info_table(data: &mut [u8], file_lba: u32) {
    let checksum = data[64..].chunks(4).fold(0u32, |sum, w| {
        let mut word = [0u8; 4];
        word[..w.len()].copy_from_slice(w);
        sum.wrapping_add(u32::from_le_bytes(word))
    });
    let len = data.len() as u32;
    data[8..12].copy_from_slice(&16u32.to_le_bytes());
    data[12..16].copy_from_slice(&file_lba.to_le_bytes());
    data[16..20].copy_from_slice(&len.to_le_bytes());
    data[20..24].copy_from_slice(&checksum.to_le_bytes());
    data[24..64].fill(0);
}

#[cfg(test)]
mod boot_info_tests {
    use super::boot_info_table;

    #[test]
    fn the_table_holds_pvd_lba_file_lba_length_and_the_word_sum_after_byte_64() {
        let mut data = vec![0xFFu8; 70];
        data[64..70].copy_from_slice(&[1, 0, 0, 0, 2, 0]);
        boot_info_table(&mut data, 0x1234);
        assert_eq!(&data[..8], &[0xFF; 8], "the first 8 bytes are the loader's");
        assert_eq!(u32::from_le_bytes(data[8..12].try_into().unwrap()), 16);
        assert_eq!(u32::from_le_bytes(data[12..16].try_into().unwrap()), 0x1234);
        assert_eq!(u32::from_le_bytes(data[16..20].try_into().unwrap()), 70);
        assert_eq!(u32::from_le_bytes(data[20..24].try_into().unwrap()), 1 + 2);
        assert!(data[24..64].iter().all(|b| *b == 0));
    }
}
