//! The 208-byte WIM header.

use crate::bytes::{le_u16, le_u32, put_u16, put_u32};
use crate::error::{Error, Result};
use crate::resource::{RESHDR_SIZE, ResourceHeader};
use tsmedia_codecs::Format;

/// Size of the header at offset 0 of every WIM file.
pub const HEADER_SIZE: usize = 208;
/// The magic at offset 0.
pub const MAGIC: [u8; 8] = *b"MSWIM\0\0\0";
/// wimlib's non-standard pipable WIMs.
pub const PIPABLE_MAGIC: [u8; 8] = *b"WLPWM\0\0\0";
/// The version of WIMs without solid resources.
pub const VERSION_DEFAULT: u32 = 0x10D00;
/// The version of WIMs with solid resources (LZMS).
pub const VERSION_SOLID: u32 = 0xE00;

/// Header flag bits.
pub mod flags {
    /// Resources may be compressed; one COMPRESS_* bit says how.
    pub const COMPRESSION: u32 = 0x2;
    /// The WIM must not be changed.
    pub const READONLY: u32 = 0x4;
    /// One part of a split WIM.
    pub const SPANNED: u32 = 0x8;
    /// Only file resources, no metadata (not written by us).
    pub const RESOURCE_ONLY: u32 = 0x10;
    /// Only metadata, no file resources (not written by us).
    pub const METADATA_ONLY: u32 = 0x20;
    /// Set while a writer works on the file; a complete WIM has it clear.
    pub const WRITE_IN_PROGRESS: u32 = 0x40;
    /// Absolute symlink targets were made relative to the image root at capture.
    pub const RP_FIX: u32 = 0x80;
    /// Reserved compression bit.
    pub const COMPRESS_RESERVED: u32 = 0x10000;
    /// XPRESS (LZ77 + Huffman) compression.
    pub const COMPRESS_XPRESS: u32 = 0x20000;
    /// LZX compression.
    pub const COMPRESS_LZX: u32 = 0x40000;
    /// LZMS compression (solid WIMs).
    pub const COMPRESS_LZMS: u32 = 0x80000;
    /// XPRESS with chunk sizes other than 32 KiB (as wimlib writes them).
    pub const COMPRESS_XPRESS2: u32 = 0x200000;
}

/// A parsed WIM header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Format version: [`VERSION_DEFAULT`] or [`VERSION_SOLID`].
    pub version: u32,
    /// Header flag bits ([`flags`]).
    pub flags: u32,
    /// Chunk size of non-solid compressed resources (0 when uncompressed).
    pub chunk_size: u32,
    /// Identifies the WIM; the parts of a split WIM share it.
    pub guid: [u8; 16],
    /// 1-based number of this part.
    pub part_number: u16,
    /// Number of parts (1 for a WIM that is not split).
    pub total_parts: u16,
    /// Number of images.
    pub image_count: u32,
    /// Where the blob table is.
    pub blob_table: ResourceHeader,
    /// Where the XML data is.
    pub xml_data: ResourceHeader,
    /// Where the bootable image's metadata resource is (zero for none).
    pub boot_metadata: ResourceHeader,
    /// 1-based index of the bootable image, 0 for none.
    pub boot_index: u32,
    /// Where the integrity table is (zero for none).
    pub integrity: ResourceHeader,
    /// A wimlib pipable WIM (`WLPWM` magic; layout in `docs/wim-format.md`).
    pub pipable: bool,
}

impl Header {
    /// A header for a new, uncompressed, single-part WIM.
    pub fn new(guid: [u8; 16], compression: Option<Format>, chunk_size: u32) -> Header {
        let mut h = Header {
            version: VERSION_DEFAULT,
            flags: 0,
            chunk_size: 0,
            guid,
            part_number: 1,
            total_parts: 1,
            image_count: 0,
            blob_table: ResourceHeader::default(),
            xml_data: ResourceHeader::default(),
            boot_metadata: ResourceHeader::default(),
            boot_index: 0,
            integrity: ResourceHeader::default(),
            pipable: false,
        };
        if let Some(format) = compression {
            h.flags |= flags::COMPRESSION | compression_flag(format);
            h.chunk_size = chunk_size;
        }
        h
    }

