//! The machine's disks as tsmedia PE sees them (`/sys/block`): finding the medium the PE was
//! started from by its media GUID — reading `TsmBootstrap.ini` straight from each device with
//! tsmedia's own ISO and FAT readers — choosing the disk the task sequence deploys to, and
//! mounting volumes with the kernel's drivers.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use tsmedia_image::disk::open_fat_volume;
use tsmedia_image::iso::IsoReader;

use crate::run::Bootstrap;

/// One block device: a whole disk or a partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockDevice {
    /// `/dev/<name>`.
    pub path: PathBuf,
    /// The kernel's name (`sr0`, `vda`, `vda1`, `nvme0n1p1`).
    pub name: String,
    /// The whole disk's name for a partition; `None` for a whole disk.
    pub parent: Option<String>,
    /// Size in bytes.
    pub size: u64,
    /// Whether the kernel calls it removable (USB sticks, optical drives).
    pub removable: bool,
}

impl BlockDevice {
    /// Whether it is an optical drive.
    pub fn is_optical(&self) -> bool {
        self.name.starts_with("sr")
    }
}

/// Names the kernel gives to devices that are never a deployment target or a medium.
fn ignored(name: &str) -> bool {
    ["loop", "ram", "zram", "dm-", "md", "fd"]
        .iter()
        .any(|p| name.starts_with(p))
}

fn read_u64(path: &Path) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

/// The block devices under `sys_block` (normally `/sys/block`), disks then their partitions,
/// in name order; devices of size 0 (an empty drive) are left out.
pub fn list(sys_block: &Path, dev: &Path) -> Vec<BlockDevice> {
    let mut names: Vec<String> = std::fs::read_dir(sys_block)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !ignored(n))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut out = Vec::new();
    for disk in names {
        let dir = sys_block.join(&disk);
        let removable = read_u64(&dir.join("removable")) == 1;
        let size = read_u64(&dir.join("size")) * 512;
        if size > 0 {
            out.push(BlockDevice {
                path: dev.join(&disk),
                name: disk.clone(),
                parent: None,
                size,
                removable,
            });
        }
        let mut parts: Vec<String> = std::fs::read_dir(&dir)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.starts_with(&disk) && dir.join(n).join("partition").exists())
                    .collect()
            })
            .unwrap_or_default();
        parts.sort_by_key(|p| read_u64(&dir.join(p).join("partition")));
        for p in parts {
            out.push(BlockDevice {
                path: dev.join(&p),
                size: read_u64(&dir.join(&p).join("size")) * 512,
                name: p,
                parent: Some(disk.clone()),
                removable,
            });
        }
    }
    out
}

/// How a medium is laid out on its device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediumKind {
    /// ISO 9660 (a CD/DVD, or an ISO written to a stick).
    Iso,
    /// A FAT volume (a USB stick's partition, or a partitionless stick).
    Fat,
}

impl MediumKind {
    /// The kernel's file system type for `mount -t`.
    pub fn fs_type(self) -> &'static str {
        match self {
            MediumKind::Iso => "iso9660",
            MediumKind::Fat => "vfat",
        }
    }
}

/// What a device holds when it is task sequence media.
#[derive(Debug, Clone)]
pub struct Medium {
    /// The device.
    pub device: BlockDevice,
    /// ISO or FAT.
    pub kind: MediumKind,
    /// Its `TsmBootstrap.ini`.
    pub bootstrap: Bootstrap,
}

/// Reads `TsmBootstrap.ini` from a device, when it is an ISO or a FAT volume holding one.
pub fn probe(device: &BlockDevice) -> Option<Medium> {
    let ini_path = tsmedia_mediafmt::BOOTSTRAP_PATH;
    let what = format!("{}:{ini_path}", device.path.display());
    if let Ok(mut iso) = IsoReader::open(&device.path)
        && let Ok(Some(entry)) = iso.find(ini_path)
        && let Ok(bytes) = iso.read(&entry)
    {
        return Bootstrap::parse(&String::from_utf8_lossy(&bytes), &what)
            .ok()
            .map(|bootstrap| Medium {
                device: device.clone(),
                kind: MediumKind::Iso,
                bootstrap,
            });
    }
    let file = File::open(&device.path).ok()?;
    let (mut fat, partition) = open_fat_volume(file).ok()?;
    if partition.is_some() && device.parent.is_none() {
        // The volume is in a partition of this disk: the kernel mounts the partition's own
        // device, which is probed next.
        return None;
    }
    let bytes = fat.read_file(ini_path, 1 << 20).ok()?;
    Bootstrap::parse(&String::from_utf8_lossy(&bytes), &what)
        .ok()
        .map(|bootstrap| Medium {
            device: device.clone(),
            kind: MediumKind::Fat,
            bootstrap,
        })
}

