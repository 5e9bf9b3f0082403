//! The boot-time flow (`docs/media.md`, "At boot"): read the media, decrypt the
//! variables, check the staged content and the validity window, run the prestart command,
//! load the policy, run the task sequence and write `smsts.log` in CMTrace format.
//!
//! Stand-alone media (`FullMedia`) carry their policy (`SMS/data/policy.xml`) and need no
//! network. Bootable (`BootMedia`) and prestaged (`OEMMedia`) media get their task sequence
//! from a management point and content from staged media, the cache or a distribution point
//! ([`crate::network`]).
//!
//! The prestart command runs with `sh -c` in the media root (or in its package's staged
//! content); each line it prints as `NAME=VALUE` sets a task sequence variable, and a
//! non-zero exit code stops the run.

use std::cell::RefCell;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::rc::Rc;

use tsmedia_mediafmt::{secret, variables as media_vars};
use tsmedia_tasksequence::log::LogStamp;
use tsmedia_tasksequence::{
    BuiltIns, CmTraceWriter, Engine, ExecutionState, LogRecord, LogSink, MediaType, RunReport,
    RunStatus, Severity, Step, StepError, StepOutcome, StepRunner, TaskSequence, Variables,
};

use crate::content::{ContentProvider, StagedContent};
use crate::error::{Error, IoContext, Result};
use crate::runner::{MediaStepRunner, RunnerOptions};

/// What to run. Required: the media root.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The media: a folder (mounted media or prestaged volume), an ISO of a set, a USB image
    /// or a staged disk image (extracted into `<target>/_SMSTaskSequence/Media`).
    pub media: PathBuf,
    /// The target system folder. Default: `<media>/../target` is not guessed: `target`
    /// beside the current directory (`./target`).
    pub target: Option<PathBuf>,
    /// Disk image or device for Partition Disk. Default: none.
    pub disk: Option<PathBuf>,
    /// The media password. Default: none (password-protected media then fail).
    pub password: Option<String>,
    /// The log file. Default: `<target>/_SMSTaskSequence/Logs/smsts.log`.
    pub log: Option<PathBuf>,
    /// The time for the validity window, UNIX seconds. Default: now.
    pub now: Option<i64>,
    /// The computer's SMBIOS GUID. Default: `/sys/class/dmi/id/product_uuid`.
    pub smbios_guid: Option<String>,
    /// The computer's MAC addresses. Default: `/sys/class/net/*/address` but `lo`.
    pub macs: Vec<String>,
    /// The computer's architecture (`x86`, `x64`, `arm64`). Default: this runtime's.
    pub arch: Option<String>,
    /// The deployment to run when several are offered. Default: the media's rules
    /// (`SMSTSPreferredAdvertID`, or the only one; unattended media never pick among several).
    pub deployment: Option<String>,
    /// Root certificates (DER) trusted for HTTPS management and distribution points.
    /// Default: none (the Web PKI roots).
    pub root_certs: Vec<Vec<u8>>,
    /// The address the MP location request asks for. Default: the address the management
    /// point sees.
    pub client_ip: Option<std::net::IpAddr>,
    /// The principal claimed to distribution points (`X-Tsmedia-Principal`). Default: none:
    /// the DP checks read access for the principal the site recorded for the media
    /// certificate when the media were built, and refuses a claim naming anyone else.
    pub principal: Option<String>,
    /// Mounts the volume Format and Partition Disk made, which then becomes the target (tsmedia
    /// PE). Default: none (the target folder stays what `target` says).
    pub mounter: Option<std::sync::Arc<dyn crate::runner::Mounter>>,
    /// Stops the run with [`Error::Cancelled`]: checked between the reads of a download,
    /// the files of an image apply or capture, and the steps. Default: never.
    pub cancel: tsmedia_base::Cancel,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// `_SMSTSMediaType` of the media.
    pub media_type: String,
    /// The engine's report.
    pub report: RunReport,
    /// Where `smsts.log` was written.
    pub log: PathBuf,
    /// The target folder at the end: the one given, or the volume Format and Partition Disk
    /// mounted. A suspended run's state is in its `_SMSTaskSequence`.
    pub target: PathBuf,
}

/// What `TsmBootstrap.ini` says (not secret, not authenticated: nothing is trusted because
/// of it; the sealed `Variables.dat` is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bootstrap {
    /// `FullMedia`, `BootMedia`, `OEMMedia`, ...
    pub media_type: String,
    /// Whether the media run without asking anything.
    pub unattended: bool,
    /// Whether the media ask for a password.
    pub password_required: bool,
    /// The media GUID, when the builder wrote it.
    pub media_guid: Option<String>,
    /// This disc's number and the number of discs, for a set of several discs.
    pub disc: Option<(u32, u32)>,
}

