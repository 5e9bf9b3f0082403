//! Log lines in the CMTrace format (`docs/media.md`, "Logs"; [`tsmedia_base::cmtrace`] writes
//! them):
//!
//! ```text
//! <![LOG[message]LOG]!><time="HH:MM:SS.mmm+BIAS" date="MM-DD-YYYY" component="Name" context="" type="1" thread="1234" file="source:line">
//! ```
//! The engine emits [`LogRecord`]s into a [`LogSink`] and never prints; a [`CmTraceWriter`]
//! turns them into lines with a clock the caller supplies.

use std::io::{self, Write};
use tsmedia_base::cmtrace;

/// CMTrace severity (`type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// `type="0"`.
    Verbose,
    /// `type="1"`.
    Info,
    /// `type="2"`.
    Warning,
    /// `type="3"`.
    Error,
}

impl Severity {
    /// The CMTrace `type` number.
    pub fn cmtrace_type(self) -> u8 {
        match self {
            Severity::Verbose => 0,
            Severity::Info => 1,
            Severity::Warning => 2,
            Severity::Error => 3,
        }
    }
}

/// One log message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    /// Severity.
    pub severity: Severity,
    /// Component (`TSManager` for the engine).
    pub component: String,
    /// Text.
    pub message: String,
}

/// Receives log records.
pub trait LogSink {
    /// Takes one record.
    fn log(&mut self, record: LogRecord);
}

/// Collects records in memory.
impl LogSink for Vec<LogRecord> {
    fn log(&mut self, record: LogRecord) {
        self.push(record);
    }
}

/// Discards records.
#[derive(Debug, Clone, Copy, Default)]
pub struct NullLog;

impl LogSink for NullLog {
    fn log(&mut self, _record: LogRecord) {}
}

/// A local wall-clock time with its Windows bias (the one CMTrace stamp of
/// [`tsmedia_base::cmtrace`]).
pub use tsmedia_base::cmtrace::Stamp as LogStamp;

/// One CMTrace line (without the line break), written by [`tsmedia_base::cmtrace::line`].
pub fn format_cmtrace(record: &LogRecord, stamp: &LogStamp, thread: u32, file: &str) -> String {
    let entry = cmtrace::Entry {
        message: &record.message,
        component: &record.component,
        kind: record.severity.cmtrace_type(),
        thread,
        file,
    };
    cmtrace::line(&entry, stamp)
}

/// A [`LogSink`] writing CMTrace lines (`\r\n` terminated, as on Windows) to `W`.
/// The first write error is kept and returned by [`CmTraceWriter::finish`].
pub struct CmTraceWriter<W: Write> {
    out: W,
    clock: Box<dyn FnMut() -> LogStamp>,
    thread: u32,
    file: String,
    error: Option<io::Error>,
}

impl<W: Write> CmTraceWriter<W> {
    /// A writer stamping lines with `clock` and `thread`.
    pub fn new(out: W, thread: u32, clock: impl FnMut() -> LogStamp + 'static) -> Self {
        CmTraceWriter {
            out,
            clock: Box::new(clock),
            thread,
            file: String::new(),
            error: None,
        }
    }

    /// Sets the `file` attribute of every line (default empty).
    pub fn with_file(mut self, file: impl Into<String>) -> Self {
        self.file = file.into();
        self
    }

    /// Flushes and returns the writer, or the first error met.
    pub fn finish(mut self) -> io::Result<W> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> LogSink for CmTraceWriter<W> {
    fn log(&mut self, record: LogRecord) {
        if self.error.is_some() {
            return;
        }
        let stamp = (self.clock)();
        let line = format_cmtrace(&record, &stamp, self.thread, &self.file);
        if let Err(e) = write!(self.out, "{line}\r\n") {
            self.error = Some(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamp_and_line() {
        // 2024-01-15 12:00:00.250 UTC seen from PDT (bias +420): 05:00:00.250 local.
        let s = LogStamp::from_unix_millis(1_705_320_000_250, 420);
        assert_eq!((s.year, s.month, s.day), (2024, 1, 15));
        assert_eq!((s.hour, s.minute, s.second, s.millis), (5, 0, 0, 250));
        let r = LogRecord {
            severity: Severity::Warning,
            component: "TSManager".into(),
            message: "a ]LOG]!> b".into(),
        };
        assert_eq!(
            format_cmtrace(&r, &s, 1234, "engine.rs"),
            "<![LOG[a ]LOG]!&gt; b]LOG]!><time=\"05:00:00.250+420\" date=\"01-15-2024\" component=\"TSManager\" context=\"\" type=\"2\" thread=\"1234\" file=\"engine.rs\">"
        );
        let cest = LogStamp::from_unix_millis(0, -120);
        assert_eq!(
            (cest.year, cest.month, cest.day, cest.hour),
            (1970, 1, 1, 2)
        );
        assert!(format_cmtrace(&r, &cest, 1, "f").contains("time=\"02:00:00.000-120\""));
    }

    #[test]
    fn writer_writes_lines() {
        let mut w = CmTraceWriter::new(Vec::new(), 7, || LogStamp::from_unix_millis(0, 0))
            .with_file("tsmedia");
        for m in ["one", "two"] {
            w.log(LogRecord {
                severity: Severity::Info,
                component: "TSManager".into(),
                message: m.into(),
            });
        }
        let text = String::from_utf8(w.finish().unwrap()).unwrap();
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines.len(), 3);
        assert!(
            lines[0].starts_with("<![LOG[one]LOG]!><time=\"00:00:00.000+0\" date=\"01-01-1970\"")
        );
        assert!(lines[1].ends_with("type=\"1\" thread=\"7\" file=\"tsmedia\">"));
    }
}
