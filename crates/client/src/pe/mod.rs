//! `tsmedia-runtime pe`: the session of tsmedia PE, started by its `/init` once the kernel's
//! file systems are mounted and the drivers loaded. It finds the medium the PE was started
//! from (by the media GUID the boot loader put on the kernel command line), asks for the media
//! password on the console, finds the disk to deploy to (or the volume of a task sequence that
//! stopped for a restart), brings up the network for media that need a management point, runs
//! the task sequence as `tsmedia client run` does, keeps `smsts.log` (in RAM until the target
//! volume exists, then on it, across restarts) and shows a failure screen when it fails.
//! Its exit code tells `/init` what to do: 0 power off, 6 restart, anything else power off
//! after the failure screen.

pub mod console;
pub mod devices;
mod discs;
pub mod kernel_args;
pub mod network;
mod volume;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use crate::command::{self, CommandError, exit_codes};
use crate::run::RunOptions;
use console::{Console, Failure, failure_screen};
use kernel_args::KernelArgs;
use volume::PeVolumes;

/// The options of `tsmedia-runtime pe` (all have the values a running tsmedia PE needs; they
/// exist so that the session can be tried elsewhere).
#[derive(Debug, Clone, Args)]
pub struct PeArgs {
    /// The kernel command line to read
    #[arg(long, default_value = "/proc/cmdline")]
    pub cmdline: PathBuf,
    /// The kernel's block device list
    #[arg(long, default_value = "/sys/block")]
    pub sys_block: PathBuf,
    /// Where device nodes are
    #[arg(long, default_value = "/dev")]
    pub dev: PathBuf,
    /// A folder in RAM for the session's mounts, log and work
    #[arg(long, default_value = "/run/tsmedia")]
    pub run_dir: PathBuf,
    /// The screen's terminal, besides the serial console on standard input and output
    #[arg(long, default_value = "/dev/tty1")]
    pub screen: PathBuf,
}

/// How many times the password may be typed wrong.
pub const PASSWORD_TRIES: u32 = 3;

/// `TsmBootstrap.ini`'s media type of prestaged media.
const PRESTAGED_MEDIA_TYPE: &str = "OEMMedia";

/// The log's path in the target volume.
pub const DISK_LOG: &str = "_SMSTaskSequence/Logs/smsts.log";

/// Runs the session and returns the exit code for `/init`. `cancel` (Ctrl-C on the console)
/// stops the task sequence between steps; the failure screen then says so.
pub fn session(args: &PeArgs, cancel: &tsmedia_base::Cancel) -> u8 {
    let console = Console::system(Some(&args.screen));
    let kargs = KernelArgs::read(&args.cmdline);
    let ram_log = args.run_dir.join("smsts.log");
    let mut volumes = PeVolumes::new(&args.run_dir);
    let mut debug_shell = false;
    let outcome = run_session(
        args,
        &kargs,
        &console,
        &ram_log,
        &mut volumes,
        cancel,
        &mut debug_shell,
    );
    // The log goes to the target volume whenever one exists, whatever happened.
    let mut logs = vec![ram_log.clone()];
    if let Some(vol) = volumes.mounted() {
        let disk_log = vol.join(DISK_LOG);
        match copy_log(&ram_log, &disk_log) {
            Ok(()) => logs.push(disk_log),
            Err(e) => console.say(&format!("tsmedia PE: the log could not be kept: {e}\n")),
        }
    }
    // NTFS is written out only when ntfs-3g exits: a failure here is a damaged disk.
    if let Err(e) = volumes.release() {
        console.say(&format!(
            "tsmedia PE: the target volume could not be unmounted cleanly: {e}\n"
        ));
    }
    match outcome {
        Ok(()) => {
            console.say("tsmedia PE: the task sequence completed.\n");
            exit_codes::SUCCESS
        }
        Err(SessionError::Command(e)) if matches!(*e, CommandError::Suspended { .. }) => {
            console.say(&format!(
                "tsmedia PE: restarting ({e}); the task sequence resumes when the media boot again.\n"
            ));
            exit_codes::SUSPENDED
        }
        Err(e) => {
            let failure = Failure {
                title: e.title(),
                detail: e.detail(),
                exit_code: e.exit_code(),
                logs,
            };
            console.say(&failure_screen(&failure));
            let wait = kargs.fail_wait();
            if debug_shell {
                console.say(&format!(
                    "Type shell and press Enter for a debug shell (these media allow it), or press Enter to power off (the computer powers off by itself in {} s).\n",
                    wait.as_secs()
                ));
                if console
                    .read_line(Some(wait))
                    .is_some_and(|l| l.trim() == "shell")
                {
                    open_debug_shell(&console, wait.max(Duration::from_secs(600)));
                }
            } else {
                console.say(&format!(
                    "Press Enter to power off (the computer powers off by itself in {} s).\n",
                    wait.as_secs()
                ));
                let _ = console.read_line(Some(wait));
            }
            failure.exit_code
        }
    }
}

