//! What conditions ask of the machine, behind small traits.
//!
//! - [`HostProbe`]: files and folders (the File and Folder condition expressions).
//!   [`FsProbe`] answers from the real filesystem, mapping Windows paths (`X:\dir\file`) onto
//!   directories and matching names without regard to case, as Windows does.
//! - [`SystemQuery`]: WMI, the registry and installed software. On Linux there is none of
//!   these; [`NotAvailable`] answers every question with [`Answer::Unavailable`], which the
//!   condition evaluator treats as *unknown* (see `condition`).

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// Facts about an existing file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileFacts {
    /// Last write time, seconds since 1970-01-01 UTC, when known.
    pub modified: Option<i64>,
    /// File version (`1.2.3.4`) from the executable's version resource, when it has one.
    pub version: Option<String>,
}

/// Facts about an existing folder.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FolderFacts {
    /// Last write time, seconds since 1970-01-01 UTC, when known.
    pub modified: Option<i64>,
}

/// Files and folders of the machine the task sequence runs on. Paths arrive with task
/// sequence variables already expanded, in Windows form.
pub trait HostProbe {
    /// `Ok(None)` when no file exists at `path`.
    fn file(&self, path: &str) -> io::Result<Option<FileFacts>>;
    /// `Ok(None)` when no folder exists at `path`.
    fn folder(&self, path: &str) -> io::Result<Option<FolderFacts>>;
}

/// [`HostProbe`] over the local filesystem.
///
/// A path `D:\rest` is looked up under the directory mapped to drive `D`; a drive that is not
/// mapped does not exist. Paths without a drive letter are taken relative to the `root`
/// directory when one is set, else as they are (after turning `\` into `/`). Each component is
/// matched exactly first, then without regard to ASCII case.
#[derive(Debug, Clone, Default)]
pub struct FsProbe {
    drives: Vec<(char, PathBuf)>,
    root: Option<PathBuf>,
}

/// How much of a file is searched for a version resource (32 MiB).
const VERSION_SCAN_LIMIT: u64 = 32 << 20;

impl FsProbe {
    /// A probe with no drives mapped and no root.
    pub fn new() -> FsProbe {
        FsProbe::new_const()
    }

    pub(crate) const fn new_const() -> FsProbe {
        FsProbe {
            drives: Vec::new(),
            root: None,
        }
    }

    /// Maps drive `letter` (case-insensitive) to `dir`.
    pub fn with_drive(mut self, letter: char, dir: impl Into<PathBuf>) -> FsProbe {
        self.drives.push((letter.to_ascii_uppercase(), dir.into()));
        self
    }

    /// Resolves paths without a drive letter under `dir`.
    pub fn with_root(mut self, dir: impl Into<PathBuf>) -> FsProbe {
        self.root = Some(dir.into());
        self
    }

    /// The local path for a Windows path, or `None` when its drive is not mapped or a
    /// component does not exist.
    pub fn resolve(&self, path: &str) -> Option<PathBuf> {
        let bytes = path.as_bytes();
        let (mut base, rest) =
            if bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic() {
                let letter = (bytes[0] as char).to_ascii_uppercase();
                let dir = self.drives.iter().find(|(l, _)| *l == letter)?.1.clone();
                (dir, &path[2..])
            } else if let Some(root) = &self.root {
                (root.clone(), path)
            } else if path.starts_with(['/', '\\']) {
                (PathBuf::from("/"), path)
            } else {
                (PathBuf::from("."), path)
            };
        // `..` climbs within the path but never above the mapped directory.
        let mut parts: Vec<&str> = Vec::new();
        for component in rest.split(['\\', '/']) {
            match component {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                name => parts.push(name),
            }
        }
        for name in parts {
            base = find_component(&base, name)?;
        }
        Some(base)
    }
}

fn find_component(dir: &Path, name: &str) -> Option<PathBuf> {
    let exact = dir.join(name);
    if fs::symlink_metadata(&exact).is_ok() {
        return Some(exact);
    }
    let entries = fs::read_dir(dir).ok()?;
    for entry in entries.flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .eq_ignore_ascii_case(name)
        {
            return Some(entry.path());
        }
    }
    None
}

fn modified(meta: &fs::Metadata) -> Option<i64> {
    let t = meta.modified().ok()?;
    Some(match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).ok()?,
        Err(e) => -i64::try_from(e.duration().as_secs()).ok()?,
    })
}

impl HostProbe for FsProbe {
    fn file(&self, path: &str) -> io::Result<Option<FileFacts>> {
        let Some(local) = self.resolve(path) else {
            return Ok(None);
        };
        let meta = match fs::metadata(&local) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        if !meta.is_file() {
            return Ok(None);
        }
        let mut data = Vec::new();
        fs::File::open(&local)?
            .take(VERSION_SCAN_LIMIT)
            .read_to_end(&mut data)?;
        Ok(Some(FileFacts {
            modified: modified(&meta),
            version: file_version(&data),
        }))
    }

