//! Phase two: the complete layout of the image, computed before any byte is written.
//!
//! Sector map (2048-byte sectors; "P" is the start of the UDF partition):
//!
//! | sectors | content |
//! |---|---|
//! | 0–15 | system area (zeros, or a hybrid MBR set with [`IsoPlan::set_system_area`]) |
//! | 16 | ISO 9660 primary volume descriptor |
//! | 17 | El Torito boot record (when there are boot entries) |
//! | next | Joliet supplementary volume descriptor, then the set terminator |
//! | next 3 | UDF volume recognition sequence `BEA01`, `NSR02`, `TEA01` |
//! | 32–37, 48–53 | UDF main and reserve volume descriptor sequences |
//! | 64–65 | UDF logical volume integrity descriptor and terminator |
//! | 256 | UDF anchor volume descriptor pointer |
//! | P = 257… | UDF file set descriptor, file entries, directory data; ISO and Joliet path tables and directories; boot catalog; hidden boot images; file data |
//! | last | UDF anchor volume descriptor pointer again |
//!
//! File data is laid out once, in path order, and referenced by all three trees.

use std::time::{SystemTime, UNIX_EPOCH};

use super::builder::{BootImage, BootPlatform, IsoBuilder, ResolvedBoot};
use super::error::{Error, Result};
use super::time::Civil;
use super::tree::Tree;
pub(crate) use super::tree::{Extent, Node};
use super::{ecma119, udf};

/// Bytes per logical sector (CD/DVD: always 2048).
pub const SECTOR_SIZE: u64 = 2048;
/// Largest extent one ISO 9660 directory record describes; larger files get several records
/// (ISO 9660 level 3 multi-extent).
pub(crate) const MAX_ISO_EXTENT: u64 = 0xFFFF_F800;
/// Largest extent one UDF short allocation descriptor describes (below 2^30, whole blocks).
pub(crate) const MAX_UDF_EXTENT: u64 = 0x3FFF_F800;
/// First sector of the UDF partition (right after the anchor at 256).
pub(crate) const UDF_PARTITION_START: u32 = 257;
pub(crate) const UDF_MAIN_VDS: u32 = 32;
pub(crate) const UDF_RESERVE_VDS: u32 = 48;
pub(crate) const UDF_LVID: u32 = 64;
pub(crate) const UDF_ANCHOR: u32 = 256;

pub(crate) struct PlannedBoot {
    pub platform: BootPlatform,
    pub lba: u32,
    pub size: u64,
    pub load_sectors: u16,
    pub hidden: Option<Vec<u8>>,
}

/// What the writer emits at a given sector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Region {
    SystemArea,
    Pvd,
    BootRecord,
    JolietSvd,
    Terminator,
    Vrs(usize),
    UdfVds(u32),
    UdfLvid,
    UdfAnchor(u32),
    UdfFsd,
    UdfFe(usize),
    UdfDir(usize),
    PathTable { joliet: bool, msb: bool },
    IsoDir(usize),
    JolietDir(usize),
    BootCatalog,
    HiddenBoot(usize),
    FileData(usize),
}

/// Where a file's bytes are in the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileExtent {
    /// Byte offset of the first byte in the image (a multiple of 2048).
    pub offset: u64,
    /// Length in bytes.
    pub size: u64,
}

/// Where a boot entry's image is, for hybrid MBR/GPT tables that point into the ISO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootImageExtent {
    /// The entry's platform.
    pub platform: BootPlatform,
    /// Byte offset in the image (a multiple of 2048).
    pub offset: u64,
    /// Length in bytes.
    pub size: u64,
}

/// The complete layout of one ISO image. Made by [`IsoBuilder::plan`], written by
/// [`super::write()`].
pub struct IsoPlan {
    pub(crate) nodes: Vec<Node>,
    pub(crate) boot: Vec<PlannedBoot>,
    pub(crate) time: Civil,
    pub(crate) label: String,
    pub(crate) application_id: String,
    pub(crate) joliet: bool,
    pub(crate) udf: bool,
    pub(crate) regions: Vec<(u32, Region)>,
    pub(crate) total_sectors: u32,
    pub(crate) iso_bfs: Vec<usize>,
    pub(crate) joliet_bfs: Vec<usize>,
    pub(crate) iso_path_table: [u32; 2],
    pub(crate) iso_path_table_size: u32,
    pub(crate) joliet_path_table: [u32; 2],
    pub(crate) joliet_path_table_size: u32,
    pub(crate) boot_catalog: u32,
    pub(crate) partition_len: u32,
    pub(crate) next_unique_id: u64,
    pub(crate) file_count: u32,
    pub(crate) dir_count: u32,
    pub(crate) system_area: Vec<u8>,
    /// Files whose bytes 8–63 get an El Torito boot information table when written.
    pub(crate) boot_info: Vec<usize>,
}

