//! Output files written under a temporary name and renamed into place only when complete, so a
//! failed or interrupted run never leaves a half-written file and never destroys an old one.
//! The rule lives in [`tsmedia_base::atomic_file`]; this is its face with the WIM error type.

use crate::error::{Error, IoContext, Result};
use std::fs::File;
use std::path::Path;

/// A [`tsmedia_base::AtomicFile`] whose open file is a field, as the WIM writers use it.
pub struct AtomicFile {
    /// The temporary file (a second handle to the same open file).
    pub file: File,
    staged: tsmedia_base::AtomicFile,
}

fn io(e: tsmedia_base::atomic_file::Error) -> Error {
    Error::Io {
        path: e.path,
        source: e.source,
    }
}

impl AtomicFile {
    /// Creates `.<name>.tmp-<pid>-<n>` beside `path`.
    pub fn create(path: &Path) -> Result<AtomicFile> {
        let staged = tsmedia_base::AtomicFile::create(path).map_err(io)?;
        let file = staged.file().try_clone().at(staged.temp_path())?;
        Ok(AtomicFile { file, staged })
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        self.staged.path()
    }

    /// Flushes to disk and renames over the final name.
    pub fn commit(self) -> Result<()> {
        let AtomicFile { file, staged } = self;
        drop(file);
        staged.commit().map(drop).map_err(io)
    }
}
