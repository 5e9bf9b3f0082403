//! x86 CALL translation ("E8 preprocessing").
//!
//! Before compression, the 32-bit relative target of every byte 0xE8 (the x86 CALL opcode) is
//! turned into an absolute position, so that repeated calls to one function become repeated
//! byte strings. In WIM the translation is always on, uses the fixed "file size" 12,000,000, and
//! positions are relative to the start of the chunk. Bytes 0xE8 in the last 10 bytes of a chunk
//! are not translated, and the 4 bytes after every 0xE8 are skipped, whether or not they were
//! translated (CAB LZX, "Decoding the E8 call translation").

/// The translation size WIM uses (the CAB header's field, fixed).
pub(crate) const E8_FILE_SIZE: i32 = 12_000_000;

/// Calls `f(position, target)` for each 4-byte target to consider, and stores what it returns.
#[inline]
fn for_each_target(data: &mut [u8], mut f: impl FnMut(i32, i32) -> i32) {
    if data.len() <= 10 {
        return;
    }
    let end = data.len() - 10;
    let mut i = 0;
    while i < end {
        // Jump to the next 0xE8 (a vectorised search: most chunks are not x86 code).
        match memchr::memchr(0xE8, &data[i..end]) {
            None => break,
            Some(k) => i += k,
        }
        let t = i32::from_le_bytes(data[i + 1..i + 5].try_into().expect("4 bytes"));
        let n = f(i as i32, t);
        data[i + 1..i + 5].copy_from_slice(&n.to_le_bytes());
        i += 5;
    }
}

/// Compressor side: relative targets become absolute ones.
pub(crate) fn encode(data: &mut [u8]) {
    for_each_target(data, |pos, rel| {
        if rel >= -pos && rel < E8_FILE_SIZE {
            if rel < E8_FILE_SIZE - pos {
                rel + pos
            } else {
                rel - E8_FILE_SIZE
            }
        } else {
            rel
        }
    });
}

/// Decompressor side: absolute targets become relative again.
pub(crate) fn decode(data: &mut [u8]) {
    for_each_target(data, |pos, abs| {
        if abs >= -pos && abs < E8_FILE_SIZE {
            if abs >= 0 {
                abs - pos
            } else {
                abs + E8_FILE_SIZE
            }
        } else {
            abs
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translation_table() {
        // (position of E8, stored value before, after encode)
        let cases: [(usize, i32, i32); 5] = [
            (0, 100, 100),                // pos 0: abs = rel
            (16, 100, 116),               // abs = rel + pos
            (16, -16, 0),                 // lowest valid rel
            (16, -17, -17),               // below range: untouched
            (16, E8_FILE_SIZE - 10, -10), // "compensating" translation
        ];
        for (pos, before, after) in cases {
            let mut d = vec![0u8; 64];
            d[pos] = 0xE8;
            d[pos + 1..pos + 5].copy_from_slice(&before.to_le_bytes());
            encode(&mut d);
            assert_eq!(
                i32::from_le_bytes(d[pos + 1..pos + 5].try_into().unwrap()),
                after,
                "{pos} {before}"
            );
            decode(&mut d);
            assert_eq!(
                i32::from_le_bytes(d[pos + 1..pos + 5].try_into().unwrap()),
                before
            );
        }
    }

    #[test]
    fn last_ten_bytes_and_skipped_bytes_are_untouched() {
        let mut d = vec![0xE8u8; 30];
        let orig = d.clone();
        encode(&mut d);
        // E8 at 0, 5, 10, 15 are considered; their target 0xE8E8E8E8 is out of range: unchanged.
        assert_eq!(d, orig);
        let mut d = vec![0u8; 20];
        d[10] = 0xE8; // position 10 == len - 10: not translated
        d[11] = 1;
        let orig = d.clone();
        encode(&mut d);
        assert_eq!(d, orig);
        d[9] = 0xE8; // position 9 < len - 10: its target (bytes 10..14, = 0x1E8) is translated
        encode(&mut d);
        assert_ne!(d, orig);
    }
}
