//! The media plan: every output file with its source and size, per disc, decided before any
//! byte is written (`--dry-run` prints it).

use std::fmt;
use std::path::PathBuf;

use tsmedia_base::Clock;
use tsmedia_site::{Arch, ManagementPoint, Package};

use crate::certificate::MediaCertificate;
use crate::layout::FAT32_MAX_FILE;
use crate::spec::{MediaKind, MediaSpec, MediaType};
use crate::swm::SwmLayout;

/// How preflight lays media out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOptions {
    /// Largest file of USB media: a larger content WIM is stored as `.swm` parts of at most
    /// this size. Default: [`FAT32_MAX_FILE`] (4 GiB − 1). Smaller values are for tests and
    /// for file systems with smaller limits.
    pub usb_max_file: u64,
    /// The runtime injected into `sources/boot.wim` as `SMS/bin/<arch>/tsmedia`. Default:
    /// the running executable (`std::env::current_exe()`). Give a path for reproducible
    /// builds across machines, or a small file in tests. Planned here because its size
    /// counts towards boot.wim's.
    pub runtime: Option<PathBuf>,
    /// The time the media are stamped with. A fixed clock fixes the timestamps only; the
    /// build is reproducible when [`MediaSpec::deterministic`] asks for it (which alone
    /// fixes the time at 0). The command
    /// line resolves it from `--deterministic` and `SOURCE_DATE_EPOCH`
    /// ([`tsmedia_base::Clock::from_environment`]); the library never reads the environment.
    /// Default: the system clock.
    pub clock: Clock,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            usb_max_file: FAT32_MAX_FILE,
            runtime: None,
            clock: Clock::System,
        }
    }
}

/// A content WIM stored as `.swm` parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitWim {
    /// Package the WIM belongs to.
    pub package_id: String,
    /// Media path the WIM would have had (`SMS/PKG/PS100004/install.wim`).
    pub dest: String,
    /// SHA-256 of the WIM in the library (lowercase hex).
    pub sha256: String,
    /// The parts, streamed from the library WIM.
    pub layout: SwmLayout,
}

/// Where one file of the media comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileSource {
    /// A file of the content library (streamed once when the media are written).
    Library(PathBuf),
    /// A file inside the boot image WIM (`Windows/Boot/...`).
    BootImage(String),
    /// `sources/boot.wim`: the boot image with the media configuration injected.
    BootWim,
    /// Part `part` of `parts` of a content WIM over the FAT32 or disc limit, streamed from
    /// the library WIM as [`MediaPlan::splits`] describes (`wim` is the WIM's media path).
    SwmPart { wim: String, part: u16, parts: u16 },
    /// Made by the builder (`TsmBootstrap.ini`, `Variables.dat`, ...).
    Generated(&'static str),
}

/// One file of one disc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    /// Path on the media, `/`-separated (`SMS/PKG/PS100004/install.wim`).
    pub dest: String,
    /// Size in bytes (estimated for `boot.wim`; exact for `.swm` parts).
    pub size: u64,
    pub source: FileSource,
}

/// One output: an ISO of a set, the USB image, or the prestaged WIM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disc {
    /// 1-based disc number.
    pub number: u32,
    /// Output file.
    pub path: PathBuf,
    pub files: Vec<PlannedFile>,
}

