//! The task sequence environment: variables with case-insensitive names, `%VAR%` expansion,
//! and the read-only built-ins.
//!
//! As in Configuration Manager, names are compared without regard to case, and every name that
//! starts with an underscore (`_SMSTSMediaType`, `_SMSTSLastActionRetCode`, ...) is read-only:
//! steps may read it but [`Variables::set`] refuses it. The runtime and the engine write them
//! with [`Variables::set_builtin`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Longest variable name accepted.
pub const MAX_NAME_LEN: usize = 255;

/// Why a variable could not be set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VariableError {
    /// The name starts with `_` and is read-only for task sequence steps.
    #[error("task sequence variable {0} is read-only")]
    ReadOnly(String),
    /// The name is empty, too long or contains `%`, `=` or control characters.
    #[error("invalid task sequence variable name {0:?}")]
    InvalidName(String),
}

/// One variable as serialised: `{"name": "...", "value": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    name: String,
    value: String,
}

/// A set of task sequence variables. Serialises as a list of `{name, value}` objects sorted by
/// upper-cased name; on deserialisation a later entry replaces an earlier one of the same name.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(from = "Vec<Entry>", into = "Vec<Entry>")]
pub struct Variables {
    /// Keyed by the upper-cased name; the entry keeps the name as first written.
    entries: BTreeMap<String, Entry>,
}

impl From<Vec<Entry>> for Variables {
    fn from(list: Vec<Entry>) -> Variables {
        let mut entries = BTreeMap::new();
        for e in list {
            entries.insert(key(&e.name), e);
        }
        Variables { entries }
    }
}

impl From<Variables> for Vec<Entry> {
    fn from(v: Variables) -> Vec<Entry> {
        v.entries.into_values().collect()
    }
}

fn key(name: &str) -> String {
    name.to_uppercase()
}

/// Whether `name` is read-only for steps (starts with `_`).
pub fn is_read_only(name: &str) -> bool {
    name.starts_with('_')
}

fn validate(name: &str) -> Result<(), VariableError> {
    if name.is_empty()
        || name.len() > MAX_NAME_LEN
        || name.chars().any(|c| c == '%' || c == '=' || c.is_control())
    {
        return Err(VariableError::InvalidName(name.to_string()));
    }
    Ok(())
}

impl Variables {
    /// An empty environment.
    pub fn new() -> Variables {
        Variables::default()
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries.get(&key(name)).map(|e| e.value.as_str())
    }

    /// Whether `name` is set (possibly to an empty value).
    pub fn contains(&self, name: &str) -> bool {
        self.entries.contains_key(&key(name))
    }

    /// Sets a writable variable, as a Set Task Sequence Variable step does.
    pub fn set(&mut self, name: &str, value: impl Into<String>) -> Result<(), VariableError> {
        if is_read_only(name) {
            return Err(VariableError::ReadOnly(name.to_string()));
        }
        self.set_builtin(name, value)
    }

    /// Sets any variable, read-only ones included. For the runtime and the engine.
    pub fn set_builtin(
        &mut self,
        name: &str,
        value: impl Into<String>,
    ) -> Result<(), VariableError> {
        validate(name)?;
        let value = value.into();
        match self.entries.get_mut(&key(name)) {
            Some(e) => e.value = value,
            None => {
                self.entries.insert(
                    key(name),
                    Entry {
                        name: name.to_string(),
                        value,
                    },
                );
            }
        }
        Ok(())
    }

    /// Removes a writable variable, returning its value.
    pub fn remove(&mut self, name: &str) -> Result<Option<String>, VariableError> {
        if is_read_only(name) {
            return Err(VariableError::ReadOnly(name.to_string()));
        }
        Ok(self.remove_any(name))
    }

    pub(crate) fn remove_any(&mut self, name: &str) -> Option<String> {
        self.entries.remove(&key(name)).map(|e| e.value)
    }

