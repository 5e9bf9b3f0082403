//! Writing planned media: the generated files, `boot.wim` with the media configuration and the
//! runtime ([`boot_wim`]), and each output — ISO set ([`iso`]), USB image ([`usb`]), prestaged
//! WIM ([`prestaged`]) — under a temporary name, renamed only when every output is complete.
//! Content is streamed once from the library ([`sources`]); nothing is staged, so memory stays
//! bounded whatever the content's size.
//!
//! `CreateTSMedia.log` is written whether the build succeeds or fails ([`write_failure_log`]
//! for preflight failures); a failed build removes its temporary files and keeps earlier
//! outputs. Failure logs go where [`log_path`] says when that folder exists, else beside the
//! folder a CD/DVD set would have had.

mod boot_wim;
mod iso;
mod media_vars;
mod prestaged;
mod progress;
mod runtime_cache;
mod sources;
mod usb;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tsmedia_base::{AtomicFile, Cancel, Clock, NoProgress, Progress};
use tsmedia_image::DataSource;
use tsmedia_pe::session::{GRUB_CFG, ISOLINUX_CFG, MEDIA_ARG, append_kernel_args};
use tsmedia_site::Site;
use tsmedia_wim::Wim;

pub use boot_wim::{RUNTIME_NAME, runtime_dest};
pub use media_vars::media_variables;

use crate::bootfiles::{self, BootFile, Flavour};
use crate::error::{Error, IoContext, Result, wim};
use crate::layout::{
    AUTORUN, BOOTSTRAP, LABEL, MANIFEST, POLICY, SOFTWARE_POLICY, VARIABLES, names_an_iso,
};
use crate::log::MediaLog;
use crate::plan::{FileSource, MediaPlan, PlanOptions};
use crate::preflight::{PreflightFailure, build_clock, is_block_device};
use crate::secret::{self, KdfParams, Randomness};
use crate::spec::{MediaKind, MediaSpec, MediaType};
use crate::variables::{self, Variable};
use sources::Cancellable;

/// What a build wrote.
#[derive(Debug, Clone)]
pub struct BuildReport {
    /// Output files (ISOs, USB image, WIM).
    pub outputs: Vec<PathBuf>,
    /// The log file.
    pub log: PathBuf,
    /// The media variables (secrets included; mask with [`Variable::display_value`]).
    pub variables: Vec<Variable>,
}

/// How media are written.
#[derive(Clone)]
pub struct BuildOptions {
    /// Argon2id cost of the media password. Default: 64 MiB, 3 passes.
    pub kdf: KdfParams,
    /// Cancelled (e.g. by Ctrl-C) to stop: the build fails with an "interrupted" error and
    /// removes its temporary files; finished outputs of earlier runs are kept. Default: never.
    pub cancel: Cancel,
    /// Told each phase: "boot.wim" (no total), then each disc, ISO, USB image or prestaged
    /// WIM, in bytes of its files. Default: nothing reported.
    pub progress: Arc<dyn Progress>,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            kdf: KdfParams::default(),
            cancel: Cancel::default(),
            progress: Arc::new(NoProgress),
        }
    }
}

impl std::fmt::Debug for BuildOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuildOptions")
            .field("kdf", &self.kdf)
            .field("cancel", &self.cancel)
            .finish_non_exhaustive()
    }
}

/// Where `CreateTSMedia.log` of a successful build goes: `spec.log`, else beside the output
/// (in a CD/DVD set's folder; in the folder of a USB image or prestaged WIM).
pub fn log_path(spec: &MediaSpec) -> PathBuf {
    spec.log
        .clone()
        .unwrap_or_else(|| out_dir(spec).join("CreateTSMedia.log"))
}

/// The folder of the outputs, their log and the build's temporary files. A USB block device
/// has none: its log and temporary files go to the current folder (as Configuration Manager
/// keeps `CreateTSMedia.log` on the console's computer), never beside the device node in
/// `/dev`.
fn out_dir(spec: &MediaSpec) -> PathBuf {
    match (spec.kind, spec.media_type) {
        (MediaKind::Prestaged, _) => parent(&spec.out),
        (_, MediaType::Usb) if is_block_device(&spec.out) => PathBuf::from("."),
        (_, MediaType::Usb) => parent(&spec.out),
        _ if names_an_iso(&spec.out) => parent(&spec.out),
        _ => spec.out.clone(),
    }
}

