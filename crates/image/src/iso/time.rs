//! Timestamps in the encodings of ISO 9660 (ECMA-119 8.4.26.1 and 9.1.5) and UDF (ECMA-167 1/7.3).

use super::error::{Error, Result};

/// A UTC calendar time, validated to the years ISO 9660 directory records can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

impl Civil {
    /// Converts seconds since 1970-01-01 UTC (proleptic Gregorian, see [`tsmedia_base::civil_time`]).
    pub fn from_unix(seconds: i64) -> Result<Self> {
        // 1970-01-01 .. 2155-12-31 23:59:59: the range of the 7-byte directory record date.
        if !(0..=5_869_583_999).contains(&seconds) {
            return Err(Error::Timestamp { seconds });
        }
        let t = tsmedia_base::civil_time::CivilTime::from_unix(seconds);
        // All values are in range after the check above.
        Ok(Civil {
            year: t.year as u16,
            month: t.month,
            day: t.day,
            hour: t.hour,
            minute: t.minute,
            second: t.second,
        })
    }

    /// ECMA-119 9.1.5: years since 1900, month, day, hour, minute, second, GMT offset (0).
    pub fn dir_record(&self) -> [u8; 7] {
        [
            (self.year - 1900) as u8,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            0,
        ]
    }

    /// ECMA-119 8.4.26.1: `YYYYMMDDHHMMSScc` as digits, then the GMT offset (0).
    pub fn volume_descriptor(&self) -> [u8; 17] {
        let s = format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}00",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        );
        let mut out = [0u8; 17];
        out[..16].copy_from_slice(s.as_bytes());
        out
    }

    /// ECMA-167 1/7.3: type 1 (local time) with a time zone offset of 0 minutes, i.e. UTC.
    pub fn udf(&self) -> [u8; 12] {
        let mut out = [0u8; 12];
        out[0..2].copy_from_slice(&0x1000u16.to_le_bytes());
        out[2..4].copy_from_slice(&self.year.to_le_bytes());
        out[4] = self.month;
        out[5] = self.day;
        out[6] = self.hour;
        out[7] = self.minute;
        out[8] = self.second;
        out
    }
}

/// ECMA-119 8.4.26.1: "not specified" is sixteen `'0'` digits and a zero offset.
pub(crate) const UNSPECIFIED_VOLUME_DATE: [u8; 17] = *b"0000000000000000\0";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_to_civil_table() {
        type Case = (i64, (u16, u8, u8, u8, u8, u8));
        let cases: &[Case] = &[
            (0, (1970, 1, 1, 0, 0, 0)),
            (951_782_400, (2000, 2, 29, 0, 0, 0)),
            (1_700_000_000, (2023, 11, 14, 22, 13, 20)),
            (4_107_542_399, (2100, 2, 28, 23, 59, 59)),
            (5_869_583_999, (2155, 12, 31, 23, 59, 59)),
        ];
        for &(t, (y, mo, d, h, mi, s)) in cases {
            let c = Civil::from_unix(t).unwrap();
            assert_eq!(
                (c.year, c.month, c.day, c.hour, c.minute, c.second),
                (y, mo, d, h, mi, s),
                "{t}"
            );
        }
        assert!(Civil::from_unix(-1).is_err());
        assert!(Civil::from_unix(5_869_584_000).is_err());
    }

    #[test]
    fn encodings() {
        let c = Civil::from_unix(1_700_000_000).unwrap();
        assert_eq!(c.dir_record(), [123, 11, 14, 22, 13, 20, 0]);
        assert_eq!(&c.volume_descriptor(), b"2023111422132000\0");
        assert_eq!(
            c.udf(),
            [0x00, 0x10, 0xE7, 0x07, 11, 14, 22, 13, 20, 0, 0, 0]
        );
    }
}
