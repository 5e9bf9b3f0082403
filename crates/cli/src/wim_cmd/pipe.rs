//! wimlib's pipable WIMs on the command line: `-` as the WIM to write (standard output, always
//! pipable) or to read (standard input, `apply` and `extract`), and `--pipable` /
//! `--not-pipable` for `capture`, `append` and `export`.
//!
//! A pipable WIM is made by writing the normal WIM first (to a staging file beside the
//! destination, or in the temporary directory for standard output) and streaming it out in the
//! pipable layout, chunks copied as they are (`tsmedia_wim::write::pipable`).

use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::{Path, PathBuf};
use tsmedia_wim::Wim;
use tsmedia_wim::read::pipable::{SpooledWim, spool};
use tsmedia_wim::write::pipable::{PipableOptions, write_pipable, write_pipable_file};

/// Whether a WIM path means standard input or output.
pub fn is_std(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Refuses `-` where wimlib reads a WIM file (info, dir, verify, ...).
pub fn refuse_std(path: &Path) -> Result<()> {
    if is_std(path) {
        bail!(
            "`-` (standard input) is read only by `apply` and `extract`, from a pipable WIM: \
             give this command a WIM file"
        );
    }
    Ok(())
}

/// Whether the WIM at `path` is pipable (false when it does not exist or is not a WIM).
pub fn file_is_pipable(path: &Path) -> bool {
    let mut b = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut b))
        .is_ok()
        && &b == b"WLPWM\0\0\0"
}

/// A file the normal WIM is written to before it is streamed out pipable; removed when dropped.
pub struct Staging {
    pub path: PathBuf,
}

impl Staging {
    /// A staging name beside `dest` (or in the temporary directory when `dest` is `-`).
    pub fn for_dest(dest: &Path) -> Staging {
        let dir = if is_std(dest) {
            std::env::temp_dir()
        } else {
            match dest.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            }
        };
        let path = dir.join(format!(".tsmedia-pipable-{}.wim", std::process::id()));
        Staging { path }
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Streams the complete WIM at `normal` out as a pipable WIM to `dest` (`-`: standard output),
/// with an integrity table when `normal` has one.
pub fn emit(normal: &Path, dest: &Path) -> Result<()> {
    let wim = Wim::open(normal).with_context(|| format!("opening {}", normal.display()))?;
    let opts = PipableOptions {
        integrity: !wim.header.integrity.is_zero(),
    };
    if is_std(dest) {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
        write_pipable(&wim, &mut out, Path::new("standard output"), &opts)
            .context("writing the pipable WIM to standard output")?;
        out.flush().context("writing to standard output")?;
    } else {
        write_pipable_file(&wim, dest, &opts)
            .with_context(|| format!("writing the pipable WIM {}", dest.display()))?;
    }
    Ok(())
}

/// Rewrites the WIM at `path` in place as a pipable WIM (after an append or export to it).
pub fn make_pipable(path: &Path) -> Result<()> {
    emit(path, path)
}

/// A pipable WIM read from standard input into a staging file in `dir`.
pub fn from_stdin(dir: &Path) -> Result<SpooledWim> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    spool(&mut input, dir, Path::new("standard input"))
        .context("reading a pipable WIM from standard input")
}

/// The folder a staging copy of standard input goes to for an apply to `target`: beside it
/// (never inside it, where it would be part of the applied tree).
pub fn dir_for_target(target: &Path) -> PathBuf {
    match target.parent() {
        Some(p) if p.as_os_str().is_empty() => PathBuf::from("."),
        Some(p) if p.is_dir() => p.to_path_buf(),
        _ => std::env::temp_dir(),
    }
}
