//! Windows Imaging (WIM) format: reader, two-phase writer, capture and apply.
//!
//! Implements the WIM format as Microsoft's tools and wimlib read and write it (facts in
//! `docs/wim-format.md`; Microsoft's 2007 white paper is only an overview): header, resource
//! headers, blob table, chunked and solid resources, metadata resources (security data,
//! dentries, extra stream entries, tagged items including wimlib's UNIX data), UTF-16 XML data,
//! integrity table, boot index, several images per file and split WIMs.
//!
//! # The API
//!
//! [`Wim::open`] reads a WIM's header, XML data and blob table; images and blobs are read when
//! asked for, each blob checked against its SHA-1. [`inspect`] summarises a file as
//! `wimlib-imagex info` does. [`WimWriter`] writes in two phases: blobs first (compressed on
//! every core, each stored once however many files share it), then [`WimWriter::add_image`]
//! for each image's metadata and [`WimWriter::finish`] for the blob table, XML data, optional
//! integrity table and header; until then the file has a temporary name, so a failed write
//! never leaves a half-written WIM. [`capture()`] adds a directory tree as an image, [`apply()`]
//! extracts one, refusing any name that would leave the target. [`ops`] has the whole-WIM
//! operations: export, append, update, verify, split and join, with [`ops::SplitPlan`] the one
//! planner of `.swm` parts.
//!
//! The on-disk structures (header, resource headers, blob table, dentries, security data,
//! integrity table) are in [`ondisk`], each parsed from and written to bytes without I/O. Every
//! failure is an [`Error`] variant naming what is wrong with its offset, index, image or path;
//! a variant prints either its context (the cause then comes from `source()`) or the whole
//! story, never both.
//!
//! ```
//! use tsmedia_wim::{CaptureOptions, Wim, WimWriter, WriteOptions};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let tree = dir.path().join("tree");
//! std::fs::create_dir_all(tree.join("sub"))?;
//! std::fs::write(tree.join("sub/hello.txt"), b"hello, world")?;
//!
//! // Capture the tree as image 1, then write the blob table, XML and header.
//! let path = dir.path().join("small.wim");
//! let mut w = WimWriter::create(&path, WriteOptions::default())?;
//! let report = tsmedia_wim::capture(&tree, &mut w, &CaptureOptions::default())?;
//! assert_eq!(report.files, 1);
//! w.finish(0)?;
//!
//! // Read it back: one image whose tree holds the file.
//! let wim = Wim::open(&path)?;
//! assert_eq!(wim.image_count(), 1);
//! let image = tsmedia_wim::ops::load_image(&wim, 1)?;
//! let sub = &image.root.children[0];
//! assert_eq!(sub.name_lossy(), "sub");
//! let data = wim.open_blob(&sub.children[0].data, true)?.read_all()?;
//! assert_eq!(data, b"hello, world");
//! # Ok(())
//! # }
//! ```
//!
//! Compression: XPRESS, LZX and LZMS (from `tsmedia-codecs`), in chunked and solid resources.
//! wimlib's pipable WIMs are read (from a file, or a pipe through [`read::pipable`]) and
//! written ([`write::pipable`]). Solid resources are written with [`WriteOptions::solid`]
//! ([`write::solid`]), blobs in wimlib's order ([`solid_order`]).
#![warn(missing_docs)]

// The high-level API.
pub mod apply;
pub mod apply_backend;
pub mod capture;
pub mod capture_config;
pub mod error;
pub mod info;
pub mod metadata;
pub mod ops;
pub mod output;
pub mod read;
pub mod source_list;
pub mod write;

// The on-disk layouts, also reachable at their historical paths (`tsmedia_wim::header`, ...).
pub mod ondisk;
pub use ondisk::{blob_table, dentry, header, integrity, resource, security};

// Values shared by both: names, hashes, times, XML data, reparse data.
mod bytes;
pub mod reparse;
pub mod sha1;
pub mod solid_order;
pub mod time;
pub mod xml;

pub use apply::{ApplyOptions, ApplyReport, apply};
pub use apply_backend::{ApplyBackend, ApplyEntry};
pub use capture::{CaptureOptions, CaptureReport, capture};
pub use error::{Error, MetadataFault, ResourceFault, Result};
pub use info::{ImageInfo, WimInfo, inspect};
pub use metadata::Image;
pub use read::Wim;
pub use sha1::Sha1;
pub use write::{SolidOptions, WimWriter, WriteOptions};
