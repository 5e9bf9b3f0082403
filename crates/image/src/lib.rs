//! Bootable media images for tsmedia.
//!
//! - [`boot_payload`]: tiny BIOS and UEFI boot programs used to prove media boot under QEMU.
//! - [`fat`]: FAT12/16/32 volumes, planned then streamed (El Torito EFI images, USB partitions).
//! - [`disk`]: MBR/GPT partitioned disk images such as bootable USB drives.
pub mod boot_payload;
pub mod disk;
pub mod fat;
