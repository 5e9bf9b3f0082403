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
    /// Add the file or tree at `source` as `dest` (a path inside the image, `/`-separated):
    /// a directory's contents are merged into a directory there; a file replaces a file
    /// there (refused with `no_replace`).
    Add {
        /// The file or folder on disk to capture.
        source: PathBuf,
        /// Where it goes in the image.
        dest: String,
        /// Refuse to replace a file already in the image.
        no_replace: bool,
    },
    /// Delete a file or tree.
    Delete {
        /// The path inside the image, `/`-separated.
        path: String,
        /// A missing path is not an error.
        force: bool,
        /// Delete a directory with what is under it (else a directory is refused). The root
        /// is emptied, not deleted.
        recursive: bool,
    },
    /// Move a file or tree (as POSIX `rename`: a file at `to` is replaced).
    Rename {
        /// The path inside the image.
        from: String,
        /// Its new path.
        to: String,
    },
}

fn refuse(reason: String) -> Error {
    Error::Refused { reason }
}

/// Applies `commands` to image `image` of the WIM at `path`; the WIM is rebuilt atomically
/// and keeps its integrity table when it had one.
pub fn update(
    path: &Path,
    image: u32,
    commands: &[UpdateCommand],
    unix_data: bool,
) -> Result<Vec<String>> {
    update_with(path, image, commands, unix_data, None)
}

/// [`update`], with an integrity table written or not (`None`: as the WIM had).
pub fn update_with(
    path: &Path,
    image: u32,
    commands: &[UpdateCommand],
    unix_data: bool,
    integrity: Option<bool>,
) -> Result<Vec<String>> {
    let old = Wim::open(path)?;
    old.check_parts()?;
    let mut opts = inherit_options(&old, WriteOptions::default(), false)?;
    super::keep_solid(&old, &mut opts)?;
    opts.integrity = integrity.unwrap_or(!old.header.integrity.is_zero());
    opts.guid = Some(old.header.guid);
    let mut w = WimWriter::create(path, opts)?;
    w.header.flags |= old.header.flags & crate::header::flags::RP_FIX;
    let mut warnings = Vec::new();
    for i in 1..=old.image_count() {
        if i != image {
            copy_image(&old, i, &mut w)?;
            continue;
        }
        let mut img = load_image(&old, i)?;
        for c in commands {
            match c {
                UpdateCommand::Delete {
                    path: p,
                    force,
                    recursive,
                } => delete(&mut img.root, p, *force, *recursive, i)?,
                UpdateCommand::Rename { from, to } => rename(&mut img.root, from, to, i)?,
                UpdateCommand::Add {
                    source,
                    dest,
                    no_replace,
                } => {
                    let (mut d, report) = capture::capture_tree(source, &mut w, unix_data)?;
                    warnings.extend(report.warnings);
                    let parts = split_path(dest)?;
                    match parts.split_last() {
                        None => {
                            if !d.is_dir() {
                                return Err(Error::Root);
                            }
                            merge_into(&mut img.root, d, *no_replace, dest)?;
                        }
                        Some((name, parents)) => {
                            let dir = find_dir(&mut img.root, parents, true)
                                .ok_or_else(|| Error::ParentNotDirectory { path: dest.clone() })?;
                            d.name = name.encode_utf16().collect();
                            match dir.children.iter_mut().find(|c| c.name == d.name) {
                                Some(existing) if existing.is_dir() && d.is_dir() => {
                                    merge_into(existing, d, *no_replace, dest)?
                                }
                                Some(existing) if existing.is_dir() != d.is_dir() => {
                                    return Err(refuse(format!(
                                        "add {}: {dest} is a {} in the image",
                                        source.display(),
                                        if existing.is_dir() {
                                            "directory"
                                        } else {
                                            "file"
                                        }
                                    )));
                                }
                                Some(_) if *no_replace => {
                                    return Err(refuse(format!(
                                        "add {}: {dest} exists in the image (--no-replace)",
                                        source.display()
                                    )));
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

fn merge_into(dir: &mut Dentry, src: Dentry, no_replace: bool, dest: &str) -> Result<()> {
    for c in src.children {
        match dir.children.iter_mut().find(|e| e.name == c.name) {
            Some(e) if e.is_dir() && c.is_dir() => merge_into(e, c, no_replace, dest)?,
            Some(e) if no_replace && !e.is_dir() => {
                return Err(refuse(format!(
                    "add: {} exists under {dest} in the image (--no-replace)",
                    e.name_lossy()
                )));
            }
            Some(e) => *e = c,
            None => dir.children.push(c),
        }
    }
    Ok(())
}

fn delete(root: &mut Dentry, p: &str, force: bool, recursive: bool, image: u32) -> Result<()> {
    let parts = split_path(p)?;
    let missing = || Error::NoSuchPath {
        path: p.to_string(),
        image,
    };
    let Some((name, parents)) = parts.split_last() else {
        if !recursive {
            return Err(refuse(format!(
                "delete {p}: the root is a directory (use --recursive)"
            )));
        }
        root.children.clear();
        return Ok(());
    };
    let name: Vec<u16> = name.encode_utf16().collect();
    let Some(dir) = find_dir(root, parents, false) else {
        return if force { Ok(()) } else { Err(missing()) };
    };
    let Some(pos) = dir.children.iter().position(|c| c.name == name) else {
        return if force { Ok(()) } else { Err(missing()) };
    };
    let d = &dir.children[pos];
    if d.is_dir() && !d.is_reparse_point() && !recursive {
        return Err(refuse(format!(
            "delete {p}: is a directory (use --recursive)"
        )));
    }
    dir.children.remove(pos);
    Ok(())
}

fn rename(root: &mut Dentry, from: &str, to: &str, image: u32) -> Result<()> {
    let src = split_path(from)?;
    let dst = split_path(to)?;
    let (Some((sname, sparents)), Some((dname, dparents))) = (src.split_last(), dst.split_last())
    else {
        return Err(Error::Root);
    };
    if dst.len() > src.len() && dst[..src.len()] == src[..] {
        return Err(refuse(format!(
            "rename {from} {to}: a directory cannot move into itself"
        )));
    }
    let sname: Vec<u16> = sname.encode_utf16().collect();
    let missing = || Error::NoSuchPath {
        path: from.to_string(),
        image,
    };
    let sdir = find_dir(root, sparents, false).ok_or_else(missing)?;
    let pos = sdir
        .children
        .iter()
        .position(|c| c.name == sname)
        .ok_or_else(missing)?;
    if src == dst {
        return Ok(());
    }
    let mut moved = sdir.children.remove(pos);
    let dir = find_dir(root, dparents, false).ok_or_else(|| Error::NoSuchPath {
        path: to.to_string(),
        image,
    })?;
    moved.name = dname.encode_utf16().collect();
    match dir.children.iter().position(|c| c.name == moved.name) {
        Some(p) => {
            let existing = &dir.children[p];
            if existing.is_dir() && !moved.is_dir() {
                return Err(refuse(format!("rename {from} {to}: {to} is a directory")));
            }
            if !existing.is_dir() && moved.is_dir() {
                return Err(refuse(format!(
                    "rename {from} {to}: {to} is not a directory"
                )));
            }
            if existing.is_dir() && !existing.children.is_empty() {
                return Err(refuse(format!("rename {from} {to}: {to} is not empty")));
            }
            dir.children[p] = moved;
        }
        None => dir.children.push(moved),
    }
    Ok(())
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
