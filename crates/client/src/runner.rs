//! [`MediaStepRunner`]: the concrete steps, as the engine's [`StepRunner`].
//!
//! Step settings are read from the step's `<defaultVarList>` (by variable name or by
//! `property`), and `%VAR%` references in them are expanded with the current variables.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tsmedia_base::Cancel;
use tsmedia_tasksequence::{Step, StepError, StepOutcome, StepRunner, Variables};

use crate::content::ContentProvider;
use crate::steps;

/// How steps run. Required data (the content provider) is passed separately.
#[derive(Debug, Clone)]
pub struct RunnerOptions {
    /// The folder standing for the target system volume (`OSDTargetSystemDrive`): images
    /// are applied here, drivers copied to `Drivers/<ID>`, the cache kept in
    /// `_SMSTaskSequence/Packages`. Required in practice; default: `./target`.
    pub target: PathBuf,
    /// The disk image file or block device that Partition Disk formats. Default: none (the
    /// step fails naming the missing option).
    pub disk: Option<PathBuf>,
    /// Size of a disk image file that does not exist yet. Default: 64 MiB.
    pub new_disk_size: u64,
    /// Mounts the volume Format and Partition Disk made; it becomes the target. Default:
    /// none.
    pub mounter: Option<Arc<dyn Mounter>>,
    /// Stops before the next step, and inside image apply and capture between files, with a
    /// step failure naming the cancel. Default: never.
    pub cancel: Cancel,
    /// The programs and application deployment types Install Package and Install Application
    /// may run (from the signed policy or the sealed stand-alone media). Default: none.
    pub software: tsmedia_mediafmt::software::SoftwarePolicy,
    /// The computer's architecture, for deployment type requirements. Default: this
    /// runtime's.
    pub arch: Option<String>,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        RunnerOptions {
            target: PathBuf::from("target"),
            disk: None,
            new_disk_size: 64 << 20,
            mounter: None,
            cancel: Cancel::default(),
            software: Default::default(),
            arch: None,
        }
    }
}

/// Makes the volumes Format and Partition Disk wrote usable (in tsmedia PE: the kernel
/// re-reads the partition table, the partitions' nodes appear, and they are mounted: NTFS
/// with `ntfs-3g`, FAT with the kernel's driver).
pub trait Mounter: std::fmt::Debug + Send + Sync {
    /// The block device of partition `number` (1-based) of `disk`, once the kernel knows the
    /// partition table just written (it is told to re-read it; anything mounted from the
    /// disk before is unmounted first).
    fn partition(&self, disk: &Path, number: u32) -> Result<PathBuf, String>;
    /// Mounts partition `number` of `disk` as the target volume and returns where; a volume
    /// mounted there before is unmounted first.
    fn mount(&self, disk: &Path, number: u32) -> Result<PathBuf, String>;
    /// Mounts partition `number` of `disk` (the system partition) beside the target and
    /// returns where, until [`Mounter::unmount_system`].
    fn mount_system(&self, disk: &Path, number: u32) -> Result<PathBuf, String>;
    /// Writes out and unmounts what [`Mounter::mount_system`] mounted.
    fn unmount_system(&self) -> Result<(), String>;
    /// Writes out and unmounts every volume mounted (before the disk is partitioned again).
    fn release(&self) -> Result<(), String>;
}

/// One message a step left for the log (the engine logs results; this is the detail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepLogLine {
    /// The step's name.
    pub step: String,
    /// The message.
    pub message: String,
}

/// Runs the steps this runtime implements.
pub struct MediaStepRunner<'a> {
    pub(crate) options: RunnerOptions,
    pub(crate) content: &'a mut dyn ContentProvider,
    pub(crate) lines: Vec<StepLogLine>,
    current: String,
}

impl<'a> MediaStepRunner<'a> {
    /// A runner getting package content from `content`.
    pub fn new(options: RunnerOptions, content: &'a mut dyn ContentProvider) -> Self {
        MediaStepRunner {
            options,
            content,
            lines: Vec::new(),
            current: String::new(),
        }
    }

    /// The messages steps left so far, in order; taking them empties the list.
    pub fn take_log(&mut self) -> Vec<StepLogLine> {
        std::mem::take(&mut self.lines)
    }

    pub(crate) fn note(&mut self, message: impl Into<String>) {
        self.lines.push(StepLogLine {
            step: self.current.clone(),
            message: message.into(),
        });
    }
}

/// A step type without its `SMS_TaskSequence_` prefix.
fn short_type(t: &str) -> &str {
    t.strip_prefix("SMS_TaskSequence_").unwrap_or(t)
}

impl StepRunner for MediaStepRunner<'_> {
    fn run(&mut self, step: &Step, env: &mut Variables) -> Result<StepOutcome, StepError> {
        self.current = step.name.clone();
        if self.options.cancel.is_cancelled() {
            return Err(steps::failed(step, tsmedia_base::Cancelled));
        }
        match short_type(&step.step_type) {
            "PartitionDiskAction" => steps::disk::partition(self, step, env),
            "ApplyOperatingSystemAction" => steps::image::apply_os(self, step, env),
            "ApplyDataImageAction" => steps::image::apply_data(self, step, env),
            "CaptureSystemImageAction" => steps::capture::capture(self, step, env),
            "ApplyDriverPackageAction" => steps::package::apply_drivers(self, step, env),
            "InstallSoftwareAction" => steps::software::install_package(self, step, env),
            "InstallApplicationAction" => steps::software::install_application(self, step, env),
            "DownloadPackageContentAction" => steps::package::download(self, step, env),
            "RunCommandLineAction" => steps::command::run_command_line(self, step, env),
            "SetVariableAction" => steps::command::set_variable(step, env),
            "RebootAction" => steps::command::restart(self, step, env),
            "ApplyWindowsSettingsAction" | "ApplyNetworkSettingsAction" => {
                steps::windows::apply_settings(self, step, env)
            }
            "SetupWindowsAndSMSAction" => steps::setup::setup_windows(self, step, env),
            _ => Err(StepError::Unsupported {
                step_type: format!("{} (step {:?})", step.step_type, step.name),
            }),
        }
    }
}
