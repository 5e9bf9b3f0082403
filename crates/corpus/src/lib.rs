//! Deterministic directory trees for tests, the demo and benchmarks.
//!
//! The shape follows the WIM reference corpus: many small text files, duplicates, random
//! (incompressible) files, large log-like text files and copies of them, one binary file shaped
//! like x86 code, empty files, symlinks (relative, absolute, dangling) and hard links. The same
//! seed and scale always produce the same bytes, names and times.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::symlink;
use std::path::Path;

/// How big a corpus to make.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    pub seed: u64,
    /// Small text files (0.3–40 KiB each).
    pub small_files: usize,
    /// Of the small files, how many are duplicated elsewhere in the tree.
    pub duplicates: usize,
    /// Random 64 KiB files.
    pub random_files: usize,
    /// Large log-like files, and the size of each.
    pub logs: usize,
    pub log_size: usize,
    /// Copies of the first log file.
    pub log_copies: usize,
    /// Size of the x86-code-like binary.
    pub binary_size: usize,
}

impl Spec {
    /// About 262 MB like the reference corpus of `docs/wim-format.md` ("Reference figures").
    pub fn reference() -> Spec {
        Spec {
            seed: 1,
            small_files: 3000,
            duplicates: 600,
            random_files: 200,
            logs: 4,
            log_size: 32 << 20,
            log_copies: 2,
            binary_size: 16 << 20,
        }
    }

    /// A few MB: for tests and the demo.
    pub fn small() -> Spec {
        Spec {
            seed: 7,
            small_files: 120,
            duplicates: 20,
            random_files: 6,
            logs: 2,
            log_size: 1 << 20,
            log_copies: 1,
            binary_size: 512 << 10,
        }
    }
}

/// SplitMix64: small, fast, and the same everywhere.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn fill(&mut self, buf: &mut [u8]) {
        for c in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            c.copy_from_slice(&v[..c.len()]);
        }
    }
}

const WORDS: &[&str] = &[
    "the",
    "system",
    "driver",
    "package",
    "install",
    "windows",
    "update",
    "service",
    "registry",
    "network",
    "adapter",
    "configuration",
    "manager",
    "task",
    "sequence",
    "media",
    "boot",
    "image",
    "partition",
    "volume",
    "format",
    "apply",
    "capture",
    "policy",
    "client",
    "server",
    "content",
    "version",
    "error",
    "warning",
    "success",
    "failed",
    "retry",
    "timeout",
    "connection",
    "device",
    "firmware",
    "security",
    "certificate",
    "password",
    "variable",
    "step",
    "group",
    "condition",
    "and",
    "or",
    "not",
    "is",
    "of",
    "to",
    "in",
    "for",
    "with",
    "on",
    "by",
    "from",
    "at",
    "a",
];

/// Text that compresses like documentation or source files.
pub fn text(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 16);
    while out.len() < len {
        let n = 4 + rng.below(14) as usize;
        for i in 0..n {
            let w = WORDS[rng.below(WORDS.len() as u64) as usize];
            if i == 0 {
                out.extend(w.bytes().take(1).map(|b| b.to_ascii_uppercase()));
                out.extend_from_slice(&w.as_bytes()[1..]);
            } else {
                out.extend_from_slice(w.as_bytes());
            }
            out.push(if i + 1 == n { b'.' } else { b' ' });
        }
        out.push(if rng.below(5) == 0 { b'\n' } else { b' ' });
    }
    out.truncate(len);
    out
}

/// Log lines with timestamps, levels, components and numbers.
pub fn log_text(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 200);
    let mut t = 1_700_000_000u64;
    let levels = ["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"];
    let comps = [
        "TSManager",
        "OSDApplyOS",
        "SMSTSBootstrap",
        "TSPxe",
        "ContentTransfer",
        "DiskPart",
    ];
    while out.len() < len {
        t += rng.below(3);
        let lvl = levels[rng.below(levels.len() as u64) as usize];
        let comp = comps[rng.below(comps.len() as u64) as usize];
        let _ = write!(
            out,
            "2026-11-{:02} {:02}:{:02}:{:02}.{:03} [{lvl}] {comp}[{}]: ",
            1 + (t / 86400) % 28,
            (t / 3600) % 24,
            (t / 60) % 60,
            t % 60,
            rng.below(1000),
            1000 + rng.below(64)
        );
        let n = 20 + rng.below(80) as usize;
        let words = text(rng, n);
        out.extend_from_slice(&words);
        let _ = writeln!(out, " (0x{:08X})", rng.below(1 << 20));
    }
    out.truncate(len);
    out
}

