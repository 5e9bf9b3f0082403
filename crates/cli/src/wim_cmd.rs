//! `tsmedia wim ...`: wimlib-imagex's commands, names and semantics.

use crate::progress::Bar;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::path::{Path, PathBuf};
use tsmedia_base::{Cancel, Clock};
use tsmedia_codecs::Format;
use tsmedia_wim::apply::ApplyOptions;
use tsmedia_wim::capture::CaptureOptions;
use tsmedia_wim::ops::{self, UpdateCommand};
use tsmedia_wim::{Wim, WimWriter, WriteOptions};

#[derive(Subcommand)]
pub enum WimCommand {
    /// Capture a directory as a new WIM (like `wimlib-imagex capture`)
    Capture(CaptureArgs),
    /// Capture a directory as a new image of an existing WIM
    Append(CaptureArgs),
    /// Apply (extract) an image, or all images, to a directory
    #[command(
        after_help = "Examples:\n  tsmedia wim apply boot.wim /tmp/pe          # the only image\n  \
        tsmedia wim apply install.wim 3 /mnt/os     # image 3\n  \
        tsmedia wim apply install.wim all /srv/imgs # each image in its own folder\n  \
        tsmedia wim apply os.swm 1 /mnt --ref 'os*.swm'"
    )]
    Apply(ApplyArgs),
    /// Show the WIM header and each image's properties
    Info(InfoArgs),
    /// List the files of an image
    Dir(DirArgs),
    /// Check the integrity table, every blob's SHA-1 and the image metadata
    Verify(VerifyArgs),
    /// Copy images to another WIM (created, or appended to when it exists)
    Export(ExportArgs),
    /// Add, replace or delete files in an image
    #[command(
        after_help = "Example:\n  tsmedia wim update boot.wim 1 --add ./sms:/sms --add tsmbootstrap.ini:/sms/data/TsmBootstrap.ini --delete /Windows/Temp"
    )]
    Update(UpdateArgs),
    /// Split a WIM into parts of at most MAX_MIB mebibytes (.swm)
    Split(SplitArgs),
    /// Join the parts of a split WIM into one WIM
    Join(JoinArgs),
}

#[derive(Args)]
pub struct WriteArgs {
    /// Compression: none, xpress (fast), lzx (maximum, the default as in DISM and wimlib), lzms
    /// (recovery), with an optional level on wimlib's scale, e.g. lzx:20 (fast) or lzx:100
    #[arg(long, default_value = "lzx")]
    compress: String,
    /// Chunk size in bytes (a power of two; XPRESS 4096–65536, LZX 32768–2097152, LZMS
    /// 32768–1073741824)
    #[arg(long)]
    chunk_size: Option<u32>,
    /// Write an integrity table (SHA-1 of every 10 MiB)
    #[arg(long)]
    check: bool,
    /// Compression threads (default: all cores)
    #[arg(long)]
    threads: Option<usize>,
    /// Make the written image the bootable one
    #[arg(long)]
    boot: bool,
    /// Reproducible output: fixed GUID and times (also set by SOURCE_DATE_EPOCH)
    #[arg(long)]
    deterministic: bool,
}

#[derive(Args)]
pub struct CaptureArgs {
    /// Directory to capture
    src: PathBuf,
    /// WIM file to write
    wim: PathBuf,
    /// Image name (also accepted as the third positional argument)
    #[arg(long)]
    name: Option<String>,
    /// Image description (also the fourth positional argument)
    #[arg(long)]
    description: Option<String>,
    #[arg(hide = true)]
    pos_name: Option<String>,
    #[arg(hide = true)]
    pos_description: Option<String>,
    #[command(flatten)]
    write: WriteArgs,
    /// Store UNIX owner, group and mode of every file (restored by apply)
    #[arg(long)]
    unix_data: bool,
    /// No progress bar
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args)]
pub struct ApplyArgs {
    /// WIM file (first part of a split WIM)
    wim: PathBuf,
    /// IMAGE (index, name or `all`) and TARGET directory; IMAGE may be omitted for a one-image WIM
    #[arg(num_args = 1..=2, required = true, value_names = ["IMAGE", "TARGET"])]
    rest: Vec<String>,
    /// The other parts of a split WIM, as a quoted glob (e.g. 'os*.swm')
    #[arg(long = "ref")]
    refs: Vec<String>,
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args)]
pub struct InfoArgs {
    wim: PathBuf,
    /// Only this image (index or name)
    image: Option<String>,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct DirArgs {
    wim: PathBuf,
    /// Image (index or name); default 1
    image: Option<String>,
    #[arg(long = "ref")]
    refs: Vec<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct VerifyArgs {
    wim: PathBuf,
    #[arg(long = "ref")]
    refs: Vec<String>,
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args)]
pub struct ExportArgs {
    src: PathBuf,
    /// Image index, name or `all`
    image: String,
    dest: PathBuf,
    #[arg(long = "ref")]
    refs: Vec<String>,
    /// Compression of a new DEST (default: the source's)
    #[arg(long)]
    compress: Option<String>,
    #[arg(long)]
    chunk_size: Option<u32>,
    #[arg(long)]
    boot: bool,
    #[arg(long)]
    check: bool,
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Args)]
pub struct UpdateArgs {
    wim: PathBuf,
    /// Image (index or name); default 1
    image: Option<String>,
    /// Add SRC (file or directory) at DEST_PATH inside the image: SRC:DEST_PATH
    #[arg(long, value_name = "SRC:DEST_PATH")]
    add: Vec<String>,
    /// Delete PATH (file or directory tree) from the image
    #[arg(long, value_name = "PATH")]
    delete: Vec<String>,
    #[arg(long)]
    unix_data: bool,
}

