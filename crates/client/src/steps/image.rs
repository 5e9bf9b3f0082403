//! Apply Operating System and Apply Data Image (Capture Operating System Image is in
//! [`super::capture`]).
//!
//! The image is named by the step's action (`OSDApplyOS.exe /image:<PackageID>,<index>`) or
//! its settings (`OSDImagePackageId`/`ImagePackageID`, `OSDImageIndex`/`ImageIndex`); the
//! package's content holds one `.wim` file.

use std::fs;
use std::path::{Path, PathBuf};

use tsmedia_base::error_chain;
use tsmedia_tasksequence::{Step, StepError, StepOutcome, Variables};
use tsmedia_wim::Wim;

use super::{action_arg, failed, failed_by, setting};
use crate::runner::MediaStepRunner;

/// The image package and index of an apply step.
fn image_ref(step: &Step, env: &Variables) -> Result<(String, u32), StepError> {
    let from_action = step
        .action
        .as_deref()
        .and_then(|a| action_arg(&env.expand(a), "image"));
    let (mut id, mut index) = (None, None);
    if let Some(arg) = from_action {
        let mut parts = arg.splitn(2, ',');
        id = parts.next().map(str::to_string).filter(|s| !s.is_empty());
        index = parts.next().map(str::to_string);
    }
    let id = id
        .or_else(|| setting(step, env, "OSDImagePackageId", "ImagePackageID"))
        .ok_or_else(|| failed(step, "no image package (action /image: or ImagePackageID)"))?;
    // A variable set before the step (the media's `OSDImageIndex`, from `--os-image-index`)
    // wins over the step's own setting, as for every action variable (the engine's rule).
    let index = index
        .or_else(|| env.get("OSDImageIndex").map(|v| env.expand(v)))
        .filter(|v| !v.trim().is_empty())
        .or_else(|| setting(step, env, "OSDImageIndex", "ImageIndex"))
        .unwrap_or_else(|| "1".into());
    let index: u32 = index
        .trim()
        .parse()
        .ok()
        .filter(|i| *i > 0)
        .ok_or_else(|| {
            failed(
                step,
                format!("image index {index:?} is not a number from 1"),
            )
        })?;
    Ok((id, index))
}

/// The single `.wim` in a content folder, or the parts of one split WIM (`install.swm`,
/// `install2.swm`, ... as media store WIMs over FAT32's or a disc's limit): the first part
/// and the others.
fn find_wim(step: &Step, folder: &Path) -> Result<(PathBuf, Vec<PathBuf>), StepError> {
    let mut wims = Vec::new();
    let mut parts = Vec::new();
    let entries =
        fs::read_dir(folder).map_err(|e| failed(step, format!("{}: {e}", folder.display())))?;
    for e in entries {
        let e = e.map_err(|e| failed(step, format!("{}: {e}", folder.display())))?;
        let p = e.path();
        let ext = p.extension().map(|x| x.to_ascii_lowercase());
        if p.is_file() && ext.as_deref() == Some("wim".as_ref()) {
            wims.push(p);
        } else if p.is_file() && ext.as_deref() == Some("swm".as_ref()) {
            parts.push(p);
        }
    }
    wims.sort();
    match wims.len() {
        1 => Ok((wims.remove(0), Vec::new())),
        0 if !parts.is_empty() => {
            // The first part is the one whose stem has no part number.
            parts.sort();
            let first = parts
                .iter()
                .position(|p| {
                    p.file_stem()
                        .and_then(|s| s.to_str())
                        .is_some_and(|s| !s.ends_with(|c: char| c.is_ascii_digit()))
                })
                .ok_or_else(|| {
                    failed(
                        step,
                        format!(
                            "no first part (NAME.swm) among the .swm files in {}",
                            folder.display()
                        ),
                    )
                })?;
            let first = parts.remove(first);
            Ok((first, parts))
        }
        0 => Err(failed(
            step,
            format!("no .wim file in {}", folder.display()),
        )),
        n => Err(failed(
            step,
            format!("{n} .wim files in {}; expected one", folder.display()),
        )),
    }
}

/// Opens the WIM of a content folder, with its other parts when it is split.
fn open_wim(step: &Step, folder: &Path) -> Result<(Wim, PathBuf), StepError> {
    let (path, refs) = find_wim(step, folder)?;
    let err = |p: &Path, e: tsmedia_wim::Error| {
        failed(step, format!("{}: {}", p.display(), error_chain(&e)))
    };
    let mut wim = Wim::open(&path).map_err(|e| err(&path, e))?;
    for r in &refs {
        wim.add_ref(r).map_err(|e| err(r, e))?;
    }
    wim.check_parts().map_err(|e| err(&path, e))?;
    Ok((wim, path))
}

/// Removes everything inside `dir` (not `dir` itself) except the task sequence's working
/// folder `_SMSTaskSequence` (its log, cache and state), which Configuration Manager keeps
/// across the wipe too.
fn wipe(step: &Step, dir: &Path) -> Result<(), StepError> {
    let io = |e: std::io::Error| failed(step, format!("wiping {}: {e}", dir.display()));
    if !dir.exists() {
        return Ok(());
    }
    for e in fs::read_dir(dir).map_err(io)? {
        let e = e.map_err(io)?;
        if e.file_name().eq_ignore_ascii_case("_SMSTaskSequence") {
            continue;
        }
        let p = e.path();
        let meta = fs::symlink_metadata(&p).map_err(io)?;
        if meta.is_dir() {
            fs::remove_dir_all(&p).map_err(io)?;
        } else {
            fs::remove_file(&p).map_err(io)?;
        }
    }
    Ok(())
}

