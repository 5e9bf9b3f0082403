//! ISO 9660 (ECMA-119 4th edition) and Joliet structures: volume descriptors (8.4, 8.5, 8.3),
//! directory records (9.1), path tables (9.4).

use super::plan::{IsoPlan, MAX_ISO_EXTENT, Node, SECTOR_SIZE};
use super::time::{Civil, UNSPECIFIED_VOLUME_DATE};

const SECTOR: usize = SECTOR_SIZE as usize;

/// ECMA-119 7.2.3: a 16-bit number recorded both little- and big-endian.
pub(crate) fn both16(v: u16) -> [u8; 4] {
    let [a, b] = v.to_le_bytes();
    [a, b, b, a]
}

/// ECMA-119 7.3.3: a 32-bit number recorded both little- and big-endian.
pub(crate) fn both32(v: u32) -> [u8; 8] {
    let [a, b, c, d] = v.to_le_bytes();
    [a, b, c, d, d, c, b, a]
}

/// Directory record flags (ECMA-119 9.1.6).
const FLAG_DIRECTORY: u8 = 0x02;
const FLAG_MULTI_EXTENT: u8 = 0x80;

/// One directory record (ECMA-119 9.1).
fn dir_record(id: &[u8], lba: u32, len: u32, flags: u8, time: &Civil) -> Vec<u8> {
    let pad = usize::from(id.len().is_multiple_of(2));
    let total = 33 + id.len() + pad;
    let mut r = vec![0u8; total];
    r[0] = total as u8;
    r[2..10].copy_from_slice(&both32(lba));
    r[10..18].copy_from_slice(&both32(len));
    r[18..25].copy_from_slice(&time.dir_record());
    r[25] = flags;
    r[28..32].copy_from_slice(&both16(1));
    r[32] = id.len() as u8;
    r[33..33 + id.len()].copy_from_slice(id);
    r
}

fn ucs2_be(units: &[u16]) -> Vec<u8> {
    units.iter().flat_map(|u| u.to_be_bytes()).collect()
}

fn tree_id(n: &Node, joliet: bool) -> Vec<u8> {
    if joliet {
        ucs2_be(&n.joliet_id)
    } else {
        n.iso_id.clone()
    }
}

fn tree_dir(n: &Node, joliet: bool) -> (u32, u32) {
    let e = if joliet { n.joliet_dir } else { n.iso_dir };
    (e.lba, e.len)
}

/// The directory extent of `dir` in the ISO 9660 or Joliet tree: `.`, `..`, then the children
/// in tree order; a record never crosses a sector boundary (ECMA-119 6.8.1.1).
pub(crate) fn dir_extent(nodes: &[Node], dir: usize, joliet: bool, time: &Civil) -> Vec<u8> {
    let n = &nodes[dir];
    let (lba, len) = tree_dir(n, joliet);
    let (plba, plen) = tree_dir(&nodes[n.parent], joliet);
    let mut records = vec![
        dir_record(&[0], lba, len, FLAG_DIRECTORY, time),
        dir_record(&[1], plba, plen, FLAG_DIRECTORY, time),
    ];
    let children = if joliet {
        &n.joliet_children
    } else {
        &n.iso_children
    };
    for &c in children {
        let child = &nodes[c];
        let id = tree_id(child, joliet);
        if child.is_dir {
            let (clba, clen) = tree_dir(child, joliet);
            records.push(dir_record(&id, clba, clen, FLAG_DIRECTORY, time));
            continue;
        }
        // ECMA-119 6.5.1 (level 3): a file of several extents has one record per extent, all
        // but the last flagged multi-extent.
        let mut remaining = child.size;
        let mut at = child.data_lba;
        loop {
            let part = remaining.min(MAX_ISO_EXTENT);
            remaining -= part;
            let flags = if remaining > 0 { FLAG_MULTI_EXTENT } else { 0 };
            records.push(dir_record(&id, at, part as u32, flags, time));
            if remaining == 0 {
                break;
            }
            at += (part / SECTOR_SIZE) as u32;
        }
    }
    let mut out = Vec::new();
    for r in records {
        let used = out.len() % SECTOR;
        if used + r.len() > SECTOR {
            out.resize(out.len() + SECTOR - used, 0);
        }
        out.extend(r);
    }
    out.resize(out.len().div_ceil(SECTOR) * SECTOR, 0);
    out
}

/// A path table (ECMA-119 9.4), L-type (`msb == false`) or M-type.
pub(crate) fn path_table(nodes: &[Node], bfs: &[usize], joliet: bool, msb: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for &d in bfs {
        let n = &nodes[d];
        let id = if d == 0 { vec![0] } else { tree_id(n, joliet) };
        let (lba, _) = tree_dir(n, joliet);
        let parent = &nodes[n.parent];
        let parent_number = if joliet {
            parent.joliet_number
        } else {
            parent.iso_number
        };
        out.push(id.len() as u8);
        out.push(0);
        if msb {
            out.extend(lba.to_be_bytes());
            out.extend(parent_number.to_be_bytes());
        } else {
            out.extend(lba.to_le_bytes());
            out.extend(parent_number.to_le_bytes());
        }
        out.extend(&id);
        if id.len() % 2 == 1 {
            out.push(0);
        }
    }
    out
}

