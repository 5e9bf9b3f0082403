//! The images really boot: SeaBIOS from the BIOS El Torito entry, OVMF from the UEFI one.
//! Needs qemu-system-x86, ovmf, dosfstools and mtools.

mod iso_common;

use iso_common::*;
use tsmedia_image::boot_payload::{bios_boot_image, uefi_boot_app};
use tsmedia_image::iso::{BootEntry, BootImage, IsoBuilder, IsoOptions};

/// The Windows-media shape: BIOS entry from `boot/etfsboot.com`, UEFI entry from
/// `efi/microsoft/boot/efisys.bin`, both visible files, plus some ordinary content.
fn windows_like(
    dir: &std::path::Path,
    bios_marker: &str,
    exit: u8,
    uefi_marker: &str,
) -> IsoBuilder {
    let efisys = efi_fat_image(dir, &uefi_boot_app(uefi_marker));
    let etfs = bios_boot_image(bios_marker, exit);
    let mut b = IsoBuilder::new(IsoOptions {
        volume_label: "CCP_Boot_Media".into(),
        timestamp: Some(1_700_000_000),
        ..IsoOptions::default()
    });
    b.add_file("boot/etfsboot.com", etfs.len() as u64, bytes(etfs))
        .unwrap();
    b.add_file(
        "efi/microsoft/boot/efisys.bin",
        efisys.len() as u64,
        bytes(efisys),
    )
    .unwrap();
    let data = pattern(7, 100_000);
    b.add_file("sources/boot.wim", data.len() as u64, bytes(data))
        .unwrap();
    b.add_file("SMS/data/TsmBootstrap.ini", 5, bytes(b"[x]\r\n".to_vec()))
        .unwrap();
    b.add_boot_entry(BootEntry::bios(BootImage::File("boot/etfsboot.com".into())));
    b.add_boot_entry(BootEntry::uefi(BootImage::File(
        "efi/microsoft/boot/efisys.bin".into(),
    )));
    b
}

#[test]
fn bios_cd_boot_prints_marker_and_exits_with_value() {
    let dir = tempfile::tempdir().unwrap();
    let iso = dir.path().join("media.iso");
    write_iso(
        windows_like(dir.path(), "tsmedia-bios-cd-7f3a", 16, "unused"),
        &iso,
    );
    let (status, out) = boot_bios_cd(&iso);
    assert!(
        out.contains("tsmedia-bios-cd-7f3a"),
        "no marker; status {status}, output:\n{out}"
    );
    assert_eq!(status, 33, "exit status (16 << 1 | 1); output:\n{out}");
}

#[test]
fn uefi_cd_boot_prints_marker_and_shuts_down() {
    let dir = tempfile::tempdir().unwrap();
    let iso = dir.path().join("media.iso");
    write_iso(
        windows_like(dir.path(), "unused", 1, "tsmedia-uefi-cd-51c2"),
        &iso,
    );
    let (status, out) = boot_uefi_cd(&iso, dir.path());
    assert!(
        out.contains("tsmedia-uefi-cd-51c2"),
        "no marker; status {status}, output:\n{out}"
    );
    assert_eq!(status, 0, "output:\n{out}");
}

#[test]
fn hidden_bios_image_boots_with_other_exit_value() {
    // A hidden image (not in any directory) and no Joliet/UDF: the minimal El Torito path.
    let dir = tempfile::tempdir().unwrap();
    let iso = dir.path().join("hidden.iso");
    let mut b = IsoBuilder::new(IsoOptions {
        timestamp: Some(0),
        joliet: false,
        udf: false,
        ..IsoOptions::default()
    });
    b.add_file("readme.txt", 2, bytes(b"hi".to_vec())).unwrap();
    b.add_boot_entry(BootEntry::bios(BootImage::Hidden(bios_boot_image(
        "tsmedia-hidden-0b",
        5,
    ))));
    write_iso(b, &iso);
    let (status, out) = boot_bios_cd(&iso);
    assert!(out.contains("tsmedia-hidden-0b"), "output:\n{out}");
    assert_eq!(status, 11, "output:\n{out}");
}

#[test]
fn uefi_only_image_boots() {
    let dir = tempfile::tempdir().unwrap();
    let iso = dir.path().join("uefi-only.iso");
    let efisys = efi_fat_image(dir.path(), &uefi_boot_app("tsmedia-uefi-only-9d"));
    let mut b = IsoBuilder::new(IsoOptions {
        timestamp: Some(0),
        ..IsoOptions::default()
    });
    b.add_boot_entry(BootEntry::uefi(BootImage::Hidden(efisys)));
    write_iso(b, &iso);
    let (status, out) = boot_uefi_cd(&iso, dir.path());
    assert!(out.contains("tsmedia-uefi-only-9d"), "output:\n{out}");
    assert_eq!(status, 0, "output:\n{out}");
}

#[test]
fn catalog_has_bios_default_entry_and_uefi_section() {
    let x = tool("xorriso", "xorriso");
    let dir = tempfile::tempdir().unwrap();
    let iso = dir.path().join("media.iso");
    let plan = write_iso(windows_like(dir.path(), "b", 1, "u"), &iso);
    let report = stdout_and_stderr(
        std::process::Command::new(x)
            .arg("-indev")
            .arg(&iso)
            .args(["-report_el_torito", "plain"]),
    );
    let boot = plan.boot_images();
    let bios_lba = boot[0].offset / 2048;
    let uefi_lba = boot[1].offset / 2048;
    // 1.44 MB FAT image = 2880 virtual sectors of 512 bytes.
    for want in [
        format!("El Torito boot img :   1  BIOS  y   none  0x0000  0x00      4 {bios_lba:>11}"),
        format!("El Torito boot img :   2  UEFI  y   none  0x0000  0x00   2880 {uefi_lba:>11}"),
        "El Torito img path :   1  /boot/etfsboot.com".to_owned(),
        "El Torito img path :   2  /efi/microsoft/boot/efisys.bin".to_owned(),
    ] {
        assert!(report.contains(&want), "missing {want:?} in:\n{report}");
    }
}
