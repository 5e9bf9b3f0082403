//! Windows Imaging (WIM) format: reader, two-phase writer, capture and apply.
//!
//! Implements the WIM format as Microsoft's tools and wimlib read and write it (facts in
//! `shared/reference/wim-format.md`; Microsoft's 2007 white paper is only an overview): header,
//! resource headers, blob table, chunked and solid resources, metadata resources (security data,
//! dentries, extra stream entries, tagged items including wimlib's UNIX data), UTF-16 XML data,
//! integrity table, boot index, several images per file and split WIMs.
//!
//! Not supported: wimlib's pipable WIMs and writing solid resources.

pub mod blob_table;
mod bytes;
pub mod error;
pub mod header;
pub mod info;
pub mod read;
pub mod resource;
pub mod sha1;
pub mod xml;

pub use error::{Error, Result};
pub use info::{ImageInfo, WimInfo, inspect};
pub use read::Wim;
pub use sha1::Sha1;
pub mod dentry;
pub mod integrity;
pub mod metadata;
pub mod output;
pub mod security;
pub mod time;
pub mod write;

pub use write::{WimWriter, WriteOptions};
pub mod apply;
pub mod capture;
pub mod ops;
pub mod reparse;
