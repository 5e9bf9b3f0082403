//! `tsmedia client run`: the boot-time runtime on a media folder.

use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use tsmedia_client::{RunOptions, run as run_media};
use tsmedia_tasksequence::{NodeResult, RunStatus};

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Run the task sequence of media: stand-alone media run without a network; bootable and
    /// prestaged media ask the site's management point for their task sequence and take
    /// content from the staged media (prestaged), the task sequence cache or a distribution
    /// point
    #[command(after_help = RUN_HELP)]
    Run(RunArgs),
}

const RUN_HELP: &str = "\
How bootable and prestaged media find their task sequence:
  1. The management point: site-based media use SMSTSMP; dynamic media ask the MPs of
     SMSTSLocationMPs in priority order (one that is down is passed over) which MP serves this
     computer's address, and use that one.
  2. The computer is identified by its SMBIOS GUID and MAC addresses (read from /sys, or
     --smbios-guid / --mac). A computer the site does not know runs as the site's Unknown
     Computer only when the media were made with unknown computer support.
  3. The deployment: --deployment, else SMSTSPreferredAdvertID, else the only one offered,
     else the first on unattended media. Otherwise the offered deployments are listed.
  4. Content: staged content whose version and SHA-256 match is used as it is; anything else
     is downloaded from a distribution point into <target>/_SMSTaskSequence/Packages,
     resumed after an interruption and verified. smsts.log says where each package came from.
Every request is signed with the media certificate; a blocked or expired certificate is
refused by the site.

Exit codes: 0 the task sequence succeeded; 6 it stopped for a restart (state saved under
<target>/_SMSTaskSequence; run the same command again to resume); 1 it failed, or the network or a server failed;
3 wrong password or damaged media; 4 something named was not found (deployment, content,
file); 5 refused by the site (certificate blocked or expired, unknown computer) or the media
are outside their validity dates. A distribution point that refuses content (no read access
for --principal) fails the step that needed it (exit 1); the log names the DP and principal.

Examples:
  TSMEDIA_MEDIA_PASSWORD=... tsmedia client run --media /mnt/usb --target /mnt/target
  tsmedia client run --media ./iso --mac 00:15:5d:01:02:03 --deployment PS120001
  tsmedia client run --media ./iso --ca-cert site-ca.pem   (HTTPS management points)";

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
    /// This computer's SMBIOS GUID, as the site knows it [default: /sys/class/dmi/id/product_uuid]
    #[arg(long, value_name = "GUID")]
    smbios_guid: Option<String>,
    /// A MAC address of this computer (repeat for several adapters)
    /// [default: /sys/class/net/*/address]
    #[arg(long = "mac", value_name = "MAC")]
    macs: Vec<String>,
    /// This computer's architecture, which picks the Unknown Computer record
    /// [default: this machine's]
    #[arg(long, value_parser = ["x86", "x64", "arm64"])]
    arch: Option<String>,
    /// The deployment to run when several are offered (its ID, e.g. PS120001)
    #[arg(long, value_name = "ID")]
    deployment: Option<String>,
    /// CA certificates (PEM) that HTTPS management and distribution points are checked
    /// against [default: the Web PKI roots]
    #[arg(long, value_name = "FILE")]
    ca_cert: Vec<PathBuf>,
    /// The principal distribution points check read access for (tsmedia dp grant)
    #[arg(long, default_value = tsmedia_client::network::DEFAULT_PRINCIPAL)]
    principal: String,
    /// The address the MP location request asks for [default: the address the MP sees]
    #[arg(long, value_name = "IP")]
    client_ip: Option<IpAddr>,
}

/// The exit code of a runtime error.
pub fn run(c: ClientCommand) -> Result<()> {
    match c {
        ClientCommand::Run(a) => {
            let mut root_certs = Vec::new();
            for f in &a.ca_cert {
                root_certs.extend(
                    tsmedia_client::trust::read_ca_file(f)
                        .with_context(|| format!("--ca-cert {}", f.display()))?,
                );
            }
            let options = RunOptions {
                media: a.media.clone(),
                target: Some(a.target),
                disk: a.disk,
                password: a.password,
                log: a.log,
                smbios_guid: a.smbios_guid,
                macs: a.macs,
                arch: a.arch,
                deployment: a.deployment,
                root_certs,
                client_ip: a.client_ip,
                principal: Some(a.principal),
                ..RunOptions::default()
            };
            // `exit::code_for` maps the runtime's error classes to exit codes.
            let result = run_media(&options)
                .with_context(|| format!("running media {}", a.media.display()))?;
            println!("log: {}", result.log.display());
            match result.report.status {
                RunStatus::Succeeded => {
                    println!("task sequence succeeded ({} media)", result.media_type);
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
                    bail!(
                        "task sequence failed at step {step:?} with exit code {exit_code} (0x{:08X}){why}",
                        exit_code as u32
                    )
                }
                RunStatus::Suspended(state) => Err(crate::exit::Suspended(format!(
                    "task sequence suspended ({:?}); its state is saved under {}: run the same \
                     command again to resume after the restart",
                    state.reason,
                    result
                        .log
                        .parent()
                        .and_then(|p| p.parent())
                        .unwrap_or(&result.log)
                        .display()
                ))
                .into()),
            }
        }
    }
}
