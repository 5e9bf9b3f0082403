//! A small ISO 9660 reader over the Joliet tree (ECMA-119 §8.4, §9.1; Joliet: UCS-2 big-endian
//! names in the supplementary volume descriptor), beside the writer so that what the writer
//! lays out is read back by the same crate. Enough for the media builder's `inspect` to find
//! files by path, read small ones and walk the tree, and for the boot-time runtime to stream
//! files out of ISO media; not a general ISO library (files over 4 GiB, held only in the UDF
//! bridge, are not read; Rock Ridge and the primary tree's 8.3 names are ignored).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Result of [`IsoReader`]'s operations.
pub type ReadResult<T, E = ReadError> = std::result::Result<T, E>;

/// What went wrong reading an ISO image; each names the image.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The image could not be opened or read.
    #[error("{}", .path.display())]
    Io {
        /// The image.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The image is not an ISO this reader understands, or is damaged.
    #[error("{}: {reason}", .path.display())]
    Invalid {
        /// The image.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

trait At<T> {
    fn at(self, path: &Path) -> ReadResult<T>;
}

impl<T> At<T> for std::io::Result<T> {
    fn at(self, path: &Path) -> ReadResult<T> {
        self.map_err(|source| ReadError::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

const SECTOR: u64 = 2048;

/// An opened ISO image.
pub struct IsoReader {
    file: File,
    path: PathBuf,
    root: (u32, u32),
    /// Volume label from the primary volume descriptor.
    pub label: String,
    /// El Torito boot catalog present.
    pub el_torito: bool,
}

/// One directory entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Joliet name, without the `;1` version.
    pub name: String,
    /// First sector of the extent.
    pub lba: u32,
    /// Length in bytes.
    pub size: u32,
    /// Whether it is a directory.
    pub is_dir: bool,
}

impl IsoReader {
    /// Opens an ISO and finds its Joliet root.
    pub fn open(path: &Path) -> ReadResult<IsoReader> {
        let file = File::open(path).at(path)?;
        let mut r = IsoReader {
            file,
            path: path.to_path_buf(),
            root: (0, 0),
            label: String::new(),
            el_torito: false,
        };
        let mut joliet = None;
        for s in 16..64u64 {
            let d = r.read_at(s * SECTOR, SECTOR as usize)?;
            if &d[1..6] != b"CD001" {
                return Err(r.bad(format!("sector {s} is not a volume descriptor")));
            }
            match d[0] {
                0 => r.el_torito |= d[7..30].starts_with(b"EL TORITO SPECIFICATION"),
                1 => r.label = String::from_utf8_lossy(&d[40..72]).trim_end().to_string(),
                2 if &d[88..90] == b"%/" => joliet = Some(root_of(&d[156..190])),
                255 => break,
                _ => {}
            }
        }
        r.root = joliet.ok_or_else(|| r.bad("no Joliet volume descriptor".into()))?;
        Ok(r)
    }

    fn bad(&self, reason: String) -> ReadError {
        ReadError::Invalid {
            path: self.path.clone(),
            reason,
        }
    }

    fn read_at(&mut self, offset: u64, len: usize) -> ReadResult<Vec<u8>> {
        let mut buf = vec![0u8; len];
        self.file.seek(SeekFrom::Start(offset)).at(&self.path)?;
        self.file.read_exact(&mut buf).at(&self.path)?;
        Ok(buf)
    }

    /// Lists a directory given its (lba, size).
    pub fn list(&mut self, dir: (u32, u32)) -> ReadResult<Vec<Entry>> {
        if dir.1 > 16 << 20 {
            return Err(self.bad("directory over 16 MiB".into()));
        }
        let data = self.read_at(dir.0 as u64 * SECTOR, dir.1 as usize)?;
        let mut out = Vec::new();
        let mut pos = 0usize;
        while pos < data.len() {
            let len = data[pos] as usize;
            if len == 0 {
                pos = (pos / SECTOR as usize + 1) * SECTOR as usize;
                continue;
            }
            if len < 34 || pos + len > data.len() {
                return Err(self.bad("bad directory record".into()));
            }
            let rec = &data[pos..pos + len];
            let name_len = rec[32] as usize;
            if 33 + name_len > len {
                return Err(self.bad("bad directory record name".into()));
            }
            let raw = &rec[33..33 + name_len];
            if !(name_len == 1 && raw[0] <= 1) {
                let units: Vec<u16> = raw
                    .chunks_exact(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .collect();
                let mut name = String::from_utf16_lossy(&units);
                if let Some(i) = name.find(';') {
                    name.truncate(i);
                }
                let (lba, size) = root_of(rec);
                out.push(Entry {
                    name,
                    lba,
                    size,
                    is_dir: rec[25] & 2 != 0,
                });
            }
            pos += len;
        }
        Ok(out)
    }

    /// Finds a path (case-insensitive, `/`-separated).
    pub fn find(&mut self, path: &str) -> ReadResult<Option<Entry>> {
        let mut dir = self.root;
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        for (i, part) in parts.iter().enumerate() {
            let Some(e) = self
                .list(dir)?
                .into_iter()
                .find(|e| e.name.eq_ignore_ascii_case(part))
            else {
                return Ok(None);
            };
            if i + 1 == parts.len() {
                return Ok(Some(e));
            }
            if !e.is_dir {
                return Ok(None);
            }
            dir = (e.lba, e.size);
        }
        Ok(None)
    }

    /// Reads a small file (at most 64 MiB).
    pub fn read(&mut self, e: &Entry) -> ReadResult<Vec<u8>> {
        if e.size > 64 << 20 {
            return Err(self.bad(format!("{} is too large to read whole", e.name)));
        }
        self.read_at(e.lba as u64 * SECTOR, e.size as usize)
    }

    /// Every file below the root: (path, size).
    pub fn walk(&mut self) -> ReadResult<Vec<(String, u64)>> {
        Ok(self
            .walk_entries()?
            .into_iter()
            .filter(|(_, e)| !e.is_dir)
            .map(|(p, e)| (p, e.size as u64))
            .collect())
    }

    /// Every file and directory below the root, sorted by path; a directory reached twice
    /// (a cycle in a damaged image) is an error.
    pub fn walk_entries(&mut self) -> ReadResult<Vec<(String, Entry)>> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::from([self.root.0]);
        let mut stack = vec![(String::new(), self.root)];
        while let Some((prefix, dir)) = stack.pop() {
            for e in self.list(dir)? {
                let p = if prefix.is_empty() {
                    e.name.clone()
                } else {
                    format!("{prefix}/{}", e.name)
                };
                if e.is_dir {
                    if !seen.insert(e.lba) {
                        return Err(self.bad(format!("directory {p} is reached twice")));
                    }
                    stack.push((p.clone(), (e.lba, e.size)));
                }
                out.push((p, e));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Streams a file of any size to `out`; returns the bytes copied.
    pub fn copy_to(&mut self, e: &Entry, out: &mut dyn std::io::Write) -> ReadResult<u64> {
        self.file
            .seek(SeekFrom::Start(e.lba as u64 * SECTOR))
            .at(&self.path)?;
        let mut limited = (&mut self.file).take(u64::from(e.size));
        let n = std::io::copy(&mut limited, out).at(&self.path)?;
        if n != u64::from(e.size) {
            return Err(self.bad(format!("{} ends after {n} of {} bytes", e.name, e.size)));
        }
        Ok(n)
    }
}

fn root_of(rec: &[u8]) -> (u32, u32) {
    (
        u32::from_le_bytes([rec[2], rec[3], rec[4], rec[5]]),
        u32::from_le_bytes([rec[10], rec[11], rec[12], rec[13]]),
    )
}
