//! Apply Windows Settings and Apply Network Settings: the answer file
//! (`Windows/Panther/unattend.xml`) on the target volume, merged with the image's own
//! (docs/unattend.md).
//!
//! As in Configuration Manager, the step's settings become task sequence variables first
//! (later steps and `%VAR%` references see them); the answer file is then written from all
//! the variables, so running both steps, in either order, gives one file with everything.
//! Passwords stay out of the log.

use tsmedia_tasksequence::{Step, StepError, StepOutcome, Variables};
use tsmedia_winboot::unattend::{Join, settings_from_variables, write_answer_file};

use super::{failed, failed_by};
use crate::runner::MediaStepRunner;

pub(crate) fn apply_settings(
    runner: &mut MediaStepRunner<'_>,
    step: &Step,
    env: &mut Variables,
) -> Result<StepOutcome, StepError> {
    for variable in &step.variables {
        let value = env.expand(&variable.value);
        if variable.name.trim().is_empty() || value.trim().is_empty() {
            continue;
        }
        env.set(&variable.name, value)
            .map_err(|e| failed(step, e))?;
    }
    let settings = settings_from_variables(|name| env.get(name).map(str::to_string))
        .map_err(|e| failed_by(step, &e))?;
    let path =
        write_answer_file(&runner.options.target, &settings).map_err(|e| failed_by(step, &e))?;

    let mut said = Vec::new();
    if let Some(name) = &settings.computer_name {
        said.push(format!("computer name {name}"));
    }
    if let Some(tz) = &settings.time_zone {
        said.push(format!("time zone {tz}"));
    }
    match &settings.join {
        Some(Join::Workgroup(wg)) => said.push(format!("workgroup {wg}")),
        Some(Join::Domain {
            domain, account, ..
        }) => said.push(format!("join {domain} as {account}")),
        None => {}
    }
    if settings.admin_password.is_some() {
        said.push("Administrator password (encoded)".into());
    }
    if !settings.adapters.is_empty() {
        said.push(format!("{} network adapter(s)", settings.adapters.len()));
    }
    let relative = path.strip_prefix(&runner.options.target).unwrap_or(&path);
    runner.note(format!(
        "wrote {}: {}",
        relative.display(),
        if said.is_empty() {
            "no settings".to_string()
        } else {
            said.join(", ")
        }
    ));
    Ok(StepOutcome::exit(0))
}
