//! Reading an existing FAT12/16/32 volume from any `Read + Seek` (an image file, a partition
//! of a disk image, a block device): the boot sector, FAT entries (cached by window) and
//! cluster chains, with every cluster number checked against the volume.
//!
//! Directory listing is in `read_dir`, file streaming in `read_file`, tree walks and
//! extraction in `read_tree`.

use std::io::{Read, Seek, SeekFrom};

use super::geometry::FatType;
use super::read_bpb::BootParameters;
use super::read_error::{ReadError, ReadResult};

/// Bytes of the FAT kept in memory at a time.
const FAT_WINDOW: u64 = 64 << 10;

/// What a FAT entry says about the cluster after this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    Cluster(u32),
    End,
    Free,
    Bad,
}

/// An opened FAT volume. All reads go through `inner` at `offset + position`.
pub struct FatVolume<R> {
    pub(crate) inner: R,
    pub(crate) offset: u64,
    pub(crate) bpb: BootParameters,
    fat_window: Vec<u8>,
    fat_window_start: u64,
}

impl<R> std::fmt::Debug for FatVolume<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FatVolume")
            .field("offset", &self.offset)
            .field("bpb", &self.bpb)
            .finish()
    }
}

impl<R: Read + Seek> FatVolume<R> {
    /// Opens the volume whose boot sector is at byte `offset` of `inner`; checks the boot
    /// sector and that the volume's last byte is readable.
    pub fn open(mut inner: R, offset: u64) -> ReadResult<FatVolume<R>> {
        let mut sector = [0u8; 512];
        read_at(&mut inner, offset, &mut sector)?;
        let bpb = BootParameters::parse(&sector)?;
        let mut v = FatVolume {
            inner,
            offset,
            bpb,
            fat_window: Vec::new(),
            fat_window_start: 0,
        };
        // A truncated image fails here rather than in the middle of a file.
        let end = v.bpb.volume_bytes();
        let mut last = [0u8; 1];
        v.read_at(end - 1, &mut last)?;
        Ok(v)
    }

    /// The boot sector's parameters.
    pub fn boot_parameters(&self) -> &BootParameters {
        &self.bpb
    }

    /// FAT12, FAT16 or FAT32.
    pub fn fat_type(&self) -> FatType {
        self.bpb.fat_type
    }

    /// Byte offset of the volume in the underlying reader.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Gives the underlying reader back.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// Reads `buf.len()` bytes at `pos` (relative to the volume start).
    pub(crate) fn read_at(&mut self, pos: u64, buf: &mut [u8]) -> ReadResult<()> {
        read_at(&mut self.inner, self.offset + pos, buf)
    }

    /// The FAT entry of `cluster` (a data cluster, checked by the caller).
    pub(crate) fn next(&mut self, cluster: u32) -> ReadResult<Next> {
        let (byte, len) = match self.bpb.fat_type {
            FatType::Fat12 => (u64::from(cluster) * 3 / 2, 2),
            FatType::Fat16 => (u64::from(cluster) * 2, 2),
            FatType::Fat32 => (u64::from(cluster) * 4, 4),
        };
        let fat_type = self.bpb.fat_type;
        let b = self.fat_bytes(byte, len)?;
        let (value, end, bad) = match fat_type {
            FatType::Fat12 => {
                let v = u32::from(u16::from_le_bytes([b[0], b[1]]));
                let v = if cluster & 1 == 1 { v >> 4 } else { v & 0xFFF };
                (v, 0xFF8, 0xFF7)
            }
            FatType::Fat16 => (u32::from(u16::from_le_bytes([b[0], b[1]])), 0xFFF8, 0xFFF7),
            FatType::Fat32 => (
                u32::from_le_bytes([b[0], b[1], b[2], b[3]]) & 0x0FFF_FFFF,
                0x0FFF_FFF8,
                0x0FFF_FFF7,
            ),
        };
        Ok(match value {
            0 => Next::Free,
            v if v >= end => Next::End,
            v if v == bad => Next::Bad,
            v => Next::Cluster(v),
        })
    }

    /// `len` bytes of the active FAT at `byte`, through the cache window.
    fn fat_bytes(&mut self, byte: u64, len: u64) -> ReadResult<&[u8]> {
        let fat_len = self.bpb.fat_bytes();
        if byte + len > fat_len {
            // Cannot happen for a checked cluster: the BPB check bounds clusters by the FAT.
            return Err(ReadError::BadBootSector(format!(
                "FAT entry at byte {byte} is past the FAT's {fat_len} bytes"
            )));
        }
        let start = self.fat_window_start;
        if byte < start || byte + len > start + self.fat_window.len() as u64 {
            let new_start = byte / 512 * 512;
            let n = (fat_len - new_start).min(FAT_WINDOW);
            let mut window = std::mem::take(&mut self.fat_window);
            window.resize(n as usize, 0);
            let at = self.bpb.fat_offset() + new_start;
            let result = self.read_at(at, &mut window);
            self.fat_window = window;
            self.fat_window_start = new_start;
            if let Err(e) = result {
                self.fat_window.clear();
                return Err(e);
            }
        }
        let i = (byte - self.fat_window_start) as usize;
        Ok(&self.fat_window[i..i + len as usize])
    }

    /// Checks that `cluster` is a data cluster; `what` names the file or directory.
    pub(crate) fn check_cluster(&self, cluster: u32, what: &str) -> ReadResult<()> {
        if self.bpb.is_data_cluster(cluster) {
            Ok(())
        } else {
            Err(ReadError::ClusterOutOfRange {
                what: what.into(),
                cluster,
                end: u64::from(self.bpb.cluster_count) + 2,
            })
        }
    }

    /// The cluster after `cluster` in a chain that must go on.
    pub(crate) fn follow(&mut self, cluster: u32, what: &str) -> ReadResult<Option<u32>> {
        match self.next(cluster)? {
            Next::End => Ok(None),
            Next::Cluster(c) => {
                self.check_cluster(c, what)?;
                Ok(Some(c))
            }
            Next::Free => Err(ReadError::ChainBroken {
                what: what.into(),
                cluster,
                kind: "free",
            }),
            Next::Bad => Err(ReadError::ChainBroken {
                what: what.into(),
                cluster,
                kind: "bad",
            }),
        }
    }
}

/// Reads exactly `buf.len()` bytes at absolute `pos` of `r`.
pub(crate) fn read_at<R: Read + Seek>(r: &mut R, pos: u64, buf: &mut [u8]) -> ReadResult<()> {
    let io = |source| ReadError::Io {
        offset: pos,
        source,
    };
    r.seek(SeekFrom::Start(pos)).map_err(io)?;
    r.read_exact(buf).map_err(io)
}
