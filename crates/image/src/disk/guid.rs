//! GUIDs as GPT stores them, their seeded generation, and the CRC-32 GPT uses.

use std::fmt;

/// A GUID in its on-disk form: the first three fields little-endian (UEFI 2.10 Appendix A).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Guid(pub [u8; 16]);

impl Guid {
    /// The EFI System Partition type, C12A7328-F81F-11D2-BA4B-00A0C93EC93B.
    pub const EFI_SYSTEM: Guid = Guid::from_fields(
        0xC12A_7328,
        0xF81F,
        0x11D2,
        [0xBA, 0x4B, 0x00, 0xA0, 0xC9, 0x3E, 0xC9, 0x3B],
    );
    /// Microsoft basic data, EBD0A0A2-B9E5-4433-87C0-68B6B72699C7.
    pub const BASIC_DATA: Guid = Guid::from_fields(
        0xEBD0_A0A2,
        0xB9E5,
        0x4433,
        [0x87, 0xC0, 0x68, 0xB6, 0xB7, 0x26, 0x99, 0xC7],
    );

    /// A GUID from its four textual fields.
    pub const fn from_fields(d1: u32, d2: u16, d3: u16, d4: [u8; 8]) -> Guid {
        let a = d1.to_le_bytes();
        let b = d2.to_le_bytes();
        let c = d3.to_le_bytes();
        Guid([
            a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d4[0], d4[1], d4[2], d4[3], d4[4],
            d4[5], d4[6], d4[7],
        ])
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:08X}-{:04X}-{:04X}-{:02X}{:02X}-",
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            u16::from_le_bytes([b[4], b[5]]),
            u16::from_le_bytes([b[6], b[7]]),
            b[8],
            b[9]
        )?;
        b[10..].iter().try_for_each(|x| write!(f, "{x:02X}"))
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Generates version-4-shaped GUIDs and disk signatures from a 64-bit seed (SplitMix64), so
/// that a seeded image is reproducible.
#[derive(Debug, Clone)]
pub struct GuidGenerator {
    state: u64,
}

impl GuidGenerator {
    /// A generator whose output depends only on `seed`.
    pub fn seeded(seed: u64) -> Self {
        GuidGenerator { state: seed }
    }

    /// A generator seeded from the process's random hasher keys (not reproducible).
    pub fn random() -> Self {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        GuidGenerator::seeded(h.finish())
    }

    /// The next 64 pseudo-random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// The next GUID (RFC 9562 version 4 and variant bits set).
    pub fn next_guid(&mut self) -> Guid {
        let hi = self.next_u64();
        let lo = self.next_u64().to_be_bytes();
        let mut d4 = lo;
        d4[0] = (d4[0] & 0x3F) | 0x80;
        Guid::from_fields(
            (hi >> 32) as u32,
            (hi >> 16) as u16,
            (hi as u16 & 0x0FFF) | 0x4000,
            d4,
        )
    }
}

/// CRC-32 (IEEE 802.3, reflected, as GPT headers and entry arrays use).
pub fn crc32(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            table[i] = c;
            i += 1;
        }
        table
    };
    !data.iter().fold(!0u32, |c, &b| {
        TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn known_guid_bytes_and_text() {
        assert_eq!(
            Guid::EFI_SYSTEM.0,
            [
                0x28, 0x73, 0x2A, 0xC1, 0x1F, 0xF8, 0xD2, 0x11, 0xBA, 0x4B, 0x00, 0xA0, 0xC9, 0x3E,
                0xC9, 0x3B
            ]
        );
        assert_eq!(
            Guid::BASIC_DATA.to_string(),
            "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"
        );
    }

    #[test]
    fn seeded_guids_repeat_and_differ() {
        let a: Vec<Guid> = {
            let mut g = GuidGenerator::seeded(7);
            (0..3).map(|_| g.next_guid()).collect()
        };
        let mut g = GuidGenerator::seeded(7);
        assert_eq!(a, (0..3).map(|_| g.next_guid()).collect::<Vec<_>>());
        assert_ne!(a[0], a[1]);
        assert_ne!(GuidGenerator::seeded(8).next_guid(), a[0]);
        let text = a[0].to_string();
        assert_eq!(&text[14..15], "4");
        assert!("89AB".contains(&text[19..20]));
    }
}
