//! FAT12/16/32 volumes written in two phases: declare a tree ([`FatTree`]), plan it
//! ([`FatTree::plan`] → [`FatPlan`], all limits checked, nothing read), then stream it
//! ([`FatPlan::write`]) front to back to any `Write`, reading each file's source once.
//!
//! Implements Microsoft's "FAT: General Overview of On-Disk Format" (fatgen103): boot sector
//! and BPB (§3), FAT32 FSInfo and backup boot sector, FATs (§4), short directory entries and
//! short-name generation (§6), VFAT long names (§7). Files are stored contiguously; directories
//! are sorted by case-folded name so the output depends only on the declared content and the
//! options. Not supported: modifying existing volumes, writing sector sizes other than 512,
//! per-file timestamps or attributes, the NT lower-case flags (such names get long-name
//! entries instead).
//!
//! Reading existing volumes ([`FatVolume`]): any FAT12/16/32 volume at a byte offset of a
//! `Read + Seek` (sector sizes 512–4096), listing (long names checked against their
//! checksums), lookup by path, streaming files, walking and extracting trees. Hostile volumes
//! give a [`ReadError`]: every cluster number, chain length and directory size is checked.
//! Not read: timestamps beyond the raw write date/time, OEM code pages for short names
//! (bytes above 0x7F are shown as Latin-1), cross-linked files (two files sharing clusters).

mod boot;
mod dirent;
mod error;
pub mod geometry;
mod name;
mod plan;
mod read;
mod read_bpb;
mod read_dir;
mod read_error;
mod read_file;
mod read_tree;
mod table;
mod tree;
mod write;

pub use dirent::FatTimestamp;
pub use error::{Error, Result};
pub use geometry::{FatType, Geometry, GeometryError};
pub use plan::{FatOptions, FatPlan, MAX_DIR_ENTRIES};
pub use read::FatVolume;
pub use read_bpb::BootParameters;
pub use read_dir::DirEntry;
pub use read_error::{ReadError, ReadResult};
pub use read_file::FatFile;
pub use read_tree::{ExtractOptions, ExtractReport, MAX_DEPTH};
pub use tree::{FatTree, FileSource};
