//! wimlib's multi-source capture (`wimcapture --source-list`): an image assembled from several
//! files and directories, each placed at its own path in the image.
//!
//! The list has one entry a line, `SOURCE [TARGET]`, separated by whitespace; either may be
//! quoted with `"` or `'` (no escapes). TARGET defaults to SOURCE; its leading and trailing
//! slashes are ignored unless it is all slashes, which names the image root. Blank lines and
//! lines whose first non-blank character is `#` are ignored. Directories that several sources
//! share are merged (an overlay); a later non-directory replaces an earlier one; a directory
//! and a non-directory at the same path are refused, as wimlib refuses them.

use crate::capture::{CaptureOptions, CaptureReport, capture_tree_fixing};
use crate::dentry::{Dentry, attr};
use crate::error::{Error, Result};
use crate::metadata::Image;
use crate::security::SecurityData;
use crate::write::{WimWriter, filetime_now};
use crate::xml::Element;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// One line of a source list: a path on disk and where it goes in the image (`""`: the root).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// File or directory to capture.
    pub source: PathBuf,
    /// Its path in the image, without leading or trailing slashes (`""` for the root).
    pub target: String,
}

/// Parses a source list; `what` names it in errors.
pub fn parse(text: &str, what: &Path) -> Result<Vec<Source>> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields = split_fields(line).ok_or_else(|| Error::Source {
            path: what.to_path_buf(),
            reason: format!("line {}: unterminated quote", n + 1),
        })?;
        let (source, target) = match fields.as_slice() {
            [s] => (s.clone(), s.clone()),
            [s, t] => (s.clone(), t.clone()),
            _ => {
                return Err(Error::Source {
                    path: what.to_path_buf(),
                    reason: format!("line {}: expected SOURCE [TARGET], got {line:?}", n + 1),
                });
            }
        };
        let trimmed = target.trim_matches('/');
        out.push(Source {
            source: PathBuf::from(source),
            target: trimmed.to_string(),
        });
    }
    Ok(out)
}

/// Splits a line into whitespace-separated fields, each possibly quoted with `"` or `'`.
fn split_fields(line: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&c) = chars.peek() else {
            return Some(fields);
        };
        let mut f = String::new();
        if c == '"' || c == '\'' {
            chars.next();
            loop {
                match chars.next() {
                    Some(q) if q == c => break,
                    Some(x) => f.push(x),
                    None => return None,
                }
            }
        } else {
            while let Some(&x) = chars.peek() {
                if x.is_whitespace() {
                    break;
                }
                f.push(x);
                chars.next();
            }
        }
        fields.push(f);
    }
}

