//! Preflight: every check of a media build, run against the site before any byte is written.
//! Each failure names the object and the fix; a passing run yields the [`MediaPlan`].
//!
//! The checks, by concept: [`applicable`] (options that do not apply to the media type),
//! [`options`] (sizes, lengths, password, output), [`content`] (task
//! sequence, deployment, packages on the DPs), [`boot_image`] (architecture, boot files),
//! [`certificate`] (dates, media certificate), then the layout (FAT32 and disc limits, WIMs
//! planned as `.swm` parts) in [`crate::layout`].

mod applicable;
mod boot_image;
mod certificate;
mod content;
mod options;
mod os_image;

use std::fmt;

use std::path::PathBuf;
use tsmedia_base::ErrorClass;

use tsmedia_base::Clock;
use tsmedia_site::{Arch, Site};

use crate::bootfiles::Flavour;
use crate::error::{Error, Result};
use crate::layout;
use crate::plan::{MediaPlan, PlanOptions};
use crate::secret::Randomness;
use crate::spec::{MediaKind, MediaSpec};

pub use applicable::refusal as option_refusal;
pub(crate) use options::is_block_device;

/// One failed check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreflightFailure {
    /// What is wrong (`boot image PS100003`, `--label`, `DP dp2`).
    pub object: String,
    /// The problem.
    pub problem: String,
    /// How to fix it.
    pub fix: String,
    /// What kind of problem: `NotFound` for a named object the site does not have,
    /// `InvalidInput` for the rest (a bad option, content that cannot be used).
    pub class: ErrorClass,
}

impl fmt::Display for PreflightFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}; fix: {}", self.object, self.problem, self.fix)
    }
}

/// `arg` as one shell word: as it is when it is plain, else in single quotes (fix hints print
/// commands that can be pasted as they are).
pub(crate) fn shell_word(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.,:/@+=".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

/// Limits of Configuration Manager's media properties.
pub const MAX_CREATED_BY: usize = 50;
/// `--version`.
pub const MAX_VERSION: usize = 32;
/// `--comment`.
pub const MAX_COMMENT: usize = 127;
/// ISO 9660 / Joliet volume label.
pub const MAX_ISO_LABEL: usize = 32;
/// FAT volume label.
pub const MAX_FAT_LABEL: usize = 11;

/// Failures and passed checks collected while checking.
pub(crate) struct Checker {
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
            class: ErrorClass::InvalidInput,
        });
    }
    /// A failure caused by a site error (of the site error's class).
    fn fail_site(
        &mut self,
        object: impl Into<String>,
        e: &tsmedia_site::Error,
        fix: impl Into<String>,
    ) {
        self.fail(object, e.to_string(), fix);
        if let Some(f) = self.failures.last_mut() {
            f.class = match e.class() {
                ErrorClass::NotFound => ErrorClass::NotFound,
                _ => ErrorClass::InvalidInput,
            };
        }
    }
    fn pass(&mut self, what: impl Into<String>) {
        self.passed.push(format!("OK: {}", what.into()));
    }
}

/// The clock of a build: the one in `options` when fixed, else UNIX time 0 when the spec asks
/// for a deterministic build, else the system clock.
pub fn build_clock(spec: &MediaSpec, options: &PlanOptions) -> Clock {
    match options.clock {
        Clock::System if spec.deterministic => Clock::Fixed(0),
        clock => clock,
    }
}

/// Build time (now) and, in reproducible builds, the fixed time (see [`build_clock`]).
pub fn build_time(spec: &MediaSpec, options: &PlanOptions) -> (i64, Option<i64>) {
    let clock = build_clock(spec, options);
    (clock.now_unix(), clock.fixed())
}

/// Runs every check with the default [`PlanOptions`]. On success the plan says what will be
/// written; on failure nothing was.
pub fn preflight(site: &Site, spec: &MediaSpec) -> Result<MediaPlan, Vec<PreflightFailure>> {
    preflight_with(site, spec, &PlanOptions::default())
}