impl Bootstrap {
    /// Reads `TsmBootstrap.ini` text; `what` names it in errors.
    pub fn parse(ini: &str, what: &str) -> Result<Bootstrap> {
        let kv = media_vars::key_values(ini);
        let get = |key: &str| {
            kv.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.clone())
        };
        let yes = |key: &str| get(key).is_some_and(|v| v.eq_ignore_ascii_case("true"));
        Ok(Bootstrap {
            media_type: get("MediaType")
                .ok_or_else(|| Error::Media(format!("{what}: no MediaType")))?,
            unattended: yes("Unattended"),
            password_required: yes("PasswordRequired"),
            media_guid: get("MediaGuid"),
            disc: get("Disc")
                .zip(get("DiscCount"))
                .and_then(|(n, of)| Some((n.parse().ok()?, of.parse().ok()?)))
                .filter(|(n, of): &(u32, u32)| *of > 1 && (1..=*of).contains(n)),
        })
    }

    /// Reads `<media>/SMS/data/TsmBootstrap.ini`.
    pub fn read(media: &Path) -> Result<Bootstrap> {
        let ini_path = media.join(tsmedia_mediafmt::BOOTSTRAP_PATH);
        let ini = fs::read_to_string(&ini_path).at(&ini_path)?;
        Bootstrap::parse(&ini, &ini_path.display().to_string())
    }
}

/// `SMS/data/TsmBootstrap.ini` and the decrypted `Variables.dat`.
fn read_media(
    media: &Path,
    password: Option<&str>,
) -> Result<(Bootstrap, Vec<media_vars::Variable>)> {
    let bootstrap = Bootstrap::read(media)?;
    let vars_path = media.join(tsmedia_mediafmt::VARIABLES_PATH);
    let sealed = fs::read(&vars_path).at(&vars_path)?;
    // No downgrade (issue #15, L1): media that ask for a password never open an unprotected
    // Variables.dat.
    let plain = secret::open_protected(
        &sealed,
        password,
        bootstrap.password_required,
        "Variables.dat",
    )
    .map_err(|e| Error::Media(e.to_string()))?;
    let vars = media_vars::from_xml(&plain).map_err(|e| Error::Media(e.to_string()))?;
    Ok((bootstrap, vars))
}

fn check_window(env: &Variables, now: i64) -> Result<()> {
    let date = |name: &str| -> Result<Option<i64>> {
        match env.get(name) {
            None => Ok(None),
            Some(t) => tsmedia_mediafmt::certificate::parse_date(t)
                .map(Some)
                .ok_or_else(|| Error::Media(format!("{name} {t:?} is not a date"))),
        }
    };
    if let Some(start) = date("_SMSTSMediaStartDate")?
        && now < start
    {
        return Err(Error::NotYetValid(
            env.get("_SMSTSMediaStartDate").unwrap_or_default().into(),
        ));
    }
    if let Some(end) = date("_SMSTSMediaExpirationDate")?
        && now > end
    {
        return Err(Error::Expired(
            env.get("_SMSTSMediaExpirationDate")
                .unwrap_or_default()
                .into(),
        ));
    }
    Ok(())
}

/// The sealed software policy of stand-alone media (`SMS/data/SoftwarePolicy.dat`); media
/// without one (built before programs existed) hold no programs.
fn read_software_policy(
    media: &Path,
    password: Option<&str>,
    log: &mut dyn LogSink,
) -> Result<tsmedia_mediafmt::software::SoftwarePolicy> {
    use tsmedia_mediafmt::software::{SOFTWARE_POLICY_PATH, SoftwarePolicy};
    let path = media.join(SOFTWARE_POLICY_PATH);
    let sealed = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            info(
                log,
                "No software policy on the media: Install Package and Install Application have no programs".into(),
            );
            return Ok(SoftwarePolicy::default());
        }
        Err(e) => return Err(e).at(&path),
    };
    let json = secret::open(&sealed, password, "SoftwarePolicy.dat")
        .map_err(|e| Error::Media(e.to_string()))?;
    let policy = SoftwarePolicy::from_json(&json, &path.display().to_string())
        .map_err(|e| Error::Media(e.to_string()))?;
    info(
        log,
        format!(
            "Software policy from the media: {} program(s), {} application(s)",
            policy.programs.len(),
            policy.applications.len()
        ),
    );
    Ok(policy)
}

