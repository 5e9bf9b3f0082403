//! Phase one: from a declared tree and options to a complete layout — geometry, short names,
//! directory sizes and every cluster — with all limits checked before a byte is written.

use super::dirent::FatTimestamp;
use super::error::{Error, Result};
use super::geometry::{
    FatType, Geometry, GeometryError, SECTOR_SIZE, auto_fat_type, default_sectors_per_cluster,
};
use super::name::{ShortNameGenerator, exact_short_name, fold, lfn_entry_count};
use super::tree::{FatTree, NodeId, NodeKind, ROOT};

/// Most entries one directory may hold (fatgen103 §6: a directory is at most 2 MiB).
pub const MAX_DIR_ENTRIES: u64 = 65_536;

/// How to build a FAT volume. `Default` gives a reproducible volume of the smallest size that
/// holds the content, with the FAT type and cluster size chosen as Microsoft's format does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FatOptions {
    /// Volume label, at most 11 characters valid in short names (lower case is upper-cased).
    /// Stored in the boot sector and as a root-directory entry. Default: none ("NO NAME").
    pub label: Option<String>,
    /// Volume serial number. Default: derived from the label, timestamp and declared tree,
    /// so that the same input gives the same bytes.
    pub volume_id: Option<u32>,
    /// Timestamp of every directory entry. Default: 1980-01-01 00:00:00.
    pub timestamp: FatTimestamp,
    /// Cluster size in bytes (a power of two from 512 to 65536). Default: by volume size, as
    /// Microsoft's format chooses (fatgen103 tables).
    pub cluster_size: Option<u32>,
    /// FAT type. Default: by volume size — FAT12 up to ≈4 MiB, FAT16 up to 512 MiB, FAT32 above.
    pub fat_type: Option<FatType>,
    /// Volume size in bytes, a multiple of 512. Default: the smallest size (a multiple of
    /// 16 KiB) that holds the content.
    pub volume_size: Option<u64>,
    /// Sectors before the volume on its disk (the partition's start LBA), recorded in the boot
    /// sector for BIOS boot code. Default: 0.
    pub hidden_sectors: u32,
}

/// Layout of one declared node.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Placement {
    pub short: [u8; 11],
    /// Whether long-name entries precede the short entry.
    pub long: bool,
    /// First cluster (0 for empty files and the FAT12/16 root).
    pub first_cluster: u32,
    pub clusters: u32,
    /// Directory entries (directories only).
    pub entries: u32,
}

/// A planned volume, ready to be written with [`FatPlan::write`].
#[derive(Debug)]
pub struct FatPlan {
    pub(crate) tree: FatTree,
    pub(crate) geometry: Geometry,
    pub(crate) placements: Vec<Placement>,
    /// Nodes that own clusters, in cluster order (the data region is written in this order).
    pub(crate) allocation: Vec<NodeId>,
    pub(crate) used_clusters: u32,
    pub(crate) label: Option<[u8; 11]>,
    pub(crate) volume_id: u32,
    pub(crate) timestamp: FatTimestamp,
    pub(crate) hidden_sectors: u32,
}

impl FatTree {
    /// Plans the volume: see [`FatPlan::new`].
    pub fn plan(self, options: &FatOptions) -> Result<FatPlan> {
        FatPlan::new(self, options)
    }
}

impl FatPlan {
    /// Computes the whole layout and checks every limit: file sizes (≤ 4 GiB − 1), directory
    /// sizes, names, label, cluster counts of the FAT type, and that the content fits the
    /// requested size (the error then gives the size needed).
    pub fn new(mut tree: FatTree, options: &FatOptions) -> Result<FatPlan> {
        let label = options.label.as_deref().map(parse_label).transpose()?;
        if let Some(size) = options.cluster_size
            && (!size.is_power_of_two() || !(512..=65_536).contains(&size))
        {
            return Err(Error::InvalidOption(format!(
                "cluster size {size}: must be a power of two from 512 to 65536"
            )));
        }
        for node in &tree.nodes {
            if let NodeKind::File { size, .. } = node.kind
                && size > u64::from(u32::MAX)
            {
                return Err(Error::FileTooLarge {
                    path: node.path.clone(),
                    size,
                });
            }
        }
        let mut placements = name_entries(&mut tree, label.is_some())?;
        let demand = Demand::of(&tree, &placements);
        let geometry = solve(&demand, options)?;
        if geometry.fat_type != FatType::Fat32
            && u64::from(placements[ROOT].entries) > u64::from(geometry.root_entries)
        {
            return Err(Error::DirectoryTooLarge {
                path: "/".into(),
                entries: placements[ROOT].entries.into(),
                max: geometry.root_entries.into(),
            });
        }
        let (allocation, used_clusters) = allocate(&tree, &mut placements, &geometry);
        let volume_id = options
            .volume_id
            .unwrap_or_else(|| derive_volume_id(&tree, label.as_ref(), options.timestamp));
        Ok(FatPlan {
            tree,
            geometry,
            placements,
            allocation,
            used_clusters,
            label,
            volume_id,
            timestamp: options.timestamp,
            hidden_sectors: options.hidden_sectors,
        })
    }

