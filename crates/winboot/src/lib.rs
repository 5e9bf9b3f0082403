//! Making an applied Windows image boot and configure itself, from Linux, without Windows tools.
//!
//! - [`regf`]: the Windows registry hive file format (`regf`), written by hand and read back
//!   ([docs/regf.md](../../../docs/regf.md)).
//! - [`bcd`]: the Boot Configuration Data store `bcdboot` creates for a UEFI or BIOS
//!   installation, as a hive ([docs/bcd.md](../../../docs/bcd.md)).
//! - [`bootfiles`]: what `bcdboot` copies from `Windows\Boot` to the system partition.
//! - [`unattend`]: the `Windows\Panther\unattend.xml` answer file that Apply Windows Settings and
//!   Apply Network Settings produce, merged with the image's own
//!   ([docs/unattend.md](../../../docs/unattend.md)).
//!
//! Everything works on bytes and plain folders (the mounted Windows volume and system
//! partition); nothing here spawns a process.

pub mod bcd;
pub mod bootfiles;
pub mod regf;
pub mod secret;
pub mod unattend;

pub use bcd::{BcdStore, BcdTarget, Firmware, PartitionRef};
pub use bootfiles::{BootFilesError, BootFilesReport, install_boot_files};
pub use secret::Secret;
pub use unattend::{
    UnattendError, WindowsSettings, answer_file, settings_from_variables, write_answer_file,
};