/// Runs the prestart command; its `NAME=VALUE` lines set variables.
fn prestart(
    media: &Path,
    env: &mut Variables,
    content: &mut StagedContent,
    log: &mut dyn LogSink,
) -> Result<()> {
    let Some(command) = env.get("_SMSTSPreStartCommand").map(str::to_string) else {
        return Ok(());
    };
    let dir = match env.get("_SMSTSPreStartPackageID").map(str::to_string) {
        Some(id) => content.content(&id, None)?.path,
        None => media.to_path_buf(),
    };
    info(
        log,
        format!(
            "Running the prestart command {command:?} in {}",
            dir.display()
        ),
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg(&command)
        .current_dir(&dir)
        .output()
        .at(&dir)?;
    if !out.status.success() {
        return Err(Error::Prestart {
            command,
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some((name, value)) = line.split_once('=')
            && !name.trim().is_empty()
            && !name.contains(char::is_whitespace)
        {
            env.set(name.trim(), value.trim())
                .map_err(|e| Error::Media(format!("prestart variable {name:?}: {e}")))?;
            info(log, format!("Prestart set {}", name.trim()));
        }
    }
    Ok(())
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

pub(crate) fn info(log: &mut dyn LogSink, message: String) {
    log.log(LogRecord {
        severity: Severity::Info,
        component: "TSMBootstrap".into(),
        message,
    });
}

/// One log shared by the engine and the runner, so their lines interleave.
#[derive(Clone)]
struct SharedLog(Rc<RefCell<dyn LogSink>>);

impl LogSink for SharedLog {
    fn log(&mut self, record: LogRecord) {
        self.0.borrow_mut().log(record);
    }
}

/// Passes each step to the media runner and logs its detail lines.
struct LoggingRunner<'a> {
    inner: MediaStepRunner<'a>,
    log: SharedLog,
}

impl StepRunner for LoggingRunner<'_> {
    fn run(
        &mut self,
        step: &Step,
        env: &mut Variables,
    ) -> std::result::Result<StepOutcome, StepError> {
        let result = self.inner.run(step, env);
        for line in self.inner.take_log() {
            self.log.log(LogRecord {
                severity: Severity::Info,
                component: "TSManager".into(),
                message: format!("{}: {}", line.step, line.message),
            });
        }
        result
    }
}

/// The saved state of a run suspended for a restart (sealed as the media variables are, with
/// the media password), under the target as Configuration Manager keeps `_SMSTaskSequence`.
pub const STATE_FILE: &str = "_SMSTaskSequence/TSState.dat";

/// The deployment (advertisement) being run, as Configuration Manager names it.
const ADVERT_ID: &str = "_SMSTSAdvertID";

fn load_state(path: &Path, password: Option<&str>) -> Result<Option<ExecutionState>> {
    let sealed = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).at(path),
    };
    let json = secret::open(&sealed, password, "TSState.dat")
        .map_err(|e| Error::Media(format!("{}: {e}", path.display())))?;
    serde_json::from_slice(&json)
        .map(Some)
        .map_err(|e| Error::Media(format!("{}: {e}", path.display())))
}

fn save_state(path: &Path, state: &ExecutionState, password: Option<&str>) -> Result<()> {
    let json = serde_json::to_vec(state).map_err(|e| Error::Media(e.to_string()))?;
    let sealed = secret::seal(
        &json,
        password,
        secret::KdfParams::default(),
        &secret::Randomness::Os,
        "TSState.dat",
    )
    .map_err(|e| Error::Media(format!("{}: {e}", path.display())))?;
    let tmp = path.with_extension("dat.partial");
    fs::write(&tmp, sealed).at(&tmp)?;
    fs::rename(&tmp, path).at(path)
}

/// Where media that are not a folder (an ISO set, a USB image, a staged disk) are extracted,
/// under the target.
pub const MEDIA_WORK: &str = "_SMSTaskSequence/Media";

