//! Bootable media images for tsmedia.
//!
//! - [`boot_payload`]: tiny BIOS and UEFI boot programs used to prove media boot under QEMU.
pub mod boot_payload;
