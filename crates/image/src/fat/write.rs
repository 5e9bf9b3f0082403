//! Phase two: stream the planned volume front to back — reserved sectors, both FATs, the
//! FAT12/16 root directory, then every cluster in allocation order. Each source is opened and
//! read exactly once and must give exactly its declared length.

use std::io::{self, Read, Seek, SeekFrom, Write};

use super::boot::{BootFields, boot_sector, fsinfo_sector};
use super::dirent::{ATTR_ARCHIVE, ATTR_DIRECTORY, ATTR_VOLUME_ID, short_entry};
use super::error::{Error, Result};
use super::geometry::{FatType, SECTOR_SIZE};
use super::name::push_lfn_entries;
use super::plan::FatPlan;
use super::table::write_fat;
use super::tree::{NodeId, NodeKind, ROOT};

/// Bytes at the end of a volume that [`FatPlan::write_seekable`] writes rather than skips.
const KEEP_WRITTEN: u64 = 1 << 20;

static ZEROS: [u8; 1 << 16] = [0; 1 << 16];

/// Writes `count` zero bytes.
pub(crate) fn write_zeros(out: &mut impl Write, mut count: u64) -> io::Result<()> {
    while count > 0 {
        let n = count.min(ZEROS.len() as u64) as usize;
        out.write_all(&ZEROS[..n])?;
        count -= n as u64;
    }
    Ok(())
}