/// The medium among `devices` whose media GUID is `guid` (any medium when `guid` is `None`).
/// A whole disk that is a medium (an ISO on a stick) is taken before its partitions.
pub fn find_medium(devices: &[BlockDevice], guid: Option<&str>) -> Option<Medium> {
    devices.iter().filter_map(probe).find(|m| match guid {
        None => true,
        Some(g) => m
            .bootstrap
            .media_guid
            .as_deref()
            .is_some_and(|mg| mg.eq_ignore_ascii_case(g)),
    })
}

/// The disk to deploy to: the first whole disk that is not the medium's, not removable and not
/// an optical drive.
pub fn target_disk<'a>(
    devices: &'a [BlockDevice],
    medium: &BlockDevice,
) -> Option<&'a BlockDevice> {
    let medium_disk = medium.parent.as_deref().unwrap_or(&medium.name);
    devices
        .iter()
        .find(|d| d.parent.is_none() && d.name != medium_disk && !d.removable && !d.is_optical())
}

/// The device node of partition `number` of `disk` (`/dev/vda` → `/dev/vda1`,
/// `/dev/nvme0n1` → `/dev/nvme0n1p1`).
pub fn partition_path(disk: &Path, number: u32) -> PathBuf {
    let s = disk.display().to_string();
    if s.ends_with(|c: char| c.is_ascii_digit()) {
        PathBuf::from(format!("{s}p{number}"))
    } else {
        PathBuf::from(format!("{s}{number}"))
    }
}

/// Runs a program of tsmedia PE's busybox; an error says which and what it printed.
pub fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} {}: {} {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Mounts `device` (file system `fs`) at `at`, read-only when `read_only`.
pub fn mount(device: &Path, fs: &str, at: &Path, read_only: bool) -> Result<(), String> {
    std::fs::create_dir_all(at).map_err(|e| format!("{}: {e}", at.display()))?;
    let dev = device.display().to_string();
    let dir = at.display().to_string();
    let mut opts = String::from(if read_only { "ro" } else { "rw" });
    if fs == "vfat" {
        // Long names as UTF-8 (tsmedia PE carries nls_utf8; the kernel's default character
        // set module is not carried).
        opts.push_str(",iocharset=utf8");
    }
    run("mount", &["-t", fs, "-o", &opts, &dev, &dir])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_sys(root: &Path, disks: &[(&str, u64, bool, &[&str])]) {
        for (disk, sectors, removable, parts) in disks {
            let d = root.join(disk);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("size"), format!("{sectors}\n")).unwrap();
            std::fs::write(d.join("removable"), if *removable { "1\n" } else { "0\n" }).unwrap();
            for (i, p) in parts.iter().enumerate() {
                std::fs::create_dir_all(d.join(p)).unwrap();
                std::fs::write(d.join(p).join("partition"), format!("{}\n", i + 1)).unwrap();
                std::fs::write(d.join(p).join("size"), "100\n").unwrap();
            }
        }
    }

    #[test]
    fn lists_disks_then_partitions_and_picks_a_target_that_is_not_the_medium() {
        let t = tempfile::tempdir().unwrap();
        fake_sys(
            t.path(),
            &[
                ("sr0", 1000, true, &[]),
                ("sda", 2000, true, &["sda1"]),
                ("vda", 4000, false, &[]),
                ("loop0", 10, false, &[]),
                ("sr1", 0, true, &[]),
            ],
        );
        let devices = list(t.path(), Path::new("/dev"));
        let names: Vec<&str> = devices.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["sda", "sda1", "sr0", "vda"]);
        assert_eq!(devices[1].parent.as_deref(), Some("sda"));
        assert_eq!(devices[3].size, 4000 * 512);
        let medium = &devices[2];
        assert_eq!(target_disk(&devices, medium).unwrap().name, "vda");
        // The medium's own disk is never the target, even when it is not removable.
        let only = vec![devices[3].clone()];
        assert!(target_disk(&only, &devices[3]).is_none());
    }

    #[test]
    fn partition_device_names() {
        assert_eq!(
            partition_path(Path::new("/dev/vda"), 1),
            Path::new("/dev/vda1")
        );
        assert_eq!(
            partition_path(Path::new("/dev/nvme0n1"), 2),
            Path::new("/dev/nvme0n1p2")
        );
    }
}