/// Bytes shaped like x86-64 code: common opcodes, E8/E9 calls with nearby targets.
pub fn code_like(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 16);
    let snippets: &[&[u8]] = &[
        &[0x55, 0x48, 0x89, 0xE5],
        &[0x48, 0x83, 0xEC, 0x20],
        &[0x48, 0x8B, 0x45, 0xF8],
        &[0x89, 0x45, 0xFC],
        &[0xC9, 0xC3],
        &[0x31, 0xC0],
        &[0x48, 0x8D, 0x0D],
        &[0x0F, 0x1F, 0x44, 0x00, 0x00],
    ];
    while out.len() < len {
        match rng.below(6) {
            0 => {
                out.push(0xE8);
                let target = (rng.below(4096) as i32 - 2048) * 16;
                out.extend_from_slice(&target.to_le_bytes());
            }
            1 => {
                let v = rng.next_u64().to_le_bytes();
                out.extend_from_slice(&v[..1 + rng.below(4) as usize]);
            }
            _ => out.extend_from_slice(snippets[rng.below(snippets.len() as u64) as usize]),
        }
    }
    out.truncate(len);
    out
}

/// Writes the corpus into `root` (created). Returns the number of bytes of file data written.
pub fn generate(root: &Path, spec: &Spec) -> io::Result<u64> {
    fs::create_dir_all(root)?;
    let mut rng = Rng::new(spec.seed);
    let mut total = 0u64;
    let mut small_paths = Vec::new();
    for i in 0..spec.small_files {
        let dir = root
            .join(format!("Windows/System32/dir{:02}", i % 37))
            .join(format!("sub{}", i % 5));
        fs::create_dir_all(&dir)?;
        let len = 300 + rng.below(40 << 10) as usize;
        let p = dir.join(format!("file{i:05}.txt"));
        let data = text(&mut rng, len);
        fs::write(&p, &data)?;
        total += len as u64;
        small_paths.push(p);
    }
    let dups = root.join("Program Files/Duplicates");
    fs::create_dir_all(&dups)?;
    for i in 0..spec.duplicates.min(small_paths.len()) {
        let src = &small_paths[(i * 7) % small_paths.len()];
        let n = fs::copy(src, dups.join(format!("copy{i:04}.txt")))?;
        total += n;
    }
    let rnd = root.join("ProgramData/random");
    fs::create_dir_all(&rnd)?;
    for i in 0..spec.random_files {
        let mut b = vec![0u8; 64 << 10];
        rng.fill(&mut b);
        fs::write(rnd.join(format!("blob{i:04}.bin")), &b)?;
        total += b.len() as u64;
    }
    let logs = root.join("Windows/Logs");
    fs::create_dir_all(&logs)?;
    for i in 0..spec.logs {
        let data = log_text(&mut rng, spec.log_size);
        fs::write(logs.join(format!("setup{i}.log")), &data)?;
        total += data.len() as u64;
        if i == 0 {
            for c in 0..spec.log_copies {
                fs::write(logs.join(format!("setup0-copy{c}.log")), &data)?;
                total += data.len() as u64;
            }
        }
    }
    let bin = code_like(&mut rng, spec.binary_size);
    fs::write(root.join("Windows/System32/ntoskrnl.exe"), &bin)?;
    total += bin.len() as u64;
    let special = root.join("special");
    fs::create_dir_all(special.join("empty dir"))?;
    for i in 0..5 {
        fs::write(special.join(format!("empty{i}")), b"")?;
    }
    symlink("../Windows/Logs/setup0.log", special.join("relative-link"))?;
    symlink("/etc/hostname", special.join("absolute-link"))?;
    symlink("does/not/exist", special.join("dangling-link"))?;
    symlink("../Windows", special.join("dir-link"))?;
    let h = special.join("hardlink-a");
    fs::write(&h, text(&mut rng, 5000))?;
    fs::hard_link(&h, special.join("hardlink-b"))?;
    fs::hard_link(&h, root.join("Windows/hardlink-c"))?;
    fs::write(special.join("unicode ünïcödé 日本語.txt"), "名前\n")?;
    let ro = special.join("readonly.txt");
    fs::write(&ro, b"read only\n")?;
    let mut p = fs::metadata(&ro)?.permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut p, 0o444);
    fs::set_permissions(&ro, p)?;
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic() {
        let mut a = Rng::new(3);
        let mut b = Rng::new(3);
        assert_eq!(text(&mut a, 1000), text(&mut b, 1000));
        assert_eq!(log_text(&mut a, 5000), log_text(&mut b, 5000));
        assert_eq!(code_like(&mut a, 5000).len(), 5000);
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
    }
}
