//! Split and join: a WIM cut into `.swm` parts of a bounded size, and parts joined back.

use super::split_plan::{PlannedPart, SplitPlan};
use super::{copy_image, inherit_options};
use crate::error::{Error, IoContext, Result};
use crate::output::AtomicFile;
use crate::read::Wim;
use crate::write::{WimWriter, WriteOptions, copy_range};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Splits `wim` into parts of at most `max_part` bytes (a part holding one larger blob may be
/// bigger): `first`, then `first` with 2, 3, ... before the extension. The layout is
/// [`SplitPlan`]'s.
pub fn split(wim: &Wim, first: &Path, max_part: u64) -> Result<Vec<PathBuf>> {
    if wim.header.pipable {
        // Parts are copied resource by resource: a pipable layout would not survive.
        return Err(crate::error::Error::Refused {
            reason: "split pipable WIMs are not supported: export it with --not-pipable first"
                .into(),
        });
    }
    let plan = SplitPlan::new(wim, &|_| max_part)?;
    let mut outs = Vec::with_capacity(plan.parts.len());
    // Every part is complete before any is renamed into place.
    for part in &plan.parts {
        outs.push(write_part(wim, &plan, part, part_name(first, part.number))?);
    }
    let mut names = Vec::with_capacity(outs.len());
    for out in outs {
        names.push(out.path().to_path_buf());
        out.commit()?;
    }
    Ok(names)
}

/// `base.swm`, `base2.swm`, `base3.swm`, ...
pub fn part_name(first: &Path, n: u16) -> PathBuf {
    if n == 1 {
        return first.to_path_buf();
    }
    let stem = first
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match first.extension() {
        Some(e) => format!("{stem}{n}.{}", e.to_string_lossy()),
        None => format!("{stem}{n}"),
    };
    first.with_file_name(name)
}

fn write_part(
    wim: &Wim,
    plan: &SplitPlan,
    part: &PlannedPart,
    path: PathBuf,
) -> Result<AtomicFile> {
    let mut out = AtomicFile::create(&path)?;
    out.file.write_all(&part.header.to_bytes()).at(&path)?;
    for r in &part.resources {
        copy_range(
            &wim.parts[r.source_part],
            r.source.offset,
            r.source.stored_size,
            &mut out.file,
            &path,
        )?;
    }
    out.file.write_all(&part.blob_table).at(&path)?;
    out.file.write_all(&plan.xml).at(&path)?;
    Ok(out)
}

/// Joins the parts of a split WIM into one WIM at `out`.
pub fn join(out: &Path, parts: &[PathBuf]) -> Result<()> {
    let first = parts.iter().find_map(|p| {
        Wim::open(p)
            .ok()
            .filter(|w| w.header.part_number == 1)
            .map(|w| (p.clone(), w))
    });
    let (first_path, mut wim) = first.ok_or(Error::NoFirstPart)?;
    for p in parts.iter().filter(|p| **p != first_path) {
        wim.add_ref(p)?;
    }
    wim.check_parts()?;
    let mut opts = inherit_options(&wim, WriteOptions::default(), false)?;
    opts.guid = Some(wim.header.guid);
    let mut w = WimWriter::create(out, opts)?;
    for i in 1..=wim.image_count() {
        copy_image(&wim, i, &mut w)?;
    }
    w.finish(wim.header.boot_index)
}