    /// Gives the declared tree back, e.g. to plan it again with other options.
    pub fn into_tree(self) -> FatTree {
        self.tree
    }

    /// Where a declared file's data lies in the volume: `(byte offset, size)`. Files are
    /// stored contiguously, so this is the whole file (boot loaders can load it by sector).
    /// `None` for a path not declared as a file; an empty file has offset 0.
    pub fn file_extent(&self, path: &str) -> Option<(u64, u64)> {
        let id = self.tree.find(path)?;
        let NodeKind::File { size, .. } = self.tree.nodes[id].kind else {
            return None;
        };
        let p = &self.placements[id];
        if p.clusters == 0 {
            return Some((0, size));
        }
        let sector = u64::from(self.geometry.data_start())
            + u64::from(p.first_cluster - 2) * u64::from(self.geometry.sectors_per_cluster);
        Some((sector * u64::from(SECTOR_SIZE), size))
    }

    /// The computed geometry.
    pub fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    /// The FAT type chosen.
    pub fn fat_type(&self) -> FatType {
        self.geometry.fat_type
    }

    /// Size of the volume in bytes: exactly what [`FatPlan::write`] writes.
    pub fn total_bytes(&self) -> u64 {
        self.geometry.total_bytes()
    }

    /// Cluster size in bytes.
    pub fn cluster_bytes(&self) -> u32 {
        self.geometry.cluster_bytes()
    }

    /// The volume serial number.
    pub fn volume_id(&self) -> u32 {
        self.volume_id
    }

    /// Clusters in use by directories and files.
    pub fn used_clusters(&self) -> u32 {
        self.used_clusters
    }

    /// Bytes left free on the volume.
    pub fn free_bytes(&self) -> u64 {
        u64::from(self.geometry.cluster_count - self.used_clusters)
            * u64::from(self.geometry.cluster_bytes())
    }
}

fn parse_label(label: &str) -> Result<[u8; 11]> {
    let err = |reason| Error::InvalidLabel {
        label: label.into(),
        reason,
    };
    if label.is_empty() || label.len() > 11 {
        return Err(err("must be 1 to 11 characters"));
    }
    if label.starts_with(' ') {
        return Err(err("must not start with a space"));
    }
    let mut out = [b' '; 11];
    for (i, c) in label.chars().enumerate() {
        let upper = c.to_ascii_uppercase();
        let ok = upper == ' ' || (upper != '.' && exact_short_name(&upper.to_string()).is_some());
        if !ok {
            return Err(err("only A-Z, 0-9, space and $%'-_@~`!(){}^#& are allowed"));
        }
        out[i] = upper as u8;
    }
    Ok(out)
}

