//! What the `wim` commands share: compression and write options, opening a WIM with the other
//! parts of a split WIM, warnings.

use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::Path;
use tsmedia_base::{Cancel, Clock};
use tsmedia_codecs::Format;
use tsmedia_wim::{SolidOptions, Wim, WriteOptions};

/// Options of the commands that write a WIM (capture, append, export, optimize).
#[derive(Args, Clone, Default)]
pub struct WriteArgs {
    /// Compression: none, xpress (fast), lzx (maximum, the default as in DISM and wimlib), lzms
    /// (recovery), in any case, with an optional level on wimlib's scale, e.g. LZX:20 (fast)
    /// or lzx:100
    #[arg(long, value_name = "TYPE[:LEVEL]")]
    pub compress: Option<String>,
    /// Chunk size in bytes, or with a K, M or G suffix (a power of two; XPRESS 4K–64K, LZX
    /// 32K–2M, LZMS 32K–1G)
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub chunk_size: Option<u32>,
    /// Compress file data together in solid resources (an "ESD file"; far smaller, slower to
    /// write and to read one file from); the other resources then default to LZMS
    #[arg(long)]
    pub solid: bool,
    /// With --solid: compression of the solid resources (default LZMS), e.g. LZMS:100
    #[arg(long, value_name = "TYPE[:LEVEL]")]
    pub solid_compress: Option<String>,
    /// With --solid: chunk size of the solid resources (default 64M for LZMS, 32K otherwise)
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub solid_chunk_size: Option<u32>,
    /// With --solid: keep the read order instead of grouping files by extension and name
    #[arg(long)]
    pub no_solid_sort: bool,
    /// Write an integrity table (SHA-1 of every 10 MiB); an existing WIM's table is checked
    /// first
    #[arg(long)]
    pub check: bool,
    /// Write an integrity table without checking an existing one first
    #[arg(long)]
    pub include_integrity: bool,
    /// Write no integrity table, even when the WIM had one
    #[arg(long, conflicts_with_all = ["check", "include_integrity"])]
    pub nocheck: bool,
    /// Compression threads (default: all cores)
    #[arg(long)]
    pub threads: Option<usize>,
    /// Reproducible output: fixed GUID and times (also set by SOURCE_DATE_EPOCH)
    #[arg(long)]
    pub deterministic: bool,
    /// Write a wimlib pipable WIM, which can be applied from a pipe (`-` as WIMFILE: to
    /// standard output); Microsoft's tools do not read it. A pipable WIM stays pipable when
    /// appended or exported to
    #[arg(long)]
    pub pipable: bool,
    /// Write the normal (not pipable) format even when the WIM was pipable
    #[arg(long, conflicts_with = "pipable")]
    pub not_pipable: bool,
}

impl WriteArgs {
    /// Whether an integrity table is asked for (`--check` or `--include-integrity`).
    pub fn integrity_wanted(&self) -> bool {
        self.check || self.include_integrity
    }

    /// The integrity table of a WIM that had one when `had` is true: kept unless `--nocheck`.
    pub fn integrity_given(&self, had: bool) -> bool {
        !self.nocheck && (had || self.integrity_wanted())
    }
}

/// Parses `none`, `xpress`, `lzx`, `lzms`, wimlib's `fast`/`maximum`/`recovery`, with an
/// optional `:LEVEL`, case-insensitively.
pub fn parse_compression(s: &str) -> Result<(Option<Format>, Option<u32>)> {
    let lower = s.to_ascii_lowercase();
    let (name, level) = match lower.split_once(':') {
        Some((n, l)) => (
            n.to_string(),
            Some(
                l.parse::<u32>()
                    .with_context(|| format!("bad compression level in {s:?}"))?,
            ),
        ),
        None => (lower.clone(), None),
    };
    let format = match name.as_str() {
        "none" => None,
        "xpress" | "fast" => Some(Format::Xpress),
        "lzx" | "maximum" => Some(Format::Lzx),
        "lzms" | "recovery" => Some(Format::Lzms),
        _ => bail!("unknown compression {s:?} (none, xpress, lzx, lzms, lzx:LEVEL)"),
    };
    if format.is_none() && level.is_some() {
        bail!("--compress={s}: no level can be given to uncompressed output");
    }
    Ok((format, level))
}

/// A size in bytes with an optional K, M or G suffix (KiB, MiB, GiB also accepted), as
/// wimlib-imagex reads `--chunk-size`.
pub fn parse_size(s: &str) -> Result<u32, String> {
    let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let n: u64 = s[..digits]
        .parse()
        .map_err(|_| format!("{s:?} is not a size (a number with an optional K, M or G)"))?;
    let shift = match &s[digits..] {
        "" => 0,
        "k" | "K" | "KiB" | "kiB" => 10,
        "m" | "M" | "MiB" | "miB" => 20,
        "g" | "G" | "GiB" | "giB" => 30,
        other => return Err(format!("{s:?}: unknown suffix {other:?} (K, M or G)")),
    };
    match n
        .checked_shl(shift)
        .filter(|&v| v > 0 && v < u64::from(u32::MAX))
    {
        Some(v) => Ok(v as u32),
        None => Err(format!(
            "{s:?} is not a chunk size between 1 byte and 4 GiB"
        )),
    }
}

