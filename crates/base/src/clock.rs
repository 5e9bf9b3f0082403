//! The time tsmedia stamps its outputs with: the system clock, or a fixed UNIX time for
//! reproducible output. Resolved once, at the command line, from `--deterministic` and the
//! `SOURCE_DATE_EPOCH` environment variable (reproducible-builds.org); libraries take a
//! [`Clock`] in their options and never read the environment.

use std::ffi::OsStr;
use std::time::{SystemTime, UNIX_EPOCH};

/// The environment variable that fixes the time of reproducible builds.
pub const SOURCE_DATE_EPOCH: &str = "SOURCE_DATE_EPOCH";

/// `SOURCE_DATE_EPOCH` holds something other than a whole, non-negative number of seconds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "SOURCE_DATE_EPOCH={value:?} is not a whole number of seconds since 1970-01-01 (expected digits only, e.g. 1700000000)"
)]
pub struct InvalidSourceDateEpoch {
    /// The variable's value (lossily decoded).
    pub value: String,
}

/// Where "now" comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Clock {
    /// The system clock. The default.
    #[default]
    System,
    /// A fixed time, UNIX seconds: every "now" is this (reproducible output).
    Fixed(i64),
}

impl Clock {
    /// The clock the user asked for: `SOURCE_DATE_EPOCH` when set (it also makes the output
    /// reproducible), else UNIX time 0 when `deterministic`, else the system clock.
    pub fn from_environment(deterministic: bool) -> Result<Clock, InvalidSourceDateEpoch> {
        Clock::resolve(
            deterministic,
            std::env::var_os(SOURCE_DATE_EPOCH).as_deref(),
        )
    }

    /// [`Clock::from_environment`] with the variable's value given (`None` = unset).
    pub fn resolve(
        deterministic: bool,
        source_date_epoch: Option<&OsStr>,
    ) -> Result<Clock, InvalidSourceDateEpoch> {
        match source_date_epoch {
            Some(v) => parse_epoch(v).map(Clock::Fixed),
            None if deterministic => Ok(Clock::Fixed(0)),
            None => Ok(Clock::System),
        }
    }

    /// The fixed time, if this clock is fixed.
    pub fn fixed(&self) -> Option<i64> {
        match self {
            Clock::Fixed(t) => Some(*t),
            Clock::System => None,
        }
    }

    /// Whether output stamped with this clock is reproducible.
    pub fn is_fixed(&self) -> bool {
        matches!(self, Clock::Fixed(_))
    }

    /// Now, UNIX seconds (0 if the system clock is before 1970).
    pub fn now_unix(&self) -> i64 {
        self.now_unix_millis().div_euclid(1000)
    }

    /// Now, UNIX milliseconds.
    pub fn now_unix_millis(&self) -> i64 {
        match self {
            Clock::Fixed(t) => t.saturating_mul(1000),
            Clock::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
                .unwrap_or(0),
        }
    }
}

/// Digits only (surrounding whitespace ignored), fitting an `i64`.
fn parse_epoch(value: &OsStr) -> Result<i64, InvalidSourceDateEpoch> {
    let text = value.to_string_lossy();
    let t = text.trim();
    if !t.is_empty()
        && t.bytes().all(|b| b.is_ascii_digit())
        && let Ok(seconds) = t.parse::<i64>()
    {
        return Ok(seconds);
    }
    Err(InvalidSourceDateEpoch {
        value: text.into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution() {
        let r = |d, v: Option<&str>| Clock::resolve(d, v.map(OsStr::new));
        assert_eq!(r(false, None), Ok(Clock::System));
        assert_eq!(r(true, None), Ok(Clock::Fixed(0)));
        assert_eq!(
            r(false, Some("1700000000")),
            Ok(Clock::Fixed(1_700_000_000))
        );
        assert_eq!(r(true, Some(" 42\n")), Ok(Clock::Fixed(42)));
        for bad in ["abc", "-5", "1e9", "", "+5", "1.5", "99999999999999999999"] {
            let e = r(false, Some(bad)).unwrap_err();
            assert_eq!(e.value, bad);
            assert!(e.to_string().starts_with("SOURCE_DATE_EPOCH=\""), "{e}");
        }
    }

    #[test]
    fn reading() {
        let c = Clock::Fixed(86_400);
        assert_eq!((c.now_unix(), c.now_unix_millis()), (86_400, 86_400_000));
        assert_eq!(c.fixed(), Some(86_400));
        assert!(c.is_fixed() && !Clock::System.is_fixed());
        assert!(Clock::System.now_unix() > 1_600_000_000);
        assert_eq!(Clock::default(), Clock::System);
    }
}
