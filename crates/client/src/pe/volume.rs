//! The target volume in tsmedia PE: mounted by Format and Partition Disk once it has written
//! the partition table (the kernel re-reads it and the partition appears), found again on the
//! next boot when a task sequence stopped for a restart, and unmounted when the session ends.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::devices::{self, partition_path};
use crate::runner::Mounter;

/// The file system Format and Partition Disk writes (FAT32 until tsmedia PE writes NTFS).
const FS: &str = "vfat";

/// The session's target volume.
#[derive(Debug)]
pub(crate) struct PeVolumes {
    mount_point: PathBuf,
    mounted: Arc<Mutex<Option<PathBuf>>>,
}

/// The [`Mounter`] given to the runtime; shares its record with [`PeVolumes`].
#[derive(Debug)]
pub(crate) struct PeMounter {
    mount_point: PathBuf,
    mounted: Arc<Mutex<Option<PathBuf>>>,
}

impl PeVolumes {
    pub(crate) fn new(mount_point: PathBuf) -> PeVolumes {
        PeVolumes {
            mount_point,
            mounted: Arc::new(Mutex::new(None)),
        }
    }

    /// Where the target volume is mounted, if it is.
    pub(crate) fn mounted(&self) -> Option<PathBuf> {
        self.mounted.lock().ok().and_then(|m| m.clone())
    }

    /// The runtime's mounter.
    pub(crate) fn mounter(&self) -> PeMounter {
        PeMounter {
            mount_point: self.mount_point.clone(),
            mounted: self.mounted.clone(),
        }
    }

    /// Mounts the first volume of `disk` when it holds the saved state of a task sequence
    /// that stopped for a restart; returns where.
    pub(crate) fn resume(&mut self, disk: &Path) -> Option<PathBuf> {
        let part = partition_path(disk, 1);
        if !part.exists() {
            return None;
        }
        devices::mount(&part, FS, &self.mount_point, false).ok()?;
        if self.mount_point.join(crate::run::STATE_FILE).is_file() {
            if let Ok(mut m) = self.mounted.lock() {
                *m = Some(self.mount_point.clone());
            }
            return Some(self.mount_point.clone());
        }
        let _ = devices::run("umount", &[&self.mount_point.display().to_string()]);
        None
    }

    /// Takes a volume mounted elsewhere (read-write) as the target: the staged volume of
    /// prestaged media, which is the medium and the target at once. It gets the log and is
    /// unmounted by [`PeVolumes::release`].
    pub(crate) fn adopt(&mut self, mounted_at: PathBuf) {
        if let Ok(mut m) = self.mounted.lock() {
            *m = Some(mounted_at);
        }
    }

    /// Writes everything out and unmounts the volume.
    pub(crate) fn release(&mut self) {
        let _ = devices::run("sync", &[]);
        if let Some(m) = self.mounted.lock().ok().and_then(|mut m| m.take()) {
            let _ = devices::run("umount", &[&m.display().to_string()]);
        }
    }
}

impl Mounter for PeMounter {
    fn mount(&self, disk: &Path, number: u32) -> Result<PathBuf, String> {
        let mut mounted = self.mounted.lock().map_err(|_| "mount state poisoned")?;
        if let Some(old) = mounted.take() {
            devices::run("umount", &[&old.display().to_string()])?;
        }
        let _ = devices::run("sync", &[]);
        let disk_s = disk.display().to_string();
        // The kernel learns of the new partition table; the partition's node then appears.
        devices::run("blockdev", &["--rereadpt", &disk_s])?;
        let part = partition_path(disk, number);
        for _ in 0..50 {
            if part.exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if !part.exists() {
            return Err(format!(
                "{} did not appear after the partition table of {disk_s} was re-read",
                part.display()
            ));
        }
        devices::mount(&part, FS, &self.mount_point, false)?;
        *mounted = Some(self.mount_point.clone());
        Ok(self.mount_point.clone())
    }
}