/// A text field: ISO 9660 pads with spaces; Joliet records UCS-2 big-endian padded with
/// U+0020.
fn text_field(buf: &mut [u8], s: &str, joliet: bool, map: impl Fn(char) -> char) {
    if joliet {
        let units: Vec<u16> = s.encode_utf16().take(buf.len() / 2).collect();
        for (i, pair) in buf.chunks_exact_mut(2).enumerate() {
            let u = units.get(i).copied().unwrap_or(0x20);
            pair.copy_from_slice(&u.to_be_bytes());
        }
        if buf.len() % 2 == 1 {
            buf[buf.len() - 1] = 0;
        }
    } else {
        let bytes: Vec<u8> = s.chars().map(&map).map(|c| c as u8).collect();
        for (i, b) in buf.iter_mut().enumerate() {
            *b = bytes.get(i).copied().unwrap_or(b' ');
        }
    }
}

/// d-characters (ECMA-119 7.4.1): `A-Z 0-9 _`.
fn d_char(c: char) -> char {
    let u = c.to_ascii_uppercase();
    if u.is_ascii_uppercase() || u.is_ascii_digit() {
        u
    } else {
        '_'
    }
}

/// a-characters (ECMA-119 7.4.1): d-characters, space and ``!"%&'()*+,-./:;<=>?``.
fn a_char(c: char) -> char {
    let u = c.to_ascii_uppercase();
    if u.is_ascii_uppercase() || u.is_ascii_digit() || " !\"%&'()*+,-./:;<=>?_".contains(u) {
        u
    } else {
        '_'
    }
}

/// The primary (ECMA-119 8.4) or Joliet supplementary (8.5) volume descriptor.
pub(crate) fn volume_descriptor(plan: &IsoPlan, joliet: bool) -> Vec<u8> {
    let mut v = vec![0u8; SECTOR];
    v[0] = if joliet { 2 } else { 1 };
    v[1..6].copy_from_slice(b"CD001");
    v[6] = 1;
    text_field(&mut v[8..40], "", joliet, a_char);
    text_field(&mut v[40..72], &plan.label, joliet, d_char);
    v[80..88].copy_from_slice(&both32(plan.total_sectors));
    if joliet {
        // Escape sequence for UCS-2 level 3 (Joliet specification 2.1).
        v[88..91].copy_from_slice(b"%/E");
    }
    v[120..124].copy_from_slice(&both16(1));
    v[124..128].copy_from_slice(&both16(1));
    v[128..132].copy_from_slice(&both16(SECTOR as u16));
    let (pt, pt_size) = if joliet {
        (plan.joliet_path_table, plan.joliet_path_table_size)
    } else {
        (plan.iso_path_table, plan.iso_path_table_size)
    };
    v[132..140].copy_from_slice(&both32(pt_size));
    v[140..144].copy_from_slice(&pt[0].to_le_bytes());
    v[148..152].copy_from_slice(&pt[1].to_be_bytes());
    let (lba, len) = tree_dir(&plan.nodes[0], joliet);
    v[156..190].copy_from_slice(&dir_record(&[0], lba, len, FLAG_DIRECTORY, &plan.time));
    text_field(&mut v[190..318], "", joliet, d_char);
    text_field(&mut v[318..446], "", joliet, a_char);
    text_field(&mut v[446..574], "", joliet, a_char);
    text_field(&mut v[574..702], &plan.application_id, joliet, a_char);
    for field in [702..739, 739..776, 776..813] {
        text_field(&mut v[field], "", joliet, d_char);
    }
    let date = plan.time.volume_descriptor();
    v[813..830].copy_from_slice(&date);
    v[830..847].copy_from_slice(&date);
    v[847..864].copy_from_slice(&UNSPECIFIED_VOLUME_DATE);
    v[864..881].copy_from_slice(&UNSPECIFIED_VOLUME_DATE);
    v[881] = 1;
    v
}

/// The volume descriptor set terminator (ECMA-119 8.3).
pub(crate) fn terminator() -> Vec<u8> {
    let mut v = vec![0u8; SECTOR];
    v[0] = 255;
    v[1..6].copy_from_slice(b"CD001");
    v[6] = 1;
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_endian() {
        assert_eq!(both16(0x0102), [2, 1, 1, 2]);
        assert_eq!(both32(0x0102_0304), [4, 3, 2, 1, 1, 2, 3, 4]);
    }

    #[test]
    fn record_length_is_even() {
        let t = Civil::from_unix(0).unwrap();
        assert_eq!(dir_record(&[0], 1, 2, 2, &t).len(), 34);
        assert_eq!(dir_record(b"AB.;1", 1, 2, 0, &t).len(), 38);
        assert_eq!(dir_record(b"AB", 1, 2, 0, &t).len(), 36);
    }
}