    /// Parses and checks the header at the start of `b`.
    pub fn parse(b: &[u8]) -> Result<Header> {
        if b.len() < HEADER_SIZE {
            return Err(Error::TooShort {
                len: b.len() as u64,
            });
        }
        let magic: [u8; 8] = b[..8]
            .try_into()
            .expect("slice of 8 because length checked");
        if magic != MAGIC && magic != PIPABLE_MAGIC {
            return Err(Error::NotWim { found: magic });
        }
        let hdr_size = le_u32(&b[8..]);
        if hdr_size as usize != HEADER_SIZE {
            return Err(Error::HeaderSize { found: hdr_size });
        }
        let reshdr = |off: usize| {
            ResourceHeader::parse(b[off..off + RESHDR_SIZE].try_into().expect("24-byte slice"))
        };
        let h = Header {
            version: le_u32(&b[0x0C..]),
            flags: le_u32(&b[0x10..]),
            chunk_size: le_u32(&b[0x14..]),
            guid: b[0x18..0x28].try_into().expect("16-byte slice"),
            part_number: le_u16(&b[0x28..]),
            total_parts: le_u16(&b[0x2A..]),
            image_count: le_u32(&b[0x2C..]),
            blob_table: reshdr(0x30),
            xml_data: reshdr(0x48),
            boot_metadata: reshdr(0x60),
            boot_index: le_u32(&b[0x78..]),
            integrity: reshdr(0x7C),
            pipable: magic == PIPABLE_MAGIC,
        };
        if h.version != VERSION_DEFAULT && h.version != VERSION_SOLID {
            return Err(Error::UnsupportedVersion { version: h.version });
        }
        if h.part_number == 0 || h.total_parts == 0 || h.part_number > h.total_parts {
            return Err(Error::PartNumber {
                part: h.part_number,
                total: h.total_parts,
            });
        }
        if h.boot_index > h.image_count {
            return Err(Error::BootIndex {
                boot_index: h.boot_index,
                images: h.image_count,
            });
        }
        h.compression()?;
        Ok(h)
    }

    /// The header as stored, 208 bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_SIZE] {
        let mut b = [0u8; HEADER_SIZE];
        b[..8].copy_from_slice(if self.pipable { &PIPABLE_MAGIC } else { &MAGIC });
        put_u32(&mut b[0x08..], HEADER_SIZE as u32);
        put_u32(&mut b[0x0C..], self.version);
        put_u32(&mut b[0x10..], self.flags);
        put_u32(&mut b[0x14..], self.chunk_size);
        b[0x18..0x28].copy_from_slice(&self.guid);
        put_u16(&mut b[0x28..], self.part_number);
        put_u16(&mut b[0x2A..], self.total_parts);
        put_u32(&mut b[0x2C..], self.image_count);
        b[0x30..0x48].copy_from_slice(&self.blob_table.to_bytes());
        b[0x48..0x60].copy_from_slice(&self.xml_data.to_bytes());
        b[0x60..0x78].copy_from_slice(&self.boot_metadata.to_bytes());
        put_u32(&mut b[0x78..], self.boot_index);
        b[0x7C..0x94].copy_from_slice(&self.integrity.to_bytes());
        b
    }

    /// The compression format of non-solid resources, from the flags.
    pub fn compression(&self) -> Result<Option<Format>> {
        if self.flags & flags::COMPRESSION == 0 {
            return Ok(None);
        }
        let kinds = [
            (flags::COMPRESS_XPRESS, Format::Xpress),
            (flags::COMPRESS_LZX, Format::Lzx),
            (flags::COMPRESS_LZMS, Format::Lzms),
        ];
        let set: Vec<Format> = kinds
            .iter()
            .filter(|(bit, _)| self.flags & bit != 0)
            .map(|&(_, f)| f)
            .collect();
        match set.as_slice() {
            [one] => Ok(Some(*one)),
            _ => Err(Error::CompressionFlags {
                flags: self.flags,
                count: set.len(),
            }),
        }
    }

    /// Whether this is one part of a split WIM.
    pub fn is_spanned(&self) -> bool {
        self.flags & flags::SPANNED != 0
    }
}

/// The header flag naming a compression format.
pub fn compression_flag(format: Format) -> u32 {
    match format {
        Format::Xpress => flags::COMPRESS_XPRESS,
        Format::Lzx => flags::COMPRESS_LZX,
        _ => flags::COMPRESS_LZMS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut h = Header::new([7; 16], Some(Format::Xpress), 32768);
        h.image_count = 3;
        h.boot_index = 2;
        h.blob_table = ResourceHeader {
            stored_size: 50,
            flags: 2,
            offset: 1000,
            uncompressed_size: 50,
        };
        let b = h.to_bytes();
        assert_eq!(&b[..8], b"MSWIM\0\0\0");
        assert_eq!(
            le_u32(&b[0x10..]),
            flags::COMPRESSION | flags::COMPRESS_XPRESS
        );
        assert_eq!(Header::parse(&b).expect("valid"), h);
        assert_eq!(h.compression().expect("valid"), Some(Format::Xpress));
    }

    #[test]
    fn rejects_bad_headers() {
        let good = Header::new([1; 16], None, 0).to_bytes();
        let cases: [(usize, u8, &str); 4] = [
            (0, b'X', "magic"),
            (0x08, 0x10, "header size"),
            (0x28, 5, "part"),
            (0x78, 9, "boot index"),
        ];
        for (off, val, what) in cases {
            let mut b = good;
            b[off] = val;
            assert!(Header::parse(&b).is_err(), "{what} accepted");
        }
        assert!(Header::parse(&good[..100]).is_err());
        let mut both = good;
        put_u32(
            &mut both[0x10..],
            flags::COMPRESSION | flags::COMPRESS_LZX | flags::COMPRESS_XPRESS,
        );
        assert!(Header::parse(&both).is_err());
    }

    #[test]
    fn pipable_magic() {
        let mut h = Header::new([2; 16], Some(Format::Lzx), 32768);
        h.pipable = true;
        let b = h.to_bytes();
        assert_eq!(&b[..8], b"WLPWM\0\0\0");
        assert_eq!(Header::parse(&b).expect("valid"), h);
    }
}
