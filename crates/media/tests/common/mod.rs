//! A synthetic site for media tests: a Windows-PE-shaped boot image carrying the tiny BIOS
//! and UEFI boot payloads, an OS image, a package, a task sequence deployed to media, a DP
//! holding it all with read access, and an MP.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use tsmedia_codecs::Format;
use tsmedia_image::boot_payload::{bios_boot_image, uefi_boot_app};
use tsmedia_media::{
    MediaKind, MediaPlan, MediaSpec, PlanOptions, PreflightFailure, preflight_with,
};
use tsmedia_site::{
    ALL_UNKNOWN_COMPUTERS, Arch, Availability, PackageOptions, PackageType, Purpose, Site,
};
use tsmedia_wim::capture::{self, CaptureOptions};
use tsmedia_wim::{WimWriter, WriteOptions};

#[path = "../../../image/tests/iso_common/mod.rs"]
pub mod iso_common;
#[allow(unused_imports)]
pub use iso_common::{boot_bios_cd, boot_uefi_cd, run, stdout, stdout_and_stderr, tool};

pub const BIOS_MARKER: &str = "tsmedia-media-bios-4d1e";
pub const UEFI_MARKER: &str = "tsmedia-media-uefi-93b7";
/// A custom variable value that must never appear in plaintext on the media.
pub const SECRET_VALUE: &str = "Zebra-Quokka-7731-plaintext-canary";
/// The first bytes of the stand-in runtime injected into boot.wim.
pub const RUNTIME_MARKER: &[u8] = b"tsmedia runtime stand-in 6c1f\n";

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub site_dir: PathBuf,
    pub boot_id: String,
    pub os_id: String,
    pub tools_id: String,
    pub ts_id: String,
    /// A small stand-in for the tsmedia executable (the real one is injected by the CLI test).
    pub runtime: PathBuf,
    /// The OS image's source tree (what applying install.wim must give back).
    pub os_tree: PathBuf,
}

impl Fixture {
    pub fn site(&self) -> Site {
        Site::open(&self.site_dir).unwrap()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Plan options using the stand-in runtime.
    pub fn plan_options(&self) -> PlanOptions {
        PlanOptions {
            runtime: Some(self.runtime.clone()),
            ..PlanOptions::default()
        }
    }

    /// Preflight with the stand-in runtime.
    pub fn plan(&self, spec: &MediaSpec) -> Result<MediaPlan, Vec<PreflightFailure>> {
        preflight_with(&self.site(), spec, &self.plan_options())
    }

    /// A spec with the fixture's objects filled in.
    pub fn spec(&self, kind: MediaKind, out: &str) -> MediaSpec {
        let mut s = MediaSpec {
            kind,
            out: self.path(out),
            boot_image: Some(self.boot_id.clone()),
            dp: vec!["dp1".into()],
            ts: matches!(kind, MediaKind::Standalone | MediaKind::Prestaged)
                .then(|| self.ts_id.clone()),
            os_image: (kind == MediaKind::Prestaged).then(|| self.os_id.clone()),
            label: Some("TSMEDIA".into()),
            ..MediaSpec::default()
        };
        s.variable
            .insert("OSDComputerName".into(), SECRET_VALUE.into());
        s
    }
}

fn capture_wim(src: &Path, out: &Path, name: &str) {
    capture_wim_with(src, out, name, Some(Format::Lzx));
}

fn capture_wim_with(src: &Path, out: &Path, name: &str, compression: Option<Format>) {
    let opts = WriteOptions {
        compression,
        ..WriteOptions::default()
    };
    let mut w = WimWriter::create(out, opts).unwrap();
    capture::capture(
        src,
        &mut w,
        &CaptureOptions {
            name: Some(name.into()),
            ..CaptureOptions::default()
        },
    )
    .unwrap();
    w.finish(1).unwrap();
}

fn write(path: &Path, data: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, data).unwrap();
}

