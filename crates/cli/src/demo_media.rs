//! The media half of `tsmedia demo`: a demo site with a synthetic Windows-PE-shaped boot
//! image (tiny BIOS and UEFI payloads that print a marker), the demo WIM as OS image, a
//! task sequence deployed to media, then a bootable ISO and a prestaged WIM built from it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use tsmedia_image::boot_payload::{bios_boot_image, uefi_boot_app};
use tsmedia_image::fat::{FatOptions, FatPlan, FatTree, FatType};
use tsmedia_media::{BuildOptions, MediaKind, MediaSpec};
use tsmedia_site::{
    ALL_UNKNOWN_COMPUTERS, Arch, Availability, PackageOptions, PackageType, Purpose, Site,
};
use tsmedia_wim::capture::{self, CaptureOptions};
use tsmedia_wim::{WimWriter, WriteOptions};

fn write(path: &Path, data: &[u8]) -> Result<()> {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).with_context(|| format!("creating {}", p.display()))?;
    }
    std::fs::write(path, data).with_context(|| format!("writing {}", path.display()))
}

/// A FAT12 image holding `EFI/BOOT/BOOTX64.EFI` (what `efisys.bin` is).
fn efisys(app: Vec<u8>) -> Result<Vec<u8>> {
    let mut tree = FatTree::new();
    let len = app.len() as u64;
    tree.add_file("EFI/BOOT/BOOTX64.EFI", len, app)?;
    let plan = FatPlan::new(
        tree,
        &FatOptions {
            fat_type: Some(FatType::Fat12),
            volume_size: Some(1_474_560),
            ..FatOptions::default()
        },
    )?;
    let mut out = Vec::new();
    plan.write(&mut out)?;
    Ok(out)
}

/// Builds the demo site under `dir` with `os_wim` as OS image and writes the media; returns
/// the outputs.
pub fn run(dir: &Path, os_wim: &Path) -> Result<Vec<PathBuf>> {
    for p in [
        "site",
        "media",
        "src-pe",
        "src-boot",
        "src-os",
        "src-tools",
        "prestaged.wim",
    ] {
        let p = dir.join(p);
        if p.is_dir() {
            std::fs::remove_dir_all(&p).with_context(|| format!("clearing {}", p.display()))?;
        } else if p.exists() {
            std::fs::remove_file(&p).with_context(|| format!("clearing {}", p.display()))?;
        }
    }
    let pe = dir.join("src-pe");
    let b = pe.join("Windows/Boot");
    write(
        &b.join("DVD/PCAT/etfsboot.com"),
        &bios_boot_image("tsmedia demo: BIOS boot", 0),
    )?;
    write(
        &b.join("DVD/EFI/en-US/efisys.bin"),
        &efisys(uefi_boot_app("tsmedia demo: UEFI boot"))?,
    )?;
    write(
        &b.join("EFI/bootmgfw.efi"),
        &uefi_boot_app("tsmedia demo: UEFI boot"),
    )?;
    write(&b.join("PCAT/bootmgr"), b"bootmgr stand-in")?;
    write(&b.join("DVD/PCAT/BCD"), b"BCD stand-in")?;
    write(&b.join("DVD/PCAT/boot.sdi"), &[0u8; 4096])?;
    write(
        &pe.join("Windows/System32/winpeshl.ini"),
        b"[LaunchApps]\r\nTsBootShell.exe\r\n",
    )?;
    let boot_wim = dir.join("src-boot/boot.wim");
    std::fs::create_dir_all(dir.join("src-boot"))?;
    let mut w = WimWriter::create(&boot_wim, WriteOptions::default())?;
    capture::capture(
        &pe,
        &mut w,
        &CaptureOptions {
            name: Some("Microsoft Windows PE (x64)".into()),
            ..CaptureOptions::default()
        },
    )?;
    w.finish(1)?;
    let tools = dir.join("src-tools");
    write(
        &tools.join("setup.cmd"),
        b"@echo off\r\necho demo tools\r\n",
    )?;

    let mut site = Site::init(&dir.join("site"), "DEM", Some("Demo site"))?;
    let boot = site.add_package(
        PackageType::BootImage,
        "Demo boot image (x64)",
        &boot_wim,
        &PackageOptions {
            arch: Some(Arch::X64),
            image_index: Some(1),
            ..PackageOptions::default()
        },
    )?;
    let os = site.add_package(
        PackageType::OsImage,
        "Demo OS image",
        os_wim,
        &PackageOptions::default(),
    )?;
    let pkg = site.add_package(
        PackageType::Package,
        "Demo tools",
        &tools,
        &PackageOptions::default(),
    )?;
    let xml = format!(
        r#"<sequence version="3.10"><referenceList><reference package="{os}" /><reference package="{pkg}" /></referenceList>
<step type="SMS_TaskSequence_ApplyOperatingSystemAction" name="Apply Operating System"><action>OSDApplyOS.exe /image:{os},1</action></step>
<step type="SMS_TaskSequence_RunCommandLineAction" name="Run setup" package="{pkg}"><action>smsswd.exe /run:{pkg} setup.cmd</action></step></sequence>"#,
        os = os.id,
        pkg = pkg.id
    );
    let ts = site.import_task_sequence(&xml, "Demo deployment", Some(&boot.id))?;
    site.add_distribution_point("dp1", "http://dp1.demo.invalid")?;
    site.grant_dp_read("dp1", "Everyone")?;
    site.distribute(&[boot.id.clone(), os.id.clone(), pkg.id.clone()], "dp1")?;
    site.add_management_point("mp1", "http://mp1.demo.invalid", &[])?;
    site.deploy(
        &ts.id,
        ALL_UNKNOWN_COMPUTERS,
        Availability::MediaPxe,
        Purpose::Available,
    )?;

    let mut outputs = Vec::new();
    for (kind, out) in [
        (MediaKind::Bootable, dir.join("media")),
        (MediaKind::Prestaged, dir.join("prestaged.wim")),
    ] {
        let spec = MediaSpec {
            kind,
            out,
            boot_image: Some(boot.id.clone()),
            dp: vec!["dp1".into()],
            ts: (kind == MediaKind::Prestaged).then(|| ts.id.clone()),
            os_image: (kind == MediaKind::Prestaged).then(|| os.id.clone()),
            password: Some("demo".into()),
            label: Some("TSMEDIA_DEMO".into()),
            ..MediaSpec::default()
        };
        let plan =
            tsmedia_media::preflight(&site, &spec).map_err(tsmedia_media::Error::Preflight)?;
        let report = tsmedia_media::build(&mut site, &plan, &BuildOptions::default())?;
        outputs.extend(report.outputs);
    }
    Ok(outputs)
}
