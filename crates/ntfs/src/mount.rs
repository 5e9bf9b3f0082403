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
    dir: MountDir,
    child: Option<Child>,
    log: Arc<Mutex<Vec<u8>>>,
    reader: Option<JoinHandle<()>>,
}

/// Where the volume is mounted: a temporary directory of ours, or one the caller gave.
enum MountDir {
    Temp(tempfile::TempDir),
    Given(PathBuf),
}

impl MountDir {
    fn path(&self) -> &Path {
        match self {
            MountDir::Temp(t) => t.path(),
            MountDir::Given(p) => p,
        }
    }
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
        Mount::start(device, MountDir::Temp(dir))
    }

    /// Mounts `device` read-write on `dir` (created when missing), e.g. the target volume's
    /// mount point in tsmedia PE.
    pub fn at(device: &Path, dir: &Path) -> Result<Mount> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        Mount::start(device, MountDir::Given(dir.to_path_buf()))
    }

    fn start(device: &Path, dir: MountDir) -> Result<Mount> {
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

/// The device of the NTFS-3G volume mounted on `dir`, if `dir` is one: a `fuseblk` mount
/// (what `ntfs-3g` mounts a block device or image as) in `/proc/self/mountinfo`, whose source
/// is the device.
pub fn mounted_ntfs_device(dir: &Path) -> Option<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    ntfs_device_in(&info, dir)
}

fn ntfs_device_in(info: &str, dir: &Path) -> Option<PathBuf> {
    let want = dir.display().to_string();
    info.lines().rev().find_map(|l| {
        let (fields, rest) = l.split_once(" - ")?;
        let point = fields.split(' ').nth(4)?;
        let mut tail = rest.split(' ');
        let (fstype, source) = (tail.next()?, tail.next()?);
        (unescape_mountinfo(point) == want && fstype == "fuseblk")
            .then(|| PathBuf::from(unescape_mountinfo(source)))
    })
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

    #[test]
    fn the_device_of_an_ntfs_3g_mount_is_its_source() {
        let info = "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n\
                    40 22 0:45 / /run/tsmedia/target rw,relatime - fuseblk /dev/vda3 rw,user_id=0\n\
                    41 22 0:46 / /run/tsmedia/esp rw - vfat /dev/vda1 rw\n";
        assert_eq!(
            ntfs_device_in(info, Path::new("/run/tsmedia/target")),
            Some(PathBuf::from("/dev/vda3"))
        );
        assert_eq!(ntfs_device_in(info, Path::new("/run/tsmedia/esp")), None);
        assert_eq!(ntfs_device_in(info, Path::new("/")), None);
    }
}
