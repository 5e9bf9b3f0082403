//! The volumes of the disk being deployed, in tsmedia PE: the target volume (the Windows
//! partition, or the one FAT32 volume of a data deployment) mounted by Format and Partition
//! Disk once it has written the partition table, the system partition mounted for a while by
//! Setup Windows and ConfigMgr, the target found again on the next boot when a task sequence
//! stopped for a restart, and everything unmounted when the session ends.
//!
//! NTFS volumes are mounted with `ntfs-3g` through [`tsmedia_ntfs::Mount`], the same guard as
//! on a Linux host: unmounting waits until the driver has written everything and exited,
//! which must happen before `/init` restarts or powers off. FAT volumes use the kernel's
//! `vfat`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::devices::{self, partition_path};
use crate::runner::Mounter;

/// The most partitions looked at for a saved task sequence.
const RESUME_PARTITIONS: u32 = 8;

/// One mounted volume.
enum Mounted {
    /// FAT, by the kernel, at this path.
    Kernel(PathBuf),
    /// NTFS, by `ntfs-3g`.
    Ntfs(tsmedia_ntfs::Mount),
}

impl std::fmt::Debug for Mounted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mounted::Kernel(p) => write!(f, "vfat at {}", p.display()),
            Mounted::Ntfs(m) => write!(
                f,
                "ntfs-3g {} at {}",
                m.device().display(),
                m.path().display()
            ),
        }
    }
}

impl Mounted {
    /// Mounts `device` on `at`: NTFS (by its boot sector) with `ntfs-3g`, anything else as FAT.
    fn new(device: &Path, at: &Path) -> Result<Mounted, String> {
        let ntfs = tsmedia_ntfs::is_ntfs(device, 0).map_err(|e| tsmedia_base::error_chain(&e))?;
        if ntfs {
            tsmedia_ntfs::Mount::at(device, at)
                .map(Mounted::Ntfs)
                .map_err(|e| tsmedia_base::error_chain(&e))
        } else {
            devices::mount(device, "vfat", at, false)?;
            Ok(Mounted::Kernel(at.to_path_buf()))
        }
    }

    fn path(&self) -> &Path {
        match self {
            Mounted::Kernel(p) => p,
            Mounted::Ntfs(m) => m.path(),
        }
    }

    /// Unmounts; for NTFS, waits until `ntfs-3g` has written everything and exited.
    fn unmount(self) -> Result<(), String> {
        let _ = devices::run("sync", &[]);
        match self {
            Mounted::Kernel(p) => devices::run("umount", &[&p.display().to_string()]),
            Mounted::Ntfs(m) => m.unmount().map_err(|e| tsmedia_base::error_chain(&e)),
        }
    }
}

/// What is mounted.
#[derive(Debug, Default)]
struct State {
    target: Option<Mounted>,
    system: Option<Mounted>,
}

/// The session's volumes.
#[derive(Debug)]
pub(crate) struct PeVolumes {
    mounter: PeMounter,
}

/// The [`Mounter`] given to the runtime; shares its record with [`PeVolumes`].
#[derive(Debug, Clone)]
pub(crate) struct PeMounter {
    mount_point: PathBuf,
    system_point: PathBuf,
    state: Arc<Mutex<State>>,
}

impl PeVolumes {
    /// Volumes mounted under `run_dir` (`target`, `system`).
    pub(crate) fn new(run_dir: &Path) -> PeVolumes {
        PeVolumes {
            mounter: PeMounter {
                mount_point: run_dir.join("target"),
                system_point: run_dir.join("system"),
                state: Arc::new(Mutex::new(State::default())),
            },
        }
    }

    /// Where the target volume is mounted, if it is.
    pub(crate) fn mounted(&self) -> Option<PathBuf> {
        let state = self.mounter.state.lock().ok()?;
        state.target.as_ref().map(|m| m.path().to_path_buf())
    }

