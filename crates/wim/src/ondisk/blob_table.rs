//! The blob table: one 50-byte entry per stored blob (file data, reparse data, image metadata).
//!
//! Entry layout: resource header (24) · part number u16 · reference count u32 · SHA-1 (20).

use crate::bytes::{le_u16, le_u32, put_u16, put_u32};
use crate::error::{Error, ResourceFault, Result};
use crate::resource::{RESHDR_SIZE, ResourceHeader};
use crate::sha1::Sha1;

/// Size of one blob table entry.
pub const ENTRY_SIZE: usize = 50;

/// The uncompressed size that marks a solid resource's own entry.
pub const SOLID_RESOURCE_MAGIC: u64 = 0x1_0000_0000;

/// One entry of the blob table: where a blob is stored and its SHA-1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlobEntry {
    /// Where the blob's resource is in its part.
    pub resource: ResourceHeader,
    /// The 1-based part of a split WIM holding the resource.
    pub part_number: u16,
    /// How many dentries refer to the blob (informative; readers do not rely on it).
    pub ref_count: u32,
    /// SHA-1 of the uncompressed blob: its identity.
    pub sha1: Sha1,
}

impl BlobEntry {
    /// Parses one entry from the first [`ENTRY_SIZE`] bytes of `b`.
    pub fn parse(b: &[u8]) -> BlobEntry {
        BlobEntry {
            resource: ResourceHeader::parse(b[..RESHDR_SIZE].try_into().expect("24 bytes")),
            part_number: le_u16(&b[24..]),
            ref_count: le_u32(&b[26..]),
            sha1: Sha1::from_slice(&b[30..50]),
        }
    }

    /// Appends the entry as stored to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let mut b = [0u8; ENTRY_SIZE];
        b[..RESHDR_SIZE].copy_from_slice(&self.resource.to_bytes());
        put_u16(&mut b[24..], self.part_number);
        put_u32(&mut b[26..], self.ref_count);
        b[30..].copy_from_slice(&self.sha1.0);
        out.extend_from_slice(&b);
    }
}

/// Parses a whole blob table. `table_offset` is only for error messages.
pub fn parse_table(data: &[u8], table_offset: u64) -> Result<Vec<BlobEntry>> {
    if !data.len().is_multiple_of(ENTRY_SIZE) {
        return Err(Error::BadResource {
            offset: table_offset,
            reason: ResourceFault::BlobTableSize(data.len()),
        });
    }
    Ok(data
        .chunks_exact(ENTRY_SIZE)
        .map(BlobEntry::parse)
        .collect())
}

/// Validates one entry against the file it came from.
pub fn check_entry(e: &BlobEntry, index: usize, table_offset: u64, file_len: u64) -> Result<()> {
    let offset = table_offset + (index * ENTRY_SIZE) as u64;
    let bad = |reason: ResourceFault| Error::BadBlobEntry {
        index,
        offset,
        reason,
    };
    let r = &e.resource;
    if r.is_solid() {
        return Ok(()); // offsets of solid blobs are into the solid run, checked on read
    }
    let end = r.end().ok_or_else(|| bad(ResourceFault::OffsetOverflow))?;
    if end > file_len {
        return Err(bad(ResourceFault::EntryPastEnd {
            start: r.offset,
            end,
            file_len,
        }));
    }
    if !r.is_compressed() && r.stored_size != r.uncompressed_size {
        return Err(bad(ResourceFault::SizesDiffer {
            stored: r.stored_size,
            size: r.uncompressed_size,
        }));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let e = BlobEntry {
            resource: ResourceHeader {
                stored_size: 6,
                flags: 0,
                offset: 208,
                uncompressed_size: 6,
            },
            part_number: 1,
            ref_count: 2,
            sha1: Sha1([0xab; 20]),
        };
        let mut v = Vec::new();
        e.write_to(&mut v);
        assert_eq!(v.len(), ENTRY_SIZE);
        assert_eq!(parse_table(&v, 0).expect("valid"), vec![e]);
        assert!(check_entry(&e, 0, 0, 214).is_ok());
        assert!(check_entry(&e, 0, 0, 213).is_err());
        assert!(parse_table(&v[..49], 0).is_err());
    }
}