#[derive(Args)]
pub struct SplitArgs {
    wim: PathBuf,
    /// First part's name, e.g. install.swm (then install2.swm, install3.swm, ...)
    part1: PathBuf,
    /// Largest part size in MiB
    max_mib: u64,
}

#[derive(Args)]
pub struct JoinArgs {
    out: PathBuf,
    #[arg(required = true)]
    parts: Vec<PathBuf>,
}

pub fn run(cmd: WimCommand, cancel: &Cancel) -> Result<()> {
    match cmd {
        WimCommand::Capture(a) => capture(a, cancel, false),
        WimCommand::Append(a) => capture(a, cancel, true),
        WimCommand::Apply(a) => apply(a, cancel),
        WimCommand::Info(a) => info(a),
        WimCommand::Dir(a) => dir(a),
        WimCommand::Verify(a) => verify(a),
        WimCommand::Export(a) => export(a, cancel),
        WimCommand::Update(a) => update(a),
        WimCommand::Split(a) => {
            let wim = Wim::open(&a.wim).with_context(|| format!("opening {}", a.wim.display()))?;
            let parts = ops::split(&wim, &a.part1, a.max_mib.max(1) << 20)?;
            for p in parts {
                println!("{}", p.display());
            }
            Ok(())
        }
        WimCommand::Join(a) => Ok(ops::join(&a.out, &a.parts)?),
    }
}

/// Parses `none`, `xpress`, `lzx`, `lzx:20`, wimlib's `fast`/`maximum`, case-insensitively.
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
    Ok((format, level))
}