    /// (name, value) pairs, sorted by upper-cased name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries
            .values()
            .map(|e| (e.name.as_str(), e.value.as_str()))
    }

    /// Number of variables.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no variable is set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Replaces each `%NAME%` whose NAME is set with its value, in one pass (values are not
    /// expanded again). References to unset variables, `%%` and a lone `%` stay as written,
    /// as the Windows command processor and the task sequence engine leave them.
    pub fn expand(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find('%') {
            out.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            match after.find('%') {
                Some(end) if end > 0 => match self.get(&after[..end]) {
                    Some(value) => {
                        out.push_str(value);
                        rest = &after[end + 1..];
                    }
                    None => {
                        // Keep the first `%`; the second may open the next reference.
                        out.push('%');
                        rest = after;
                    }
                },
                _ => {
                    out.push('%');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

/// The media a task sequence was started from (`_SMSTSMediaType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MediaType {
    /// Bootable media: policy and content from the site.
    BootMedia,
    /// Stand-alone media: everything on the media.
    FullMedia,
    /// Prestaged media on a hard disk.
    OemMedia,
    /// Network boot.
    Pxe,
    /// Capture media: the fixed capture task sequence on the media.
    CaptureMedia,
}

impl MediaType {
    /// The value Configuration Manager uses.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::BootMedia => "BootMedia",
            MediaType::FullMedia => "FullMedia",
            MediaType::OemMedia => "OEMMedia",
            MediaType::Pxe => "PXE",
            MediaType::CaptureMedia => "CaptureMedia",
        }
    }
}

/// How the task sequence was launched (`_SMSTSLaunchMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LaunchMode {
    /// From the Configuration Manager client.
    Sms,
    /// USB flash drive.
    Ufd,
    /// USB flash drive, formatted by the wizard.
    UfdFormat,
    /// CD.
    Cd,
    /// DVD.
    Dvd,
    /// Network boot.
    Pxe,
    /// Prestaged media on a hard disk.
    Hd,
}

impl LaunchMode {
    /// The value Configuration Manager uses.
    pub fn as_str(self) -> &'static str {
        match self {
            LaunchMode::Sms => "SMS",
            LaunchMode::Ufd => "UFD",
            LaunchMode::UfdFormat => "UFD+FORMAT",
            LaunchMode::Cd => "CD",
            LaunchMode::Dvd => "DVD",
            LaunchMode::Pxe => "PXE",
            LaunchMode::Hd => "HD",
        }
    }
}

/// The read-only variables the runtime knows before the first step.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BuiltIns {
    /// `_SMSTSMediaType`; unset when `None` (default).
    pub media_type: Option<MediaType>,
    /// `_SMSTSLaunchMode`; unset when `None` (default).
    pub launch_mode: Option<LaunchMode>,
    /// `_SMSTSInWinPE` (`true`/`false`); default `false`.
    pub in_winpe: bool,
    /// `_SMSTSBootUEFI` (`true`/`false`); default `false`.
    pub boot_uefi: bool,
    /// `_SMSTSClientCache`: path of the client cache, set only when one exists (default `None`).
    pub client_cache: Option<String>,
    /// `_SMSTSMediaRootPath`: the media's root (`D:\`); default `None`.
    pub media_root_path: Option<String>,
    /// `_SMSTSPackageID`: the running task sequence's package ID; default `None`.
    pub package_id: Option<String>,
    /// `_SMSTSPackageName`: the running task sequence's name; default `None`.
    pub package_name: Option<String>,
    /// `_SMSTSMachineName`; default `None`.
    pub machine_name: Option<String>,
}

