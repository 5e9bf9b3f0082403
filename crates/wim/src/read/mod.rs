//! Opening a WIM (and the other parts of a split WIM) and reading its blobs, XML and images.

pub mod blob_reader;
pub mod chunks;
pub mod pipable;
pub mod stream;

use crate::blob_table::{self, BlobEntry, SOLID_RESOURCE_MAGIC};
use crate::error::{Error, ResourceFault, Result};
use crate::header::{HEADER_SIZE, Header};
use crate::resource::ResourceHeader;
use crate::sha1::Sha1;
use crate::xml::{self, Element};
use blob_reader::{BlobReader, Segment};
use chunks::{ChunkLayout, PartFile};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// Largest resource we read whole into memory (metadata, XML, blob table).
const MAX_IN_MEMORY: u64 = 2 << 30;

/// Where a blob's data lives.
#[derive(Clone, Debug)]
pub struct BlobLocation {
    /// Index into [`Wim::parts`].
    pub part: usize,
    /// The blob's entry in the blob table.
    pub entry: BlobEntry,
    /// For blobs inside solid resources: the resources of the run, in order.
    pub solid_run: Option<Arc<Vec<ResourceHeader>>>,
}

impl BlobLocation {
    /// The blob's uncompressed size. A blob inside a solid run keeps it in its entry's size
    /// field (the one that holds the stored size of other resources); wimlib writes 0 in the
    /// uncompressed-size field of such entries.
    pub fn size(&self) -> u64 {
        let r = &self.entry.resource;
        if self.solid_run.is_some() {
            r.stored_size
        } else {
            r.uncompressed_size
        }
    }
}

/// An open WIM: its header, XML, blob table and image metadata locations.
pub struct Wim {
    /// The header of the file opened (part 1 of a split WIM, normally).
    pub header: Header,
    /// The XML data: the `<WIM>` element with one `<IMAGE>` per image.
    pub xml: Element,
    /// The part files: index 0 is the file opened; others were added with `--ref`.
    pub parts: Vec<PartFile>,
    /// Part number of each entry of `parts`.
    part_numbers: Vec<u16>,
    /// Metadata resources, one per image in order.
    pub metadata: Vec<BlobEntry>,
    /// Every blob of every part given, by SHA-1.
    pub blobs: HashMap<Sha1, BlobLocation>,
    /// Blob-table entries in file order, for `verify` and `split`.
    pub entries: Vec<(usize, BlobEntry)>,
}

impl Wim {
    /// Opens the WIM at `path`: reads and checks its header, XML data and blob table
    /// (the metadata and blobs are read when asked for).
    pub fn open(path: &Path) -> Result<Wim> {
        let mut part = PartFile::open(path)?;
        let header = read_header(&mut part)?;
        let mut wim = Wim {
            header: header.clone(),
            xml: Element::new("WIM"),
            parts: Vec::new(),
            part_numbers: Vec::new(),
            metadata: Vec::new(),
            blobs: HashMap::new(),
            entries: Vec::new(),
        };
        let xml_data = wim.read_resource(&part, &header, &header.xml_data, "XML data")?;
        wim.xml = xml::parse(&xml_data)?;
        wim.add_part(part, header)?;
        let xml_images = xml::images(&wim.xml).count() as u32;
        if xml_images != wim.header.image_count {
            return Err(Error::XmlImageCount {
                header: wim.header.image_count,
                xml: xml_images,
            });
        }
        if wim.header.part_number == 1 && wim.metadata.len() as u32 != wim.header.image_count {
            return Err(Error::MetadataCount {
                header: wim.header.image_count,
                metadata: wim.metadata.len(),
            });
        }
        Ok(wim)
    }

    /// Adds another part of the same split WIM (`--ref`).
    pub fn add_ref(&mut self, path: &Path) -> Result<()> {
        let mut part = PartFile::open(path)?;
        let header = read_header(&mut part)?;
        if header.guid != self.header.guid {
            return Err(Error::OtherWim {
                path: path.to_path_buf(),
            });
        }
        if self.part_numbers.contains(&header.part_number) {
            return Ok(()); // the same part given twice (e.g. a glob matching the first part)
        }
        self.add_part(part, header)
    }

    /// Checks that every part of a split WIM is present.
    pub fn check_parts(&self) -> Result<()> {
        let total = self.header.total_parts;
        let missing: Vec<u16> = (1..=total)
            .filter(|n| !self.part_numbers.contains(n))
            .collect();
        if !missing.is_empty() {
            return Err(Error::MissingParts { missing, total });
        }
        Ok(())
    }

