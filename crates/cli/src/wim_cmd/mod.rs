//! `tsmedia wim ...`: wimlib-imagex's commands, syntax and output, so that scripts switch by
//! changing the program name. Started as `wimlib-imagex` (or `wimcapture`, `wimapply`, ...,
//! through a symlink), `tsmedia` is this command alone.

mod apply;
mod apply_ntfs;
mod capture;
mod common;
mod dir;
mod extract;
mod images;
mod info;
mod info_print;
mod optimize;
mod pipe;
mod split;
mod update;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::path::Path;
use tsmedia_base::Cancel;

#[derive(Subcommand)]
pub enum WimCommand {
    /// Capture a directory as a new WIM: SOURCE WIMFILE [IMAGE_NAME [IMAGE_DESCRIPTION]]
    Capture(capture::CaptureArgs),
    /// Capture a directory as a new image of an existing WIM
    Append(capture::CaptureArgs),
    /// Apply (extract) an image, or all images, to a directory
    #[command(
        after_help = "Examples:\n  tsmedia wim apply boot.wim /tmp/pe          # the only image\n  \
        tsmedia wim apply install.wim 3 /mnt/os     # image 3\n  \
        tsmedia wim apply install.wim all /srv/imgs # each image in its own folder\n  \
        tsmedia wim apply os.swm 1 /mnt --ref 'os*.swm'"
    )]
    Apply(apply::ApplyArgs),
    /// Show the WIM and its images, or change the boot index, an image's name, description
    /// or properties
    Info(info::InfoArgs),
    /// List the files of an image
    Dir(dir::DirArgs),
    /// Extract files or trees of an image (paths, wildcards or @LISTFILE)
    Extract(extract::ExtractArgs),
    /// Check the integrity table, every blob's SHA-1 and the image metadata
    Verify(split::VerifyArgs),
    /// Copy images to another WIM (created, or appended to when it exists)
    Export(images::ExportArgs),
    /// Delete images from a WIM
    Delete(images::DeleteArgs),
    /// Add, delete or rename files in an image (commands on standard input or --command)
    #[command(
        after_help = "Examples:\n  tsmedia wim update boot.wim 1 --add ./sms:/sms --add tsmbootstrap.ini:/sms/data/TsmBootstrap.ini --delete /Windows/Temp\n  \
        printf 'add ./sms /sms\\ndelete --recursive /Windows/Temp\\n' | tsmedia wim update boot.wim 1"
    )]
    Update(update::UpdateArgs),
    /// Rebuild a WIM in place, dropping unused space; optionally recompress it or make it
    /// solid (--solid)
    Optimize(optimize::OptimizeArgs),
    /// Split a WIM into parts of at most PART_SIZE mebibytes (.swm)
    Split(split::SplitArgs),
    /// Join the parts of a split WIM into one WIM
    Join(split::JoinArgs),
}

/// The command line of `tsmedia` started as `wimlib-imagex`.
#[derive(Parser)]
#[command(
    name = "wimlib-imagex",
    version,
    about = "tsmedia's WIM commands under wimlib-imagex's name and syntax"
)]
struct WimlibCli {
    #[command(subcommand)]
    command: WimCommand,
}

/// The commands wimlib also installs as `wim<command>` (`wimcapture`, `wimapply`, ...).
const COMMANDS: &[&str] = &[
    "append", "apply", "capture", "delete", "dir", "export", "extract", "info", "join", "optimize",
    "split", "update", "verify",
];

/// When `tsmedia` was started as `wimlib-imagex` or `wim<command>` (argv[0]'s file name), the
/// arguments as `wimlib-imagex` parses them.
pub fn wimlib_invocation(args: &[OsString]) -> Option<Vec<OsString>> {
    let prog = Path::new(args.first()?).file_name()?.to_str()?;
    let prog = prog.strip_suffix(".exe").unwrap_or(prog);
    if prog == "wimlib-imagex" {
        return Some(args.to_vec());
    }
    let cmd = prog.strip_prefix("wim")?;
    if !COMMANDS.contains(&cmd) {
        return None;
    }
    let mut v = vec![OsString::from("wimlib-imagex"), OsString::from(cmd)];
    v.extend(args[1..].iter().cloned());
    Some(v)
}

/// Runs `wimlib-imagex ARGS...` (clap prints help and usage errors and exits itself).
pub fn run_wimlib(args: Vec<OsString>, cancel: &Cancel) -> Result<()> {
    run(WimlibCli::parse_from(args).command, cancel)
}

pub fn run(cmd: WimCommand, cancel: &Cancel) -> Result<()> {
    match cmd {
        WimCommand::Capture(a) => capture::capture(a, cancel, false),
        WimCommand::Append(a) => capture::capture(a, cancel, true),
        WimCommand::Apply(a) => apply::apply(a, cancel),
        WimCommand::Info(a) => info::info(a),
        WimCommand::Dir(a) => dir::dir(a),
        WimCommand::Extract(a) => extract::extract(a, cancel),
        WimCommand::Verify(a) => split::verify(a),
        WimCommand::Export(a) => images::export(a, cancel),
        WimCommand::Delete(a) => images::delete(a),
        WimCommand::Update(a) => update::update(a),
        WimCommand::Optimize(a) => optimize::optimize(a, cancel),
        WimCommand::Split(a) => split::split(a),
        WimCommand::Join(a) => split::join(a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
    }

    #[test]
    fn program_names() {
        assert_eq!(
            wimlib_invocation(&args(&["/usr/bin/wimlib-imagex", "info", "x.wim"])),
            Some(args(&["/usr/bin/wimlib-imagex", "info", "x.wim"]))
        );
        assert_eq!(
            wimlib_invocation(&args(&["wimcapture", "d", "x.wim"])),
            Some(args(&["wimlib-imagex", "capture", "d", "x.wim"]))
        );
        assert_eq!(wimlib_invocation(&args(&["tsmedia", "wim"])), None);
        assert_eq!(wimlib_invocation(&args(&["wimfoo"])), None);
    }
}
