//! UDF 1.02 (OSTA UDF 1.02 on ECMA-167 2nd edition): volume recognition (ECMA-167 2/9), the
//! volume descriptor sequence (3/10), integrity (3/10.10), anchor (3/10.2), and the file set
//! (4/14): file set descriptor, file entries with short allocation descriptors pointing into
//! the shared file data, and file identifier descriptors.

use super::names::udf_identifier;
use super::plan::{
    IsoPlan, MAX_UDF_EXTENT, Node, SECTOR_SIZE, UDF_LVID, UDF_MAIN_VDS, UDF_PARTITION_START,
    UDF_RESERVE_VDS,
};

const SECTOR: usize = SECTOR_SIZE as usize;

const TAG_PVD: u16 = 1;
const TAG_ANCHOR: u16 = 2;
const TAG_IUVD: u16 = 4;
const TAG_PD: u16 = 5;
const TAG_LVD: u16 = 6;
const TAG_USD: u16 = 7;
const TAG_TD: u16 = 8;
const TAG_LVID: u16 = 9;
const TAG_FSD: u16 = 256;
const TAG_FID: u16 = 257;
const TAG_FE: u16 = 261;

/// UDF revision 1.02 as recorded in identifier suffixes and the integrity descriptor.
const UDF_REVISION: u16 = 0x0102;
/// Size of a file entry's fixed part; allocation descriptors follow.
const FE_FIXED: usize = 176;
/// Short allocation descriptors one file entry block holds.
pub(crate) const MAX_SHORT_ADS: u64 = ((SECTOR - FE_FIXED) / 8) as u64;

