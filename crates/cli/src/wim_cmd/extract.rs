//! `extract`: chosen files and trees of an image (paths, wildcard patterns or `@LISTFILE`s)
//! written to a directory or to standard output.

use super::common::{open_checked, print_warnings};
use super::pipe;
use anyhow::{Context, Result, bail};
use clap::Args;
use std::io::Read;
use std::path::PathBuf;
use tsmedia_base::Cancel;
use tsmedia_wim::apply::ApplyOptions;
use tsmedia_wim::ops::{self, ExtractSpec};

#[derive(Args)]
#[command(args_override_self = true)]
pub struct ExtractArgs {
    /// WIM file (first part of a split WIM); `-`: a pipable WIM from standard input
    wim: PathBuf,
    /// Image (index or name)
    image: String,
    /// Paths inside the image, wildcard patterns (* and ?), or @LISTFILE (@- for standard
    /// input) with one a line; none for the whole image
    paths: Vec<String>,
    /// Where to write (default: the current directory)
    #[arg(long, value_name = "DIR", default_value = ".")]
    dest_dir: PathBuf,
    /// Write the data of the files named to standard output
    #[arg(long, conflicts_with = "preserve_dir_structure")]
    to_stdout: bool,
    /// Keep each file's path from the image's root under DIR (default: its name alone)
    #[arg(long)]
    preserve_dir_structure: bool,
    /// Take * and ? literally
    #[arg(long, alias = "no-globs")]
    no_wildcards: bool,
    /// A pattern matching nothing is not an error
    #[arg(long)]
    nullglob: bool,
    /// The other parts of a split WIM, as a quoted glob
    #[arg(long = "ref")]
    refs: Vec<String>,
    /// Check the integrity table first (when the WIM has one)
    #[arg(long)]
    check: bool,
    /// Accepted: UNIX owners and modes stored in the WIM are restored
    #[arg(long)]
    unix_data: bool,
    /// Accepted: no security descriptors are restored on Linux
    #[arg(long)]
    no_acls: bool,
    /// Accepted: no security descriptors are restored on Linux
    #[arg(long)]
    strict_acls: bool,
}

/// The paths of the command line, with each `@LISTFILE` replaced by its lines (which keep
/// their whole path when extracted, as wimlib extracts them).
fn expand(paths: &[String]) -> Result<Vec<(String, bool)>> {
    let mut out = Vec::new();
    for p in paths {
        let Some(list) = p.strip_prefix('@') else {
            out.push((p.clone(), false));
            continue;
        };
        let mut text = String::new();
        if list == "-" {
            std::io::stdin()
                .read_to_string(&mut text)
                .context("reading the path list from standard input")?;
        } else {
            text = std::fs::read_to_string(list)
                .with_context(|| format!("reading the path list {list}"))?;
        }
        for line in text.lines() {
            let l = line.trim();
            if l.is_empty() || l.starts_with(';') || l.starts_with('#') {
                continue;
            }
            let l = ['"', '\'']
                .iter()
                .find_map(|q| l.strip_prefix(*q).and_then(|r| r.strip_suffix(*q)))
                .unwrap_or(l);
            out.push((l.to_string(), true));
        }
    }
    Ok(out)
}

pub fn extract(a: ExtractArgs, cancel: &Cancel) -> Result<()> {
    // Accepted because tsmedia already does what they ask (see their help).
    let _ = (a.unix_data, a.no_acls, a.strict_acls);
    let spooled;
    let opened;
    let wim = if pipe::is_std(&a.wim) {
        if !a.refs.is_empty() {
            bail!("--ref cannot be given when extracting from standard input (`-`)");
        }
        if a.paths.iter().any(|p| p == "@-") {
            bail!("standard input carries the WIM: the path list cannot be `@-` too");
        }
        spooled = pipe::from_stdin(&std::env::temp_dir())?;
        &spooled.wim
    } else {
        opened = open_checked(&a.wim, &a.refs, a.check)?;
        &opened
    };
    let image = wim.resolve_image(&a.image)?;
    let spec = ExtractSpec {
        paths: expand(&a.paths)?,
        wildcards: !a.no_wildcards,
        nullglob: a.nullglob,
        ignore_case: std::env::var("WIMLIB_IMAGEX_IGNORE_CASE").is_ok_and(|v| v == "1"),
        preserve_dirs: a.preserve_dir_structure,
    };
    if a.to_stdout {
        let mut out = std::io::stdout().lock();
        ops::extract_to(wim, image, &spec, &mut out)
            .with_context(|| format!("extracting from image {image} of {}", a.wim.display()))?;
        return Ok(());
    }
    let opts = ApplyOptions {
        cancel: cancel.clone(),
        ..Default::default()
    };
    let report = ops::extract(wim, image, &spec, &a.dest_dir, &opts).with_context(|| {
        format!(
            "extracting from image {image} of {} to {}",
            a.wim.display(),
            a.dest_dir.display()
        )
    })?;
    print_warnings(&report.warnings);
    Ok(())
}
