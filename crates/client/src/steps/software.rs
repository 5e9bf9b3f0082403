//! Install Package and Install Application, from the software policy
//! (`tsmedia_mediafmt::software`; `docs/media.md`, "Programs and deployment types").
//!
//! - **Install Package** runs the program the step names: `PackageID` and `ProgramName`
//!   (`_SMSSWDProgramName`), or for "install software packages according to a dynamic variable
//!   list", each `<BaseVariableName>001`, `002`… holding `<PackageID>:<program name>`. The
//!   command line runs with `sh -c` in the package's content (or the program's working
//!   folder). A step without `ProgramName` but with tsmedia's `CommandLine` runs that.
//! - **Install Application** installs each application named in `ApplicationName` (a
//!   comma-separated list of model names or package IDs), or `<BaseVariableName>01`, `02`…,
//!   else `OSDApp0Name`… (`OSDAppCount` of them). For each: the first deployment type, by
//!   priority, whose requirements hold; skipped when its detection method finds it installed;
//!   else its installation program runs in the application's content, and afterwards the
//!   detection method must find it. `_TSAppInstallStatus` is set to `Success` or `Error`.
//!   With `ContinueOnInstallError` the step goes on to the next application after a failure,
//!   and still fails at the end.
//!
//! Exit codes ([`judge`]): a restart code (3010, 1641 by default; a Linux process exits with
//! 0–255, so programs of this runtime signal a restart with a code given at the site) is a success that suspends the task
//! sequence for a restart after the step; a success code is a success; any other ends the
//! step with that exit code, which the engine judges against the step's `successCodeList`.
//! A program with "after running: restart" restarts after every success. A program whose run
//! mode needs a logged-on user cannot run in a task sequence: the step fails, naming it.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tsmedia_mediafmt::software::{
    AfterRunning, Application, DeploymentType, Detection, ExitMeaning, Program, Requirement,
    RunMode, judge,
};
use tsmedia_tasksequence::{
    FsProbe, HostProbe, RestartTarget, Step, StepError, StepOutcome, Variables,
};

use super::{failed, failed_by, setting};
use crate::runner::MediaStepRunner;

/// How long a program may run, and what stops it.
struct Limit {
    max: Option<Duration>,
    cancel: tsmedia_base::Cancel,
}

fn minutes(m: u32) -> Option<Duration> {
    (m > 0).then(|| Duration::from_secs(u64::from(m) * 60))
}

