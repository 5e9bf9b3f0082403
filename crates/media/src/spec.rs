//! What to build: every option of the Create Task Sequence Media wizard and the
//! `New-CM*Media` cmdlets, loadable from TOML (`--spec FILE.toml`) for reproducible builds.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Result, spec};

/// The four media types (`docs/media.md`, "The four media types").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    /// Boots Windows PE and contacts a management point; content comes from DPs.
    #[default]
    Bootable,
    /// A WIM to apply to a disk before it ships: boot image, OS image and content.
    Prestaged,
    /// Everything on the media, no network needed: policy and content.
    Standalone,
    /// Boots into the capture wizard (reference computer capture).
    Capture,
}

impl MediaKind {
    /// `MediaType=` in TsmBootstrap.ini and `_SMSTSMediaType`.
    pub fn bootstrap_name(self) -> &'static str {
        match self {
            MediaKind::Bootable => "BootMedia",
            MediaKind::Prestaged => "OEMMedia",
            MediaKind::Standalone => "FullMedia",
            MediaKind::Capture => "CaptureMedia",
        }
    }

    /// Lower-case name (CLI and spec files).
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Bootable => "bootable",
            MediaKind::Prestaged => "prestaged",
            MediaKind::Standalone => "standalone",
            MediaKind::Capture => "capture",
        }
    }

    /// Parses a name as written by [`MediaKind::as_str`] or `bootstrap_name`.
    pub fn parse(s: &str) -> Result<MediaKind> {
        [
            MediaKind::Bootable,
            MediaKind::Prestaged,
            MediaKind::Standalone,
            MediaKind::Capture,
        ]
        .into_iter()
        .find(|k| k.as_str() == s || k.bootstrap_name() == s)
        .ok_or_else(|| {
            spec(
                "kind",
                format!("{s:?} (bootable, prestaged, standalone, capture)"),
            )
        })
    }
}

impl fmt::Display for MediaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the media go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum MediaType {
    /// A set of ISO images in the `out` folder.
    #[default]
    CdDvd,
    /// A USB disk image file or block device (FAT32).
    Usb,
}

/// How the media find a management point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum MpMode {
    /// `SMSTSLocationMPs`: the listed MPs in priority order, the client picks by location.
    #[default]
    Dynamic,
    /// `SMSTSMP`: the first listed MP only.
    SiteBased,
}

/// User device affinity (the wizard's "Allow user device affinity" choice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Uda {
    /// Also read as Configuration Manager spells it (`-UserDeviceAffinity DoNotAllow`).
    #[default]
    #[serde(alias = "DoNotAllow")]
    DoNotAllow,
    #[serde(alias = "AdministratorApproval", alias = "administrator-approval")]
    AdminApproval,
    #[serde(alias = "AutoApproval")]
    AutoApproval,
}

impl Uda {
    /// Value of `SMSTSUDAUsers` policy mode as the runtime reads it.
    pub fn as_str(self) -> &'static str {
        match self {
            Uda::DoNotAllow => "do-not-allow",
            Uda::AdminApproval => "admin-approval",
            Uda::AutoApproval => "auto-approval",
        }
    }
}

