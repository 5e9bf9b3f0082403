//! Exit codes and Ctrl-C.

use tsmedia_base::Cancel;
use tsmedia_client::ErrorClass;
use tsmedia_site::Error as SiteError;
use tsmedia_wim::Error as WimError;

pub const FAILURE: u8 = 1;
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

/// The error chain as one line, `outer: cause: ...`, leaving out a cause whose text the
/// message before it already ends with (errors that print their source, as `{path}: {source}`
/// does, would otherwise repeat it).
pub fn message(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !out.is_empty() {
            if out.ends_with(&text) {
                continue;
            }
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// The exit code for an error chain: the first error in it we can classify decides.
pub fn code_for(e: &anyhow::Error) -> u8 {
    for cause in e.chain() {
        if cause.downcast_ref::<Suspended>().is_some() {
            return SUSPENDED;
        }
        if let Some(w) = cause.downcast_ref::<WimError>() {
            return match w {
                WimError::Cancelled => INTERRUPTED,
                WimError::NoSuchImage(_) | WimError::MissingBlob { .. } | WimError::Split(_) => {
                    NOT_FOUND
                }
                WimError::Unsafe { .. } => UNSAFE,
                WimError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                    NOT_FOUND
                }
                WimError::Io { .. } | WimError::Source { .. } | WimError::InvalidArgument(_) => {
                    FAILURE
                }
                _ => INVALID_INPUT,
            };
        }
        if let Some(e) = cause.downcast_ref::<tsmedia_client::Error>() {
            return match e.class() {
                ErrorClass::Refused => UNSAFE,
                ErrorClass::NotFound => NOT_FOUND,
                ErrorClass::InvalidInput => INVALID_INPUT,
                _ => FAILURE,
            };
        }
        if let Some(e) = cause.downcast_ref::<SiteError>() {
            return match e {
                SiteError::NotFound { .. }
                | SiteError::NoSite { .. }
                | SiteError::NoSuchImage { .. } => NOT_FOUND,
                SiteError::NotWim { .. }
                | SiteError::TaskSequence { .. }
                | SiteError::SourceChanged { .. } => INVALID_INPUT,
                SiteError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                    NOT_FOUND
                }
                _ => FAILURE,
            };
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::NotFound
        {
            return NOT_FOUND;
        }
    }
    FAILURE
}

/// A token cancelled by Ctrl-C; long operations check it and stop, removing their temporary
/// output.
pub fn install_ctrlc() -> Cancel {
    let flag = Cancel::new();
    let f = flag.clone();
    let _ = ctrlc::set_handler(move || {
        if f.cancel() {
            std::process::exit(i32::from(INTERRUPTED)); // second Ctrl-C: stop now
        }
    });
    flag
}

#[cfg(test)]
mod tests {
    use super::message;

    #[derive(Debug, thiserror::Error)]
    #[error("/x/y: {source}")]
    struct Io {
        source: std::io::Error,
    }

    #[test]
    fn a_cause_printed_by_its_parent_is_not_repeated() {
        let e = anyhow::Error::new(Io {
            source: std::io::Error::other("gone"),
        })
        .context("adding package \"P\"");
        assert_eq!(message(&e), "adding package \"P\": /x/y: gone");
        let e = anyhow::anyhow!("inner").context("outer");
        assert_eq!(message(&e), "outer: inner");
    }
}
