//! Split and join: a WIM cut into `.swm` parts of a bounded size, and parts joined back.

use super::{copy_image, inherit_options};
use crate::error::{Error, IoContext, Result};
use crate::header::{self, HEADER_SIZE};
use crate::output::AtomicFile;
use crate::read::Wim;
use crate::resource::{ResourceHeader, flags as rflags};
use crate::write::{WimWriter, WriteOptions, copy_range};
use crate::xml;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Splits `wim` into parts of at most `max_part` bytes (a part holding one larger blob may be
/// bigger): `first`, then `first` with 2, 3, ... before the extension.
pub fn split(wim: &Wim, first: &Path, max_part: u64) -> Result<Vec<PathBuf>> {
    wim.check_parts()?;
    if wim.blobs.values().any(|l| l.solid_run.is_some()) {
        return Err(Error::Split(
            "WIMs with solid resources cannot be split".into(),
        ));
    }
    let xml_bytes = xml::to_bytes(&wim.xml);
    let mut parts: Vec<PartOut> = vec![PartOut::new(part_name(first, 1))?];
    for m in &wim.metadata {
        parts[0].copy(wim, 0, m)?;
    }
    let mut locs: Vec<_> = wim.blobs.values().collect();
    locs.sort_by_key(|l| (l.part, l.entry.resource.offset));
    for loc in locs {
        let cur = parts.last().expect("at least one part");
        if cur.blobs > 0
            && cur.pos
                + loc.entry.resource.stored_size
                + 50 * (cur.entries.len() as u64 + 1)
                + xml_bytes.len() as u64
                > max_part
        {
            let n = parts.len() as u16 + 1;
            parts.push(PartOut::new(part_name(first, n))?);
        }
        parts
            .last_mut()
            .expect("at least one part")
            .copy(wim, loc.part, &loc.entry)?;
    }
    let total = parts.len() as u16;
    let mut names = Vec::new();
    for (i, p) in parts.into_iter().enumerate() {
        names.push(p.out.path().to_path_buf());
        p.finish(wim, i as u16 + 1, total, &xml_bytes)?;
    }
    Ok(names)
}

/// `base.swm`, `base2.swm`, `base3.swm`, ...
pub fn part_name(first: &Path, n: u16) -> PathBuf {
    if n == 1 {
        return first.to_path_buf();
    }
    let stem = first
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match first.extension() {
        Some(e) => format!("{stem}{n}.{}", e.to_string_lossy()),
        None => format!("{stem}{n}"),
    };
    first.with_file_name(name)
}

struct PartOut {
    out: AtomicFile,
    pos: u64,
    entries: Vec<crate::blob_table::BlobEntry>,
    blobs: u64,
}

impl PartOut {
    fn new(path: PathBuf) -> Result<PartOut> {
        let mut out = AtomicFile::create(&path)?;
        out.file.write_all(&[0u8; HEADER_SIZE]).at(&path)?;
        Ok(PartOut {
            out,
            pos: HEADER_SIZE as u64,
            entries: Vec::new(),
            blobs: 0,
        })
    }

    fn copy(&mut self, wim: &Wim, part: usize, e: &crate::blob_table::BlobEntry) -> Result<()> {
        let r = e.resource;
        let path = self.out.path().to_path_buf();
        copy_range(
            &wim.parts[part],
            r.offset,
            r.stored_size,
            &mut self.out.file,
            &path,
        )?;
        let resource = ResourceHeader {
            offset: self.pos,
            ..r
        };
        self.entries
            .push(crate::blob_table::BlobEntry { resource, ..*e });
        self.pos += r.stored_size;
        self.blobs += u64::from(!r.is_metadata());
        Ok(())
    }

    fn finish(mut self, wim: &Wim, number: u16, total: u16, xml_bytes: &[u8]) -> Result<()> {
        let path = self.out.path().to_path_buf();
        let mut table = Vec::new();
        for e in &self.entries {
            crate::blob_table::BlobEntry {
                part_number: number,
                ..*e
            }
            .write_to(&mut table);
        }
        let bt = ResourceHeader {
            stored_size: table.len() as u64,
            flags: rflags::METADATA,
            offset: self.pos,
            uncompressed_size: table.len() as u64,
        };
        self.out.file.write_all(&table).at(&path)?;
        self.pos += table.len() as u64;
        let xd = ResourceHeader {
            stored_size: xml_bytes.len() as u64,
            flags: rflags::METADATA,
            offset: self.pos,
            uncompressed_size: xml_bytes.len() as u64,
        };
        self.out.file.write_all(xml_bytes).at(&path)?;
        let mut h = wim.header.clone();
        h.flags = (h.flags | header::flags::SPANNED) & !header::flags::WRITE_IN_PROGRESS;
        h.part_number = number;
        h.total_parts = total;
        h.blob_table = bt;
        h.xml_data = xd;
        h.integrity = ResourceHeader::default();
        if number != 1 {
            h.boot_metadata = ResourceHeader::default();
        } else if h.boot_index > 0 {
            h.boot_metadata = self.entries[h.boot_index as usize - 1].resource;
        }
        use std::os::unix::fs::FileExt;
        self.out.file.write_all_at(&h.to_bytes(), 0).at(&path)?;
        self.out.commit()
    }
}

/// Joins the parts of a split WIM into one WIM at `out`.
pub fn join(out: &Path, parts: &[PathBuf]) -> Result<()> {
    let first = parts.iter().find_map(|p| {
        Wim::open(p)
            .ok()
            .filter(|w| w.header.part_number == 1)
            .map(|w| (p.clone(), w))
    });
    let (first_path, mut wim) =
        first.ok_or_else(|| Error::Split("none of the parts given is part 1".into()))?;
    for p in parts.iter().filter(|p| **p != first_path) {
        wim.add_ref(p)?;
    }
    wim.check_parts()?;
    let mut opts = inherit_options(&wim, WriteOptions::default(), false)?;
    opts.guid = Some(wim.header.guid);
    let mut w = WimWriter::create(out, opts)?;
    for i in 1..=wim.image_count() {
        copy_image(&wim, i, &mut w)?;
    }
    w.finish(wim.header.boot_index)
}
