//! The software policy: the programs of packages and the deployment types of applications a
//! task sequence's Install Package and Install Application steps run (`docs/media.md`,
//! "Programs and deployment types").
//!
//! The site keeps them; the management point serves them inside the (signed) task sequence
//! policy, and stand-alone media carry them sealed beside `policy.xml`
//! ([`SOFTWARE_POLICY_PATH`], sealed as `policy.xml` is). The runtime acts on nothing else:
//! a step naming a program or application the policy does not hold fails, naming it.
//!
//! Exit codes, as Configuration Manager reads them: a code in `restart_codes` is a success
//! that needs a restart (3010 "soft reboot", 1641 "hard reboot"), a code in `success_codes`
//! a success (programs: 0; deployment types: 0 and 1707), any other a failure, which the
//! step then reports with that code (judged against its `successCodeList`).

use serde::{Deserialize, Serialize};

/// The sealed software policy of stand-alone media, from the media root (JSON of
/// [`SoftwarePolicy`], sealed with the media password as `policy.xml` is).
pub const SOFTWARE_POLICY_PATH: &str = "SMS/data/SoftwarePolicy.dat";

/// Default success codes of a program.
pub const PROGRAM_SUCCESS_CODES: [i64; 1] = [0];
/// Default success codes of a deployment type (`ERROR_SUCCESS`, `ERROR_PRODUCT_VERSION` 1707).
pub const DEPLOYMENT_TYPE_SUCCESS_CODES: [i64; 2] = [0, 1707];
/// Default restart codes (`ERROR_SUCCESS_REBOOT_REQUIRED` 3010, `ERROR_SUCCESS_REBOOT_INITIATED`
/// 1641).
pub const RESTART_CODES: [i64; 2] = [3010, 1641];
/// Default maximum run time of a program or deployment type, minutes (Configuration
/// Manager's 120).
pub const DEFAULT_MAX_RUN_MINUTES: u32 = 120;

/// Everything the Install Package and Install Application steps of one task sequence may run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SoftwarePolicy {
    /// Programs of the packages the task sequence references.
    #[serde(default)]
    pub programs: Vec<Program>,
    /// Applications the task sequence references, with their deployment types.
    #[serde(default)]
    pub applications: Vec<Application>,
}

/// How a program runs (the program's "Run mode").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum RunMode {
    /// Run with administrative rights (the only mode Install Package can run).
    #[default]
    Admin,
    /// Run with the user's rights: needs a logged-on user, which a task sequence has not.
    User,
}

/// What happens after a program ran successfully ("After running").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum AfterRunning {
    /// No action required.
    #[default]
    None,
    /// Configuration Manager restarts the computer.
    Restart,
    /// The program controls the restart (it returns a restart code when it needs one).
    ProgramRestarts,
    /// Configuration Manager logs the user off (nothing to do in a task sequence).
    Logoff,
}

/// A program of a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Program {
    /// The package ID.
    pub package_id: String,
    /// The program name (unique in its package, compared without case).
    pub name: String,
    /// The command line, run in the package's content folder (or `working_dir`).
    pub command_line: String,
    /// The working folder, relative to the content folder. Default: the content folder.
    #[serde(default)]
    pub working_dir: Option<String>,
    /// Run mode.
    #[serde(default)]
    pub run_mode: RunMode,
    /// Maximum run time in minutes; 0 means unlimited.
    pub max_run_minutes: u32,
    /// After running.
    #[serde(default)]
    pub after_running: AfterRunning,
    /// Exit codes that mean success.
    pub success_codes: Vec<i64>,
    /// Exit codes that mean success with a restart.
    pub restart_codes: Vec<i64>,
}

/// An application (a package of type application, named in task sequences by its model name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    /// The package holding its content.
    pub package_id: String,
    /// The model name (`ScopeId_<scope>/Application_<guid>`), which Install Application steps
    /// name in `ApplicationName`.
    pub model_name: String,
    /// Display name.
    pub name: String,
    /// Deployment types, by priority (first is tried first).
    pub deployment_types: Vec<DeploymentType>,
}

/// How the runtime finds out whether an application is installed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Detection {
    /// A file exists (a Windows path such as `%OSDTargetSystemDrive%\Program Files\App\app.exe`
    /// or a path relative to the target volume).
    File {
        /// The path.
        path: String,
    },
    /// A folder exists.
    Folder {
        /// The path.
        path: String,
    },
    /// A script run in the content folder: installed when it exits 0 and prints something
    /// on standard output (Configuration Manager's rule for detection scripts).
    Script {
        /// The command line.
        command: String,
    },
}

/// A condition a deployment type needs to be chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Requirement {
    /// The computer's architecture is one of these (`x86`, `x64`, `arm64`).
    Arch {
        /// Architectures accepted.
        any_of: Vec<String>,
    },
    /// A task sequence variable has this value (compared without case).
    Variable {
        /// The variable.
        name: String,
        /// The value.
        value: String,
    },
}