impl std::fmt::Debug for IsoPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IsoPlan")
            .field("label", &self.label)
            .field("total_sectors", &self.total_sectors)
            .field("files", &self.file_count)
            .field("directories", &self.dir_count)
            .finish_non_exhaustive()
    }
}

fn sectors(bytes: u64) -> u64 {
    bytes.div_ceil(SECTOR_SIZE)
}

impl IsoPlan {
    /// Size of the image in bytes.
    pub fn total_size(&self) -> u64 {
        u64::from(self.total_sectors) * SECTOR_SIZE
    }

    /// Size of the image in 2048-byte sectors.
    pub fn total_sectors(&self) -> u32 {
        self.total_sectors
    }

    /// Number of files (not directories) in the image.
    pub fn file_count(&self) -> u32 {
        self.file_count
    }

    /// Number of directories, the root included.
    pub fn dir_count(&self) -> u32 {
        self.dir_count
    }

    /// Sets the first 32 KiB of the image (ISO 9660's system area), e.g. an isohybrid MBR
    /// built from [`IsoPlan::boot_images`] and [`IsoPlan::total_size`]. Shorter is padded with
    /// zeros.
    pub fn set_system_area(&mut self, bytes: Vec<u8>) -> Result<()> {
        if bytes.len() > 16 * SECTOR_SIZE as usize {
            return Err(Error::SystemArea { len: bytes.len() });
        }
        self.system_area = bytes;
        Ok(())
    }

    /// Writes a boot information table into the file at `path` as it goes into the image
    /// (mkisofs's `-boot-info-table`, which ISOLINUX needs to find itself on the disc): bytes
    /// 8–63 of the file become the primary volume descriptor's LBA, the file's LBA, its length
    /// and the 32-bit sum of its words from byte 64 on, then 40 zero bytes. The file must be
    /// between 64 bytes and 1 MiB (a boot loader, read whole).
    pub fn patch_boot_info_table(&mut self, path: &str) -> Result<()> {
        let node = self.file_node(path).ok_or_else(|| Error::BootInfoTable {
            path: path.to_owned(),
            reason: "no such file in the image",
        })?;
        let size = self.nodes[node].size;
        if !(64..=1 << 20).contains(&size) {
            return Err(Error::BootInfoTable {
                path: path.to_owned(),
                reason: "a boot information table needs a file of 64 bytes to 1 MiB",
            });
        }
        self.boot_info.push(node);
        Ok(())
    }

    /// The node of the file at `path`.
    fn file_node(&self, path: &str) -> Option<usize> {
        let parts = super::names::split_path(path).ok()?;
        let mut cur = 0;
        for part in &parts {
            cur = *self.nodes[cur]
                .children
                .iter()
                .find(|&&c| self.nodes[c].name == *part)?;
        }
        (!self.nodes[cur].is_dir).then_some(cur)
    }

    /// Where the data of the file at `path` lies in the image.
    pub fn file_extent(&self, path: &str) -> Option<FileExtent> {
        let n = &self.nodes[self.file_node(path)?];
        Some(FileExtent {
            offset: u64::from(n.data_lba) * SECTOR_SIZE,
            size: n.size,
        })
    }

    /// The boot images, in boot catalog order.
    pub fn boot_images(&self) -> Vec<BootImageExtent> {
        self.boot
            .iter()
            .map(|b| BootImageExtent {
                platform: b.platform,
                offset: u64::from(b.lba) * SECTOR_SIZE,
                size: b.size,
            })
            .collect()
    }

    pub(crate) fn new(builder: IsoBuilder) -> Result<Self> {
        let label = check_label(&builder.options.volume_label)?;
        let seconds = match builder.options.timestamp {
            Some(s) => s,
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0),
        };
        let time = Civil::from_unix(seconds)?;

