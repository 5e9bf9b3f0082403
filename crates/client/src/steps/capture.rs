//! Capture Operating System Image (`SMS_TaskSequence_CaptureSystemImageAction`; `docs/media.md`,
//! "Capture media"): the volume the task sequence runs against (the target, where tsmedia PE
//! mounts the chosen volume) is captured as a new image of a WIM file.
//!
//! Settings, as the step's variables (`VariablePrefix("OSD")` of the class), media variables
//! or answers given at boot:
//! - `OSDCaptureDestination` (`CaptureDestination`, required): the WIM file, a local path or a
//!   path below a mounted share. A UNC path (`\\server\share\…`) is refused, naming it: the
//!   runtime mounts no shares. The destination may not lie inside the captured volume. An
//!   existing file is replaced only when the new one is complete.
//! - `OSDImageName` (*tsmedia*; default `Captured image`), `OSDImageDescription`,
//!   `OSDImageVersion` (at most 32 characters), `OSDImageCreator`: the image's name and
//!   properties, stored in the WIM's XML (`NAME`, `DESCRIPTION`, and `TSMEDIA/VERSION`,
//!   `TSMEDIA/CREATOR`; WIM readers keep elements they do not know).
//! - `OSDCaptureCompression` (*tsmedia*): `none`, `xpress`, `lzx` (default) or `lzms`.
//!
//! Left out of the image: the task sequence's working folder `_SMSTaskSequence` (its log and
//! state change while the capture runs) and what wimlib leaves out by default (paging and
//! hibernation files, recycle bins, `System Volume Information`).

use std::path::{Path, PathBuf};

use tsmedia_base::error_chain;
use tsmedia_codecs::Format;
use tsmedia_tasksequence::{Step, StepError, StepOutcome, Variables};
use tsmedia_wim::capture::capture_tree_with;
use tsmedia_wim::capture_config::CaptureConfig;
use tsmedia_wim::metadata::Image;
use tsmedia_wim::xml::Element;
use tsmedia_wim::{WimWriter, WriteOptions};

use super::{failed, setting};
use crate::runner::MediaStepRunner;

/// The image name when none is given.
pub const DEFAULT_IMAGE_NAME: &str = "Captured image";
/// Longest `OSDImageVersion` (the class's `AllowedLen("0-32")`).
pub const MAX_IMAGE_VERSION: usize = 32;

/// The compression named by `OSDCaptureCompression`.
pub fn compression(name: &str) -> Option<Option<Format>> {
    match name.trim().to_ascii_lowercase().as_str() {
        "none" => Some(None),
        "xpress" | "fast" => Some(Some(Format::Xpress)),
        "lzx" | "maximum" | "" => Some(Some(Format::Lzx)),
        "lzms" | "recovery" => Some(Some(Format::Lzms)),
        _ => None,
    }
}

/// Whether `path` lies inside `dir` (both made absolute; `dir` resolved through links).
fn inside(path: &Path, dir: &Path) -> bool {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let parent = path
        .parent()
        .map(|p| p.canonicalize().unwrap_or_else(|_| p.to_path_buf()))
        .unwrap_or_default();
    parent.starts_with(&dir)
}

