//! Copying an image's blobs from one WIM into a writer: verbatim when the stored form can be
//! kept, else decompressed on worker threads ([`crate::read::stream`]) and compressed again.
//!
//! Decompressing through the streaming reader matters for solid sources: a solid chunk (64 MiB
//! in ESD files) holds many blobs and is decoded once for all of them, where opening each blob
//! on its own would decode the chunk again for every blob. For a solid destination the blobs
//! go in wimlib's solid order ([`crate::solid_order`]), each named after a file that holds it.

use crate::dentry::Dentry;
use crate::error::{Error, Result};
use crate::read::stream::{Piece, StreamOptions, stream_blobs};
use crate::read::{BlobLocation, Wim};
use crate::sha1::Sha1;
use crate::write::WimWriter;
use crossbeam_channel::{Receiver, bounded};
use std::collections::{HashMap, HashSet};
use std::io::Read;

/// Copies every blob `root`'s tree refers to and `w` lacks.
pub(crate) fn copy_blobs_of(src: &Wim, root: &Dentry, w: &mut WimWriter) -> Result<()> {
    let mut hashes: Vec<Sha1> = Vec::new();
    let mut names: HashMap<Sha1, Vec<u16>> = HashMap::new();
    root.walk(&mut |_, d| {
        hashes.extend(d.blobs());
        if !d.data.is_zero() && !d.is_dir() {
            names.entry(d.data).or_insert_with(|| d.name.clone());
        }
    });
    let mut seen = HashSet::new();
    let mut locs: Vec<&BlobLocation> = Vec::with_capacity(hashes.len());
    for h in hashes {
        if w.has_blob(&h) || !seen.insert(h) {
            continue;
        }
        let loc = src.blobs.get(&h).ok_or(Error::MissingBlob {
            sha1: h,
            user: None,
        })?;
        locs.push(loc);
    }
    // In file order, so the source is read sequentially.
    locs.sort_by_key(|l| (l.part, l.entry.resource.offset));
    if w.solid_sort() {
        crate::solid_order::sort_by_name(&mut locs, |l| names.get(&l.entry.sha1).map(|n| &n[..]));
    }
    let (verbatim, decode): (Vec<&BlobLocation>, Vec<&BlobLocation>) =
        locs.into_iter().partition(|l| w.copies_verbatim(src, l));
    for loc in verbatim {
        w.copy_blob(src, loc)?;
    }
    if decode.is_empty() {
        return Ok(());
    }
    w.expect_solid(decode.iter().map(|l| l.size()).sum());
    recompress(src, &decode, w)
}

/// A message from the decoding thread: bytes of the current blob, or its end.
enum Msg {
    Data(Vec<u8>),
    End,
}

/// Decodes `locs` in order on worker threads and writes each into `w`.
fn recompress(src: &Wim, locs: &[&BlobLocation], w: &mut WimWriter) -> Result<()> {
    let hashes: Vec<Sha1> = locs.iter().map(|l| l.entry.sha1).collect();
    let (tx, rx) = bounded::<Msg>(64);
    let what = src.parts[0].path.clone();
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            stream_blobs(src, &hashes, StreamOptions::default(), |_, piece| {
                let msg = match piece {
                    Piece::Data(b) => Msg::Data(b.to_vec()),
                    Piece::End => Msg::End,
                };
                // The writer stopped (it failed): stop decoding too.
                tx.send(msg).map_err(|_| Error::Cancelled)
            })
        });
        let mut written = Ok(());
        for l in locs {
            let mut r = ChannelReader {
                rx: &rx,
                cur: Vec::new(),
                pos: 0,
                ended: false,
            };
            written = w
                .write_blob(&mut r, l.size(), Some(l.entry.sha1), &what)
                .map(|_| ());
            // A blob the writer did not read (empty) still ends in the stream.
            if written.is_ok() && !r.ended {
                written = std::io::copy(&mut r, &mut std::io::sink())
                    .map(|_| ())
                    .map_err(|e| Error::Io {
                        path: what.clone(),
                        source: e,
                    });
            }
            if written.is_err() {
                break;
            }
        }
        drop(rx);
        let streamed = reader
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        // The decoder's own failure explains a writer that ran out of data.
        match streamed {
            Err(e) if !matches!(e.error, Error::Cancelled) => Err(e.error),
            _ => written,
        }
    })
}

/// One blob's bytes as they arrive from the decoding thread.
struct ChannelReader<'a> {
    rx: &'a Receiver<Msg>,
    cur: Vec<u8>,
    pos: usize,
    ended: bool,
}

impl Read for ChannelReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.cur.len() {
            if self.ended {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Msg::Data(d)) => {
                    self.cur = d;
                    self.pos = 0;
                }
                Ok(Msg::End) => self.ended = true,
                Err(_) => {
                    return Err(std::io::Error::other(
                        "the source stopped before the blob's end",
                    ));
                }
            }
        }
        let n = buf.len().min(self.cur.len() - self.pos);
        buf[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