        let boot_files = builder.resolve_boot()?;
        let IsoBuilder {
            options,
            nodes: decl,
            boot: boot_decl,
            ..
        } = builder;
        let Tree {
            nodes,
            iso_bfs,
            joliet_bfs,
            dfs,
        } = Tree::new(decl)?;
        let next_unique_id = 16 + dfs.len() as u64;

        let mut plan = IsoPlan {
            nodes,
            boot: Vec::new(),
            time,
            label,
            application_id: options.application_id.clone(),
            joliet: options.joliet,
            udf: options.udf,
            regions: Vec::new(),
            total_sectors: 0,
            iso_bfs,
            joliet_bfs,
            iso_path_table: [0; 2],
            iso_path_table_size: 0,
            joliet_path_table: [0; 2],
            joliet_path_table_size: 0,
            boot_catalog: 0,
            partition_len: 0,
            next_unique_id,
            file_count: 0,
            dir_count: 0,
            system_area: Vec::new(),
            boot_info: Vec::new(),
        };
        plan.file_count = plan.nodes.iter().filter(|n| !n.is_dir).count() as u32;
        plan.dir_count = plan.nodes.len() as u32 - plan.file_count;
        plan.layout(&dfs, &boot_decl, &boot_files)?;
        Ok(plan)
    }

    fn layout(
        &mut self,
        dfs: &[usize],
        boot_decl: &[super::builder::BootEntry],
        boot_files: &[ResolvedBoot],
    ) -> Result<()> {
        let mut regions = vec![(0, Region::SystemArea), (16, Region::Pvd)];
        let mut next: u64 = 17;
        let take = |regions: &mut Vec<(u32, Region)>, next: &mut u64, r: Region, n: u64| {
            regions.push((*next as u32, r));
            *next += n;
        };
        if !boot_decl.is_empty() {
            take(&mut regions, &mut next, Region::BootRecord, 1);
        }
        if self.joliet {
            take(&mut regions, &mut next, Region::JolietSvd, 1);
        }
        take(&mut regions, &mut next, Region::Terminator, 1);
        if self.udf {
            for i in 0..3 {
                take(&mut regions, &mut next, Region::Vrs(i), 1);
            }
            regions.push((UDF_MAIN_VDS, Region::UdfVds(UDF_MAIN_VDS)));
            regions.push((UDF_RESERVE_VDS, Region::UdfVds(UDF_RESERVE_VDS)));
            regions.push((UDF_LVID, Region::UdfLvid));
            regions.push((UDF_ANCHOR, Region::UdfAnchor(UDF_ANCHOR)));
            next = u64::from(UDF_PARTITION_START);
            let p = next;
            take(&mut regions, &mut next, Region::UdfFsd, 2);
            for &n in dfs {
                self.nodes[n].udf_fe = (next - p) as u32;
                take(&mut regions, &mut next, Region::UdfFe(n), 1);
            }
            let dirs: Vec<usize> = dfs
                .iter()
                .copied()
                .filter(|&n| self.nodes[n].is_dir)
                .collect();
            for n in dirs {
                let len = udf::fids_len(&self.nodes, n);
                if len > MAX_UDF_EXTENT {
                    return Err(Error::TooLarge {
                        reason: format!("UDF directory {:?} is over 1 GiB", self.nodes[n].path),
                    });
                }
                self.nodes[n].udf_dir = (next - p) as u32;
                self.nodes[n].udf_dir_len = len;
                take(&mut regions, &mut next, Region::UdfDir(n), sectors(len));
            }
        }

        // Path tables: their size depends only on the names.
        let iso_pt = ecma119::path_table(&self.nodes, &self.iso_bfs, false, false).len() as u64;
        self.iso_path_table_size = iso_pt as u32;
        for (i, msb) in [false, true].into_iter().enumerate() {
            self.iso_path_table[i] = next as u32;
            take(
                &mut regions,
                &mut next,
                Region::PathTable { joliet: false, msb },
                sectors(iso_pt),
            );
        }
        if self.joliet {
            let j_pt = ecma119::path_table(&self.nodes, &self.joliet_bfs, true, false).len() as u64;
            self.joliet_path_table_size = j_pt as u32;
            for (i, msb) in [false, true].into_iter().enumerate() {
                self.joliet_path_table[i] = next as u32;
                take(
                    &mut regions,
                    &mut next,
                    Region::PathTable { joliet: true, msb },
                    sectors(j_pt),
                );
            }
        }
        // Directory extents: their size depends only on names and file sizes.
        for joliet in [false, true] {
            if joliet && !self.joliet {
                continue;
            }
            let order = if joliet {
                self.joliet_bfs.clone()
            } else {
                self.iso_bfs.clone()
            };
            for d in order {
                let len = ecma119::dir_extent(&self.nodes, d, joliet, &self.time).len() as u64;
                let ext = Extent {
                    lba: next as u32,
                    len: u32::try_from(len).map_err(|_| Error::TooLarge {
                        reason: format!("directory {:?} is over 4 GiB", self.nodes[d].path),
                    })?,
                };
                let region = if joliet {
                    self.nodes[d].joliet_dir = ext;
                    Region::JolietDir(d)
                } else {
                    self.nodes[d].iso_dir = ext;
                    Region::IsoDir(d)
                };
                take(&mut regions, &mut next, region, sectors(len));
            }
        }
        if !boot_decl.is_empty() {
            self.boot_catalog = next as u32;
            take(&mut regions, &mut next, Region::BootCatalog, 1);
        }
        for (i, entry) in boot_decl.iter().enumerate() {
            let ResolvedBoot {
                size, load_sectors, ..
            } = boot_files[i];
            let hidden = match &entry.image {
                BootImage::Hidden(bytes) => Some(bytes.clone()),
                BootImage::File(_) => None,
            };
            let lba = if hidden.is_some() {
                let lba = next as u32;
                take(
                    &mut regions,
                    &mut next,
                    Region::HiddenBoot(i),
                    sectors(size),
                );
                lba
            } else {
                0 // patched below, once file data is placed
            };
            self.boot.push(PlannedBoot {
                platform: entry.platform,
                lba,
                size,
                load_sectors,
                hidden,
            });
        }
        let files: Vec<usize> = dfs
            .iter()
            .copied()
            .filter(|&n| !self.nodes[n].is_dir)
            .collect();
        for n in files {
            self.nodes[n].data_lba = u32::try_from(next).map_err(|_| too_big(next))?;
            let size = self.nodes[n].size;
            if self.udf && sectors(size).div_ceil(MAX_UDF_EXTENT / SECTOR_SIZE) > udf::MAX_SHORT_ADS
            {
                return Err(Error::TooLarge {
                    reason: format!(
                        "{:?} has {size} bytes, more than one UDF file entry maps",
                        self.nodes[n].path
                    ),
                });
            }
            // Empty files get a region too, so their source is checked to be empty.
            take(&mut regions, &mut next, Region::FileData(n), sectors(size));
        }
        for (i, resolved) in boot_files.iter().enumerate() {
            if let Some(f) = resolved.file {
                self.boot[i].lba = self.nodes[f].data_lba;
            }
        }
        if self.udf {
            self.partition_len =
                u32::try_from(next - u64::from(UDF_PARTITION_START)).map_err(|_| too_big(next))?;
            let anchor = u32::try_from(next).map_err(|_| too_big(next))?;
            take(&mut regions, &mut next, Region::UdfAnchor(anchor), 1);
        }
        self.total_sectors = u32::try_from(next).map_err(|_| too_big(next))?;
        regions.sort_by_key(|&(lba, _)| lba);
        self.regions = regions;
        Ok(())
    }
}

