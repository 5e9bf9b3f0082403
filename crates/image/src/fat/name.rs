//! File names: validation of long names, 8.3 short-name generation with numeric tails, and
//! VFAT long-name (LFN) directory entries.
//!
//! fatgen103 §6 (short names, "basis-name generation algorithm" and numeric tails) and §7
//! (long names: 13 UTF-16 units per entry, ordinal with 0x40 on the last, checksum of the
//! short name).

use std::collections::{HashMap, HashSet};

/// Longest long name, in UTF-16 units (fatgen103 §7).
pub const MAX_LONG_NAME: usize = 255;

/// Characters allowed in a short name besides A–Z and 0–9 (fatgen103 §6).
const SHORT_SPECIALS: &[u8] = b"$%'-_@~`!(){}^#&";

/// Checks that `name` can be a FAT long name; returns the reason when it cannot.
pub fn validate_long_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("empty name".into());
    }
    if name == "." || name == ".." {
        return Err(format!("{name:?} is reserved"));
    }
    if let Some(c) = name
        .chars()
        .find(|&c| (c as u32) < 0x20 || "\"*/:<>?\\|".contains(c))
    {
        return Err(format!("character {c:?} is not allowed in FAT names"));
    }
    if name.ends_with('.') || name.ends_with(' ') {
        return Err("FAT names cannot end with '.' or ' '".into());
    }
    let units = name.encode_utf16().count();
    if units > MAX_LONG_NAME {
        return Err(format!(
            "name is {units} UTF-16 units; FAT allows {MAX_LONG_NAME}"
        ));
    }
    Ok(())
}

/// The case-insensitive key under which FAT compares names.
pub fn fold(name: &str) -> String {
    name.to_uppercase()
}

fn short_char(c: char) -> Option<u8> {
    let u = c.to_ascii_uppercase();
    (u.is_ascii_uppercase()
        || u.is_ascii_digit()
        || (u.is_ascii() && SHORT_SPECIALS.contains(&(u as u8))))
    .then_some(u as u8)
}

/// If `name` is already a valid upper-case 8.3 name, its 11-byte form; then no long-name
/// entries are needed.
pub fn exact_short_name(name: &str) -> Option<[u8; 11]> {
    let (base, ext) = match name.split_once('.') {
        Some((b, e)) => (b, e),
        None => (name, ""),
    };
    if base.is_empty() || base.len() > 8 || ext.len() > 3 || ext.contains('.') {
        return None;
    }
    let mut out = [b' '; 11];
    for (i, c) in base.chars().enumerate() {
        out[i] = short_char(c).filter(|&b| b == c as u8)?;
    }
    for (i, c) in ext.chars().enumerate() {
        out[8 + i] = short_char(c).filter(|&b| b == c as u8)?;
    }
    Some(out)
}

/// Generates unique short names for the entries of one directory.
#[derive(Debug, Default)]
pub struct ShortNameGenerator {
    used: HashSet<[u8; 11]>,
    /// Per basis name, the tail to try first, so that many similar names stay linear.
    next_tail: HashMap<Vec<u8>, u32>,
}

impl ShortNameGenerator {
    /// Reserves names that must not be generated (e.g. exact 8.3 names in the directory).
    pub fn reserve(&mut self, short: [u8; 11]) {
        self.used.insert(short);
    }

    /// A unique short name for a long name that is not an exact upper-case 8.3 name: the
    /// upper-cased name itself when that is a valid 8.3 name (only the case differed), otherwise
    /// fatgen103's basis name (invalid characters → `_`, spaces and embedded periods removed,
    /// base truncated to 8 and extension to 3) with the first free numeric tail `~n`.
    /// `None` when all 999999 tails are taken.
    pub fn generate(&mut self, long: &str) -> Option<[u8; 11]> {
        if let Some(upper) = exact_short_name(&long.to_ascii_uppercase())
            && self.used.insert(upper)
        {
            return Some(upper);
        }
        let convert = |s: &str| -> Vec<u8> {
            s.chars()
                .filter(|&c| c != ' ' && c != '.')
                .map(|c| short_char(c).unwrap_or(b'_'))
                .collect()
        };
        let trimmed = long.trim_start_matches('.');
        let (base, ext) = match trimmed.rfind('.') {
            Some(i) => (convert(&trimmed[..i]), convert(&trimmed[i + 1..])),
            None => (convert(trimmed), Vec::new()),
        };
        let base = if base.is_empty() { b"_".to_vec() } else { base };
        let mut name = [b' '; 11];
        for (i, &b) in ext.iter().take(3).enumerate() {
            name[8 + i] = b;
        }
        let key = [&base[..base.len().min(8)], &name[8..]].concat();
        let start = self.next_tail.get(&key).copied().unwrap_or(1);
        for n in start..=999_999 {
            let tail = format!("~{n}");
            let keep = (8 - tail.len()).min(base.len());
            let mut candidate = name;
            candidate[..keep].copy_from_slice(&base[..keep]);
            candidate[keep..keep + tail.len()].copy_from_slice(tail.as_bytes());
            if self.used.insert(candidate) {
                self.next_tail.insert(key, n + 1);
                return Some(candidate);
            }
        }
        None
    }
}

