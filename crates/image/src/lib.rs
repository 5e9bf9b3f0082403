//! Bootable media images for tsmedia.
//!
//! - [`boot_payload`]: tiny BIOS and UEFI boot programs used to prove media boot under QEMU.
//! - [`iso`]: the ISO 9660 + Joliet + UDF 1.02 bridge + El Torito image writer.
//! - [`fat`]: FAT12/16/32 volumes, planned then streamed (El Torito EFI images, USB partitions).
//! - [`disk`]: MBR/GPT partitioned disk images such as bootable USB drives.
pub mod boot_payload;
pub mod disk;
pub mod fat;
pub mod iso;
pub mod source;

pub use source::DataSource;