/// Runs the media at `options.media`: a media folder, an ISO (with the other discs of its
/// set), a USB image or a staged disk image (see [`crate::source`]).
pub fn run(options: &RunOptions) -> Result<RunResult> {
    let media = options.media.as_path();
    let target = options
        .target
        .clone()
        .unwrap_or_else(|| PathBuf::from("target"));
    fs::create_dir_all(&target).at(&target)?;
    let log_path = options
        .log
        .clone()
        .unwrap_or_else(|| target.join("_SMSTaskSequence/Logs/smsts.log"));
    if let Some(dir) = log_path.parent() {
        fs::create_dir_all(dir).at(dir)?;
    }
    // Appended to: a run resumed after a restart continues the log of the run before it.
    let file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .at(&log_path)?;
    let writer = CmTraceWriter::new(
        std::io::BufWriter::new(file),
        std::process::id(),
        LogStamp::now_utc,
    )
    .with_file("tsmedia-client");
    let shared: Rc<RefCell<CmTraceWriter<std::io::BufWriter<fs::File>>>> =
        Rc::new(RefCell::new(writer));
    let mut log = SharedLog(shared.clone());
    let result = crate::source::materialise(media, &target.join(MEDIA_WORK))
        .map_err(Error::from)
        .and_then(|m| {
            match m.kind {
                crate::source::SourceKind::Folder => {}
                kind => info(
                    &mut log,
                    format!(
                        "Media {} ({kind:?}) {} into {}: {} files, {} bytes",
                        media.display(),
                        if m.reused { "reused" } else { "extracted" },
                        m.root.display(),
                        m.files,
                        m.bytes
                    ),
                ),
            }
            run_logged(options, &m.root, &target, &log_path, &mut log)
        });
    if let Err(e) = &result {
        log.log(LogRecord {
            severity: Severity::Error,
            component: "TSMBootstrap".into(),
            message: tsmedia_base::error_chain(e),
        });
    }
    drop(log);
    let writer = Rc::try_unwrap(shared)
        .map_err(|_| Error::Media("log still in use".into()))?
        .into_inner();
    writer.finish().at(&log_path)?;
    result
}

