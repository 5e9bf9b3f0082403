//! ISO image writer: ISO 9660 + Joliet + UDF 1.02 bridge + El Torito, shaped like
//! `oscdimg -bootdata:2#p0,e,b<etfsboot.com>#pEF,e,b<efisys.bin> -u2 -udfver102`, and a small
//! reader of the Joliet tree ([`read`]) for what the media builder inspects and the boot-time
//! runtime extracts.
//!
//! Three phases, so images of many gigabytes stream without buffering:
//!
//! 1. [`IsoBuilder`]: declare directories, files (path, size, [`DataSource`]) and El Torito
//!    [`BootEntry`]s.
//! 2. [`IsoBuilder::plan`]: compute the whole layout and [`IsoPlan::total_size`]; no data is
//!    read. A multi-disc set is made by the caller: split the content, build and plan one
//!    [`IsoBuilder`] per disc, and check each plan's size against the disc capacity.
//! 3. [`write()`]: stream the image sequentially to any `Write`, opening each source once and
//!    checking its length against the declared size.
//!
//! Output is deterministic for a fixed [`IsoOptions::timestamp`]: children are sorted by name,
//! all times are that timestamp and the UDF volume set id is a hash of label and time.
//!
//! Specifications: ECMA-119 4th edition (ISO 9660; level 3 multi-extent files for sizes of
//! 4 GiB and more), Joliet (UCS-2 level 3), El Torito 1.0 (no-emulation entries, sections per
//! platform), ECMA-167 and OSTA UDF 1.02 (one type 1 partition covering the file data, short
//! allocation descriptors sharing the ISO 9660 extents).
//!
//! Not supported: Rock Ridge, floppy/hard-disk emulation boot, the boot information table,
//! multi-session, ISO 9660 directory relocation (trees deeper than 8 levels are written as is;
//! Joliet, UDF and common readers accept them), per-file timestamps.

mod builder;
mod ecma119;
mod eltorito;
mod error;
mod names;
mod plan;
pub mod read;
mod time;
mod tree;
mod udf;
mod write;

pub use crate::source::DataSource;
pub use builder::{BootEntry, BootImage, BootPlatform, IsoBuilder, IsoOptions};
pub use error::{Error, Result};
pub use plan::{BootImageExtent, FileExtent, IsoPlan, SECTOR_SIZE};
pub use read::{IsoReader, ReadError};
pub use write::{write, write_with_progress};
