//! `sources/boot.wim`: the boot image with the media configuration and the runtime injected
//! through the WIM engine (blobs copied verbatim, new files added, one image written).
//!
//! Where things go, as in Configuration Manager's boot images (the boot image is mounted as
//! `X:\`): the runtime under `X:\SMS\bin\<arch>\` beside where Configuration Manager keeps
//! `TsBootShell.exe` and `TsmBootstrap.exe` (`i386` for x86, `x64`, `arm64`), and the media
//! configuration under `X:\SMS\data\` (`TsmBootstrap.ini`, `Variables.dat`, `docs/media.md`), the
//! same paths as on the media root, so the runtime reads `SMS/data/TsmBootstrap.ini` below
//! whichever root it started from (`tsmedia client run --media X:\`).
//! `Windows\System32` is left to Windows PE.

use std::fs::File;
use std::path::Path;
use tsmedia_base::Cancel;

use sha2::{Digest, Sha256};
use tsmedia_site::Arch;

use tsmedia_wim::xml::Element;
use tsmedia_wim::{Wim, WimWriter, WriteOptions, ops};

use crate::error::{IoContext, Result, wim};
use crate::plan::MediaPlan;

use super::runtime_cache;

/// The runtime's name inside the boot image.
pub const RUNTIME_NAME: &str = "tsmedia";

/// `SMS/bin/<arch>/tsmedia`: where the runtime goes in the boot image.
pub fn runtime_dest(arch: Arch) -> String {
    let dir = match arch {
        Arch::X86 => "i386",
        other => other.as_str(),
    };
    format!("SMS/bin/{dir}/{RUNTIME_NAME}")
}

/// WIM write options of a plan: fixed GUID and time in deterministic builds.
pub(super) fn write_options(plan: &MediaPlan, base: WriteOptions, cancel: &Cancel) -> WriteOptions {
    let mut o = base;
    o.cancel = cancel.clone();
    if let Some(t) = plan.fixed_time {
        o.timestamp = Some(unix_to_filetime(t));
    }
    if plan.reproducible {
        let mut h = Sha256::new();
        h.update(plan.seed);
        h.update(b"wim guid");
        let d = h.finalize();
        let mut g = [0u8; 16];
        g.copy_from_slice(&d[..16]);
        o.guid = Some(g);
    }
    o
}

/// FILETIME (100 ns since 1601) of UNIX seconds.
pub(super) fn unix_to_filetime(t: i64) -> u64 {
    ((t + 11_644_473_600).max(0) as u64) * 10_000_000
}

/// The plan's file time: fixed in deterministic builds, else now.
pub(super) fn file_time(plan: &MediaPlan) -> u64 {
    plan.fixed_time
        .map(unix_to_filetime)
        .unwrap_or_else(tsmedia_wim::write::filetime_now)
}

/// What goes into boot.wim besides the boot image.
pub(super) struct Injection<'a> {
    /// Small generated files: (path in the image, bytes).
    pub files: &'a [(&'a str, Vec<u8>)],
    /// The runtime executable, streamed from this file to `runtime_dest`.
    pub runtime: &'a Path,
    /// The site's cache folder, where the runtime is kept compressed between builds.
    pub cache: &'a Path,
}

/// Where the runtime's compressed bytes in boot.wim came from.
pub(super) enum RuntimeCopy {
    /// Copied from the site's cache (compressed into it by this build or an earlier one).
    Cached,
    /// Compressed by this build, for the reason given.
    Compressed(String),
}

/// Writes `out`: image `plan.boot_index` of `src` with `inject` added, in `src`'s compression.
pub(super) fn write(
    plan: &MediaPlan,
    src: &Wim,
    out: &Path,
    inject: &Injection<'_>,
    cancel: &Cancel,
) -> Result<RuntimeCopy> {
    let what = || format!("writing {}", out.display());
    let opts = ops::inherit_options(
        src,
        write_options(plan, WriteOptions::default(), cancel),
        false,
    )
    .map_err(wim(what()))?;
    let opts = write_options(plan, opts, cancel);
    let mut image = ops::load_image(src, plan.boot_index).map_err(wim("reading the boot image"))?;
    let mut w = WimWriter::create(out, opts.clone()).map_err(wim(what()))?;
    let mut hashes = Vec::new();
    image.root.walk(&mut |_, d| hashes.extend(d.blobs()));
    let mut locs = Vec::new();
    for h in hashes {
        if let Some(l) = src.blobs.get(&h) {
            locs.push(l);
        }
    }
    // In file order, so the source is read sequentially.
    locs.sort_by_key(|l| (l.part, l.entry.resource.offset));
    for l in locs {
        if !w.has_blob(&l.entry.sha1) {
            w.copy_blob(src, l).map_err(wim(what()))?;
        }
    }
    let t = file_time(plan);
    for (path, bytes) in inject.files {
        let sha = w
            .write_blob(&mut &bytes[..], bytes.len() as u64, None, Path::new(path))
            .map_err(wim(what()))?;
        image.root.insert_file(path, sha, t);
    }
    let rt = inject.runtime;
    let (sha, copy) = match runtime_cache::get(inject.cache, rt, &opts)? {
        Ok(c) => {
            let loc = c.wim.blobs.get(&c.sha1).ok_or_else(|| {
                wim(what())(tsmedia_wim::Error::MissingBlob {
                    sha1: c.sha1,
                    user: None,
                })
            })?;
            let sha = w.copy_blob(&c.wim, loc).map_err(wim(what()))?;
            (sha, RuntimeCopy::Cached)
        }
        Err(why) => {
            let mut f = File::open(rt).at(rt)?;
            let size = f.metadata().at(rt)?.len();
            let sha = w.write_blob(&mut f, size, None, rt).map_err(wim(what()))?;
            (sha, RuntimeCopy::Compressed(why))
        }
    };
    image
        .root
        .insert_file(&runtime_dest(plan.boot_arch), sha, t);
    image.root.sort_children();
    let xml = src
        .image_xml(plan.boot_index)
        .cloned()
        .unwrap_or_else(|| Element::new("IMAGE"));
    w.add_image(&image, xml).map_err(wim(what()))?;
    w.finish(1).map_err(wim(what()))?;
    Ok(copy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_goes_where_configuration_manager_keeps_its_binaries() {
        assert_eq!(runtime_dest(Arch::X64), "SMS/bin/x64/tsmedia");
        assert_eq!(runtime_dest(Arch::X86), "SMS/bin/i386/tsmedia");
        assert_eq!(runtime_dest(Arch::Arm64), "SMS/bin/arm64/tsmedia");
    }
}