impl BuiltIns {
    /// Writes the built-ins into `env`.
    pub fn apply(&self, env: &mut Variables) -> Result<(), VariableError> {
        let flag = |b: bool| if b { "true" } else { "false" };
        if let Some(m) = self.media_type {
            env.set_builtin("_SMSTSMediaType", m.as_str())?;
        }
        if let Some(m) = self.launch_mode {
            env.set_builtin("_SMSTSLaunchMode", m.as_str())?;
        }
        env.set_builtin("_SMSTSInWinPE", flag(self.in_winpe))?;
        env.set_builtin("_SMSTSBootUEFI", flag(self.boot_uefi))?;
        let optional = [
            ("_SMSTSClientCache", &self.client_cache),
            ("_SMSTSMediaRootPath", &self.media_root_path),
            ("_SMSTSPackageID", &self.package_id),
            ("_SMSTSPackageName", &self.package_name),
            ("_SMSTSMachineName", &self.machine_name),
        ];
        for (name, value) in optional {
            if let Some(v) = value {
                env.set_builtin(name, v.as_str())?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_insensitive() {
        let mut v = Variables::new();
        v.set("OSDComputerName", "PC1").unwrap();
        assert_eq!(v.get("osdcomputername"), Some("PC1"));
        v.set("OSDCOMPUTERNAME", "PC2").unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v.iter().next(), Some(("OSDComputerName", "PC2")));
        assert_eq!(v.remove("osdComputerName").unwrap(), Some("PC2".into()));
        assert!(v.is_empty());
    }

    #[test]
    fn underscore_names_are_read_only() {
        let mut v = Variables::new();
        assert_eq!(
            v.set("_SMSTSMediaType", "FullMedia"),
            Err(VariableError::ReadOnly("_SMSTSMediaType".into()))
        );
        v.set_builtin("_SMSTSMediaType", "FullMedia").unwrap();
        assert_eq!(v.get("_smstsmediatype"), Some("FullMedia"));
        assert!(v.remove("_SMSTSMediaType").is_err());
        assert!(v.set("a=b", "x").is_err());
        assert!(v.set("", "x").is_err());
        assert!(v.set("%X%", "x").is_err());
        assert!(v.set(&"n".repeat(256), "x").is_err());
    }

    #[test]
    fn expansion_table() {
        let mut v = Variables::new();
        v.set("OSDisk", "C:").unwrap();
        v.set("Index", "3").unwrap();
        v.set("Loop", "%Loop%").unwrap();
        v.set("Empty", "").unwrap();
        for (input, want) in [
            ("%OSDisk%\\Windows", "C:\\Windows"),
            ("/image:PS100004,%index%", "/image:PS100004,3"),
            ("%Unset%", "%Unset%"),
            ("100%", "100%"),
            ("%%", "%%"),
            ("%Unset%OSDisk%", "%UnsetC:"),
            ("a%Empty%b", "ab"),
            ("%Loop%", "%Loop%"),
            ("%OSDisk%%Index%", "C:3"),
            ("", ""),
            ("%", "%"),
        ] {
            assert_eq!(v.expand(input), want, "{input}");
        }
    }

    #[test]
    fn serialises_as_a_list() {
        let mut v = Variables::new();
        v.set("b", "2").unwrap();
        v.set_builtin("_A", "1").unwrap();
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(
            json,
            r#"[{"name":"b","value":"2"},{"name":"_A","value":"1"}]"#
        );
        let back: Variables = serde_json::from_str(&json).unwrap();
        assert_eq!(back, v);
        let dup: Variables =
            serde_json::from_str(r#"[{"name":"X","value":"1"},{"name":"x","value":"2"}]"#).unwrap();
        assert_eq!(dup.get("X"), Some("2"));
        assert_eq!(dup.len(), 1);
    }

    #[test]
    fn builtins_apply() {
        let b = BuiltIns {
            media_type: Some(MediaType::OemMedia),
            launch_mode: Some(LaunchMode::UfdFormat),
            in_winpe: true,
            client_cache: Some("C:\\_SMSTaskSequence".into()),
            ..Default::default()
        };
        let mut v = Variables::new();
        b.apply(&mut v).unwrap();
        assert_eq!(v.get("_SMSTSMediaType"), Some("OEMMedia"));
        assert_eq!(v.get("_SMSTSLaunchMode"), Some("UFD+FORMAT"));
        assert_eq!(v.get("_SMSTSInWinPE"), Some("true"));
        assert_eq!(v.get("_SMSTSBootUEFI"), Some("false"));
        assert!(v.contains("_SMSTSClientCache"));
        assert!(!v.contains("_SMSTSMediaRootPath"));
    }
}
