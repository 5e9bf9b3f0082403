//! `tsmedia`: task sequence media for OS deployment, built on Linux.
//!
//! A thin edge: parse, validate into options, call the library crates, print. Errors print
//! their whole chain and map to the exit codes below.

mod client_cmds;
mod demo;
mod demo_deploy;
mod demo_media;
mod exit;
mod media_cmds;
mod pe_cmd;
mod prestage_cmd;
mod progress;
mod serve_cmd;
mod site_cmds;
mod wim_cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

const EXIT_CODES: &str = "\
Exit codes:
  0    success
  1    failure (I/O error, full disk, ...)
  2    bad command line
  3    invalid or corrupt input (not a WIM, bad hash, undecodable data, bad metadata)
  4    not found (no such image, file, part or object)
  5    refused as unsafe (path traversal, would overwrite something that is not ours) or
       refused by the site (blocked or expired media certificate, unknown computer, media
       outside their validity dates)
  6    `client run`: the task sequence stopped for a restart; run it again to resume
  130  interrupted (Ctrl-C); no partial output is left behind
  141  standard output was closed early (`| head`)";

#[derive(Parser)]
#[command(
    name = "tsmedia",
    version,
    about = "Build and run Configuration Manager task sequence media on Linux",
    long_about = "Build and run Configuration Manager task sequence media on Linux.\n\n\
        `tsmedia wim` reads and writes Windows Imaging (WIM) files with wimlib-imagex's command \
        names and semantics. `tsmedia demo` shows the whole job on generated data.",
    after_help = EXIT_CODES
)]
struct Cli {
    /// Site folder (database and content library)
    #[arg(long, global = true, env = "TSMEDIA_SITE", default_value = "./site")]
    site: std::path::PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Capture, apply, inspect and change WIM files (wimlib-imagex compatible)
    #[command(subcommand, after_help = EXIT_CODES)]
    Wim(wim_cmd::WimCommand),
    /// Run the main job on generated data: capture a demo tree to a WIM, verify it, apply it
    /// back and compare
    Demo(demo::DemoArgs),
    /// Create and inspect task sequence media (bootable, prestaged, stand-alone, capture)
    #[command(subcommand)]
    Media(media_cmds::MediaCommand),
    /// Stage prestaged media onto a disk (the OEM step): partition, format, apply, bootable
    #[command(subcommand)]
    Prestage(prestage_cmd::PrestageCommand),
    /// Serve the site's management point and/or distribution point over HTTP(S)
    Serve(serve_cmd::ServeArgs),
    /// Run task sequence media (the boot-time runtime)
    #[command(subcommand)]
    Client(client_cmds::ClientCommand),
    /// Build tsmedia PE, the Linux boot environment of the media, from Debian packages
    #[command(subcommand)]
    Pe(pe_cmd::PeCommand),
    #[command(flatten)]
    Site(site_cmds::SiteCommand),
}

/// The name under which `tsmedia` behaves as the boot-time runtime (`tsmedia-runtime`).
const RUNTIME_NAME: &str = "tsmedia-runtime";

fn main() -> ExitCode {
    let argv0 = std::env::args_os().next().unwrap_or_default();
    if std::path::Path::new(&argv0)
        .file_name()
        .is_some_and(|n| n == RUNTIME_NAME)
    {
        return tsmedia_client::runtime_cli::main();
    }
    exit::quiet_broken_pipe();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // Started through a symlink named wimlib-imagex (or wimcapture, ...): wimlib's command line.
    if let Some(wimlib_args) = wim_cmd::wimlib_invocation(&args) {
        let cancel = tsmedia_base::Cancel::on_ctrl_c();
        return finish(wim_cmd::run_wimlib(wimlib_args, &cancel));
    }
    let cli = Cli::parse_from(args);
    let cancel = tsmedia_base::Cancel::on_ctrl_c();
    let result = match cli.command {
        Command::Wim(c) => wim_cmd::run(c, &cancel),
        Command::Demo(a) => demo::run(a, &cancel),
        Command::Media(c) => media_cmds::run(&cli.site, c, &cancel),
        Command::Prestage(c) => prestage_cmd::run(c, &cancel),
        Command::Serve(a) => serve_cmd::run(&cli.site, a),
        Command::Client(c) => client_cmds::run(c, &cancel),
        Command::Pe(c) => pe_cmd::run(c),
        Command::Site(c) => site_cmds::run(&cli.site, c),
    };
    finish(result)
}

/// Prints a failure's whole chain and maps it to the exit code.
fn finish(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = exit::code_for(&e);
            // A reader that went away (`| head`) needs no message.
            if code != exit::BROKEN_PIPE {
                eprintln!("error: {}", tsmedia_base::error_chain(e.as_ref()));
            }
            ExitCode::from(code)
        }
    }
}
