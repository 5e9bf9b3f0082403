//! `tsmedia package program …` and `tsmedia package deployment-type …`: the programs of
//! packages and the deployment types of applications that Install Package and Install
//! Application run (`docs/media.md`, "Programs and deployment types").

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use tsmedia_site::Site;
use tsmedia_site::software_policy::{
    AfterRunning, DEFAULT_MAX_RUN_MINUTES, DEPLOYMENT_TYPE_SUCCESS_CODES, DeploymentType,
    Detection, PROGRAM_SUCCESS_CODES, Program, RESTART_CODES, Requirement, RunMode, parse_codes,
};

use super::{or_dash, print_created, print_json, print_table};

#[derive(Subcommand)]
pub enum ProgramCmd {
    /// Add a program to a package: what Install Package runs when a step names the package
    /// (PackageID) and this program (ProgramName)
    Add {
        /// The package (of type package)
        package: String,
        /// Program name (unique in the package; at most 50 characters)
        #[arg(long)]
        name: String,
        /// Command line, run with `sh -c` in the package's content folder
        #[arg(long = "command", value_name = "CMDLINE")]
        command_line: String,
        /// Folder to run in, relative to the content folder [default: the content folder]
        #[arg(long)]
        working_dir: Option<String>,
        /// admin (run with administrative rights) or user (run with the user's rights, which
        /// a task sequence cannot: the step fails, naming it)
        #[arg(long, default_value = "admin", value_parser = ["admin", "user"])]
        run_mode: String,
        /// Maximum run time in minutes; the program is stopped and the step fails after it
        /// (0: unlimited)
        #[arg(long = "max-run-time", value_name = "MINUTES", default_value_t = DEFAULT_MAX_RUN_MINUTES)]
        max_run_minutes: u32,
        /// After running: none, restart (the task sequence restarts the computer),
        /// program-restarts (restart only when the program returns a restart code) or logoff
        #[arg(long, default_value = "none",
              value_parser = ["none", "restart", "program-restarts", "logoff"])]
        after_running: String,
        /// Exit codes that mean success [default: 0]
        #[arg(long, value_name = "CODES")]
        success_codes: Option<String>,
        /// Exit codes that mean success with a restart [default: 3010 1641]
        #[arg(long, value_name = "CODES")]
        restart_codes: Option<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// List a package's programs
    List {
        package: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Remove a program
    Remove {
        package: String,
        /// Program name
        #[arg(long)]
        name: String,
    },
}

