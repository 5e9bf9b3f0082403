//! Partitioned disk images: MBR (one active partition) or GPT (protective MBR, primary and
//! backup headers and entry arrays, UEFI 2.10 §5), written by hand so the whole image streams
//! front to back. [`UsbImagePlan`] lays out a bootable USB drive: the table and one FAT32
//! partition at 1 MiB holding a declared tree (UEFI firmware boots `EFI/BOOT/BOOTX64.EFI`
//! from it) and, optionally, BIOS firmware boots a small boot program through generated MBR
//! code. Not supported: more than one partition, reading existing tables, sector sizes
//! other than 512.

mod chainload;
mod error;
mod gpt;
mod guid;
mod mbr;
mod target;
mod usb;

pub use chainload::chainload_code;
pub use error::{Error, Result};
pub use guid::{Guid, GuidGenerator, crc32};
pub use mbr::{MbrPartition, chs, mbr_sector};
pub use target::{TargetOptions, block_device_size};
pub use usb::{PartitionKind, PartitionTable, UsbImageOptions, UsbImagePlan};
