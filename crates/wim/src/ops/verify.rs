//! Verify: the integrity table, every blob's SHA-1 and each image's metadata checked.

use super::load_image;
use crate::error::{Error, Result};
use crate::header::{self, HEADER_SIZE};
use crate::integrity;
use crate::read::Wim;
use crate::read::stream::{Piece, StreamOptions, stream_blobs};
use crate::sha1::Sha1;

/// What `verify` checked.
#[derive(Clone, Debug, Default)]
pub struct VerifyReport {
    /// Whether an integrity table was found and checked.
    pub integrity_checked: bool,
    /// Blobs read and whose SHA-1 matched.
    pub blobs: u64,
    /// Uncompressed bytes of those blobs.
    pub bytes: u64,
    /// Images whose metadata parsed and whose blobs are all present.
    pub images: u32,
    /// Dentries walked, over all images.
    pub dentries: u64,
}

/// Checks the integrity tables of the WIM's parts that have one (SHA-1 of every 10 MiB of the
/// file up to the blob table: any change to the stored bytes); returns how many parts had one.
pub fn check_integrity(wim: &Wim) -> Result<usize> {
    let mut checked = 0;
    for part in &wim.parts {
        let h = {
            let mut b = [0u8; HEADER_SIZE];
            part.read_at(0, &mut b)?;
            header::Header::parse(&b)?
        };
        if h.integrity.is_zero() {
            continue;
        }
        let mut t = vec![0u8; h.integrity.stored_size.min(part.len) as usize];
        part.read_at(h.integrity.offset, &mut t)?;
        let end = h.blob_table.end().ok_or(Error::BlobTableEnd {
            offset: h.blob_table.offset,
            size: h.blob_table.stored_size,
        })?;
        integrity::verify(part, &t, end)?;
        checked += 1;
    }
    Ok(checked)
}

/// Checks the integrity table (when present), every blob's SHA-1 and each image's metadata.
pub fn verify(wim: &Wim, progress: &dyn crate::write::Progress) -> Result<VerifyReport> {
    wim.check_parts()?;
    let mut report = VerifyReport {
        integrity_checked: check_integrity(wim)? > 0,
        ..VerifyReport::default()
    };
    // Saturating: the sizes are whatever the blob table claims.
    let total = wim
        .blobs
        .values()
        .fold(0u64, |t, l| t.saturating_add(l.size()));
    progress.begin("verify", Some(total));
    let mut locs: Vec<_> = wim.blobs.values().collect();
    locs.sort_by_key(|l| (l.part, l.entry.resource.offset));
    // In file order, decompressed on all cores; the stream checks each SHA-1.
    let hashes: Vec<Sha1> = locs.iter().map(|l| l.entry.sha1).collect();
    stream_blobs(wim, &hashes, StreamOptions::default(), |_, piece| {
        match piece {
            Piece::Data(d) => {
                progress.advance(d.len() as u64);
                report.bytes += d.len() as u64;
            }
            Piece::End => report.blobs += 1,
        }
        Ok(())
    })
    .map_err(|e| e.error)?;
    for i in 1..=wim.image_count() {
        let img = load_image(wim, i)?;
        let mut missing = None;
        let mut unsafe_name = None;
        img.root.walk(&mut |stack, d| {
            report.dentries += 1;
            // Names apply would refuse: the WIM is hostile even if every hash matches.
            let reason = if stack.is_empty() {
                None
            } else {
                crate::apply::traversal_reason(&d.name)
            };
            if let (Some(reason), true) = (reason, unsafe_name.is_none()) {
                let path: String = stack
                    .iter()
                    .skip(1)
                    .chain([&d])
                    .map(|p| format!("/{}", p.name_lossy()))
                    .collect();
                unsafe_name = Some(Error::Unsafe {
                    path: format!("image {i}: {path}"),
                    reason: reason.into(),
                });
            }
            for h in d.blobs() {
                if !wim.blobs.contains_key(&h) {
                    missing = Some(h);
                }
            }
        });
        if let Some(e) = unsafe_name {
            return Err(e);
        }
        if let Some(h) = missing {
            return Err(Error::MissingBlob {
                sha1: h,
                user: Some(format!("referenced by image {i}")),
            });
        }
        report.images += 1;
    }
    Ok(report)
}
