//! The content library's file store (`FileLib`): every distinct file once, named by its SHA-256.
//!
//! Files live at `content/FileLib/<first two hex digits>/<64 hex digits>`. A file is written to
//! `content/tmp/` first and renamed into place, so a library file is either complete or absent.
//! Import reads the source twice when the data is new (hash, then copy while re-hashing) and once
//! when it is already stored, so importing known data never copies it again. Nothing is read
//! whole into memory.

use std::collections::HashSet;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use tsmedia_base::AtomicFile;
use tsmedia_base::digest::{self, Sha256Stream};

use crate::error::{Error, Result};

const BUFFER: usize = 1 << 20;

/// The file store of one site.
#[derive(Debug, Clone)]
pub struct ContentLibrary {
    root: PathBuf,
}

/// A file placed in the library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    /// SHA-256 of the data, lowercase hex.
    pub hash: String,
    /// Length in bytes.
    pub size: u64,
    /// Whether the data was new to the library (false: it was already stored once).
    pub newly_stored: bool,
}

/// What [`ContentLibrary::check`] found for one library file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    /// Present, with the expected size and hash.
    Intact,
    /// Not in the library.
    Missing,
    /// Present but its data differs from what was stored.
    Changed {
        /// Its length now.
        size: u64,
        /// Its SHA-256 now.
        hash: String,
    },
}

impl ContentLibrary {
    /// The library under `root` (the site's `content` folder). Creates its folders if needed.
    pub(crate) fn open(root: PathBuf) -> Result<Self> {
        for dir in [root.join("FileLib"), root.join("tmp")] {
            fs::create_dir_all(&dir).map_err(Error::io(&dir))?;
        }
        Ok(Self { root })
    }

    /// The library's root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the file with this SHA-256 is (or would be) stored.
    pub fn file_path(&self, hash: &str) -> PathBuf {
        let shard = hash.get(..2).unwrap_or("00");
        self.root.join("FileLib").join(shard).join(hash)
    }

    /// Stores the file at `source`, unless a file with the same data is already stored.
    pub fn store(&self, source: &Path) -> Result<StoredFile> {
        // Regular files only, never through a link or from a FIFO (issue #15, L6).
        let (hash, size) = tsmedia_base::open_regular(source)
            .and_then(|mut f| hash_reader(&mut f))
            .map_err(Error::io(source))?;
        let target = self.file_path(&hash);
        if let Ok(meta) = fs::metadata(&target)
            && meta.is_file()
            && meta.len() == size
        {
            return Ok(StoredFile {
                hash,
                size,
                newly_stored: false,
            });
        }
        // The temporary file lives in `tmp/` (same file system), where `clean` finds any a
        // crash left behind; dropping `staged` on an error below removes it.
        let tmp = self
            .root
            .join("tmp")
            .join(format!("{}.{}", hash, uuid::Uuid::new_v4().simple()));
        let atomic = |e: tsmedia_base::atomic_file::Error| Error::Io {
            path: e.path,
            source: e.source,
        };
        let mut staged = AtomicFile::with_temp(&target, tmp).map_err(atomic)?;
        let (copied_hash, copied_size) = copy_hashing(source, &mut staged)?;
        if copied_hash != hash || copied_size != size {
            return Err(Error::SourceChanged {
                path: source.to_path_buf(),
            });
        }
        let shard = target
            .parent()
            .expect("a library path always has a shard folder because file_path adds one");
        fs::create_dir_all(shard).map_err(Error::io(shard))?;
        staged.commit().map_err(atomic)?;
        Ok(StoredFile {
            hash,
            size,
            newly_stored: true,
        })
    }

    /// Re-hashes the stored file `hash` and compares it with what was stored.
    pub fn check(&self, hash: &str, size: u64) -> Result<FileState> {
        let path = self.file_path(hash);
        match fs::metadata(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(FileState::Missing),
            Err(e) => return Err(Error::Io { path, source: e }),
            Ok(meta) if !meta.is_file() => return Ok(FileState::Missing),
            Ok(_) => {}
        }
        let (actual_hash, actual_size) = hash_file(&path)?;
        if actual_hash == hash && actual_size == size {
            Ok(FileState::Intact)
        } else {
            Ok(FileState::Changed {
                size: actual_size,
                hash: actual_hash,
            })
        }
    }

