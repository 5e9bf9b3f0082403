//! Media images for tsmedia: FAT12/16/32 volumes (`fat`) and MBR/GPT partitioned disk images
//! such as bootable USB drives (`disk`).

pub mod disk;
pub mod fat;