fn parent(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Where the log of a failed build goes: `spec.log`; else beside the output as on success
/// when that folder exists; else (a CD/DVD set's folder that was never made) in the folder
/// that would have held it, so a failed build creates no media folder.
pub fn failure_log_path(spec: &MediaSpec) -> PathBuf {
    if spec.log.is_some() || out_dir(spec).is_dir() {
        return log_path(spec);
    }
    parent(&out_dir(spec)).join("CreateTSMedia.log")
}

/// Writes `CreateTSMedia.log` for a build refused by preflight, every failure as an error
/// line (CMTrace type 3); no media are written. Returns where the log went.
pub fn write_failure_log(
    spec: &MediaSpec,
    options: &PlanOptions,
    failures: &[PreflightFailure],
) -> Result<PathBuf> {
    let mut log = MediaLog::new(build_clock(spec, options));
    log.info(format!("Creating {} media", spec.kind));
    for f in failures {
        log.error(format!(
            "Preflight failed: {}: {}; fix: {}",
            f.object, f.problem, f.fix
        ));
    }
    log.error(format!(
        "Media creation failed: {} preflight check(s) failed; nothing was written",
        failures.len()
    ));
    let path = failure_log_path(spec);
    std::fs::write(&path, log.text()).at(&path)?;
    Ok(path)
}

/// Builds the media of a checked plan, registering the media certificate at the site.
/// `CreateTSMedia.log` is written whether the build succeeds or fails; a failed build leaves
/// no temporary files, no new outputs, and no output folder it made itself.
pub fn build(site: &mut Site, plan: &MediaPlan, options: &BuildOptions) -> Result<BuildReport> {
    let mut log = MediaLog::new(plan.fixed_time.map_or(Clock::System, Clock::Fixed));
    let dir = out_dir(&plan.spec);
    let made_dir = !dir.exists();
    match write_media(site, plan, options, &mut log) {
        Ok((outputs, variables)) => {
            log.info("Media created successfully");
            let path = log_path(&plan.spec);
            std::fs::write(&path, log.text()).at(&path)?;
            Ok(BuildReport {
                outputs,
                log: path,
                variables,
            })
        }
        Err(e) => {
            log.error(format!("Media creation failed: {e}"));
            log.error(
                "Temporary files removed; no new media were written and existing outputs were kept",
            );
            if made_dir {
                // Empty once the temporary files are gone; kept if anything else is in it.
                let _ = std::fs::remove_dir(&dir);
            }
            // The build's own error is what the caller needs; a log that cannot be written
            // as well is not reported over it.
            let _ = std::fs::write(failure_log_path(&plan.spec), log.text());
            Err(e)
        }
    }
}

fn log_plan(plan: &MediaPlan, log: &mut MediaLog) {
    let spec = &plan.spec;
    log.info(format!(
        "Creating {} media, site {}",
        spec.kind, plan.site_code
    ));
    for c in &plan.checks {
        log.info(format!("Preflight {c}"));
    }
    for n in &plan.notices {
        log.warn(n);
    }
    if let (Some(t), false) = (plan.fixed_time, plan.reproducible) {
        log.info(format!("Times fixed at {t} (SOURCE_DATE_EPOCH); not a reproducible build: the media certificate, salts and GUIDs are fresh (add --deterministic and --pfx for byte-identical media)"));
    }
    if plan.reproducible {
        log.info("Deterministic build: salts, nonces, the per-media key and the media GUID are derived from a SHA-256 of the media spec; times are fixed");
    }
    log.info(format!(
        "Boot image {} ({}), index {}",
        plan.boot_image.id, plan.boot_arch, plan.boot_index
    ));
    for c in &plan.content {
        log.info(format!(
            "Content {} ({}) version {}, {} files",
            c.package.id,
            c.package.name,
            c.version,
            c.files.len()
        ));
    }
    if let Some(cmd) = &spec.prestart_command {
        log.info(format!(
            "Prestart command: {cmd} (package {})",
            spec.prestart_package.as_deref().unwrap_or("none")
        ));
    }
    match &plan.password {
        Some(_) => log.info("Variables.dat and policy.xml are encrypted with XChaCha20-Poly1305 under an Argon2id key from the media password"),
        None => log.warn("No media password: Variables.dat and policy.xml are encrypted with a random key STORED ON THE MEDIA. The media are UNPROTECTED."),
    }
    log.info("Not encrypted: boot files, boot.wim and package content (integrity-checked by the content manifest).");
}

/// A planned file ready for an image writer: media path, size, source.
type Files = Vec<(String, u64, Box<dyn DataSource>)>;

fn write_media(
    site: &mut Site,
    plan: &MediaPlan,
    options: &BuildOptions,
    log: &mut MediaLog,
) -> Result<(Vec<PathBuf>, Vec<Variable>)> {
    let spec = &plan.spec;
    log_plan(plan, log);
    let rng = match plan.reproducible {
        true => Randomness::Seeded(plan.seed),
        false => Randomness::Os,
    };
    match site.register_certificate(&plan.certificate.der) {
        Ok(_) | Err(tsmedia_site::Error::Duplicate { .. }) => log.info(format!(
            "Media certificate {} registered at the site (valid {} to {}, UNIX seconds)",
            plan.certificate.subject, plan.certificate.not_before, plan.certificate.not_after
        )),
        Err(e) => return Err(e.into()),
    }
    // The site decides from this record, not from what the media ask (issue #15, M1, M2).
    let principal = spec.user.as_deref();
    let thumbprint = tsmedia_base::digest::thumbprint(&plan.certificate.der);
    site.record_media(&thumbprint, spec.allow_unknown, principal)?;
    log.info(format!(
        "Recorded at the site for this certificate: unknown computers {}, DP principal {}",
        if spec.allow_unknown {
            "allowed"
        } else {
            "not allowed"
        },
        principal.unwrap_or(tsmedia_site::DEFAULT_PRINCIPAL)
    ));

    // The manifest first: its hash goes into the sealed media variables, which authenticate it
    // (issue #15, L1).
    let hashes = sources::part_hashes(plan, &options.cancel)?;
    if !plan.splits.is_empty() {
        log.timing("split WIM parts hashed");
    }
    let manifest = sources::manifest(plan, &hashes);
    let mut vars = media_variables(plan);
    // Media without staged content need none (their manifest lists nothing, and boot media
    // keep it inside boot.wim).
    if !plan.content.is_empty() {
        vars.push(Variable::new(
            tsmedia_mediafmt::manifest::MANIFEST_HASH_VARIABLE,
            tsmedia_mediafmt::ContentManifest::hash_of(&manifest),
        ));
    }
    for v in &vars {
        // Custom variables (`--variable`) are where domain-join and local administrator
        // passwords go: their names and lengths only (issue #15, L2), as for the PFX.
        if spec.variable.contains_key(&v.name) {
            log.info(format!(
                "Variable {} = (custom, {} characters; value not logged)",
                v.name,
                v.value.chars().count()
            ));
        } else {
            log.info(format!("Variable {} = {}", v.name, v.display_value()));
        }
    }
    let pw = plan.password.as_deref();
    let mut small: BTreeMap<&'static str, Vec<u8>> = BTreeMap::new();
    small.insert(
        VARIABLES,
        secret::seal(
            &variables::to_xml(&vars),
            pw,
            options.kdf,
            &rng,
            "Variables.dat",
        )?,
    );
    if matches!(spec.kind, MediaKind::Standalone | MediaKind::Capture) {
        let xml = plan.task_sequence_xml.clone().unwrap_or_default();
        small.insert(
            POLICY,
            secret::seal(xml.as_bytes(), pw, options.kdf, &rng, "policy.xml")?,
        );
    }
    if let Some(software) = &plan.software {
        log.info(format!(
            "Software policy: {} program(s), {} application(s) with {} deployment type(s)",
            software.programs.len(),
            software.applications.len(),
            software
                .applications
                .iter()
                .map(|a| a.deployment_types.len())
                .sum::<usize>()
        ));
        small.insert(
            SOFTWARE_POLICY,
            secret::seal(
                &software.to_json(),
                pw,
                options.kdf,
                &rng,
                "SoftwarePolicy.dat",
            )?,
        );
    }
    small.insert(MANIFEST, manifest);
    if spec.autorun {
        small.insert(
            AUTORUN,
            b"[autorun]\r\nopen=sources\\boot.wim\r\nlabel=Task sequence media\r\n".to_vec(),
        );
    }

    let out_dir = out_dir(spec);
    std::fs::create_dir_all(&out_dir).at(&out_dir)?;
    let work = TempDir::new(&out_dir)?;
    let boot_src = Wim::open(&plan.boot_wim).map_err(wim(plan.boot_wim.display().to_string()))?;
    let boot_files = bootfiles::find(&boot_src, plan.boot_index, plan.boot_flavour)?;
    let boot_wim = work.path.join("boot.wim");
    let disc_count = plan.discs.len() as u32;
    let ini = |disc: u32| {
        variables::bootstrap_ini(
            spec.kind.bootstrap_name(),
            pw.is_some(),
            spec.unattended,
            (disc_count > 1).then_some((disc, disc_count)),
            Some(&plan.media_guid),
        )
        .into_bytes()
    };
    match plan.boot_flavour {
        Flavour::WinPe => {
            let cache = runtime_cache::dir(site.dir());
            write_boot_wim(
                plan,
                &boot_src,
                &boot_wim,
                &ini(1),
                &small,
                &cache,
                options,
                log,
            )?;
        }
        Flavour::TsmediaPe => log.info(format!(
            "tsmedia PE boot image: its files go on the media as they are (runtime included); \
             the loader configurations get {}={} on the kernel command line",
            MEDIA_ARG, plan.media_guid
        )),
    }
    // tsmedia PE's UEFI El Torito image (a FAT volume with shim and GRUB) and hybrid MBR.
    let pe_efi = match (plan.boot_flavour, spec.media_type) {
        (Flavour::TsmediaPe, MediaType::CdDvd) => {
            // A file that cannot be read is that error, not "missing".
            let mut unreadable = None;
            let mut read = |path: &str| {
                let b = boot_files.iter().find(|b| b.dest == path)?;
                bootfiles::read(&boot_src, b)
                    .map_err(|e| unreadable.get_or_insert(e))
                    .ok()
            };
            let image = tsmedia_pe::boot_media::iso_boot(&mut read);
            if let Some(e) = unreadable {
                return Err(e);
            }
            Some(image.map_err(|source| Error::PeBoot {
                path: plan.boot_wim.clone(),
                source,
            })?)
        }
        _ => None,
    };

    let mut pending = Vec::new();
    for disc in &plan.discs {
        let what = match (spec.kind, spec.media_type) {
            (MediaKind::Prestaged, _) => "prestaged WIM",
            (_, MediaType::Usb) => "USB image",
            (_, MediaType::CdDvd) => "ISO",
        };
        let name = match disc_count {
            1 => what.to_string(),
            n => format!("{what} {} of {n}", disc.number),
        };
        let mut files: Files = Vec::new();
        for f in &disc.files {
            let (src, size): (Box<dyn DataSource>, u64) = match &f.source {
                FileSource::Library(p) => (Box::new(p.clone()), f.size),
                FileSource::SwmPart { wim, part, .. } => {
                    (Box::new(sources::part_source(plan, wim, *part)?), f.size)
                }
                FileSource::BootWim => (
                    Box::new(boot_wim.clone()),
                    std::fs::metadata(&boot_wim).at(&boot_wim)?.len(),
                ),
                FileSource::BootImage(p) => {
                    let b: &BootFile =
                        boot_files
                            .iter()
                            .find(|b| &b.wim_path == p)
                            .ok_or_else(|| Error::Inspect {
                                path: plan.boot_wim.clone(),
                                reason: format!("{p} vanished from the boot image"),
                            })?;
                    let mut bytes = bootfiles::read(&boot_src, b)?;
                    if plan.boot_flavour == Flavour::TsmediaPe
                        && [GRUB_CFG, ISOLINUX_CFG].contains(&b.dest.as_str())
                    {
                        let text = String::from_utf8_lossy(&bytes);
                        let arg = format!("{MEDIA_ARG}={}", plan.media_guid);
                        bytes = append_kernel_args(&text, &arg).into_bytes();
                    }
                    let n = bytes.len() as u64;
                    (Box::new(bytes), n)
                }
                FileSource::Generated(_) => {
                    let bytes = match f.dest.as_str() {
                        BOOTSTRAP => ini(disc.number),
                        LABEL => variables::media_label(&spec.label(), disc.number, disc_count)
                            .into_bytes(),
                        other => small.get(other).cloned().unwrap_or_default(),
                    };
                    let n = bytes.len() as u64;
                    (Box::new(bytes), n)
                }
            };
            files.push((f.dest.clone(), size, src));
        }
        let total = files.iter().map(|f| f.1).sum();
        let counter = progress::DiscProgress::begin(&options.progress, &name, total);
        let files: Files = files
            .into_iter()
            .map(|(dest, size, src)| {
                let src: Box<dyn DataSource> = Box::new(Cancellable {
                    inner: Box::new(counter.source(src, size)),
                    cancel: options.cancel.clone(),
                });
                (dest, size, src)
            })
            .collect();
        let staged = match (spec.kind, spec.media_type) {
            (MediaKind::Prestaged, _) => {
                prestaged::write(plan, files, &disc.files, &disc.path, &options.cancel)?
            }
            (_, MediaType::Usb) => usb::write(plan, files, &disc.path)?,
            (_, MediaType::CdDvd) => {
                iso::write(plan, files, &disc.path, disc.number == 1, pe_efi.as_ref())?
            }
        };
        counter.finish();
        log.info(format!(
            "Disc {} of {disc_count}: {} written ({} files)",
            disc.number,
            disc.path.display(),
            disc.files.len()
        ));
        log.timing("disc written");
        pending.push(staged);
    }
    let mut outputs = Vec::new();
    for p in pending {
        outputs.push(p.commit()?);
    }
    Ok((outputs, vars))
}

/// Writes `sources/boot.wim` of Windows PE media: the boot image with the media configuration
/// and the runtime injected.
#[allow(clippy::too_many_arguments)]
fn write_boot_wim(
    plan: &MediaPlan,
    boot_src: &Wim,
    boot_wim: &Path,
    ini: &[u8],
    small: &BTreeMap<&'static str, Vec<u8>>,
    cache: &Path,
    options: &BuildOptions,
    log: &mut MediaLog,
) -> Result<()> {
    let runtime = &plan.runtime;
    options.progress.begin("boot.wim", None);
    let copy = boot_wim::write(
        plan,
        boot_src,
        boot_wim,
        &boot_wim::Injection {
            files: &[
                (BOOTSTRAP, ini.to_vec()),
                (VARIABLES, small[VARIABLES].clone()),
            ],
            runtime,
            cache,
        },
        &options.cancel,
    )?;
    options.progress.finish();
    // One message whether this build filled the cache or found it: deterministic builds give
    // identical logs.
    log.info(match copy {
        boot_wim::RuntimeCopy::Cached => format!(
            "Runtime's compressed copy from the site cache {} (made once per runtime and compression settings)",
            cache.display()
        ),
        boot_wim::RuntimeCopy::Compressed(why) => {
            format!("Runtime compressed for this build only: {why}")
        }
    });
    log.info(format!(
        "Runtime {} ({} bytes) injected into boot.wim as {}; media configuration as {BOOTSTRAP} and {VARIABLES}",
        runtime.display(),
        plan.runtime_size,
        runtime_dest(plan.boot_arch),
    ));
    log.timing("boot.wim prepared");
    Ok(())
}

/// A temporary folder beside the output, removed when dropped.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn new(dir: &Path) -> Result<TempDir> {
        let path = dir.join(format!(".tsmedia-work-{}", std::process::id()));
        std::fs::create_dir_all(&path).at(&path)?;
        Ok(TempDir { path })
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// An output written under a temporary name, renamed by `commit`.
enum Staged {
    File(AtomicFile),
    Done(PathBuf),
}

impl Staged {
    fn commit(self) -> Result<PathBuf> {
        match self {
            Staged::File(f) => Ok(f.commit()?),
            Staged::Done(p) => Ok(p),
        }
    }
}
