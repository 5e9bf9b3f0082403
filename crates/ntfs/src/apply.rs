//! Applying a WIM image onto an NTFS volume: mount, the WIM engine's one apply with
//! [`NtfsBackend`], unmount — always, also when the apply fails.

use crate::backend::NtfsBackend;
use crate::detect;
use crate::error::{Error, Result};
use crate::mount::Mount;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tsmedia_wim::{ApplyOptions, ApplyReport, Wim};

/// Applies image `image` (1-based) of `wim` onto the NTFS volume `device` (a partition's
/// block device or an image file, already formatted: see [`crate::format()`]), with every
/// piece of Windows metadata the image holds. `opts.backend` is replaced.
///
/// The volume is unmounted before this returns, whatever happened; a full volume is
/// [`Error::Full`] naming the file being written.
pub fn apply_to_ntfs(
    wim: &Wim,
    image: u32,
    device: &Path,
    opts: &ApplyOptions,
) -> Result<ApplyReport> {
    if !detect::is_ntfs(device, 0)? {
        return Err(Error::NotNtfs {
            path: device.to_path_buf(),
        });
    }
    let mount = Mount::new(device)?;
    let applied = apply_to_mounted(wim, image, device, mount.path(), opts);
    let unmounted = mount.unmount();
    let report = applied?;
    unmounted?;
    Ok(report)
}

/// Like [`apply_to_ntfs`], onto a volume already mounted by `ntfs-3g` on `root` (a [`Mount`],
/// or tsmedia PE's target volume); `device` names it in messages. The volume stays mounted.
pub fn apply_to_mounted(
    wim: &Wim,
    image: u32,
    device: &Path,
    root: &Path,
    opts: &ApplyOptions,
) -> Result<ApplyReport> {
    let opts = ApplyOptions {
        backend: Some(Arc::new(NtfsBackend {
            device: device.to_path_buf(),
        })),
        ..opts.clone()
    };
    tsmedia_wim::apply(wim, image, root, &opts).map_err(|e| volume_error(e, device, root))
}

/// The WIM engine's error in terms of the volume: a path under the mount point becomes the
/// path in the image, and "no space left" an [`Error::Full`].
fn volume_error(e: tsmedia_wim::Error, device: &Path, root: &Path) -> Error {
    match e {
        tsmedia_wim::Error::Io { path, source } if path.starts_with(root) => {
            let file = in_image(&path, root);
            if source.raw_os_error() == Some(28) || source.kind() == std::io::ErrorKind::StorageFull
            {
                Error::Full {
                    volume: device.to_path_buf(),
                    file,
                }
            } else {
                Error::Write {
                    volume: device.to_path_buf(),
                    file,
                    source,
                }
            }
        }
        other => Error::Wim {
            volume: device.to_path_buf(),
            source: other,
        },
    }
}

/// `/dir/file` for `ROOT/dir/file`.
fn in_image(path: &Path, root: &Path) -> String {
    let rel: PathBuf = path.strip_prefix(root).unwrap_or(path).to_path_buf();
    format!("/{}", rel.display())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    #[test]
    fn errors_under_the_mount_point_name_the_file_in_the_image() {
        let root = Path::new("/tmp/tsmedia-ntfs-x");
        let full = tsmedia_wim::Error::Io {
            path: root.join("Windows/big.bin"),
            source: io::Error::from_raw_os_error(28),
        };
        let e = volume_error(full, Path::new("os.img"), root);
        assert_eq!(
            e.to_string(),
            "the NTFS volume os.img is full: no space left for /Windows/big.bin"
        );
        let denied = tsmedia_wim::Error::Io {
            path: root.join("a:s"),
            source: io::Error::from_raw_os_error(13),
        };
        let e = volume_error(denied, Path::new("os.img"), root);
        assert!(
            matches!(&e, Error::Write { file, .. } if file == "/a:s"),
            "{e}"
        );
        let elsewhere = tsmedia_wim::Error::Io {
            path: "/srv/x.wim".into(),
            source: io::Error::from_raw_os_error(5),
        };
        assert!(matches!(
            volume_error(elsewhere, Path::new("os.img"), root),
            Error::Wim { .. }
        ));
    }
}