    /// The runtime's mounter.
    pub(crate) fn mounter(&self) -> PeMounter {
        self.mounter.clone()
    }

    /// Mounts the volume of `disk` that holds the saved state of a task sequence that
    /// stopped for a restart (the first partition, FAT or NTFS, that has it); returns where.
    pub(crate) fn resume(&mut self, disk: &Path) -> Option<PathBuf> {
        let at = self.mounter.mount_point.clone();
        for number in 1..=RESUME_PARTITIONS {
            let part = partition_path(disk, number);
            if !part.exists() {
                break;
            }
            let Ok(volume) = Mounted::new(&part, &at) else {
                continue; // no file system (MSR), or not one we mount
            };
            if at.join(crate::run::STATE_FILE).is_file()
                && let Ok(mut state) = self.mounter.state.lock()
            {
                state.target = Some(volume);
                return Some(at);
            }
            let _ = volume.unmount();
        }
        None
    }

    /// Takes a volume mounted elsewhere (read-write, FAT) as the target: the staged volume
    /// of prestaged media, which is the medium and the target at once. It gets the log and is
    /// unmounted by [`PeVolumes::release`].
    pub(crate) fn adopt(&mut self, mounted_at: PathBuf) {
        if let Ok(mut state) = self.mounter.state.lock() {
            state.target = Some(Mounted::Kernel(mounted_at));
        }
    }

    /// Writes everything out and unmounts the volumes.
    pub(crate) fn release(&mut self) -> Result<(), String> {
        self.mounter.unmount_all()
    }
}

impl PeMounter {
    fn unmount_all(&self) -> Result<(), String> {
        let (system, target) = {
            let mut state = self.state.lock().map_err(|_| "mount state poisoned")?;
            (state.system.take(), state.target.take())
        };
        let system = system.map_or(Ok(()), Mounted::unmount);
        let target = target.map_or(Ok(()), Mounted::unmount);
        system.and(target)
    }
}

/// Waits up to 5 s for a partition's node to appear.
fn wait_for(part: &Path, disk: &Path) -> Result<(), String> {
    for _ in 0..50 {
        if part.exists() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "{} did not appear after the partition table of {} was re-read",
        part.display(),
        disk.display()
    ))
}

impl Mounter for PeMounter {
    fn partition(&self, disk: &Path, number: u32) -> Result<PathBuf, String> {
        self.unmount_all()?;
        let _ = devices::run("sync", &[]);
        // The kernel learns of the new partition table; the partitions' nodes then appear.
        devices::run("blockdev", &["--rereadpt", &disk.display().to_string()])?;
        let part = partition_path(disk, number);
        wait_for(&part, disk)?;
        Ok(part)
    }

    fn mount(&self, disk: &Path, number: u32) -> Result<PathBuf, String> {
        let mut state = self.state.lock().map_err(|_| "mount state poisoned")?;
        if let Some(old) = state.target.take() {
            old.unmount()?;
        }
        let part = partition_path(disk, number);
        wait_for(&part, disk)?;
        let volume = Mounted::new(&part, &self.mount_point)?;
        let at = volume.path().to_path_buf();
        state.target = Some(volume);
        Ok(at)
    }

    fn mount_system(&self, disk: &Path, number: u32) -> Result<PathBuf, String> {
        let mut state = self.state.lock().map_err(|_| "mount state poisoned")?;
        if let Some(old) = state.system.take() {
            old.unmount()?;
        }
        let part = partition_path(disk, number);
        wait_for(&part, disk)?;
        let volume = Mounted::new(&part, &self.system_point)?;
        let at = volume.path().to_path_buf();
        state.system = Some(volume);
        Ok(at)
    }

    fn unmount_system(&self) -> Result<(), String> {
        let system = {
            let mut state = self.state.lock().map_err(|_| "mount state poisoned")?;
            state.system.take()
        };
        system.map_or(Ok(()), Mounted::unmount)
    }

    fn release(&self) -> Result<(), String> {
        self.unmount_all()
    }
}
