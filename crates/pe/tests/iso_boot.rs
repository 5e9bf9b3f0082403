//! An ISO holding tsmedia PE, built from Debian's real packages, boots under QEMU through each
//! firmware's chain: SeaBIOS → ISOLINUX (El Torito BIOS entry with its boot information table);
//! OVMF → shim → signed GRUB (El Torito UEFI entry); and OVMF with Secure Boot enforcing, where
//! shim, GRUB, the kernel and every module must carry valid signatures. In each case `/init`
//! runs its self-test (modules loaded, the session program started) and powers off.
//!
//! The session program here is the host's `env` (an x86-64 program linked against the C
//! library, as the tsmedia runtime is); the CLI's `pe_boot` test boots the real runtime.
//! The packages come from `scripts/fetch-pe-debs.sh` (run by `scripts/test.sh`) in
//! `target/pe-debs` or `TSMEDIA_PE_DEBS`; missing packages or tools fail the test.

use std::path::{Path, PathBuf};
use std::process::Command;

use tsmedia_image::iso::{IsoBuilder, IsoOptions};
use tsmedia_pe::{PeOptions, boot_media, build};

fn debs() -> PathBuf {
    let dir = std::env::var_os("TSMEDIA_PE_DEBS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/pe-debs"));
    assert!(
        dir.join(".").is_dir()
            && std::fs::read_dir(&dir)
                .map(|d| {
                    d.filter_map(|e| e.ok())
                        .any(|e| e.file_name().to_string_lossy().starts_with("linux-image-"))
                })
                .unwrap_or(false),
        "no tsmedia PE packages in {}: run scripts/fetch-pe-debs.sh (scripts/test.sh does)",
        dir.display()
    );
    dir
}

fn require(path: &str, package: &str) {
    assert!(
        Path::new(path).exists(),
        "{path} is required (Debian package {package}); run ./scripts/test.sh, which installs it"
    );
}

/// The ISO, built once for the three boots.
fn pe_iso(dir: &Path) -> PathBuf {
    let pe = build(&PeOptions {
        debs: debs(),
        runtime: PathBuf::from("/usr/bin/env"),
        extra_modules: Vec::new(),
        kernel_args: vec!["tsmedia.selftest".into()],
    })
    .expect("build tsmedia PE");
    let mut iso = IsoBuilder::new(IsoOptions {
        volume_label: "TSPE".into(),
        timestamp: Some(0),
        ..IsoOptions::default()
    });
    let boot = boot_media::add_to_iso(&mut iso, &pe.files).expect("lay out");
    let mut plan = iso.plan().expect("plan");
    boot_media::finish_iso(&mut plan, &boot).expect("finish");
    let path = dir.join("pe.iso");
    let file = std::fs::File::create(&path).expect("create iso");
    tsmedia_image::iso::write(&plan, std::io::BufWriter::new(file)).expect("write iso");
    path
}

fn qemu(args: &[&str]) -> String {
    let out = Command::new("timeout")
        .args([
            "300",
            "qemu-system-x86_64",
            "-m",
            "1024",
            "-nographic",
            "-no-reboot",
        ])
        .args(["-monitor", "none", "-net", "none", "-serial", "stdio"])
        .args(args)
        .output()
        .expect("run qemu (Debian package qemu-system-x86)");
    let console = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        console.contains("TSMEDIA-PE-SELFTEST-OK"),
        "tsmedia PE did not finish its self-test (exit {}):\n{console}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(console.contains("tsmedia PE: runtime"), "{console}");
    console
}