pub(crate) fn capture(
    r: &mut MediaStepRunner<'_>,
    step: &Step,
    env: &mut Variables,
) -> Result<StepOutcome, StepError> {
    let dest = setting(step, env, "OSDCaptureDestination", "CaptureDestination")
        .ok_or_else(|| {
            failed(
                step,
                "no capture destination (OSDCaptureDestination): give it when the media are built (--variable OSDCaptureDestination=PATH), from the prestart command, or at boot on a terminal",
            )
        })?;
    if dest.starts_with("\\\\") || dest.starts_with("//") {
        return Err(failed(
            step,
            format!(
                "OSDCaptureDestination {dest:?} is a network share: mount it first and give the WIM's path below the mount point"
            ),
        ));
    }
    let dest = std::path::absolute(PathBuf::from(&dest))
        .map_err(|e| failed(step, format!("OSDCaptureDestination {dest:?}: {e}")))?;
    let volume = r.options.target.clone();
    if !volume.is_dir() {
        return Err(failed(
            step,
            format!(
                "the volume to capture, {}, is not a folder",
                volume.display()
            ),
        ));
    }
    if inside(&dest, &volume) {
        return Err(failed(
            step,
            format!(
                "OSDCaptureDestination {} is inside the volume being captured ({}); write the image elsewhere",
                dest.display(),
                volume.display()
            ),
        ));
    }
    let name = setting(step, env, "OSDImageName", "ImageName")
        .unwrap_or_else(|| DEFAULT_IMAGE_NAME.to_string());
    let description = setting(step, env, "OSDImageDescription", "ImageDescription");
    let version = setting(step, env, "OSDImageVersion", "ImageVersion");
    let creator = setting(step, env, "OSDImageCreator", "ImageCreator");
    if let Some(v) = &version
        && v.chars().count() > MAX_IMAGE_VERSION
    {
        return Err(failed(
            step,
            format!("OSDImageVersion {v:?} is longer than {MAX_IMAGE_VERSION} characters"),
        ));
    }
    let compression_name =
        setting(step, env, "OSDCaptureCompression", "CaptureCompression").unwrap_or_default();
    let format = compression(&compression_name).ok_or_else(|| {
        failed(
            step,
            format!(
                "OSDCaptureCompression {compression_name:?}: expected none, xpress, lzx or lzms"
            ),
        )
    })?;
    let mut config = CaptureConfig::default_exclusions();
    config.exclude.push("/_SMSTaskSequence".into());
    config.ignore_case = true;
    let write_options = WriteOptions {
        compression: format,
        chunk_size: format.map_or(0, |f| f.default_chunk_size() as u32),
        cancel: r.options.cancel.clone(),
        ..WriteOptions::default()
    };
    let wim_err =
        |what: &str, e: tsmedia_wim::Error| failed(step, format!("{what}: {}", error_chain(&e)));
    let dest_text = dest.display().to_string();
    let mut writer = WimWriter::create(&dest, write_options).map_err(|e| wim_err(&dest_text, e))?;
    let (root, report) = capture_tree_with(&volume, &mut writer, false, Some(&config))
        .map_err(|e| wim_err(&format!("capturing {}", volume.display()), e))?;
    let mut xml = Element::new("IMAGE");
    xml.children.push(Element::with_text("NAME", name.clone()));
    if let Some(d) = &description {
        xml.children
            .push(Element::with_text("DESCRIPTION", d.clone()));
    }
    for (path, value) in [("TSMEDIA/VERSION", &version), ("TSMEDIA/CREATOR", &creator)] {
        if let Some(v) = value {
            xml.set(path, Some(v));
        }
    }
    let image = Image {
        security: Default::default(),
        root,
    };
    writer
        .add_image(&image, xml)
        .map_err(|e| wim_err(&dest_text, e))?;
    writer.finish(0).map_err(|e| wim_err(&dest_text, e))?;
    r.note(format!(
        "captured {} to {} as {name:?} ({}): {} files, {} folders, {} bytes",
        volume.display(),
        dest.display(),
        format.map_or("no compression".to_string(), |f| format!("{f:?}")),
        report.files,
        report.dirs,
        report.bytes
    ));
    for w in report.warnings {
        r.note(format!("warning: {w}"));
    }
    Ok(StepOutcome::exit(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_names() {
        assert_eq!(compression(""), Some(Some(Format::Lzx)));
        assert_eq!(compression("XPRESS"), Some(Some(Format::Xpress)));
        assert_eq!(compression("none"), Some(None));
        assert_eq!(compression("zip"), None);
    }

    #[test]
    fn a_destination_inside_the_volume_is_recognised() {
        let t = tempfile::tempdir().unwrap();
        let vol = t.path().join("vol");
        std::fs::create_dir_all(vol.join("sub")).unwrap();
        assert!(inside(&vol.join("sub/x.wim"), &vol));
        assert!(inside(&vol.join("x.wim"), &vol));
        assert!(!inside(&t.path().join("x.wim"), &vol));
    }
}
