//! The answer file (`Windows\Panther\unattend.xml`) that Apply Windows Settings and Apply
//! Network Settings produce, merged into the one the image already carries
//! (docs/unattend.md).
//!
//! [`WindowsSettings`] holds what the two steps set; [`settings_from_variables`] fills it from
//! the task sequence variables Configuration Manager uses; [`answer_file`] turns it into XML,
//! merged with an existing answer file; [`write_answer_file`] does that on the applied volume.
//! Passwords are [`Secret`]s: `Debug` prints `***`, so settings can be logged safely.

mod components;
mod variables;
pub mod xml;

use std::fs;
use std::path::{Path, PathBuf};

pub use components::encode_password;
pub use variables::settings_from_variables;

use crate::secret::Secret;
use xml::XmlElement;

/// The answer file namespace.
pub const UNATTEND_NS: &str = "urn:schemas-microsoft-com:unattend";
/// The namespace of `wcm:action` / `wcm:keyValue` list attributes.
pub const WCM_NS: &str = "http://schemas.microsoft.com/WMIConfig/2002/State";

/// Errors building or writing the answer file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UnattendError {
    #[error("the existing answer file {path} is not XML: {reason}")]
    ExistingNotXml { path: String, reason: String },
    #[error("the existing answer file's root is <{0}>, not <unattend>")]
    NotAnAnswerFile(String),
    #[error("task sequence variable {name}: {reason}")]
    Variable { name: String, reason: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// How the computer joins a network identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Join {
    Workgroup(String),
    Domain {
        /// The domain to join (`contoso.com`).
        domain: String,
        /// The account allowed to join (`CONTOSO\joiner` or `joiner@contoso.com`).
        account: String,
        password: Secret,
        /// Organizational unit for the computer object (`OU=Desktops,DC=contoso,DC=com`).
        ou: Option<String>,
    },
}

/// One network adapter's settings (Apply Network Settings).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AdapterSettings {
    /// The adapter as Windows Setup identifies it: MAC address (`00-15-5D-01-02-03`) or
    /// connection name (`Ethernet`).
    pub identifier: String,
    /// DHCP (the other IPv4 fields are ignored when true).
    pub dhcp: bool,
    /// Static IPv4 addresses with their prefix length (`192.168.1.10/24`).
    pub addresses: Vec<String>,
    /// Default gateways.
    pub gateways: Vec<String>,
    /// DNS servers, in search order (also used with DHCP).
    pub dns_servers: Vec<String>,
    /// Connection-specific DNS suffix.
    pub dns_domain: Option<String>,
}

/// A command run synchronously in the specialize pass (Microsoft-Windows-Deployment).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncCommand {
    /// The command line, e.g. `pnputil /add-driver C:\Drivers\*.inf /subdirs /install`.
    pub path: String,
    pub description: String,
}

/// What the answer file sets. `None`/empty fields are left out (and an existing answer
/// file's value is kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowsSettings {
    /// `processorArchitecture` of the components. Default `amd64`.
    pub architecture: String,
    pub computer_name: Option<String>,
    pub registered_owner: Option<String>,
    pub registered_organization: Option<String>,
    /// Windows time zone name (`W. Europe Standard Time`).
    pub time_zone: Option<String>,
    pub product_key: Option<Secret>,
    /// Local Administrator password, written encoded (docs/unattend.md#passwords).
    pub admin_password: Option<Secret>,
    pub join: Option<Join>,
    /// Primary DNS suffix of the computer.
    pub dns_domain: Option<String>,
    /// DNS suffix search order.
    pub dns_suffix_search_order: Vec<String>,
    pub adapters: Vec<AdapterSettings>,
    /// Specialize-pass commands, in order.
    pub run_synchronous: Vec<SyncCommand>,
}

impl Default for WindowsSettings {
    fn default() -> WindowsSettings {
        WindowsSettings {
            architecture: "amd64".to_string(),
            computer_name: None,
            registered_owner: None,
            registered_organization: None,
            time_zone: None,
            product_key: None,
            admin_password: None,
            join: None,
            dns_domain: None,
            dns_suffix_search_order: Vec::new(),
            adapters: Vec::new(),
            run_synchronous: Vec::new(),
        }
    }
}

