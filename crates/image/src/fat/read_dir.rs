//! Listing directories of an existing volume: 32-byte entries (fatgen103 §6), VFAT long
//! names assembled from their entries and accepted only when the ordinals run down to 1 and
//! every checksum matches the short entry that follows (§7); otherwise the short name is used.

use std::collections::HashSet;
use std::io::{Read, Seek};

use super::dirent::{ATTR_DIRECTORY, ATTR_VOLUME_ID};
use super::geometry::FatType;
use super::name::short_name_checksum;
use super::read::FatVolume;
use super::read_error::{ReadError, ReadResult};

/// FAT's limit on entries per directory (fatgen103 §6: 65536 32-byte entries).
const MAX_DIR_BYTES: u64 = 65_536 * 32;
const ATTR_LONG_NAME: u8 = 0x0F;

/// One entry of a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// The long name when the entry has a valid one, else the short name.
    pub name: String,
    /// The 8.3 name as `BASE.EXT` (lower-cased where the NT case flags say so).
    pub short_name: String,
    /// Attribute byte (0x10 directory, 0x20 archive, 0x01 read-only, ...).
    pub attributes: u8,
    /// First cluster (0 for an empty file; 0 means the root for [`DirEntry::root`]).
    pub first_cluster: u32,
    /// Size in bytes (0 for directories).
    pub size: u32,
    /// Last write date and time, as stored (see `FatTimestamp` for the bit layout).
    pub write_date: u16,
    pub write_time: u16,
}

impl DirEntry {
    /// The root directory of a volume, for [`FatVolume::read_dir`].
    pub fn root() -> DirEntry {
        DirEntry {
            name: String::new(),
            short_name: String::new(),
            attributes: ATTR_DIRECTORY,
            first_cluster: 0,
            size: 0,
            write_date: 0,
            write_time: 0,
        }
    }

    /// Whether this is a directory.
    pub fn is_dir(&self) -> bool {
        self.attributes & ATTR_DIRECTORY != 0
    }
}

/// A long name being assembled from its entries (stored last part first).
struct Lfn {
    checksum: u8,
    /// The ordinal the next entry must have; 0 when complete.
    next: u8,
    /// 13-unit parts in stored order (last part first).
    parts: Vec<[u16; 13]>,
}

fn lfn_units(e: &[u8]) -> [u16; 13] {
    let mut out = [0u16; 13];
    let slots = (1..11)
        .step_by(2)
        .chain((14..26).step_by(2))
        .chain((28..32).step_by(2));
    for (o, s) in out.iter_mut().zip(slots) {
        *o = u16::from_le_bytes([e[s], e[s + 1]]);
    }
    out
}

fn short_name(raw: &[u8; 11], nt_flags: u8) -> String {
    let mut bytes = *raw;
    if bytes[0] == 0x05 {
        bytes[0] = 0xE5; // fatgen103 §6: 0x05 stands for a leading 0xE5 (KANJI lead byte)
    }
    // Bytes above 0x7F are OEM code page characters; shown as Latin-1 (not exact, but total).
    let part = |b: &[u8], lower: bool| -> String {
        let s: String = b.iter().map(|&c| char::from(c)).collect();
        let s = s.trim_end_matches(' ').to_string();
        if lower { s.to_ascii_lowercase() } else { s }
    };
    let base = part(&bytes[..8], nt_flags & 0x08 != 0);
    let ext = part(&bytes[8..], nt_flags & 0x10 != 0);
    if ext.is_empty() {
        base
    } else {
        format!("{base}.{ext}")
    }
}

/// Decodes directory entries; `Listing::done` once the end marker was seen.
#[derive(Default)]
pub(crate) struct Listing {
    pub entries: Vec<DirEntry>,
    pub label: Option<String>,
    pub done: bool,
    lfn: Option<Lfn>,
}

