//! The task sequence media builder: bootable, stand-alone, capture and prestaged media as
//! ISO sets, USB images and WIMs (`shared/reference/configmgr-media.md` §1–3, §7).
//!
//! 1. [`MediaSpec`]: every option of the wizard (TOML for `--spec`).
//! 2. [`preflight`]: every check against the [`tsmedia_site::Site`] before any byte is
//!    written; each [`PreflightFailure`] names the object and the fix. The result is a
//!    [`MediaPlan`]: every output file with its source and size, per disc (`--dry-run`).
//! 3. [`build`]: writes the outputs under temporary names and renames them at the end,
//!    streams content once from the library, writes `CreateTSMedia.log` (CMTrace).
//! 4. [`inspect()`]: reads media back (ISO set, prestaged WIM), decrypting the variables.
//!
//! Secrets (`Variables.dat`, `policy.xml`) use Argon2id + XChaCha20-Poly1305 ([`secret`]).
//!
//! Not supported yet: splitting WIMs into `.swm` parts (for FAT32's 4 GiB limit or a disc
//! size: preflight refuses such media instead), injecting the client runtime into boot.wim
//! (only the media configuration is injected), inspecting USB images, BIOS boot of USB images.

mod bootfiles;
mod build;
pub mod certificate;
mod error;
mod inspect;
pub mod iso_read;
mod layout;
pub mod log;
mod plan;
mod preflight;
pub mod secret;
mod spec;
pub mod variables;

pub use build::{BuildOptions, BuildReport, build, media_variables};
pub use error::{Error, Result};
pub use inspect::{InspectedDisc, Inspection, inspect};
pub use layout::{FAT32_MAX_FILE, disc_path};
pub use plan::{ContentItem, Disc, FileSource, MediaPlan, PlannedFile};
pub use preflight::{PreflightFailure, build_time, preflight};
pub use spec::{
    CD_650MB, DVD_4_7GB, DVD_8_5GB, MediaKind, MediaSpec, MediaType, MpMode, Uda, parse_size,
};
