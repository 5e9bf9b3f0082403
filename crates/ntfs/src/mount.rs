//! Mounting a volume with the `ntfs-3g` FUSE driver, and a guard that always unmounts it.
//!
//! `ntfs-3g -o no_detach,streams_interface=windows,big_writes DEVICE DIR` runs in the
//! foreground as our child: the volume is mounted once its mount point shows in
//! `/proc/self/mountinfo`, and it is flushed and closed once the child exits after `umount`
//! (or `fusermount -u` when not root). Waiting for that exit is what makes the image complete
//! when [`Mount::unmount`] returns; a daemonised driver would still be writing.
//! `streams_interface=windows` makes a named stream the file `name:stream`; `big_writes`
//! passes writes of up to 128 KiB instead of 4 KiB. See `docs/ntfs.md`.

use crate::error::{Error, Result};
use crate::tool;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long `ntfs-3g` gets to mount a volume.
const MOUNT_TIMEOUT: Duration = Duration::from_secs(60);

/// A mounted NTFS volume; unmounted when dropped (errors then ignored: call
/// [`Mount::unmount`] to see them).
pub struct Mount {
    device: PathBuf,
    dir: tempfile::TempDir,
    child: Option<Child>,
    log: Arc<Mutex<Vec<u8>>>,
    reader: Option<JoinHandle<()>>,
}

impl Mount {
    /// Mounts `device` (a block device or an image file) read-write in a new temporary
    /// directory.
    pub fn new(device: &Path) -> Result<Mount> {
        let dir = tempfile::Builder::new()
            .prefix("tsmedia-ntfs-")
            .tempdir()
            .map_err(|source| Error::Io {
                path: std::env::temp_dir(),
                source,
            })?;
        let mut child = Command::new("ntfs-3g")
            .arg("-o")
            .arg("no_detach,streams_interface=windows,big_writes")
            .arg(device)
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| Error::Spawn {
                program: "ntfs-3g",
                source,
            })?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let reader = child.stderr.take().map(|mut err| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = err.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut l) = log.lock() {
                        // Only the end matters for a message; keep it bounded.
                        if l.len() > 64 * 1024 {
                            l.drain(..32 * 1024);
                        }
                        l.extend_from_slice(&buf[..n]);
                    }
                }
            })
        });
        let mut m = Mount {
            device: device.to_path_buf(),
            dir,
            child: Some(child),
            log,
            reader,
        };
        m.wait_mounted()?;
        Ok(m)
    }

    /// The mount point.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The device or image mounted.
    pub fn device(&self) -> &Path {
        &self.device
    }

    /// Unmounts the volume and waits until `ntfs-3g` has written everything and exited.
    pub fn unmount(mut self) -> Result<()> {
        self.finish(false)
    }

    fn wait_mounted(&mut self) -> Result<()> {
        let start = Instant::now();
        loop {
            if is_mount_point(self.dir.path()) {
                return Ok(());
            }
            let Some(child) = self.child.as_mut() else {
                return Ok(());
            };
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Err(Error::Tool {
                    program: "ntfs-3g",
                    path: self.device.clone(),
                    status: status.to_string(),
                    output: self.log_tail(),
                });
            }
            if start.elapsed() > MOUNT_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                self.child = None;
                return Err(Error::MountTimeout {
                    path: self.device.clone(),
                    seconds: MOUNT_TIMEOUT.as_secs(),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Unmounts (lazily when `last_resort` and a normal unmount fails) and reaps the driver.
    fn finish(&mut self, last_resort: bool) -> Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let dir = self.dir.path().to_path_buf();
        let mut result = Ok(());
        if is_mount_point(&dir) {
            result = unmount_dir(&dir);
            if result.is_err() && last_resort {
                let _ = Command::new("umount").arg("-l").arg(&dir).output();
            }
        }
        if result.is_err() && !last_resort {
            // Still mounted: keep the driver for Drop's lazy unmount.
            self.child = Some(child);
            return result;
        }
        let status = child.wait();
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        match status {
            Ok(s) if s.success() => result,
            Ok(s) => result.and(Err(Error::Tool {
                program: "ntfs-3g",
                path: self.device.clone(),
                status: s.to_string(),
                output: self.log_tail(),
            })),
            Err(source) => result.and(Err(Error::Io {
                path: self.device.clone(),
                source,
            })),
        }
    }

    fn log_tail(&self) -> String {
        match self.log.lock() {
            Ok(l) => tool::tail(&l, b""),
            Err(_) => String::new(),
        }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = self.finish(true);
    }
}

/// `umount DIR` (root), else `fusermount -u DIR`, each retried briefly while the volume is
/// busy (a file still being closed).
fn unmount_dir(dir: &Path) -> Result<()> {
    let mut last = None;
    for _ in 0..20 {
        let attempt = tool::run("umount", Command::new("umount").arg(dir), dir).or_else(|e| {
            tool::run(
                "fusermount",
                Command::new("fusermount").arg("-u").arg(dir),
                dir,
            )
            .map_err(|_| e)
        });
        match attempt {
            Ok(_) => return Ok(()),
            Err(e) => last = Some(e),
        }
        if !is_mount_point(dir) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(last.unwrap_or_else(|| Error::Tool {
        program: "umount",
        path: dir.to_path_buf(),
        status: "unknown".into(),
        output: String::new(),
    }))
}

/// Whether `dir` is a mount point in `/proc/self/mountinfo` (field 5, octal escapes).
pub(crate) fn is_mount_point(dir: &Path) -> bool {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    let want = dir.display().to_string();
    info.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .any(|p| unescape_mountinfo(p) == want)
}

/// Undoes the `\ooo` escapes `/proc/self/mountinfo` uses for space, tab, newline and `\`.
fn unescape_mountinfo(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = |c: &u8| (b'0'..=b'7').contains(c);
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(octal) && b[i + 1] <= b'3'
        {
            let v = u32::from(b[i + 1] - b'0') * 64
                + u32::from(b[i + 2] - b'0') * 8
                + u32::from(b[i + 3] - b'0');
            out.push(v as u8);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_escapes_are_undone() {
        assert_eq!(unescape_mountinfo(r"/tmp/a\040b"), "/tmp/a b");
        assert_eq!(unescape_mountinfo(r"/x\134y"), r"/x\y");
        assert_eq!(unescape_mountinfo(r"/plain\04"), r"/plain\04");
        assert!(is_mount_point(Path::new("/")) || !Path::new("/proc/self").exists());
    }
}
