//! Output written under a temporary name and renamed over its target only when complete, so a
//! failed, cancelled or interrupted run never leaves a half-written file under the final name
//! and never destroys an older one.
//!
//! The temporary file lives beside the target (`.<name>.tmp-<pid>-<n>`) so that the rename
//! stays on one file system and is atomic. A caller that must find its own leftovers again
//! (a content library sweeping stale temporary files) may choose the temporary path itself
//! with [`AtomicFile::with_temp`], as long as it is on the target's file system.
//!
//! A run killed with SIGKILL cannot remove its temporary file. The next [`AtomicFile::create`]
//! for the same target removes the temporary files of that target whose owner process is gone
//! ([`remove_stale`]; issue #15, L4): only names of this module's form, only in the target's
//! folder, only for a process ID that no longer runs (on Linux, no `/proc/<pid>`).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// An I/O failure of an atomic output, with the path it concerns (the temporary file while
/// writing, the target when renaming).
#[derive(Debug, thiserror::Error)]
#[error("{}", path.display())]
pub struct Error {
    /// The file the operation was on.
    pub path: PathBuf,
    /// The underlying error.
    #[source]
    pub source: io::Error,
}

/// Removes `.<name>.tmp-<pid>-<n>` files in `dir` whose process `pid` is gone. Best effort:
/// what cannot be listed or removed is left. Returns how many were removed.
pub fn remove_stale(dir: &Path, name: &str) -> usize {
    let prefix = format!(".{name}.tmp-");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(rest) = file_name.to_str().and_then(|f| f.strip_prefix(&prefix)) else {
            continue;
        };
        let Some((pid, n)) = rest.split_once('-') else {
            continue;
        };
        let (Ok(pid), true) = (
            pid.parse::<u32>(),
            !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()),
        ) else {
            continue;
        };
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file && !process_alive(pid) && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Whether process `pid` runs. Where this cannot be known, every process is taken as alive,
/// so nothing is removed.
fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let proc = Path::new("/proc");
    if cfg!(target_os = "linux") && proc.join("self").exists() {
        proc.join(pid.to_string()).exists()
    } else {
        true
    }
}

/// How many names `.<name>.tmp-<pid>-<n>` are tried before giving up.
const ATTEMPTS: u32 = 1000;

/// A file being written under a temporary name; [`AtomicFile::commit`] renames it over the
/// target, and dropping it without a commit removes it.
#[derive(Debug)]
pub struct AtomicFile {
    file: File,
    target: PathBuf,
    temp: PathBuf,
    committed: bool,
}

impl AtomicFile {
    /// Creates `.<name>.tmp-<pid>-<n>` beside `target` (readable and writable, never an
    /// existing file).
    pub fn create(target: &Path) -> Result<AtomicFile, Error> {
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        remove_stale(&dir, &name);
        let mut n = 0u32;
        loop {
            let temp = dir.join(format!(".{name}.tmp-{}-{n}", std::process::id()));
            match OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&temp)
            {
                Ok(file) => return Ok(AtomicFile::new(file, target, temp)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < ATTEMPTS => n += 1,
                Err(source) => return Err(Error { path: temp, source }),
            }
        }
    }

    /// Creates (or truncates) the caller's temporary file `temp` for `target`; `temp` must be
    /// on the same file system as `target` for the rename to be atomic.
    pub fn with_temp(target: &Path, temp: PathBuf) -> Result<AtomicFile, Error> {
        match OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temp)
        {
            Ok(file) => Ok(AtomicFile::new(file, target, temp)),
            Err(source) => Err(Error { path: temp, source }),
        }
    }

    fn new(file: File, target: &Path, temp: PathBuf) -> AtomicFile {
        AtomicFile {
            file,
            target: target.to_path_buf(),
            temp,
            committed: false,
        }
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.target
    }

    /// The temporary path being written.
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// The open temporary file.
    pub fn file(&self) -> &File {
        &self.file
    }

    /// The open temporary file, for writing.
    pub fn file_mut(&mut self) -> &mut File {
        &mut self.file
    }

    /// Flushes the data to disk and renames the temporary file over the target. On failure
    /// the temporary file is removed and the target is left as it was.
    pub fn commit(mut self) -> Result<PathBuf, Error> {
        self.file.sync_all().map_err(|source| Error {
            path: self.temp.clone(),
            source,
        })?;
        std::fs::rename(&self.temp, &self.target).map_err(|source| Error {
            path: self.target.clone(),
            source,
        })?;
        self.committed = true;
        Ok(self.target.clone())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Read for AtomicFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.file.read(buf)
    }
}

impl Seek for AtomicFile {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.file.seek(pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn commit_replaces_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.bin");
        std::fs::write(&target, b"old").unwrap();
        let mut f = AtomicFile::create(&target).unwrap();
        let temp = f.temp_path().to_path_buf();
        assert_eq!(
            temp.file_name().unwrap().to_string_lossy(),
            format!(".out.bin.tmp-{}-0", std::process::id())
        );
        f.write_all(b"new").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        assert_eq!(f.commit().unwrap(), target);
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        assert_eq!(names(dir.path()), ["out.bin"]);
    }

    #[test]
    fn drop_without_commit_removes_the_temp_and_keeps_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.bin");
        std::fs::write(&target, b"old").unwrap();
        {
            let mut f = AtomicFile::create(&target).unwrap();
            f.write_all(b"half").unwrap();
        }
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        assert_eq!(names(dir.path()), ["out.bin"]);
    }

    #[test]
    fn second_writer_gets_another_temp_name() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("x");
        let a = AtomicFile::create(&target).unwrap();
        let b = AtomicFile::create(&target).unwrap();
        assert_ne!(a.temp_path(), b.temp_path());
    }

    #[test]
    fn caller_chosen_temp_and_failed_rename() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("img");
        let mut f = AtomicFile::with_temp(&target, dir.path().join("img.partial")).unwrap();
        f.write_all(b"data").unwrap();
        f.commit().unwrap();
        assert_eq!(names(dir.path()), ["img"]);

        // A target that is a non-empty directory cannot be replaced: the temp goes away.
        let blocked = dir.path().join("blocked");
        std::fs::create_dir(&blocked).unwrap();
        std::fs::write(blocked.join("keep"), b"").unwrap();
        let f = AtomicFile::create(&blocked).unwrap();
        let err = f.commit().unwrap_err();
        assert_eq!(err.path, blocked);
        assert_eq!(names(dir.path()), ["blocked", "img"]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn temporary_files_of_dead_processes_are_removed_by_the_next_create() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("media.wim");
        // A process that has exited: its temporary file is stale.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = dir.path().join(format!(".media.wim.tmp-{dead}-0"));
        std::fs::write(&stale, vec![0u8; 4096]).unwrap();
        // Ours (alive), another target's, and a name not of our form are kept.
        let alive = dir
            .path()
            .join(format!(".media.wim.tmp-{}-7", std::process::id()));
        std::fs::write(&alive, b"x").unwrap();
        let other = dir.path().join(format!(".other.wim.tmp-{dead}-0"));
        std::fs::write(&other, b"x").unwrap();
        let foreign = dir.path().join(format!(".media.wim.tmp-{dead}-x"));
        std::fs::write(&foreign, b"x").unwrap();
        let mut out = AtomicFile::create(&target).unwrap();
        out.write_all(b"new").unwrap();
        out.commit().unwrap();
        assert!(!stale.exists(), "the dead process's temporary file is left");
        assert!(alive.exists() && other.exists() && foreign.exists());
        std::fs::remove_file(&alive).unwrap();
    }
}