impl Disc {
    /// Sum of the file sizes.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// A content package on the media (stand-alone, prestaged).
#[derive(Debug, Clone)]
pub struct ContentItem {
    pub package: Package,
    /// Content version taken (the current one).
    pub version: u32,
    /// Files, in library order.
    pub files: Vec<tsmedia_site::ManifestEntry>,
}

/// A checked media build, ready to write.
#[derive(Debug, Clone)]
pub struct MediaPlan {
    pub spec: MediaSpec,
    pub boot_image: Package,
    /// The boot image WIM in the content library and the image index used.
    pub boot_wim: PathBuf,
    pub boot_index: u32,
    pub boot_arch: Arch,
    /// Windows PE (boot files + `sources/boot.wim` with the runtime injected) or tsmedia PE
    /// (its files as they are; no `boot.wim`, no runtime injected).
    pub boot_flavour: crate::bootfiles::Flavour,
    /// The runtime executable injected into boot.wim, and its size (empty and 0 for tsmedia
    /// PE, which carries its own).
    pub runtime: PathBuf,
    pub runtime_size: u64,
    /// Task sequence ID and name (stand-alone, prestaged; optional otherwise).
    pub task_sequence: Option<(String, String)>,
    /// Task sequence XML (stand-alone: encrypted into `policy.xml`).
    pub task_sequence_xml: Option<String>,
    /// Stand-alone and capture media: the programs and application deployment types of the
    /// content they carry (sealed into `SMS/data/SoftwarePolicy.dat`).
    pub software: Option<tsmedia_mediafmt::software::SoftwarePolicy>,
    pub content: Vec<ContentItem>,
    /// The image of `--os-image` the media are for (prestaged): `--os-image-index`, else the
    /// package's image index, else 1; checked against the WIM. `OSDImageIndex` on the media.
    pub os_image_index: Option<u32>,
    /// `SMSTSPreferredAdvertID`: the deployment of the task sequence that bootable and
    /// prestaged media made for one run.
    pub preferred_deployment: Option<String>,
    pub management_points: Vec<ManagementPoint>,
    pub certificate: MediaCertificate,
    pub password: Option<String>,
    pub discs: Vec<Disc>,
    /// Content WIMs stored as `.swm` parts (their parts are files of `discs`).
    pub splits: Vec<SplitWim>,
    /// Preflight results that passed, one line each (logged).
    pub checks: Vec<String>,
    /// Things the user should know (WIMs split for FAT32, unprotected media, ...).
    pub notices: Vec<String>,
    /// Fixed time of the media's timestamps (`SOURCE_DATE_EPOCH`, or 0 for a deterministic
    /// build without it), UNIX seconds.
    pub fixed_time: Option<i64>,
    /// Byte-identical output for identical inputs (`--deterministic`): salts, nonces and
    /// GUIDs come from [`MediaPlan::seed`], and the certificate is given (`--pfx`).
    pub reproducible: bool,
    pub seed: [u8; 32],
    /// `_SMSMediaGuid`.
    pub media_guid: String,
    /// Unknown computer GUIDs by architecture (with `allow_unknown`).
    pub unknown_guids: Vec<(Arch, String)>,
    pub site_code: String,
    /// The site's reply-signing public key (Ed25519), base64: the runtime accepts only
    /// management point answers signed with it.
    pub site_key: String,
}

impl MediaPlan {
    /// The media type.
    pub fn kind(&self) -> MediaKind {
        self.spec.kind
    }

    /// Total bytes over all outputs (estimated).
    pub fn total_bytes(&self) -> u64 {
        self.discs.iter().map(Disc::bytes).sum()
    }
}

fn human(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.2} GiB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n => format!("{n} B"),
    }
}

impl fmt::Display for MediaPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let out = match (self.spec.kind, self.spec.media_type) {
            (MediaKind::Prestaged, _) => "prestaged WIM",
            (_, MediaType::Usb) => "USB image",
            (_, MediaType::CdDvd) => "CD/DVD set",
        };
        writeln!(
            f,
            "{} media, {out}, boot image {} ({}, index {})",
            self.spec.kind, self.boot_image.id, self.boot_arch, self.boot_index
        )?;
        if let Some((id, name)) = &self.task_sequence {
            writeln!(f, "task sequence {id} ({name})")?;
        }
        for c in &self.content {
            writeln!(
                f,
                "content {} ({}) version {}: {} files, {}",
                c.package.id,
                c.package.name,
                c.version,
                c.files.len(),
                human(c.files.iter().map(|e| e.size).sum())
            )?;
        }
        for n in &self.notices {
            writeln!(f, "notice: {n}")?;
        }
        for d in &self.discs {
            writeln!(
                f,
                "disc {} of {}: {} ({} files, {})",
                d.number,
                self.discs.len(),
                d.path.display(),
                d.files.len(),
                human(d.bytes())
            )?;
            for file in &d.files {
                let src = match &file.source {
                    FileSource::Library(p) => format!("library {}", p.display()),
                    FileSource::BootImage(p) => format!("boot image {p}"),
                    FileSource::BootWim => "boot image + media configuration".into(),
                    FileSource::SwmPart { wim, part, parts } => {
                        format!("part {part} of {parts} of {wim}")
                    }
                    FileSource::Generated(w) => format!("generated {w}"),
                };
                writeln!(f, "  {:>12}  {}  <- {src}", file.size, file.dest)?;
            }
        }
        Ok(())
    }
}
