//! The `run` command line of the runtime, one code path for its two front doors:
//! `tsmedia client run` (the full CLI) and `tsmedia-runtime run` (the lean binary the media
//! builder can inject into `boot.wim`). [`RunArgs`] are the options (clap derive), [`execute`]
//! turns them into a [`run()`] and its outcome into lines for the user or a [`CommandError`],
//! and [`exit_code`] gives the process exit code of an error, the same for both binaries.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;

use clap::Args;
use tsmedia_tasksequence::{NodeResult, RunStatus};

use crate::error::Error;
use crate::run::{RunOptions, run};

/// An error and its causes on one line, `outer: cause: ...` (tsmedia's one chain printer,
/// kept here for the runtime's callers).
pub use tsmedia_base::error_chain;

/// `--help` text after the options: how media find their task sequence, and the exit codes.
pub const RUN_HELP: &str = "\
How bootable and prestaged media find their task sequence:
  1. The management point: site-based media use SMSTSMP; dynamic media ask the MPs of
     SMSTSLocationMPs in priority order (one that is down is passed over) which MP serves this
     computer's address, and use that one.
  2. The computer is identified by its SMBIOS GUID and MAC addresses (read from /sys, or
     --smbios-guid / --mac). A computer the site does not know runs as the site's Unknown
     Computer only when the media were made with unknown computer support.
  3. The deployment: --deployment, else SMSTSPreferredAdvertID, else the only one offered.
     Otherwise the offered deployments are listed (unattended media never pick one).
  4. Content: staged content whose version and SHA-256 match is used as it is; anything else
     is downloaded from a distribution point into <target>/_SMSTaskSequence/Packages,
     resumed after an interruption and verified. smsts.log says where each package came from.
Every request is signed with the media certificate; a blocked or expired certificate is
refused by the site. Every answer of a management point must be signed with the site key the
media carry; an unsigned or wrongly signed answer stops the run before anything runs (exit 1).

Exit codes: 0 the task sequence succeeded; 6 it stopped for a restart (state saved under
<target>/_SMSTaskSequence; run the same command again to resume); 1 it failed, or the network or a server failed;
3 wrong password or damaged media; 4 something named was not found (deployment, content,
file); 5 refused by the site (certificate blocked or expired, unknown computer) or the media
are outside their validity dates. A distribution point that refuses content (no read access
for the principal the site recorded for the media) fails the step that needed it (exit 1); the log names the DP and principal.

Examples:
  TSMEDIA_MEDIA_PASSWORD=... tsmedia client run --media /mnt/usb --target /mnt/target
  tsmedia client run --media ./iso --mac 00:15:5d:01:02:03 --deployment PS120001
  tsmedia client run --media ./iso --ca-cert site-ca.pem   (HTTPS management points)";

/// The options of `run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// The media's root folder (mounted media or prestaged volume)
    #[arg(long)]
    pub media: PathBuf,
    /// Disk image or block device that Partition Disk formats
    #[arg(long)]
    pub disk: Option<PathBuf>,
    /// Folder standing for the target system volume
    #[arg(long, default_value = "./target")]
    pub target: PathBuf,
    /// Media password
    #[arg(long, env = "TSMEDIA_MEDIA_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// smsts.log path [default: <target>/_SMSTaskSequence/Logs/smsts.log]
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// This computer's SMBIOS GUID, as the site knows it [default: /sys/class/dmi/id/product_uuid]
    #[arg(long, value_name = "GUID")]
    pub smbios_guid: Option<String>,
    /// A MAC address of this computer (repeat for several adapters)
    /// [default: /sys/class/net/*/address]
    #[arg(long = "mac", value_name = "MAC")]
    pub macs: Vec<String>,
    /// This computer's architecture, which picks the Unknown Computer record
    /// [default: this machine's]
    #[arg(long, value_parser = ["x86", "x64", "arm64"])]
    pub arch: Option<String>,
    /// The deployment to run when several are offered (its ID, e.g. PS120001)
    #[arg(long, value_name = "ID")]
    pub deployment: Option<String>,
    /// CA certificates (PEM) that HTTPS management and distribution points are checked
    /// against [default: the Web PKI roots]
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Vec<PathBuf>,
    /// The principal to claim to distribution points; they refuse a claim that is not the
    /// principal the site recorded for the media certificate [default: claim none, the
    /// site's record decides]
    #[arg(long)]
    pub principal: Option<String>,
    /// The address the MP location request asks for [default: the address the MP sees]
    #[arg(long, value_name = "IP")]
    pub client_ip: Option<IpAddr>,
}

/// Why `run` did not succeed. Each variant's message is a whole sentence for the user; the
/// runtime's [`Error`] is the source where there is one, so an error chain printer shows it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// A `--ca-cert` file cannot be read.
    #[error("--ca-cert {}", .path.display())]
    CaCert {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Error,
    },
    /// The media could not be run (see [`Error`] and its [`ErrorClass`]).
    #[error("running media {}", .media.display())]
    Run {
        /// `--media`.
        media: PathBuf,
        /// Why.
        #[source]
        source: Error,
    },
    /// The task sequence ran and a step failed.
    #[error(
        "task sequence failed at step {step:?} with exit code {exit_code} (0x{:08X}){why}",
        *.exit_code as u32
    )]
    TaskSequenceFailed {
        /// The step's name.
        step: String,
        /// Its exit code.
        exit_code: i64,
        /// `: <message>` of the last failure the engine recorded, or empty.
        why: String,
    },
    /// The task sequence stopped for a restart; running the same command again resumes it.
    #[error(
        "task sequence suspended ({reason}); its state is saved under {}: run the same \
         command again to resume after the restart",
        .state.display()
    )]
    Suspended {
        /// Why it stopped, as the engine names it.
        reason: String,
        /// The `_SMSTaskSequence` folder holding the saved state.
        state: PathBuf,
    },
}

