//! `tsmedia client run`: the boot-time runtime on a media folder. The options and the code
//! that runs them are the client library's ([`tsmedia_client::command`]), shared with the
//! lean `tsmedia-runtime` binary, so both take the same options and exit alike.

use anyhow::Result;
use clap::Subcommand;
use tsmedia_client::command::{self, CommandError, RUN_HELP, RunArgs};

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Run the task sequence of media: stand-alone media run without a network; bootable and
    /// prestaged media ask the site's management point for their task sequence and take
    /// content from the staged media (prestaged), the task sequence cache or a distribution
    /// point
    #[command(after_help = RUN_HELP)]
    Run(RunArgs),
}

/// Runs the command; `exit::code_for` maps its errors to exit codes (the runtime's error
/// classes through [`tsmedia_client::ErrorClass::exit_code`]).
pub fn run(c: ClientCommand, cancel: &tsmedia_base::Cancel) -> Result<()> {
    match c {
        ClientCommand::Run(a) => match command::execute(&a, cancel, &mut std::io::stdout()) {
            Ok(()) => Ok(()),
            Err(e @ CommandError::Suspended { .. }) => {
                Err(crate::exit::Suspended(e.to_string()).into())
            }
            Err(e) => Err(e.into()),
        },
    }
}
