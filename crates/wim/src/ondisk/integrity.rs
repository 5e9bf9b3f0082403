//! The integrity table: `u32 size | u32 count | u32 chunk size | count × SHA-1` over the bytes from
//! the end of the header to the end of the blob table, in chunks (10 MiB by default).

use crate::bytes::{le_u32, put_u32};
use crate::error::{Error, ResourceFault, Result};
use crate::header::HEADER_SIZE;
use crate::read::chunks::PartFile;
use crate::sha1::Sha1;

/// The chunk size Microsoft and wimlib use: 10 MiB.
pub const DEFAULT_CHUNK: u32 = 10 * 1024 * 1024;

/// Computes the table for `file[208..end)`.
pub fn compute(file: &PartFile, end: u64, chunk: u32) -> Result<Vec<u8>> {
    let hashes = hash_chunks(file, end, chunk)?;
    let mut out = vec![0u8; 12];
    put_u32(&mut out, (12 + hashes.len() * 20) as u32);
    put_u32(&mut out[4..], hashes.len() as u32);
    put_u32(&mut out[8..], chunk);
    for h in hashes {
        out.extend_from_slice(&h.0);
    }
    Ok(out)
}

fn hash_chunks(file: &PartFile, end: u64, chunk: u32) -> Result<Vec<Sha1>> {
    let start = HEADER_SIZE as u64;
    let mut hashes = Vec::new();
    // Not more than the range: a hostile table may claim 4 GiB chunks.
    let mut buf = vec![0u8; u64::from(chunk).min(end.saturating_sub(start)) as usize];
    let mut pos = start;
    while pos < end {
        let n = (end - pos).min(u64::from(chunk)) as usize;
        file.read_at(pos, &mut buf[..n])?;
        hashes.push(Sha1::of(&buf[..n]));
        pos += n as u64;
    }
    Ok(hashes)
}

/// Checks the table `table` against `file[208..end)`.
pub fn verify(file: &PartFile, table: &[u8], end: u64) -> Result<()> {
    let bad = |reason: ResourceFault| Error::BadResource {
        offset: end,
        reason,
    };
    if table.len() < 12 {
        return Err(bad(ResourceFault::IntegrityHeaderShort));
    }
    let count = le_u32(&table[4..]) as usize;
    let chunk = le_u32(&table[8..]);
    if chunk == 0 || table.len() < 12 + count * 20 {
        return Err(bad(ResourceFault::IntegritySize));
    }
    let expected = (end.saturating_sub(HEADER_SIZE as u64)).div_ceil(u64::from(chunk));
    if expected != count as u64 {
        return Err(bad(ResourceFault::IntegrityCount {
            entries: count,
            chunks: expected,
        }));
    }
    let hashes = hash_chunks(file, end, chunk)?;
    for (i, h) in hashes.iter().enumerate() {
        if h.0 != table[12 + i * 20..32 + i * 20] {
            let s = HEADER_SIZE as u64 + i as u64 * u64::from(chunk);
            return Err(Error::Integrity {
                chunk: i as u32,
                start: s,
                end: (s + u64::from(chunk)).min(end),
            });
        }
    }
    Ok(())
}
