//! `CreateTSMedia.log` in CMTrace format (`docs/media.md`, "Logs"):
//! `<![LOG[message]LOG]!><time="HH:MM:SS.mmm+000" date="MM-DD-YYYY" component="CreateTSMedia"
//! context="" type="1" thread="1" file="">`; type 1 = information, 2 = warning, 3 = error.

use std::time::Instant;

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
    /// UNIX seconds of the first line (fixed in deterministic builds).
    clock: Option<i64>,
    started: Instant,
}

impl MediaLog {
    /// A log; with `fixed_time`, every line carries that time (reproducible builds).
    pub fn new(fixed_time: Option<i64>) -> MediaLog {
        MediaLog {
            lines: Vec::new(),
            clock: fixed_time,
            started: Instant::now(),
        }
    }

    /// Adds a line.
    pub fn line(&mut self, severity: Severity, message: impl AsRef<str>) {
        let secs = self.clock.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0)
        });
        let t = time::OffsetDateTime::from_unix_timestamp(secs)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        self.lines.push(format!(
            "<![LOG[{}]LOG]!><time=\"{:02}:{:02}:{:02}.000+000\" date=\"{:02}-{:02}-{:04}\" component=\"CreateTSMedia\" context=\"\" type=\"{}\" thread=\"1\" file=\"tsmedia\">",
            message.as_ref().replace("]LOG]!>", "] LOG]!>"),
            t.hour(),
            t.minute(),
            t.second(),
            u8::from(t.month()),
            t.day(),
            t.year(),
            severity as u8
        ));
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
        if self.clock.is_none() {
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
        let mut l = MediaLog::new(Some(86_400 + 3_661));
        l.warn("hello");
        assert_eq!(
            l.text(),
            "<![LOG[hello]LOG]!><time=\"01:01:01.000+000\" date=\"01-02-1970\" component=\"CreateTSMedia\" context=\"\" type=\"2\" thread=\"1\" file=\"tsmedia\">\r\n"
        );
    }
}
