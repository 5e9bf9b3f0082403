//! File names in the three directory trees of the image.
//!
//! - ISO 9660 (ECMA-119 7.5, 7.6): d-characters `A-Z 0-9 _`, files `NAME.EXT;1` with name and
//!   extension together at most 30 characters (level 2), directories at most 31.
//! - Joliet: UCS-2 big-endian, at most 64 code units, without `* / : ; ? \`; no `;1` suffix.
//! - UDF (OSTA UDF 1.02 2.1.1, ECMA-167 1/7.2.12 "OSTA Compressed Unicode"): the full name, as
//!   8-bit code points (compression id 8) or UTF-16 big-endian (compression id 16).
//!
//! Names that collide after mapping get a `~N` suffix, in the order of the original names, so
//! the result is deterministic.

use std::cmp::Ordering;
use std::collections::HashSet;

use super::error::{Error, Result};

/// Splits a path in the image into its components. `/` and `\` both separate; a leading
/// separator is optional. The root is the empty list.
pub(crate) fn split_path(path: &str) -> Result<Vec<String>> {
    let bad = |reason| Error::InvalidPath {
        path: path.to_owned(),
        reason,
    };
    let trimmed = path.trim_start_matches(['/', '\\']);
    let trimmed = trimmed.trim_end_matches(['/', '\\']);
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for part in trimmed.split(['/', '\\']) {
        if part.is_empty() {
            return Err(bad("empty component"));
        }
        if part == "." || part == ".." {
            return Err(bad("`.` and `..` are not names"));
        }
        if part.chars().any(|c| c.is_control()) {
            return Err(bad("control characters are not allowed"));
        }
        if udf_identifier(part).len() > 255 {
            return Err(bad(
                "name too long for UDF (254 Latin-1 or 127 other characters at most)",
            ));
        }
        out.push(part.to_owned());
    }
    Ok(out)
}

/// ISO 9660 identifiers for the children of one directory, given as `(name, is_dir)`, in the
/// same order.
pub(crate) fn iso_identifiers(children: &[(&str, bool)]) -> Vec<Vec<u8>> {
    dedupe(children, iso_identifier)
}

/// Joliet identifiers (UCS-2 code units) for the children of one directory.
pub(crate) fn joliet_identifiers(children: &[(&str, bool)]) -> Vec<Vec<u16>> {
    dedupe(children, |name, is_dir, n| {
        joliet_identifier(name, is_dir, n)
    })
}

/// Maps each child with `make(name, is_dir, attempt)`, raising `attempt` until the result is
/// unique in the directory. Children are visited in the order of their names.
fn dedupe<T: Clone + Eq + std::hash::Hash>(
    children: &[(&str, bool)],
    make: impl Fn(&str, bool, u32) -> T,
) -> Vec<T> {
    let mut order: Vec<usize> = (0..children.len()).collect();
    order.sort_by(|&a, &b| children[a].0.cmp(children[b].0));
    let mut taken = HashSet::new();
    let mut out: Vec<Option<T>> = vec![None; children.len()];
    for i in order {
        let (name, is_dir) = children[i];
        let mut attempt = 0;
        let id = loop {
            let id = make(name, is_dir, attempt);
            if taken.insert(id.clone()) {
                break id;
            }
            attempt += 1;
        };
        out[i] = Some(id);
    }
    out.into_iter().flatten().collect()
}

fn d_chars(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| {
            let u = c.to_ascii_uppercase();
            if u.is_ascii_uppercase() || u.is_ascii_digit() {
                u as u8
            } else {
                b'_'
            }
        })
        .collect()
}

/// `~N` appended to `base`, cut so the total stays within `max`.
fn with_suffix<T: Copy>(
    mut base: Vec<T>,
    attempt: u32,
    max: usize,
    conv: impl Fn(u8) -> T,
) -> Vec<T> {
    if attempt == 0 {
        base.truncate(max);
        return base;
    }
    let suffix: Vec<T> = format!("~{attempt}").bytes().map(conv).collect();
    base.truncate(max.saturating_sub(suffix.len()));
    base.extend(suffix);
    base
}

fn iso_identifier(name: &str, is_dir: bool, attempt: u32) -> Vec<u8> {
    if is_dir {
        return with_suffix(d_chars(name), attempt, 31, |b| b);
    }
    let (base, ext) = match name.rfind('.') {
        Some(dot) => (&name[..dot], &name[dot + 1..]),
        None => (name, ""),
    };
    let mut ext = d_chars(ext);
    ext.truncate(8);
    let mut id = with_suffix(d_chars(base), attempt, 30 - ext.len(), |b| b);
    id.push(b'.');
    id.extend(ext);
    id.extend(b";1");
    id
}

const JOLIET_MAX: usize = 64;

fn joliet_identifier(name: &str, _is_dir: bool, attempt: u32) -> Vec<u16> {
    let units: Vec<u16> = name
        .encode_utf16()
        .map(|u| match u {
            0x00..=0x1F | 0x2A | 0x2F | 0x3A | 0x3B | 0x3F | 0x5C => u16::from(b'_'),
            u => u,
        })
        .collect();
    if units.len() <= JOLIET_MAX && attempt == 0 {
        return units;
    }
    // Keep a short extension, cut the base name.
    let dot = units.iter().rposition(|&u| u == u16::from(b'.'));
    let (base, ext) = match dot {
        Some(d) if units.len() - d <= 16 && d > 0 => (units[..d].to_vec(), units[d..].to_vec()),
        _ => (units, Vec::new()),
    };
    let mut id = with_suffix(base, attempt, JOLIET_MAX - ext.len(), u16::from);
    // Never end the base in the middle of a surrogate pair.
    if let Some(&last) = id.last()
        && (0xD800..0xDC00).contains(&last)
    {
        id.pop();
    }
    id.extend(ext);
    id
}

