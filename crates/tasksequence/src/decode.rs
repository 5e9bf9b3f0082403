//! Text decoding of task sequence files: UTF-8 or UTF-16, as Windows tools write them
//! (PowerShell 5's `Out-File` and `Export-Clixml` write UTF-16 LE with a byte order mark).

use crate::error::{Error, Result};

/// The text of a task sequence file: UTF-8 (with or without a byte order mark) or UTF-16
/// LE/BE (with a byte order mark, or without one when the text starts with `<`). Every
/// reader of task sequence files (the library, the command line) decodes through this.
pub fn decode_text(bytes: &[u8]) -> Result<String> {
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => utf8(rest, 3),
        [0xFF, 0xFE, rest @ ..] => utf16(rest, 2, u16::from_le_bytes, "UTF-16LE"),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, 2, u16::from_be_bytes, "UTF-16BE"),
        [b'<', 0, ..] => utf16(bytes, 0, u16::from_le_bytes, "UTF-16LE"),
        [0, b'<', ..] => utf16(bytes, 0, u16::from_be_bytes, "UTF-16BE"),
        _ => utf8(bytes, 0),
    }
}

fn utf8(bytes: &[u8], base: usize) -> Result<String> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => Err(Error::Encoding {
            encoding: "UTF-8",
            offset: base + e.valid_up_to(),
        }),
    }
}

fn utf16(
    bytes: &[u8],
    base: usize,
    unit: fn([u8; 2]) -> u16,
    encoding: &'static str,
) -> Result<String> {
    if !bytes.len().is_multiple_of(2) {
        return Err(Error::Encoding {
            encoding,
            offset: base + bytes.len() - 1,
        });
    }
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    let mut out = String::with_capacity(bytes.len() / 2);
    let mut offset = base;
    for ch in char::decode_utf16(units) {
        match ch {
            Ok(c) => {
                out.push(c);
                offset += c.len_utf16() * 2;
            }
            // An unpaired surrogate at `offset`.
            Err(_) => return Err(Error::Encoding { encoding, offset }),
        }
    }
    Ok(out)
}