/// Runs every check, laying the media out with `options`.
pub fn preflight_with(
    site: &Site,
    spec: &MediaSpec,
    options: &PlanOptions,
) -> Result<MediaPlan, Vec<PreflightFailure>> {
    match run(site, spec, options) {
        Ok(Ok(plan)) => Ok(plan),
        Ok(Err(f)) => Err(f),
        Err(e) => Err(vec![PreflightFailure {
            object: "site".into(),
            problem: format!("{e}"),
            fix: "check the site folder and its content library".into(),
            class: e.class(),
        }]),
    }
}

fn run(
    site: &Site,
    spec: &MediaSpec,
    options: &PlanOptions,
) -> Result<Result<MediaPlan, Vec<PreflightFailure>>> {
    let mut c = Checker {
        failures: Vec::new(),
        passed: Vec::new(),
    };
    let (now, fixed_time) = build_time(spec, options);
    let mut notices = Vec::new();

    applicable::check(&mut c, spec);
    let checked = options::check(&mut c, spec, &mut notices);
    let (ts, ts_deployments) = content::task_sequence(&mut c, site, spec)?;
    let preferred_deployment =
        preferred_deployment(spec, ts.as_ref(), &ts_deployments, &mut notices);
    let (boot_package, boot) = boot_image::check(&mut c, site, spec, ts.as_ref())?;
    let content = content::content(&mut c, site, spec, ts.as_ref(), boot_package.as_ref())?;
    let software = content::software(&mut c, site, spec, ts.as_ref(), &content)?;
    let os_image_index = os_image::check(&mut c, site, spec)?;

    // Management points (capture media need none).
    let mps = if spec.mp.is_empty() {
        site.management_points()?
    } else {
        let mut v = Vec::new();
        for name in &spec.mp {
            match site.management_point(name) {
                Ok(m) => v.push(m),
                Err(e) => c.fail_site(
                    format!("management point {name}"),
                    &e,
                    "give a site MP (`tsmedia mp list`)",
                ),
            }
        }
        v
    };
    // MPs named but not found have failed above.
    if mps.is_empty()
        && spec.mp.is_empty()
        && spec.kind != MediaKind::Capture
        && spec.kind != MediaKind::Standalone
    {
        c.fail(
            "--mp",
            "the site has no management point",
            "add one with tsmedia mp add NAME --url URL (your MP's name and URL)",
        );
    }

    certificate::check_window(&mut c, spec);
    // tsmedia PE carries its runtime in the initramfs; only Windows PE gets one injected.
    let runtime = match &boot {
        Some(b) if b.flavour == Flavour::TsmediaPe => pe_runtime(&mut c, options),
        _ => check_runtime(&mut c, options),
    };
    if spec.debug_shell
        && let Some(b) = &boot
        && b.flavour != Flavour::TsmediaPe
    {
        c.fail(
            "--debug-shell",
            "the debug shell is tsmedia PE's; a Windows PE boot image gets command support (F8) from its own settings",
            "use a tsmedia PE boot image (`tsmedia pe build`), or drop --debug-shell",
        );
    }
    // Only --deterministic makes the build reproducible. SOURCE_DATE_EPOCH alone (common in
    // CI) fixes the times written on the media; the certificate is then still made fresh,
    // and valid from the real date, since media must work from the day they are built.
    let reproducible = spec.deterministic;
    let cert_now = if reproducible {
        now
    } else {
        Clock::System.now_unix()
    };
    let cert = certificate::check(&mut c, spec, cert_now, reproducible);

    if !c.failures.is_empty() {
        return Ok(Err(c.failures));
    }
    let (Some(boot), Some(cert), Some((runtime, runtime_size))) = (boot, cert, runtime) else {
        return Ok(Err(vec![PreflightFailure {
            object: "media".into(),
            problem: "incomplete plan".into(),
            fix: "report this".into(),
            class: ErrorClass::Failure,
        }]));
    };
    let seed = spec.digest(site.code());
    let rng = if reproducible {
        Randomness::Seeded(seed)
    } else {
        Randomness::Os
    };
    let guid_bytes: [u8; 16] = rng.bytes("media guid", 16)?.try_into().unwrap_or([0; 16]);
    let media_guid = uuid::Builder::from_random_bytes(guid_bytes)
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
        // Capture media carry their own fixed sequence (`--ts` is refused for them).
        None if spec.kind == MediaKind::Capture => {
            Some(crate::capture_sequence::CAPTURE_SEQUENCE.to_string())
        }
        None => None,
    };
    let mut plan = MediaPlan {
        spec: spec.clone(),
        boot_image: boot.package,
        boot_wim: boot.wim,
        boot_index: boot.index,
        boot_arch: boot.arch,
        boot_flavour: boot.flavour,
        runtime,
        runtime_size,
        task_sequence: ts.map(|t| (t.id, t.name)),
        task_sequence_xml: ts_xml,
        software,
        content,
        os_image_index,
        preferred_deployment,
        management_points: mps,
        certificate: cert,
        password: checked.password,
        discs: Vec::new(),
        splits: Vec::new(),
        checks: c.passed,
        notices,
        fixed_time,
        reproducible,
        seed,
        media_guid,
        unknown_guids,
        site_code: site.code().to_string(),
        site_key: tsmedia_mediafmt::variables::encode_site_key(&site.signing_public_key()?),
    };
    match layout::lay_out(&mut plan, &boot.files, checked.disc_size, options) {
        Ok(()) => Ok(Ok(plan)),
        Err(f) => Ok(Err(f)),
    }
}

