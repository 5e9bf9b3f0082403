//! Update: files added to or deleted from one image; the WIM is rebuilt atomically.

use super::{copy_blobs_of, copy_image, inherit_options, load_image};
use crate::capture;
use crate::dentry::{Dentry, attr};
use crate::error::{Error, Result};
use crate::read::Wim;
use crate::write::{WimWriter, WriteOptions};
use crate::xml::Element;
use std::path::{Path, PathBuf};

/// One change of `update`.
#[derive(Clone, Debug)]
pub enum UpdateCommand {
    /// Add the file or tree at `source` as `dest` (a path inside the image, `/`-separated);
    /// replaces what is there.
    Add {
        /// The file or folder on disk to capture.
        source: PathBuf,
        /// Where it goes in the image.
        dest: String,
    },
    /// Delete a file or tree.
    Delete {
        /// The path inside the image, `/`-separated.
        path: String,
    },
}

/// Applies `commands` to image `image` of the WIM at `path`; the WIM is rebuilt atomically.
pub fn update(
    path: &Path,
    image: u32,
    commands: &[UpdateCommand],
    unix_data: bool,
) -> Result<Vec<String>> {
    let old = Wim::open(path)?;
    old.check_parts()?;
    let opts = inherit_options(&old, WriteOptions::default(), false)?;
    let mut w = WimWriter::create(path, opts)?;
    let mut warnings = Vec::new();
    for i in 1..=old.image_count() {
        if i != image {
            copy_image(&old, i, &mut w)?;
            continue;
        }
        let mut img = load_image(&old, i)?;
        for c in commands {
            match c {
                UpdateCommand::Delete { path: p } => {
                    let parts = split_path(p)?;
                    let (name, parents) = parts.split_last().ok_or(Error::Root)?;
                    let dir = find_dir(&mut img.root, parents, false).ok_or_else(|| {
                        Error::NoSuchPath {
                            path: p.clone(),
                            image: i,
                        }
                    })?;
                    let before = dir.children.len();
                    dir.children
                        .retain(|c| c.name != name.encode_utf16().collect::<Vec<_>>());
                    if dir.children.len() == before {
                        return Err(Error::NoSuchPath {
                            path: p.clone(),
                            image: i,
                        });
                    }
                }
                UpdateCommand::Add { source, dest } => {
                    let (mut d, report) = capture::capture_tree(source, &mut w, unix_data)?;
                    warnings.extend(report.warnings);
                    let parts = split_path(dest)?;
                    match parts.split_last() {
                        None => {
                            if !d.is_dir() {
                                return Err(Error::Root);
                            }
                            merge_into(&mut img.root, d);
                        }
                        Some((name, parents)) => {
                            let dir = find_dir(&mut img.root, parents, true)
                                .ok_or_else(|| Error::ParentNotDirectory { path: dest.clone() })?;
                            d.name = name.encode_utf16().collect();
                            match dir.children.iter_mut().find(|c| c.name == d.name) {
                                Some(existing) if existing.is_dir() && d.is_dir() => {
                                    merge_into(existing, d)
                                }
                                Some(existing) => *existing = d,
                                None => dir.children.push(d),
                            }
                        }
                    }
                }
            }
        }
        img.root.sort_children();
        copy_blobs_of(&old, &img.root, &mut w)?;
        let xml = old
            .image_xml(i)
            .cloned()
            .unwrap_or_else(|| Element::new("IMAGE"));
        w.add_image(&img, xml)?;
    }
    w.finish(old.header.boot_index)?;
    Ok(warnings)
}

fn merge_into(dir: &mut Dentry, src: Dentry) {
    for c in src.children {
        match dir.children.iter_mut().find(|e| e.name == c.name) {
            Some(e) if e.is_dir() && c.is_dir() => merge_into(e, c),
            Some(e) => *e = c,
            None => dir.children.push(c),
        }
    }
}

fn split_path(p: &str) -> Result<Vec<String>> {
    let parts: Vec<String> = p
        .split(['/', '\\'])
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if parts.iter().any(|s| s == "." || s == "..") {
        return Err(Error::DotInImagePath {
            path: p.to_string(),
        });
    }
    Ok(parts)
}

fn find_dir<'a>(root: &'a mut Dentry, parts: &[String], create: bool) -> Option<&'a mut Dentry> {
    let mut d = root;
    for p in parts {
        let name: Vec<u16> = p.encode_utf16().collect();
        let pos = match d.children.iter().position(|c| c.name == name) {
            Some(pos) => pos,
            None if create => {
                let mut nd = Dentry {
                    name,
                    attributes: attr::DIRECTORY,
                    security_id: -1,
                    ..Dentry::default()
                };
                nd.creation_time = d.creation_time;
                nd.last_write_time = d.last_write_time;
                nd.last_access_time = d.last_access_time;
                d.children.push(nd);
                d.children.len() - 1
            }
            None => return None,
        };
        d = &mut d.children[pos];
        if !d.is_dir() || d.is_reparse_point() {
            return None;
        }
    }
    Some(d)
}
