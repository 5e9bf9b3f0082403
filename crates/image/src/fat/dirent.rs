//! 32-byte short directory entries and FAT timestamps (fatgen103 §6).

/// Attribute of a directory.
pub const ATTR_DIRECTORY: u8 = 0x10;
/// Attribute of a file ("archive": changed since the last backup, as every writer sets it).
pub const ATTR_ARCHIVE: u8 = 0x20;
/// Attribute of the volume label entry in the root directory.
pub const ATTR_VOLUME_ID: u8 = 0x08;

/// A FAT date and time (local time, two-second resolution, years 1980–2107). One timestamp is
/// used for every entry of a volume so that its bytes are reproducible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FatTimestamp {
    year: u16,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
}

impl Default for FatTimestamp {
    /// 1980-01-01 00:00:00, FAT's epoch.
    fn default() -> Self {
        FatTimestamp {
            year: 1980,
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
        }
    }
}

impl FatTimestamp {
    /// A timestamp from calendar fields; `None` if outside FAT's range or not a valid date.
    /// Odd seconds are rounded down (FAT stores two-second units).
    pub fn new(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> Option<Self> {
        let leap =
            year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        ((1980..=2107).contains(&year)
            && (1..=days_in_month).contains(&day)
            && hour < 24
            && minute < 60
            && second < 60)
            .then_some(FatTimestamp {
                year,
                month,
                day,
                hour,
                minute,
                second,
            })
    }

    /// A timestamp from seconds since the Unix epoch (taken as UTC); `None` outside 1980–2107.
    pub fn from_unix_seconds(secs: i64) -> Option<Self> {
        let t = tsmedia_base::civil_time::CivilTime::from_unix(secs);
        FatTimestamp::new(
            u16::try_from(t.year).ok()?,
            t.month,
            t.day,
            t.hour,
            t.minute,
            t.second,
        )
    }

    /// The 16-bit date field: bits 15–9 years since 1980, 8–5 month, 4–0 day.
    pub fn date(&self) -> u16 {
        ((self.year - 1980) << 9) | (u16::from(self.month) << 5) | u16::from(self.day)
    }

    /// The 16-bit time field: bits 15–11 hours, 10–5 minutes, 4–0 two-second units.
    pub fn time(&self) -> u16 {
        (u16::from(self.hour) << 11) | (u16::from(self.minute) << 5) | u16::from(self.second / 2)
    }
}

/// Encodes a short directory entry.
pub fn short_entry(
    name: &[u8; 11],
    attr: u8,
    first_cluster: u32,
    size: u32,
    ts: FatTimestamp,
) -> [u8; 32] {
    let mut e = [0u8; 32];
    e[..11].copy_from_slice(name);
    e[11] = attr;
    let (date, time) = (ts.date().to_le_bytes(), ts.time().to_le_bytes());
    e[14..16].copy_from_slice(&time); // DIR_CrtTime
    e[16..18].copy_from_slice(&date); // DIR_CrtDate
    e[18..20].copy_from_slice(&date); // DIR_LstAccDate
    e[20..22].copy_from_slice(&((first_cluster >> 16) as u16).to_le_bytes());
    e[22..24].copy_from_slice(&time); // DIR_WrtTime
    e[24..26].copy_from_slice(&date); // DIR_WrtDate
    e[26..28].copy_from_slice(&(first_cluster as u16).to_le_bytes());
    e[28..32].copy_from_slice(&size.to_le_bytes());
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_fields() {
        let cases = [
            (0i64, None),
            (315_532_800, Some((1980, 1, 1, 0, 0, 0))),
            (1_700_000_000, Some((2023, 11, 14, 22, 13, 20))),
            (951_782_400, Some((2000, 2, 29, 0, 0, 0))),
            (4_354_819_199, Some((2107, 12, 31, 23, 59, 59))),
            (4_354_819_200, None),
        ];
        for (secs, want) in cases {
            let got = FatTimestamp::from_unix_seconds(secs);
            let want = want.and_then(|(y, mo, d, h, mi, s)| FatTimestamp::new(y, mo, d, h, mi, s));
            assert_eq!(got, want, "{secs}");
        }
        let t = FatTimestamp::new(2023, 11, 14, 22, 13, 21).unwrap();
        assert_eq!(t.date(), (43 << 9) | (11 << 5) | 14);
        assert_eq!(t.time(), (22 << 11) | (13 << 5) | 10);
        assert!(FatTimestamp::new(2023, 2, 29, 0, 0, 0).is_none());
    }

    #[test]
    fn short_entry_layout() {
        let e = short_entry(
            b"BOOTX64 EFI",
            ATTR_ARCHIVE,
            0x0001_0203,
            1024,
            FatTimestamp::default(),
        );
        assert_eq!(&e[..11], b"BOOTX64 EFI");
        assert_eq!(e[11], 0x20);
        assert_eq!(&e[20..22], &[0x01, 0x00]);
        assert_eq!(&e[26..28], &[0x03, 0x02]);
        assert_eq!(&e[28..32], &1024u32.to_le_bytes());
        assert_eq!(&e[24..26], &0x0021u16.to_le_bytes());
    }
}
