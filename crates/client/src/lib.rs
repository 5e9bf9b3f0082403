//! The boot-time task sequence runtime (`shared/reference/configmgr-media.md` §4–5): the
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
//! - [`run()`]: the boot-time flow for stand-alone media, and the content check of prestaged
//!   media.
//!
//! Not here yet: the management point half (MP location, identity, deployments, policy) and
//! download from a distribution point (it would be another [`ContentProvider`]).
//!
//! [`StepError::Unsupported`]: tsmedia_tasksequence::StepError::Unsupported

pub mod content;
pub mod error;
pub mod run;
pub mod runner;
pub mod source;
mod steps;

pub use content::{
    Content, ContentManifest, ContentProvider, FirstAvailable, ManifestFile, ManifestPackage,
    StagedContent,
};
pub use error::{Error, Result};
pub use run::{RunOptions, RunResult, run};
pub use runner::{MediaStepRunner, RunnerOptions, StepLogLine};
