//! `CreateTSMedia.log` in CMTrace format, written by [`tsmedia_base::cmtrace`]: component
//! `CreateTSMedia`, thread 1, file `tsmedia`, times in UTC (bias `+0`); type 1 = information,
//! 2 = warning, 3 = error (`docs/media.md`, "Logs").

use std::time::Instant;

use tsmedia_base::Clock;
use tsmedia_base::cmtrace::{self, Entry, Stamp};

/// Severity of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Info = 1,
    Warning = 2,
    Error = 3,
}

/// Collects log lines in memory; written beside the output when the build ends, whether it
/// succeeded or not.
#[derive(Debug)]
pub struct MediaLog {
    lines: Vec<String>,
    /// Stamps each line (fixed in deterministic builds).
    clock: Clock,
    started: Instant,
}

impl MediaLog {
    /// A log whose lines carry the time of `clock` (one fixed time in reproducible builds).
    pub fn new(clock: Clock) -> MediaLog {
        MediaLog {
            lines: Vec::new(),
            clock,
            started: Instant::now(),
        }
    }

    /// Adds a line.
    pub fn line(&mut self, severity: Severity, message: impl AsRef<str>) {
        let entry = Entry {
            message: message.as_ref(),
            component: "CreateTSMedia",
            kind: severity as u8,
            thread: 1,
            file: "tsmedia",
        };
        let stamp = Stamp::from_unix_millis(self.clock.now_unix_millis(), 0);
        self.lines.push(cmtrace::line(&entry, &stamp));
    }

    /// An information line.
    pub fn info(&mut self, message: impl AsRef<str>) {
        self.line(Severity::Info, message)
    }

    /// A warning line.
    pub fn warn(&mut self, message: impl AsRef<str>) {
        self.line(Severity::Warning, message)
    }

    /// An error line.
    pub fn error(&mut self, message: impl AsRef<str>) {
        self.line(Severity::Error, message)
    }

    /// A line with the time since the log began (omitted in deterministic builds).
    pub fn timing(&mut self, what: &str) {
        if !self.clock.is_fixed() {
            let ms = self.started.elapsed().as_millis();
            self.info(format!("{what} after {ms} ms"));
        }
    }

    /// The log text (CRLF line ends).
    pub fn text(&self) -> String {
        let mut s = self.lines.join("\r\n");
        s.push_str("\r\n");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmtrace_line_shape() {
        let mut l = MediaLog::new(Clock::Fixed(86_400 + 3_661));
        l.warn("hello");
        assert_eq!(
            l.text(),
            "<![LOG[hello]LOG]!><time=\"01:01:01.000+0\" date=\"01-02-1970\" component=\"CreateTSMedia\" context=\"\" type=\"2\" thread=\"1\" file=\"tsmedia\">\r\n"
        );
    }
}