/// Captures the sources of a list as one new image of `writer`. `name` defaults to the list
/// file's name (the CLI passes it). With `opts.rpfix`, sources placed at the root get reparse
/// point fixups against their own directory, the others none (as wimlib).
pub fn capture_list(
    sources: &[Source],
    writer: &mut WimWriter,
    opts: &CaptureOptions,
    default_name: &str,
) -> Result<CaptureReport> {
    let now = filetime_now();
    let new_dir = |name: &str| Dentry {
        name: name.encode_utf16().collect(),
        attributes: attr::DIRECTORY,
        security_id: -1,
        creation_time: now,
        last_write_time: now,
        last_access_time: now,
        ..Dentry::default()
    };
    let mut root: Option<Dentry> = None;
    let mut report = CaptureReport::default();
    let mut fixed = false;
    for s in sources {
        let meta = std::fs::metadata(&s.source).map_err(|e| Error::Io {
            path: s.source.clone(),
            source: e,
        })?;
        let rpfix = (opts.rpfix && s.target.is_empty()).then(|| (meta.dev(), meta.ino()));
        fixed |= rpfix.is_some();
        let (mut d, r) = capture_tree_fixing(
            &s.source,
            writer,
            opts.unix_data,
            opts.config.as_ref(),
            rpfix,
        )?;
        report.dirs += r.dirs;
        report.files += r.files;
        report.bytes += r.bytes;
        report.warnings.extend(r.warnings);
        // Hard link groups are numbered per capture: keep each source's apart.
        if let Some(existing) = &root {
            let base = max_group(existing);
            renumber(&mut d, base);
        }
        let overlay = |why: &str| Error::Source {
            path: s.source.clone(),
            reason: format!("cannot be placed at /{}: {why}", s.target),
        };
        let parts: Vec<&str> = s.target.split('/').filter(|p| !p.is_empty()).collect();
        let Some((name, parents)) = parts.split_last() else {
            if !d.is_dir() || d.is_reparse_point() {
                return Err(overlay("only a directory can be the image root"));
            }
            d.name.clear();
            match &mut root {
                None => root = Some(d),
                Some(r) => merge(r, d).map_err(|p| overlay(&p))?,
            }
            continue;
        };
        let r = root.get_or_insert_with(|| new_dir(""));
        let mut dir = r;
        for p in parents {
            let n: Vec<u16> = p.encode_utf16().collect();
            let pos = match dir.children.iter().position(|c| c.name == n) {
                Some(i) if dir.children[i].is_dir() && !dir.children[i].is_reparse_point() => i,
                Some(_) => return Err(overlay(&format!("{p} is not a directory in the image"))),
                None => {
                    dir.children.push(new_dir(p));
                    dir.children.len() - 1
                }
            };
            dir = &mut dir.children[pos];
        }
        d.name = name.encode_utf16().collect();
        place(dir, d).map_err(|p| overlay(&p))?;
    }
    let Some(mut root) = root else {
        return Err(Error::Source {
            path: PathBuf::from(default_name),
            reason: "the source list names no source".into(),
        });
    };
    sort_all(&mut root);
    if fixed {
        writer.header.flags |= crate::header::flags::RP_FIX;
    }
    let mut xml = Element::new("IMAGE");
    xml.children.push(Element::with_text(
        "NAME",
        opts.name
            .clone()
            .unwrap_or_else(|| default_name.to_string()),
    ));
    if let Some(d) = &opts.description {
        xml.children
            .push(Element::with_text("DESCRIPTION", d.clone()));
    }
    let image = Image {
        security: SecurityData::default(),
        root,
    };
    writer.add_image(&image, xml)?;
    Ok(report)
}

/// Places `d` in `dir`: merged with a directory of the same name, replacing a non-directory.
fn place(dir: &mut Dentry, d: Dentry) -> std::result::Result<(), String> {
    let is_dir = |x: &Dentry| x.is_dir() && !x.is_reparse_point();
    match dir.children.iter_mut().find(|c| c.name == d.name) {
        None => dir.children.push(d),
        Some(e) if is_dir(e) && is_dir(&d) => merge(e, d)?,
        Some(e) if !is_dir(e) && !is_dir(&d) => *e = d,
        Some(e) => {
            return Err(format!(
                "{} would be both a directory and a file",
                e.name_lossy()
            ));
        }
    }
    Ok(())
}

/// Merges the children of directory `src` into directory `into`.
fn merge(into: &mut Dentry, src: Dentry) -> std::result::Result<(), String> {
    for c in src.children {
        place(into, c)?;
    }
    Ok(())
}

fn max_group(d: &Dentry) -> u64 {
    d.children
        .iter()
        .map(max_group)
        .fold(d.hard_link_group, u64::max)
}

fn renumber(d: &mut Dentry, base: u64) {
    if d.hard_link_group != 0 {
        d.hard_link_group += base;
    }
    for c in &mut d.children {
        renumber(c, base);
    }
}

fn sort_all(d: &mut Dentry) {
    for c in &mut d.children {
        sort_all(c);
    }
    d.sort_children();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_wimlib_lines() {
        let text =
            "in.dir /\n5      /5\n# comment\n\n   \n \"overlay dir 1\"\t\t'otherdir'  \t\nsolo\n";
        let l = parse(text, Path::new("list")).expect("valid");
        let got: Vec<(&str, &str)> = l
            .iter()
            .map(|s| (s.source.to_str().expect("utf-8"), s.target.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("in.dir", ""),
                ("5", "5"),
                ("overlay dir 1", "otherdir"),
                ("solo", "solo")
            ]
        );
        assert!(parse("\"open\n", Path::new("list")).is_err());
        assert!(parse("a b c\n", Path::new("list")).is_err());
        assert_eq!(parse("x ////\n", Path::new("l")).expect("ok")[0].target, "");
    }
}
