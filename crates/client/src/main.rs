//! `tsmedia-runtime`: the boot-time runtime on its own, for boot images. It takes exactly the
//! options of `tsmedia client run` and shares its code ([`tsmedia_client::command`]), so the
//! two behave and exit alike; it links no media builder, site database or HTTP server.

use std::process::ExitCode;

fn main() -> ExitCode {
    tsmedia_client::runtime_cli::main()
}
