//! `tsmedia-runtime`: the boot-time runtime on its own, for boot images. It takes exactly the
//! options of `tsmedia client run` and shares its code ([`tsmedia_client::command`]), so the
//! two behave and exit alike; it links no media builder, site database or HTTP server.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tsmedia_client::command::{self, RUN_HELP, RunArgs};

#[derive(Parser)]
#[command(
    name = "tsmedia-runtime",
    version,
    about = "Run Configuration Manager task sequence media (the boot-time runtime of tsmedia)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the task sequence of media: stand-alone media run without a network; bootable and
    /// prestaged media ask the site's management point for their task sequence and take
    /// content from the staged media (prestaged), the task sequence cache or a distribution
    /// point
    #[command(after_help = RUN_HELP)]
    Run(RunArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let Command::Run(args) = cli.command;
    match command::execute(&args, &mut std::io::stdout()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", tsmedia_base::error_chain(&e));
            ExitCode::from(command::exit_code(&e))
        }
    }
}