/// `WINDOWS/ARCH` values of the WIM XML, and what this computer runs.
const ARCH_X86: u32 = 0;
const ARCH_X64: u32 = 9;

fn arch_name(arch: u32) -> String {
    match arch {
        0 => "x86".into(),
        5 => "ARM".into(),
        6 => "IA-64".into(),
        9 => "x64".into(),
        12 => "ARM64".into(),
        other => format!("architecture {other}"),
    }
}

/// Refuses an index the WIM does not have, and a Windows image this computer cannot start
/// (tsmedia PE runs on x64 computers; an image without `WINDOWS/ARCH`, such as a data image,
/// is taken as it is).
fn check_image(step: &Step, wim: &Wim, wim_path: &Path, index: u32) -> Result<(), StepError> {
    let info = wim.info();
    if index > info.image_count {
        return Err(failed(
            step,
            format!(
                "image index {index} does not exist: {} holds {} image{}",
                wim_path.display(),
                info.image_count,
                if info.image_count == 1 { "" } else { "s" }
            ),
        ));
    }
    let arch = info.images.get(index as usize - 1).and_then(|i| i.arch);
    if let Some(arch) = arch
        && arch != ARCH_X64
        && arch != ARCH_X86
    {
        return Err(failed(
            step,
            format!(
                "image {index} of {} is for {} computers (WINDOWS/ARCH {arch}); this computer is x64",
                wim_path.display(),
                arch_name(arch)
            ),
        ));
    }
    Ok(())
}

fn apply(
    r: &mut MediaStepRunner<'_>,
    step: &Step,
    env: &Variables,
    wipe_first: bool,
) -> Result<StepOutcome, StepError> {
    let (id, index) = image_ref(step, env)?;
    let content = r
        .content
        .content(&id, None)
        .map_err(|e| failed_by(step, &e))?;
    let (wim, wim_path) = open_wim(step, &content.path)?;
    check_image(step, &wim, &wim_path, index)?;
    let target = r.options.target.clone();
    if wipe_first {
        wipe(step, &target)?;
    }
    fs::create_dir_all(&target).map_err(|e| failed(step, format!("{}: {e}", target.display())))?;
    let apply_options = tsmedia_wim::apply::ApplyOptions {
        cancel: r.options.cancel.clone(),
        ..Default::default()
    };
    // An NTFS target (mounted by ntfs-3g) gets the image's Windows metadata through
    // tsmedia-ntfs, the same apply as `tsmedia wim apply WIM INDEX /dev/sdX`.
    let ntfs = tsmedia_ntfs::mounted_ntfs_device(&target);
    let report = match &ntfs {
        Some(device) => {
            tsmedia_ntfs::apply_to_mounted(&wim, index, device, &target, &apply_options).map_err(
                |e| {
                    failed(
                        step,
                        format!(
                            "applying {} image {index}: {}",
                            wim_path.display(),
                            error_chain(&e)
                        ),
                    )
                },
            )?
        }
        None => tsmedia_wim::apply::apply(&wim, index, &target, &apply_options).map_err(|e| {
            failed(
                step,
                format!(
                    "applying {} image {index}: {}",
                    wim_path.display(),
                    error_chain(&e)
                ),
            )
        })?,
    };
    r.note(format!(
        "applied image {index} of {id} ({}, from {}) to {}{}: {} files, {} folders, {} bytes",
        wim_path.display(),
        content.origin,
        target.display(),
        ntfs.as_ref()
            .map(|d| format!(" (NTFS volume {}, with Windows metadata)", d.display()))
            .unwrap_or_default(),
        report.files,
        report.dirs,
        report.bytes
    ));
    for w in report.warnings {
        r.note(format!("warning: {w}"));
    }
    Ok(StepOutcome::exit(0))
}

pub(crate) fn apply_os(
    r: &mut MediaStepRunner<'_>,
    step: &Step,
    env: &mut Variables,
) -> Result<StepOutcome, StepError> {
    // Prestaged media: the image is already on the disk; the step neither wipes nor applies
    // (`docs/media.md`, "At boot" step 9).
    if env
        .get("_SMSTSMediaType")
        .is_some_and(|t| t.eq_ignore_ascii_case("OEMMedia"))
    {
        let image = match image_ref(step, env) {
            Ok((id, index)) => format!("image {id} index {index}"),
            Err(_) => "the image".into(),
        };
        r.note(format!(
            "_SMSTSMediaType is OEMMedia: {image} is prestaged; skipping the wipe and the apply"
        ));
        return Ok(StepOutcome::exit(0));
    }
    apply(r, step, env, true)
}

pub(crate) fn apply_data(
    r: &mut MediaStepRunner<'_>,
    step: &Step,
    env: &mut Variables,
) -> Result<StepOutcome, StepError> {
    let wipe_first = setting(step, env, "OSDWipeDestinationPartition", "WipePartition")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    apply(r, step, env, wipe_first)
}