/// Why the session did not complete.
#[derive(Debug)]
enum SessionError {
    /// Before the task sequence ran: no medium, password, disk.
    Setup {
        title: String,
        detail: String,
        code: u8,
    },
    /// The run itself.
    Command(Box<CommandError>),
}

impl SessionError {
    fn title(&self) -> String {
        match self {
            SessionError::Setup { title, .. } => title.clone(),
            SessionError::Command(e) => match &**e {
                CommandError::TaskSequenceFailed { step, .. } => format!("Step {step:?} failed"),
                _ => "The task sequence could not run".into(),
            },
        }
    }

    fn detail(&self) -> String {
        match self {
            SessionError::Setup { detail, .. } => detail.clone(),
            SessionError::Command(e) => command::error_chain(&**e),
        }
    }

    fn exit_code(&self) -> u8 {
        match self {
            SessionError::Setup { code, .. } => *code,
            SessionError::Command(e) => command::exit_code(e),
        }
    }
}

fn setup(title: &str, detail: impl Into<String>, code: u8) -> SessionError {
    SessionError::Setup {
        title: title.into(),
        detail: detail.into(),
        code,
    }
}

/// Opens busybox's shell (media built with `--debug-shell`): it prints to the console, and
/// the lines typed on any terminal of the console are fed to it (the console's readers own the
/// terminals, so the shell reads through them). It ends with `exit`, or after `idle` without a
/// line typed; the computer then powers off.
fn open_debug_shell(console: &Console, idle: Duration) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    console.say("tsmedia PE: debug shell (busybox sh); type exit to leave and power off.\n");
    let mut child = match Command::new("sh").arg("-i").stdin(Stdio::piped()).spawn() {
        Ok(c) => c,
        Err(e) => {
            console.say(&format!("tsmedia PE: the shell could not start: {e}\n"));
            return;
        }
    };
    let mut input = child.stdin.take();
    let mut last = std::time::Instant::now();
    while matches!(child.try_wait(), Ok(None)) && last.elapsed() < idle {
        let Some(line) = console.read_line(Some(Duration::from_millis(200))) else {
            continue;
        };
        last = std::time::Instant::now();
        if input
            .as_mut()
            .is_none_or(|i| writeln!(i, "{line}").and_then(|()| i.flush()).is_err())
        {
            break;
        }
    }
    drop(input);
    if matches!(child.try_wait(), Ok(None)) {
        let _ = child.kill();
    }
    let _ = child.wait();
}

/// Whether the sealed media variables (`Variables.dat`, opened with the media password)
/// allow the debug shell.
fn debug_shell_allowed(plain: &[u8]) -> bool {
    tsmedia_mediafmt::variables::from_xml(plain).is_ok_and(|vars| {
        vars.iter().any(|v| {
            v.name == tsmedia_mediafmt::variables::DEBUG_SHELL_VARIABLE
                && v.value.eq_ignore_ascii_case("true")
        })
    })
}

