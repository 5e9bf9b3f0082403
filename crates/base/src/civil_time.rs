//! Days since 1970-01-01 to and from a proleptic Gregorian (year, month, day), after Howard
//! Hinnant's `days_from_civil` / `civil_from_days` (exact for every `i64` day count that fits
//! a year in `i64`; no table, no time zone).

/// A UTC calendar time split into fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CivilTime {
    /// Year (proleptic Gregorian; may be before 1970 or negative).
    pub year: i64,
    /// 1–12.
    pub month: u8,
    /// 1–31.
    pub day: u8,
    /// 0–23.
    pub hour: u8,
    /// 0–59.
    pub minute: u8,
    /// 0–59.
    pub second: u8,
}

impl CivilTime {
    /// The UTC calendar time of `seconds` since 1970-01-01 00:00:00 UTC.
    pub fn from_unix(seconds: i64) -> CivilTime {
        let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
        let in_day = seconds.rem_euclid(86_400);
        CivilTime {
            year,
            month,
            day,
            hour: (in_day / 3600) as u8,
            minute: (in_day / 60 % 60) as u8,
            second: (in_day % 60) as u8,
        }
    }

    /// Seconds since 1970-01-01 00:00:00 UTC.
    pub fn to_unix(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
    }
}

/// (year, month 1–12, day 1–31) of `days` since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Days since 1970-01-01 of (year, month 1–12, day 1–31). Out-of-range months and days are
/// not rejected; validate them first.
pub fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let (m, d) = (i64::from(month), i64::from(day));
    let y = if m <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases = [
            (-719_468, (0, 3, 1)),
            (-1, (1969, 12, 31)),
            (0, (1970, 1, 1)),
            (59, (1970, 3, 1)),
            (3_652, (1980, 1, 1)),
            (11_016, (2000, 2, 29)),
            (19_737, (2024, 1, 15)),
            (67_934, (2155, 12, 31)),
        ];
        for (days, civil) in cases {
            assert_eq!(civil_from_days(days), civil, "{days}");
            assert_eq!(
                days_from_civil(civil.0, civil.1, civil.2),
                days,
                "{civil:?}"
            );
        }
    }

    #[test]
    fn round_trip_over_centuries() {
        for days in (-200_000..200_000).step_by(7) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn seconds() {
        let t = CivilTime::from_unix(86_400 + 3_661);
        assert_eq!(
            (t.year, t.month, t.day, t.hour, t.minute, t.second),
            (1970, 1, 2, 1, 1, 1)
        );
        assert_eq!(t.to_unix(), 86_400 + 3_661);
        let before = CivilTime::from_unix(-1);
        assert_eq!((before.year, before.hour, before.second), (1969, 23, 59));
        assert_eq!(before.to_unix(), -1);
    }
}
