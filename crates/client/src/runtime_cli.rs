//! The command line of `tsmedia-runtime` (`run`, `pe`). Its own binary calls [`main`]; so
//! does `tsmedia` when it is started under the name `tsmedia-runtime`, so that a build of the
//! full CLI can stand in for the lean runtime (the tests boot tsmedia PE that way, with the
//! `tsmedia` they test).

use std::process::ExitCode;

use crate::command::{self, RUN_HELP, RunArgs};
use clap::{Parser, Subcommand};

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
    /// The session of tsmedia PE (started by its /init): find the medium the PE booted from,
    /// ask for its password, find the disk, run the task sequence, keep smsts.log. Exit
    /// codes: 0 done (power off), 6 restart, others failed (after the failure screen)
    Pe(crate::pe::PeArgs),
}

/// The runtime's command line: parses the arguments and runs; the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let cancel = tsmedia_base::Cancel::on_ctrl_c();
    match cli.command {
        Command::Run(args) => match command::execute(&args, &cancel, &mut std::io::stdout()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {}", command::error_chain(&e));
                ExitCode::from(command::exit_code(&e))
            }
        },
        Command::Pe(args) => ExitCode::from(crate::pe::session(&args, &cancel)),
    }
}