/// Every option of a media build. Fields default as documented; `kind` and `out` are required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct MediaSpec {
    /// Media type. Default: bootable.
    pub kind: MediaKind,
    /// Boot image package ID. Default: the task sequence's boot image.
    pub boot_image: Option<String>,
    /// Architecture the media must boot (x64 boot images boot x86 and x64 machines).
    /// Default: the boot image's.
    pub arch: Option<String>,
    /// Distribution points, preferred first. Default: none (required when content is taken).
    pub dp: Vec<String>,
    /// Principal that must have read access on the DPs. Default: `Everyone`.
    pub user: Option<String>,
    /// How the media find an MP. Default: dynamic.
    pub mode: MpMode,
    /// Management points, in priority order. Default: every MP of the site.
    pub mp: Vec<String>,
    /// CD/DVD set or USB. Default: CD/DVD.
    #[serde(rename = "type")]
    pub media_type: MediaType,
    /// Output: a folder (CD/DVD set), an image file or device (USB) or a `.wim` (prestaged).
    pub out: PathBuf,
    /// Disc size: `650mb`, `4.7gb`, `8.5gb`, `unlimited` or bytes. Default: unlimited.
    pub size: Option<String>,
    /// Volume label and `MediaLabel.txt`. Default: [`DEFAULT_LABEL`], Configuration Manager's
    /// (its first 11 characters on a FAT volume).
    pub label: Option<String>,
    /// Start without the welcome page. Default: no.
    pub unattended: bool,
    /// Let the person at the console open a root shell in tsmedia PE (Configuration
    /// Manager's "enable command support", for testing) on the failure screen. Only for
    /// tsmedia PE boot images. Default: no.
    pub debug_shell: bool,
    /// Allow unknown computers (adds the unknown machine GUIDs). Default: no.
    pub allow_unknown: bool,
    /// Media password. Default: none (media unprotected; logged plainly).
    pub password: Option<String>,
    /// File holding the password (first line). Default: none.
    pub password_file: Option<PathBuf>,
    /// Create a self-signed media certificate. Default: yes unless `pfx` is given.
    pub self_signed_cert: bool,
    /// Certificate validity start (`YYYY-MM-DD` or RFC 3339). Default: the build time.
    pub cert_start: Option<String>,
    /// Certificate expiry. Default: one year after `cert_start`.
    pub cert_expire: Option<String>,
    /// PKI certificate with its key to import instead. Default: none.
    pub pfx: Option<PathBuf>,
    /// Password of `pfx`. Default: empty.
    pub pfx_password: Option<String>,
    /// User device affinity. Default: do not allow.
    pub uda: Uda,
    /// Custom task sequence variables. Default: none.
    pub variable: BTreeMap<String, String>,
    /// Prestart command line. Default: none.
    pub prestart_command: Option<String>,
    /// Package holding the prestart command's files. Default: none.
    pub prestart_package: Option<String>,
    /// Task sequence (stand-alone, prestaged). Default: none.
    pub ts: Option<String>,
    /// OS image package (prestaged). Default: none.
    pub os_image: Option<String>,
    /// Image index in the OS image. Default: the package's.
    pub os_image_index: Option<u32>,
    /// Extra applications to put on prestaged media. Default: none.
    pub application: Vec<String>,
    /// Extra packages. Default: none.
    pub package: Vec<String>,
    /// Extra driver packages. Default: none.
    pub driver_package: Vec<String>,
    /// Also take the packages the chosen ones depend on. Default: no.
    pub include_dependencies: bool,
    /// Prestaged media properties (Configuration Manager's length limits: 50, 32, 127).
    pub created_by: Option<String>,
    pub version: Option<String>,
    pub comment: Option<String>,
    /// Stand-alone media validity window. Default: none.
    pub start_date: Option<String>,
    pub expiration_date: Option<String>,
    /// Write `autorun.inf`. Default: no.
    pub autorun: bool,
    /// USB device: write the partition table even if the device has data. Default: no.
    pub format: bool,
    /// Byte-identical output for identical inputs, stamped with UNIX time 0 unless the plan's
    /// clock is fixed ([`crate::PlanOptions::clock`], where `SOURCE_DATE_EPOCH` arrives).
    pub deterministic: bool,
    /// Log file. Default: `CreateTSMedia.log` beside the output.
    pub log: Option<PathBuf>,
}

/// The media label Configuration Manager gives media when none is chosen.
pub const DEFAULT_LABEL: &str = "Configuration Manager";

/// Known disc sizes (bytes usable by an ISO image).
pub const CD_650MB: u64 = 681_984_000;
/// Single-layer DVD.
pub const DVD_4_7GB: u64 = 4_700_372_992;
/// Dual-layer DVD.
pub const DVD_8_5GB: u64 = 8_547_991_552;

impl MediaSpec {
    /// Loads a spec from TOML text.
    pub fn from_toml(text: &str) -> Result<MediaSpec> {
        toml::from_str(text).map_err(|e| spec("--spec", e.to_string()))
    }