    fn add_part(&mut self, part: PartFile, header: Header) -> Result<()> {
        let table = self.read_resource(&part, &header, &header.blob_table, "blob table")?;
        let entries = blob_table::parse_table(&table, header.blob_table.offset)?;
        let index = self.parts.len();
        // A solid run is a stretch of consecutive SOLID entries: the resource entries in it
        // (wherever they stand, wimlib interleaves them with their blobs) form one
        // concatenated stream that every blob of the run addresses.
        let mut run_arc: Option<Arc<Vec<ResourceHeader>>> = None;
        let mut run_end = 0usize;
        for (i, e) in entries.iter().enumerate() {
            blob_table::check_entry(e, i, header.blob_table.offset, part.len)?;
            let r = &e.resource;
            if r.is_solid() && i >= run_end {
                run_end = entries[i..]
                    .iter()
                    .position(|x| !x.resource.is_solid())
                    .map_or(entries.len(), |n| i + n);
                let resources: Vec<ResourceHeader> = entries[i..run_end]
                    .iter()
                    .filter(|x| {
                        x.part_number == header.part_number
                            && x.resource.uncompressed_size == SOLID_RESOURCE_MAGIC
                    })
                    .map(|x| x.resource)
                    .collect();
                run_arc = (!resources.is_empty()).then(|| Arc::new(resources));
            } else if !r.is_solid() {
                run_arc = None;
            }
            if e.part_number != header.part_number {
                continue;
            }
            if r.is_solid() && r.uncompressed_size == SOLID_RESOURCE_MAGIC {
                continue;
            }
            if r.is_solid() && run_arc.is_none() {
                return Err(Error::BadBlobEntry {
                    index: i,
                    offset: header.blob_table.offset + (i * 50) as u64,
                    reason: ResourceFault::SolidWithoutRun,
                });
            }
            self.entries.push((index, *e));
            if r.is_metadata() {
                if header.part_number == 1 {
                    self.metadata.push(*e);
                }
                continue;
            }
            if e.sha1.is_zero() {
                continue;
            }
            self.blobs.entry(e.sha1).or_insert(BlobLocation {
                part: index,
                entry: *e,
                solid_run: if r.is_solid() { run_arc.clone() } else { None },
            });
        }
        self.parts.push(part);
        self.part_numbers.push(header.part_number);
        Ok(())
    }

    fn read_resource(
        &self,
        part: &PartFile,
        header: &Header,
        r: &ResourceHeader,
        what: &'static str,
    ) -> Result<Vec<u8>> {
        if r.uncompressed_size > MAX_IN_MEMORY {
            return Err(Error::BadResource {
                offset: r.offset,
                reason: ResourceFault::TooLarge {
                    what,
                    size: r.uncompressed_size,
                },
            });
        }
        let layout = ChunkLayout::read(part, r, header.compression()?, header.chunk_size)?;
        let seg = Segment {
            part: part.clone(),
            layout: Arc::new(layout),
            start: 0,
            len: r.uncompressed_size,
        };
        BlobReader::new(Sha1::ZERO, vec![seg], false).read_all()
    }

    /// Opens a blob's data for streaming; the SHA-1 is checked at the end when `verify`.
    pub fn open_blob(&self, sha1: &Sha1, verify: bool) -> Result<BlobReader> {
        let loc = self.blobs.get(sha1).ok_or(Error::MissingBlob {
            sha1: *sha1,
            user: None,
        })?;
        self.open_location(loc, verify)
    }

    /// A reader of the blob at `loc`; with `verify`, the reader checks the blob's SHA-1 at the end.
    pub fn open_location(&self, loc: &BlobLocation, verify: bool) -> Result<BlobReader> {
        Ok(BlobReader::new(loc.entry.sha1, self.segments(loc)?, verify))
    }

    /// Where a blob's bytes are: pieces of one or more resources, in order.
    pub(crate) fn segments(&self, loc: &BlobLocation) -> Result<Vec<Segment>> {
        let part = &self.parts[loc.part];
        let format = self.header.compression()?;
        let r = &loc.entry.resource;
        let segments = match &loc.solid_run {
            None => {
                let layout = ChunkLayout::read(part, r, format, self.header.chunk_size)?;
                vec![Segment {
                    part: part.clone(),
                    layout: Arc::new(layout),
                    start: 0,
                    len: r.uncompressed_size,
                }]
            }
            Some(run) => solid_segments(part, run, r.offset, loc.size())?,
        };
        Ok(segments)
    }

