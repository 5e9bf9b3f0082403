//! Bootable media images for tsmedia.
//!
//! - [`boot_payload`]: tiny BIOS and UEFI boot programs used to prove media boot under QEMU.
//! - [`iso`]: the ISO 9660 + Joliet + UDF 1.02 bridge + El Torito image writer.
pub mod boot_payload;
pub mod iso;