/// Sorts every directory's children (by folded name, then name), assigns short names
/// (exact 8.3 names first, so they are never displaced by a generated one) and counts the
/// directory entries of every directory.
fn name_entries(tree: &mut FatTree, has_label: bool) -> Result<Vec<Placement>> {
    let mut placements = vec![
        Placement {
            short: [b' '; 11],
            long: false,
            first_cluster: 0,
            clusters: 0,
            entries: 0,
        };
        tree.nodes.len()
    ];
    for dir in 0..tree.nodes.len() {
        let mut children = match &tree.nodes[dir].kind {
            NodeKind::Dir { children } => children.clone(),
            NodeKind::File { .. } => continue,
        };
        children.sort_by_cached_key(|&c| (fold(&tree.nodes[c].name), tree.nodes[c].name.clone()));
        let mut generator = ShortNameGenerator::default();
        let mut pending = Vec::new();
        for &child in &children {
            match exact_short_name(&tree.nodes[child].name) {
                Some(short) => {
                    generator.reserve(short);
                    placements[child].short = short;
                }
                None => pending.push(child),
            }
        }
        let mut entries: u64 = if dir == ROOT { u64::from(has_label) } else { 2 };
        for &child in &pending {
            let name = &tree.nodes[child].name;
            placements[child].short =
                generator
                    .generate(name)
                    .ok_or_else(|| Error::DirectoryTooLarge {
                        path: tree.nodes[dir].path.clone(),
                        entries: children.len() as u64,
                        max: 999_999,
                    })?;
            placements[child].long = true;
            entries += lfn_entry_count(name) as u64;
        }
        entries += children.len() as u64;
        if entries > MAX_DIR_ENTRIES {
            return Err(Error::DirectoryTooLarge {
                path: tree.nodes[dir].path.clone(),
                entries,
                max: MAX_DIR_ENTRIES,
            });
        }
        placements[dir].entries = entries as u32;
        if let NodeKind::Dir { children: stored } = &mut tree.nodes[dir].kind {
            *stored = children;
        }
    }
    Ok(placements)
}

/// What the content asks of the data region.
struct Demand {
    /// Entries of each directory other than the root.
    dir_entries: Vec<u32>,
    root_entries: u32,
    file_sizes: Vec<u64>,
}

impl Demand {
    fn of(tree: &FatTree, placements: &[Placement]) -> Demand {
        let mut demand = Demand {
            dir_entries: Vec::new(),
            root_entries: placements[ROOT].entries,
            file_sizes: Vec::new(),
        };
        for (id, node) in tree.nodes.iter().enumerate().skip(1) {
            match node.kind {
                NodeKind::Dir { .. } => demand.dir_entries.push(placements[id].entries),
                NodeKind::File { size, .. } => demand.file_sizes.push(size),
            }
        }
        demand
    }

    fn clusters(&self, fat_type: FatType, cluster_bytes: u32) -> u64 {
        let cb = u64::from(cluster_bytes);
        let dir = |entries: u32| (u64::from(entries) * 32).div_ceil(cb).max(1);
        let root = if fat_type == FatType::Fat32 {
            dir(self.root_entries)
        } else {
            0
        };
        root + self.dir_entries.iter().map(|&e| dir(e)).sum::<u64>()
            + self.file_sizes.iter().map(|s| s.div_ceil(cb)).sum::<u64>()
    }

    /// Root entries of a FAT12/16 volume: 224 (FAT12, as on floppies) or 512, or more when
    /// the root holds more, in whole sectors.
    fn fixed_root_entries(&self, fat_type: FatType) -> u32 {
        let default = if fat_type == FatType::Fat12 { 224 } else { 512 };
        self.root_entries.next_multiple_of(16).max(default)
    }
}

