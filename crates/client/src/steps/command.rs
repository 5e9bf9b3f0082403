//! Run Command Line (through `sh -c`) and Set Task Sequence Variable.
//!
//! The command line is the step's `CommandLine` setting (or its action without the
//! `smsswd.exe /run:` launcher), run in `WorkingDirectory` (default: the package's content
//! when `PackageID` is set, else the target folder). The task sequence variables whose names
//! are shell-safe are passed as environment variables, as the Windows runtime does. The exit
//! code is returned; the engine judges it against the step's success codes.

use std::path::{Path, PathBuf};
use std::process::Command;

use tsmedia_tasksequence::{RestartTarget, Step, StepError, StepOutcome, Variables};

use super::{failed, failed_by, setting};
use crate::runner::MediaStepRunner;

/// Runs `command` with `sh -c` in `dir`; the exit code, or a failure for a signal.
pub(crate) fn run_shell(
    r: &mut MediaStepRunner<'_>,
    step: &Step,
    env: &Variables,
    command: &str,
    dir: &Path,
) -> Result<i64, StepError> {
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(command).current_dir(dir);
    for (name, value) in env.iter() {
        if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit())
        {
            cmd.env(name, value);
        }
    }
    let out = cmd
        .output()
        .map_err(|e| failed(step, format!("cannot start sh -c {command:?}: {e}")))?;
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            r.note(format!("{stream}: {line}"));
        }
    }
    let code = out.status.code().ok_or_else(|| {
        failed(
            step,
            format!("{command:?} was ended by a signal ({})", out.status),
        )
    })?;
    r.note(format!(
        "command {command:?} in {} exited with {code}",
        dir.display()
    ));
    Ok(i64::from(code))
}

/// The command line of a Run Command Line step.
fn command_line(step: &Step, env: &Variables) -> Option<String> {
    setting(step, env, "CommandLine", "CommandLine").or_else(|| {
        let action = env.expand(step.action.as_deref()?);
        let lower = action.to_ascii_lowercase();
        let rest = match lower.find("smsswd.exe /run:") {
            Some(at) => action[at + "smsswd.exe /run:".len()..].trim().to_string(),
            None => action.trim().to_string(),
        };
        Some(rest).filter(|s| !s.is_empty())
    })
}

pub(crate) fn run_command_line(
    r: &mut MediaStepRunner<'_>,
    step: &Step,
    env: &mut Variables,
) -> Result<StepOutcome, StepError> {
    let command = command_line(step, env).ok_or_else(|| failed(step, "no command line"))?;
    let dir = match setting(step, env, "WorkingDirectory", "WorkingDirectory") {
        Some(d) => PathBuf::from(d),
        None => match setting(step, env, "PackageID", "PackageID") {
            Some(id) => {
                r.content
                    .content(&id, None)
                    .map_err(|e| failed_by(step, &e))?
                    .path
            }
            None => r.options.target.clone(),
        },
    };
    if !dir.is_dir() {
        return Err(failed(
            step,
            format!("working directory {} does not exist", dir.display()),
        ));
    }
    let code = run_shell(r, step, env, &command, &dir)?;
    Ok(StepOutcome::exit(code))
}

/// Restart Computer: asks the engine to suspend the run for a restart into the installed
/// operating system (`SMSRebootTarget` = `HD`) or the boot image (anything else). The
/// runtime saves the state; the next run on the same target resumes after this step.
pub(crate) fn restart(
    r: &mut MediaStepRunner<'_>,
    step: &Step,
    env: &Variables,
) -> Result<StepOutcome, StepError> {
    let target = match setting(step, env, "SMSRebootTarget", "Target") {
        Some(t) if t.eq_ignore_ascii_case("HD") => RestartTarget::InstalledOs,
        _ => RestartTarget::BootImage,
    };
    r.note(format!("restart requested into {target:?}"));
    Ok(StepOutcome {
        exit_code: 0,
        restart: Some(target),
    })
}

pub(crate) fn set_variable(step: &Step, env: &mut Variables) -> Result<StepOutcome, StepError> {
    let name = step
        .variable("VariableName")
        .or_else(|| step.property("VariableName"))
        .map(|n| env.expand(n))
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| failed(step, "no VariableName"))?;
    let value = step
        .variable("VariableValue")
        .or_else(|| step.property("VariableValue"))
        .map(|v| env.expand(v))
        .unwrap_or_default();
    env.set(&name, value).map_err(|e| failed(step, e))?;
    Ok(StepOutcome::exit(0))
}
