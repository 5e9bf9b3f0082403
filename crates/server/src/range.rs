//! HTTP byte ranges (RFC 9110 §14): the one-range forms a resuming download sends.

/// What to send for a `Range` header on a file of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeAnswer {
    /// The whole file (no header, several ranges, or a header this server ignores, as RFC
    /// 9110 §14.2 allows).
    Full,
    /// Bytes `start..=end` (206).
    Partial {
        /// First byte.
        start: u64,
        /// Last byte, inclusive.
        end: u64,
    },
    /// No byte of the file is in the range (416).
    Unsatisfiable,
}

/// Interprets a `Range` header: `bytes=a-b`, `bytes=a-` or `bytes=-n`.
pub fn parse(header: Option<&str>, size: u64) -> RangeAnswer {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeAnswer::Full;
    };
    if spec.contains(',') {
        return RangeAnswer::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeAnswer::Full;
    };
    let num = |s: &str| -> Option<Option<u64>> {
        let s = s.trim();
        if s.is_empty() {
            Some(None)
        } else if s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse().ok().map(Some)
        } else {
            None
        }
    };
    let (Some(first), Some(last)) = (num(first), num(last)) else {
        return RangeAnswer::Full;
    };
    match (first, last) {
        (Some(start), last) => {
            if last.is_some_and(|l| l < start) {
                return RangeAnswer::Full;
            }
            if start >= size {
                return RangeAnswer::Unsatisfiable;
            }
            let end = last.map_or(size - 1, |l| l.min(size - 1));
            RangeAnswer::Partial { start, end }
        }
        (None, Some(suffix)) => {
            if suffix == 0 || size == 0 {
                return RangeAnswer::Unsatisfiable;
            }
            RangeAnswer::Partial {
                start: size.saturating_sub(suffix),
                end: size - 1,
            }
        }
        (None, None) => RangeAnswer::Full,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RangeAnswer::*;

    #[test]
    fn table() {
        let p = |start, end| Partial { start, end };
        for (header, size, want) in [
            (None, 10, Full),
            (Some("bytes=0-"), 10, p(0, 9)),
            (Some("bytes=4-"), 10, p(4, 9)),
            (Some("bytes=2-5"), 10, p(2, 5)),
            (Some("bytes=2-500"), 10, p(2, 9)),
            (Some("bytes=-3"), 10, p(7, 9)),
            (Some("bytes=-30"), 10, p(0, 9)),
            (Some("bytes=10-"), 10, Unsatisfiable),
            (Some("bytes=0-"), 0, Unsatisfiable),
            (Some("bytes=-0"), 10, Unsatisfiable),
            (Some("bytes=5-2"), 10, Full),
            (Some("bytes=0-1,4-5"), 10, Full),
            (Some("bytes=x-"), 10, Full),
            (Some("bytes=-"), 10, Full),
            (Some("items=0-1"), 10, Full),
            (Some("bytes=99999999999999999999999-"), 10, Full),
            (Some("bytes=+1-"), 10, Full),
        ] {
            assert_eq!(parse(header, size), want, "{header:?} on {size}");
        }
    }
}