/// Chooses the geometry: for the requested size, or the smallest that fits the demand.
fn solve(demand: &Demand, options: &FatOptions) -> Result<Geometry> {
    let spc_forced = options.cluster_size.map(|b| b / SECTOR_SIZE);
    let try_size = |sectors: u64| -> Result<(Geometry, u64), GeometryError> {
        let fat_type = options.fat_type.unwrap_or_else(|| auto_fat_type(sectors));
        // Where Microsoft's table refuses the size, still try: the cluster-count check then
        // names the problem.
        let spc = spc_forced
            .or_else(|| default_sectors_per_cluster(fat_type, sectors))
            .unwrap_or(if sectors < 1 << 20 { 1 } else { 128 });
        let root = demand.fixed_root_entries(fat_type);
        let g = Geometry::compute(fat_type, sectors, spc, root)?;
        let needed = demand.clusters(fat_type, g.cluster_bytes());
        Ok((g, needed))
    };
    if let Some(bytes) = options.volume_size {
        if bytes % u64::from(SECTOR_SIZE) != 0 {
            return Err(Error::InvalidOption(format!(
                "volume size {bytes} is not a multiple of 512"
            )));
        }
        let (g, needed) = try_size(bytes / u64::from(SECTOR_SIZE))?;
        if needed > u64::from(g.cluster_count) {
            let minimal = solve(
                demand,
                &FatOptions {
                    volume_size: None,
                    ..options.clone()
                },
            )
            .map(|m| m.total_bytes())
            .unwrap_or(
                bytes + (needed - u64::from(g.cluster_count)) * u64::from(g.cluster_bytes()),
            );
            return Err(Error::VolumeTooSmall {
                available: bytes,
                needed: minimal.max(bytes + 1),
            });
        }
        return Ok(g);
    }
    // Grow from a small size until the content fits; each step adds at least the deficit.
    const STEP: u64 = 32; // 16 KiB granularity keeps the size a multiple of common track sizes
    let mut sectors: u64 = 128;
    for _ in 0..1000 {
        match try_size(sectors) {
            Ok((g, needed)) if needed <= u64::from(g.cluster_count) => return Ok(g),
            Ok((g, needed)) => {
                let deficit = needed - u64::from(g.cluster_count);
                let fat_growth = g.fat_type.fat_bytes(deficit).div_ceil(512) * 2;
                sectors += deficit * u64::from(g.sectors_per_cluster) + fat_growth + 1;
            }
            Err(GeometryError::ClusterCount {
                clusters,
                min,
                sectors_per_cluster,
                ..
            }) if clusters < u64::from(min) => {
                sectors += (u64::from(min) - clusters) * u64::from(sectors_per_cluster) + 1;
            }
            Err(GeometryError::NoDataRegion { .. }) => sectors *= 2,
            Err(e) => return Err(e.into()),
        }
        sectors = sectors.next_multiple_of(STEP);
    }
    Err(Error::InvalidOption(
        "could not find a volume size that holds the content with these options".into(),
    ))
}

/// Gives clusters to the root (FAT32), then depth-first to each directory, its files, and its
/// subdirectories, in the sorted order. All runs are contiguous.
fn allocate(
    tree: &FatTree,
    placements: &mut [Placement],
    geometry: &Geometry,
) -> (Vec<NodeId>, u32) {
    let cb = u64::from(geometry.cluster_bytes());
    let mut order = Vec::new();
    let mut next = 2u32;
    let mut stack = vec![ROOT];
    while let Some(dir) = stack.pop() {
        let NodeKind::Dir { children } = &tree.nodes[dir].kind else {
            continue;
        };
        let mut give = |id: NodeId, bytes: u64, placements: &mut [Placement]| {
            let clusters = bytes.div_ceil(cb) as u32;
            if clusters > 0 {
                placements[id].first_cluster = next;
                placements[id].clusters = clusters;
                next += clusters;
                order.push(id);
            }
        };
        if dir != ROOT || geometry.fat_type == FatType::Fat32 {
            let bytes = (u64::from(placements[dir].entries) * 32).max(1);
            give(dir, bytes, placements);
        }
        for &child in children {
            if let NodeKind::File { size, .. } = tree.nodes[child].kind {
                give(child, size, placements);
            }
        }
        let subdirs = children
            .iter()
            .copied()
            .filter(|&c| matches!(tree.nodes[c].kind, NodeKind::Dir { .. }));
        let subdirs: Vec<NodeId> = subdirs.collect();
        stack.extend(subdirs.into_iter().rev());
    }
    (order, next - 2)
}

/// FNV-1a over what the volume declares, for a reproducible default serial number.
fn derive_volume_id(tree: &FatTree, label: Option<&[u8; 11]>, ts: FatTimestamp) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(label.map_or(&[0u8; 11][..], |l| &l[..]));
    eat(&ts.date().to_le_bytes());
    eat(&ts.time().to_le_bytes());
    // In the sorted tree order, so that declaration order does not matter.
    let mut stack = vec![ROOT];
    while let Some(id) = stack.pop() {
        let node = &tree.nodes[id];
        eat(node.path.as_bytes());
        match &node.kind {
            NodeKind::File { size, .. } => eat(&size.to_le_bytes()),
            NodeKind::Dir { children } => stack.extend(children.iter().rev()),
        }
        eat(&[0]);
    }
    (h ^ (h >> 32)) as u32
}
