//! What the site needs to know about a WIM: its images (index, name, architecture, size) and
//! its boot index, from `tsmedia_wim::inspect` (header and XML data only).

use std::path::Path;

use serde::Serialize;

use crate::arch::Arch;
use crate::error::{Error, Result};

/// One image of a WIM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WimImage {
    /// 1-based image index.
    pub index: u32,
    /// `NAME` from the XML (empty when absent).
    pub name: String,
    /// `DESCRIPTION` from the XML (empty when absent).
    pub description: String,
    /// `WINDOWS/ARCH` from the XML, when present and one tsmedia deploys (0, 9, 12).
    pub arch: Option<Arch>,
    /// `TOTALBYTES` of the image: the size of its files when applied.
    pub size: u64,
    /// `tsmedia-pe` for a tsmedia PE boot image (its XML's `FLAGS`); none otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flavour: Option<String>,
    /// A tsmedia PE image's kernel release (`TSMEDIAPE/KERNEL`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
}

/// The `FLAGS` value of tsmedia PE boot images.
pub const TSMEDIA_PE: &str = "tsmedia-pe";

impl WimImage {
    /// What kind of boot environment the image is: `tsmedia-pe`, or `winpe` for any other.
    pub fn boot_flavour(&self) -> &str {
        self.flavour.as_deref().unwrap_or("winpe")
    }
}

/// The images of a WIM and which one boots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WimSummary {
    pub images: Vec<WimImage>,
    /// 1-based bootable image index, 0 when none is marked.
    pub boot_index: u32,
}

/// Reads the images of the WIM at `path`. A file that is not a WIM gives [`Error::NotWim`].
pub(crate) fn inspect_wim(path: &Path) -> Result<WimSummary> {
    let info = tsmedia_wim::inspect(path).map_err(|e| match e {
        tsmedia_wim::Error::Io { path, source }
            if source.kind() != std::io::ErrorKind::UnexpectedEof =>
        {
            Error::Io { path, source }
        }
        other => Error::NotWim {
            path: path.to_path_buf(),
            reason: other.to_string(),
        },
    })?;
    if info.total_parts > 1 {
        return Err(Error::NotWim {
            path: path.to_path_buf(),
            reason: format!(
                "part {} of a split WIM of {} parts; join it first",
                info.part_number, info.total_parts
            ),
        });
    }
    Ok(WimSummary {
        boot_index: info.boot_index,
        images: info
            .images
            .into_iter()
            .map(|i| WimImage {
                index: i.index,
                name: i.name,
                description: i.description,
                arch: i.arch.and_then(Arch::from_wim_code),
                size: i.total_bytes,
                flavour: (i.properties.get("FLAGS").map(String::as_str) == Some(TSMEDIA_PE))
                    .then(|| TSMEDIA_PE.to_string()),
                kernel: i.properties.get("TSMEDIAPE/KERNEL").cloned(),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_wim_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for (name, data) in [("short", b"hello".to_vec()), ("zeros", vec![0u8; 4096])] {
            let path = dir.path().join(name);
            std::fs::write(&path, data).unwrap();
            let err = inspect_wim(&path).unwrap_err();
            assert!(matches!(err, Error::NotWim { .. }), "{name}: {err}");
        }
        assert!(matches!(
            inspect_wim(&dir.path().join("missing")),
            Err(Error::Io { .. })
        ));
    }
}