fn run_session(
    args: &PeArgs,
    kargs: &KernelArgs,
    console: &Console,
    ram_log: &Path,
    volumes: &mut PeVolumes,
    cancel: &tsmedia_base::Cancel,
    debug_shell: &mut bool,
) -> Result<(), SessionError> {
    console.say(&format!("tsmedia PE: firmware {}\n", firmware()));
    console.say("tsmedia PE: looking for the task sequence media\n");
    let medium = find_medium(args, kargs)?;
    let media_dir = args.run_dir.join("media");
    // Prestaged media (`OEMMedia`) are staged on the computer's own disk: that volume is the
    // medium and the target at once, so it is mounted read-write and never partitioned here.
    let prestaged = medium
        .bootstrap
        .media_type
        .eq_ignore_ascii_case(PRESTAGED_MEDIA_TYPE);
    devices::mount(
        &medium.device.path,
        medium.kind.fs_type(),
        &media_dir,
        !prestaged,
    )
    .map_err(|e| setup("The media could not be mounted", e, exit_codes::FAILURE))?;
    if prestaged {
        volumes.adopt(media_dir.clone());
    }
    console.say(&format!(
        "tsmedia PE: {} media {} on {}\n",
        medium.bootstrap.media_type,
        medium
            .bootstrap
            .media_guid
            .as_deref()
            .unwrap_or("(no GUID)"),
        medium.device.path.display()
    ));
    let (password, variables) = if medium.bootstrap.password_required {
        let (pw, plain) = ask_password(console, &media_dir)?;
        (Some(pw), plain)
    } else {
        (None, open_variables(&media_dir, None)?)
    };
    *debug_shell = debug_shell_allowed(&variables);
    // A set of several discs: the others are asked for and gathered with disc 1.
    let media_dir = match medium.bootstrap.disc {
        Some((1, count)) => discs::gather(
            console,
            &args.sys_block,
            &args.dev,
            &args.run_dir,
            &medium,
            &media_dir,
            count,
        )
        .map_err(|e| setup("The media set could not be read", e, exit_codes::NOT_FOUND))?,
        Some((n, count)) => {
            return Err(setup(
                "Start from disc 1",
                format!("this is disc {n} of {count}; the computer must start from disc 1"),
                exit_codes::INVALID_INPUT,
            ));
        }
        None => media_dir,
    };
    let devices = devices::list(&args.sys_block, &args.dev);
    if prestaged {
        let disk = medium
            .device
            .parent
            .as_ref()
            .and_then(|p| devices.iter().find(|d| &d.name == p))
            .map(|d| d.path.clone());
        console.say(&format!(
            "tsmedia PE: prestaged media: the staged volume {} is the target\n",
            medium.device.path.display()
        ));
        resume_log(console, &media_dir, ram_log)?;
        return run_task_sequence(
            args,
            console,
            ram_log,
            volumes,
            cancel,
            &medium,
            media_dir.clone(),
            media_dir,
            disk,
            password,
        );
    }
    let disk = devices::target_disk(&devices, &medium.device).map(|d| d.path.clone());
    let mut target = args.run_dir.join("work");
    if let Some(disk) = &disk {
        console.say(&format!("tsmedia PE: deploying to {}\n", disk.display()));
        // A task sequence that stopped for a restart left its state on the disk's volume.
        if let Some(vol) = volumes.resume(disk) {
            resume_log(console, &vol, ram_log)?;
            target = vol;
        }
    } else {
        console.say("tsmedia PE: no disk to deploy to was found\n");
    }
    run_task_sequence(
        args, console, ram_log, volumes, cancel, &medium, media_dir, target, disk, password,
    )
}

/// When `volume` holds the state of a task sequence that stopped for a restart: says so and
/// puts the earlier log back in RAM, so the log goes on where it stopped.
fn resume_log(console: &Console, volume: &Path, ram_log: &Path) -> Result<(), SessionError> {
    if !volume.join(crate::run::STATE_FILE).is_file() {
        return Ok(());
    }
    console.say(&format!(
        "tsmedia PE: resuming the task sequence saved on {}\n",
        volume.display()
    ));
    let disk_log = volume.join(DISK_LOG);
    if disk_log.is_file() {
        copy_log(&disk_log, ram_log).map_err(|e| {
            setup(
                "The log of the earlier run could not be read",
                e,
                exit_codes::FAILURE,
            )
        })?;
    }
    Ok(())
}

/// Brings up the network when the media need a management point, then runs the task
/// sequence (again with the deployment chosen on the console when several are offered).
#[allow(clippy::too_many_arguments)]
fn run_task_sequence(
    args: &PeArgs,
    console: &Console,
    ram_log: &Path,
    volumes: &mut PeVolumes,
    cancel: &tsmedia_base::Cancel,
    medium: &devices::Medium,
    media_dir: PathBuf,
    target: PathBuf,
    disk: Option<PathBuf>,
    password: Option<String>,
) -> Result<(), SessionError> {
    if !medium
        .bootstrap
        .media_type
        .eq_ignore_ascii_case("FullMedia")
    {
        network::bring_up(console, &args.run_dir)
            .map_err(|e| setup("The network could not be started", e, exit_codes::FAILURE))?;
    }
    let mut options = RunOptions {
        media: media_dir,
        target: Some(target),
        disk,
        password,
        log: Some(ram_log.to_path_buf()),
        mounter: Some(Arc::new(volumes.mounter())),
        cancel: cancel.clone(),
        ..RunOptions::default()
    };
    loop {
        console.say("tsmedia PE: running the task sequence\n");
        let mut out = Vec::new();
        let result = command::execute_options(&options, &mut out);
        console.say(&String::from_utf8_lossy(&out));
        match result {
            // Several deployments are offered and the media are not unattended: the person at
            // the console chooses, and the run starts again with that one (nothing ran yet).
            Err(CommandError::Run {
                source: crate::error::Error::DeploymentChoice { offered },
                ..
            }) if options.deployment.is_none() => {
                options.deployment = Some(choose_deployment(console, &offered)?);
            }
            other => return other.map_err(|e| SessionError::Command(Box::new(e))),
        }
    }
}

