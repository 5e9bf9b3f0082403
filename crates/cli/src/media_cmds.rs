//! `tsmedia media create|inspect`: options mirroring the Create Task Sequence Media wizard
//! and the `New-CM*Media` cmdlets; `--spec FILE.toml` reads the same options from a file.

use std::collections::BTreeMap;
use std::path::PathBuf;

use tsmedia_base::Cancel;

use crate::progress::Bar;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use tsmedia_base::Clock;
use tsmedia_media::{BuildOptions, MediaKind, MediaSpec, MediaType, MpMode, PlanOptions, Uda};
use tsmedia_site::Site;

const CREATE_HELP: &str = "\
Everything is checked before a byte is written (boot image architecture, content on the DPs and
readable by --user, a deployment available to media, FAT32's 4 GiB limit, certificate dates,
property lengths); each failure names the object and the fix, and CreateTSMedia.log lists them.
Outputs are written under temporary names and renamed when complete.

Examples:
  tsmedia media create bootable --boot-image PS100001 --dp DP1 --mode dynamic --mp MP1 MP2 \\
      --type cd-dvd --out ./media --password-file pw.txt
  tsmedia media create prestaged --boot-image PS100001 --ts PS100009 --os-image PS100004 \\
      --driver-package PS100006 --dp DP1 --mp MP1 --out staged.wim
  tsmedia media create standalone --boot-image PS100001 --ts PS100009 --dp DP1 --type usb \\
      --out usb.img --size 8gb --expiration-date 2027-06-30
  tsmedia media create --spec media.toml --deterministic      (reproducible: same bytes)
  tsmedia media create bootable ... --dry-run                 (the plan, nothing written)";

/// Media commands.
#[derive(Subcommand)]
pub enum MediaCommand {
    /// Create bootable, prestaged, stand-alone or capture media
    #[command(after_help = CREATE_HELP)]
    Create(Box<CreateArgs>),
    /// Show what media hold: type, label, boot entries, variables, certificate, content, discs
    Inspect(InspectArgs),
}

