//! The runtime, compressed once and kept in the site's cache.
//!
//! Every media build puts the runtime (the tsmedia executable, ~17 MB) into `sources/boot.wim`.
//! Compressing it with LZX costs more CPU than the rest of a bootable build together, and the
//! result depends only on the runtime's bytes, the compression settings and the compressor's
//! version. So it is compressed once into a one-file WIM under `<site>/cache/`, named after all
//! of those, and later builds copy its compressed resource into boot.wim verbatim
//! ([`WimWriter::copy_blob`]) — the same bytes a fresh compression would give, so deterministic
//! builds stay byte-identical. The cache is an optimisation only: when it cannot be read or
//! written, the build compresses the runtime itself.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use tsmedia_wim::dentry::{Dentry, attr};
use tsmedia_wim::metadata::Image;
use tsmedia_wim::security::SecurityData;
use tsmedia_wim::xml::Element;
use tsmedia_wim::{Sha1, Wim, WimWriter, WriteOptions};

use crate::error::{IoContext, Result};

/// A cached runtime: the WIM holding it and its SHA-1.
pub(super) struct CachedRuntime {
    pub wim: Wim,
    pub sha1: Sha1,
}

/// The cached copy of `runtime` compressed as `opts` says, made when missing. `None` when the
/// WIM is uncompressed (nothing to save) or the cache is unusable (`why` says so).
pub(super) fn get(
    cache_dir: &Path,
    runtime: &Path,
    opts: &WriteOptions,
) -> Result<std::result::Result<CachedRuntime, String>> {
    let Some(format) = opts.compression else {
        return Ok(Err("boot.wim is not compressed".into()));
    };
    let sha1 = sha1_of(runtime)?;
    let name = format!(
        "runtime-{}-{}-{}-{}-v{}.wim",
        sha1.hex(),
        format.to_string().to_ascii_lowercase(),
        opts.level,
        opts.chunk_size,
        env!("CARGO_PKG_VERSION"),
    );
    let path = cache_dir.join(name);
    let made = !path.is_file();
    if made && let Err(e) = make(cache_dir, &path, runtime, opts, sha1) {
        return Ok(Err(format!("cannot write {}: {e}", path.display())));
    }
    // Copied verbatim into boot.wim, so checked first: a damaged cache file must not reach media.
    match Wim::open(&path).and_then(|wim| verify(&wim, &sha1, made).map(|()| wim)) {
        Ok(wim) => Ok(Ok(CachedRuntime { wim, sha1 })),
        Err(e) => Ok(Err(format!("{} is unusable: {e}", path.display()))),
    }
}

/// Checks the cached runtime: a file just made is decompressed and its SHA-1 checked (the
/// compressor's output is right); later, its integrity table says whether any stored byte
/// changed since (~10 ms instead of ~0.2 s of decompression). A cache file without a table
/// (made by an older build) is decompressed every time.
fn verify(wim: &Wim, sha1: &Sha1, made: bool) -> tsmedia_wim::Result<()> {
    if !made && tsmedia_wim::ops::check_integrity(wim)? == wim.parts.len() {
        return wim.open_blob(sha1, false).map(drop);
    }
    let mut r = wim.open_blob(sha1, true)?;
    while !r.next_slice(1 << 20)?.is_empty() {}
    Ok(())
}

fn sha1_of(path: &Path) -> Result<Sha1> {
    let mut f = File::open(path).at(path)?;
    let mut h = tsmedia_wim::sha1::Hasher::default();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).at(path)?;
        if n == 0 {
            return Ok(h.finish());
        }
        h.update(&buf[..n]);
    }
}

/// Writes the one-file WIM (atomically: a failed write leaves nothing).
fn make(
    cache_dir: &Path,
    path: &Path,
    runtime: &Path,
    opts: &WriteOptions,
    sha1: Sha1,
) -> std::result::Result<(), String> {
    std::fs::create_dir_all(cache_dir).map_err(|e| e.to_string())?;
    let opts = WriteOptions {
        // Fixed, so the cache file itself does not vary between machines.
        guid: Some([0x75; 16]),
        timestamp: Some(0),
        // Lets later builds check the file cheaply (see `verify`).
        integrity: true,
        ..opts.clone()
    };
    let mut w = WimWriter::create(path, opts).map_err(|e| e.to_string())?;
    let mut f = File::open(runtime).map_err(|e| e.to_string())?;
    let size = f.metadata().map_err(|e| e.to_string())?.len();
    let got = w
        .write_blob(&mut f, size, None, runtime)
        .map_err(|e| e.to_string())?;
    if got != sha1 {
        return Err(format!("{} changed while it was read", runtime.display()));
    }
    let mut root = Dentry {
        attributes: attr::DIRECTORY,
        security_id: -1,
        ..Dentry::default()
    };
    root.insert_file(super::boot_wim::RUNTIME_NAME, sha1, 0);
    let image = Image {
        security: SecurityData::default(),
        root,
    };
    w.add_image(&image, Element::new("IMAGE"))
        .map_err(|e| e.to_string())?;
    w.finish(0).map_err(|e| e.to_string())
}

/// The cache folder of a site.
pub(super) fn dir(site_dir: &Path) -> PathBuf {
    site_dir.join("cache")
}
