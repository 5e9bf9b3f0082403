//! The declared content of a volume: directories and files with their sizes and sources.
//! Declaring reads no data; each source is opened once, when the volume is written.

use std::collections::HashMap;
use std::fmt;

use super::error::{Error, Result};
use super::name::{fold, validate_long_name};

/// Where a file's bytes come from: the crate-wide [`crate::DataSource`], so one source object
/// can feed a FAT volume or an ISO.
pub use crate::source::DataSource as FileSource;

pub(crate) type NodeId = usize;

pub(crate) enum NodeKind {
    Dir {
        children: Vec<NodeId>,
    },
    File {
        size: u64,
        source: Box<dyn FileSource>,
    },
}

pub(crate) struct Node {
    /// The name as declared (the long name).
    pub name: String,
    /// The full path, for error messages.
    pub path: String,
    pub parent: NodeId,
    pub kind: NodeKind,
}

/// The declared tree of a FAT volume. Paths use `/` as separator, are relative to the root,
/// and are compared case-insensitively, as FAT compares names. Parent directories are created
/// implicitly.
pub struct FatTree {
    pub(crate) nodes: Vec<Node>,
    /// (parent, folded name) → node.
    index: HashMap<(NodeId, String), NodeId>,
}

impl fmt::Debug for FatTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FatTree")
            .field("nodes", &self.nodes.len())
            .finish()
    }
}

impl Default for FatTree {
    fn default() -> Self {
        Self::new()
    }
}

/// The root directory's node id.
pub(crate) const ROOT: NodeId = 0;

impl FatTree {
    /// An empty tree (only the root directory).
    pub fn new() -> Self {
        FatTree {
            nodes: vec![Node {
                name: String::new(),
                path: String::new(),
                parent: ROOT,
                kind: NodeKind::Dir {
                    children: Vec::new(),
                },
            }],
            index: HashMap::new(),
        }
    }

    /// Declares a directory (and its parents). Declaring an existing directory again is allowed.
    pub fn add_dir(&mut self, path: &str) -> Result<()> {
        let parts = split(path)?;
        self.ensure_dirs(path, &parts)?;
        Ok(())
    }

    /// Declares a file of `size` bytes whose data `source` gives when the volume is written.
    /// Files over 4 GiB − 1 are refused when the volume is planned, naming the file.
    pub fn add_file(
        &mut self,
        path: &str,
        size: u64,
        source: impl FileSource + 'static,
    ) -> Result<()> {
        self.add_file_boxed(path, size, Box::new(source))
    }

    /// [`FatTree::add_file`] with an already boxed source.
    pub fn add_file_boxed(
        &mut self,
        path: &str,
        size: u64,
        source: Box<dyn FileSource>,
    ) -> Result<()> {
        let parts = split(path)?;
        let (name, dirs) = parts.split_last().ok_or_else(|| Error::InvalidPath {
            path: path.into(),
            reason: "a file needs a name".into(),
        })?;
        let parent = self.ensure_dirs(path, dirs)?;
        let key = (parent, fold(name));
        if self.index.contains_key(&key) {
            return Err(Error::Duplicate { path: path.into() });
        }
        let id = self.push(parent, name, NodeKind::File { size, source });
        self.index.insert(key, id);
        Ok(())
    }

    /// Number of declared files and directories (without the root).
    pub fn len(&self) -> usize {
        self.nodes.len() - 1
    }

    /// Whether nothing but the root is declared.
    pub fn is_empty(&self) -> bool {
        self.nodes.len() == 1
    }

    /// The node at `path` (compared case-insensitively), if declared.
    pub(crate) fn find(&self, path: &str) -> Option<NodeId> {
        let mut current = ROOT;
        for part in path.trim_matches('/').split('/') {
            current = *self.index.get(&(current, fold(part)))?;
        }
        Some(current)
    }

    fn push(&mut self, parent: NodeId, name: &str, kind: NodeKind) -> NodeId {
        let id = self.nodes.len();
        let path = if parent == ROOT {
            name.to_string()
        } else {
            format!("{}/{name}", self.nodes[parent].path)
        };
        self.nodes.push(Node {
            name: name.to_string(),
            path,
            parent,
            kind,
        });
        if let NodeKind::Dir { children } = &mut self.nodes[parent].kind {
            children.push(id);
        }
        id
    }

    fn ensure_dirs(&mut self, full: &str, parts: &[&str]) -> Result<NodeId> {
        let mut current = ROOT;
        for part in parts {
            let key = (current, fold(part));
            current = match self.index.get(&key) {
                Some(&id) => match self.nodes[id].kind {
                    NodeKind::Dir { .. } => id,
                    NodeKind::File { .. } => {
                        return Err(Error::ParentIsFile {
                            path: full.into(),
                            parent: self.nodes[id].path.clone(),
                        });
                    }
                },
                None => {
                    let id = self.push(
                        current,
                        part,
                        NodeKind::Dir {
                            children: Vec::new(),
                        },
                    );
                    self.index.insert(key, id);
                    id
                }
            };
        }
        Ok(current)
    }
}

fn split(path: &str) -> Result<Vec<&str>> {
    let trimmed = path.trim_matches('/');
    if trimmed.is_empty() {
        return Err(Error::InvalidPath {
            path: path.into(),
            reason: "empty path".into(),
        });
    }
    trimmed
        .split('/')
        .map(|part| {
            validate_long_name(part)
                .map(|()| part)
                .map_err(|reason| Error::InvalidPath {
                    path: path.into(),
                    reason,
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declare_and_detect_conflicts() {
        let mut t = FatTree::new();
        t.add_file("EFI/BOOT/BOOTX64.EFI", 3, b"abc".to_vec())
            .unwrap();
        t.add_dir("efi/boot").unwrap();
        assert_eq!(t.len(), 3);
        assert!(matches!(
            t.add_file("efi/Boot/bootx64.efi", 1, vec![0]),
            Err(Error::Duplicate { .. })
        ));
        assert!(matches!(
            t.add_dir("EFI/BOOT/BOOTX64.EFI/x"),
            Err(Error::ParentIsFile { .. })
        ));
        assert!(matches!(t.add_dir("a//b"), Err(Error::InvalidPath { .. })));
        assert!(matches!(t.add_dir("/"), Err(Error::InvalidPath { .. })));
        assert!(matches!(
            t.add_file("a?", 0, vec![]),
            Err(Error::InvalidPath { .. })
        ));
    }
}