    /// The spec as TOML (what `--spec` reads).
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string(self).map_err(|e| spec("--spec", e.to_string()))
    }

    /// Disc size in bytes, `None` for unlimited.
    pub fn disc_size(&self) -> Result<Option<u64>> {
        parse_size(self.size.as_deref().unwrap_or("unlimited"))
    }

    /// Volume label ([`DEFAULT_LABEL`] by default).
    pub fn label(&self) -> String {
        self.label.clone().unwrap_or_else(|| DEFAULT_LABEL.into())
    }

    /// The media password: `password`, else the first line of `password_file`.
    pub fn resolved_password(&self) -> Result<Option<String>> {
        if let Some(p) = &self.password {
            return Ok(Some(p.clone()));
        }
        match &self.password_file {
            Some(f) => {
                let text = std::fs::read_to_string(f)
                    .map_err(|e| spec("--password-file", format!("{}: {e}", f.display())))?;
                Ok(Some(text.lines().next().unwrap_or("").to_string()))
            }
            None => Ok(None),
        }
    }

    /// SHA-256 of the spec's non-secret settings and the site code: the seed of every
    /// "random" value of a deterministic build (media GUID, salts, WIM and disk GUIDs).
    ///
    /// The media password, the PFX password and the values of custom variables (where
    /// administrators put domain-join passwords) are left out: the salts and GUIDs drawn from
    /// this seed are readable on the media, and a seed that hashed a secret would let anyone
    /// holding the media check guesses at hash speed. Builds that differ only in those secrets
    /// therefore share GUIDs and salts; their sealed files still differ (synthetic IVs).
    pub fn digest(&self, site_code: &str) -> [u8; 32] {
        let mut public = self.clone();
        public.password = None;
        public.pfx_password = None;
        for value in public.variable.values_mut() {
            value.clear();
        }
        let text = serde_json::to_string(&public).unwrap_or_default();
        let mut h = Sha256::new();
        h.update(b"tsmedia build seed v2\n");
        h.update(site_code.as_bytes());
        h.update(b"\n");
        h.update(text.as_bytes());
        h.finalize().into()
    }
}

/// Parses `650mb`, `4.7gb`, `8.5gb`, `unlimited`, `1GiB`, or a byte count.
pub fn parse_size(text: &str) -> Result<Option<u64>> {
    let t = text.trim().to_ascii_lowercase();
    match t.as_str() {
        "unlimited" | "" => return Ok(None),
        "650mb" => return Ok(Some(CD_650MB)),
        "4.7gb" => return Ok(Some(DVD_4_7GB)),
        "8.5gb" => return Ok(Some(DVD_8_5GB)),
        _ => {}
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let mult: u64 = match unit {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "kb" => 1000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        _ => return Err(spec("--size", format!("{text:?}: unknown unit {unit:?}"))),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| spec("--size", format!("{text:?} is not a size")))?;
    let bytes = (n * mult as f64) as u64;
    if bytes < 1 << 20 {
        return Err(spec("--size", format!("{text:?} is smaller than 1 MiB")));
    }
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        for (text, want) in [
            ("650mb", Some(CD_650MB)),
            ("4.7gb", Some(DVD_4_7GB)),
            ("8.5GB", Some(DVD_8_5GB)),
            ("unlimited", None),
            ("2MiB", Some(2 << 20)),
            ("1048576", Some(1 << 20)),
        ] {
            assert_eq!(parse_size(text).unwrap(), want, "{text}");
        }
        assert!(parse_size("12").is_err());
        assert!(parse_size("5 parsecs").is_err());
    }

    #[test]
    fn toml_round_trip() {
        let mut s = MediaSpec {
            kind: MediaKind::Standalone,
            out: "out".into(),
            ts: Some("PS100010".into()),
            ..MediaSpec::default()
        };
        s.variable.insert("OSDComputerName".into(), "PC1".into());
        let text = s.to_toml().unwrap();
        assert_eq!(MediaSpec::from_toml(&text).unwrap(), s);
        assert!(MediaSpec::from_toml("bogus = 1").is_err());
    }
}