/// Shows the deployments offered (`ID (task sequence)` each) and reads a choice by number.
fn choose_deployment(console: &Console, offered: &[String]) -> Result<String, SessionError> {
    let mut menu = String::from("\nSeveral task sequences are available for this computer:\n");
    for (i, d) in offered.iter().enumerate() {
        menu.push_str(&format!("  {}. {d}\n", i + 1));
    }
    console.say(&menu);
    for _ in 0..PASSWORD_TRIES {
        console.say(&format!("Run which one (1-{})? ", offered.len()));
        let Some(line) = console.read_line(None) else {
            break;
        };
        if let Some(d) = line
            .trim()
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|n| offered.get(n))
        {
            return Ok(d.split_whitespace().next().unwrap_or(d).to_string());
        }
        console.say(&format!(
            "{:?} is not a number from the list.\n",
            line.trim()
        ));
    }
    Err(setup(
        "No task sequence was chosen",
        format!(
            "{} deployments are offered: {}",
            offered.len(),
            offered.join(", ")
        ),
        exit_codes::INVALID_INPUT,
    ))
}

/// `BIOS`, `UEFI` or `UEFI, Secure Boot enforcing` (as the kernel logged it).
fn firmware() -> &'static str {
    if !Path::new("/sys/firmware/efi").exists() {
        return "BIOS";
    }
    let log = std::process::Command::new("dmesg")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    if log.contains("Secure boot enabled") {
        "UEFI, Secure Boot enforcing"
    } else {
        "UEFI"
    }
}

/// Finds the medium, waiting for slow devices (USB) for up to 20 s.
fn find_medium(args: &PeArgs, kargs: &KernelArgs) -> Result<devices::Medium, SessionError> {
    for attempt in 0..20 {
        let devices = devices::list(&args.sys_block, &args.dev);
        if let Some(m) = devices::find_medium(&devices, kargs.media.as_deref()) {
            return Ok(m);
        }
        if attempt < 19 {
            std::thread::sleep(Duration::from_secs(1));
        }
    }
    Err(setup(
        "The task sequence media were not found",
        match &kargs.media {
            Some(g) => format!(
                "no disk or disc holds {} with MediaGuid={g}; is the medium still in the drive?",
                tsmedia_mediafmt::BOOTSTRAP_PATH
            ),
            None => format!(
                "no disk or disc holds {}, and the kernel command line names no media ({}=GUID)",
                tsmedia_mediafmt::BOOTSTRAP_PATH,
                kernel_args::MEDIA
            ),
        },
        exit_codes::NOT_FOUND,
    ))
}

/// `Variables.dat` of the media, sealed.
fn sealed_variables(media: &Path) -> Result<Vec<u8>, SessionError> {
    let vars = media.join(tsmedia_mediafmt::VARIABLES_PATH);
    std::fs::read(&vars).map_err(|e| {
        setup(
            "The media are damaged",
            format!("{}: {e}", vars.display()),
            exit_codes::INVALID_INPUT,
        )
    })
}

/// `Variables.dat` of media without a password, opened.
fn open_variables(media: &Path, password: Option<&str>) -> Result<Vec<u8>, SessionError> {
    tsmedia_mediafmt::secret::open(&sealed_variables(media)?, password, "Variables.dat").map_err(
        |e| {
            setup(
                "The media are damaged",
                tsmedia_base::error_chain(&e),
                exit_codes::INVALID_INPUT,
            )
        },
    )
}

/// Asks for the media password until it opens `Variables.dat`, at most [`PASSWORD_TRIES`]
/// times; returns it and the opened variables. Nothing is written anywhere before it is right.
fn ask_password(console: &Console, media: &Path) -> Result<(String, Vec<u8>), SessionError> {
    let sealed = sealed_variables(media)?;
    for attempt in 1..=PASSWORD_TRIES {
        let Some(pw) = console.ask_secret("Media password: ") else {
            break;
        };
        match tsmedia_mediafmt::secret::open(&sealed, Some(&pw), "Variables.dat") {
            Ok(plain) => return Ok((pw, plain)),
            Err(tsmedia_mediafmt::Error::Decrypt { .. }) if attempt < PASSWORD_TRIES => {
                console.say(&format!(
                    "The password is not correct ({} of {PASSWORD_TRIES} tries left).\n",
                    PASSWORD_TRIES - attempt
                ));
            }
            Err(tsmedia_mediafmt::Error::Decrypt { .. }) => {}
            Err(e) => {
                return Err(setup(
                    "The media are damaged",
                    tsmedia_base::error_chain(&e),
                    exit_codes::INVALID_INPUT,
                ));
            }
        }
    }
    Err(setup(
        "Wrong password",
        format!(
            "the media password was typed wrong {PASSWORD_TRIES} times; nothing was written to any disk"
        ),
        exit_codes::INVALID_INPUT,
    ))
}

/// Copies a log, creating the folder.
fn copy_log(from: &Path, to: &Path) -> Result<(), String> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("{} -> {}: {e}", from.display(), to.display()))
}