fn write_options(w: &WriteArgs, cancel: &Cancel) -> Result<WriteOptions> {
    let (compression, level) = parse_compression(&w.compress)?;
    let mut o = WriteOptions {
        compression,
        cancel: cancel.clone(),
        integrity: w.check,
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
    if let Some(t) = Clock::from_environment(w.deterministic)?.fixed() {
        o.timestamp = Some(tsmedia_wim::time::unix_to_filetime(t, 0));
        o.guid = Some(*b"tsmedia-determin");
    }
    Ok(o)
}

fn print_warnings(w: &[String]) {
    for w in w {
        eprintln!("warning: {w}");
    }
}

fn capture(a: CaptureArgs, cancel: &Cancel, append: bool) -> Result<()> {
    let opts = write_options(&a.write, cancel)?;
    let copts = CaptureOptions {
        name: a.name.or(a.pos_name),
        description: a.description.or(a.pos_description),
        unix_data: a.unix_data,
    };
    let bar = Bar::new(if append { "appending" } else { "capturing" }, a.quiet);
    let report = if append {
        ops::append(&a.wim, &a.src, opts, &copts, a.write.boot)
            .with_context(|| format!("appending {} to {}", a.src.display(), a.wim.display()))?
    } else {
        let mut w = WimWriter::create(&a.wim, opts)?;
        w.set_progress(bar.clone());
        let r = tsmedia_wim::capture::capture(&a.src, &mut w, &copts)
            .with_context(|| format!("capturing {}", a.src.display()))?;
        w.finish(if a.write.boot { 1 } else { 0 })
            .with_context(|| format!("writing {}", a.wim.display()))?;
        r
    };
    bar.clear();
    print_warnings(&report.warnings);
    if !a.quiet {
        eprintln!(
            "{} {} directories, {} files, {} bytes into {}",
            if append { "appended" } else { "captured" },
            report.dirs,
            report.files,
            report.bytes,
            a.wim.display()
        );
    }
    Ok(())
}

/// Opens a WIM and the split parts matching `refs` globs.
pub fn open_with_refs(path: &Path, refs: &[String]) -> Result<Wim> {
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

fn apply(a: ApplyArgs, cancel: &Cancel) -> Result<()> {
    let wim = open_with_refs(&a.wim, &a.refs)?;
    let (image, target) = match a.rest.as_slice() {
        [t] => {
            if wim.image_count() != 1 {
                bail!(
                    "{} has {} images: name one (index, name or `all`)",
                    a.wim.display(),
                    wim.image_count()
                );
            }
            ("1".to_string(), PathBuf::from(t))
        }
        [i, t] => (i.clone(), PathBuf::from(t)),
        _ => bail!("expected [IMAGE] TARGET"),
    };
    let bar = Bar::new("applying", a.quiet);
    let opts = ApplyOptions {
        cancel: cancel.clone(),
        progress: bar.clone(),
        ..Default::default()
    };
    let report = if image.eq_ignore_ascii_case("all") {
        ops::apply_all(&wim, &target, &opts)?
    } else {
        let i = wim.resolve_image(&image)?;
        tsmedia_wim::apply::apply(&wim, i, &target, &opts).with_context(|| {
            format!(
                "applying image {i} of {} to {}",
                a.wim.display(),
                target.display()
            )
        })?
    };
    bar.clear();
    print_warnings(&report.warnings);
    if !a.quiet {
        eprintln!(
            "applied {} directories, {} files, {} symlinks, {} bytes to {}",
            report.dirs,
            report.files,
            report.symlinks,
            report.bytes,
            target.display()
        );
    }
    Ok(())
}

fn info(a: InfoArgs) -> Result<()> {
    let wim = Wim::open(&a.wim).with_context(|| format!("opening {}", a.wim.display()))?;
    let mut info = wim.info();
    if let Some(spec) = &a.image {
        let i = wim.resolve_image(spec)?;
        info.images.retain(|e| e.index == i);
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&info)?);
        return Ok(());
    }
    let compression = info
        .compression
        .map(|f| f.to_string())
        .unwrap_or_else(|| "None".into());
    println!("WIM Information:\n----------------");
    println!("Path:           {}", a.wim.display());
    println!("GUID:           0x{}", info.guid);
    println!("Version:        {}", info.version);
    println!("Image Count:    {}", info.image_count);
    println!("Compression:    {compression}");
    println!("Chunk Size:     {} bytes", info.chunk_size);
    println!("Part Number:    {}/{}", info.part_number, info.total_parts);
    println!("Boot Index:     {}", info.boot_index);
    println!("Size:           {} bytes", info.size);
    println!(
        "Integrity:      {}",
        if info.has_integrity_table {
            "yes"
        } else {
            "no"
        }
    );
    println!("\nAvailable Images:\n-----------------");
    for i in &info.images {
        println!("Index:                  {}", i.index);
        println!("Name:                   {}", i.name);
        println!("Description:            {}", i.description);
        println!("Directory Count:        {}", i.dir_count);
        println!("File Count:             {}", i.file_count);
        println!("Total Bytes:            {}", i.total_bytes);
        println!("Hard Link Bytes:        {}", i.hard_link_bytes);
        if let Some(arch) = i.arch {
            let name = match arch {
                0 => "x86",
                9 => "x86_64",
                12 => "ARM64",
                5 => "ARM",
                _ => "unknown",
            };
            println!("Architecture:           {name}");
        }
        for (k, v) in &i.properties {
            if k.contains('/') {
                println!("{k:<24}{v}");
            }
        }
        println!();
    }
    Ok(())
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

fn dir(a: DirArgs) -> Result<()> {
    let wim = open_with_refs(&a.wim, &a.refs)?;
    let i = wim.resolve_image(a.image.as_deref().unwrap_or("1"))?;
    let img = ops::load_image(&wim, i)?;
    let mut out = Vec::new();
    img.root.walk(&mut |stack, d| {
        let mut path: String = stack
            .iter()
            .skip(1)
            .map(|p| format!("/{}", p.name_lossy()))
            .collect::<String>();
        if !stack.is_empty() {
            path.push('/');
            path.push_str(&d.name_lossy());
        }
        if path.is_empty() {
            path.push('/');
        }
        let size = wim.blobs.get(&d.data).map(|l| l.size()).unwrap_or(0);
        let target = d.is_symlink().then(|| {
            wim.open_blob(&d.reparse_data, true)
                .and_then(|r| r.read_all())
                .ok()
                .and_then(|b| tsmedia_wim::reparse::symlink_target(&b).ok())
                .unwrap_or_else(|| "?".into())
        });
        let kind = if d.is_symlink() {
            "symlink"
        } else if d.is_reparse_point() {
            "reparse-point"
        } else if d.is_dir() {
            "directory"
        } else {
            "file"
        };
        out.push(DirEntry {
            path,
            kind,
            size,
            attributes: d.attributes,
            target,
            streams: d
                .named_streams
                .iter()
                .map(|(n, _)| String::from_utf16_lossy(n))
                .collect(),
            short_name: (!d.short_name.is_empty()).then(|| String::from_utf16_lossy(&d.short_name)),
            mode: d.unix.map(|u| format!("{:o}", u.mode)),
            security_id: d.security_id,
        });
    });
    if a.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    for e in out {
        let mut line = e.path;
        if let Some(t) = e.target {
            line.push_str(" -> ");
            line.push_str(&t);
        }
        for s in e.streams {
            line.push_str(&format!(" [stream {s}]"));
        }
        println!("{line}");
    }
    Ok(())
}

fn verify(a: VerifyArgs) -> Result<()> {
    let wim = open_with_refs(&a.wim, &a.refs)?;
    let bar = Bar::new("verifying", a.quiet);
    let r = ops::verify(&wim, bar.as_ref())
        .with_context(|| format!("verifying {}", a.wim.display()))?;
    bar.clear();
    if !a.quiet {
        println!(
            "{}: OK — {} images, {} dentries, {} blobs ({} bytes) hash-checked{}",
            a.wim.display(),
            r.images,
            r.dentries,
            r.blobs,
            r.bytes,
            if r.integrity_checked {
                ", integrity table matches"
            } else {
                ", no integrity table"
            }
        );
    }
    Ok(())
}

fn export(a: ExportArgs, cancel: &Cancel) -> Result<()> {
    let src = open_with_refs(&a.src, &a.refs)?;
    let images: Vec<u32> = if a.image.eq_ignore_ascii_case("all") {
        (1..=src.image_count()).collect()
    } else {
        vec![src.resolve_image(&a.image)?]
    };
    let mut opts = ops::inherit_options(&src, WriteOptions::default(), false)?;
    if let Some(c) = &a.compress {
        let (f, level) = parse_compression(c)?;
        opts.compression = f;
        opts.chunk_size = f.map(|f| f.default_chunk_size() as u32).unwrap_or(0);
        if let Some(l) = level {
            opts.level = l;
        }
    }
    if let Some(cs) = a.chunk_size {
        opts.chunk_size = cs;
    }
    if let Some(t) = a.threads {
        opts.threads = t.max(1);
    }
    opts.integrity = a.check;
    opts.cancel = cancel.clone();
    ops::export(&src, &images, &a.dest, opts, a.boot)
        .with_context(|| format!("exporting to {}", a.dest.display()))?;
    Ok(())
}

fn update(a: UpdateArgs) -> Result<()> {
    let wim = Wim::open(&a.wim).with_context(|| format!("opening {}", a.wim.display()))?;
    let i = wim.resolve_image(a.image.as_deref().unwrap_or("1"))?;
    drop(wim);
    let mut cmds = Vec::new();
    for add in &a.add {
        let (src, dest) = add
            .rsplit_once(':')
            .with_context(|| format!("--add {add:?}: expected SRC:DEST_PATH"))?;
        if !Path::new(src).exists() {
            bail!("--add {add:?}: {src} does not exist");
        }
        cmds.push(UpdateCommand::Add {
            source: PathBuf::from(src),
            dest: dest.to_string(),
        });
    }
    for d in &a.delete {
        cmds.push(UpdateCommand::Delete { path: d.clone() });
    }
    if cmds.is_empty() {
        bail!("nothing to do: give --add SRC:DEST_PATH or --delete PATH");
    }
    let warnings = ops::update(&a.wim, i, &cmds, a.unix_data)
        .with_context(|| format!("updating {}", a.wim.display()))?;
    print_warnings(&warnings);
    Ok(())
}
