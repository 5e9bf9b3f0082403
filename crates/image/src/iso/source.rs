//! Where file data comes from: opened only while the image is written, read once, streamed.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;

/// A file's content, opened when the writer reaches that file.
///
/// The writer calls [`DataSource::open`] exactly once per file and reads until the declared
/// size, then checks that the reader has nothing more. Data is never buffered whole, so sources
/// can be many gigabytes.
pub trait DataSource: Send + Sync {
    /// Opens a reader positioned at the first byte of the content.
    fn open(&self) -> io::Result<Box<dyn Read + '_>>;
}

/// Content held in memory.
#[derive(Clone, PartialEq, Eq)]
pub struct BytesSource(pub Vec<u8>);

impl fmt::Debug for BytesSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BytesSource({} bytes)", self.0.len())
    }
}

impl DataSource for BytesSource {
    fn open(&self) -> io::Result<Box<dyn Read + '_>> {
        Ok(Box::new(&self.0[..]))
    }
}

/// Content of a file on the local file system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSource(pub PathBuf);

impl DataSource for FileSource {
    fn open(&self) -> io::Result<Box<dyn Read + '_>> {
        Ok(Box::new(File::open(&self.0)?))
    }
}