/// Runs `command` with `sh -c` in `dir` (in its own process group), with the task sequence
/// variables whose names are shell-safe in the environment; stops the whole group when the
/// limit passes or the run is cancelled. The exit code.
fn run_limited(
    r: &mut MediaStepRunner<'_>,
    step: &Step,
    env: &Variables,
    command: &str,
    dir: &Path,
    limit: &Limit,
) -> Result<i64, StepError> {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    for (name, value) in env.iter() {
        if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit())
        {
            cmd.env(name, value);
        }
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| failed(step, format!("cannot start sh -c {command:?}: {e}")))?;
    let reader = |s: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut s) = s {
                let _ = s.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = reader(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let err = reader(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let start = Instant::now();
    let mut stopped = None;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => return Err(failed(step, format!("waiting for {command:?}: {e}"))),
        }
        let why = if limit.cancel.is_cancelled() {
            Some("the run was cancelled".to_string())
        } else {
            limit.max.filter(|m| start.elapsed() >= *m).map(|m| {
                format!(
                    "it ran longer than its maximum run time of {} minute(s)",
                    m.as_secs() / 60
                )
            })
        };
        if let Some(why) = why {
            // The whole process group: `sh` and whatever it started.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.kill();
            stopped = Some(why);
            break child
                .wait()
                .map_err(|e| failed(step, format!("waiting for {command:?}: {e}")))?;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    for (stream, handle) in [("stdout", out), ("stderr", err)] {
        let bytes = handle.join().unwrap_or_default();
        for line in String::from_utf8_lossy(&bytes).lines() {
            if !line.trim().is_empty() {
                r.note(format!("{stream}: {line}"));
            }
        }
    }
    if let Some(why) = stopped {
        return Err(failed(step, format!("{command:?} was stopped: {why}")));
    }
    let code = status.code().ok_or_else(|| {
        failed(
            step,
            format!("{command:?} was ended by a signal ({status})"),
        )
    })?;
    r.note(format!(
        "command {command:?} in {} exited with {code}",
        dir.display()
    ));
    Ok(i64::from(code))
}

/// Where a restart goes: the environment the step runs in.
fn restart_target(env: &Variables) -> RestartTarget {
    if env
        .get("_SMSTSInWinPE")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        RestartTarget::BootImage
    } else {
        RestartTarget::InstalledOs
    }
}

/// `BASE001`, `BASE002`… (`width` digits) until one is missing.
fn numbered(env: &Variables, base: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    for n in 1.. {
        match env.get(&format!("{base}{n:0width$}")) {
            Some(v) if !v.trim().is_empty() => out.push(env.expand(v).trim().to_string()),
            _ => break,
        }
    }
    out
}

fn continue_on_install_error(step: &Step, env: &Variables) -> bool {
    setting(
        step,
        env,
        "ContinueOnInstallError",
        "ContinueOnInstallError",
    )
    .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// The outcome of running one program or deployment type.
enum Ran {
    Ok { restart: bool },
    Failed(i64),
}

fn run_program(
    r: &mut MediaStepRunner<'_>,
    step: &Step,
    env: &Variables,
    program: &Program,
) -> Result<Ran, StepError> {
    if program.run_mode == RunMode::User {
        return Err(failed(
            step,
            format!(
                "program {:?} of {} runs with the user's rights, which needs a logged-on user; a task sequence runs programs with administrative rights (tsmedia package program add … --run-mode admin)",
                program.name, program.package_id
            ),
        ));
    }
    let content = r
        .content
        .content(&program.package_id, None)
        .map_err(|e| failed_by(step, &e))?;
    let dir = match &program.working_dir {
        Some(w) => {
            let rel = env.expand(w).replace('\\', "/");
            let rel =
                tsmedia_base::safe_path::relative_path(rel.trim_end_matches('/')).map_err(|e| {
                    failed(
                        step,
                        format!(
                            "working folder {w:?} of program {:?}: {}",
                            program.name,
                            e.reason()
                        ),
                    )
                })?;
            content.path.join(rel)
        }
        None => content.path.clone(),
    };
    r.note(format!(
        "program {:?} of {} version {} from {}",
        program.name, program.package_id, content.version, content.origin
    ));
    let limit = Limit {
        max: minutes(program.max_run_minutes),
        cancel: r.options.cancel.clone(),
    };
    let code = run_limited(
        r,
        step,
        env,
        &env.expand(&program.command_line),
        &dir,
        &limit,
    )?;
    Ok(
        match judge(code, &program.success_codes, &program.restart_codes) {
            ExitMeaning::Failure => {
                r.note(format!(
                "program {:?} failed: exit code {code} is not among its success codes {:?} or restart codes {:?}",
                program.name, program.success_codes, program.restart_codes
            ));
                Ran::Failed(code)
            }
            ExitMeaning::Restart => Ran::Ok { restart: true },
            ExitMeaning::Success => Ran::Ok {
                restart: program.after_running == AfterRunning::Restart,
            },
        },
    )
}

fn outcome(failure: Option<i64>, restart: bool, env: &Variables) -> StepOutcome {
    match failure {
        Some(code) => StepOutcome::exit(code),
        None => StepOutcome {
            exit_code: 0,
            restart: restart.then(|| restart_target(env)),
        },
    }
}

pub(crate) fn install_package(
    r: &mut MediaStepRunner<'_>,
    step: &Step,
    env: &mut Variables,
) -> Result<StepOutcome, StepError> {
    let mut wanted: Vec<(String, String)> = Vec::new();
    let package = setting(step, env, "PackageID", "PackageID");
    let program = setting(step, env, "_SMSSWDProgramName", "ProgramName");
    match (&package, &program) {
        (Some(p), Some(n)) => wanted.push((p.clone(), n.clone())),
        (Some(p), None) => {
            // tsmedia's own form: a command line in the step.
            let command = setting(step, env, "CommandLine", "CommandLine").ok_or_else(|| {
                failed(
                    step,
                    format!("no program named for package {p} (ProgramName)"),
                )
            })?;
            let content = r
                .content
                .content(p, None)
                .map_err(|e| failed_by(step, &e))?;
            r.note(format!(
                "{p} version {} from {}",
                content.version, content.origin
            ));
            let limit = Limit {
                max: None,
                cancel: r.options.cancel.clone(),
            };
            let code = run_limited(r, step, env, &command, &content.path, &limit)?;
            return Ok(StepOutcome::exit(code));
        }
        (None, _) => {
            let base = setting(step, env, "BaseVariableName", "BaseVariableName")
                .ok_or_else(|| failed(step, "no PackageID and no BaseVariableName"))?;
            for value in numbered(env, &base, 3) {
                let (p, n) = value.split_once(':').ok_or_else(|| {
                    failed(
                        step,
                        format!("{base}…: {value:?} is not <PackageID>:<program name>"),
                    )
                })?;
                wanted.push((p.trim().to_string(), n.trim().to_string()));
            }
            if wanted.is_empty() {
                r.note(format!("no variable {base}001: nothing to install"));
                return Ok(StepOutcome::exit(0));
            }
        }
    }
    let keep_going = continue_on_install_error(step, env);
    let (mut failure, mut restart) = (None, false);
    for (package, name) in wanted {
        let program = r
            .options
            .software
            .program(&package, &name)
            .cloned()
            .ok_or_else(|| {
                failed(
                    step,
                    format!(
                        "package {package} has no program {name:?} in the policy (add it at the site: tsmedia package program add {package} --name '{name}' --command CMDLINE)"
                    ),
                )
            })?;
        match run_program(r, step, env, &program)? {
            Ran::Ok { restart: again } => restart |= again,
            Ran::Failed(code) => {
                failure.get_or_insert(code);
                if !keep_going {
                    break;
                }
            }
        }
    }
    Ok(outcome(failure, restart, env))
}

/// Whether `dt`'s detection method finds it installed.
fn detected(
    r: &mut MediaStepRunner<'_>,
    step: &Step,
    env: &Variables,
    dt: &DeploymentType,
    content: &Path,
) -> Result<bool, StepError> {
    let target = r.options.target.clone();
    let probe = FsProbe::new().with_drive('C', &target).with_root(&target);
    // `%OSDTargetSystemDrive%` expands to the target folder: a path below it is taken as it is.
    let local = |path: &str| {
        let expanded = env.expand(path);
        let target_text = target.display().to_string();
        match expanded.strip_prefix(&target_text) {
            Some(rest) => rest.to_string(),
            None => expanded,
        }
    };
    let io = |e: std::io::Error| failed(step, format!("detection of {:?}: {e}", dt.name));
    Ok(match &dt.detection {
        Detection::File { path } => probe.file(&local(path)).map_err(io)?.is_some(),
        Detection::Folder { path } => probe.folder(&local(path)).map_err(io)?.is_some(),
        Detection::Script { command } => {
            let out = Command::new("sh")
                .arg("-c")
                .arg(env.expand(command))
                .current_dir(content)
                .env("OSDTargetSystemDrive", &target)
                .stdin(Stdio::null())
                .output()
                .map_err(io)?;
            out.status.success() && !String::from_utf8_lossy(&out.stdout).trim().is_empty()
        }
    })
}

/// Why a requirement does not hold, or `None` when it does.
fn unmet(requirement: &Requirement, env: &Variables, arch: &str) -> Option<String> {
    match requirement {
        Requirement::Arch { any_of } => (!any_of.iter().any(|a| a.eq_ignore_ascii_case(arch)))
            .then(|| format!("needs {} (this computer is {arch})", any_of.join(" or "))),
        Requirement::Variable { name, value } => {
            let is = env.get(name).unwrap_or("");
            (!is.eq_ignore_ascii_case(value))
                .then(|| format!("needs {name}={value} ({name} is {is:?})"))
        }
    }
}

fn install_one(
    r: &mut MediaStepRunner<'_>,
    step: &Step,
    env: &Variables,
    app: &Application,
) -> Result<Ran, StepError> {
    let arch = r
        .options
        .arch
        .clone()
        .unwrap_or_else(|| crate::identity::host_arch().to_string());
    let mut dts: Vec<&DeploymentType> = app.deployment_types.iter().collect();
    dts.sort_by_key(|d| d.priority);
    let mut reasons = Vec::new();
    let dt = dts.into_iter().find(|d| {
        let why: Vec<String> = d
            .requirements
            .iter()
            .filter_map(|q| unmet(q, env, &arch))
            .collect();
        if !why.is_empty() {
            reasons.push(format!("{:?} {}", d.name, why.join(", ")));
        }
        why.is_empty()
    });
    let Some(dt) = dt else {
        let why = if reasons.is_empty() {
            "it has no deployment type".to_string()
        } else {
            format!(
                "no deployment type's requirements hold: {}",
                reasons.join("; ")
            )
        };
        return Err(failed(
            step,
            format!(
                "application {} ({}) cannot be installed: {why}",
                app.name, app.model_name
            ),
        ));
    };
    let content = r
        .content
        .content(&app.package_id, None)
        .map_err(|e| failed_by(step, &e))?;
    if detected(r, step, env, dt, &content.path)? {
        r.note(format!(
            "application {} ({}): deployment type {:?} is already installed (detected); nothing to do",
            app.name, app.package_id, dt.name
        ));
        return Ok(Ran::Ok { restart: false });
    }
    r.note(format!(
        "application {} ({}) version {} from {}: installing deployment type {:?}",
        app.name, app.package_id, content.version, content.origin, dt.name
    ));
    let limit = Limit {
        max: minutes(dt.max_run_minutes),
        cancel: r.options.cancel.clone(),
    };
    let code = run_limited(
        r,
        step,
        env,
        &env.expand(&dt.install_command),
        &content.path,
        &limit,
    )?;
    let restart = match judge(code, &dt.success_codes, &dt.restart_codes) {
        ExitMeaning::Failure => {
            r.note(format!(
                "application {}: exit code {code} is not among the success codes {:?} or restart codes {:?} of {:?}",
                app.name, dt.success_codes, dt.restart_codes, dt.name
            ));
            return Ok(Ran::Failed(code));
        }
        ExitMeaning::Restart => true,
        ExitMeaning::Success => false,
    };
    if !detected(r, step, env, dt, &content.path)? {
        r.note(format!(
            "application {}: the installation program succeeded, but the detection method ({}) does not find it",
            app.name,
            describe(&dt.detection)
        ));
        return Ok(Ran::Failed(code.max(1)));
    }
    r.note(format!("application {} installed and detected", app.name));
    Ok(Ran::Ok { restart })
}

fn describe(d: &Detection) -> String {
    match d {
        Detection::File { path } => format!("file {path}"),
        Detection::Folder { path } => format!("folder {path}"),
        Detection::Script { command } => format!("script {command}"),
    }
}

/// The applications a step names, in order.
fn named_applications(step: &Step, env: &Variables) -> Vec<String> {
    if let Some(list) = setting(step, env, "ApplicationName", "ApplicationName") {
        return list
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .collect();
    }
    if let Some(base) = setting(step, env, "BaseVariableName", "BaseVariableName") {
        return numbered(env, &base, 2);
    }
    let count = setting(step, env, "OSDAppCount", "NumApps")
        .and_then(|n| n.trim().parse::<usize>().ok())
        .unwrap_or(0);
    (0..count)
        .filter_map(|i| {
            setting(
                step,
                env,
                &format!("OSDApp{i}Name"),
                &format!("AppInfo{i}Name"),
            )
        })
        .collect()
}

pub(crate) fn install_application(
    r: &mut MediaStepRunner<'_>,
    step: &Step,
    env: &mut Variables,
) -> Result<StepOutcome, StepError> {
    let mut names = named_applications(step, env);
    if names.is_empty() {
        // tsmedia's earlier form: one application by package ID.
        names.extend(setting(step, env, "ApplicationID", "ApplicationID"));
    }
    if names.is_empty() {
        return Err(failed(
            step,
            "no application named (ApplicationName, BaseVariableName or OSDApp0Name)",
        ));
    }
    let keep_going = continue_on_install_error(step, env);
    let (mut failure, mut restart) = (None, false);
    for name in names {
        let app = r.options.software.application(&name).cloned().ok_or_else(|| {
            failed(
                step,
                format!(
                    "application {name} is not in the policy (add it at the site with a deployment type: tsmedia package add --type application --model-name {name} …)"
                ),
            )
        })?;
        let result = install_one(r, step, env, &app);
        let ran = match result {
            Ok(ran) => ran,
            Err(e) if keep_going => {
                r.note(format!("{e}; continuing with the next application"));
                Ran::Failed(1)
            }
            Err(e) => {
                let _ = env.set_builtin("_TSAppInstallStatus", "Error");
                return Err(e);
            }
        };
        match ran {
            Ran::Ok { restart: again } => restart |= again,
            Ran::Failed(code) => {
                failure.get_or_insert(code);
                if !keep_going {
                    break;
                }
            }
        }
    }
    env.set_builtin(
        "_TSAppInstallStatus",
        if failure.is_some() {
            "Error"
        } else {
            "Success"
        },
    )
    .map_err(|e| failed(step, e))?;
    Ok(outcome(failure, restart, env))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_name_what_is_missing() {
        let mut env = Variables::new();
        env.set("Role", "Kiosk").unwrap();
        let arch = Requirement::Arch {
            any_of: vec!["x64".into()],
        };
        assert_eq!(unmet(&arch, &env, "x64"), None);
        assert!(unmet(&arch, &env, "x86").unwrap().contains("x86"));
        let role = Requirement::Variable {
            name: "Role".into(),
            value: "kiosk".into(),
        };
        assert_eq!(unmet(&role, &env, "x64"), None);
        env.set("Role", "Desk").unwrap();
        assert!(unmet(&role, &env, "x64").unwrap().contains("\"Desk\""));
    }

    #[test]
    fn numbered_variables_stop_at_the_first_gap() {
        let mut env = Variables::new();
        env.set("Pkgs001", "PS100001:Install").unwrap();
        env.set("Pkgs002", "PS100002:Setup").unwrap();
        env.set("Pkgs004", "PS100004:Skipped").unwrap();
        assert_eq!(
            numbered(&env, "Pkgs", 3),
            vec!["PS100001:Install", "PS100002:Setup"]
        );
        env.set("Apps01", "ScopeId_A/Application_B").unwrap();
        assert_eq!(numbered(&env, "Apps", 2), vec!["ScopeId_A/Application_B"]);
    }
}
