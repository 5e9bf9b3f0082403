//! Resource headers: where a blob, metadata resource, blob table or XML data lives in the file.
//!
//! On disk (24 bytes): 7-byte stored size, 1 flag byte, u64 offset, u64 uncompressed size.

use crate::bytes::{le_u64, put_u64};

/// Flag bits of a resource header.
pub mod flags {
    /// The space is free (a resource no longer used); never written by us.
    pub const FREE: u8 = 0x01;
    /// Image metadata; also set on the blob table and XML data headers.
    pub const METADATA: u8 = 0x02;
    /// Stored as compressed chunks with a chunk table.
    pub const COMPRESSED: u8 = 0x04;
    /// The resource continues in the next part (never written: parts never cut a resource).
    pub const SPANNED: u8 = 0x08;
    /// Part of a solid resource (version 0xE00 files).
    pub const SOLID: u8 = 0x10;
}

/// Size of a resource header on disk.
pub const RESHDR_SIZE: usize = 24;

/// A resource header as stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ResourceHeader {
    /// Bytes the resource occupies in the file (compressed size).
    pub stored_size: u64,
    /// Flag bits ([`flags`]).
    pub flags: u8,
    /// Offset of the resource in its part.
    pub offset: u64,
    /// Size of the resource once decompressed.
    pub uncompressed_size: u64,
}

impl ResourceHeader {
    /// Parses the 24 bytes of a resource header.
    pub fn parse(b: &[u8; RESHDR_SIZE]) -> ResourceHeader {
        let mut size = [0u8; 8];
        size[..7].copy_from_slice(&b[..7]);
        ResourceHeader {
            stored_size: u64::from_le_bytes(size),
            flags: b[7],
            offset: le_u64(&b[8..16]),
            uncompressed_size: le_u64(&b[16..24]),
        }
    }

    /// The resource header as stored.
    pub fn to_bytes(&self) -> [u8; RESHDR_SIZE] {
        let mut b = [0u8; RESHDR_SIZE];
        b[..7].copy_from_slice(&self.stored_size.to_le_bytes()[..7]);
        b[7] = self.flags;
        put_u64(&mut b[8..16], self.offset);
        put_u64(&mut b[16..24], self.uncompressed_size);
        b
    }

    /// Whether the resource is stored as compressed chunks.
    pub fn is_compressed(&self) -> bool {
        self.flags & flags::COMPRESSED != 0
    }

    /// Whether the resource is (part of) a solid resource.
    pub fn is_solid(&self) -> bool {
        self.flags & flags::SOLID != 0
    }

    /// Whether the resource is an image's metadata.
    pub fn is_metadata(&self) -> bool {
        self.flags & flags::METADATA != 0
    }

    /// Whether all fields are zero (the header names no resource).
    pub fn is_zero(&self) -> bool {
        *self == ResourceHeader::default()
    }

    /// The first byte past the resource.
    pub fn end(&self) -> Option<u64> {
        self.offset.checked_add(self.stored_size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_field_positions() {
        let cases = [
            ResourceHeader {
                stored_size: 0,
                flags: 0,
                offset: 0,
                uncompressed_size: 0,
            },
            ResourceHeader {
                stored_size: 250,
                flags: 2,
                offset: 1766,
                uncompressed_size: 250,
            },
            ResourceHeader {
                stored_size: (1 << 56) - 1,
                flags: flags::COMPRESSED | flags::SPANNED,
                offset: u64::MAX,
                uncompressed_size: 1 << 40,
            },
        ];
        for h in cases {
            let b = h.to_bytes();
            assert_eq!(ResourceHeader::parse(&b), h);
            assert_eq!(b[7], h.flags);
        }
        // Bytes taken from a wimlib-written WIM: blob table of 250 bytes at 1766.
        let raw: [u8; 24] = [
            0xfa, 0, 0, 0, 0, 0, 0, 0x02, 0xe6, 0x06, 0, 0, 0, 0, 0, 0, 0xfa, 0, 0, 0, 0, 0, 0, 0,
        ];
        let h = ResourceHeader::parse(&raw);
        assert_eq!(
            (h.stored_size, h.flags, h.offset, h.uncompressed_size),
            (250, 2, 1766, 250)
        );
    }
}