    fn folder(&self, path: &str) -> io::Result<Option<FolderFacts>> {
        let Some(local) = self.resolve(path) else {
            return Ok(None);
        };
        match fs::metadata(&local) {
            Ok(m) if m.is_dir() => Ok(Some(FolderFacts {
                modified: modified(&m),
            })),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The file version of a Windows executable: the `VS_FIXEDFILEINFO` structure of its version
/// resource, found by its signature `0xFEEF04BD` (little-endian, 4-byte aligned) followed by
/// `dwStrucVersion`, `dwFileVersionMS`, `dwFileVersionLS`.
pub fn file_version(data: &[u8]) -> Option<String> {
    const SIGNATURE: [u8; 4] = 0xFEEF_04BDu32.to_le_bytes();
    let mut offset = 0;
    while offset + 16 <= data.len() {
        if data[offset..offset + 4] == SIGNATURE {
            let word = |at: usize| {
                u32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]])
            };
            let struct_version = word(offset + 4);
            // dwStrucVersion is 0x00010000 in every version resource Windows writes.
            if struct_version == 0x0001_0000 {
                let ms = word(offset + 8);
                let ls = word(offset + 12);
                return Some(format!(
                    "{}.{}.{}.{}",
                    ms >> 16,
                    ms & 0xFFFF,
                    ls >> 16,
                    ls & 0xFFFF
                ));
            }
        }
        offset += 4;
    }
    None
}

/// An answer from a [`SystemQuery`], or the reason there is none on this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer<T> {
    /// The host answered.
    Available(T),
    /// The host cannot answer (no WMI, no registry, ...).
    Unavailable(String),
}

/// A registry value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryValue {
    /// `REG_SZ`.
    Sz(String),
    /// `REG_EXPAND_SZ`.
    ExpandSz(String),
    /// `REG_MULTI_SZ`.
    MultiSz(Vec<String>),
    /// `REG_DWORD`.
    Dword(u32),
    /// `REG_QWORD`.
    Qword(u64),
    /// `REG_BINARY`.
    Binary(Vec<u8>),
    /// `REG_NONE`.
    None,
}

impl RegistryValue {
    /// The `REG_*` type name.
    pub fn type_name(&self) -> &'static str {
        match self {
            RegistryValue::Sz(_) => "REG_SZ",
            RegistryValue::ExpandSz(_) => "REG_EXPAND_SZ",
            RegistryValue::MultiSz(_) => "REG_MULTI_SZ",
            RegistryValue::Dword(_) => "REG_DWORD",
            RegistryValue::Qword(_) => "REG_QWORD",
            RegistryValue::Binary(_) => "REG_BINARY",
            RegistryValue::None => "REG_NONE",
        }
    }

    /// The value as text for comparisons: numbers in decimal, binary in hex, multi-strings
    /// joined with `,`.
    pub fn as_text(&self) -> String {
        match self {
            RegistryValue::Sz(s) | RegistryValue::ExpandSz(s) => s.clone(),
            RegistryValue::MultiSz(v) => v.join(","),
            RegistryValue::Dword(n) => n.to_string(),
            RegistryValue::Qword(n) => n.to_string(),
            RegistryValue::Binary(b) => b.iter().map(|x| format!("{x:02x}")).collect(),
            RegistryValue::None => String::new(),
        }
    }
}

/// An installed product (the Software condition expression).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InstalledProduct {
    /// MSI product code `{GUID}`.
    pub product_code: String,
    /// MSI upgrade code `{GUID}`, if any.
    pub upgrade_code: Option<String>,
    /// Display name.
    pub name: String,
    /// Version.
    pub version: String,
}

/// WMI, registry and installed software. Every method defaults to
/// [`Answer::Unavailable`], so an implementation overrides only what its host has.
pub trait SystemQuery {
    /// Whether the WQL `query` in `namespace` returns at least one instance.
    fn wmi_has_instances(&self, namespace: &str, query: &str) -> Answer<bool> {
        let _ = (namespace, query);
        Answer::Unavailable("WMI is not available on this host".into())
    }

    /// Whether registry key `key_path` (`HKEY_LOCAL_MACHINE\...`) exists.
    fn registry_key_exists(&self, key_path: &str) -> Answer<bool> {
        let _ = key_path;
        Answer::Unavailable("the Windows registry is not available on this host".into())
    }

    /// The value `value_name` of `key_path`, `None` when the key or value does not exist.
    fn registry_value(&self, key_path: &str, value_name: &str) -> Answer<Option<RegistryValue>> {
        let _ = (key_path, value_name);
        Answer::Unavailable("the Windows registry is not available on this host".into())
    }

    /// The installed products.
    fn installed_products(&self) -> Answer<Vec<InstalledProduct>> {
        Answer::Unavailable("the installed software inventory is not available on this host".into())
    }
}

/// The [`SystemQuery`] of a host without WMI or a registry (Linux): nothing is available.
#[derive(Debug, Clone, Copy, Default)]
pub struct NotAvailable;

impl SystemQuery for NotAvailable {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_resource_is_found() {
        let mut data = vec![0u8; 64];
        data.extend_from_slice(&0xFEEF_04BDu32.to_le_bytes());
        data.extend_from_slice(&0x0001_0000u32.to_le_bytes());
        data.extend_from_slice(&((10u32 << 16) | 2).to_le_bytes());
        data.extend_from_slice(&((19041u32 << 16) | 1).to_le_bytes());
        data.extend_from_slice(&[0; 40]);
        assert_eq!(file_version(&data).as_deref(), Some("10.2.19041.1"));
        assert_eq!(file_version(&data[..70]), None);
        assert_eq!(file_version(b"no version here"), None);
    }
}
