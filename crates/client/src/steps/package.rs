//! Steps that copy package content: Apply Driver Package (content copied to
//! `<target>/Drivers/<ID>`) and Download Package Content (content copied to the task sequence
//! cache or a folder, its path put in `<OSDDownloadDestinationVariable>01`, `02`...). Install
//! Package and Install Application are in [`super::software`].

use std::fs;
use std::path::{Path, PathBuf};

use tsmedia_tasksequence::{Step, StepError, StepOutcome, Variables};

use super::{action_arg, failed, failed_by, setting};
use crate::runner::MediaStepRunner;

/// Copies the folder `from` into `to` (created), file by file.
pub(crate) fn copy_tree(from: &Path, to: &Path) -> std::io::Result<u64> {
    fs::create_dir_all(to)?;
    let mut files = 0;
    for e in fs::read_dir(from)? {
        let e = e?;
        let ty = e.file_type()?;
        let dest = to.join(e.file_name());
        if ty.is_dir() {
            files += copy_tree(&e.path(), &dest)?;
        } else if ty.is_file() {
            fs::copy(e.path(), &dest)?;
            files += 1;
        }
    }
    Ok(files)
}

pub(crate) fn apply_drivers(
    r: &mut MediaStepRunner<'_>,
    step: &Step,
    env: &mut Variables,
) -> Result<StepOutcome, StepError> {
    let id = setting(
        step,
        env,
        "OSDApplyDriverDriverPackageID",
        "DriverPackageID",
    )
    .or_else(|| {
        step.action
            .as_deref()
            .and_then(|a| action_arg(&env.expand(a), "install"))
    })
    .ok_or_else(|| failed(step, "no driver package (DriverPackageID)"))?;
    let content = r
        .content
        .content(&id, None)
        .map_err(|e| failed_by(step, &e))?;
    let dest = r.options.target.join("Drivers").join(&content.package_id);
    let files = copy_tree(&content.path, &dest)
        .map_err(|e| failed(step, format!("copying drivers to {}: {e}", dest.display())))?;
    r.note(format!(
        "driver package {} version {} from {}: {files} files copied to {}",
        content.package_id,
        content.version,
        content.origin,
        dest.display()
    ));
    Ok(StepOutcome::exit(0))
}

pub(crate) fn download(
    r: &mut MediaStepRunner<'_>,
    step: &Step,
    env: &mut Variables,
) -> Result<StepOutcome, StepError> {
    let ids = setting(step, env, "OSDDownloadDownloadPackages", "DownloadPackages")
        .ok_or_else(|| failed(step, "no packages (OSDDownloadDownloadPackages)"))?;
    let location = setting(
        step,
        env,
        "OSDDownloadDestinationLocationType",
        "DestinationLocationType",
    )
    .unwrap_or_else(|| "TSCache".into());
    let base: PathBuf = match location.to_ascii_lowercase().as_str() {
        "custom" => setting(step, env, "OSDDownloadDestinationPath", "DestinationPath")
            .map(PathBuf::from)
            .ok_or_else(|| failed(step, "custom location without OSDDownloadDestinationPath"))?,
        "tscache" | "ccmcache" | "clientcache" => {
            r.options.target.join("_SMSTaskSequence").join("Packages")
        }
        other => return Err(failed(step, format!("unknown destination type {other:?}"))),
    };
    let variable = setting(
        step,
        env,
        "OSDDownloadDestinationVariable",
        "DestinationVariable",
    );
    let mut n = 0;
    for id in ids.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let content = r
            .content
            .content(id, None)
            .map_err(|e| failed_by(step, &e))?;
        let dest = base.join(&content.package_id);
        if dest != content.path {
            if dest.exists() {
                fs::remove_dir_all(&dest)
                    .map_err(|e| failed(step, format!("{}: {e}", dest.display())))?;
            }
            copy_tree(&content.path, &dest)
                .map_err(|e| failed(step, format!("copying to {}: {e}", dest.display())))?;
        }
        n += 1;
        if let Some(v) = &variable {
            env.set(&format!("{v}{n:02}"), dest.display().to_string())
                .map_err(|e| failed(step, e))?;
        }
        r.note(format!(
            "{} version {} from {} is in {}",
            content.package_id,
            content.version,
            content.origin,
            dest.display()
        ));
    }
    Ok(StepOutcome::exit(0))
}