/// Counts bytes so that errors can say where they happened.
struct Counted<W> {
    inner: W,
    offset: u64,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.offset += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl FatPlan {
    /// Streams the whole volume (exactly [`FatPlan::total_bytes`] bytes) to `out`, front to
    /// back, with no seeking. Sources are opened in allocation order, each once.
    pub fn write<W: Write>(&self, out: W) -> Result<()> {
        self.write_with(out, write_zeros)
    }

    /// Like [`FatPlan::write`], but seeks over the free clusters after the last used one
    /// instead of writing zeros there, except for the volume's last MiB, which is always
    /// written (so no stale partition-table backup survives at the end of a device). `out`
    /// must read back zeros (a new file) or its free space must not matter (a device being
    /// formatted: FAT ignores the contents of free clusters). A 32 GB stick with 4 GB of
    /// content is then written in the time of 4 GB. Positions are relative to where `out`
    /// stands when called.
    pub fn write_seekable<W: Write + Seek>(&self, out: W) -> Result<()> {
        self.write_with(out, |out, count| {
            let written = count.min(KEEP_WRITTEN);
            let skip = count - written;
            if skip > 0 {
                let delta = i64::try_from(skip)
                    .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "skip too large"))?;
                out.inner.seek(SeekFrom::Current(delta))?;
                out.offset += skip;
            }
            write_zeros(out, written)
        })
    }

    fn write_with<W: Write>(
        &self,
        out: W,
        free_tail: impl FnOnce(&mut Counted<W>, u64) -> io::Result<()>,
    ) -> Result<()> {
        let mut out = Counted {
            inner: out,
            offset: 0,
        };
        self.write_all(&mut out, free_tail)?;
        out.flush().map_err(|source| Error::Write {
            offset: out.offset,
            source,
        })?;
        debug_assert_eq!(out.offset, self.total_bytes());
        Ok(())
    }

    fn write_all<W: Write>(
        &self,
        out: &mut Counted<W>,
        free_tail: impl FnOnce(&mut Counted<W>, u64) -> io::Result<()>,
    ) -> Result<()> {
        let g = &self.geometry;
        let io = |out: &Counted<W>| {
            let offset = out.offset;
            move |source| Error::Write { offset, source }
        };
        let cb = u64::from(g.cluster_bytes());

        // Reserved region.
        let boot = boot_sector(&BootFields {
            geometry: g,
            volume_id: self.volume_id,
            label: self.label.unwrap_or(*b"NO NAME    "),
            hidden_sectors: self.hidden_sectors,
        });
        out.write_all(&boot).map_err(io(out))?;
        let mut sectors_written = 1u64;
        if g.fat_type == FatType::Fat32 {
            let free = g.cluster_count - self.used_clusters;
            let next_free = if free > 0 {
                2 + self.used_clusters
            } else {
                u32::MAX
            };
            let fsinfo = fsinfo_sector(free, next_free);
            // Sectors 0–2 and their backup copy at 6–8; sector 2 is an empty boot-code sector
            // with a signature, as Microsoft's format writes.
            let mut third = [0u8; 512];
            third[510] = 0x55;
            third[511] = 0xAA;
            for sector in [&fsinfo, &third, &ZERO_SECTOR, &ZERO_SECTOR, &ZERO_SECTOR] {
                out.write_all(sector).map_err(io(out))?;
            }
            for sector in [&boot, &fsinfo, &third] {
                out.write_all(sector).map_err(io(out))?;
            }
            sectors_written = 9;
        }
        write_zeros(
            out,
            (u64::from(g.reserved_sectors) - sectors_written) * u64::from(SECTOR_SIZE),
        )
        .map_err(io(out))?;

        // FATs.
        let runs: Vec<(u32, u32)> = self
            .allocation
            .iter()
            .map(|&id| {
                (
                    self.placements[id].first_cluster,
                    self.placements[id].clusters,
                )
            })
            .collect();
        for _ in 0..g.fat_count {
            write_fat(out, g.fat_type, g.fat_sectors, &runs).map_err(io(out))?;
        }

        // Fixed root directory of FAT12/16.
        if g.fat_type != FatType::Fat32 {
            let root = self.directory_bytes(ROOT);
            out.write_all(&root).map_err(io(out))?;
            let region = u64::from(g.root_dir_sectors()) * u64::from(SECTOR_SIZE);
            write_zeros(out, region - root.len() as u64).map_err(io(out))?;
        }

        // Data region.
        let mut buf = vec![0u8; 1 << 18];
        for &id in &self.allocation {
            let placement = &self.placements[id];
            let node = &self.tree.nodes[id];
            let length = match &node.kind {
                NodeKind::Dir { .. } => {
                    let bytes = self.directory_bytes(id);
                    out.write_all(&bytes).map_err(io(out))?;
                    bytes.len() as u64
                }
                NodeKind::File { size, source } => {
                    copy_exact(&node.path, *size, source.as_ref(), out, &mut buf)?;
                    *size
                }
            };
            let padding = u64::from(placement.clusters) * cb - length;
            write_zeros(out, padding).map_err(io(out))?;
        }
        let end = g.total_bytes();
        free_tail(out, end - out.offset).map_err(io(out))?;
        Ok(())
    }

    /// The entries of one directory: the label (root) or `.` and `..`, then each child's
    /// long-name entries and short entry, in the planned order.
    fn directory_bytes(&self, dir: NodeId) -> Vec<u8> {
        let ts = self.timestamp;
        let mut out = Vec::with_capacity(self.placements[dir].entries as usize * 32);
        if dir == ROOT {
            if let Some(label) = &self.label {
                out.extend_from_slice(&short_entry(label, ATTR_VOLUME_ID, 0, 0, ts));
            }
        } else {
            let own = self.placements[dir].first_cluster;
            let parent = self.tree.nodes[dir].parent;
            // fatgen103 §6.7: ".." of a directory in the root points to cluster 0, on FAT32 too.
            let parent_cluster = if parent == ROOT {
                0
            } else {
                self.placements[parent].first_cluster
            };
            out.extend_from_slice(&short_entry(b".          ", ATTR_DIRECTORY, own, 0, ts));
            out.extend_from_slice(&short_entry(
                b"..         ",
                ATTR_DIRECTORY,
                parent_cluster,
                0,
                ts,
            ));
        }
        if let NodeKind::Dir { children } = &self.tree.nodes[dir].kind {
            for &child in children {
                let p = &self.placements[child];
                let node = &self.tree.nodes[child];
                if p.long {
                    push_lfn_entries(&mut out, &node.name, &p.short);
                }
                let (attr, size) = match node.kind {
                    NodeKind::Dir { .. } => (ATTR_DIRECTORY, 0),
                    // Sizes were checked against u32::MAX while planning.
                    NodeKind::File { size, .. } => (ATTR_ARCHIVE, size as u32),
                };
                out.extend_from_slice(&short_entry(&p.short, attr, p.first_cluster, size, ts));
            }
        }
        out
    }
}

const ZERO_SECTOR: [u8; 512] = [0; 512];

/// Copies exactly `size` bytes of `source` to `out`, failing if it has fewer or more.
fn copy_exact<W: Write>(
    path: &str,
    size: u64,
    source: &dyn super::tree::FileSource,
    out: &mut Counted<W>,
    buf: &mut [u8],
) -> Result<()> {
    let src_err = |source| Error::Source {
        path: path.into(),
        source,
    };
    let mut reader = source.open().map_err(src_err)?;
    let mut done = 0u64;
    while done < size {
        let want = (size - done).min(buf.len() as u64) as usize;
        let n = match reader.read(&mut buf[..want]) {
            Ok(0) => {
                return Err(Error::SourceTooShort {
                    path: path.into(),
                    declared: size,
                    actual: done,
                });
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(src_err(e)),
        };
        let offset = out.offset;
        out.write_all(&buf[..n])
            .map_err(|source| Error::Write { offset, source })?;
        done += n as u64;
    }
    let mut probe = [0u8; 1];
    loop {
        match reader.read(&mut probe) {
            Ok(0) => return Ok(()),
            Ok(_) => {
                return Err(Error::SourceTooLong {
                    path: path.into(),
                    declared: size,
                });
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(src_err(e)),
        }
    }
}