#[derive(Clone, Copy, ValueEnum)]
pub enum KindArg {
    Bootable,
    Prestaged,
    Standalone,
    Capture,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum TypeArg {
    Usb,
    CdDvd,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ModeArg {
    Dynamic,
    SiteBased,
}

/// User device affinity; Configuration Manager's spellings (`-UserDeviceAffinity`) work too.
#[derive(Clone, Copy, ValueEnum)]
pub enum UdaArg {
    #[value(alias = "DoNotAllow")]
    DoNotAllow,
    #[value(alias = "AdministratorApproval", alias = "administrator-approval")]
    AdminApproval,
    #[value(alias = "AutoApproval")]
    AutoApproval,
}

/// `media create`.
#[derive(Args)]
pub struct CreateArgs {
    /// Media type (may come from --spec instead)
    kind: Option<KindArg>,
    /// Read the options from a TOML file; command-line options override it
    #[arg(long)]
    spec: Option<PathBuf>,
    /// Boot image package ID (tsmedia package list --type boot-image); its architecture must suit --arch
    #[arg(long)]
    boot_image: Option<String>,
    /// Architecture the media must boot (x86, x64, arm64)
    #[arg(long)]
    arch: Option<String>,
    /// Distribution points, preferred first
    #[arg(long, num_args = 1..)]
    dp: Vec<String>,
    /// Principal that needs read access on the DPs (default Everyone)
    #[arg(long)]
    user: Option<String>,
    /// Media management: dynamic (ask the MPs of --mp in order which MP serves the client) or site-based (always the first --mp)
    #[arg(long, value_enum)]
    mode: Option<ModeArg>,
    /// Management points in priority order
    #[arg(long, num_args = 1..)]
    mp: Vec<String>,
    /// CD/DVD set (ISOs) or USB (disk image or block device); not for prestaged media
    #[arg(long = "type", value_enum)]
    media_type: Option<TypeArg>,
    /// A folder (CD/DVD set), an image file or block device (USB), a .wim (prestaged)
    #[arg(long)]
    out: Option<PathBuf>,
    /// 650mb, 4.7gb, 8.5gb, unlimited or a byte count
    #[arg(long)]
    size: Option<String>,
    /// Volume label (11 characters on FAT32, 32 on ISO); default "Configuration Manager" (cut to 11 on FAT32)
    #[arg(long)]
    label: Option<String>,
    /// Start without prompts: the media pick the deployment and need no key press (_SMSTSLaunchMode)
    #[arg(long)]
    unattended: bool,
    /// Allow a root shell in tsmedia PE on the failure screen (Configuration Manager's "enable command support"; for testing, never for production)
    #[arg(long)]
    debug_shell: bool,
    /// Let computers the site does not know run as the Unknown Computer of their architecture
    #[arg(long)]
    allow_unknown: bool,
    /// Media password: it derives the key (Argon2id, 64 MiB) that seals Variables.dat and policy.xml
    #[arg(long, env = "TSMEDIA_MEDIA_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Read the media password from the first line of a file
    #[arg(long)]
    password_file: Option<PathBuf>,
    /// Make a self-signed media certificate (registered at the site) for signed requests; the default
    #[arg(long)]
    self_signed_cert: bool,
    /// Self-signed certificate valid from (YYYY-MM-DD or RFC 3339; default now)
    #[arg(long)]
    cert_start: Option<String>,
    /// Self-signed certificate valid until (default one year after the start)
    #[arg(long)]
    cert_expire: Option<String>,
    /// PKI media certificate: a PFX (PKCS #12) with its private key, instead of a self-signed one
    #[arg(long)]
    pfx: Option<PathBuf>,
    /// Password of --pfx
    #[arg(long)]
    pfx_password: Option<String>,
    /// User device affinity for the deployed computer (also DoNotAllow, AdministratorApproval, AutoApproval)
    #[arg(long, value_enum)]
    uda: Option<UdaArg>,
    /// NAME=VALUE (repeatable)
    #[arg(long = "variable")]
    variables: Vec<String>,
    /// Command run by the runtime before the task sequence is chosen; NAME=VALUE lines it prints set variables
    #[arg(long)]
    prestart_command: Option<String>,
    /// Package holding the prestart command's files (carried on the media)
    #[arg(long)]
    prestart_package: Option<String>,
    /// Task sequence ID (required for prestaged and stand-alone media); its referenced content is checked on the DPs
    #[arg(long)]
    ts: Option<String>,
    /// OS image package staged on prestaged media
    #[arg(long)]
    os_image: Option<String>,
    /// Image index of --os-image the task sequence applies (default 1)
    #[arg(long)]
    os_image_index: Option<u32>,
    /// Applications to carry (prestaged: staged; stand-alone: with all task sequence content)
    #[arg(long, num_args = 1..)]
    application: Vec<String>,
    /// Packages to carry
    #[arg(long, num_args = 1..)]
    package: Vec<String>,
    /// Driver packages to carry
    #[arg(long, num_args = 1..)]
    driver_package: Vec<String>,
    /// Also carry the packages the chosen ones depend on
    #[arg(long)]
    include_dependencies: bool,
    /// Media property: created by (up to 50 characters)
    #[arg(long)]
    created_by: Option<String>,
    /// Media property: version (up to 32 characters)
    #[arg(long)]
    version: Option<String>,
    /// Media property: comment (up to 127 characters)
    #[arg(long)]
    comment: Option<String>,
    /// Stand-alone media: not valid before this date (YYYY-MM-DD)
    #[arg(long)]
    start_date: Option<String>,
    /// Stand-alone media: not valid after this date (YYYY-MM-DD)
    #[arg(long)]
    expiration_date: Option<String>,
    /// Write autorun.inf on CD/DVD media
    #[arg(long)]
    autorun: bool,
    /// Repartition and format a USB block device
    #[arg(long)]
    format: bool,
    /// Byte-identical output: salts and GUIDs from the settings, a given --pfx (SOURCE_DATE_EPOCH alone only fixes the times)
    #[arg(long)]
    deterministic: bool,
    /// Log file (default CreateTSMedia.log beside the output)
    #[arg(long)]
    log: Option<PathBuf>,
    /// Print the plan (every file with its source and size, per disc) and write nothing
    #[arg(long)]
    dry_run: bool,
    /// The runtime put into boot.wim as SMS/bin/<arch>/tsmedia (default: this executable)
    #[arg(long)]
    runtime: Option<PathBuf>,
    /// No progress bar
    #[arg(long)]
    quiet: bool,
}

/// `media inspect`.
#[derive(Args)]
pub struct InspectArgs {
    /// A folder of ISOs, one ISO, a USB image or device, or a prestaged .wim
    path: PathBuf,
    #[arg(long, env = "TSMEDIA_MEDIA_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Show secret variable values (the media PFX)
    #[arg(long)]
    show_secrets: bool,
    #[arg(long)]
    json: bool,
}

/// A spec from the command line, with the options whose value may equal the default that
/// were given explicitly (so that `--type` on prestaged media is refused whatever its value).
struct Parsed {
    spec: MediaSpec,
    dry_run: bool,
    plan_options: PlanOptions,
    explicit: Vec<&'static str>,
}

fn to_spec(a: CreateArgs) -> Result<Parsed> {
    let explicit: Vec<&'static str> = [
        ("--type", a.media_type.is_some()),
        ("--mode", a.mode.is_some()),
        ("--uda", a.uda.is_some()),
    ]
    .into_iter()
    .filter_map(|(o, given)| given.then_some(o))
    .collect();
    let mut s = match &a.spec {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            MediaSpec::from_toml(&text)?
        }
        None => MediaSpec::default(),
    };
    if let Some(k) = a.kind {
        s.kind = match k {
            KindArg::Bootable => MediaKind::Bootable,
            KindArg::Prestaged => MediaKind::Prestaged,
            KindArg::Standalone => MediaKind::Standalone,
            KindArg::Capture => MediaKind::Capture,
        };
    } else if a.spec.is_none() {
        bail!("give the media type (bootable, prestaged, standalone, capture) or --spec FILE");
    }
    macro_rules! opt {
        ($($f:ident),*) => { $( if a.$f.is_some() { s.$f = a.$f.clone(); } )* };
    }
    opt!(
        boot_image,
        arch,
        user,
        size,
        label,
        password,
        password_file,
        cert_start,
        cert_expire,
        pfx,
        pfx_password,
        prestart_command,
        prestart_package,
        ts,
        os_image,
        os_image_index,
        created_by,
        version,
        comment,
        start_date,
        expiration_date,
        log
    );
    macro_rules! list {
        ($($f:ident),*) => { $( if !a.$f.is_empty() { s.$f = a.$f.clone(); } )* };
    }
    list!(dp, mp, application, package, driver_package);
    macro_rules! flag {
        ($($f:ident),*) => { $( s.$f |= a.$f; )* };
    }
    flag!(
        unattended,
        debug_shell,
        allow_unknown,
        self_signed_cert,
        include_dependencies,
        autorun,
        format,
        deterministic
    );
    if let Some(o) = a.out {
        s.out = o;
    }
    if let Some(m) = a.mode {
        s.mode = match m {
            ModeArg::Dynamic => MpMode::Dynamic,
            ModeArg::SiteBased => MpMode::SiteBased,
        };
    }
    if let Some(t) = a.media_type {
        s.media_type = match t {
            TypeArg::Usb => MediaType::Usb,
            TypeArg::CdDvd => MediaType::CdDvd,
        };
    }
    if let Some(u) = a.uda {
        s.uda = match u {
            UdaArg::DoNotAllow => Uda::DoNotAllow,
            UdaArg::AdminApproval => Uda::AdminApproval,
            UdaArg::AutoApproval => Uda::AutoApproval,
        };
    }
    let mut vars = BTreeMap::new();
    for v in &a.variables {
        let (k, val) = v
            .split_once('=')
            .with_context(|| format!("--variable {v:?}: expected NAME=VALUE"))?;
        vars.insert(k.to_string(), val.to_string());
    }
    s.variable.extend(vars);
    let plan_options = PlanOptions {
        runtime: a.runtime,
        clock: Clock::from_environment(s.deterministic)?,
        ..PlanOptions::default()
    };
    Ok(Parsed {
        spec: s,
        dry_run: a.dry_run,
        plan_options,
        explicit,
    })
}