/// OSTA Compressed Unicode of a name: compression id 8 (one byte per code point) when every
/// code point is below 256, else 16 (UTF-16 big-endian).
pub(crate) fn udf_identifier(name: &str) -> Vec<u8> {
    if name.chars().all(|c| u32::from(c) < 256) {
        let mut out = vec![8u8];
        out.extend(name.chars().map(|c| u32::from(c) as u8));
        out
    } else {
        let mut out = vec![16u8];
        for u in name.encode_utf16() {
            out.extend(u.to_be_bytes());
        }
        out
    }
}

/// ECMA-119 9.3: directory records are ordered by file name, then extension (each as if padded
/// with spaces), then version, descending.
pub(crate) fn iso_order(a: &[u8], b: &[u8]) -> Ordering {
    fn parts(id: &[u8]) -> (&[u8], &[u8], &[u8]) {
        let (name_ext, version) = match id.iter().position(|&c| c == b';') {
            Some(p) => (&id[..p], &id[p + 1..]),
            None => (id, &id[id.len()..]),
        };
        match name_ext.iter().position(|&c| c == b'.') {
            Some(p) => (&name_ext[..p], &name_ext[p + 1..], version),
            None => (name_ext, &name_ext[name_ext.len()..], version),
        }
    }
    let padded = |x: &[u8], y: &[u8]| {
        let n = x.len().max(y.len());
        let at = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(b' ');
        (0..n)
            .map(|i| at(x, i).cmp(&at(y, i)))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    };
    let (an, ae, av) = parts(a);
    let (bn, be, bv) = parts(b);
    padded(an, bn)
        .then_with(|| padded(ae, be))
        .then_with(|| bv.cmp(av))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split() {
        assert_eq!(split_path("/a/b\\c").unwrap(), ["a", "b", "c"]);
        assert_eq!(split_path("a/").unwrap(), ["a"]);
        assert!(split_path("/").unwrap().is_empty());
        assert!(split_path("a//b").is_err());
        assert!(split_path("a/../b").is_err());
        assert!(split_path("a\u{1}").is_err());
        assert!(split_path(&"x".repeat(254)).is_ok());
        assert!(split_path(&"x".repeat(255)).is_err());
        assert!(split_path(&"ж".repeat(127)).is_ok());
        assert!(split_path(&"ж".repeat(128)).is_err());
    }

    #[test]
    fn iso_names_table() {
        let got = iso_identifiers(&[
            ("setup.exe", false),
            ("boot", true),
            ("bootmgr", false),
            ("Readme.first.txt", false),
            ("a very long file name indeed, more than thirty.wim", false),
            ("über", true),
        ]);
        let got: Vec<String> = got
            .into_iter()
            .map(|v| String::from_utf8(v).unwrap())
            .collect();
        assert_eq!(
            got,
            [
                "SETUP.EXE;1",
                "BOOT",
                "BOOTMGR.;1",
                "README_FIRST.TXT;1",
                "A_VERY_LONG_FILE_NAME_INDEE.WIM;1",
                "_BER",
            ]
        );
    }

    #[test]
    fn iso_collisions_get_suffixes() {
        let got = iso_identifiers(&[("a+b.txt", false), ("A-B.txt", false), ("a_b.TXT", false)]);
        let got: Vec<String> = got
            .into_iter()
            .map(|v| String::from_utf8(v).unwrap())
            .collect();
        // Visited in name order: "A-B.txt", "a+b.txt", "a_b.TXT".
        assert_eq!(got, ["A_B~1.TXT;1", "A_B.TXT;1", "A_B~2.TXT;1"]);
    }

    #[test]
    fn joliet_names() {
        let long = format!("{}.wim", "n".repeat(80));
        let got = joliet_identifiers(&[("Ärger?.txt", false), (&long, false)]);
        assert_eq!(String::from_utf16(&got[0]).unwrap(), "Ärger_.txt");
        let l = String::from_utf16(&got[1]).unwrap();
        assert_eq!(l.len(), 64);
        assert!(l.ends_with("nnn.wim"));
        let pair = format!("{}😀.x", "a".repeat(62));
        let got = joliet_identifiers(&[(&pair, false), (&format!("{pair}y"), false)]);
        assert!(
            got.iter()
                .all(|g| String::from_utf16(g).is_ok() && g.len() <= 64)
        );
        assert_ne!(got[0], got[1]);
    }

    #[test]
    fn udf_names() {
        assert_eq!(udf_identifier("Aé"), [8, b'A', 0xE9]);
        assert_eq!(udf_identifier("Aж"), [16, 0, b'A', 0x04, 0x36]);
    }

    #[test]
    fn iso_ordering() {
        let mut v: Vec<&[u8]> = vec![b"A.;1", b"A.1;1", b"A_X.C;1", b"A.B;1", b"AB", b"A"];
        v.sort_by(|a, b| iso_order(a, b));
        // Equal name and extension: the higher version first; "B" (0x42) sorts before "_".
        assert_eq!(
            v,
            [&b"A.;1"[..], b"A", b"A.1;1", b"A.B;1", b"AB", b"A_X.C;1"]
        );
    }
}
