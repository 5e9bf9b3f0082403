//! Exit codes and Ctrl-C.

use tsmedia_base::ErrorClass;
use tsmedia_site::Error as SiteError;
use tsmedia_wim::Error as WimError;

pub const FAILURE: u8 = 1;
/// A bad command line (clap's own code), or a bad `SOURCE_DATE_EPOCH` beside it.
pub const BAD_COMMAND_LINE: u8 = 2;
pub const INVALID_INPUT: u8 = 3;
pub const NOT_FOUND: u8 = 4;
/// Unsafe input (a name that would leave the target), or refused by the site (blocked or
/// expired certificate, unknown computer, no read access, media outside their dates).
pub const UNSAFE: u8 = 5;
/// A task sequence stopped for a restart; running it again resumes it.
pub const SUSPENDED: u8 = 6;
pub const INTERRUPTED: u8 = 130;

/// A task sequence run suspended for a restart (exit code [`SUSPENDED`]).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Suspended(pub String);

/// Exit status of a command whose output was cut off (`| head`): as a shell reports a
/// process killed by SIGPIPE (128 + 13).
pub const BROKEN_PIPE: u8 = 141;

/// The exit code for a class of failure.
fn code_of(class: ErrorClass) -> u8 {
    match class {
        ErrorClass::Refused => UNSAFE,
        ErrorClass::NotFound => NOT_FOUND,
        ErrorClass::InvalidInput => INVALID_INPUT,
        ErrorClass::Cancelled => INTERRUPTED,
        _ => FAILURE,
    }
}

/// The exit code for an error chain: the first error in it we can classify decides.
pub fn code_for(e: &anyhow::Error) -> u8 {
    for cause in e.chain() {
        if cause.downcast_ref::<Suspended>().is_some() {
            return SUSPENDED;
        }
        if cause
            .downcast_ref::<tsmedia_base::clock::InvalidSourceDateEpoch>()
            .is_some()
        {
            return BAD_COMMAND_LINE;
        }
        if is_broken_pipe(cause) {
            return BROKEN_PIPE;
        }
        let class = if let Some(e) = cause.downcast_ref::<WimError>() {
            e.class()
        } else if let Some(e) = cause.downcast_ref::<tsmedia_client::Error>() {
            e.class()
        } else if let Some(e) = cause.downcast_ref::<SiteError>() {
            e.class()
        } else if let Some(e) = cause.downcast_ref::<tsmedia_media::Error>() {
            e.class()
        } else if let Some(e) = cause.downcast_ref::<tsmedia_image::iso::Error>() {
            e.class()
        } else if let Some(e) = cause.downcast_ref::<tsmedia_image::disk::Error>() {
            e.class()
        } else if let Some(e) = cause.downcast_ref::<tsmedia_image::fat::Error>() {
            e.class()
        } else if let Some(e) = cause.downcast_ref::<tsmedia_image::fat::ReadError>() {
            e.class()
        } else if let Some(e) = cause.downcast_ref::<tsmedia_tasksequence::Error>() {
            e.class()
        } else if let Some(e) = cause.downcast_ref::<tsmedia_tasksequence::EngineError>() {
            e.class()
        } else if let Some(io) = cause.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::NotFound
        {
            ErrorClass::NotFound
        } else {
            continue;
        };
        return code_of(class);
    }
    FAILURE
}

fn is_broken_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
    e.downcast_ref::<std::io::Error>()
        .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}

/// Makes a closed standard output (`tsmedia wim dir X.wim | head -1`) end the process quietly
/// with [`BROKEN_PIPE`], as SIGPIPE ends C tools: Rust ignores SIGPIPE, so `print!` panics
/// on a closed pipe, and that one panic is turned into the quiet exit here.
pub fn quiet_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let text = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if text.starts_with("failed printing to std") && text.contains("Broken pipe") {
            std::process::exit(i32::from(BROKEN_PIPE));
        }
        default(info);
    }));
}

#[cfg(test)]
mod tests {
    use super::{INVALID_INPUT, NOT_FOUND, code_for};
    use tsmedia_base::error_chain;

    #[test]
    fn a_typical_chain_prints_each_cause_once() {
        let site = tsmedia_site::Error::Io {
            path: "/x/y".into(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "gone"),
        };
        let e =
            anyhow::Error::new(tsmedia_media::Error::Site(site)).context("adding package \"P\"");
        assert_eq!(error_chain(e.as_ref()), "adding package \"P\": /x/y: gone");
        assert_eq!(code_for(&e), NOT_FOUND);
        let e = anyhow::anyhow!("inner").context("outer");
        assert_eq!(error_chain(e.as_ref()), "outer: inner");
    }

    #[test]
    fn each_crate_says_its_class() {
        let e = anyhow::Error::new(tsmedia_media::Error::Inspect {
            path: "/etc/hostname".into(),
            reason: "not media".into(),
        });
        assert_eq!(code_for(&e), INVALID_INPUT);
        let e = anyhow::Error::new(tsmedia_tasksequence::TaskSequence::from_xml("<").unwrap_err());
        assert_eq!(code_for(&e), INVALID_INPUT);
    }
}