/// CRC-ITU-T (x^16 + x^12 + x^5 + 1, initial 0) of ECMA-167 1/7.2.6.
pub(crate) fn crc16(data: &[u8]) -> u16 {
    let mut crc = 0u16;
    for &b in data {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// Fills the descriptor tag (ECMA-167 3/7.2) at the start of `d`, covering `len` bytes.
fn tag(d: &mut [u8], ident: u16, location: u32, len: usize) {
    d[0..2].copy_from_slice(&ident.to_le_bytes());
    d[2..4].copy_from_slice(&2u16.to_le_bytes()); // descriptor version 2 (NSR02)
    d[5] = 0;
    d[6..8].copy_from_slice(&0u16.to_le_bytes()); // serial number
    let crc_len = len - 16;
    let crc = crc16(&d[16..len]);
    d[8..10].copy_from_slice(&crc.to_le_bytes());
    d[10..12].copy_from_slice(&(crc_len as u16).to_le_bytes());
    d[12..16].copy_from_slice(&location.to_le_bytes());
    let sum = d[..16]
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != 4)
        .fold(0u8, |s, (_, &b)| s.wrapping_add(b));
    d[4] = sum;
}

/// Character set specification CS0, "OSTA Compressed Unicode" (UDF 2.1.2).
fn charspec(d: &mut [u8]) {
    d[0] = 0;
    let info = b"OSTA Compressed Unicode";
    d[1..1 + info.len()].copy_from_slice(info);
}

/// Entity identifier (ECMA-167 1/7.4).
fn regid(d: &mut [u8], ident: &[u8], suffix: &[u8]) {
    d[1..1 + ident.len()].copy_from_slice(ident);
    d[24..24 + suffix.len()].copy_from_slice(suffix);
}

fn domain_regid(d: &mut [u8]) {
    let rev = UDF_REVISION.to_le_bytes();
    regid(d, b"*OSTA UDF Compliant", &rev);
}

fn impl_regid(d: &mut [u8]) {
    regid(d, b"*tsmedia", &[]);
}

/// A dstring (ECMA-167 1/7.2.12): compressed Unicode, its length in the last byte.
fn dstring(d: &mut [u8], s: &str) {
    let max = d.len() - 1;
    let mut id = udf_identifier(s);
    if id.len() > max {
        // Cut whole characters: 1 byte each for id 8, 2 for id 16.
        let unit = if id[0] == 8 { 1 } else { 2 };
        id.truncate(1 + (max - 1) / unit * unit);
    }
    if s.is_empty() {
        return;
    }
    d[..id.len()].copy_from_slice(&id);
    d[max] = id.len() as u8;
}

fn put16(d: &mut [u8], at: usize, v: u16) {
    d[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn put32(d: &mut [u8], at: usize, v: u32) {
    d[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put64(d: &mut [u8], at: usize, v: u64) {
    d[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// The volume structure descriptors `BEA01`, `NSR02`, `TEA01` (ECMA-167 2/9.2, 3/9.1).
pub(crate) fn recognition(index: usize) -> Vec<u8> {
    let mut v = vec![0u8; SECTOR];
    let id: &[u8; 5] = match index {
        0 => b"BEA01",
        1 => b"NSR02",
        _ => b"TEA01",
    };
    v[1..6].copy_from_slice(id);
    v[6] = 1;
    v
}

/// A 64-bit FNV-1a hash: a deterministic "unique" volume set prefix (UDF 2.2.2.5).
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for b in parts.iter().flat_map(|p| p.iter()) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A volume descriptor sequence (6 sectors) starting at `base`: PVD, IUVD, PD, LVD, USD, TD.
pub(crate) fn volume_descriptor_sequence(plan: &IsoPlan, base: u32) -> Vec<u8> {
    let mut out = vec![0u8; 6 * SECTOR];
    let time = plan.time.udf();
    let (pvd, rest) = out.split_at_mut(SECTOR);
    // Primary volume descriptor (3/10.1).
    put32(pvd, 16, 1);
    dstring(&mut pvd[24..56], &plan.label);
    put16(pvd, 56, 1);
    put16(pvd, 58, 1);
    put16(pvd, 60, 2);
    put16(pvd, 62, 2);
    put32(pvd, 64, 1);
    put32(pvd, 68, 1);
    let unique = fnv1a(&[plan.label.as_bytes(), &time]);
    dstring(&mut pvd[72..200], &format!("{unique:016X}{}", plan.label));
    charspec(&mut pvd[200..264]);
    charspec(&mut pvd[264..328]);
    regid(&mut pvd[344..376], b"*tsmedia", &[]);
    pvd[376..388].copy_from_slice(&time);
    impl_regid(&mut pvd[388..420]);
    tag(pvd, TAG_PVD, base, 512);

    let (iuvd, rest) = rest.split_at_mut(SECTOR);
    // Implementation use volume descriptor (3/10.4, UDF 2.2.7).
    put32(iuvd, 16, 2);
    regid(
        &mut iuvd[20..52],
        b"*UDF LV Info",
        &UDF_REVISION.to_le_bytes(),
    );
    charspec(&mut iuvd[52..116]);
    dstring(&mut iuvd[116..244], &plan.label);
    impl_regid(&mut iuvd[352..384]);
    tag(iuvd, TAG_IUVD, base + 1, 512);

    let (pd, rest) = rest.split_at_mut(SECTOR);
    // Partition descriptor (3/10.5): read-only, no space tables.
    put32(pd, 16, 3);
    put16(pd, 20, 1);
    put16(pd, 22, 0);
    regid(&mut pd[24..56], b"+NSR02", &[]);
    put32(pd, 184, 1);
    put32(pd, 188, UDF_PARTITION_START);
    put32(pd, 192, plan.partition_len);
    impl_regid(&mut pd[196..228]);
    tag(pd, TAG_PD, base + 2, 512);

    let (lvd, rest) = rest.split_at_mut(SECTOR);
    // Logical volume descriptor (3/10.6) with one type 1 partition map.
    put32(lvd, 16, 4);
    charspec(&mut lvd[20..84]);
    dstring(&mut lvd[84..212], &plan.label);
    put32(lvd, 212, SECTOR as u32);
    domain_regid(&mut lvd[216..248]);
    put32(lvd, 248, 2 * SECTOR as u32); // file set descriptor + terminator
    put32(lvd, 252, 0);
    put32(lvd, 264, 6);
    put32(lvd, 268, 1);
    impl_regid(&mut lvd[272..304]);
    put32(lvd, 432, 2 * SECTOR as u32);
    put32(lvd, 436, UDF_LVID);
    lvd[440] = 1;
    lvd[441] = 6;
    put16(lvd, 442, 1);
    put16(lvd, 444, 0);
    tag(lvd, TAG_LVD, base + 3, 446);

    let (usd, td) = rest.split_at_mut(SECTOR);
    // Unallocated space descriptor (3/10.8): none.
    put32(usd, 16, 5);
    tag(usd, TAG_USD, base + 4, 24);
    tag(td, TAG_TD, base + 5, 512);
    out
}

/// The logical volume integrity descriptor (closed) and a terminator (3/10.10, UDF 2.2.6).
pub(crate) fn integrity(plan: &IsoPlan) -> Vec<u8> {
    let mut out = vec![0u8; 2 * SECTOR];
    let (d, td) = out.split_at_mut(SECTOR);
    d[16..28].copy_from_slice(&plan.time.udf());
    put32(d, 28, 1); // close integrity
    put64(d, 40, plan.next_unique_id);
    put32(d, 72, 1);
    put32(d, 76, 46);
    put32(d, 80, 0); // free space
    put32(d, 84, plan.partition_len);
    impl_regid(&mut d[88..120]);
    put32(d, 120, plan.file_count);
    put32(d, 124, plan.dir_count);
    put16(d, 128, UDF_REVISION);
    put16(d, 130, UDF_REVISION);
    put16(d, 132, UDF_REVISION);
    tag(d, TAG_LVID, UDF_LVID, 134);
    tag(td, TAG_TD, UDF_LVID + 1, 512);
    out
}

/// The anchor volume descriptor pointer (3/10.2) at `lba`.
pub(crate) fn anchor(lba: u32) -> Vec<u8> {
    let mut d = vec![0u8; SECTOR];
    put32(&mut d, 16, 16 * SECTOR as u32);
    put32(&mut d, 20, UDF_MAIN_VDS);
    put32(&mut d, 24, 16 * SECTOR as u32);
    put32(&mut d, 28, UDF_RESERVE_VDS);
    tag(&mut d, TAG_ANCHOR, lba, 512);
    d
}

/// The file set descriptor (4/14.1) at partition block 0 and a terminator at block 1.
pub(crate) fn file_set(plan: &IsoPlan) -> Vec<u8> {
    let mut out = vec![0u8; 2 * SECTOR];
    let (d, td) = out.split_at_mut(SECTOR);
    d[16..28].copy_from_slice(&plan.time.udf());
    put16(d, 28, 3);
    put16(d, 30, 3);
    put32(d, 32, 1);
    put32(d, 36, 1);
    charspec(&mut d[48..112]);
    dstring(&mut d[112..240], &plan.label);
    charspec(&mut d[240..304]);
    dstring(&mut d[304..336], &plan.label);
    long_ad(&mut d[400..416], plan.nodes[0].udf_fe);
    domain_regid(&mut d[416..448]);
    tag(d, TAG_FSD, 0, 512);
    tag(td, TAG_TD, 1, 512);
    out
}

/// A long allocation descriptor (4/14.14.2) for one file entry block.
fn long_ad(d: &mut [u8], block: u32) {
    put32(d, 0, SECTOR as u32);
    put32(d, 4, block);
    put16(d, 8, 0);
}

/// Permissions r-x for owner, group and others (4/14.9.5).
const PERMISSIONS: u32 = 0b00101 | (0b00101 << 5) | (0b00101 << 10);

/// The file entry (4/14.9) of a file or directory.
pub(crate) fn file_entry(plan: &IsoPlan, node: usize) -> Vec<u8> {
    let n = &plan.nodes[node];
    let mut d = vec![0u8; SECTOR];
    // ICB tag (4/14.6): strategy 4, one entry, file type 4 (directory) or 5 (file),
    // short allocation descriptors.
    put16(&mut d, 20, 4);
    put16(&mut d, 24, 1);
    d[27] = if n.is_dir { 4 } else { 5 };
    put32(&mut d, 36, u32::MAX);
    put32(&mut d, 40, u32::MAX);
    put32(&mut d, 44, PERMISSIONS);
    let links = if n.is_dir {
        1 + n.children.iter().filter(|&&c| plan.nodes[c].is_dir).count()
    } else {
        1
    };
    put16(&mut d, 48, links.min(usize::from(u16::MAX)) as u16);
    let (len, ads) = if n.is_dir {
        (n.udf_dir_len, vec![(n.udf_dir_len, n.udf_dir)])
    } else {
        let mut ads = Vec::new();
        let mut remaining = n.size;
        let mut block = n.data_lba - UDF_PARTITION_START;
        while remaining > 0 {
            let part = remaining.min(MAX_UDF_EXTENT);
            ads.push((part, block));
            remaining -= part;
            block += (part / SECTOR_SIZE) as u32;
        }
        (n.size, ads)
    };
    put64(&mut d, 56, len);
    put64(&mut d, 64, len.div_ceil(SECTOR_SIZE));
    let time = plan.time.udf();
    for at in [72, 84, 96] {
        d[at..at + 12].copy_from_slice(&time);
    }
    put32(&mut d, 108, 1);
    impl_regid(&mut d[128..160]);
    put64(&mut d, 160, n.unique_id);
    put32(&mut d, 172, (ads.len() * 8) as u32);
    for (i, (ext_len, block)) in ads.iter().enumerate() {
        let at = FE_FIXED + 8 * i;
        // Extent type 0 (recorded and allocated) in the top two bits of the length.
        put32(&mut d, at, *ext_len as u32);
        put32(&mut d, at + 4, *block);
    }
    let used = FE_FIXED + ads.len() * 8;
    tag(&mut d, TAG_FE, n.udf_fe, used);
    d
}

fn fid_len(name_len: usize) -> usize {
    (38 + name_len).div_ceil(4) * 4
}

/// Length of a directory's file identifier descriptors.
pub(crate) fn fids_len(nodes: &[Node], dir: usize) -> u64 {
    let children: usize = nodes[dir]
        .children
        .iter()
        .map(|&c| fid_len(nodes[c].udf_id.len()))
        .sum();
    (fid_len(0) + children) as u64
}

/// A directory's file identifier descriptors (4/14.4): the parent entry, then the children
/// by name. Padded to whole blocks.
pub(crate) fn directory(plan: &IsoPlan, dir: usize) -> Vec<u8> {
    let n = &plan.nodes[dir];
    let mut out = Vec::with_capacity(n.udf_dir_len as usize);
    let parent = &plan.nodes[n.parent];
    let push = |out: &mut Vec<u8>, chars: u8, target: &Node, name: &[u8]| {
        let start = out.len();
        let len = fid_len(name.len());
        out.resize(start + len, 0);
        let d = &mut out[start..];
        put16(d, 16, 1);
        d[18] = chars;
        d[19] = name.len() as u8;
        long_ad(&mut d[20..36], target.udf_fe);
        d[38..38 + name.len()].copy_from_slice(name);
        let block = n.udf_dir + (start / SECTOR) as u32;
        tag(&mut d[..len], TAG_FID, block, len);
    };
    // Characteristics (4/14.4.3): 0x02 directory, 0x08 parent.
    push(&mut out, 0x0A, parent, &[]);
    for &c in &n.children {
        let child = &plan.nodes[c];
        push(
            &mut out,
            if child.is_dir { 0x02 } else { 0 },
            child,
            &child.udf_id,
        );
    }
    out.resize(out.len().div_ceil(SECTOR) * SECTOR, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_ecma167_example() {
        // ECMA-167 1/7.2.6: the CRC of the bytes 70 6A 77 is 3299 (hex).
        assert_eq!(crc16(&[0x70, 0x6A, 0x77]), 0x3299);
        assert_eq!(crc16(b"123456789"), 0x31C3);
    }

    #[test]
    fn tag_checksum_and_crc() {
        let mut d = vec![0u8; 512];
        d[100] = 7;
        tag(&mut d, TAG_TD, 65, 512);
        let sum = d[..16]
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != 4)
            .fold(0u8, |s, (_, &b)| s.wrapping_add(b));
        assert_eq!(d[4], sum);
        assert_eq!(u16::from_le_bytes([d[10], d[11]]), 496);
        assert_eq!(u16::from_le_bytes([d[8], d[9]]), crc16(&d[16..512]));
        assert_eq!(u32::from_le_bytes([d[12], d[13], d[14], d[15]]), 65);
    }

    #[test]
    fn dstring_records_length() {
        let mut d = [0u8; 32];
        dstring(&mut d, "WinPE");
        assert_eq!(&d[..6], b"\x08WinPE");
        assert_eq!(d[31], 6);
        let mut d = [0u8; 32];
        dstring(&mut d, &"ж".repeat(40));
        assert_eq!(d[0], 16);
        assert_eq!(d[31], 31); // 1 + 15 characters of 2 bytes
    }

    #[test]
    fn fid_lengths_are_multiples_of_four() {
        assert_eq!(fid_len(0), 40);
        assert_eq!(fid_len(2), 40);
        assert_eq!(fid_len(3), 44);
    }
}
