//! The task sequence media builder: bootable, stand-alone, capture and prestaged media as
//! ISO sets, USB images and WIMs (`docs/media.md`: types, wizard, on-media files, logs).
//!
//! 1. [`MediaSpec`]: every option of the wizard (TOML for `--spec`).
//! 2. [`preflight`]: every check against the [`tsmedia_site::Site`] before any byte is
//!    written; each [`PreflightFailure`] names the object and the fix. The result is a
//!    [`MediaPlan`]: every output file with its source and size, per disc (`--dry-run`).
//!    Content WIMs over FAT32's 4 GiB limit (USB) or larger than a disc (CD/DVD sets) are
//!    planned as `.swm` parts ([`swm`]), streamed from the library WIM when written.
//! 3. [`build`]: writes the outputs under temporary names and renames them at the end,
//!    streams content once from the library, injects the media configuration and the runtime
//!    (the tsmedia executable, [`runtime_dest`]) into `sources/boot.wim`, and writes
//!    `CreateTSMedia.log` (CMTrace) on success and on failure ([`write_failure_log`]).
//! 4. [`inspect()`]: reads media back (ISO set, prestaged WIM), decrypting the variables.
//!
//! The files on the media that the runtime reads — `TsmBootstrap.ini` and `Variables.dat`
//! ([`variables`]), sealed with Argon2id + XChaCha20-Poly1305 ([`secret`]), the content
//! manifest, the media certificate's PFX — are `tsmedia-mediafmt`'s, shared with the runtime;
//! ISO images are read back with `tsmedia-image`'s reader. This crate creates and imports
//! media certificates ([`certificate`]).
//!
//! Not supported yet: BIOS boot of USB images; splitting the boot image itself (the boot
//! manager reads `sources/boot.wim` whole, so preflight refuses one over the limit).

mod bootfiles;
mod build;
pub mod capture_sequence;
pub mod certificate;
mod error;
mod inspect;
mod layout;
pub mod log;
mod plan;
mod preflight;
mod spec;
pub mod swm;

pub use build::{
    BuildOptions, BuildReport, RUNTIME_NAME, build, failure_log_path, log_path, media_variables,
    runtime_dest, write_failure_log,
};
pub use error::{Error, Result};
pub use inspect::{InspectedDisc, Inspection, inspect};
pub use layout::{FAT32_MAX_FILE, disc_path, set_disc_path};
pub use plan::{ContentItem, Disc, FileSource, MediaPlan, PlanOptions, PlannedFile, SplitWim};
pub use preflight::{
    PreflightFailure, build_clock, build_time, option_refusal, preflight, preflight_with,
};
pub use spec::{
    CD_650MB, DEFAULT_LABEL, DVD_4_7GB, DVD_8_5GB, MediaKind, MediaSpec, MediaType, MpMode, Uda,
    parse_size,
};
pub use tsmedia_mediafmt::{secret, variables};
