//! The boot-time task sequence runtime (`docs/media.md`, "At boot" and "Task sequences"): the
//! concrete steps of a task sequence, run by `tsmedia-tasksequence`'s engine through
//! [`MediaStepRunner`], and the places their content comes from ([`ContentProvider`]).
//!
//! - [`runner`]: Partition Disk (one empty FAT32 volume on a disk image or device, MBR or
//!   GPT), Apply Operating System and Apply Data Image (WIM apply into the target folder; with
//!   `_SMSTSMediaType=OEMMedia` the OS apply is skipped, as on prestaged media), Apply Driver
//!   Package (content copied to `<target>/Drivers/<ID>`), Install Package and Install
//!   Application (content, then its command line), Run Command Line (`sh -c`), Set Task
//!   Sequence Variable, Download Package Content and Capture Operating System Image (target
//!   folder to a WIM). Any other step type is [`StepError::Unsupported`].
//! - [`content`]: [`StagedContent`] — staged media content (`SMS/PKG/<ID>`) or the task
//!   sequence cache (`_SMSTaskSequence/Packages/<ID>`), used only when the version and the
//!   SHA-256 of every file match the content manifest (`SMS/data/ContentManifest.json`).
//!
//! - [`run()`]: the boot-time flow: media read and decrypted, staged content checked,
//!   validity window, prestart command, then the task sequence — from the media
//!   (stand-alone) or from the site ([`network`]: bootable and prestaged media) — run with
//!   `smsts.log` written in CMTrace format.
//! - [`network`]: the media certificate signs every request; [`mp`] finds the management
//!   point (`SMSTSMP`, or `SMSTSLocationMPs` in priority order with fallback and the MP
//!   location answer); [`identity`] reads the SMBIOS GUID and MACs; [`deployment`] chooses
//!   the deployment; [`dp_content`] downloads content from distribution points into the
//!   task sequence cache, resumed and verified.
//!
//! - [`command`]: the `run` command line ([`RunArgs`]) and its exit codes, shared by
//!   `tsmedia client run` and this crate's own binary, `tsmedia-runtime` (`src/main.rs`): the
//!   runtime alone, without the media builder, the site database or the HTTP server, for
//!   boot images.
//!
//! The files on the media come from `tsmedia-mediafmt` (bootstrap, sealed variables and
//! policy, the content manifest, the media certificate) and the conversation with the site
//! from `tsmedia-protocol`, the same code the builder and the server use.
//!
//! Not here: an interactive user interface (several deployments on attended media stop with
//! their list), PXE, the Network Access Account (distribution points check read access for
//! a principal named in [`RunOptions::principal`]).
//!
//! [`StepError::Unsupported`]: tsmedia_tasksequence::StepError::Unsupported

pub mod capture;
pub mod command;
pub mod content;
pub mod deployment;
pub mod dp_content;
pub mod error;
pub mod identity;
pub mod mp;
pub mod network;
pub mod pe;
pub mod run;
pub mod runner;
pub mod runtime_cli;
pub mod source;
mod steps;
pub mod trust;

pub use command::{CommandError, RunArgs, execute, exit_code};
pub use content::{
    Content, ContentManifest, ContentProvider, FirstAvailable, ManifestFile, ManifestPackage,
    PinnedVersions, StagedContent,
};
pub use dp_content::DistributionPointContent;
pub use error::{Error, ErrorClass, Result};
pub use run::{RunOptions, RunResult, run};
pub use runner::{MediaStepRunner, RunnerOptions, StepLogLine};
