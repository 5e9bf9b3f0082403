//! Preflight: every check of a media build, run against the site before any byte is written.
//! Each failure names the object and the fix; a passing run yields the [`MediaPlan`].

use std::fmt;
use std::path::{Path, PathBuf};

use tsmedia_site::{Arch, Package, PackageType, Site};
use tsmedia_wim::Wim;

use crate::bootfiles::{self, BootFile};
use crate::certificate::{self, MediaCertificate};
use crate::error::{Error, Result};
use crate::layout;
use crate::plan::{ContentItem, MediaPlan};
use crate::secret::Randomness;
use crate::spec::{MediaKind, MediaSpec, MediaType};

/// One failed check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreflightFailure {
    /// What is wrong (`boot image PS100003`, `--label`, `DP dp2`).
    pub object: String,
    /// The problem.
    pub problem: String,
    /// How to fix it.
    pub fix: String,
}

impl fmt::Display for PreflightFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}; fix: {}", self.object, self.problem, self.fix)
    }
}

/// Limits of Configuration Manager's media properties.
pub const MAX_CREATED_BY: usize = 50;
/// `--version`.
pub const MAX_VERSION: usize = 32;
/// `--comment`.
pub const MAX_COMMENT: usize = 50;
/// ISO 9660 / Joliet volume label.
pub const MAX_ISO_LABEL: usize = 32;
/// FAT volume label.
pub const MAX_FAT_LABEL: usize = 11;

struct Checker {
    failures: Vec<PreflightFailure>,
    passed: Vec<String>,
}

impl Checker {
    fn fail(
        &mut self,
        object: impl Into<String>,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.failures.push(PreflightFailure {
            object: object.into(),
            problem: problem.into(),
            fix: fix.into(),
        });
    }
    fn pass(&mut self, what: impl Into<String>) {
        self.passed.push(format!("OK: {}", what.into()));
    }
}

/// Build time: `SOURCE_DATE_EPOCH` or 0 in deterministic builds, else now.
pub fn build_time(spec: &MediaSpec) -> (i64, Option<i64>) {
    if spec.is_deterministic() {
        let t = std::env::var("SOURCE_DATE_EPOCH")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        (t, Some(t))
    } else {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        (now, None)
    }
}

/// Runs every check. On success the plan says what will be written; on failure nothing was.
pub fn preflight(site: &Site, spec: &MediaSpec) -> Result<MediaPlan, Vec<PreflightFailure>> {
    match run(site, spec) {
        Ok(Ok(plan)) => Ok(plan),
        Ok(Err(f)) => Err(f),
        Err(e) => Err(vec![PreflightFailure {
            object: "site".into(),
            problem: format!("{e}"),
            fix: "check the site folder and its content library".into(),
        }]),
    }
}