/// The answer file for `settings`, merged into `existing` (an answer file's text) if given:
/// components are matched by pass, name and architecture; each element we set replaces the
/// element of the same name in that component; everything else is kept.
pub fn answer_file(
    settings: &WindowsSettings,
    existing: Option<&str>,
) -> Result<String, UnattendError> {
    let mut root = match existing {
        Some(text) => {
            let root = xml::parse(text).map_err(|e| UnattendError::ExistingNotXml {
                path: "unattend.xml".into(),
                reason: e.to_string(),
            })?;
            if root.name.rsplit(':').next() != Some("unattend") {
                return Err(UnattendError::NotAnAnswerFile(root.name));
            }
            root
        }
        None => XmlElement::new("unattend").attr("xmlns", UNATTEND_NS),
    };
    for (pass, component) in components::components(settings) {
        merge_component(&mut root, pass, component);
    }
    Ok(root.to_document())
}

/// Writes the answer file to `Windows/Panther/unattend.xml` on the applied volume, merged
/// with the one already there (names matched without regard to case). Returns its path.
pub fn write_answer_file(
    windows_volume: &Path,
    settings: &WindowsSettings,
) -> Result<PathBuf, UnattendError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| UnattendError::Io { path, source }
    };
    let mut dir = windows_volume.to_path_buf();
    for part in ["Windows", "Panther"] {
        dir = match find_ci(&dir, part) {
            Some(existing) => existing,
            None => {
                let new = dir.join(part);
                fs::create_dir_all(&new).map_err(io(&new))?;
                new
            }
        };
    }
    let path = find_ci(&dir, "unattend.xml").unwrap_or_else(|| dir.join("unattend.xml"));
    let existing = match fs::read(&path) {
        Ok(bytes) => Some(
            decode_text(&bytes).ok_or_else(|| UnattendError::ExistingNotXml {
                path: path.display().to_string(),
                reason: "not UTF-8 or UTF-16 text".into(),
            })?,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io(&path)(e)),
    };
    let text = answer_file(settings, existing.as_deref()).map_err(|e| match e {
        UnattendError::ExistingNotXml { reason, .. } => UnattendError::ExistingNotXml {
            path: path.display().to_string(),
            reason,
        },
        other => other,
    })?;
    fs::write(&path, text).map_err(io(&path))?;
    Ok(path)
}

fn find_ci(dir: &Path, name: &str) -> Option<PathBuf> {
    let exact = dir.join(name);
    if exact.exists() {
        return Some(exact);
    }
    fs::read_dir(dir)
        .ok()?
        .flatten()
        .find(|e| e.file_name().to_string_lossy().eq_ignore_ascii_case(name))
        .map(|e| e.path())
}

/// Answer files written by Windows tools are often UTF-16 with a byte order mark.
fn decode_text(bytes: &[u8]) -> Option<String> {
    let utf16 = |le: bool| {
        let units: Vec<u16> = bytes[2..]
            .chunks_exact(2)
            .map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16(&units).ok()
    };
    match bytes {
        [0xFF, 0xFE, ..] => utf16(true),
        [0xFE, 0xFF, ..] => utf16(false),
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8(rest.to_vec()).ok(),
        _ => String::from_utf8(bytes.to_vec()).ok(),
    }
    // An encoding="utf-16" declaration on text we now hold as UTF-8 would mislead a reader.
    .map(|text| {
        text.replacen("encoding=\"utf-16\"", "encoding=\"utf-8\"", 1)
            .replacen("encoding=\"UTF-16\"", "encoding=\"utf-8\"", 1)
    })
}

fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

fn merge_component(root: &mut XmlElement, pass: &str, component: XmlElement) {
    let settings = root.child_or_insert(
        |s| local(&s.name) == "settings" && s.get_attr("pass") == Some(pass),
        || XmlElement::new("settings").attr("pass", pass),
    );
    let arch = component
        .get_attr("processorArchitecture")
        .unwrap_or("")
        .to_string();
    let name = component.get_attr("name").unwrap_or("").to_string();
    let same = |c: &XmlElement| {
        local(&c.name) == "component"
            && c.get_attr("name") == Some(name.as_str())
            && c.get_attr("processorArchitecture")
                .unwrap_or("")
                .eq_ignore_ascii_case(&arch)
    };
    let Some(at) = settings.find_child(same) else {
        settings.children.push(xml::XmlNode::Element(component));
        return;
    };
    let xml::XmlNode::Element(existing) = &mut settings.children[at] else {
        return; // find_child only returns element positions
    };
    // Our elements may carry wcm: attributes; declare the prefix where we put them.
    if existing.get_attr("xmlns:wcm").is_none() {
        existing.set_attr("xmlns:wcm", WCM_NS);
    }
    for child in component.elements() {
        existing.replace_or_push(child.clone());
    }
}
