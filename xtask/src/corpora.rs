//! The corpora of `bench wim`: the generated reference tree, real files (a slice of the
//! system's shared libraries, the contents of Debian packages) and synthetic shapes unlike the
//! ones the codecs were tuned on (the reference corpus has syllable-word text, CMTrace-like log
//! lines, fixed-size records and x86-like code).
//!
//! Each corpus is built once into `target/bench-corpora/NAME` with a stamp file naming how it
//! was made; a missing or stale stamp rebuilds it. Synthetic data comes from a fixed seed.

use anyhow::{Context, Result, bail};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The corpora `--corpora` accepts, with what each holds.
pub const NAMES: &[(&str, &str)] = &[
    (
        "reference",
        "the generated 306 MB reference tree (tsmedia-corpus)",
    ),
    (
        "usrlib",
        "64 MB of /usr/lib/x86_64-linux-gnu, in path order",
    ),
    (
        "debs",
        "the tsmedia PE packages but the kernel, extracted with dpkg-deb -x",
    ),
    ("json", "JSON event records: nested keys, ids, timestamps"),
    ("series", "binary sensor series: f32 and i16 samples"),
    ("source", "C-like source files: identifiers, indentation"),
    ("tiny", "20,000 files of 40 B - 2 KiB, mixed content"),
];

/// Bytes each synthetic corpus holds about.
const SYNTHETIC_BYTES: usize = 32 << 20;

/// Makes sure the corpus `name` exists under `root`; returns its directory.
pub fn prepare(name: &str, root: &Path, workspace: &Path) -> Result<PathBuf> {
    let dir = root.join(name);
    let stamp_path = root.join(format!("{name}.stamp"));
    let stamp = format!("{name} v1 {SYNTHETIC_BYTES}\n");
    if fs::read_to_string(&stamp_path).ok().as_deref() == Some(stamp.as_str()) && dir.is_dir() {
        return Ok(dir);
    }
    if dir.exists() {
        fs::remove_dir_all(&dir).with_context(|| format!("removing stale {}", dir.display()))?;
    }
    let _ = fs::remove_file(&stamp_path);
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    eprintln!("building corpus {name} in {} ...", dir.display());
    match name {
        "usrlib" => copy_prefix(Path::new("/usr/lib/x86_64-linux-gnu"), &dir, 64 << 20)?,
        "debs" => extract_debs(&dir, workspace)?,
        "json" => synthetic(&dir, "json", 400, json_file)?,
        "series" => synthetic(&dir, "bin", 64, series_file)?,
        "source" => synthetic(&dir, "c", 1500, source_file)?,
        "tiny" => synthetic(&dir, "dat", 20_000, tiny_file)?,
        _ => bail!("unknown corpus {name:?}"),
    }
    fs::write(&stamp_path, stamp).with_context(|| format!("writing {}", stamp_path.display()))?;
    Ok(dir)
}

/// Copies regular files and symlinks of `src` (sorted by path, not following symlinks) into
/// `dst` until `limit` bytes of file data.
fn copy_prefix(src: &Path, dst: &Path, limit: u64) -> Result<()> {
    let mut files = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(m) = fs::symlink_metadata(&p) else {
                continue;
            };
            if m.is_dir() {
                stack.push(p);
            } else if m.is_file() || m.file_type().is_symlink() {
                files.push((p, m.len(), m.is_file()));
            }
        }
    }
    files.sort();
    let mut total = 0u64;
    for (p, len, regular) in files {
        if total >= limit {
            break;
        }
        let rel = p.strip_prefix(src).context("below the source")?;
        let to = dst.join(rel);
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent)?;
        }
        if regular {
            if fs::copy(&p, &to).is_err() {
                continue; // unreadable: left out
            }
            total += len;
        } else if let Ok(t) = fs::read_link(&p) {
            std::os::unix::fs::symlink(t, &to)?;
        }
    }
    Ok(())
}