/// Deterministic filler bytes.
pub fn pattern(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// What the fixture site holds beyond its fixed objects.
#[derive(Clone, Copy)]
pub struct FixtureOptions {
    /// Extra files of `tools_size` bytes in the Tools package.
    pub tools_files: usize,
    pub tools_size: usize,
    /// Extra files of `os_file_size` bytes in the OS image.
    pub os_files: usize,
    pub os_file_size: usize,
    /// OS image compression (None: stored, so its size is predictable).
    pub os_compression: Option<Format>,
}

impl Default for FixtureOptions {
    fn default() -> Self {
        FixtureOptions {
            tools_files: 2,
            tools_size: 10_000,
            os_files: 0,
            os_file_size: 0,
            os_compression: Some(Format::Lzx),
        }
    }
}

/// Writes `size` bytes of cheap pseudo-random data to `path`, streaming: 1 MiB runs of one
/// xorshift block, each run stamped with `seed` and its index (so no two runs or files are
/// equal) and a few bytes changed every 4 KiB.
pub fn write_runs(path: &Path, seed: u64, size: u64) {
    use std::io::Write;
    static BLOCK: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let block = BLOCK.get_or_init(|| pattern(0x5eed, 1 << 20));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut run = block.clone();
    let mut left = size;
    let mut index = 0u64;
    while left > 0 {
        for (k, chunk) in run.chunks_mut(4096).enumerate() {
            chunk[..8].copy_from_slice(&seed.to_le_bytes());
            chunk[8..16].copy_from_slice(&index.to_le_bytes());
            chunk[16..24].copy_from_slice(&(k as u64).to_le_bytes());
        }
        let n = left.min(run.len() as u64) as usize;
        out.write_all(&run[..n]).unwrap();
        left -= n as u64;
        index += 1;
    }
    out.flush().unwrap();
}

/// Builds the site. `tools_files` extra files of `tools_size` bytes go into the Tools package.
pub fn fixture_with(tools_files: usize, tools_size: usize) -> Fixture {
    fixture_opts(FixtureOptions {
        tools_files,
        tools_size,
        ..FixtureOptions::default()
    })
}

/// Builds the site with `o`.
pub fn fixture_opts(o: FixtureOptions) -> Fixture {
    let (tools_files, tools_size) = (o.tools_files, o.tools_size);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // Boot image: Windows PE shape.
    let pe = root.join("src/pe");
    let b = pe.join("Windows/Boot");
    write(
        &b.join("DVD/PCAT/etfsboot.com"),
        &bios_boot_image(BIOS_MARKER, 16),
    );
    let efisys = iso_common::efi_fat_image(root, &uefi_boot_app(UEFI_MARKER));
    write(&b.join("DVD/EFI/en-US/efisys.bin"), &efisys);
    write(&b.join("EFI/bootmgfw.efi"), &uefi_boot_app(UEFI_MARKER));
    write(&b.join("PCAT/bootmgr"), b"bootmgr stand-in");
    write(&b.join("DVD/PCAT/BCD"), b"BCD stand-in (PCAT)");
    write(&b.join("DVD/EFI/BCD"), b"BCD stand-in (EFI)");
    write(&b.join("DVD/PCAT/boot.sdi"), &pattern(3, 4096));
    write(
        &pe.join("Windows/System32/winpeshl.ini"),
        b"[LaunchApps]\r\nTsBootShell.exe\r\n",
    );
    let boot_pkg = root.join("src/boot");
    std::fs::create_dir_all(&boot_pkg).unwrap();
    capture_wim(
        &pe,
        &boot_pkg.join("boot.wim"),
        "Microsoft Windows PE (x64)",
    );
    // OS image.
    let os = root.join("src/os-tree");
    write(
        &os.join("Windows/System32/config/SYSTEM"),
        &pattern(5, 50_000),
    );
    write(&os.join("Users/Default/NTUSER.DAT"), &pattern(6, 20_000));
    for i in 0..o.os_files {
        write(
            &os.join(format!("Program Files/App/data{i:02}.bin")),
            &pattern(1000 + i as u32, o.os_file_size),
        );
    }
    let os_pkg = root.join("src/os");
    std::fs::create_dir_all(&os_pkg).unwrap();
    capture_wim_with(
        &os,
        &os_pkg.join("install.wim"),
        "Windows 11 Enterprise",
        o.os_compression,
    );
    let runtime = root.join("runtime/tsmedia");
    let mut rt = RUNTIME_MARKER.to_vec();
    rt.extend(pattern(77, 20_000));
    write(&runtime, &rt);
    // A package.
    let tools = root.join("src/tools");
    write(&tools.join("setup.cmd"), b"@echo off\r\nexit /b 0\r\n");
    for i in 0..tools_files {
        let path = tools.join(format!("data/file{i:03}.bin"));
        if tools_size >= 8 << 20 {
            write_runs(&path, 100 + i as u64, tools_size as u64);
        } else {
            write(&path, &pattern(100 + i as u32, tools_size));
        }
    }

    let site_dir = root.join("site");
    let mut site = Site::init(&site_dir, "PS1", Some("Test site")).unwrap();
    let boot = site
        .add_package(
            PackageType::BootImage,
            "Boot image (x64)",
            &boot_pkg.join("boot.wim"),
            &PackageOptions {
                arch: Some(Arch::X64),
                image_index: Some(1),
                ..PackageOptions::default()
            },
        )
        .unwrap();
    let os_image = site
        .add_package(
            PackageType::OsImage,
            "Windows 11",
            &os_pkg.join("install.wim"),
            &PackageOptions::default(),
        )
        .unwrap();
    let tools_pkg = site
        .add_package(
            PackageType::Package,
            "Tools",
            &tools,
            &PackageOptions::default(),
        )
        .unwrap();
    let xml = format!(
        r#"<sequence version="3.10">
  <referenceList><reference package="{os}" /><reference package="{tools}" /></referenceList>
  <step type="SMS_TaskSequence_ApplyOperatingSystemAction" name="Apply Operating System">
    <action>OSDApplyOS.exe /image:{os},1</action>
    <defaultVarList><variable name="OSDImagePackageId" property="ImagePackageID">{os}</variable></defaultVarList>
  </step>
  <step type="SMS_TaskSequence_RunCommandLineAction" name="Run setup" package="{tools}">
    <action>smsswd.exe /run:{tools} setup.cmd</action>
    <defaultVarList><variable name="PackageID" property="PackageID">{tools}</variable></defaultVarList>
  </step>
</sequence>"#,
        os = os_image.id,
        tools = tools_pkg.id
    );
    let ts = site
        .import_task_sequence(&xml, "Deploy Windows 11", Some(&boot.id))
        .unwrap();
    assert!(ts.unresolved.is_empty(), "{:?}", ts.unresolved);
    site.add_distribution_point("dp1", "http://dp1.example")
        .unwrap();
    site.add_distribution_point("dp2", "http://dp2.example")
        .unwrap();
    site.distribute(
        &[boot.id.clone(), os_image.id.clone(), tools_pkg.id.clone()],
        "dp1",
    )
    .unwrap();
    site.grant_dp_read("dp1", "Everyone").unwrap();
    site.add_management_point("mp1", "http://mp1.example", &[])
        .unwrap();
    site.deploy(
        &ts.id,
        ALL_UNKNOWN_COMPUTERS,
        Availability::MediaPxe,
        Purpose::Available,
    )
    .unwrap();
    Fixture {
        site_dir,
        boot_id: boot.id,
        os_id: os_image.id,
        tools_id: tools_pkg.id,
        ts_id: ts.id,
        runtime,
        os_tree: os,
        dir,
    }
}

pub fn fixture() -> Fixture {
    fixture_with(2, 10_000)
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Whether `needle` (as UTF-8 or UTF-16LE) occurs in `hay`.
pub fn contains_text(hay: &[u8], needle: &str) -> bool {
    let utf16: Vec<u8> = needle
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
        || hay.windows(utf16.len()).any(|w| w == utf16.as_slice())
}

/// `wimlib-imagex apply` of image 1 of `wim` into `dir`.
pub fn wimlib_apply(wim: &Path, dir: &Path) {
    let w = tool("wimlib-imagex", "wimtools");
    run(Command::new(w).arg("apply").arg(wim).arg("1").arg(dir));
}