impl Listing {
    pub(crate) fn feed(&mut self, data: &[u8], fat32: bool) {
        for e in data.chunks_exact(32) {
            if self.done {
                return;
            }
            match e[0] {
                0x00 => {
                    self.done = true;
                    return;
                }
                0xE5 => {
                    self.lfn = None;
                    continue;
                }
                _ => {}
            }
            let attr = e[11];
            if attr & 0x3F == ATTR_LONG_NAME {
                self.long_entry(e);
                continue;
            }
            let lfn = self.lfn.take();
            let mut raw = [0u8; 11];
            raw.copy_from_slice(&e[..11]);
            if attr & ATTR_VOLUME_ID != 0 {
                self.label = Some(short_name(&raw, 0).replace('.', ""));
                continue;
            }
            if &raw == b".          " || &raw == b"..         " {
                continue;
            }
            let short = short_name(&raw, e[12]);
            let long = lfn
                .filter(|l| l.next == 0 && l.checksum == short_name_checksum(&raw))
                .map(|l| {
                    let units: Vec<u16> = l
                        .parts
                        .iter()
                        .rev()
                        .flatten()
                        .copied()
                        .take_while(|&u| u != 0)
                        .collect();
                    String::from_utf16_lossy(&units)
                })
                .filter(|n| !n.is_empty());
            let hi = if fat32 {
                u32::from(u16::from_le_bytes([e[20], e[21]])) << 16
            } else {
                0
            };
            self.entries.push(DirEntry {
                name: long.unwrap_or_else(|| short.clone()),
                short_name: short,
                attributes: attr,
                first_cluster: hi | u32::from(u16::from_le_bytes([e[26], e[27]])),
                size: u32::from_le_bytes([e[28], e[29], e[30], e[31]]),
                write_date: u16::from_le_bytes([e[24], e[25]]),
                write_time: u16::from_le_bytes([e[22], e[23]]),
            });
        }
    }

    fn long_entry(&mut self, e: &[u8]) {
        let ordinal = e[0] & 0x1F;
        let checksum = e[13];
        if e[0] & 0x40 != 0 {
            self.lfn = (1..=20).contains(&ordinal).then(|| Lfn {
                checksum,
                next: ordinal - 1,
                parts: vec![lfn_units(e)],
            });
            return;
        }
        match &mut self.lfn {
            Some(l) if ordinal != 0 && ordinal == l.next && checksum == l.checksum => {
                l.parts.push(lfn_units(e));
                l.next -= 1;
            }
            _ => self.lfn = None,
        }
    }
}

impl<R: Read + Seek> FatVolume<R> {
    /// Lists a directory (`.` and `..`, deleted entries and the volume label left out), in
    /// stored order. `path` names it in errors.
    pub(crate) fn list(&mut self, dir: &DirEntry, path: &str) -> ReadResult<Listing> {
        if !dir.is_dir() {
            return Err(ReadError::WrongKind {
                path: path.into(),
                expected: "a directory",
                actual: "a file",
            });
        }
        let fat32 = self.bpb.fat_type == FatType::Fat32;
        let mut listing = Listing::default();
        if dir.first_cluster == 0 && !fat32 {
            let mut data = vec![0u8; self.bpb.root_entries as usize * 32];
            let at = self.bpb.root_dir_offset();
            self.read_at(at, &mut data)?;
            listing.feed(&data, false);
            return Ok(listing);
        }
        let mut cluster = if dir.first_cluster == 0 {
            self.bpb.root_cluster
        } else {
            dir.first_cluster
        };
        let what = if path.is_empty() { "/" } else { path };
        self.check_cluster(cluster, what)?;
        let cb = self.bpb.cluster_bytes();
        let mut buf = vec![0u8; cb as usize];
        let mut seen = HashSet::new();
        let mut bytes = 0u64;
        loop {
            if !seen.insert(cluster) {
                return Err(ReadError::ChainLoop {
                    what: what.into(),
                    cluster,
                });
            }
            bytes += u64::from(cb);
            if bytes > MAX_DIR_BYTES.max(u64::from(cb)) {
                return Err(ReadError::DirectoryTooLarge { path: what.into() });
            }
            let at = self.bpb.cluster_offset(cluster);
            self.read_at(at, &mut buf)?;
            listing.feed(&buf, fat32);
            if listing.done {
                return Ok(listing);
            }
            match self.follow(cluster, what)? {
                Some(c) => cluster = c,
                None => return Ok(listing),
            }
        }
    }

