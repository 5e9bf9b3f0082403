//! Extract: chosen files and trees of an image, given as paths or wildcard patterns, written
//! to a directory (under their own names, or under their whole path) or to a stream.

use super::load_image;
use crate::apply::{ApplyOptions, ApplyReport, apply_image};
use crate::dentry::Dentry;
use crate::error::{Error, Result};
use crate::metadata::Image;
use crate::read::Wim;
use std::io::Write;
use std::path::Path;

/// Which paths an extract takes and how they are matched.
#[derive(Clone, Debug, Default)]
pub struct ExtractSpec {
    /// Paths inside the image (`/` or `\` separated), each with whether its matches keep
    /// their whole path (as paths from wimlib's list files do); empty for the whole image.
    pub paths: Vec<(String, bool)>,
    /// `*` and `?` in a component match any run of characters / one character.
    pub wildcards: bool,
    /// A wildcard pattern that matches nothing is not an error.
    pub nullglob: bool,
    /// Names match without regard to case.
    pub ignore_case: bool,
    /// Every match is written under its whole path from the root, not its own name.
    pub preserve_dirs: bool,
}

/// A match: the dentries from the root's child down to the matched entry (empty: the root).
type Chain<'a> = Vec<&'a Dentry>;

fn components(p: &str) -> Vec<&str> {
    p.split(['/', '\\']).filter(|c| !c.is_empty()).collect()
}

fn has_wildcard(p: &str) -> bool {
    p.contains(['*', '?'])
}

fn name_matches(pattern: &str, name: &str, wildcards: bool, ignore_case: bool) -> bool {
    let (p, n) = if ignore_case {
        (pattern.to_lowercase(), name.to_lowercase())
    } else {
        (pattern.to_string(), name.to_string())
    };
    if !wildcards {
        return p == n;
    }
    crate::capture_config::wildcard_match(&p, &n)
}

/// The entries `pattern` names, in image order.
fn select<'a>(root: &'a Dentry, pattern: &str, spec: &ExtractSpec) -> Vec<Chain<'a>> {
    let mut current: Vec<Chain<'a>> = vec![Vec::new()];
    for comp in components(pattern) {
        let mut next = Vec::new();
        for chain in &current {
            let dir = chain.last().copied().unwrap_or(root);
            for c in &dir.children {
                if name_matches(comp, &c.name_lossy(), spec.wildcards, spec.ignore_case) {
                    let mut ch = chain.clone();
                    ch.push(c);
                    next.push(ch);
                }
            }
        }
        current = next;
    }
    current
}

/// Every match of every path of `spec` (the root alone when `spec.paths` is empty).
/// Each with whether it keeps its whole path.
fn matches<'a>(root: &'a Dentry, spec: &ExtractSpec, image: u32) -> Result<Vec<(Chain<'a>, bool)>> {
    if spec.paths.is_empty() {
        return Ok(vec![(Vec::new(), false)]);
    }
    let mut all = Vec::new();
    for (p, preserve) in &spec.paths {
        let found = select(root, p, spec);
        if found.is_empty() && !(spec.nullglob && spec.wildcards && has_wildcard(p)) {
            return Err(Error::NoSuchPath {
                path: p.clone(),
                image,
            });
        }
        all.extend(
            found
                .into_iter()
                .map(|c| (c, *preserve || spec.preserve_dirs)),
        );
    }
    Ok(all)
}

fn shell(d: &Dentry) -> Dentry {
    Dentry {
        children: Vec::new(),
        ..d.clone()
    }
}

/// Adds the chain to `tree` (its directories created as copies without their other entries).
fn insert_chain(tree: &mut Dentry, chain: &[&Dentry]) {
    let Some((first, rest)) = chain.split_first() else {
        return;
    };
    if rest.is_empty() {
        tree.children.retain(|c| c.name != first.name);
        tree.children.push((*first).clone());
        return;
    }
    let pos = match tree.children.iter().position(|c| c.name == first.name) {
        Some(p) => p,
        None => {
            tree.children.push(shell(first));
            tree.children.len() - 1
        }
    };
    insert_chain(&mut tree.children[pos], rest);
}

/// Extracts what `spec` names from image `image` into `dest`.
pub fn extract(
    wim: &Wim,
    image: u32,
    spec: &ExtractSpec,
    dest: &Path,
    opts: &ApplyOptions,
) -> Result<ApplyReport> {
    wim.check_parts()?;
    let img = load_image(wim, image)?;
    let chains = matches(&img.root, spec, image)?;
    let mut root = shell(&img.root);
    for (chain, preserve) in &chains {
        match chain.last() {
            None => root.children = img.root.children.clone(),
            Some(_) if *preserve => insert_chain(&mut root, chain),
            Some(last) => insert_chain(&mut root, &[*last]),
        }
    }
    root.sort_children();
    let selected = Image {
        security: img.security.clone(),
        root,
    };
    apply_image(wim, &selected, image, dest, opts, !spec.paths.is_empty())
}

/// Writes the data of the files `spec` names to `out`, one after the other; returns the bytes
/// written. Directories are refused.
pub fn extract_to(wim: &Wim, image: u32, spec: &ExtractSpec, out: &mut dyn Write) -> Result<u64> {
    wim.check_parts()?;
    let img = load_image(wim, image)?;
    let chains = matches(&img.root, spec, image)?;
    let mut total = 0u64;
    for (chain, _) in &chains {
        let d = chain.last().copied().unwrap_or(&img.root);
        if d.is_dir() {
            return Err(Error::Refused {
                reason: format!(
                    "{}: is a directory, which cannot go to standard output",
                    d.name_lossy()
                ),
            });
        }
        if d.data.is_zero() {
            continue;
        }
        let mut r = wim.open_blob(&d.data, true)?;
        loop {
            let s = r.next_slice(1 << 20)?;
            if s.is_empty() {
                break;
            }
            out.write_all(s).map_err(|e| Error::Io {
                path: "(standard output)".into(),
                source: e,
            })?;
            total += s.len() as u64;
        }
    }
    Ok(total)
}
