//! `tsmedia client run`: the boot-time runtime on a media folder.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use tsmedia_client::{RunOptions, run as run_media};
use tsmedia_tasksequence::RunStatus;

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Run the task sequence of media (stand-alone media run without a network; prestaged
    /// media have their staged content checked against the manifest)
    Run(RunArgs),
}

#[derive(Args)]
pub struct RunArgs {
    /// The media's root folder (mounted media or prestaged volume)
    #[arg(long)]
    media: PathBuf,
    /// Disk image or block device that Partition Disk formats
    #[arg(long)]
    disk: Option<PathBuf>,
    /// Folder standing for the target system volume
    #[arg(long, default_value = "./target")]
    target: PathBuf,
    /// Media password
    #[arg(long, env = "TSMEDIA_MEDIA_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// smsts.log path [default: <target>/_SMSTaskSequence/Logs/smsts.log]
    #[arg(long)]
    log: Option<PathBuf>,
}

pub fn run(c: ClientCommand) -> Result<()> {
    match c {
        ClientCommand::Run(a) => {
            let options = RunOptions {
                media: a.media.clone(),
                target: Some(a.target),
                disk: a.disk,
                password: a.password,
                log: a.log,
                now: None,
            };
            let result = run_media(&options)
                .with_context(|| format!("running media {}", a.media.display()))?;
            println!("log: {}", result.log.display());
            match result.report.status {
                RunStatus::Succeeded => {
                    println!("task sequence succeeded ({} media)", result.media_type);
                    Ok(())
                }
                RunStatus::Failed { step, exit_code } => {
                    bail!(
                        "task sequence failed at step {step:?} with exit code {exit_code} (0x{:08X})",
                        exit_code as u32
                    )
                }
                RunStatus::Suspended(_) => bail!(
                    "task sequence suspended for a restart, which this runtime does not perform"
                ),
            }
        }
    }
}
