//! The x86 filter of LZMS: before compression, relative addresses in likely x86 instructions
//! become absolute (the same target then repeats as the same bytes); after decompression the
//! translation is undone. It runs on every chunk, whatever the data.
//!
//! Candidates are scanned from position 1 up to 17 bytes before the end (chunks of 17 bytes or
//! fewer are left alone), each one an opcode at position `i` followed by a 32-bit little-endian
//! displacement:
//!
//! | bytes at `i` | opcode length | window |
//! |---|---|---|
//! | `E8` (call) | 1 | 511 |
//! | `FF 15` (call indirect) | 2 | 1023 |
//! | `F0 83 05` (lock add) | 3 | 1023 |
//! | `48`/`4C` `8D` m, m & 7 = 5 (lea, rip-relative) | 3 | 1023 |
//! | `48` `8B` m, m & 7 = 5 and m < 16 (mov, rip-relative) | 3 | 1023 |
//!
//! `E9` (jump) is skipped with its four displacement bytes and never translated. The
//! displacement is translated (plus `i` forwards, minus `i` backwards, modulo 2³²) only when
//! `i` is within the window of the last position flagged as x86 code. Then, whether translated
//! or not, the low 16 bits of `i + displacement` (the untranslated displacement) name a target;
//! with `end = i + opcode length + 3`, if the same target was last seen at most 65,535 bytes
//! before `end`, `end` is flagged as x86 code; the target is recorded as seen at `end`. The
//! scan resumes after the displacement. Initially no position is flagged (the last flag sits
//! 1024 bytes before the start) and no target seen (65,536 bytes before).

const TARGET_WINDOW: i64 = 65_535;
const MAX_TRANSLATION_DISTANCE: i64 = 1023;

/// Which way to translate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Relative to absolute, before compression.
    Encode,
    /// Absolute to relative, after decompression.
    Decode,
}

/// Runs the filter over `data`; `last_seen` is scratch space of 65,536 entries.
pub(crate) fn filter(data: &mut [u8], last_seen: &mut [i32], direction: Direction) {
    let size = data.len();
    if size <= 17 {
        return;
    }
    last_seen.fill(-(TARGET_WINDOW as i32) - 1);
    let mut last_flagged: i64 = -MAX_TRANSLATION_DISTANCE - 1;
    let end = size - 16;
    let mut p = 1;
    while p < end {
        let (opcode_len, window) = match data[p] {
            0xE8 => (1, MAX_TRANSLATION_DISTANCE >> 1),
            0xE9 => {
                p += 5;
                continue;
            }
            0xFF if data[p + 1] == 0x15 => (2, MAX_TRANSLATION_DISTANCE),
            0xF0 if data[p + 1] == 0x83 && data[p + 2] == 0x05 => (3, MAX_TRANSLATION_DISTANCE),
            b @ (0x48 | 0x4C) if rip_relative(b, data[p + 1], data[p + 2]) => {
                (3, MAX_TRANSLATION_DISTANCE)
            }
            _ => {
                p += 1;
                continue;
            }
        };
        let i = p as i64;
        let at = p + opcode_len;
        let disp = u32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]);
        let translate = i - last_flagged <= window;
        let original = match (direction, translate) {
            (_, false) => disp,
            (Direction::Encode, true) => {
                store(data, at, disp.wrapping_add(p as u32));
                disp
            }
            (Direction::Decode, true) => {
                let orig = disp.wrapping_sub(p as u32);
                store(data, at, orig);
                orig
            }
        };
        let target = ((p as u32).wrapping_add(original) & 0xFFFF) as usize;
        let end_pos = i + opcode_len as i64 + 3;
        if end_pos - i64::from(last_seen[target]) <= TARGET_WINDOW {
            last_flagged = end_pos;
        }
        last_seen[target] = end_pos as i32;
        p = at + 4;
    }
}

/// A REX.W `lea` or `mov` with a ModR/M byte whose r/m field is 5 (rip-relative in 64-bit
/// code; only the r/m field is tested, not the mod field).
fn rip_relative(rex: u8, opcode: u8, modrm: u8) -> bool {
    modrm & 0x07 == 0x05
        && (opcode == 0x8D || (opcode == 0x8B && rex & 0x04 == 0 && modrm & 0xF0 == 0))
}

fn store(data: &mut [u8], at: usize, v: u32) {
    data[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(data: &[u8]) -> Vec<u8> {
        let mut seen = vec![0i32; 65_536];
        let mut v = data.to_vec();
        filter(&mut v, &mut seen, Direction::Encode);
        let encoded = v.clone();
        filter(&mut v, &mut seen, Direction::Decode);
        assert_eq!(v, data);
        encoded
    }

    #[test]
    fn repeated_calls_to_one_target_become_absolute() {
        // A call to target 0x1000 at 100, then at 200: the second call flags x86 code, so a
        // third one at 300 is translated.
        let mut data = vec![0u8; 400];
        for at in [100usize, 200, 300] {
            data[at] = 0xE8;
            let rel = (0x1000 - at as i64) as u32;
            data[at + 1..at + 5].copy_from_slice(&rel.to_le_bytes());
        }
        let enc = round_trip(&data);
        assert_eq!(&enc[..300], &data[..300]);
        assert_eq!(&enc[301..305], &0x1000u32.to_le_bytes()[..]);
    }

    #[test]
    fn short_chunks_untouched_and_random_data_round_trips() {
        round_trip(&[0xE8; 17]);
        let mut x = 0x1234_5678u32;
        let data: Vec<u8> = (0..100_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                [0xE8, 0xE9, 0xFF, 0x15, 0x48, 0x8D, 0x05, 0xF0, 0x83, 0x8B][(x % 10) as usize]
            })
            .collect();
        round_trip(&data);
    }
}
