//! Helpers shared by the ISO integration tests: reference tools, data sources, QEMU.
#![allow(dead_code)]

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tsmedia_image::iso::{DataSource, IsoBuilder, IsoPlan, write};

/// Path of a reference tool; panics (fails the test) naming the Debian package if missing.
pub fn tool(name: &str, package: &str) -> PathBuf {
    for dir in ["/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!(
        "`{name}` is missing: install the Debian package `{package}` (apt-get install -y {package})"
    );
}

/// Runs a command and returns its output, failing the test when it exits non-zero.
pub fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed with {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn stdout(cmd: &mut Command) -> String {
    String::from_utf8_lossy(&run(cmd).stdout).into_owned()
}

pub fn stdout_and_stderr(cmd: &mut Command) -> String {
    let out = run(cmd);
    let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
    s.push_str(&String::from_utf8_lossy(&out.stderr));
    s
}

/// Deterministic content of `len` bytes derived from `seed`.
pub fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

pub fn bytes(data: Vec<u8>) -> Box<dyn DataSource> {
    Box::new(data)
}

/// A source of `len` bytes that are zero except for the first 8 bytes of every MiB (the MiB
/// index) and the last 8 bytes (0xEE): big files without big memory or disk.
pub struct SparsePattern {
    pub len: u64,
}

impl SparsePattern {
    pub fn byte_at(len: u64, o: u64) -> u8 {
        if o >= len.saturating_sub(8) {
            0xEE
        } else if o % (1 << 20) < 8 {
            ((o >> 20) >> (8 * (o % 8))) as u8
        } else {
            0
        }
    }
}

pub struct SparsePatternReader {
    len: u64,
    pos: u64,
}

impl Read for SparsePatternReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (self.len - self.pos).min(buf.len() as u64) as usize;
        buf[..n].fill(0);
        // Only the marker positions are non-zero.
        let start = self.pos;
        let end = self.pos + n as u64;
        let mut mib = start >> 20;
        while (mib << 20) < end {
            for k in 0..8u64 {
                let o = (mib << 20) + k;
                if o >= start && o < end {
                    buf[(o - start) as usize] = SparsePattern::byte_at(self.len, o);
                }
            }
            mib += 1;
        }
        for o in self.len.saturating_sub(8)..self.len {
            if o >= start && o < end {
                buf[(o - start) as usize] = 0xEE;
            }
        }
        self.pos = end;
        Ok(n)
    }
}

impl DataSource for SparsePattern {
    fn open(&self) -> io::Result<Box<dyn Read + '_>> {
        Ok(Box::new(SparsePatternReader {
            len: self.len,
            pos: 0,
        }))
    }
}

/// A file writer that seeks over all-zero 4 KiB blocks, leaving holes (a sparse file).
pub struct SparseFile {
    pub file: std::fs::File,
    len: u64,
}

impl SparseFile {
    pub fn create(path: &Path) -> io::Result<Self> {
        Ok(SparseFile {
            file: std::fs::File::create(path)?,
            len: 0,
        })
    }

    pub fn finish(self) -> io::Result<()> {
        self.file.set_len(self.len)
    }
}

impl Write for SparseFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        for chunk in buf.chunks(4096) {
            if chunk.iter().all(|&b| b == 0) {
                self.file.seek(SeekFrom::Current(chunk.len() as i64))?;
            } else {
                self.file.write_all(chunk)?;
            }
        }
        self.len += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Plans and writes `builder` to `path`, returning the plan.
pub fn write_iso(builder: IsoBuilder, path: &Path) -> IsoPlan {
    let plan = builder.plan().expect("plan");
    let mut out = Vec::new();
    write(&plan, &mut out).expect("write");
    assert_eq!(out.len() as u64, plan.total_size());
    std::fs::write(path, &out).expect("save image");
    plan
}

/// A FAT image holding `EFI/BOOT/BOOTX64.EFI`, made with dosfstools and mtools.
pub fn efi_fat_image(dir: &Path, app: &[u8]) -> Vec<u8> {
    let mkfs = tool("mkfs.fat", "dosfstools");
    let mmd = tool("mmd", "mtools");
    let mcopy = tool("mcopy", "mtools");
    let img = dir.join("efisys.bin");
    let app_path = dir.join("BOOTX64.EFI");
    std::fs::write(&app_path, app).unwrap();
    let _ = std::fs::remove_file(&img);
    run(Command::new(mkfs).arg("-C").arg(&img).arg("1440"));
    run(Command::new(&mmd)
        .arg("-i")
        .arg(&img)
        .args(["::/EFI", "::/EFI/BOOT"]));
    run(Command::new(mcopy)
        .arg("-i")
        .arg(&img)
        .arg(&app_path)
        .arg("::/EFI/BOOT/BOOTX64.EFI"));
    std::fs::read(&img).unwrap()
}

fn qemu() -> Command {
    tool("timeout", "coreutils");
    let q = tool("qemu-system-x86_64", "qemu-system-x86");
    let mut c = Command::new("timeout");
    c.arg("60").arg(q).args([
        "-m",
        "256",
        "-nographic",
        "-no-reboot",
        "-serial",
        "stdio",
        "-monitor",
        "none",
        "-net",
        "none",
        "-device",
        "isa-debug-exit,iobase=0xf4,iosize=0x04",
    ]);
    c
}

/// Boots `iso` as a CD under SeaBIOS; returns (exit status, console output).
pub fn boot_bios_cd(iso: &Path) -> (i32, String) {
    let out = qemu()
        .arg("-cdrom")
        .arg(iso)
        .args(["-boot", "d"])
        .output()
        .expect("run qemu");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Boots `iso` as a CD under OVMF with a fresh NVRAM copy; returns (exit status, output).
pub fn boot_uefi_cd(iso: &Path, dir: &Path) -> (i32, String) {
    let code = Path::new("/usr/share/OVMF/OVMF_CODE_4M.fd");
    let vars = Path::new("/usr/share/OVMF/OVMF_VARS_4M.fd");
    assert!(
        code.exists() && vars.exists(),
        "OVMF firmware missing: install the Debian package `ovmf`"
    );
    let my_vars = dir.join("vars.fd");
    std::fs::copy(vars, &my_vars).unwrap();
    let out = qemu()
        .args(["-machine", "q35", "-drive"])
        .arg(format!(
            "if=pflash,format=raw,readonly=on,file={}",
            code.display()
        ))
        .arg("-drive")
        .arg(format!("if=pflash,format=raw,file={}", my_vars.display()))
        .arg("-cdrom")
        .arg(iso)
        .output()
        .expect("run qemu");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}