    /// Reads a metadata resource whole, checking its SHA-1.
    pub fn read_metadata_resource(&self, image: u32) -> Result<Vec<u8>> {
        let e = self
            .metadata
            .get(image.wrapping_sub(1) as usize)
            .ok_or(Error::NoSuchImage {
                index: image,
                count: self.image_count(),
            })?;
        if e.resource.uncompressed_size > MAX_IN_MEMORY {
            return Err(Error::BadResource {
                offset: e.resource.offset,
                reason: ResourceFault::TooLarge {
                    what: "metadata resource",
                    size: e.resource.uncompressed_size,
                },
            });
        }
        let loc = BlobLocation {
            part: 0,
            entry: *e,
            solid_run: None,
        };
        self.open_location(&loc, true)?.read_all()
    }

    /// The XML data as stored (UTF-16LE), for `info --xml` and `--extract-xml`.
    pub fn raw_xml(&self) -> Result<Vec<u8>> {
        self.read_resource(
            &self.parts[0],
            &self.header,
            &self.header.xml_data,
            "XML data",
        )
    }

    /// The number of images.
    pub fn image_count(&self) -> u32 {
        self.header.image_count
    }

    /// The `<IMAGE>` element of a 1-based image index.
    pub fn image_xml(&self, image: u32) -> Option<&Element> {
        xml::images(&self.xml).nth(image.checked_sub(1)? as usize)
    }

    /// Resolves an image given as a 1-based index or a name.
    pub fn resolve_image(&self, spec: &str) -> Result<u32> {
        if let Ok(n) = spec.parse::<u32>() {
            if n >= 1 && n <= self.image_count() {
                return Ok(n);
            }
            return Err(Error::NoSuchImage {
                index: n,
                count: self.image_count(),
            });
        }
        xml::images(&self.xml)
            .position(|e| e.get("NAME") == Some(spec))
            .map(|p| p as u32 + 1)
            .ok_or_else(|| Error::NoImageNamed {
                name: spec.to_string(),
            })
    }
}

/// Reads the header; a pipable WIM's header at offset 0 lacks the blob table and XML data, so
/// its full copy at the end of the file is used (and the part is marked pipable).
fn read_header(part: &mut PartFile) -> Result<Header> {
    let mut b = [0u8; HEADER_SIZE];
    if part.len < HEADER_SIZE as u64 {
        return Err(Error::TooShort { len: part.len });
    }
    part.read_at(0, &mut b)?;
    let first = Header::parse(&b)?;
    if !first.pipable {
        return Ok(first);
    }
    part.pipable = true;
    if part.len < 2 * HEADER_SIZE as u64 {
        return Err(Error::BadPipable {
            offset: 0,
            reason: "no header at the end of the file (truncated?)".into(),
        });
    }
    part.read_at(part.len - HEADER_SIZE as u64, &mut b)?;
    let last = Header::parse(&b)?;
    if !last.pipable || last.guid != first.guid {
        return Err(Error::BadPipable {
            offset: part.len - HEADER_SIZE as u64,
            reason: "the header at the end is not the pipable header of this WIM".into(),
        });
    }
    Ok(last)
}

/// Maps a blob at `offset..offset+len` of a solid run's concatenated data onto its resources.
fn solid_segments(
    part: &PartFile,
    run: &[ResourceHeader],
    offset: u64,
    len: u64,
) -> Result<Vec<Segment>> {
    let mut segments = Vec::new();
    let mut base = 0u64;
    let (mut start, mut left) = (offset, len);
    for r in run {
        let layout = ChunkLayout::read(part, r, None, 0)?;
        let size = layout.uncompressed_size;
        if left > 0 && start < base.saturating_add(size) {
            let s = start - base;
            let n = left.min(size - s);
            segments.push(Segment {
                part: part.clone(),
                layout: Arc::new(layout),
                start: s,
                len: n,
            });
            start += n;
            left -= n;
        }
        base = base.saturating_add(size);
    }
    if left > 0 {
        return Err(Error::BadResource {
            offset,
            reason: ResourceFault::OutsideSolidRun {
                len,
                offset,
                run: base,
            },
        });
    }
    Ok(segments)
}
