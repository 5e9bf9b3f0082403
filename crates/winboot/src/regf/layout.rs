//! Fixed numbers of the hive format and the small pure functions both sides share
//! (docs/regf.md).

/// The base block (file header) is one 4 KiB page; cell offsets count from its end.
pub const BASE_BLOCK_LEN: usize = 0x1000;
/// Hive bins are multiples of 4 KiB.
pub const BIN_ALIGN: usize = 0x1000;
/// A hive bin starts with a 32-byte header.
pub const BIN_HEADER_LEN: usize = 0x20;
/// "No cell".
pub const NONE: u32 = 0xFFFF_FFFF;
/// Bytes 0..508 of the base block are covered by the checksum at 508.
pub const CHECKSUM_AT: usize = 508;
/// Fixed part of an `nk` record (after the cell size), before the name.
pub const NK_FIXED: usize = 76;
/// Fixed part of a `vk` record, before the name.
pub const VK_FIXED: usize = 20;
/// Value data longer than this is split into big-data segments (format 1.4 and later).
pub const BIG_DATA_SEGMENT: usize = 16344;
/// Value data up to this length lives in the `vk` record's offset field.
pub const INLINE_DATA_MAX: usize = 4;
/// Set in a `vk` record's data length when the data is inline.
pub const DATA_INLINE: u32 = 0x8000_0000;

/// `nk` flag: the hive's root key.
pub const KEY_HIVE_ENTRY: u16 = 0x0004;
/// `nk` flag: the key cannot be deleted (set on the root).
pub const KEY_NO_DELETE: u16 = 0x0008;
/// `nk` flag: the name is stored in one byte a character (Latin-1), not UTF-16LE.
pub const KEY_COMP_NAME: u16 = 0x0020;
/// `vk` flag: the name is stored in one byte a character.
pub const VALUE_COMP_NAME: u16 = 0x0001;

/// The base block checksum: XOR of its first 127 little-endian 32-bit words, with the two
/// values Windows reserves (0 and all ones) moved aside.
pub fn base_block_checksum(block: &[u8]) -> u32 {
    let sum = block[..CHECKSUM_AT].chunks_exact(4).fold(0u32, |acc, w| {
        acc ^ u32::from_le_bytes([w[0], w[1], w[2], w[3]])
    });
    match sum {
        0xFFFF_FFFF => 0xFFFF_FFFE,
        0 => 1,
        other => other,
    }
}

/// The hash an `lh` subkey list stores next to each offset: for each UTF-16 code unit of the
/// upper-cased name, `hash = hash * 37 + unit`, modulo 2^32.
pub fn lh_hash(name: &str) -> u32 {
    name.to_uppercase()
        .encode_utf16()
        .fold(0u32, |h, u| h.wrapping_mul(37).wrapping_add(u32::from(u)))
}

/// The order Windows keeps subkey lists in (it binary-searches them): by upper-cased name.
pub fn subkey_order(a: &str, b: &str) -> std::cmp::Ordering {
    let ua: Vec<u16> = a.to_uppercase().encode_utf16().collect();
    let ub: Vec<u16> = b.to_uppercase().encode_utf16().collect();
    ua.cmp(&ub)
}

/// A key or value name as stored: one byte a character when every character is Latin-1
/// ("compressed" name flag set), else UTF-16LE.
pub fn encode_name(name: &str) -> (Vec<u8>, bool) {
    if name.chars().all(|c| u32::from(c) < 0x100) {
        (name.chars().map(|c| c as u8).collect(), true)
    } else {
        (super::utf16le(name), false)
    }
}

/// Decodes a stored name (see [`encode_name`]).
pub fn decode_name(bytes: &[u8], compressed: bool) -> String {
    if compressed {
        bytes.iter().map(|&b| char::from(b)).collect()
    } else {
        String::from_utf16_lossy(&super::from_utf16le(bytes))
    }
}

/// The self-relative security descriptor every key of our hives shares: owner
/// Administrators, group SYSTEM, a DACL granting full control (`KEY_ALL_ACCESS`) to SYSTEM
/// and Administrators, inherited by subkeys — what a BCD store made by `bcdedit` carries.
pub fn default_security_descriptor() -> Vec<u8> {
    const SYSTEM: &[u8] = &[1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0];
    const ADMINS: &[u8] = &[1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0];
    const KEY_ALL_ACCESS: u32 = 0x000F_003F;
    const CONTAINER_INHERIT_ACE: u8 = 0x02;
    let ace = |sid: &[u8]| {
        let mut a = vec![0u8, CONTAINER_INHERIT_ACE];
        a.extend_from_slice(&(8 + sid.len() as u16).to_le_bytes());
        a.extend_from_slice(&KEY_ALL_ACCESS.to_le_bytes());
        a.extend_from_slice(sid);
        a
    };
    let aces = [ace(SYSTEM), ace(ADMINS)].concat();
    let mut acl = vec![2u8, 0];
    acl.extend_from_slice(&(8 + aces.len() as u16).to_le_bytes());
    acl.extend_from_slice(&2u16.to_le_bytes());
    acl.extend_from_slice(&[0, 0]);
    acl.extend(aces);

    // Header (20 bytes), owner, group, DACL.
    let owner_at = 20u32;
    let group_at = owner_at + ADMINS.len() as u32;
    let dacl_at = group_at + SYSTEM.len() as u32;
    const SE_DACL_PRESENT: u16 = 0x0004;
    const SE_SELF_RELATIVE: u16 = 0x8000;
    let mut sd = vec![1u8, 0];
    sd.extend_from_slice(&(SE_SELF_RELATIVE | SE_DACL_PRESENT).to_le_bytes());
    for field in [owner_at, group_at, 0, dacl_at] {
        sd.extend_from_slice(&field.to_le_bytes());
    }
    sd.extend_from_slice(ADMINS);
    sd.extend_from_slice(SYSTEM);
    sd.extend(acl);
    sd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lh_hash_table() {
        // hash("A") = 'A'; hash("ab") = 'A' * 37 + 'B'.
        assert_eq!(lh_hash("A"), 0x41);
        assert_eq!(lh_hash("ab"), 0x41 * 37 + 0x42);
        assert_eq!(lh_hash("Objects"), lh_hash("OBJECTS"));
    }

    #[test]
    fn checksum_avoids_reserved_values() {
        let zero = vec![0u8; 512];
        assert_eq!(base_block_checksum(&zero), 1);
        let mut ones = vec![0u8; 512];
        ones[..4].copy_from_slice(&[0xFF; 4]);
        assert_eq!(base_block_checksum(&ones), 0xFFFF_FFFE);
        let mut some = vec![0u8; 512];
        some[..8].copy_from_slice(&[1, 0, 0, 0, 3, 0, 0, 0]);
        assert_eq!(base_block_checksum(&some), 2);
    }

    #[test]
    fn names_compress_only_when_latin1() {
        assert_eq!(encode_name("Elements"), (b"Elements".to_vec(), true));
        let (bytes, compressed) = encode_name("Ω");
        assert!(!compressed);
        assert_eq!(decode_name(&bytes, false), "Ω");
    }

    #[test]
    fn security_descriptor_lengths_are_consistent() {
        let sd = default_security_descriptor();
        let dacl_at = u32::from_le_bytes(sd[16..20].try_into().expect("4 bytes")) as usize;
        let acl_len = u16::from_le_bytes([sd[dacl_at + 2], sd[dacl_at + 3]]) as usize;
        assert_eq!(dacl_at + acl_len, sd.len());
    }
}