fn run_logged(
    options: &RunOptions,
    media: &Path,
    target: &Path,
    log_path: &Path,
    log: &mut SharedLog,
) -> Result<RunResult> {
    info(log, format!("Starting from media {}", media.display()));
    let (bootstrap, vars) = read_media(media, options.password.as_deref())?;
    let media_type = bootstrap.media_type;
    info(
        log,
        format!(
            "Media type {media_type}; {} media variables decrypted",
            vars.len()
        ),
    );
    let mut env = Variables::new();
    for v in &vars {
        env.set_builtin(&v.name, v.value.as_str())
            .map_err(|e| Error::Media(format!("media variable {:?}: {e}", v.name)))?;
    }
    let kind = match media_type.to_ascii_lowercase().as_str() {
        "fullmedia" => MediaType::FullMedia,
        "oemmedia" => MediaType::OemMedia,
        "bootmedia" => MediaType::BootMedia,
        "capturemedia" => MediaType::CaptureMedia,
        other => {
            return Err(Error::Media(format!(
                "media type {other:?} cannot run a task sequence"
            )));
        }
    };
    BuiltIns {
        media_type: Some(kind),
        // `_SMSTSLaunchMode` comes from the media variables.
        launch_mode: None,
        in_winpe: true,
        media_root_path: Some(media.display().to_string()),
        ..BuiltIns::default()
    }
    .apply(&mut env)
    .map_err(|e| Error::Media(e.to_string()))?;
    env.set_builtin("OSDTargetSystemDrive", target.display().to_string())
        .map_err(|e| Error::Media(e.to_string()))?;

    // The manifest is trusted only as the sealed media variables record it (issue #15, L1).
    let manifest = crate::ContentManifest::read_authenticated(
        media,
        env.get(tsmedia_mediafmt::manifest::MANIFEST_HASH_VARIABLE),
    )
    .map_err(|e| Error::Media(e.to_string()))?;
    let mut content = if let Some(manifest) = manifest {
        let c = StagedContent::new(
            manifest,
            Some(media.to_path_buf()),
            Some(target.join("_SMSTaskSequence/Packages")),
        );
        c.verify_all()?;
        info(
            log,
            format!(
                "Staged content verified: {} packages match the manifest",
                c.manifest().packages.len()
            ),
        );
        c
    } else {
        StagedContent::new(crate::ContentManifest::new(Vec::new()), None, None)
    };
    if kind == MediaType::FullMedia {
        let now = options.now.unwrap_or_else(unix_now);
        check_window(&env, now)?;
    }
    prestart(media, &mut env, &mut content, log)?;
    let software: tsmedia_mediafmt::software::SoftwarePolicy;
    if kind == MediaType::CaptureMedia {
        crate::capture::ask_capture_settings(&mut env, bootstrap.unattended, log)?;
    }
    let (ts, mut content): (TaskSequence, Box<dyn ContentProvider>) =
        if matches!(kind, MediaType::FullMedia | MediaType::CaptureMedia) {
            software = read_software_policy(media, options.password.as_deref(), log)?;
            let policy_path = media.join(tsmedia_mediafmt::POLICY_PATH);
            let sealed = fs::read(&policy_path).at(&policy_path)?;
            // Protected exactly when Variables.dat is: no unprotected policy in protected media.
            let xml = secret::open_protected(
                &sealed,
                options.password.as_deref(),
                bootstrap.password_required,
                "policy.xml",
            )
            .map_err(|e| Error::Media(e.to_string()))?;
            let ts = TaskSequence::from_xml_bytes(&xml)
                .map_err(|e| Error::Policy(tsmedia_base::error_chain(&e)))?;
            info(
                log,
                format!(
                    "Task sequence {} from the media policy",
                    env.get("_SMSTSStandAloneTSID")
                        .unwrap_or(if kind == MediaType::CaptureMedia {
                            "(the capture sequence of capture media)"
                        } else {
                            "(unnamed)"
                        })
                ),
            );
            (ts, Box::new(content))
        } else {
            // A run resuming after a restart goes on with the deployment it chose before the
            // restart (recorded in `_SMSTSAdvertID`), without asking again.
            let saved = load_state(&target.join(STATE_FILE), options.password.as_deref())?;
            let resumed = saved
                .as_ref()
                .and_then(|s| s.variables.get(ADVERT_ID))
                .filter(|_| options.deployment.is_none())
                .map(|id| RunOptions {
                    deployment: Some(id.to_string()),
                    ..options.clone()
                });
            let site = crate::network::connect(
                resumed.as_ref().unwrap_or(options),
                &media_type,
                &env,
                bootstrap.unattended,
                log,
            )?;
            site.apply(&mut env, log)?;
            env.set_builtin(ADVERT_ID, site.choice.deployment.id.as_str())
                .map_err(|e| Error::Media(e.to_string()))?;
            let ts =
                TaskSequence::from_xml_bytes(site.policy.sequence_xml.as_bytes()).map_err(|e| {
                    Error::Policy(format!(
                        "task sequence {}: {}",
                        site.policy.ts_id,
                        tsmedia_base::error_chain(&e)
                    ))
                })?;
            info(
                log,
                format!(
                    "Task sequence {} ({}) from the management point",
                    site.policy.ts_id, site.policy.ts_name
                ),
            );
            let cache = target.join("_SMSTaskSequence/Packages");
            software = site.policy.software.clone();
            info(
                log,
                format!(
                    "Software policy: {} program(s), {} application(s)",
                    software.programs.len(),
                    software.applications.len()
                ),
            );
            (ts, Box::new(site.content(content, cache)))
        };
    let runner = MediaStepRunner::new(
        RunnerOptions {
            target: target.to_path_buf(),
            disk: options.disk.clone(),
            mounter: options.mounter.clone(),
            cancel: options.cancel.clone(),
            software,
            arch: options.arch.clone(),
            ..RunnerOptions::default()
        },
        &mut *content,
    );
    let mut runner = LoggingRunner {
        inner: runner,
        log: log.clone(),
    };
    let mut engine_log = log.clone();
    let saved_path = target.join(STATE_FILE);
    let saved = load_state(&saved_path, options.password.as_deref())?;
    let mut engine = Engine::new(&ts, &mut runner, &mut engine_log);
    let report = match saved {
        Some(state) => {
            info(
                log,
                format!(
                    "Resuming the task sequence saved in {} ({:?})",
                    saved_path.display(),
                    state.reason
                ),
            );
            engine.resume(state)
        }
        None => engine.start(env),
    }
    .map_err(|e| Error::Policy(tsmedia_base::error_chain(&e)))?;
    drop(engine);
    // Format and Partition Disk may have mounted a new volume as the target: the state goes
    // there, where the next boot finds it.
    let state_path = runner.inner.options.target.join(STATE_FILE);
    if let Some(dir) = state_path.parent() {
        fs::create_dir_all(dir).at(dir)?;
    }
    // A cancelled run ends as the steps stood; a saved state stays for a later resume.
    options.cancel.check()?;
    match &report.status {
        RunStatus::Suspended(state) => {
            save_state(&state_path, state, options.password.as_deref())?;
            info(
                log,
                format!(
                    "Suspended ({:?}); state saved in {}: run again on the same target to resume",
                    state.reason,
                    state_path.display()
                ),
            );
        }
        _ => {
            for p in [&saved_path, &state_path] {
                match fs::remove_file(p) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e).at(p),
                    _ => {}
                }
            }
        }
    }
    Ok(RunResult {
        media_type,
        report,
        log: log_path.to_path_buf(),
        target: runner.inner.options.target.clone(),
    })
}