/// A deployment type of an application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentType {
    /// Name (unique in its application).
    pub name: String,
    /// Priority: lower is tried first.
    pub priority: u32,
    /// The installation program.
    pub install_command: String,
    /// The uninstall program.
    #[serde(default)]
    pub uninstall_command: Option<String>,
    /// How installation is detected.
    pub detection: Detection,
    /// Requirements, all of which must hold.
    #[serde(default)]
    pub requirements: Vec<Requirement>,
    /// Maximum run time in minutes; 0 means unlimited.
    pub max_run_minutes: u32,
    /// Exit codes that mean success.
    pub success_codes: Vec<i64>,
    /// Exit codes that mean success with a restart.
    pub restart_codes: Vec<i64>,
}

/// What an exit code means for a program or deployment type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitMeaning {
    /// Success.
    Success,
    /// Success; the computer must restart before the next step.
    Restart,
    /// Failure.
    Failure,
}

/// Judges `code` against success and restart codes (restart codes first).
pub fn judge(code: i64, success: &[i64], restart: &[i64]) -> ExitMeaning {
    if restart.contains(&code) {
        ExitMeaning::Restart
    } else if success.contains(&code) {
        ExitMeaning::Success
    } else {
        ExitMeaning::Failure
    }
}

impl SoftwarePolicy {
    /// The program `name` of package `package_id` (both compared without case).
    pub fn program(&self, package_id: &str, name: &str) -> Option<&Program> {
        self.programs.iter().find(|p| {
            p.package_id.eq_ignore_ascii_case(package_id) && p.name.eq_ignore_ascii_case(name)
        })
    }

    /// The application with this model name or package ID (compared without case).
    pub fn application(&self, id: &str) -> Option<&Application> {
        let id = id.trim();
        self.applications.iter().find(|a| {
            a.model_name.eq_ignore_ascii_case(id) || a.package_id.eq_ignore_ascii_case(id)
        })
    }

    /// Whether the policy holds nothing.
    pub fn is_empty(&self) -> bool {
        self.programs.is_empty() && self.applications.is_empty()
    }

    /// JSON text, as sealed on stand-alone media.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("plain data serialises")
    }

    /// Reads [`SoftwarePolicy::to_json`] output; `what` names the source in errors.
    pub fn from_json(bytes: &[u8], what: &str) -> crate::Result<SoftwarePolicy> {
        serde_json::from_slice(bytes).map_err(|e| crate::Error::Format {
            what: what.to_string(),
            reason: e.to_string(),
        })
    }
}

/// Parses a list of exit codes (`0 3010`, `0,1707`).
pub fn parse_codes(text: &str) -> Result<Vec<i64>, String> {
    text.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<i64>()
                .map_err(|_| format!("{s:?} is not an exit code (a whole number)"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_judged_restart_first() {
        assert_eq!(
            judge(3010, &PROGRAM_SUCCESS_CODES, &RESTART_CODES),
            ExitMeaning::Restart
        );
        assert_eq!(
            judge(0, &PROGRAM_SUCCESS_CODES, &RESTART_CODES),
            ExitMeaning::Success
        );
        assert_eq!(
            judge(1707, &PROGRAM_SUCCESS_CODES, &RESTART_CODES),
            ExitMeaning::Failure
        );
        assert_eq!(
            judge(1707, &DEPLOYMENT_TYPE_SUCCESS_CODES, &RESTART_CODES),
            ExitMeaning::Success
        );
        assert_eq!(parse_codes("0, 3010 7").unwrap(), vec![0, 3010, 7]);
        assert!(parse_codes("0 x").unwrap_err().contains("\"x\""));
    }

    #[test]
    fn lookups_ignore_case_and_json_round_trips() {
        let policy = SoftwarePolicy {
            programs: vec![Program {
                package_id: "PS100006".into(),
                name: "Install".into(),
                command_line: "./setup.sh".into(),
                working_dir: None,
                run_mode: RunMode::Admin,
                max_run_minutes: 120,
                after_running: AfterRunning::None,
                success_codes: vec![0],
                restart_codes: vec![3010],
            }],
            applications: vec![Application {
                package_id: "PS100007".into(),
                model_name: "ScopeId_A/Application_B".into(),
                name: "Editor".into(),
                deployment_types: vec![DeploymentType {
                    name: "Script".into(),
                    priority: 1,
                    install_command: "./install.sh".into(),
                    uninstall_command: None,
                    detection: Detection::File {
                        path: "opt/editor/bin".into(),
                    },
                    requirements: vec![Requirement::Arch {
                        any_of: vec!["x64".into()],
                    }],
                    max_run_minutes: 0,
                    success_codes: vec![0],
                    restart_codes: vec![],
                }],
            }],
        };
        assert!(policy.program("ps100006", "INSTALL").is_some());
        assert!(policy.program("PS100006", "Other").is_none());
        assert!(policy.application("scopeid_a/application_b").is_some());
        assert!(policy.application("PS100007").is_some());
        let back = SoftwarePolicy::from_json(&policy.to_json(), "test").unwrap();
        assert_eq!(back, policy);
        assert!(SoftwarePolicy::from_json(b"{", "x.dat").is_err());
    }
}
