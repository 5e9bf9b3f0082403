//! The declared files and directories as three ordered trees (ISO 9660, Joliet, UDF).

use super::builder::{DeclKind, DeclNode};
use super::error::{Error, Result};
use super::names::{iso_identifiers, iso_order, joliet_identifiers, udf_identifier};
use super::source::DataSource;

/// A file or directory with its place in every tree.
pub(crate) struct Node {
    pub name: String,
    pub path: String,
    pub parent: usize,
    pub is_dir: bool,
    pub size: u64,
    pub source: Option<Box<dyn DataSource>>,
    /// Children ordered by their original names.
    pub children: Vec<usize>,
    pub iso_id: Vec<u8>,
    pub joliet_id: Vec<u16>,
    pub udf_id: Vec<u8>,
    pub iso_children: Vec<usize>,
    pub joliet_children: Vec<usize>,
    /// Files: first sector of the data.
    pub data_lba: u32,
    pub iso_dir: Extent,
    pub joliet_dir: Extent,
    /// Path table directory numbers (1 = root).
    pub iso_number: u16,
    pub joliet_number: u16,
    /// UDF: block of the file entry and of the directory data, relative to the partition.
    pub udf_fe: u32,
    pub udf_dir: u32,
    pub udf_dir_len: u64,
    pub unique_id: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Extent {
    pub lba: u32,
    pub len: u32,
}

/// All nodes (0 is the root) with their traversal orders.
pub(crate) struct Tree {
    pub nodes: Vec<Node>,
    /// Directories breadth first in ISO 9660 order: path table order, numbers 1, 2, ...
    pub iso_bfs: Vec<usize>,
    /// The same in Joliet order.
    pub joliet_bfs: Vec<usize>,
    /// Every node depth first by original name: the order of UDF file entries and file data.
    pub dfs: Vec<usize>,
}

impl Tree {
    pub fn new(decl: Vec<DeclNode>) -> Result<Self> {
        let mut nodes: Vec<Node> = decl.into_iter().map(Node::from_decl).collect();
        name_children(&mut nodes);
        let iso_bfs = bfs(&nodes, |n| &n.iso_children);
        let joliet_bfs = bfs(&nodes, |n| &n.joliet_children);
        if iso_bfs.len() > usize::from(u16::MAX) {
            return Err(Error::TooLarge {
                reason: format!("{} directories; path tables hold 65535", iso_bfs.len()),
            });
        }
        for (i, &d) in iso_bfs.iter().enumerate() {
            nodes[d].iso_number = (i + 1) as u16;
        }
        for (i, &d) in joliet_bfs.iter().enumerate() {
            nodes[d].joliet_number = (i + 1) as u16;
        }
        let dfs = dfs(&nodes);
        // UDF unique ids: 0 for the root, 16 and up for the rest (UDF 3.2.1.1).
        for (i, &n) in dfs.iter().enumerate() {
            nodes[n].unique_id = if n == 0 { 0 } else { 15 + i as u64 };
        }
        Ok(Tree {
            nodes,
            iso_bfs,
            joliet_bfs,
            dfs,
        })
    }
}

impl Node {
    fn from_decl(d: DeclNode) -> Self {
        let (is_dir, size, source, children) = match d.kind {
            DeclKind::Dir { children } => (true, 0, None, children),
            DeclKind::File { size, source } => (false, size, Some(source), Vec::new()),
        };
        Node {
            udf_id: udf_identifier(&d.name),
            name: d.name,
            path: d.path,
            parent: d.parent,
            is_dir,
            size,
            source,
            children,
            iso_id: vec![0],
            joliet_id: vec![0],
            iso_children: Vec::new(),
            joliet_children: Vec::new(),
            data_lba: 0,
            iso_dir: Extent::default(),
            joliet_dir: Extent::default(),
            iso_number: 0,
            joliet_number: 0,
            udf_fe: 0,
            udf_dir: 0,
            udf_dir_len: 0,
            unique_id: 0,
        }
    }
}

/// Orders every directory's children and gives them their ISO 9660 and Joliet names.
fn name_children(nodes: &mut [Node]) {
    for d in 0..nodes.len() {
        if !nodes[d].is_dir {
            continue;
        }
        let mut children = std::mem::take(&mut nodes[d].children);
        children.sort_by(|&a, &b| nodes[a].name.cmp(&nodes[b].name));
        let pairs: Vec<(&str, bool)> = children
            .iter()
            .map(|&c| (nodes[c].name.as_str(), nodes[c].is_dir))
            .collect();
        let iso = iso_identifiers(&pairs);
        let joliet = joliet_identifiers(&pairs);
        for ((&c, i), j) in children.iter().zip(iso).zip(joliet) {
            nodes[c].iso_id = i;
            nodes[c].joliet_id = j;
        }
        let mut iso_children = children.clone();
        iso_children.sort_by(|&a, &b| iso_order(&nodes[a].iso_id, &nodes[b].iso_id));
        let mut joliet_children = children.clone();
        joliet_children.sort_by(|&a, &b| nodes[a].joliet_id.cmp(&nodes[b].joliet_id));
        let n = &mut nodes[d];
        n.children = children;
        n.iso_children = iso_children;
        n.joliet_children = joliet_children;
    }
}

/// Directories breadth first, each level's children in `order` (ECMA-119 6.9.1).
fn bfs(nodes: &[Node], order: impl Fn(&Node) -> &Vec<usize>) -> Vec<usize> {
    let mut out = vec![0];
    let mut i = 0;
    while i < out.len() {
        let d = out[i];
        out.extend(
            order(&nodes[d])
                .iter()
                .copied()
                .filter(|&c| nodes[c].is_dir),
        );
        i += 1;
    }
    out
}

/// All nodes depth first, pre-order, children by original name.
fn dfs(nodes: &[Node]) -> Vec<usize> {
    let mut out = Vec::with_capacity(nodes.len());
    let mut stack = vec![0];
    while let Some(n) = stack.pop() {
        out.push(n);
        stack.extend(nodes[n].children.iter().rev());
    }
    out
}