/// Exit codes of `tsmedia client run` and `tsmedia-runtime run` (the CLI's whole list is in
/// `tsmedia --help`).
pub mod exit_codes {
    /// The task sequence succeeded.
    pub const SUCCESS: u8 = 0;
    /// It failed, or the network or a server failed.
    pub const FAILURE: u8 = 1;
    /// Wrong password, damaged media or content, bad policy, several deployments and no
    /// choice.
    pub const INVALID_INPUT: u8 = 3;
    /// Something named does not exist (file, deployment, content).
    pub const NOT_FOUND: u8 = 4;
    /// Refused by the site, or the media are outside their validity dates.
    pub const REFUSED: u8 = 5;
    /// Stopped for a restart; run again to resume.
    pub const SUSPENDED: u8 = 6;
}

/// The process exit code of a failed `run`.
pub fn exit_code(e: &CommandError) -> u8 {
    match e {
        CommandError::CaCert { source, .. } | CommandError::Run { source, .. } => {
            source.class().exit_code()
        }
        CommandError::TaskSequenceFailed { .. } => exit_codes::FAILURE,
        CommandError::Suspended { .. } => exit_codes::SUSPENDED,
    }
}

impl RunArgs {
    /// The [`RunOptions`] these arguments stand for; reads the `--ca-cert` files.
    // The error is returned once, to `main`; it holds the runtime's `Error` unboxed so that
    // error-chain walkers (the CLI's exit codes) can downcast to it.
    #[allow(clippy::result_large_err)]
    pub fn options(&self) -> Result<RunOptions, CommandError> {
        let mut root_certs = Vec::new();
        for f in &self.ca_cert {
            root_certs.extend(crate::trust::read_ca_file(f).map_err(|source| {
                CommandError::CaCert {
                    path: f.clone(),
                    source,
                }
            })?);
        }
        Ok(RunOptions {
            media: self.media.clone(),
            target: Some(self.target.clone()),
            disk: self.disk.clone(),
            password: self.password.clone(),
            log: self.log.clone(),
            smbios_guid: self.smbios_guid.clone(),
            macs: self.macs.clone(),
            arch: self.arch.clone(),
            deployment: self.deployment.clone(),
            root_certs,
            client_ip: self.client_ip,
            principal: self.principal.clone(),
            ..RunOptions::default()
        })
    }
}

/// Runs the media as `args` say. Writes `log: <smsts.log>` to `out` once the task sequence
/// has run (whatever its outcome), and `task sequence succeeded (<type> media)` when it
/// succeeded; a failed or suspended task sequence is an error. Errors writing to `out` are
/// ignored: the log file is the record. `cancel` (Ctrl-C) stops the run between steps and
/// between the reads of a download.
#[allow(clippy::result_large_err)] // see `RunArgs::options`
pub fn execute(
    args: &RunArgs,
    cancel: &tsmedia_base::Cancel,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let mut options = args.options()?;
    options.cancel = cancel.clone();
    execute_options(&options, out)
}

/// [`execute`] with the options made already (tsmedia PE's session makes its own).
#[allow(clippy::result_large_err)] // see `RunArgs::options`
pub fn execute_options(options: &RunOptions, out: &mut dyn Write) -> Result<(), CommandError> {
    let result = run(options).map_err(|source| CommandError::Run {
        media: options.media.clone(),
        source,
    })?;
    let _ = writeln!(out, "log: {}", result.log.display());
    match result.report.status {
        RunStatus::Succeeded => {
            let _ = writeln!(out, "task sequence succeeded ({} media)", result.media_type);
            Ok(())
        }
        RunStatus::Failed { step, exit_code } => {
            let why = result
                .report
                .records
                .iter()
                .rev()
                .find_map(|r| match &r.result {
                    NodeResult::Failed {
                        message: Some(m), ..
                    } => Some(format!(": {m}")),
                    _ => None,
                })
                .unwrap_or_default();
            Err(CommandError::TaskSequenceFailed {
                step,
                exit_code,
                why,
            })
        }
        RunStatus::Suspended(state) => Err(CommandError::Suspended {
            reason: format!("{:?}", state.reason),
            state: result.target.join("_SMSTaskSequence"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_error_class() {
        let run = |source| CommandError::Run {
            media: "m".into(),
            source,
        };
        let table = [
            (run(Error::Expired("2020-01-01".into())), 5),
            (run(Error::NoDeployment("PC1".into())), 4),
            (run(Error::Media("wrong password".into())), 3),
            (run(Error::NoManagementPoint { tried: vec![] }), 1),
            (
                CommandError::TaskSequenceFailed {
                    step: "s".into(),
                    exit_code: 2,
                    why: String::new(),
                },
                1,
            ),
            (
                CommandError::Suspended {
                    reason: "Restart".into(),
                    state: "t".into(),
                },
                6,
            ),
        ];
        for (e, code) in table {
            assert_eq!(exit_code(&e), code, "{e}");
        }
    }

    #[test]
    fn chain_and_messages() {
        let e = CommandError::Run {
            media: "/m".into(),
            source: Error::Expired("2020-01-01".into()),
        };
        assert_eq!(
            error_chain(&e),
            "running media /m: the media expired on 2020-01-01"
        );
        let f = CommandError::TaskSequenceFailed {
            step: "Run".into(),
            exit_code: -1,
            why: ": boom".into(),
        };
        assert_eq!(
            f.to_string(),
            "task sequence failed at step \"Run\" with exit code -1 (0xFFFFFFFF): boom"
        );
    }
}
