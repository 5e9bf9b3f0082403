//! `dir`: the paths of an image, one a line, as wimlib-imagex lists them; `--detailed` adds
//! each file's attributes, times and streams; `--json` is tsmedia's machine-readable form.

use super::common::open_with_refs;
use super::info_print::format_filetime;
use anyhow::{Result, bail};
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;
use tsmedia_wim::dentry::{Dentry, attr};
use tsmedia_wim::ops;

#[derive(Args)]
#[command(args_override_self = true)]
pub struct DirArgs {
    wim: PathBuf,
    /// Image (index or name); may be omitted for a one-image WIM
    image: Option<String>,
    #[arg(long = "ref")]
    refs: Vec<String>,
    /// List only this path and what is under it
    #[arg(long, value_name = "PATH")]
    path: Option<String>,
    /// List only the entry of --path, not what is under it
    #[arg(long, requires = "path")]
    one_file_only: bool,
    /// Attributes, times, hard link group and streams of every entry
    #[arg(long)]
    detailed: bool,
    /// Machine-readable output (tsmedia's)
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct DirEntry {
    path: String,
    kind: &'static str,
    size: u64,
    attributes: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    streams: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    short_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mode: Option<String>,
    security_id: i32,
}

/// The path of `d` below the entries of `stack` (the root is `/`).
fn path_of(stack: &[&Dentry], d: &Dentry) -> String {
    let mut path: String = stack
        .iter()
        .skip(1)
        .map(|p| format!("/{}", p.name_lossy()))
        .collect();
    if !stack.is_empty() {
        path.push('/');
        path.push_str(&d.name_lossy());
    }
    if path.is_empty() {
        path.push('/');
    }
    path
}

/// Whether `path` is `prefix` or below it (case-sensitive, `/`-separated).
fn under(path: &str, prefix: &str, only: bool) -> bool {
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() {
        return !only || path == "/";
    }
    path == prefix || !only && path.starts_with(prefix) && path[prefix.len()..].starts_with('/')
}

pub fn dir(a: DirArgs) -> Result<()> {
    let wim = open_with_refs(&a.wim, &a.refs)?;
    let i = match a.image.as_deref() {
        Some(spec) => wim.resolve_image(spec)?,
        None if wim.image_count() == 1 => 1,
        None => bail!(
            "{} has {} images: name one (index or name)",
            a.wim.display(),
            wim.image_count()
        ),
    };
    let img = ops::load_image(&wim, i)?;
    let wanted = a.path.as_deref().map(|p| {
        let p = p.replace('\\', "/");
        if p.starts_with('/') {
            p
        } else {
            format!("/{p}")
        }
    });
    let mut out = Vec::new();
    let mut found = false;
    img.root.walk(&mut |stack, d| {
        let path = path_of(stack, d);
        if let Some(w) = &wanted
            && !under(&path, w, a.one_file_only)
        {
            return;
        }
        found = true;
        out.push((path, d));
    });
    if !found {
        bail!("{}: no such path in image {i}", wanted.unwrap_or_default());
    }
    if a.json {
        let entries: Vec<DirEntry> = out.iter().map(|(p, d)| json_entry(&wim, p, d)).collect();
        println!("{}", serde_json::to_string_pretty(&entries)?);
        return Ok(());
    }
    for (path, d) in out {
        if a.detailed {
            print_detailed(&wim, &path, d);
        } else {
            println!("{path}");
        }
    }
    Ok(())
}

fn symlink_target(wim: &tsmedia_wim::Wim, d: &Dentry) -> Option<String> {
    d.is_symlink().then(|| {
        wim.open_blob(&d.reparse_data, true)
            .and_then(|r| r.read_all())
            .ok()
            .and_then(|b| tsmedia_wim::reparse::symlink_target(&b).ok())
            .unwrap_or_else(|| "?".into())
    })
}

fn json_entry(wim: &tsmedia_wim::Wim, path: &str, d: &Dentry) -> DirEntry {
    let kind = if d.is_symlink() {
        "symlink"
    } else if d.is_reparse_point() {
        "reparse-point"
    } else if d.is_dir() {
        "directory"
    } else {
        "file"
    };
    DirEntry {
        path: path.to_string(),
        kind,
        size: wim.blobs.get(&d.data).map(|l| l.size()).unwrap_or(0),
        attributes: d.attributes,
        target: symlink_target(wim, d),
        streams: d
            .named_streams
            .iter()
            .map(|(n, _)| String::from_utf16_lossy(n))
            .collect(),
        short_name: (!d.short_name.is_empty()).then(|| String::from_utf16_lossy(&d.short_name)),
        mode: d.unix.map(|u| format!("{:o}", u.mode)),
        security_id: d.security_id,
    }
}

const ATTRIBUTE_NAMES: &[(u32, &str)] = &[
    (attr::READONLY, "FILE_ATTRIBUTE_READONLY"),
    (attr::HIDDEN, "FILE_ATTRIBUTE_HIDDEN"),
    (attr::SYSTEM, "FILE_ATTRIBUTE_SYSTEM"),
    (attr::DIRECTORY, "FILE_ATTRIBUTE_DIRECTORY"),
    (attr::ARCHIVE, "FILE_ATTRIBUTE_ARCHIVE"),
    (attr::NORMAL, "FILE_ATTRIBUTE_NORMAL"),
    (attr::SPARSE_FILE, "FILE_ATTRIBUTE_SPARSE_FILE"),
    (attr::REPARSE_POINT, "FILE_ATTRIBUTE_REPARSE_POINT"),
    (attr::COMPRESSED, "FILE_ATTRIBUTE_COMPRESSED"),
    (attr::ENCRYPTED, "FILE_ATTRIBUTE_ENCRYPTED"),
];

fn print_detailed(wim: &tsmedia_wim::Wim, path: &str, d: &Dentry) {
    println!("{}", "-".repeat(76));
    println!("Full Path           = \"{path}\"");
    println!(
        "Short Name          = \"{}\"",
        String::from_utf16_lossy(&d.short_name)
    );
    println!("Attributes          = {:#010x}", d.attributes);
    for (bit, name) in ATTRIBUTE_NAMES {
        if d.attributes & bit != 0 {
            println!("    {name} is set");
        }
    }
    println!("Creation Time       = {}", format_filetime(d.creation_time));
    println!(
        "Last Write Time     = {}",
        format_filetime(d.last_write_time)
    );
    println!(
        "Last Access Time    = {}",
        format_filetime(d.last_access_time)
    );
    if d.is_reparse_point() {
        println!("Reparse Tag         = {:#010x}", d.reparse_tag);
    }
    if let Some(t) = symlink_target(wim, d) {
        println!("Symlink Target      = \"{t}\"");
    }
    println!("Link Group ID       = {:#018x}", d.hard_link_group);
    if let Some(u) = d.unix {
        println!(
            "UNIX Data           = uid:{} gid:{} mode:0{:o}",
            u.uid, u.gid, u.mode
        );
    }
    let mut streams = vec![("Unnamed data stream".to_string(), d.data)];
    for (n, h) in &d.named_streams {
        streams.push((
            format!("Named data stream \"{}\"", String::from_utf16_lossy(n)),
            *h,
        ));
    }
    for (what, h) in streams {
        println!("\t{what}:");
        println!("Hash              = 0x{h}");
        if let Some(l) = wim.blobs.get(&h) {
            println!("Uncompressed size = {} bytes", l.size());
        }
    }
    println!();
}
