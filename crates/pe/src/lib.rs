//! tsmedia PE: the boot environment of tsmedia's media, a small Linux system built from
//! Debian's packages — the signed kernel and the modules real machines need, busybox for
//! scripts and Run Command Line steps, shim and signed GRUB for UEFI with Secure Boot, ISOLINUX
//! for BIOS — with the tsmedia runtime as its session (see `docs/tsmedia-pe.md`).
//!
//! [`build`] reads the packages from a folder the user filled with `apt-get download` and
//! returns the files of the boot image; [`image::write_wim`] stores them as a WIM boot image
//! with a `tsmedia-pe.json` description, which the site imports like any boot image. The same
//! packages and runtime give the same bytes.
//!
//! Not supported yet: architectures other than amd64, zstd-compressed packages.

pub mod boot_media;
pub mod build;
pub mod deb;
pub mod error;
pub mod image;
pub mod modules;
pub mod newc;
pub mod packages;
pub mod runtime;
pub mod session;

pub use build::{PeBuild, PeFile, PeOptions, build};
pub use error::{Error, Result};
