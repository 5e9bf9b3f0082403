//! Where file data comes from: opened only while the image is written, read once, streamed.

use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::Arc;

/// A file's content, opened when the writer reaches that file.
///
/// The writer calls [`DataSource::open`] exactly once per file and reads until the declared
/// size, then checks that the reader has nothing more. Data is never buffered whole, so sources
/// can be many gigabytes. (Same shape as the FAT writer's source trait, so one object can feed
/// either image.)
pub trait DataSource: Send + Sync {
    /// Opens a reader positioned at the first byte of the content.
    fn open(&self) -> io::Result<Box<dyn Read + '_>>;
}

/// Content held in memory.
impl DataSource for Vec<u8> {
    fn open(&self) -> io::Result<Box<dyn Read + '_>> {
        Ok(Box::new(self.as_slice()))
    }
}

/// Shared content held in memory.
impl DataSource for Arc<[u8]> {
    fn open(&self) -> io::Result<Box<dyn Read + '_>> {
        Ok(Box::new(&self[..]))
    }
}

/// Static content (for example a boot program compiled in).
impl DataSource for &'static [u8] {
    fn open(&self) -> io::Result<Box<dyn Read + '_>> {
        Ok(Box::new(*self))
    }
}

/// A file on the local file system, opened when the image is written.
impl DataSource for PathBuf {
    fn open(&self) -> io::Result<Box<dyn Read + '_>> {
        Ok(Box::new(File::open(self)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(s: &dyn DataSource) -> Vec<u8> {
        let mut v = Vec::new();
        s.open().unwrap().read_to_end(&mut v).unwrap();
        v
    }

    #[test]
    fn sources_give_their_bytes() {
        assert_eq!(read_all(&vec![1u8, 2]), [1, 2]);
        assert_eq!(read_all(&Arc::<[u8]>::from(&[3u8][..])), [3]);
        assert_eq!(read_all(&&b"ab"[..]), b"ab");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"file").unwrap();
        assert_eq!(read_all(&p), b"file");
        assert!(PathBuf::from("/nonexistent/x").open().is_err());
    }
}