/// Checksum of an 11-byte short name, stored in each of its long-name entries.
pub fn short_name_checksum(short: &[u8; 11]) -> u8 {
    short.iter().fold(0u8, |sum, &b| {
        ((sum & 1) << 7).wrapping_add(sum >> 1).wrapping_add(b)
    })
}

/// Number of long-name entries a name needs.
pub fn lfn_entry_count(long: &str) -> usize {
    long.encode_utf16().count().div_ceil(13)
}

/// Appends the long-name entries of `long` (last part first, as they are stored) to `out`.
pub fn push_lfn_entries(out: &mut Vec<u8>, long: &str, short: &[u8; 11]) {
    let units: Vec<u16> = long.encode_utf16().collect();
    let count = units.len().div_ceil(13);
    let checksum = short_name_checksum(short);
    for ordinal in (1..=count).rev() {
        let mut part = [0xFFFFu16; 13];
        let start = (ordinal - 1) * 13;
        let chunk = &units[start..units.len().min(start + 13)];
        part[..chunk.len()].copy_from_slice(chunk);
        if chunk.len() < 13 {
            part[chunk.len()] = 0;
        }
        let mut e = [0u8; 32];
        e[0] = u8::try_from(ordinal).expect("at most 20 entries")
            | if ordinal == count { 0x40 } else { 0 };
        e[11] = 0x0F; // ATTR_LONG_NAME
        e[13] = checksum;
        let slots = (1..11)
            .step_by(2)
            .chain((14..26).step_by(2))
            .chain((28..32).step_by(2));
        for (slot, unit) in slots.zip(part) {
            e[slot..slot + 2].copy_from_slice(&unit.to_le_bytes());
        }
        out.extend_from_slice(&e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(b: &[u8; 11]) -> String {
        String::from_utf8_lossy(b).into_owned()
    }

    #[test]
    fn exact_short_names() {
        assert_eq!(s(&exact_short_name("BOOTX64.EFI").unwrap()), "BOOTX64 EFI");
        assert_eq!(s(&exact_short_name("EFI").unwrap()), "EFI        ");
        assert!(exact_short_name("bootx64.efi").is_none());
        assert!(exact_short_name("LONGERNAME.TXT").is_none());
        assert!(exact_short_name("A.B.C").is_none());
        assert!(exact_short_name("A B").is_none());
        assert!(exact_short_name(".X").is_none());
    }

    #[test]
    fn generated_short_names() {
        let mut g = ShortNameGenerator::default();
        let cases = [
            ("readme.txt", "README  TXT"),
            ("README.txt", "README~1TXT"),
            ("Long File Name.text", "LONGFI~1TEX"),
            ("Long File Nice.text", "LONGFI~2TEX"),
            ("ünïcode.bin", "_N_COD~1BIN"),
            (".bashrc", "BASHRC~1   "),
            ("a.b.c.d", "ABC~1   D  "),
            ("日本", "__~1       "),
        ];
        for (long, want) in cases {
            assert_eq!(s(&g.generate(long).unwrap()), want, "{long}");
        }
    }

    #[test]
    fn many_tails_stay_unique() {
        let mut g = ShortNameGenerator::default();
        let mut seen = HashSet::new();
        for i in 0..20_000 {
            let name = g.generate(&format!("Same prefix {i}.dat")).unwrap();
            assert!(seen.insert(name));
        }
    }

    #[test]
    fn checksum_matches_known_value() {
        // Computed by hand with the fatgen103 algorithm for "BOOTX64 EFI".
        let mut sum = 0u8;
        for &b in b"BOOTX64 EFI" {
            sum = (if sum & 1 == 1 { 0x80u8 } else { 0 })
                .wrapping_add(sum >> 1)
                .wrapping_add(b);
        }
        assert_eq!(short_name_checksum(b"BOOTX64 EFI"), sum);
    }

    #[test]
    fn lfn_entries_layout() {
        let mut out = Vec::new();
        let short = *b"LONGFI~1TEX";
        push_lfn_entries(&mut out, "Long File Name.text", &short);
        assert_eq!(out.len(), 64);
        assert_eq!(out[0], 0x42);
        assert_eq!(out[32], 0x01);
        assert_eq!(out[11], 0x0F);
        assert_eq!(out[13], short_name_checksum(&short));
        // Second (stored first) entry holds units 13..19 "e.text", then 0x0000, then 0xFFFF.
        assert_eq!(&out[1..3], &[b'e', 0]);
        assert_eq!(&out[28..32], &[0xFF, 0xFF, 0xFF, 0xFF]);
        assert_eq!(lfn_entry_count("Long File Name.text"), 2);
        assert_eq!(lfn_entry_count(&"x".repeat(26)), 2);
    }

    #[test]
    fn long_name_validation() {
        assert!(validate_long_name("ok name.txt").is_ok());
        assert!(validate_long_name("a:b").is_err());
        assert!(validate_long_name("trailing.").is_err());
        assert!(validate_long_name("..").is_err());
        assert!(validate_long_name(&"x".repeat(256)).is_err());
        assert!(validate_long_name(&"x".repeat(255)).is_ok());
    }
}
