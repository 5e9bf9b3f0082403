//! A Configuration Manager site for task sequence media: the site database (SQLite), the
//! single-instance content library, packages and their content versions, boot and OS images,
//! task sequences, deployments, distribution and management points, computers and
//! collections, and media certificates.
//!
//! Domain facts: `docs/media.md`, "Task sequences" and "The site
//! side". The content library follows Configuration Manager's design: `PkgLib` (package →
//! content versions, table `content_versions`), `DataLib` (each version's files with path,
//! size, time and SHA-256, table `manifest_entries`) and `FileLib` (each distinct file once, by
//! SHA-256, under `<site>/content/FileLib/`).
//!
//! Every change is one SQLite transaction; content is streamed into the library (never read
//! whole into memory) before the transaction that records it. The schema is versioned
//! ([`SCHEMA_VERSION`]): a site made by this version opens, and is upgraded, with the next.
//!
//! ```no_run
//! use tsmedia_site::{PackageOptions, PackageType, Site};
//! # fn main() -> tsmedia_site::Result<()> {
//! let mut site = Site::init("site".as_ref(), "PS1", Some("Lab"))?;
//! let pkg = site.add_package(PackageType::Package, "Tools", "tools/".as_ref(), &PackageOptions::default())?;
//! for file in site.content_files(&pkg.content_id)? {
//!     println!("{} -> {}", file.path, file.library_path.display());
//! }
//! # Ok(()) }
//! ```
//!
//! Not supported: SQL Server sites, several sites in a hierarchy, content delivered as
//! binary deltas, global conditions of deployment types (requirements are an architecture or a
//! task sequence variable), and empty folders in package content.

mod arch;
mod certificate;
mod collections;
mod computers;
mod content;
mod deployment;
mod error;
mod library;
mod package;
mod points;
mod schema;
mod signing_key;
mod site;
mod software;
mod source;
mod task_sequence;
mod time;
mod wim_info;

pub use arch::Arch;
pub use certificate::{Certificate, DEFAULT_PRINCIPAL};
pub use collections::{Collection, CollectionMember, CollectionVariable};
pub use computers::{Computer, normalize_guid, normalize_mac};
pub use content::{
    ContentProblem, ContentVersion, ManifestEntry, Problem, PruneReport, VerifyReport,
};
pub use deployment::{Availability, Deployment, Purpose};
pub use error::{Error, Result};
pub use library::{ContentLibrary, FileState, StoredFile, hash_file, hash_reader};
pub use package::{Package, PackageOptions, PackageType};
pub use points::{
    Cidr, DEFAULT_READERS, DistributionPoint, DpContent, ManagementPoint, UNAUTHENTICATED,
};
pub use schema::SCHEMA_VERSION;
pub use signing_key::SIGNING_KEY_FILE;
pub use site::{
    ALL_SYSTEMS, ALL_UNKNOWN_COMPUTERS, DATABASE_FILE, Site, SiteInfo, validate_site_code,
};
pub use software::{MissingSoftware, is_model_name};
pub use task_sequence::{
    ContentReference, ImportedTaskSequence, StoredTaskSequence, TaskSequenceSummary,
};
pub use time::Timestamp;
/// The software policy types (programs, applications, deployment types) the site stores.
pub use tsmedia_mediafmt::software as software_policy;
pub use tsmedia_tasksequence::TaskSequence;
pub use wim_info::{TSMEDIA_PE, WimImage};
