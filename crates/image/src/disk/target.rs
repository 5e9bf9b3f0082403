//! Writing a planned image to its target: a block device (checked for existing data and
//! size) or a file (written beside the old one and renamed when complete).

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;
use tsmedia_base::{Cancel, Progress};

use super::error::{Error, Result};
use super::usb::UsbImagePlan;

/// What to do with the target of [`UsbImagePlan::write_to_path`], and how to follow or stop
/// the write.
#[derive(Clone, Copy, Default)]
pub struct TargetOptions<'a> {
    /// Overwrite a non-empty block device or an existing non-empty file. Default: refuse.
    pub overwrite: bool,
    /// Told the bytes done (one task, "disk image", of [`UsbImagePlan::disk_bytes`]) about
    /// every 4 MiB and at the end; skipped free space counts as done. Default: none.
    pub progress: Option<&'a dyn Progress>,
    /// When cancelled (by another thread), the write stops with [`Error::Cancelled`]; a
    /// partial file is removed, a device is left partly written. Default: none.
    pub cancel: Option<&'a Cancel>,
}

impl fmt::Debug for TargetOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TargetOptions")
            .field("overwrite", &self.overwrite)
            .field("progress", &self.progress.is_some())
            .field("cancel", &self.cancel)
            .finish()
    }
}

/// Progress step.
const STEP: u64 = 4 << 20;

/// Reports progress and honours the cancel flag around the real target.
struct Controlled<'a, W> {
    inner: W,
    pos: u64,
    /// The position last reported as done.
    reported: u64,
    next_report: u64,
    total: u64,
    target: TargetOptions<'a>,
}

impl<'a, W> Controlled<'a, W> {
    fn new(inner: W, total: u64, target: TargetOptions<'a>) -> Self {
        if let Some(progress) = target.progress {
            progress.begin("disk image", Some(total));
        }
        Controlled {
            inner,
            pos: 0,
            reported: 0,
            next_report: STEP,
            total,
            target,
        }
    }

    fn advance(&mut self, to: u64) -> io::Result<()> {
        self.pos = to;
        if self.pos >= self.next_report || self.pos == self.total {
            self.next_report = (self.pos / STEP + 1) * STEP;
            if let Some(progress) = self.target.progress
                && self.pos > self.reported
            {
                progress.advance(self.pos - self.reported);
                self.reported = self.pos;
            }
        }
        if self.target.cancel.is_some_and(Cancel::is_cancelled) {
            return Err(io::Error::other("cancelled"));
        }
        Ok(())
    }
}

impl<W: Write> Write for Controlled<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.advance(self.pos + n as u64)?;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Seek> Seek for Controlled<'_, W> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let before = self.inner.stream_position()?;
        let after = self.inner.seek(pos)?;
        self.advance(self.pos.wrapping_add(after.wrapping_sub(before)))?;
        Ok(after)
    }
}

impl UsbImagePlan {
    /// Writes the image to `path`: a block device (written in place; refused when its first
    /// MiB holds data unless `target.overwrite`, or when it is too small) or a file (written
    /// as `<path>.partial` and renamed when complete, so an existing image survives a failed
    /// run; an existing non-empty file is refused unless `target.overwrite`).
    pub fn write_to_path(&self, path: &Path, target: TargetOptions<'_>) -> Result<()> {
        let result = self.write_to_path_inner(path, target);
        match result {
            Err(_) if target.cancel.is_some_and(Cancel::is_cancelled) => Err(Error::Cancelled),
            other => {
                if let Some(progress) = target.progress {
                    progress.finish();
                }
                other
            }
        }
    }

    fn write_to_path_inner(&self, path: &Path, target: TargetOptions<'_>) -> Result<()> {
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
            let mut out = Controlled::new(
                BufWriter::with_capacity(1 << 20, &mut device),
                self.disk_bytes(),
                target,
            );
            self.write_seekable(&mut out)?;
            out.flush().map_err(at)?;
            drop(out);
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
        let target_err = |e: tsmedia_base::atomic_file::Error| Error::Target {
            path: e.path,
            source: e.source,
        };
        // `<path>.partial`, the name users and tests know; dropped on any error (cancel
        // included), so the temporary file goes and the old image stays.
        let mut partial = path.as_os_str().to_owned();
        partial.push(".partial");
        let staged =
            tsmedia_base::AtomicFile::with_temp(path, partial.into()).map_err(target_err)?;
        let temp = staged.temp_path().to_path_buf();
        let mut out = Controlled::new(
            BufWriter::with_capacity(1 << 20, staged),
            self.disk_bytes(),
            target,
        );
        self.write_seekable(&mut out)?;
        let staged = out.inner.into_inner().map_err(|e| Error::Target {
            path: temp,
            source: e.into_error(),
        })?;
        staged.commit().map(drop).map_err(target_err)
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
