//! Formatting a volume with `mkntfs`.
//!
//! `mkntfs --fast` (quick format: the volume is not zeroed) with a label, the sector size and,
//! for a partition of a disk, the partition's first sector: NTFS keeps it in the boot sector
//! ("hidden sectors"), and Windows' boot code needs it to find the volume on a BIOS disk.
//! `--force` because an image file is not a block device. See `docs/ntfs.md`.

use crate::error::Result;
use crate::tool;
use std::path::Path;
use std::process::Command;

/// How a volume is formatted.
#[derive(Clone, Debug)]
pub struct FormatOptions {
    /// Volume label. Default: `Windows`.
    pub label: String,
    /// Bytes per sector (512 or 4096). Default: 512 (what `mkntfs` assumes for a file).
    pub sector_size: u32,
    /// For a partition of a disk: its first sector (LBA), with 255 heads and 63 sectors per
    /// track, the geometry Windows writes. Default: none (a whole-device volume).
    pub partition_start: Option<u64>,
    /// Quick format (`--fast`): nothing is zeroed. Default: true.
    pub quick: bool,
}

impl Default for FormatOptions {
    fn default() -> Self {
        FormatOptions {
            label: "Windows".into(),
            sector_size: 512,
            partition_start: None,
            quick: true,
        }
    }
}

/// The `mkntfs` arguments for `device` with `opts`.
pub fn mkntfs_args(device: &Path, opts: &FormatOptions) -> Vec<String> {
    let mut args = vec!["--force".to_string(), "--quiet".to_string()];
    if opts.quick {
        args.push("--fast".into());
    }
    args.extend(["--label".into(), opts.label.clone()]);
    args.extend(["--sector-size".into(), opts.sector_size.to_string()]);
    if let Some(start) = opts.partition_start {
        args.extend(["--partition-start".into(), start.to_string()]);
        args.extend(["--heads".into(), "255".into()]);
        args.extend(["--sectors-per-track".into(), "63".into()]);
    }
    args.push(device.display().to_string());
    args
}

/// Formats `device` (a partition's block device or an image file) as NTFS.
pub fn format(device: &Path, opts: &FormatOptions) -> Result<()> {
    let mut cmd = Command::new("mkntfs");
    cmd.args(mkntfs_args(device, opts));
    tool::run("mkntfs", &mut cmd, device)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_follow_the_options() {
        let p = Path::new("/dev/sda3");
        let quick = mkntfs_args(p, &FormatOptions::default()).join(" ");
        assert_eq!(
            quick,
            "--force --quiet --fast --label Windows --sector-size 512 /dev/sda3"
        );
        let part = FormatOptions {
            label: "OS".into(),
            sector_size: 4096,
            partition_start: Some(2048),
            quick: false,
        };
        assert_eq!(
            mkntfs_args(p, &part).join(" "),
            "--force --quiet --label OS --sector-size 4096 --partition-start 2048 \
             --heads 255 --sectors-per-track 63 /dev/sda3"
        );
    }
}