/// `SMSTSPreferredAdvertID` of bootable and prestaged media made for a task sequence: the ID
/// of its deployment available to media (Configuration Manager's variable names a
/// deployment, "advertisement", not a task sequence). With several, none is chosen here: the
/// runtime offers them (or refuses, on unattended media), and a notice says how to pick one.
/// A `SMSTSPreferredAdvertID` given with `--variable` wins.
fn preferred_deployment(
    spec: &MediaSpec,
    ts: Option<&tsmedia_site::StoredTaskSequence>,
    deployments: &[String],
    notices: &mut Vec<String>,
) -> Option<String> {
    let ts = ts?;
    if !matches!(spec.kind, MediaKind::Bootable | MediaKind::Prestaged)
        || spec.variable.contains_key("SMSTSPreferredAdvertID")
    {
        return None;
    }
    match deployments {
        [one] => Some(one.clone()),
        [] => None,
        several => {
            notices.push(format!(
                "task sequence {} has {} deployments available to media ({}): SMSTSPreferredAdvertID is not set, so the runtime offers those deployed to the computer (unattended media refuse to choose); pick one with --variable SMSTSPreferredAdvertID=ID",
                ts.id,
                several.len(),
                several.join(", ")
            ));
            None
        }
    }
}

/// A tsmedia PE boot image holds its runtime: `--runtime` does not apply.
fn pe_runtime(c: &mut Checker, options: &PlanOptions) -> Option<(PathBuf, u64)> {
    if let Some(r) = &options.runtime {
        c.fail(
            format!("--runtime {}", r.display()),
            "a tsmedia PE boot image carries its runtime in its initramfs; nothing is injected",
            "drop --runtime, or rebuild the boot image with `tsmedia pe build --runtime FILE`",
        );
        return None;
    }
    Some((PathBuf::new(), 0))
}

/// The runtime to inject into boot.wim (the running executable unless given) and its size.
fn check_runtime(c: &mut Checker, options: &PlanOptions) -> Option<(PathBuf, u64)> {
    let path = match &options.runtime {
        Some(p) => p.clone(),
        None => match std::env::current_exe() {
            Ok(p) => p,
            Err(e) => {
                c.fail(
                    "runtime",
                    format!("the running executable cannot be found: {e}"),
                    "give the tsmedia executable to put into boot.wim (--runtime PATH)",
                );
                return None;
            }
        },
    };
    match std::fs::metadata(&path) {
        Ok(m) if m.is_file() => {
            c.pass(format!(
                "runtime {} ({} bytes) for boot.wim",
                path.display(),
                m.len()
            ));
            Some((path, m.len()))
        }
        Ok(_) => {
            c.fail(
                format!("runtime {}", path.display()),
                "is not a file",
                "give the tsmedia executable (--runtime PATH)",
            );
            None
        }
        Err(e) => {
            c.fail(
                format!("runtime {}", path.display()),
                e.to_string(),
                "give the tsmedia executable (--runtime PATH)",
            );
            None
        }
    }
}

impl From<Vec<PreflightFailure>> for Error {
    fn from(f: Vec<PreflightFailure>) -> Self {
        Error::Preflight(f)
    }
}
