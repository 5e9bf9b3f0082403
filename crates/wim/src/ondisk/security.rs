//! Security data at the start of a metadata resource: `u32 total length` (8-aligned), `u32 count`,
//! `u64 sizes[count]`, then the self-relative SECURITY_DESCRIPTORs that dentries refer to by index.

use crate::bytes::{align8, le_u32, le_u64, put_u32};
use crate::error::{Error, MetadataFault, Result};

/// An image's security descriptors, which dentries refer to by index.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecurityData {
    /// Self-relative SECURITY_DESCRIPTORs, kept as bytes.
    pub descriptors: Vec<Vec<u8>>,
}

impl SecurityData {
    /// Parses the security data; returns it and the offset of the root dentry.
    pub fn parse(data: &[u8], image: u32) -> Result<(SecurityData, usize)> {
        let bad = |offset: u64, reason: MetadataFault| Error::BadMetadata {
            image,
            offset,
            reason,
        };
        if data.len() < 8 {
            return Err(bad(0, MetadataFault::SecurityHeaderShort));
        }
        let total = le_u32(data) as u64;
        let count = le_u32(&data[4..]) as u64;
        let total = total.max(8);
        if total > data.len() as u64 || 8 + count.saturating_mul(8) > total {
            return Err(bad(0, MetadataFault::SecurityDataFit { total, count }));
        }
        let mut descriptors = Vec::with_capacity(count as usize);
        let mut pos = 8 + count * 8;
        for i in 0..count as usize {
            let size = le_u64(&data[8 + i * 8..]);
            let end = pos
                .checked_add(size)
                .filter(|&e| e <= total)
                .ok_or_else(|| {
                    bad(
                        8 + i as u64 * 8,
                        MetadataFault::DescriptorPastEnd { index: i, size },
                    )
                })?;
            descriptors.push(data[pos as usize..end as usize].to_vec());
            pos = end;
        }
        Ok((SecurityData { descriptors }, align8(total) as usize))
    }

    /// Appends the security data as stored, padded to 8 bytes, to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        let start = out.len();
        let body: u64 = self.descriptors.iter().map(|d| d.len() as u64).sum();
        let total = 8 + 8 * self.descriptors.len() as u64 + body;
        out.extend_from_slice(&[0u8; 8]);
        put_u32(&mut out[start..], align8(total) as u32);
        put_u32(&mut out[start + 4..], self.descriptors.len() as u32);
        for d in &self.descriptors {
            out.extend_from_slice(&(d.len() as u64).to_le_bytes());
        }
        for d in &self.descriptors {
            out.extend_from_slice(d);
        }
        out.resize(start + align8(total) as usize, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for descs in [
            vec![],
            vec![vec![1u8, 2, 3]],
            vec![vec![9u8; 20], vec![7u8; 1]],
        ] {
            let s = SecurityData { descriptors: descs };
            let mut v = Vec::new();
            s.write(&mut v);
            assert_eq!(v.len() % 8, 0);
            let (p, root) = SecurityData::parse(&v, 1).expect("valid");
            assert_eq!(p, s);
            assert_eq!(root, v.len());
        }
    }

    #[test]
    fn rejects_overlong_entries() {
        let mut v = vec![0u8; 24];
        put_u32(&mut v, 24);
        put_u32(&mut v[4..], 1);
        v[8] = 200; // one descriptor of 200 bytes in 24
        assert!(SecurityData::parse(&v, 1).is_err());
        put_u32(&mut v[4..], 1000); // 1000 sizes cannot fit
        assert!(SecurityData::parse(&v, 1).is_err());
    }
}
