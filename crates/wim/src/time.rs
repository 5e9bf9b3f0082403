//! FILETIME (100 ns intervals since 1601-01-01 UTC) ⇄ UNIX time.

/// Seconds from 1601-01-01 to 1970-01-01.
const EPOCH_DIFF: i64 = 11_644_473_600;

/// FILETIME of a UNIX time, clamped to the FILETIME range.
pub fn unix_to_filetime(secs: i64, nanos: u32) -> u64 {
    let t = (secs + EPOCH_DIFF) as i128 * 10_000_000 + i128::from(nanos / 100);
    t.clamp(0, i128::from(u64::MAX)) as u64
}

/// Returns (seconds, nanoseconds) since the UNIX epoch.
pub fn filetime_to_unix(ft: u64) -> (i64, u32) {
    let secs = (ft / 10_000_000) as i64 - EPOCH_DIFF;
    let nanos = (ft % 10_000_000) as u32 * 100;
    (secs, nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        let cases: [(i64, u32, u64); 3] = [
            (0, 0, 116_444_736_000_000_000),
            (1_700_000_000, 123_456_700, 133_444_736_001_234_567),
            (-11_644_473_600, 0, 0),
        ];
        for (s, n, ft) in cases {
            assert_eq!(unix_to_filetime(s, n), ft);
            assert_eq!(filetime_to_unix(ft), (s, n));
        }
    }
}