fn run(site: &Site, spec: &MediaSpec) -> Result<Result<MediaPlan, Vec<PreflightFailure>>> {
    let mut c = Checker {
        failures: Vec::new(),
        passed: Vec::new(),
    };
    let (now, fixed_time) = build_time(spec);
    let mut notices = Vec::new();

    // Options and lengths.
    let disc_size = match spec.disc_size() {
        Ok(s) => s,
        Err(e) => {
            c.fail(
                "--size",
                e.to_string(),
                "use 650mb, 4.7gb, 8.5gb, unlimited or a byte count",
            );
            None
        }
    };
    let label = spec.label();
    let max_label = if spec.media_type == MediaType::Usb && spec.kind != MediaKind::Prestaged {
        MAX_FAT_LABEL
    } else {
        MAX_ISO_LABEL
    };
    if label.is_empty() || label.chars().count() > max_label || !label.is_ascii() {
        c.fail(
            "--label",
            format!("{label:?} must be 1 to {max_label} ASCII characters"),
            "choose a shorter label",
        );
    } else {
        c.pass(format!("label {label:?}"));
    }
    for (opt, value, max) in [
        ("--created-by", &spec.created_by, MAX_CREATED_BY),
        ("--version", &spec.version, MAX_VERSION),
        ("--comment", &spec.comment, MAX_COMMENT),
    ] {
        if let Some(v) = value
            && v.chars().count() > max
        {
            c.fail(
                opt,
                format!("{} characters, at most {max} allowed", v.chars().count()),
                format!("shorten {opt}"),
            );
        }
    }
    for name in spec.variable.keys() {
        if name.is_empty() || name.starts_with('_') || name.contains(['=', '<', '>', '"', '&']) {
            c.fail(
                format!("variable {name:?}"),
                "names must be non-empty, must not start with '_' (read-only) and must not contain = < > \" &",
                "rename the variable",
            );
        }
    }
    let password = match spec.resolved_password() {
        Ok(p) => p,
        Err(e) => {
            c.fail("--password-file", e.to_string(), "give a readable file");
            None
        }
    };
    if password.as_deref() == Some("") {
        c.fail("--password", "empty", "give a password or none at all");
    }
    if password.is_none() && spec.kind != MediaKind::Prestaged {
        notices.push("no media password: the media are UNPROTECTED, anyone holding them can read their variables and start the task sequence".into());
    }
    check_output(&mut c, spec);

    // Task sequence.
    let ts = match &spec.ts {
        Some(id) => match site.task_sequence(id) {
            Ok(ts) => Some(ts),
            Err(e) => {
                c.fail(
                    format!("task sequence {id}"),
                    e.to_string(),
                    "give the ID of an imported task sequence (tsmedia ts list)",
                );
                None
            }
        },
        None => {
            if matches!(spec.kind, MediaKind::Standalone | MediaKind::Prestaged) {
                c.fail(
                    "--ts",
                    format!("{} media need a task sequence", spec.kind),
                    "add --ts ID",
                );
            }
            None
        }
    };
    if let Some(ts) = &ts {
        let deployed = site
            .deployments_for_media(None)?
            .into_iter()
            .any(|d| d.ts_id == ts.id);
        if deployed || spec.kind == MediaKind::Standalone {
            c.pass(format!(
                "task sequence {} has a deployment available to media",
                ts.id
            ));
        } else {
            c.fail(
                format!("task sequence {} ({})", ts.id, ts.name),
                "has no deployment available to media and PXE",
                format!("deploy it with availability clients-media-pxe or media-pxe (tsmedia deploy {} COLLECTION --availability media-pxe)", ts.id),
            );
        }
    }

    // Boot image.
    let boot_id = spec
        .boot_image
        .clone()
        .or_else(|| ts.as_ref().and_then(|t| t.boot_image.clone()));
    let boot = match &boot_id {
        None => {
            c.fail(
                "--boot-image",
                "no boot image chosen and the task sequence names none",
                "add --boot-image ID",
            );
            None
        }
        Some(id) => match site.package_of_type(id, PackageType::BootImage) {
            Ok(p) => Some(p),
            Err(e) => {
                c.fail(
                    format!("boot image {id}"),
                    e.to_string(),
                    "give the ID of a boot image package",
                );
                None
            }
        },
    };
    if let (MediaKind::Prestaged, Some(ts), Some(b)) = (spec.kind, &ts, &boot)
        && ts.boot_image.as_deref().is_some_and(|t| t != b.id)
    {
        c.fail(
                format!("boot image {}", b.id),
                format!("task sequence {} uses boot image {}", ts.id, ts.boot_image.as_deref().unwrap_or("")),
                "prestaged media must use the task sequence's boot image: drop --boot-image or give that one",
            );
    }
    let mut boot_parts = None;
    if let Some(b) = &boot {
        boot_parts = check_boot_image(&mut c, site, spec, b)?;
    }

    // Content.
    let mut wanted: Vec<String> = Vec::new();
    if let Some(ts) = &ts
        && matches!(spec.kind, MediaKind::Standalone | MediaKind::Prestaged)
    {
        for r in site.task_sequence_references(&ts.id)? {
            if r.only_disabled || Some(&r.package_id) == boot.as_ref().map(|b| &b.id) {
                continue;
            }
            if !r.resolved {
                c.fail(
                    format!("package {} (step {})", r.package_id, r.steps.join(", ")),
                    format!("referenced by task sequence {} but not in the site", ts.id),
                    "add the package to the site or fix the step",
                );
                continue;
            }
            wanted.push(r.package_id);
        }
    }
    if spec.kind == MediaKind::Prestaged {
        wanted.extend(spec.os_image.iter().cloned());
        wanted.extend(spec.application.iter().cloned());
        wanted.extend(spec.package.iter().cloned());
        wanted.extend(spec.driver_package.iter().cloned());
    }
    wanted.extend(spec.prestart_package.iter().cloned());
    if spec.include_dependencies {
        let mut i = 0;
        while i < wanted.len() {
            if let Ok(p) = site.package(&wanted[i]) {
                for d in p.depends {
                    if !wanted.contains(&d) {
                        wanted.push(d);
                    }
                }
            }
            i += 1;
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    wanted.retain(|w| seen.insert(w.to_ascii_uppercase()));
    let mut content = Vec::new();
    let mut to_check_on_dp: Vec<Package> = boot.iter().cloned().collect();
    for id in &wanted {
        match site.package(id) {
            Ok(p) => {
                let files = site.content_files(&p.content_id)?;
                let version = site.content_version(&p.content_id)?.version;
                to_check_on_dp.push(p.clone());
                if spec.kind == MediaKind::Bootable
                    && spec.prestart_package.as_deref() != Some(id.as_str())
                {
                    continue;
                }
                content.push(ContentItem {
                    package: p,
                    version,
                    files,
                });
            }
            Err(e) => c.fail(
                format!("package {id}"),
                e.to_string(),
                "give the ID of a site package",
            ),
        }
    }
    if spec.kind == MediaKind::Prestaged
        && let Some(os) = &spec.os_image
        && let Ok(p) = site.package(os)
        && p.kind != PackageType::OsImage
    {
        c.fail(
            format!("OS image {os}"),
            format!("is a {}", p.kind.as_str()),
            "give an OS image package",
        );
    }
    check_distribution(&mut c, site, spec, &to_check_on_dp)?;

    // Management points.
    let mps = if spec.mp.is_empty() {
        site.management_points()?
    } else {
        let mut v = Vec::new();
        for name in &spec.mp {
            match site.management_point(name) {
                Ok(m) => v.push(m),
                Err(e) => c.fail(
                    format!("management point {name}"),
                    e.to_string(),
                    "give a site MP (tsmedia mp list)",
                ),
            }
        }
        v
    };
    if mps.is_empty()
        && matches!(
            spec.kind,
            MediaKind::Bootable | MediaKind::Capture | MediaKind::Prestaged
        )
        && spec.kind != MediaKind::Capture
    {
        c.fail(
            "--mp",
            "the site has no management point",
            "add one (tsmedia mp add) or pass --mp",
        );
    }

    // Dates and certificate.
    let parse = |c: &mut Checker, opt: &str, v: &Option<String>| -> Option<i64> {
        let v = v.as_ref()?;
        let t = certificate::parse_date(v);
        if t.is_none() {
            c.fail(
                opt,
                format!("{v:?} is not a date"),
                "use YYYY-MM-DD or RFC 3339",
            );
        }
        t
    };
    if let (Some(s), Some(e)) = (
        parse(&mut c, "--start-date", &spec.start_date),
        parse(&mut c, "--expiration-date", &spec.expiration_date),
    ) && s >= e
    {
        c.fail(
            "--expiration-date",
            "is not after --start-date",
            "choose a later expiration date",
        );
    }
    let cert = check_certificate(&mut c, spec, now, &parse);

    if !c.failures.is_empty() {
        return Ok(Err(c.failures));
    }
    let (Some(boot), Some((boot_wim, boot_index, boot_arch, boot_files)), Some(cert)) =
        (boot, boot_parts, cert)
    else {
        return Ok(Err(vec![PreflightFailure {
            object: "media".into(),
            problem: "incomplete plan".into(),
            fix: "report this".into(),
        }]));
    };
    let seed = spec.digest();
    let rng = if fixed_time.is_some() {
        Randomness::Seeded(seed)
    } else {
        Randomness::Os
    };
    let guid_bytes = rng.bytes("media guid", 16)?;
    let media_guid = uuid::Builder::from_random_bytes(guid_bytes.try_into().unwrap_or([0; 16]))
        .into_uuid()
        .hyphenated()
        .to_string()
        .to_uppercase();
    let mut unknown_guids = Vec::new();
    if spec.allow_unknown {
        for arch in [Arch::X64, Arch::X86] {
            if let Ok(u) = site.unknown_computer(arch) {
                unknown_guids.push((arch, u.sms_guid));
            }
        }
    }
    let ts_xml = match &ts {
        Some(t) => Some(site.task_sequence_source_xml(&t.id)?),
        None => None,
    };
    let mut plan = MediaPlan {
        spec: spec.clone(),
        boot_image: boot,
        boot_wim,
        boot_index,
        boot_arch,
        task_sequence: ts.map(|t| (t.id, t.name)),
        task_sequence_xml: ts_xml,
        content,
        management_points: mps,
        certificate: cert,
        password,
        discs: Vec::new(),
        checks: c.passed,
        notices,
        fixed_time,
        seed,
        media_guid,
        unknown_guids,
        site_code: site.code().to_string(),
    };
    match layout::lay_out(&mut plan, &boot_files, disc_size) {
        Ok(()) => Ok(Ok(plan)),
        Err(f) => Ok(Err(f)),
    }
}

fn check_output(c: &mut Checker, spec: &MediaSpec) {
    let out = &spec.out;
    if out.as_os_str().is_empty() {
        c.fail("--out", "no output given", "add --out PATH");
        return;
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        c.fail(
            format!("--out {}", out.display()),
            format!("folder {} does not exist", parent.display()),
            "create it first",
        );
    }
    if spec.kind == MediaKind::Prestaged {
        if out
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
            != Some("wim")
        {
            c.fail(
                format!("--out {}", out.display()),
                "prestaged media are one WIM file",
                "name the output NAME.wim",
            );
        }
    } else if spec.media_type == MediaType::Usb {
        if out.is_dir() {
            c.fail(
                format!("--out {}", out.display()),
                "is a folder; USB media are an image file or a block device",
                "give a file name or a device",
            );
        }
        if is_block_device(out) && !spec.format {
            c.fail(
                format!("--out {}", out.display()),
                "is a block device and would be overwritten",
                "add --format to repartition and format it",
            );
        }
    } else if out.exists() && !out.is_dir() {
        c.fail(
            format!("--out {}", out.display()),
            "is a file; a CD/DVD set is written to a folder",
            "give a folder",
        );
    }
}

fn is_block_device(p: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata(p).is_ok_and(|m| m.file_type().is_block_device())
}

/// Parses a date option, recording a failure when it is not a date.
type DateParser = dyn Fn(&mut Checker, &str, &Option<String>) -> Option<i64>;

type BootParts = (PathBuf, u32, Arch, Vec<BootFile>);

fn check_boot_image(
    c: &mut Checker,
    site: &Site,
    spec: &MediaSpec,
    b: &Package,
) -> Result<Option<BootParts>> {
    let files = site.content_files(&b.content_id)?;
    let Some(wim_file) = files
        .iter()
        .find(|f| f.path.to_ascii_lowercase().ends_with(".wim"))
    else {
        c.fail(
            format!("boot image {}", b.id),
            "its content holds no .wim file",
            "update the boot image package with its boot.wim",
        );
        return Ok(None);
    };
    let index = b.image_index.unwrap_or(1);
    let arch = b.arch.or_else(|| {
        b.images
            .as_ref()
            .and_then(|i| i.iter().find(|i| i.index == index))
            .and_then(|i| i.arch)
    });
    let Some(arch) = arch else {
        c.fail(
            format!("boot image {}", b.id),
            "has no architecture (WINDOWS/ARCH missing)",
            "set the architecture of the boot image package",
        );
        return Ok(None);
    };
    if let Some(want) = &spec.arch {
        let want_arch = match want.to_ascii_lowercase().as_str() {
            "x86" => Some(Arch::X86),
            "x64" | "amd64" => Some(Arch::X64),
            "arm64" => Some(Arch::Arm64),
            _ => None,
        };
        match want_arch {
            None => c.fail(
                "--arch",
                format!("{want:?} is not x86, x64 or arm64"),
                "use x86, x64 or arm64",
            ),
            Some(w) if !arch.boots(w) => c.fail(
                format!("boot image {} ({arch})", b.id),
                format!(
                    "cannot boot {w} computers (x64 boot images boot x86 and x64; x86 only x86)"
                ),
                format!("choose a boot image that boots {w}"),
            ),
            Some(w) => c.pass(format!("boot image {} ({arch}) boots {w}", b.id)),
        }
    }
    let wim = match Wim::open(&wim_file.library_path) {
        Ok(w) => w,
        Err(e) => {
            c.fail(
                format!("boot image {}", b.id),
                format!("{}: {e}", wim_file.path),
                "update the boot image package with a valid WIM",
            );
            return Ok(None);
        }
    };
    if index == 0 || index > wim.image_count() {
        c.fail(
            format!("boot image {}", b.id),
            format!("image index {index} but the WIM has {}", wim.image_count()),
            "fix the package's image index",
        );
        return Ok(None);
    }
    let boot_files = match bootfiles::find(&wim, index) {
        Ok(f) => f,
        Err(e) => {
            c.fail(
                format!("boot image {}", b.id),
                e.to_string(),
                "use a Windows PE boot image",
            );
            return Ok(None);
        }
    };
    let usb = spec.media_type == MediaType::Usb && spec.kind != MediaKind::Prestaged;
    for need in bootfiles::required(usb) {
        if !boot_files.iter().any(|f| f.dest == *need) {
            c.fail(
                format!("boot image {}", b.id),
                format!(
                    "has no {} (needed for {need})",
                    bootfiles::source_of(need).unwrap_or(need)
                ),
                "use a Windows PE boot image with its Windows\\Boot tree",
            );
        }
    }
    c.pass(format!(
        "boot image {} ({arch}) image {index} has its boot files",
        b.id
    ));
    Ok(Some((
        wim_file.library_path.clone(),
        index,
        arch,
        boot_files,
    )))
}

fn check_distribution(
    c: &mut Checker,
    site: &Site,
    spec: &MediaSpec,
    packages: &[Package],
) -> Result<()> {
    if packages.is_empty() {
        return Ok(());
    }
    if spec.dp.is_empty() {
        c.fail(
            "--dp",
            "no distribution point chosen",
            "add --dp NAME (a DP holding the content)",
        );
        return Ok(());
    }
    let principal = spec.user.clone().unwrap_or_else(|| "Everyone".into());
    let mut dps = Vec::new();
    for name in &spec.dp {
        match site.distribution_point(name) {
            Ok(d) => dps.push(d),
            Err(e) => c.fail(
                format!("distribution point {name}"),
                e.to_string(),
                "give a site DP (tsmedia dp list)",
            ),
        }
    }
    for p in packages {
        let holding: Vec<&str> = dps
            .iter()
            .filter(|d| d.content.iter().any(|x| x.content_id == p.content_id))
            .map(|d| d.id.as_str())
            .collect();
        if holding.is_empty() {
            c.fail(
                format!("package {} ({}) content {}", p.id, p.name, p.content_id),
                format!(
                    "its current version is on none of the chosen DPs ({})",
                    spec.dp.join(", ")
                ),
                format!("distribute it: tsmedia distribute {} {}", p.id, spec.dp[0]),
            );
            continue;
        }
        let mut readable = false;
        for dp in &holding {
            readable |= site.has_dp_read_access(dp, &principal)?;
        }
        if readable {
            c.pass(format!(
                "package {} content {} on DP {}",
                p.id, p.content_id, holding[0]
            ));
        } else {
            c.fail(
                format!("package {} on DP {}", p.id, holding.join(", ")),
                format!("{principal} may not read it there"),
                format!(
                    "grant read access: tsmedia dp grant {} {principal}",
                    holding[0]
                ),
            );
        }
    }
    Ok(())
}

fn check_certificate(
    c: &mut Checker,
    spec: &MediaSpec,
    now: i64,
    parse: &DateParser,
) -> Option<MediaCertificate> {
    if let Some(pfx) = &spec.pfx {
        if spec.self_signed_cert {
            c.fail(
                "--pfx",
                "given together with --self-signed-cert",
                "choose one",
            );
            return None;
        }
        return match certificate::import_pfx(pfx, spec.pfx_password.as_deref().unwrap_or("")) {
            Ok(cert) if cert.not_after <= now => {
                c.fail(
                    format!("certificate {}", pfx.display()),
                    "has expired",
                    "give a valid certificate",
                );
                None
            }
            Ok(cert) => {
                c.pass(format!("media certificate {} imported", cert.subject));
                Some(cert)
            }
            Err(e) => {
                c.fail(
                    format!("--pfx {}", pfx.display()),
                    e.to_string(),
                    "give the PFX with its key and the right --pfx-password",
                );
                None
            }
        };
    }
    if spec.is_deterministic() {
        c.fail(
            "--self-signed-cert",
            "a reproducible build cannot make a new self-signed certificate (its key must be fresh randomness)",
            "create the certificate once and pass it with --pfx FILE",
        );
        return None;
    }
    let start = parse(c, "--cert-start", &spec.cert_start).unwrap_or(now - 300);
    let expire = parse(c, "--cert-expire", &spec.cert_expire).unwrap_or(start + 365 * 86_400);
    if expire <= start {
        c.fail(
            "--cert-expire",
            "is not after --cert-start",
            "choose a later expiry",
        );
        return None;
    }
    if expire <= now {
        c.fail("--cert-expire", "is in the past", "choose a future expiry");
        return None;
    }
    if !c.failures.is_empty() {
        return None;
    }
    match certificate::self_signed("tsmedia media certificate", start, expire) {
        Ok(cert) => {
            c.pass("self-signed media certificate created");
            Some(cert)
        }
        Err(e) => {
            c.fail("media certificate", e.to_string(), "report this");
            None
        }
    }
}

impl From<Vec<PreflightFailure>> for Error {
    fn from(f: Vec<PreflightFailure>) -> Self {
        Error::Preflight(f)
    }
}
