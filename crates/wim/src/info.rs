//! What `wim info` shows: the header and each image's XML properties, without reading metadata.

use crate::error::Result;
use crate::read::Wim;
use crate::xml;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use tsmedia_codecs::Format;

/// A summary of a WIM file.
#[derive(Clone, Debug, Serialize)]
pub struct WimInfo {
    /// The GUID in hex, as wimlib-imagex prints it.
    pub guid: String,
    /// The header version (0x10d00, or 0xe00 for solid WIMs).
    pub version: u32,
    /// 1-based part number of this file.
    pub part_number: u16,
    /// Parts of the split WIM (1 when not split).
    pub total_parts: u16,
    /// Number of images.
    pub image_count: u32,
    /// `None` when uncompressed.
    #[serde(serialize_with = "ser_format")]
    pub compression: Option<Format>,
    /// Chunk size of compressed resources (0 when uncompressed).
    pub chunk_size: u32,
    /// 1-based, 0 for none.
    pub boot_index: u32,
    /// Whether the file has an integrity table.
    pub has_integrity_table: bool,
    /// The file size in bytes.
    pub size: u64,
    /// The images, from the XML data.
    pub images: Vec<ImageInfo>,
}

/// One image's properties, from the XML data.
#[derive(Clone, Debug, Serialize)]
pub struct ImageInfo {
    /// 1-based image index.
    pub index: u32,
    /// The image name (`NAME`), empty when none.
    pub name: String,
    /// The image description (`DESCRIPTION`), empty when none.
    pub description: String,
    /// Directories, root included (`DIRCOUNT`).
    pub dir_count: u64,
    /// Files, links and symlinks (`FILECOUNT`).
    pub file_count: u64,
    /// Bytes of file data, every hard link counted (`TOTALBYTES`).
    pub total_bytes: u64,
    /// Bytes counted again for extra hard links (`HARDLINKBYTES`).
    pub hard_link_bytes: u64,
    /// `WINDOWS/ARCH`: 0 x86, 9 x64, 12 arm64.
    pub arch: Option<u32>,
    /// FILETIMEs.
    pub creation_time: Option<u64>,
    /// FILETIME of the last change (`LASTMODIFICATIONTIME`).
    pub last_modification_time: Option<u64>,
    /// Every XML property as `PATH/TO/ELEMENT = text`.
    pub properties: BTreeMap<String, String>,
}

fn ser_format<S: serde::Serializer>(f: &Option<Format>, s: S) -> Result<S::Ok, S::Error> {
    match f {
        None => s.serialize_str("none"),
        Some(f) => s.serialize_str(&f.to_string()),
    }
}

/// Reads a WIM's header and XML data.
pub fn inspect(path: &Path) -> Result<WimInfo> {
    let wim = Wim::open(path)?;
    Ok(wim.info())
}

impl Wim {
    /// The summary of an open WIM, from its header and XML data.
    pub fn info(&self) -> WimInfo {
        let h = &self.header;
        let num = |e: &xml::Element, p: &str| e.get(p).and_then(|t| t.trim().parse::<u64>().ok());
        let images = xml::images(&self.xml)
            .enumerate()
            .map(|(i, e)| ImageInfo {
                index: i as u32 + 1,
                name: e.get("NAME").unwrap_or_default().to_string(),
                description: e.get("DESCRIPTION").unwrap_or_default().to_string(),
                dir_count: num(e, "DIRCOUNT").unwrap_or(0),
                file_count: num(e, "FILECOUNT").unwrap_or(0),
                total_bytes: num(e, "TOTALBYTES").unwrap_or(0),
                hard_link_bytes: num(e, "HARDLINKBYTES").unwrap_or(0),
                arch: num(e, "WINDOWS/ARCH").map(|a| a as u32),
                creation_time: xml::get_time(e, "CREATIONTIME"),
                last_modification_time: xml::get_time(e, "LASTMODIFICATIONTIME"),
                properties: e.flatten(),
            })
            .collect();
        WimInfo {
            guid: tsmedia_base::digest::hex(&h.guid),
            version: h.version,
            part_number: h.part_number,
            total_parts: h.total_parts,
            image_count: h.image_count,
            compression: h.compression().ok().flatten(),
            chunk_size: h.chunk_size,
            boot_index: h.boot_index,
            has_integrity_table: !h.integrity.is_zero(),
            size: self.parts[0].len,
            images,
        }
    }
}
