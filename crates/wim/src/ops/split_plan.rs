//! The layout of a split WIM, planned from the source's header and blob table alone.
//!
//! One planner for every writer of `.swm` parts: [`split`](super::split) writes the parts to
//! files, and the media builder streams them onto media without staging them. Both therefore
//! produce the same bytes for the same limits.
//!
//! The layout: each part starts with the source's header (SPANNED set, part number and count,
//! its own blob table and XML data, no integrity table; only part 1 keeps the boot metadata);
//! image metadata resources go in part 1; blobs follow in source file order, never cut across
//! parts, a new part starting when the next blob (with its blob-table entry and the XML data)
//! would push the current one over its limit; each part ends with its blob table and a copy of
//! the source's XML data. A part holding a single resource larger than its limit is planned
//! over the limit: [`PlannedPart::size`] tells the caller, who may refuse.

use crate::blob_table::{BlobEntry, ENTRY_SIZE};
use crate::error::{Error, Result};
use crate::header::{self, HEADER_SIZE, Header};
use crate::read::Wim;
use crate::resource::{ResourceHeader, flags as rflags};
use crate::xml;

/// A WIM planned as `.swm` parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitPlan {
    /// The parts, part 1 first.
    pub parts: Vec<PlannedPart>,
    /// The XML data every part ends with (the source's, UTF-16LE with BOM).
    pub xml: Vec<u8>,
}

/// One planned part: its header, the resources copied into it and its blob table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedPart {
    /// The 1-based part number.
    pub number: u16,
    /// The part's header, written at offset 0.
    pub header: Header,
    /// The resources copied verbatim from the source, in the order they follow the header.
    pub resources: Vec<PlannedResource>,
    /// The part's blob table, written after the resources.
    pub blob_table: Vec<u8>,
    /// The part's size in bytes: header, resources, blob table and XML data.
    pub size: u64,
}

/// One resource copied from the source WIM into a part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlannedResource {
    /// Index of the source part it is read from (into [`Wim::parts`]).
    pub source_part: usize,
    /// Where it is in that source part: `stored_size` bytes from `offset`.
    pub source: ResourceHeader,
    /// Its offset in the planned part.
    pub offset: u64,
}

impl SplitPlan {
    /// Plans `wim` as parts; part `i` (0-based) should hold at most `limit(i)` bytes.
    ///
    /// Fails when a part of `wim` is missing, when it has solid resources (a solid run holds
    /// many blobs in one compressed resource that cannot be cut) or when more than 65,535
    /// parts would be needed.
    pub fn new(wim: &Wim, limit: &dyn Fn(usize) -> u64) -> Result<SplitPlan> {
        wim.check_parts()?;
        if wim.blobs.values().any(|l| l.solid_run.is_some()) {
            return Err(Error::SolidSplit);
        }
        let xml = xml::to_bytes(&wim.xml);
        let xml_len = xml.len() as u64;

        let mut parts = vec![Filling::default()];
        for m in &wim.metadata {
            parts[0].push(0, m);
        }
        let mut locs: Vec<_> = wim.blobs.values().collect();
        locs.sort_by_key(|l| (l.part, l.entry.resource.offset));
        for loc in locs {
            let cur = parts.last().expect("at least one part");
            let end = HEADER_SIZE as u64
                + cur.stored
                + loc.entry.resource.stored_size
                + ENTRY_SIZE as u64 * (cur.entries.len() as u64 + 1)
                + xml_len;
            if cur.blobs > 0 && end > limit(parts.len() - 1) {
                parts.push(Filling::default());
            }
            parts
                .last_mut()
                .expect("at least one part")
                .push(loc.part, &loc.entry);
        }

        let total =
            u16::try_from(parts.len()).map_err(|_| Error::TooManyParts { parts: parts.len() })?;
        let parts = parts
            .into_iter()
            .zip(1..=total)
            .map(|(p, number)| p.finish(&wim.header, number, total, xml_len))
            .collect();
        Ok(SplitPlan { parts, xml })
    }
}

/// A part being filled: entries with their source resources.
#[derive(Default)]
struct Filling {
    entries: Vec<(usize, BlobEntry)>,
    /// Bytes of resources so far.
    stored: u64,
    /// Blobs so far (metadata resources do not count: a part never holds only those).
    blobs: u64,
}

impl Filling {
    fn push(&mut self, source_part: usize, e: &BlobEntry) {
        self.stored += e.resource.stored_size;
        self.blobs += u64::from(!e.resource.is_metadata());
        self.entries.push((source_part, *e));
    }

    fn finish(self, source: &Header, number: u16, total: u16, xml_len: u64) -> PlannedPart {
        let mut pos = HEADER_SIZE as u64;
        let mut resources = Vec::with_capacity(self.entries.len());
        let mut blob_table = Vec::with_capacity(self.entries.len() * ENTRY_SIZE);
        for (source_part, e) in &self.entries {
            let resource = ResourceHeader {
                offset: pos,
                ..e.resource
            };
            resources.push(PlannedResource {
                source_part: *source_part,
                source: e.resource,
                offset: pos,
            });
            BlobEntry {
                resource,
                part_number: number,
                ..*e
            }
            .write_to(&mut blob_table);
            pos += e.resource.stored_size;
        }
        let table_len = blob_table.len() as u64;
        let mut h = source.clone();
        h.flags = (h.flags | header::flags::SPANNED) & !header::flags::WRITE_IN_PROGRESS;
        h.part_number = number;
        h.total_parts = total;
        h.blob_table = ResourceHeader {
            stored_size: table_len,
            flags: rflags::METADATA,
            offset: pos,
            uncompressed_size: table_len,
        };
        h.xml_data = ResourceHeader {
            stored_size: xml_len,
            flags: rflags::METADATA,
            offset: pos + table_len,
            uncompressed_size: xml_len,
        };
        h.integrity = ResourceHeader::default();
        // Metadata resources come first in part 1, so the boot image's is at its index.
        h.boot_metadata = match (number, h.boot_index) {
            (1, b) if b > 0 => resources
                .get(b as usize - 1)
                .map(|r| ResourceHeader {
                    offset: r.offset,
                    ..r.source
                })
                .unwrap_or_default(),
            _ => ResourceHeader::default(),
        };
        PlannedPart {
            number,
            header: h,
            resources,
            blob_table,
            size: pos + table_len + xml_len,
        }
    }
}
