//! Output files written under a temporary name and renamed into place only when complete, so a
//! failed or interrupted run never leaves a half-written file and never destroys an old one.

use crate::error::{IoContext, Result};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// A file written under a temporary name in the folder of its final path, renamed over it by
/// [`commit`](AtomicFile::commit); dropped without commit, the temporary file is removed.
pub struct AtomicFile {
    /// The temporary file, open for reading and writing.
    pub file: File,
    path: PathBuf,
    tmp: PathBuf,
    done: bool,
}

impl AtomicFile {
    /// Creates a new temporary file next to `path`.
    pub fn create(path: &Path) -> Result<AtomicFile> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut n = 0u32;
        loop {
            let tmp = dir.join(format!(".{name}.tmp-{}-{n}", std::process::id()));
            match OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&tmp)
            {
                Ok(file) => {
                    return Ok(AtomicFile {
                        file,
                        path: path.to_path_buf(),
                        tmp,
                        done: false,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
                Err(e) => return Err(e).at(&tmp),
            }
        }
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes to disk and renames over the final name.
    pub fn commit(mut self) -> Result<()> {
        self.file.sync_all().at(&self.tmp)?;
        std::fs::rename(&self.tmp, &self.path).at(&self.path)?;
        self.done = true;
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}