fn too_big(sectors: u64) -> Error {
    Error::TooLarge {
        reason: format!("{sectors} sectors; ISO 9660 counts at most 2^32"),
    }
}

fn check_label(label: &str) -> Result<String> {
    let bad = |reason| Error::Label {
        label: label.to_owned(),
        reason,
    };
    if label.is_empty() {
        return Err(bad("empty"));
    }
    if label.chars().count() > 32 {
        return Err(bad("longer than 32 characters"));
    }
    if label.chars().any(|c| c.is_control()) {
        return Err(bad("control characters are not allowed"));
    }
    Ok(label.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iso::{BootEntry, IsoOptions};

    fn options() -> IsoOptions {
        IsoOptions {
            timestamp: Some(0),
            ..IsoOptions::default()
        }
    }

    #[test]
    fn sector_map_of_a_small_bootable_image() {
        let mut b = IsoBuilder::new(options());
        b.add_file("boot/etfsboot.com", 2048, Box::new(vec![0u8; 2048]))
            .unwrap();
        b.add_boot_entry(BootEntry::bios(BootImage::File("boot/etfsboot.com".into())));
        let plan = b.plan().unwrap();
        let head: Vec<(u32, Region)> = plan.regions.iter().copied().take(13).collect();
        assert_eq!(
            head,
            [
                (0, Region::SystemArea),
                (16, Region::Pvd),
                (17, Region::BootRecord),
                (18, Region::JolietSvd),
                (19, Region::Terminator),
                (20, Region::Vrs(0)),
                (21, Region::Vrs(1)),
                (22, Region::Vrs(2)),
                (32, Region::UdfVds(32)),
                (48, Region::UdfVds(48)),
                (64, Region::UdfLvid),
                (256, Region::UdfAnchor(256)),
                (257, Region::UdfFsd),
            ]
        );
        let last = plan.total_sectors - 1;
        assert_eq!(plan.regions.last(), Some(&(last, Region::UdfAnchor(last))));
        assert_eq!(plan.partition_len, last - UDF_PARTITION_START);
        // Regions are in order and the file data is the last thing before the anchor.
        assert!(plan.regions.windows(2).all(|w| w[0].0 <= w[1].0));
        let file = plan.file_extent("boot/etfsboot.com").unwrap();
        assert_eq!(file.offset / SECTOR_SIZE, u64::from(last) - 1);
        assert_eq!(plan.boot_images()[0].offset, file.offset);
    }

    #[test]
    fn without_udf_and_joliet_only_iso9660_remains() {
        let b = IsoBuilder::new(IsoOptions {
            udf: false,
            joliet: false,
            ..options()
        });
        let plan = b.plan().unwrap();
        assert!(plan.regions.iter().all(|(_, r)| !matches!(
            r,
            Region::JolietSvd | Region::Vrs(_) | Region::UdfFsd | Region::UdfAnchor(_)
        )));
        assert_eq!(plan.regions[2], (17, Region::Terminator));
    }

    /// A source that must never be opened: planning reads no data.
    struct Unopened;

    impl DataSource for Unopened {
        fn open(&self) -> std::io::Result<Box<dyn std::io::Read + '_>> {
            panic!("plan() must not open sources")
        }
    }

    use crate::source::DataSource;

    #[test]
    fn extents_per_file_size() {
        // (size, ISO 9660 directory records, UDF short allocation descriptors)
        let table: &[(u64, usize, usize)] = &[
            (0, 1, 0),
            (1, 1, 1),
            (MAX_UDF_EXTENT, 1, 1),
            (MAX_UDF_EXTENT + 1, 1, 2),
            (MAX_ISO_EXTENT, 1, 5),
            (MAX_ISO_EXTENT + 1, 2, 5),
            (9 << 30, 3, 10),
        ];
        let mut b = IsoBuilder::new(options());
        for (i, &(size, _, _)) in table.iter().enumerate() {
            b.add_file(&format!("f{i}"), size, Box::new(Unopened))
                .unwrap();
        }
        let plan = b.plan().unwrap();
        let root = ecma119::dir_extent(&plan.nodes, 0, false, &plan.time);
        for (i, &(size, records, ads)) in table.iter().enumerate() {
            let id = format!("F{i}.;1");
            let mut count = 0;
            let mut total = 0u64;
            let mut at = 0;
            while at < root.len() {
                let len = usize::from(root[at]);
                if len == 0 {
                    at = (at / 2048 + 1) * 2048;
                    continue;
                }
                let r = &root[at..at + len];
                if &r[33..33 + usize::from(r[32])] == id.as_bytes() {
                    count += 1;
                    total += u64::from(u32::from_le_bytes([r[10], r[11], r[12], r[13]]));
                    let last = count == records;
                    assert_eq!(r[25] & 0x80 == 0, last, "{id} record {count} flags");
                }
                at += len;
            }
            assert_eq!((count, total), (records, size), "{id}");
            let node = plan
                .nodes
                .iter()
                .position(|n| n.name == format!("f{i}"))
                .unwrap();
            let fe = udf::file_entry(&plan, node);
            let l_ad = u32::from_le_bytes([fe[172], fe[173], fe[174], fe[175]]) as usize;
            assert_eq!(l_ad / 8, ads, "{id} allocation descriptors");
            let sum: u64 = (0..ads)
                .map(|k| {
                    u64::from(u32::from_le_bytes(
                        fe[176 + 8 * k..180 + 8 * k].try_into().unwrap(),
                    ))
                })
                .sum();
            assert_eq!(sum, size, "{id} UDF extent lengths");
        }
    }
}
