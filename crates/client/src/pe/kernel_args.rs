//! What the boot loader put on the kernel command line for the session: `tsmedia.media=GUID`
//! (which medium to run), `tsmedia.failwait=SECONDS` (how long the failure screen waits
//! before powering off; default 300).

use std::path::Path;
use std::time::Duration;

/// The media GUID argument.
pub const MEDIA: &str = "tsmedia.media";
/// The failure screen's wait, in seconds.
pub const FAIL_WAIT: &str = "tsmedia.failwait";

/// The session's kernel arguments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelArgs {
    /// The media GUID.
    pub media: Option<String>,
    /// Seconds the failure screen waits.
    pub fail_wait: Option<u64>,
}

impl KernelArgs {
    /// Parses a kernel command line.
    pub fn parse(line: &str) -> KernelArgs {
        let mut k = KernelArgs::default();
        for word in line.split_whitespace() {
            match word.split_once('=') {
                Some((MEDIA, v)) if !v.is_empty() => k.media = Some(v.to_string()),
                Some((FAIL_WAIT, v)) => k.fail_wait = v.parse().ok(),
                _ => {}
            }
        }
        k
    }

    /// Reads `/proc/cmdline` (or another file); nothing when it cannot be read.
    pub fn read(path: &Path) -> KernelArgs {
        std::fs::read_to_string(path)
            .map(|l| KernelArgs::parse(&l))
            .unwrap_or_default()
    }

    /// How long the failure screen waits before powering off.
    pub fn fail_wait(&self) -> Duration {
        Duration::from_secs(self.fail_wait.unwrap_or(300))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_session_arguments_and_ignores_the_rest() {
        let k = KernelArgs::parse(
            "console=ttyS0 quiet tsmedia.media=1234-AB tsmedia.failwait=5 tsmedia.media2=x\n",
        );
        assert_eq!(k.media.as_deref(), Some("1234-AB"));
        assert_eq!(k.fail_wait(), Duration::from_secs(5));
        let none = KernelArgs::parse("tsmedia.media= tsmedia.failwait=soon");
        assert_eq!(none, KernelArgs::default());
        assert_eq!(none.fail_wait(), Duration::from_secs(300));
    }
}
