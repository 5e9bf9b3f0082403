//! One writer of CMTrace log lines, the format Configuration Manager's own logs use and
//! CMTrace/OneTrace read (see `docs/` for the format notes):
//!
//! ```text
//! <![LOG[message]LOG]!><time="HH:MM:SS.mmm+BIAS" date="MM-DD-YYYY" component="Name" context="" type="1" thread="1234" file="source:line">
//! ```
//!
//! BIAS is the Windows bias in minutes (UTC minus local: `+420` for PDT, `-120` for CEST,
//! `+0` for UTC). `type` is 0 verbose, 1 information, 2 warning, 3 error.

use crate::civil_time::civil_from_days;

/// A local wall-clock time with its Windows bias.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Year.
    pub year: i64,
    /// 1–12.
    pub month: u32,
    /// 1–31.
    pub day: u32,
    /// 0–23.
    pub hour: u32,
    /// 0–59.
    pub minute: u32,
    /// 0–59.
    pub second: u32,
    /// 0–999.
    pub millis: u32,
    /// UTC minus local time in minutes (`+420` for PDT, `-120` for CEST).
    pub bias_minutes: i32,
}

impl Stamp {
    /// The local time of `unix_millis` (UTC) for a zone with `bias_minutes`.
    pub fn from_unix_millis(unix_millis: i64, bias_minutes: i32) -> Stamp {
        let local = unix_millis - i64::from(bias_minutes) * 60_000;
        let (year, month, day) = civil_from_days(local.div_euclid(86_400_000));
        let in_day = local.rem_euclid(86_400_000);
        let secs = in_day / 1000;
        Stamp {
            year,
            month: u32::from(month),
            day: u32::from(day),
            hour: (secs / 3600) as u32,
            minute: (secs / 60 % 60) as u32,
            second: (secs % 60) as u32,
            millis: (in_day % 1000) as u32,
            bias_minutes,
        }
    }

    /// Now, in UTC (bias 0).
    pub fn now_utc() -> Stamp {
        Stamp::from_unix_millis(crate::clock::Clock::System.now_unix_millis(), 0)
    }
}

/// What one line says besides its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The text. The marker `]LOG]!>` inside it would end it early in CMTrace, so it is
    /// written as `]LOG]!&gt;`.
    pub message: &'a str,
    /// `component` (`TSManager`, `CreateTSMedia`).
    pub component: &'a str,
    /// `type`: 0 verbose, 1 information, 2 warning, 3 error.
    pub kind: u8,
    /// `thread`.
    pub thread: u32,
    /// `file` (the source of the line; may be empty).
    pub file: &'a str,
}

/// One CMTrace line, without the line break (Windows tools end each with `\r\n`).
pub fn line(entry: &Entry<'_>, stamp: &Stamp) -> String {
    let message = entry.message.replace("]LOG]!>", "]LOG]!&gt;");
    // Attribute values are double-quoted; a quote inside would end them.
    let quote = |s: &str| s.replace('"', "'");
    format!(
        "<![LOG[{message}]LOG]!><time=\"{:02}:{:02}:{:02}.{:03}{:+}\" date=\"{:02}-{:02}-{:04}\" component=\"{}\" context=\"\" type=\"{}\" thread=\"{}\" file=\"{}\">",
        stamp.hour,
        stamp.minute,
        stamp.second,
        stamp.millis,
        stamp.bias_minutes,
        stamp.month,
        stamp.day,
        stamp.year,
        quote(entry.component),
        entry.kind,
        entry.thread,
        quote(entry.file),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(message: &str) -> Entry<'_> {
        Entry {
            message,
            component: "TSManager",
            kind: 2,
            thread: 1234,
            file: "engine.rs",
        }
    }

    #[test]
    fn stamps() {
        // 2024-01-15 12:00:00.250 UTC seen from PDT (bias +420): 05:00:00.250 local.
        let s = Stamp::from_unix_millis(1_705_320_000_250, 420);
        assert_eq!((s.year, s.month, s.day), (2024, 1, 15));
        assert_eq!((s.hour, s.minute, s.second, s.millis), (5, 0, 0, 250));
        let cest = Stamp::from_unix_millis(0, -120);
        assert_eq!(
            (cest.year, cest.month, cest.day, cest.hour),
            (1970, 1, 1, 2)
        );
        let before = Stamp::from_unix_millis(-1, 0);
        assert_eq!(
            (
                before.year,
                before.month,
                before.day,
                before.hour,
                before.millis
            ),
            (1969, 12, 31, 23, 999)
        );
    }

    #[test]
    fn lines() {
        let s = Stamp::from_unix_millis(1_705_320_000_250, 420);
        assert_eq!(
            line(&entry("a ]LOG]!> b"), &s),
            "<![LOG[a ]LOG]!&gt; b]LOG]!><time=\"05:00:00.250+420\" date=\"01-15-2024\" component=\"TSManager\" context=\"\" type=\"2\" thread=\"1234\" file=\"engine.rs\">"
        );
        let cest = Stamp::from_unix_millis(0, -120);
        assert!(line(&entry("x"), &cest).contains("time=\"02:00:00.000-120\""));
        let utc = Stamp::from_unix_millis(0, 0);
        assert!(line(&entry("x"), &utc).contains("time=\"00:00:00.000+0\" date=\"01-01-1970\""));
        let quoted = Entry {
            component: "a\"b",
            ..entry("m")
        };
        assert!(line(&quoted, &utc).contains("component=\"a'b\""));
    }
}