    /// Deletes every library file whose hash is not in `keep`, and leftovers of interrupted
    /// imports. Returns (files, bytes) removed.
    pub(crate) fn collect_garbage(&self, keep: &HashSet<String>) -> Result<(u64, u64)> {
        let mut files = 0;
        let mut bytes = 0;
        let mut remove = |path: &Path, len: u64| -> Result<()> {
            fs::remove_file(path).map_err(Error::io(path))?;
            files += 1;
            bytes += len;
            Ok(())
        };
        let filelib = self.root.join("FileLib");
        for shard in read_dir(&filelib)? {
            if !shard.1.is_dir() {
                continue;
            }
            for (path, meta) in read_dir(&shard.0)? {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if meta.is_file() && !keep.contains(name) {
                    remove(&path, meta.len())?;
                }
            }
        }
        for (path, meta) in read_dir(&self.root.join("tmp"))? {
            if meta.is_file() {
                remove(&path, meta.len())?;
            }
        }
        Ok((files, bytes))
    }

    /// Total bytes of the stored files.
    pub fn stored_bytes(&self) -> Result<u64> {
        let mut total = 0;
        for shard in read_dir(&self.root.join("FileLib"))? {
            if shard.1.is_dir() {
                for (_, meta) in read_dir(&shard.0)? {
                    total += meta.len();
                }
            }
        }
        Ok(total)
    }
}

fn read_dir(dir: &Path) -> Result<Vec<(PathBuf, fs::Metadata)>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(Error::io(dir))? {
        let entry = entry.map_err(Error::io(dir))?;
        let path = entry.path();
        let meta = fs::symlink_metadata(&path).map_err(Error::io(&path))?;
        out.push((path, meta));
    }
    Ok(out)
}

/// SHA-256 (lowercase hex) and length of a file, read in 1 MiB pieces.
pub fn hash_file(path: &Path) -> Result<(String, u64)> {
    digest::sha256_file(path).map_err(Error::io(path))
}

/// SHA-256 (lowercase hex) and length of everything a reader yields.
pub fn hash_reader(reader: &mut impl Read) -> io::Result<(String, u64)> {
    digest::sha256_reader(reader)
}

/// Copies `source` into `staged`, hashing what it copies.
fn copy_hashing(source: &Path, staged: &mut AtomicFile) -> Result<(String, u64)> {
    let mut input = tsmedia_base::open_regular(source).map_err(Error::io(source))?;
    let target = staged.temp_path().to_path_buf();
    let mut hashed = Sha256Stream::new();
    let mut buf = vec![0u8; BUFFER];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(source)(e)),
        };
        hashed.update(&buf[..n]);
        staged.write_all(&buf[..n]).map_err(Error::io(&target))?;
    }
    Ok(hashed.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most 3 bytes per call.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(buf.len()).min(3);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn hashes_match_known_sha256_values_even_from_short_reads() {
        let (h, n) = hash_reader(&mut Trickle(b"abc")).unwrap();
        assert_eq!(
            h,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(n, 3);
        let (h, n) = hash_reader(&mut Trickle(b"")).unwrap();
        assert_eq!(
            h,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(n, 0);
    }

    #[test]
    fn stores_each_distinct_file_once() {
        let dir = tempfile::tempdir().unwrap();
        let lib = ContentLibrary::open(dir.path().join("content")).unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        fs::write(&a, b"same data").unwrap();
        fs::write(&b, b"same data").unwrap();
        let first = lib.store(&a).unwrap();
        let second = lib.store(&b).unwrap();
        assert!(first.newly_stored);
        assert!(!second.newly_stored);
        assert_eq!(first.hash, second.hash);
        assert_eq!(lib.stored_bytes().unwrap(), 9);
        assert_eq!(lib.check(&first.hash, 9).unwrap(), FileState::Intact);
        fs::write(lib.file_path(&first.hash), b"other").unwrap();
        assert!(matches!(
            lib.check(&first.hash, 9).unwrap(),
            FileState::Changed { size: 5, .. }
        ));
        fs::remove_file(lib.file_path(&first.hash)).unwrap();
        assert_eq!(lib.check(&first.hash, 9).unwrap(), FileState::Missing);
    }

    #[test]
    fn garbage_collection_keeps_only_referenced_files() {
        let dir = tempfile::tempdir().unwrap();
        let lib = ContentLibrary::open(dir.path().join("content")).unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        fs::write(&a, b"keep me").unwrap();
        fs::write(&b, b"drop me!").unwrap();
        let keep = lib.store(&a).unwrap();
        let drop = lib.store(&b).unwrap();
        let kept: HashSet<String> = [keep.hash.clone()].into();
        assert_eq!(lib.collect_garbage(&kept).unwrap(), (1, 8));
        assert!(lib.file_path(&keep.hash).exists());
        assert!(!lib.file_path(&drop.hash).exists());
    }
}