/// The solid options `--solid`, `--solid-compress` and `--solid-chunk-size` ask for (None
/// without `--solid`; the other two then do nothing, as in wimlib).
pub fn solid_options(w: &WriteArgs) -> Result<Option<SolidOptions>> {
    if !w.solid {
        return Ok(None);
    }
    let (compression, level) = parse_compression(w.solid_compress.as_deref().unwrap_or("lzms"))?;
    let Some(format) = compression else {
        bail!("--solid-compress=none: solid resources are always compressed");
    };
    let chunk_size = w.solid_chunk_size.unwrap_or(match format {
        Format::Lzms => 1 << 26,
        _ => 1 << 15,
    });
    Ok(Some(SolidOptions {
        compression,
        level: level.unwrap_or(50),
        chunk_size,
        sort: !w.no_solid_sort,
    }))
}

/// Write options from the command line; LZX when no compression is given (LZMS with
/// `--solid`, as wimlib).
pub fn write_options(w: &WriteArgs, cancel: &Cancel) -> Result<WriteOptions> {
    let default = if w.solid { "lzms" } else { "lzx" };
    let (compression, level) = parse_compression(w.compress.as_deref().unwrap_or(default))?;
    let mut o = WriteOptions {
        compression,
        cancel: cancel.clone(),
        integrity: w.integrity_wanted(),
        ..WriteOptions::default()
    };
    if let Some(l) = level {
        o.level = l;
    }
    o.chunk_size = match (w.chunk_size, compression) {
        (Some(c), _) => c,
        (None, Some(f)) => f.default_chunk_size() as u32,
        (None, None) => 0,
    };
    if let Some(t) = w.threads {
        o.threads = t.max(1);
    }
    o.solid = solid_options(w)?;
    if let Some(t) = Clock::from_environment(w.deterministic)?.fixed() {
        o.timestamp = Some(tsmedia_wim::time::unix_to_filetime(t, 0));
        o.guid = Some(*b"tsmedia-determin");
    }
    Ok(o)
}

pub fn print_warnings(w: &[String]) {
    for w in w {
        eprintln!("warning: {w}");
    }
}

/// Opens a WIM and the split parts matching `refs` globs.
pub fn open_with_refs(path: &Path, refs: &[String]) -> Result<Wim> {
    super::pipe::refuse_std(path)?;
    let mut wim = Wim::open(path).with_context(|| format!("opening {}", path.display()))?;
    for pattern in refs {
        let mut any = false;
        for p in glob::glob(pattern).with_context(|| format!("bad --ref pattern {pattern:?}"))? {
            let p = p?;
            any = true;
            wim.add_ref(&p)
                .with_context(|| format!("adding part {}", p.display()))?;
        }
        if !any {
            bail!("--ref {pattern:?} matches no file");
        }
    }
    Ok(wim)
}

/// Opens a WIM, checking its integrity table first when `check` (wimlib's `--check`).
pub fn open_checked(path: &Path, refs: &[String], check: bool) -> Result<Wim> {
    let wim = open_with_refs(path, refs)?;
    if check && !wim.header.integrity.is_zero() {
        tsmedia_wim::ops::check_integrity(&wim)
            .with_context(|| format!("checking the integrity table of {}", path.display()))?;
    }
    Ok(wim)
}

/// The images an IMAGE argument names: an index, a name or `all`.
pub fn resolve_images(wim: &Wim, spec: &str) -> Result<Vec<u32>> {
    if spec.eq_ignore_ascii_case("all") || spec == "*" {
        return Ok((1..=wim.image_count()).collect());
    }
    Ok(vec![wim.resolve_image(spec)?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_names_in_any_case() {
        assert_eq!(parse_compression("LZX").unwrap(), (Some(Format::Lzx), None));
        assert_eq!(
            parse_compression("maximum").unwrap(),
            (Some(Format::Lzx), None)
        );
        assert_eq!(
            parse_compression("Fast").unwrap(),
            (Some(Format::Xpress), None)
        );
        assert_eq!(
            parse_compression("XPRESS").unwrap(),
            (Some(Format::Xpress), None)
        );
        assert_eq!(parse_compression("None").unwrap(), (None, None));
        assert_eq!(
            parse_compression("LZMS").unwrap(),
            (Some(Format::Lzms), None)
        );
        assert_eq!(
            parse_compression("LZX:20").unwrap(),
            (Some(Format::Lzx), Some(20))
        );
        assert!(parse_compression("zip").is_err());
        assert_eq!(parse_size("32768"), Ok(32768));
        assert_eq!(parse_size("64M"), Ok(1 << 26));
        assert_eq!(parse_size("32KiB"), Ok(32768));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert!(parse_size("4G").is_err());
        assert!(parse_size("0").is_err());
        assert!(parse_size("3X").is_err());
        assert!(parse_compression("none:5").is_err());
    }
}