/// Runs a media command against the site in `site_dir`.
pub fn run(site_dir: &std::path::Path, c: MediaCommand, cancel: &Cancel) -> Result<()> {
    match c {
        MediaCommand::Create(a) => {
            let quiet = a.quiet;
            let Parsed {
                spec,
                dry_run,
                plan_options,
                explicit,
            } = to_spec(*a)?;
            let mut site = Site::open(site_dir)
                .with_context(|| format!("opening site {}", site_dir.display()))?;
            let refused: Vec<_> = explicit
                .iter()
                .filter_map(|o| tsmedia_media::option_refusal(spec.kind, o))
                .collect();
            let checked = match tsmedia_media::preflight_with(&site, &spec, &plan_options) {
                Ok(p) if refused.is_empty() => Ok(p),
                Ok(_) => Err(refused),
                Err(mut failures) => {
                    for r in refused {
                        if !failures.iter().any(|f| f.object == r.object) {
                            failures.insert(0, r);
                        }
                    }
                    Err(failures)
                }
            };
            let plan = match checked {
                Ok(p) => p,
                Err(failures) => {
                    // A dry run writes nothing, not even the log.
                    if !dry_run {
                        match tsmedia_media::write_failure_log(&spec, &plan_options, &failures) {
                            Ok(log) => eprintln!("log: {}", log.display()),
                            Err(e) => eprintln!("log not written: {e}"),
                        }
                    }
                    return Err(tsmedia_media::Error::Preflight(failures).into());
                }
            };
            for n in &plan.notices {
                eprintln!("notice: {n}");
            }
            if dry_run {
                print!("{plan}");
                return Ok(());
            }
            let bar = Bar::new("media", quiet);
            let options = BuildOptions {
                cancel: cancel.clone(),
                progress: bar.clone(),
                ..BuildOptions::default()
            };
            let result = tsmedia_media::build(&mut site, &plan, &options);
            bar.clear();
            let report = match result {
                Ok(r) => r,
                Err(e) => {
                    let log = tsmedia_media::failure_log_path(&spec);
                    if log.is_file() {
                        eprintln!("log: {}", log.display());
                    }
                    if cancel.is_cancelled() {
                        return Err(anyhow::Error::new(tsmedia_wim::Error::Cancelled)
                            .context("media build interrupted; temporary files removed"));
                    }
                    return Err(e.into());
                }
            };
            for o in &report.outputs {
                println!("{}", o.display());
            }
            eprintln!("log: {}", report.log.display());
            Ok(())
        }
        MediaCommand::Inspect(a) => {
            let i = tsmedia_media::inspect(&a.path, a.password.as_deref(), a.show_secrets)?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&i)?);
                return Ok(());
            }
            println!("media type: {}", i.media_type);
            println!("label: {}", i.label);
            for (k, v) in [
                ("created by", &i.created_by),
                ("version", &i.version),
                ("comment", &i.comment),
            ] {
                if let Some(v) = v {
                    println!("{k}: {v}");
                }
            }
            println!("password required: {}", i.password_required);
            if let Some((s, nb, na)) = &i.certificate {
                println!("certificate: {s}, valid {nb} to {na} (UNIX seconds)");
            }
            println!("policy: {}", if i.policy { "present" } else { "none" });
            for (k, v) in &i.variables {
                println!("variable {k} = {v}");
            }
            if let Some(c) = &i.content {
                for p in c["packages"].as_array().into_iter().flatten() {
                    println!(
                        "content {} ({}) version {}: {} files",
                        p["package_id"].as_str().unwrap_or(""),
                        p["name"].as_str().unwrap_or(""),
                        p["version"],
                        p["files"].as_array().map(|f| f.len()).unwrap_or(0)
                    );
                }
            }
            for d in &i.discs {
                println!(
                    "disc {} of {}: {} ({} files)",
                    d.disc,
                    d.discs,
                    d.path.display(),
                    d.files.len(),
                );
                for b in &d.boot_entries {
                    println!("  boot: {b}");
                }
            }
            Ok(())
        }
    }
}
