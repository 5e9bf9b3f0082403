//! Partitioned disk images: MBR (one active partition) or GPT (protective MBR, primary and
//! backup headers and entry arrays, UEFI 2.10 §5), written by hand so the whole image streams
//! front to back. [`UsbImagePlan`] lays out a bootable USB drive: the table and one FAT32
//! partition at 1 MiB holding a declared tree (UEFI firmware boots `EFI/BOOT/BOOTX64.EFI`
//! from it) and, optionally, BIOS firmware boots a small boot program through generated MBR
//! code. Reading: [`read_partition_table`] (MBR, GPT with CRC checks and backup header)
//! and [`open_fat_volume`] (the FAT volume of a disk image, device or superfloppy).
//! [`PartitionPlan`] lays out and writes the tables of a disk partitioned the Windows way (EFI
//! system, Microsoft reserved, primary and recovery partitions) for Format and Partition Disk.
//! Not supported: extended MBR partitions, sector sizes other than 512.

mod chainload;
mod error;
mod gpt;
mod guid;
mod layout;
mod mbr;
mod read;
mod target;
mod usb;

pub use chainload::chainload_code;
pub use error::{Error, Result};
pub use guid::{Guid, GuidGenerator, crc32};
pub use layout::{
    PartitionFs, PartitionPlan, PartitionPlanOptions, PartitionRole, PartitionSize, PartitionSpec,
    PlannedPartition,
};
pub use mbr::{MbrPartition, chs, mbr_sector};
pub use read::{
    DiskLayout, PartitionInfo, PartitionType, TableError, TableKind, open_fat_volume,
    read_partition_table,
};
pub use target::{TargetOptions, block_device_size};
pub use usb::{PartitionKind, PartitionTable, UsbImageOptions, UsbImagePlan};
