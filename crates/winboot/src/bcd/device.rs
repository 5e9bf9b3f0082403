//! The binary layout of a BCD device element pointing at a partition
//! (docs/bcd.md#device-elements): 88 bytes, a 16-byte header GUID (additional options, zero),
//! then the device data — type 6 (partition), its length, and the partition identified by
//! GUIDs on a GPT disk or by disk signature + byte offset on an MBR disk.

use uuid::Uuid;

/// Length of a partition device element.
pub const PARTITION_DEVICE_LEN: usize = 0x58;
/// Device type "partition" at offset 0x10.
const DEVICE_PARTITION: u32 = 6;
/// Length of the device data from offset 0x10 to the end.
const DEVICE_DATA_LEN: u32 = 0x48;
/// Partition style at offset 0x34.
const STYLE_GPT: u32 = 0;
const STYLE_MBR: u32 = 1;

/// A partition as BCD identifies it, independent of drive letters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartitionRef {
    /// A GPT partition: the disk GUID (GPT header) and the partition's unique GUID (its
    /// partition entry), as they read in `sgdisk -p` / `sgdisk -i`.
    Gpt {
        disk_guid: Uuid,
        partition_guid: Uuid,
    },
    /// An MBR partition: the 32-bit disk signature (MBR offset 440) and the partition's
    /// start in bytes (start sector × sector size).
    Mbr {
        disk_signature: u32,
        partition_offset: u64,
    },
}

impl PartitionRef {
    /// The 88-byte `Element` value of a device element naming this partition.
    pub fn to_device_bytes(&self) -> Vec<u8> {
        let mut out = vec![0u8; PARTITION_DEVICE_LEN];
        out[0x10..0x14].copy_from_slice(&DEVICE_PARTITION.to_le_bytes());
        out[0x18..0x1C].copy_from_slice(&DEVICE_DATA_LEN.to_le_bytes());
        match *self {
            PartitionRef::Gpt {
                disk_guid,
                partition_guid,
            } => {
                out[0x20..0x30].copy_from_slice(&partition_guid.to_bytes_le());
                out[0x34..0x38].copy_from_slice(&STYLE_GPT.to_le_bytes());
                out[0x38..0x48].copy_from_slice(&disk_guid.to_bytes_le());
            }
            PartitionRef::Mbr {
                disk_signature,
                partition_offset,
            } => {
                out[0x20..0x28].copy_from_slice(&partition_offset.to_le_bytes());
                out[0x34..0x38].copy_from_slice(&STYLE_MBR.to_le_bytes());
                out[0x38..0x3C].copy_from_slice(&disk_signature.to_le_bytes());
            }
        }
        out
    }

    /// Parses a partition device element; `None` for any other device (boot, ramdisk, file,
    /// locate…) or a malformed one.
    pub fn from_device_bytes(bytes: &[u8]) -> Option<PartitionRef> {
        if bytes.len() < PARTITION_DEVICE_LEN || le32(bytes, 0x10) != DEVICE_PARTITION {
            return None;
        }
        let guid =
            |at: usize| Uuid::from_bytes_le(bytes[at..at + 16].try_into().expect("16 bytes"));
        match le32(bytes, 0x34) {
            STYLE_GPT => Some(PartitionRef::Gpt {
                disk_guid: guid(0x38),
                partition_guid: guid(0x20),
            }),
            STYLE_MBR => Some(PartitionRef::Mbr {
                disk_signature: le32(bytes, 0x38),
                partition_offset: u64::from_le_bytes(
                    bytes[0x20..0x28].try_into().expect("8 bytes"),
                ),
            }),
            _ => None,
        }
    }
}

fn le32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(
        bytes[at..at + 4]
            .try_into()
            .expect("caller checked the length"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpt_layout() {
        let disk = Uuid::parse_str("11223344-5566-7788-99aa-bbccddeeff00").expect("guid");
        let part = Uuid::parse_str("00010203-0405-0607-0809-0a0b0c0d0e0f").expect("guid");
        let bytes = PartitionRef::Gpt {
            disk_guid: disk,
            partition_guid: part,
        }
        .to_device_bytes();
        assert_eq!(bytes.len(), 88);
        assert_eq!(&bytes[..16], &[0; 16]);
        assert_eq!(
            &bytes[0x10..0x20],
            &[6, 0, 0, 0, 0, 0, 0, 0, 0x48, 0, 0, 0, 0, 0, 0, 0]
        );
        // GUIDs in their on-disk (mixed-endian) form.
        assert_eq!(
            &bytes[0x20..0x30],
            &[3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15]
        );
        assert_eq!(&bytes[0x30..0x38], &[0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&bytes[0x38..0x3C], &[0x44, 0x33, 0x22, 0x11]);
        assert_eq!(&bytes[0x48..], &[0; 16]);
        assert_eq!(
            PartitionRef::from_device_bytes(&bytes),
            Some(PartitionRef::Gpt {
                disk_guid: disk,
                partition_guid: part
            })
        );
    }

    #[test]
    fn mbr_layout() {
        let mbr = PartitionRef::Mbr {
            disk_signature: 0xA1B2_C3D4,
            partition_offset: 0x10_0000,
        };
        let bytes = mbr.to_device_bytes();
        assert_eq!(
            &bytes[0x20..0x30],
            &[0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(&bytes[0x34..0x38], &[1, 0, 0, 0]);
        assert_eq!(
            &bytes[0x38..0x48],
            &[0xD4, 0xC3, 0xB2, 0xA1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(PartitionRef::from_device_bytes(&bytes), Some(mbr));
        assert_eq!(PartitionRef::from_device_bytes(&bytes[..40]), None);
    }
}
