//! Streaming a file's content: its cluster chain followed as the caller reads, runs of
//! consecutive clusters read in one request, and the chain checked against the size (it
//! must end exactly at the last cluster the size needs: a shorter chain, a longer one or a
//! loop is an error).

use std::collections::HashSet;
use std::io::{self, Read, Seek};

use super::read::FatVolume;
use super::read_dir::DirEntry;
use super::read_error::{ReadError, ReadResult};

/// A reader of one file's bytes (from [`FatVolume::open_file`]).
pub struct FatFile<'a, R> {
    volume: &'a mut FatVolume<R>,
    /// For errors.
    path: String,
    /// The cluster holding the next byte (or the one just finished, see `in_cluster`).
    cluster: u32,
    /// Bytes of `cluster` already read (may equal the cluster size).
    in_cluster: u64,
    remaining: u64,
    /// Clusters entered so far and clusters the size needs.
    clusters: u64,
    needed: u64,
    /// Clusters reached by a jump (not from the cluster before them): a loop must come back
    /// to one of them, so the second visit is reported.
    jumps: HashSet<u32>,
}

impl<R> std::fmt::Debug for FatFile<'_, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FatFile")
            .field("path", &self.path)
            .field("remaining", &self.remaining)
            .finish()
    }
}

impl<R: Read + Seek> FatVolume<R> {
    /// Opens a file entry for reading. `path` names it in errors.
    pub fn open_file(&mut self, entry: &DirEntry, path: &str) -> ReadResult<FatFile<'_, R>> {
        if entry.is_dir() {
            return Err(ReadError::WrongKind {
                path: path.into(),
                expected: "a file",
                actual: "a directory",
            });
        }
        let size = u64::from(entry.size);
        let cb = u64::from(self.bpb.cluster_bytes());
        if size > 0 {
            self.check_cluster(entry.first_cluster, path)?;
        }
        let needed = size.div_ceil(cb);
        if needed > u64::from(self.bpb.cluster_count) {
            return Err(ReadError::ChainTooShort {
                what: path.into(),
                clusters: u64::from(self.bpb.cluster_count),
                needed,
            });
        }
        Ok(FatFile {
            volume: self,
            path: path.into(),
            cluster: entry.first_cluster,
            in_cluster: 0,
            remaining: size,
            clusters: u64::from(size > 0),
            needed,
            jumps: HashSet::from([entry.first_cluster]),
        })
    }

    /// Reads a whole file found by path into memory, refusing files over `max` bytes.
    pub fn read_file(&mut self, path: &str, max: u64) -> ReadResult<Vec<u8>> {
        let entry = self
            .find(path)?
            .ok_or_else(|| ReadError::NotFound { path: path.into() })?;
        if u64::from(entry.size) > max {
            return Err(ReadError::Io {
                offset: 0,
                source: io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{path:?} is {} bytes; at most {max} are read whole",
                        entry.size
                    ),
                ),
            });
        }
        let mut out = Vec::with_capacity(entry.size as usize);
        self.open_file(&entry, path)?
            .read_to_end(&mut out)
            .map_err(|e| match e.downcast::<ReadError>() {
                Ok(r) => r,
                Err(e) => ReadError::Io {
                    offset: 0,
                    source: e,
                },
            })?;
        Ok(out)
    }
}

impl<R: Read + Seek> FatFile<'_, R> {
    /// Bytes not read yet.
    pub fn remaining(&self) -> u64 {
        self.remaining
    }

    /// Reads the next bytes (0 at the end), with the reader's own error.
    pub fn read_some(&mut self, buf: &mut [u8]) -> ReadResult<usize> {
        if self.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let cb = u64::from(self.volume.bpb.cluster_bytes());
        if self.in_cluster == cb {
            let next = self.volume.follow(self.cluster, &self.path)?;
            let Some(next) = next else {
                return Err(ReadError::ChainTooShort {
                    what: self.path.clone(),
                    clusters: self.clusters,
                    needed: self.needed,
                });
            };
            if u64::from(next) != u64::from(self.cluster) + 1 && !self.jumps.insert(next) {
                return Err(ReadError::ChainLoop {
                    what: self.path.clone(),
                    cluster: next,
                });
            }
            self.cluster = next;
            self.in_cluster = 0;
            self.clusters += 1;
        }
        // Extend over consecutive clusters as far as the buffer and the file go.
        let want = (buf.len() as u64).min(self.remaining);
        let start = self.cluster;
        let mut last = start;
        let mut avail = cb - self.in_cluster;
        let mut entered = 0u64;
        while avail < want {
            match self.volume.next(last)? {
                super::read::Next::Cluster(c)
                    if u64::from(c) == u64::from(last) + 1
                        && self.volume.bpb.is_data_cluster(c) =>
                {
                    if self.clusters + entered >= self.needed {
                        break; // the long-chain check below reports it
                    }
                    last = c;
                    avail += cb;
                    entered += 1;
                }
                _ => break,
            }
        }
        let n = want.min(avail);
        let pos = self.volume.bpb.cluster_offset(start) + self.in_cluster;
        self.volume.read_at(pos, &mut buf[..n as usize])?;
        let done = self.in_cluster + n;
        let whole = done.div_ceil(cb).max(1) - 1;
        self.cluster = start + whole as u32;
        self.in_cluster = done - whole * cb;
        self.clusters += whole;
        self.remaining -= n;
        if self.remaining == 0 && self.volume.follow(self.cluster, &self.path)?.is_some() {
            return Err(ReadError::ChainTooLong {
                what: self.path.clone(),
                clusters: self.needed,
            });
        }
        Ok(n as usize)
    }
}

impl<R: Read + Seek> Read for FatFile<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_some(buf).map_err(io::Error::from)
    }
}
