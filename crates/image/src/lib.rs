//! Bootable media images for tsmedia.
//!
//! - [`boot_payload`]: tiny BIOS and UEFI boot programs used to prove media boot under QEMU.
//! - [`iso`]: the ISO 9660 + Joliet + UDF 1.02 bridge + El Torito image writer, and its Joliet
//!   tree read back ([`iso::IsoReader`]).
//! - [`fat`]: FAT12/16/32 volumes, planned then streamed (El Torito EFI images, USB partitions),
//!   and read back from any `Read + Seek` ([`fat::FatVolume`]).
//! - [`disk`]: MBR/GPT partitioned disk images such as bootable USB drives, and their tables
//!   read back ([`disk::read_partition_table`], [`disk::open_fat_volume`]).
pub mod boot_payload;
pub mod disk;
pub mod fat;
pub mod iso;
pub mod source;

pub use source::DataSource;
