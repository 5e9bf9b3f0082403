//! Writing a planned image to its target: a block device (checked for existing data and
//! size) or a file (written beside the old one and renamed when complete).

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::error::{Error, Result};
use super::usb::UsbImagePlan;

/// What to do with the target of [`UsbImagePlan::write_to_path`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TargetOptions {
    /// Overwrite a non-empty block device or an existing non-empty file. Default: refuse.
    pub overwrite: bool,
}

impl UsbImagePlan {
    /// Writes the image to `path`: a block device (written in place; refused when its first
    /// MiB holds data unless `target.overwrite`, or when it is too small) or a file (written
    /// as `<path>.partial` and renamed when complete, so an existing image survives a failed
    /// run; an existing non-empty file is refused unless `target.overwrite`).
    pub fn write_to_path(&self, path: &Path, target: TargetOptions) -> Result<()> {
        let at = |source| Error::Target {
            path: path.to_path_buf(),
            source,
        };
        if let Some(size) = block_device_size(path)? {
            if size < self.disk_bytes() {
                return Err(Error::TargetTooSmall {
                    path: path.to_path_buf(),
                    available: size,
                    needed: self.disk_bytes(),
                });
            }
            let mut device = OpenOptions::new()
                .read(true)
                .write(true)
                .open(path)
                .map_err(at)?;
            if !target.overwrite && !is_blank(&mut device).map_err(at)? {
                return Err(Error::TargetNotEmpty {
                    path: path.to_path_buf(),
                });
            }
            device.seek(SeekFrom::Start(0)).map_err(at)?;
            let mut buffered = BufWriter::with_capacity(1 << 20, &mut device);
            self.write_seekable(&mut buffered)?;
            buffered.flush().map_err(at)?;
            drop(buffered);
            // A larger device keeps its old end: clear its last MiB, where a stale backup
            // GPT would otherwise make tools doubt the new table.
            let wipe_from = self.disk_bytes().max(size.saturating_sub(1 << 20));
            if wipe_from < size {
                device.seek(SeekFrom::Start(wipe_from)).map_err(at)?;
                let zeros = vec![0u8; (size - wipe_from) as usize];
                device.write_all(&zeros).map_err(at)?;
            }
            return device.sync_all().map_err(at);
        }
        if !target.overwrite && std::fs::metadata(path).is_ok_and(|m| m.len() > 0) {
            return Err(Error::TargetNotEmpty {
                path: path.to_path_buf(),
            });
        }
        let mut partial = path.as_os_str().to_owned();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        let result = (|| {
            let file = File::create(&partial).map_err(|source| Error::Target {
                path: partial.clone(),
                source,
            })?;
            let mut buffered = BufWriter::with_capacity(1 << 20, file);
            self.write_seekable(&mut buffered)?;
            let file = buffered.into_inner().map_err(|e| Error::Target {
                path: partial.clone(),
                source: e.into_error(),
            })?;
            file.sync_all().map_err(|source| Error::Target {
                path: partial.clone(),
                source,
            })?;
            std::fs::rename(&partial, path).map_err(at)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
        result
    }
}

/// The size of `path` if it is a block device; `None` for anything else (or nothing).
pub fn block_device_size(path: &Path) -> Result<Option<u64>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let at = |source| Error::Target {
            path: path.to_path_buf(),
            source,
        };
        match std::fs::metadata(path) {
            Ok(m) if m.file_type().is_block_device() => {
                let mut f = File::open(path).map_err(at)?;
                Ok(Some(f.seek(SeekFrom::End(0)).map_err(at)?))
            }
            _ => Ok(None),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(None)
    }
}

/// Whether the first MiB of a device is all zeros.
fn is_blank(device: &mut File) -> io::Result<bool> {
    let mut buf = vec![0u8; 1 << 20];
    let mut filled = 0;
    while filled < buf.len() {
        match device.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(buf[..filled].iter().all(|&b| b == 0))
}
