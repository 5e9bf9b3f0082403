//! FAT12/16/32 volumes written in two phases: declare a tree ([`FatTree`]), plan it
//! ([`FatTree::plan`] → [`FatPlan`], all limits checked, nothing read), then stream it
//! ([`FatPlan::write`]) front to back to any `Write`, reading each file's source once.
//!
//! Implements Microsoft's "FAT: General Overview of On-Disk Format" (fatgen103): boot sector
//! and BPB (§3), FAT32 FSInfo and backup boot sector, FATs (§4), short directory entries and
//! short-name generation (§6), VFAT long names (§7). Files are stored contiguously; directories
//! are sorted by case-folded name so the output depends only on the declared content and the
//! options. Not supported: reading or modifying existing volumes, sector sizes other than 512,
//! per-file timestamps or attributes, the NT lower-case flags (such names get long-name
//! entries instead).

mod boot;
mod dirent;
mod error;
pub mod geometry;
mod name;
mod plan;
mod table;
mod tree;
mod write;

pub use dirent::FatTimestamp;
pub use error::{Error, Result};
pub use geometry::{FatType, Geometry, GeometryError};
pub use plan::{FatOptions, FatPlan, MAX_DIR_ENTRIES};
pub use tree::{FatTree, FileSource};