/// Extracts the tsmedia PE packages (fetched with `scripts/fetch-pe-debs.sh` when missing),
/// all but the kernel, one folder each.
fn extract_debs(dst: &Path, workspace: &Path) -> Result<()> {
    let debs = workspace.join("target/pe-debs");
    let has_debs = fs::read_dir(&debs)
        .map(|rd| {
            rd.flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "deb"))
        })
        .unwrap_or(false);
    if !has_debs {
        let st = Command::new(workspace.join("scripts/fetch-pe-debs.sh"))
            .arg(&debs)
            .status()
            .context("running scripts/fetch-pe-debs.sh")?;
        if !st.success() {
            bail!("scripts/fetch-pe-debs.sh failed ({st})");
        }
    }
    let mut n = 0;
    let mut entries: Vec<PathBuf> = fs::read_dir(&debs)?.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !name.ends_with(".deb") || name.starts_with("linux-image") {
            continue;
        }
        let pkg = name.split('_').next().unwrap_or("pkg");
        let st = Command::new("dpkg-deb")
            .arg("-x")
            .arg(&p)
            .arg(dst.join(pkg))
            .status()
            .context("running dpkg-deb (Debian package dpkg)")?;
        if !st.success() {
            bail!("dpkg-deb -x {} failed ({st})", p.display());
        }
        n += 1;
    }
    if n == 0 {
        bail!("no packages in {}", debs.display());
    }
    Ok(())
}

/// A small deterministic generator (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Writes `count` files of the generator's output, together about [`SYNTHETIC_BYTES`],
/// spread over 16 folders.
fn synthetic(
    dir: &Path,
    ext: &str,
    count: usize,
    make: fn(&mut Rng, usize) -> Vec<u8>,
) -> Result<()> {
    let mut rng = Rng::new(0x7e57_0000 + count as u64);
    let per_file = SYNTHETIC_BYTES / count;
    for i in 0..count {
        let sub = dir.join(format!("d{:02}", i % 16));
        fs::create_dir_all(&sub)?;
        // Sizes from a quarter to twice the average.
        let size = per_file / 4 + rng.below((per_file * 7 / 4) as u64) as usize;
        let data = make(&mut rng, size.max(16));
        fs::write(sub.join(format!("f{i:05}.{ext}")), data)?;
    }
    Ok(())
}

const KEYS: &[&str] = &[
    "id",
    "user",
    "device",
    "event",
    "status",
    "latency_ms",
    "region",
    "tags",
    "payload",
    "version",
    "retries",
    "session",
];
const WORDS: &[&str] = &[
    "ok", "error", "timeout", "login", "logout", "upload", "download", "sync", "retry", "eu-west",
    "us-east", "ap-south", "alpha", "beta", "stable", "mobile", "desktop",
];

fn json_file(rng: &mut Rng, size: usize) -> Vec<u8> {
    let mut s = String::from("[\n");
    while s.len() < size {
        let _ = write!(s, "  {{");
        let n = 4 + rng.below(6) as usize;
        for k in 0..n {
            let key = rng.pick(KEYS);
            if k > 0 {
                s.push_str(", ");
            }
            match rng.below(5) {
                0 => {
                    let _ = write!(s, "\"{key}\": {}", rng.below(1_000_000));
                }
                1 => {
                    let _ = write!(s, "\"{key}\": \"{}\"", rng.pick(WORDS));
                }
                2 => {
                    let _ = write!(
                        s,
                        "\"{key}\": \"2026-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z\"",
                        1 + rng.below(12),
                        1 + rng.below(28),
                        rng.below(24),
                        rng.below(60),
                        rng.below(60),
                        rng.below(1000)
                    );
                }
                3 => {
                    let _ = write!(
                        s,
                        "\"{key}\": [\"{}\", \"{}\"]",
                        rng.pick(WORDS),
                        rng.pick(WORDS)
                    );
                }
                _ => {
                    let _ = write!(
                        s,
                        "\"{key}\": {{\"hex\": \"{:016x}\", \"n\": {}}}",
                        rng.next(),
                        rng.below(100)
                    );
                }
            }
        }
        s.push_str("},\n");
    }
    s.push_str("]\n");
    s.into_bytes()
}

