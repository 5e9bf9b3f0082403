//! Windows Imaging (WIM) format: reader, two-phase writer, capture and apply.
//!
//! Implements the WIM format as Microsoft's tools and wimlib read and write it (facts in
//! `shared/reference/wim-format.md`; Microsoft's 2007 white paper is only an overview): header,
//! resource headers, blob table, chunked and solid resources, metadata resources (security data,
//! dentries, extra stream entries, tagged items including wimlib's UNIX data), UTF-16 XML data,
//! integrity table, boot index, several images per file and split WIMs.
//!
//! Not supported: LZMS compression (solid WIMs made with it can be listed but not read), wimlib's
//! pipable WIMs, and writing solid resources.

// The high-level API.
pub mod apply;
pub mod capture;
pub mod error;
pub mod info;
pub mod metadata;
pub mod ops;
pub mod output;
pub mod read;
pub mod write;

// The on-disk layouts, also reachable at their historical paths (`tsmedia_wim::header`, ...).
pub mod ondisk;
pub use ondisk::{blob_table, dentry, header, integrity, resource, security};

// Values shared by both: names, hashes, times, XML data, reparse data.
mod bytes;
pub mod reparse;
pub mod sha1;
pub mod time;
pub mod xml;

pub use apply::{ApplyOptions, ApplyReport, apply};
pub use capture::{CaptureOptions, CaptureReport, capture};
pub use error::{Error, Result};
pub use info::{ImageInfo, WimInfo, inspect};
pub use metadata::Image;
pub use read::Wim;
pub use sha1::Sha1;
pub use write::{WimWriter, WriteOptions};
