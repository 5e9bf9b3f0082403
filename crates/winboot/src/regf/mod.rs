//! The Windows registry hive file (`regf`), version 1.5: a tree of keys and values in memory,
//! written to the on-disk format and read back.
//!
//! The facts this module relies on (base block, hive bins, cells, `nk`/`vk`/`sk`/`lh`/`db`
//! records) are in [docs/regf.md](../../../../docs/regf.md). The writer produces a clean,
//! compact hive: one security descriptor shared by every key, no free space except the tail
//! of each bin, no transaction log. The reader accepts what Windows and hivex write (`lf`,
//! `lh`, `li`, `ri` subkey lists, big data) — enough to check our own hives and to load an
//! existing BCD store. Class names and volatile keys are not supported.

mod layout;
mod read;
mod write;

pub use read::read_hive;
pub use write::{HiveOptions, write_hive};

/// `REG_NONE`.
pub const REG_NONE: u32 = 0;
/// `REG_SZ`: UTF-16LE string with a terminating NUL.
pub const REG_SZ: u32 = 1;
/// `REG_EXPAND_SZ`.
pub const REG_EXPAND_SZ: u32 = 2;
/// `REG_BINARY`.
pub const REG_BINARY: u32 = 3;
/// `REG_DWORD`: 4 bytes little-endian.
pub const REG_DWORD: u32 = 4;
/// `REG_MULTI_SZ`: NUL-terminated UTF-16LE strings, then one more NUL.
pub const REG_MULTI_SZ: u32 = 7;
/// `REG_QWORD`: 8 bytes little-endian.
pub const REG_QWORD: u32 = 11;

/// Errors reading or writing a hive.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegfError {
    #[error("not a registry hive: {0}")]
    NotAHive(String),
    #[error("hive base block checksum {stored:#010x}, computed {computed:#010x}")]
    Checksum { stored: u32, computed: u32 },
    #[error("hive cell at offset {offset:#x}: {reason}")]
    BadCell { offset: u32, reason: String },
    #[error("hive keys nested deeper than {0} levels")]
    TooDeep(usize),
    #[error("{what} {name:?} is too large for a hive ({len} bytes)")]
    TooLarge {
        what: &'static str,
        name: String,
        len: usize,
    },
}

pub type Result<T, E = RegfError> = std::result::Result<T, E>;

/// A value: its name (empty for the key's default value), type and raw data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Value {
    pub name: String,
    /// One of the `REG_*` constants (any `u32` is kept as is).
    pub kind: u32,
    pub data: Vec<u8>,
}

impl Value {
    /// A `REG_SZ` value.
    pub fn string(name: &str, text: &str) -> Value {
        let mut data = utf16le(text);
        data.extend_from_slice(&[0, 0]);
        Value {
            name: name.to_string(),
            kind: REG_SZ,
            data,
        }
    }

    /// A `REG_MULTI_SZ` value.
    pub fn multi_string(name: &str, items: &[String]) -> Value {
        let mut data = Vec::new();
        for item in items {
            data.extend(utf16le(item));
            data.extend_from_slice(&[0, 0]);
        }
        data.extend_from_slice(&[0, 0]);
        Value {
            name: name.to_string(),
            kind: REG_MULTI_SZ,
            data,
        }
    }

    /// A `REG_DWORD` value.
    pub fn dword(name: &str, number: u32) -> Value {
        Value {
            name: name.to_string(),
            kind: REG_DWORD,
            data: number.to_le_bytes().to_vec(),
        }
    }

    /// A `REG_BINARY` value.
    pub fn binary(name: &str, data: Vec<u8>) -> Value {
        Value {
            name: name.to_string(),
            kind: REG_BINARY,
            data,
        }
    }

    /// The text of a `REG_SZ`/`REG_EXPAND_SZ` value (up to the first NUL).
    pub fn as_string(&self) -> Option<String> {
        if self.kind != REG_SZ && self.kind != REG_EXPAND_SZ {
            return None;
        }
        let units = from_utf16le(&self.data);
        let end = units.iter().position(|&u| u == 0).unwrap_or(units.len());
        String::from_utf16(&units[..end]).ok()
    }

    /// The strings of a `REG_MULTI_SZ` value.
    pub fn as_multi_string(&self) -> Option<Vec<String>> {
        if self.kind != REG_MULTI_SZ {
            return None;
        }
        let units = from_utf16le(&self.data);
        let mut out = Vec::new();
        for part in units.split(|&u| u == 0) {
            if part.is_empty() {
                break;
            }
            out.push(String::from_utf16(part).ok()?);
        }
        Some(out)
    }

    /// The number of a `REG_DWORD` value.
    pub fn as_dword(&self) -> Option<u32> {
        if self.kind != REG_DWORD {
            return None;
        }
        Some(u32::from_le_bytes(self.data.get(..4)?.try_into().ok()?))
    }
}

/// A key: its name, values and subkeys. Names compare case-insensitively, as in Windows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Key {
    pub name: String,
    pub values: Vec<Value>,
    pub subkeys: Vec<Key>,
}

impl Key {
    pub fn new(name: &str) -> Key {
        Key {
            name: name.to_string(),
            ..Key::default()
        }
    }

    /// The subkey `name`, created if missing.
    pub fn subkey_mut(&mut self, name: &str) -> &mut Key {
        let at = match self
            .subkeys
            .iter()
            .position(|k| k.name.eq_ignore_ascii_case(name))
        {
            Some(at) => at,
            None => {
                self.subkeys.push(Key::new(name));
                self.subkeys.len() - 1
            }
        };
        &mut self.subkeys[at]
    }

    /// The key at a backslash-separated path below this one (`Objects\{…}\Elements`).
    pub fn find(&self, path: &str) -> Option<&Key> {
        path.split('\\')
            .filter(|p| !p.is_empty())
            .try_fold(self, |key, part| {
                key.subkeys
                    .iter()
                    .find(|k| k.name.eq_ignore_ascii_case(part))
            })
    }

    /// Sets a value, replacing one of the same name.
    pub fn set(&mut self, value: Value) {
        match self
            .values
            .iter_mut()
            .find(|v| v.name.eq_ignore_ascii_case(&value.name))
        {
            Some(old) => *old = value,
            None => self.values.push(value),
        }
    }

    /// The value `name`.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.values
            .iter()
            .find(|v| v.name.eq_ignore_ascii_case(name))
    }
}

pub(crate) fn utf16le(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

pub(crate) fn from_utf16le(bytes: &[u8]) -> Vec<u16> {
    bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_values_round_trip() {
        let v = Value::string("Element", "\\Windows");
        assert_eq!(v.data.len(), 2 * 8 + 2);
        assert_eq!(v.as_string().as_deref(), Some("\\Windows"));
        let items = vec!["{a}".to_string(), "{b}".to_string()];
        let m = Value::multi_string("Element", &items);
        assert_eq!(m.as_multi_string(), Some(items));
        assert_eq!(
            Value::dword("Type", 0x1010_0002).as_dword(),
            Some(0x1010_0002)
        );
    }

    #[test]
    fn paths_are_case_insensitive() {
        let mut root = Key::new("ROOT");
        root.subkey_mut("Objects")
            .subkey_mut("{X}")
            .set(Value::dword("Type", 1));
        assert!(root.find("objects\\{x}").is_some());
        assert_eq!(root.subkey_mut("OBJECTS").subkeys.len(), 1);
    }
}