/// Options shared by exit codes and run time of a deployment type.
#[derive(Args)]
pub struct DtAddArgs {
    /// The application
    application: String,
    /// Deployment type name (unique in the application)
    #[arg(long)]
    name: String,
    /// Installation program, run with `sh -c` in the application's content folder
    #[arg(long = "install", value_name = "CMDLINE")]
    install_command: String,
    /// Uninstall program
    #[arg(long = "uninstall", value_name = "CMDLINE")]
    uninstall_command: Option<String>,
    /// Detection: installed when this file exists (a path on the target volume, such as
    /// `Program Files/App/app.exe` or `%OSDTargetSystemDrive%\Program Files\App\app.exe`)
    #[arg(long, value_name = "PATH", group = "detection")]
    detect_file: Option<String>,
    /// Detection: installed when this folder exists
    #[arg(long, value_name = "PATH", group = "detection")]
    detect_folder: Option<String>,
    /// Detection: installed when this script exits 0 and prints something
    #[arg(long, value_name = "CMDLINE", group = "detection")]
    detect_script: Option<String>,
    /// Requirement: the computer's architecture is one of these (repeat)
    #[arg(long = "requires-arch", value_name = "ARCH", value_parser = ["x86", "x64", "arm64"])]
    requires_arch: Vec<String>,
    /// Requirement: a task sequence variable has this value (NAME=VALUE; repeat)
    #[arg(long = "requires-variable", value_name = "NAME=VALUE")]
    requires_variable: Vec<String>,
    /// Priority: the first deployment type whose requirements hold is installed
    /// [default: after the existing ones]
    #[arg(long)]
    priority: Option<u32>,
    /// Maximum run time in minutes (0: unlimited)
    #[arg(long = "max-run-time", value_name = "MINUTES", default_value_t = DEFAULT_MAX_RUN_MINUTES)]
    max_run_minutes: u32,
    /// Exit codes that mean success [default: 0 1707]
    #[arg(long, value_name = "CODES")]
    success_codes: Option<String>,
    /// Exit codes that mean success with a restart [default: 3010 1641]
    #[arg(long, value_name = "CODES")]
    restart_codes: Option<String>,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

// Parsed once per process: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
pub enum DeploymentTypeCmd {
    /// Add a deployment type to an application: what Install Application installs (the first
    /// deployment type, by priority, whose requirements hold), and how it is detected
    Add(DtAddArgs),
    /// List an application's deployment types
    List {
        application: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Remove a deployment type
    Remove {
        application: String,
        /// Deployment type name
        #[arg(long)]
        name: String,
    },
}

fn codes(given: Option<String>, default: &[i64], option: &str) -> Result<Vec<i64>> {
    match given {
        None => Ok(default.to_vec()),
        Some(text) => parse_codes(&text).map_err(|e| anyhow::anyhow!("{option}: {e}")),
    }
}

fn codes_text(codes: &[i64]) -> String {
    let text: Vec<String> = codes.iter().map(i64::to_string).collect();
    if text.is_empty() {
        "-".into()
    } else {
        text.join(" ")
    }
}

/// The name an enum serialises to (`admin`, `program-restarts`).
fn enum_name<T: serde::Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn minutes(m: u32) -> String {
    if m == 0 {
        "unlimited".into()
    } else {
        format!("{m} min")
    }
}

pub fn run_program(site: &mut Site, cmd: ProgramCmd) -> Result<()> {
    match cmd {
        ProgramCmd::Add {
            package,
            name,
            command_line,
            working_dir,
            run_mode,
            max_run_minutes,
            after_running,
            success_codes,
            restart_codes,
            json,
        } => {
            let program = Program {
                package_id: package.clone(),
                name: name.clone(),
                command_line,
                working_dir,
                run_mode: if run_mode == "user" {
                    RunMode::User
                } else {
                    RunMode::Admin
                },
                max_run_minutes,
                after_running: match after_running.as_str() {
                    "restart" => AfterRunning::Restart,
                    "program-restarts" => AfterRunning::ProgramRestarts,
                    "logoff" => AfterRunning::Logoff,
                    _ => AfterRunning::None,
                },
                success_codes: codes(success_codes, &PROGRAM_SUCCESS_CODES, "--success-codes")?,
                restart_codes: codes(restart_codes, &RESTART_CODES, "--restart-codes")?,
            };
            let p = site
                .add_program(&program)
                .with_context(|| format!("adding program {name:?} to {package}"))?;
            print_created(json, &format!("{} {}", p.package_id, p.name), &p)
        }
        ProgramCmd::List { package, json } => {
            let programs = site.programs(&package)?;
            if json {
                return print_json(&programs);
            }
            let rows: Vec<Vec<String>> = programs
                .iter()
                .map(|p| {
                    vec![
                        p.name.clone(),
                        enum_name(p.run_mode),
                        minutes(p.max_run_minutes),
                        enum_name(p.after_running),
                        codes_text(&p.success_codes),
                        codes_text(&p.restart_codes),
                        p.command_line.clone(),
                    ]
                })
                .collect();
            print_table(
                &[
                    "PROGRAM", "RUN MODE", "MAX TIME", "AFTER", "SUCCESS", "RESTART", "COMMAND",
                ],
                &rows,
            );
            Ok(())
        }
        ProgramCmd::Remove { package, name } => {
            site.remove_program(&package, &name)
                .with_context(|| format!("removing program {name:?} of {package}"))?;
            Ok(())
        }
    }
}

fn detection(a: &DtAddArgs) -> Result<Detection> {
    Ok(match (&a.detect_file, &a.detect_folder, &a.detect_script) {
        (Some(path), None, None) => Detection::File { path: path.clone() },
        (None, Some(path), None) => Detection::Folder { path: path.clone() },
        (None, None, Some(command)) => Detection::Script {
            command: command.clone(),
        },
        _ => bail!(
            "a deployment type needs a detection method: give one of --detect-file, --detect-folder, --detect-script"
        ),
    })
}

pub fn run_deployment_type(site: &mut Site, cmd: DeploymentTypeCmd) -> Result<()> {
    match cmd {
        DeploymentTypeCmd::Add(a) => {
            let mut requirements = Vec::new();
            if !a.requires_arch.is_empty() {
                requirements.push(Requirement::Arch {
                    any_of: a.requires_arch.clone(),
                });
            }
            for v in &a.requires_variable {
                let (name, value) = v
                    .split_once('=')
                    .filter(|(n, _)| !n.trim().is_empty())
                    .with_context(|| format!("--requires-variable {v:?}: expected NAME=VALUE"))?;
                requirements.push(Requirement::Variable {
                    name: name.trim().to_string(),
                    value: value.to_string(),
                });
            }
            let priority = match a.priority {
                Some(p) => p,
                None => site
                    .deployment_types(&a.application)?
                    .iter()
                    .map(|d| d.priority)
                    .max()
                    .map_or(1, |p| p + 1),
            };
            let dt = DeploymentType {
                name: a.name.clone(),
                priority,
                install_command: a.install_command.clone(),
                uninstall_command: a.uninstall_command.clone(),
                detection: detection(&a)?,
                requirements,
                max_run_minutes: a.max_run_minutes,
                success_codes: codes(
                    a.success_codes.clone(),
                    &DEPLOYMENT_TYPE_SUCCESS_CODES,
                    "--success-codes",
                )?,
                restart_codes: codes(a.restart_codes.clone(), &RESTART_CODES, "--restart-codes")?,
            };
            let d = site
                .add_deployment_type(&a.application, &dt)
                .with_context(|| {
                    format!(
                        "adding deployment type {:?} to {}",
                        a.name,
                        a.application.trim().to_ascii_uppercase()
                    )
                })?;
            print_created(a.json, &d.name, &d)
        }
        DeploymentTypeCmd::List { application, json } => {
            let list = site.deployment_types(&application)?;
            if json {
                return print_json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|d| {
                    vec![
                        d.priority.to_string(),
                        d.name.clone(),
                        describe_detection(&d.detection),
                        if d.requirements.is_empty() {
                            "-".into()
                        } else {
                            d.requirements
                                .iter()
                                .map(describe_requirement)
                                .collect::<Vec<_>>()
                                .join("; ")
                        },
                        d.install_command.clone(),
                        or_dash(d.uninstall_command.as_ref()),
                    ]
                })
                .collect();
            print_table(
                &[
                    "PRIORITY",
                    "DEPLOYMENT TYPE",
                    "DETECTION",
                    "REQUIREMENTS",
                    "INSTALL",
                    "UNINSTALL",
                ],
                &rows,
            );
            Ok(())
        }
        DeploymentTypeCmd::Remove { application, name } => {
            site.remove_deployment_type(&application, &name)
                .with_context(|| format!("removing deployment type {name:?} of {application}"))?;
            Ok(())
        }
    }
}

pub fn describe_detection(d: &Detection) -> String {
    match d {
        Detection::File { path } => format!("file {path}"),
        Detection::Folder { path } => format!("folder {path}"),
        Detection::Script { command } => format!("script {command}"),
    }
}

pub fn describe_requirement(r: &Requirement) -> String {
    match r {
        Requirement::Arch { any_of } => format!("arch {}", any_of.join("|")),
        Requirement::Variable { name, value } => format!("{name}={value}"),
    }
}