fn series_file(rng: &mut Rng, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + 16);
    let channels = 1 + rng.below(6) as usize;
    let mut phase: Vec<f32> = (0..channels)
        .map(|_| rng.below(1000) as f32 / 100.0)
        .collect();
    let mut level: Vec<i32> = (0..channels)
        .map(|_| rng.below(4000) as i32 - 2000)
        .collect();
    let float = rng.below(2) == 0;
    while out.len() < size {
        for c in 0..channels {
            phase[c] += 0.01 + c as f32 * 0.003;
            if float {
                let v = (phase[c]).sin() * 100.0 + (rng.below(1000) as f32 - 500.0) / 1000.0;
                out.extend_from_slice(&v.to_le_bytes());
            } else {
                level[c] += rng.below(21) as i32 - 10;
                out.extend_from_slice(&(level[c] as i16).to_le_bytes());
            }
        }
    }
    out.truncate(size);
    out
}

const IDENTS: &[&str] = &[
    "buffer", "length", "offset", "count", "node", "entry", "table", "state", "flags", "result",
    "index", "value", "next", "prev", "head", "tail", "ctx", "dev", "queue", "lock",
];
const TYPES: &[&str] = &[
    "int",
    "size_t",
    "u32",
    "u64",
    "struct item *",
    "const char *",
    "bool",
];

fn source_file(rng: &mut Rng, size: usize) -> Vec<u8> {
    let mut s = String::from("/* generated */\n#include <stdint.h>\n#include \"local.h\"\n\n");
    while s.len() < size {
        let f = format!("{}_{}", rng.pick(IDENTS), rng.pick(IDENTS));
        let _ = writeln!(
            s,
            "static {} {f}({} {}, {} {})\n{{",
            rng.pick(TYPES),
            rng.pick(TYPES),
            rng.pick(IDENTS),
            rng.pick(TYPES),
            rng.pick(IDENTS)
        );
        let lines = 3 + rng.below(20);
        let mut depth = 1;
        for _ in 0..lines {
            let ind = "\t".repeat(depth);
            match rng.below(6) {
                0 if depth < 4 => {
                    let _ = writeln!(s, "{ind}if ({} > {}) {{", rng.pick(IDENTS), rng.below(64));
                    depth += 1;
                }
                1 if depth > 1 => {
                    depth -= 1;
                    let _ = writeln!(s, "{}}}", "\t".repeat(depth));
                }
                2 => {
                    let _ = writeln!(
                        s,
                        "{ind}{}->{} = {};",
                        rng.pick(IDENTS),
                        rng.pick(IDENTS),
                        rng.pick(IDENTS)
                    );
                }
                3 => {
                    let _ = writeln!(
                        s,
                        "{ind}/* {} the {} */",
                        rng.pick(IDENTS),
                        rng.pick(IDENTS)
                    );
                }
                _ => {
                    let _ = writeln!(
                        s,
                        "{ind}{} += {}({}, {});",
                        rng.pick(IDENTS),
                        rng.pick(IDENTS),
                        rng.pick(IDENTS),
                        rng.below(4096)
                    );
                }
            }
        }
        while depth > 1 {
            depth -= 1;
            let _ = writeln!(s, "{}}}", "\t".repeat(depth));
        }
        s.push_str("\treturn 0;\n}\n\n");
    }
    s.into_bytes()
}

fn tiny_file(rng: &mut Rng, _size: usize) -> Vec<u8> {
    let size = 40 + rng.below(2000) as usize;
    match rng.below(3) {
        0 => json_file(rng, size),
        1 => source_file(rng, size),
        _ => (0..size).map(|_| rng.next() as u8).collect(),
    }
}