    /// The entries of a directory (use [`DirEntry::root`] for the root).
    pub fn read_dir(&mut self, dir: &DirEntry) -> ReadResult<Vec<DirEntry>> {
        Ok(self.list(dir, &dir.name)?.entries)
    }

    /// The entries of the root directory.
    pub fn read_root(&mut self) -> ReadResult<Vec<DirEntry>> {
        self.read_dir(&DirEntry::root())
    }

    /// The volume label: the root directory's label entry, else the boot sector's
    /// (`NO NAME` means none).
    pub fn label(&mut self) -> ReadResult<Option<String>> {
        let listing = self.list(&DirEntry::root(), "/")?;
        Ok(listing
            .label
            .or_else(|| self.bpb.label.clone())
            .filter(|l| !l.is_empty() && l != "NO NAME"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fat::dirent::{ATTR_ARCHIVE, FatTimestamp, short_entry};
    use crate::fat::name::push_lfn_entries;

    fn listing(raw: &[u8]) -> Vec<DirEntry> {
        let mut l = Listing::default();
        l.feed(raw, true);
        l.entries
    }

    #[test]
    fn long_names_need_matching_checksums_and_ordinals() {
        let short = *b"LONGFI~1TXT";
        let entry = short_entry(
            &short,
            ATTR_ARCHIVE,
            0x0001_0005,
            7,
            FatTimestamp::default(),
        );
        let mut good = Vec::new();
        push_lfn_entries(&mut good, "Long file name here.txt", &short);
        good.extend_from_slice(&entry);
        let e = listing(&good);
        assert_eq!(e[0].name, "Long file name here.txt");
        assert_eq!(e[0].short_name, "LONGFI~1.TXT");
        assert_eq!((e[0].first_cluster, e[0].size), (0x0001_0005, 7));

        let mut bad_sum = good.clone();
        bad_sum[13] ^= 1;
        assert_eq!(listing(&bad_sum)[0].name, "LONGFI~1.TXT");
        // Missing ordinal 1: the name is incomplete.
        let mut missing = good[..32].to_vec();
        missing.extend_from_slice(&entry);
        assert_eq!(listing(&missing)[0].name, "LONGFI~1.TXT");
        // Orphan long entry without the 0x40 flag.
        let mut orphan = good[32..].to_vec();
        orphan[0] = 0x01;
        assert_eq!(listing(&orphan)[0].name, "LONGFI~1.TXT");
    }

    #[test]
    fn special_entries() {
        let ts = FatTimestamp::default();
        let mut raw = Vec::new();
        raw.extend_from_slice(&short_entry(b".          ", 0x10, 5, 0, ts));
        raw.extend_from_slice(&short_entry(b"..         ", 0x10, 0, 0, ts));
        raw.extend_from_slice(&short_entry(b"LABEL      ", ATTR_VOLUME_ID, 0, 0, ts));
        let mut deleted = short_entry(b"GONE    TXT", ATTR_ARCHIVE, 0, 0, ts);
        deleted[0] = 0xE5;
        raw.extend_from_slice(&deleted);
        let mut lower = short_entry(b"README  TXT", ATTR_ARCHIVE, 0, 0, ts);
        lower[12] = 0x18;
        raw.extend_from_slice(&lower);
        raw.extend_from_slice(&[0u8; 32]);
        raw.extend_from_slice(&short_entry(b"AFTEREND   ", ATTR_ARCHIVE, 0, 0, ts));
        let mut l = Listing::default();
        l.feed(&raw, false);
        assert_eq!(l.label.as_deref(), Some("LABEL"));
        let names: Vec<_> = l.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["readme.txt"]);
        assert!(l.done);
    }
}