#[test]
fn the_pe_iso_boots_under_bios_uefi_and_uefi_with_secure_boot() {
    require("/usr/share/OVMF/OVMF_CODE_4M.secboot.fd", "ovmf");
    let tmp = tempfile::tempdir().expect("tempdir");
    let iso = pe_iso(tmp.path());
    let iso = iso.to_str().expect("utf-8 path");

    // BIOS: SeaBIOS, El Torito no-emulation entry → ISOLINUX.
    let console = qemu(&["-cdrom", iso, "-boot", "d"]);
    assert!(
        console.contains("tsmedia PE: firmware BIOS\r\n")
            || console.contains("tsmedia PE: firmware BIOS\n"),
        "{console}"
    );

    // UEFI: OVMF → shim → GRUB.
    let vars = tmp.path().join("vars.fd");
    std::fs::copy("/usr/share/OVMF/OVMF_VARS_4M.fd", &vars).expect("vars");
    let vars_arg = format!("if=pflash,format=raw,file={}", vars.display());
    let console = qemu(&[
        "-machine",
        "q35",
        "-drive",
        "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
        "-drive",
        &vars_arg,
        "-cdrom",
        iso,
    ]);
    assert!(
        console.contains("tsmedia PE: firmware UEFI\r\n")
            || console.contains("tsmedia PE: firmware UEFI\n"),
        "{console}"
    );

    // UEFI with Secure Boot enforcing: Microsoft's keys enrolled; shim, GRUB, kernel and
    // modules all checked.
    let sb_vars = tmp.path().join("vars-ms.fd");
    std::fs::copy("/usr/share/OVMF/OVMF_VARS_4M.ms.fd", &sb_vars).expect("ms vars");
    let sb_vars_arg = format!("if=pflash,format=raw,file={}", sb_vars.display());
    let console = qemu(&[
        "-machine",
        "q35,smm=on",
        "-global",
        "driver=cfi.pflash01,property=secure,value=on",
        "-drive",
        "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd",
        "-drive",
        &sb_vars_arg,
        "-cdrom",
        iso,
    ]);
    assert!(
        console.contains("tsmedia PE: firmware UEFI, Secure Boot enforcing"),
        "{console}"
    );
}

/// A disk laid out as `tsmedia prestage apply` lays out prestaged media: ISOLINUX's hybrid
/// MBR, the ISO 9660 boot area before the partition, the PE's files on a FAT32 partition
/// (GPT). SeaBIOS boots it as a hard disk through ISOLINUX.
#[test]
fn a_prestaged_disk_layout_boots_under_bios() {
    use tsmedia_image::disk::{
        PartitionKind, PartitionTable, TargetOptions, UsbImageOptions, UsbImagePlan,
    };
    use tsmedia_image::fat::FatTree;
    let tmp = tempfile::tempdir().expect("tempdir");
    let pe = build(&PeOptions {
        debs: debs(),
        runtime: PathBuf::from("/usr/bin/env"),
        extra_modules: Vec::new(),
        kernel_args: vec!["tsmedia.selftest".into()],
    })
    .expect("build tsmedia PE");
    let area = boot_media::disk_bios_area(
        pe.files
            .iter()
            .filter(|f| boot_media::is_bios_area_file(&f.path))
            .map(|f| (f.path.clone(), f.data.clone()))
            .collect(),
        0,
    )
    .expect("BIOS area");
    let mut tree = FatTree::new();
    for f in &pe.files {
        tree.add_file(&f.path, f.data.len() as u64, f.data.clone())
            .expect("declare");
    }
    let plan = UsbImagePlan::new(
        tree,
        &UsbImageOptions {
            table: PartitionTable::Gpt,
            partition_kind: PartitionKind::EfiSystem,
            guid_seed: Some(7),
            mbr_boot_code: Some(area.mbr_code.clone()),
            leading_area: area.area.clone(),
            ..UsbImageOptions::default()
        },
    )
    .expect("plan the disk");
    assert!(plan.partition_offset() >= area.area.len() as u64);
    let disk = tmp.path().join("staged.img");
    plan.write_to_path(&disk, TargetOptions::default())
        .expect("write the disk");
    let drive = format!("file={},format=raw,if=ide", disk.display());
    let console = qemu(&["-drive", &drive, "-boot", "c"]);
    assert!(
        console.contains("tsmedia PE: firmware BIOS\r\n")
            || console.contains("tsmedia PE: firmware BIOS\n"),
        "{console}"
    );
}
