//! `bcdboot` on folders: a Windows-shaped tree in mixed case, an ESP that already has some
//! folders in another case, the BIOS layout, and images that lack the boot files.

use std::fs;
use std::path::Path;

use tsmedia_winboot::bcd::{BcdStore, BcdTarget, Firmware, PartitionRef};
use tsmedia_winboot::bootfiles::{BootFilesError, install_boot_files};
use tsmedia_winboot::regf::read_hive;
use uuid::Uuid;

fn put(root: &Path, rel: &str, data: &[u8]) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, data).expect("write");
}

/// A minimal x64 PE header, enough for the machine type.
fn pe_x64(marker: &[u8]) -> Vec<u8> {
    let mut v = vec![0u8; 0x90];
    v[0..2].copy_from_slice(b"MZ");
    v[0x3C] = 0x80;
    v[0x80..0x84].copy_from_slice(b"PE\0\0");
    v[0x84..0x86].copy_from_slice(&0x8664u16.to_le_bytes());
    v.extend_from_slice(marker);
    v
}

fn gpt_target(firmware: Firmware) -> BcdTarget {
    let disk = Uuid::from_u128(0x1111);
    BcdTarget::new(
        firmware,
        PartitionRef::Gpt {
            disk_guid: disk,
            partition_guid: Uuid::from_u128(0x2222),
        },
        PartitionRef::Gpt {
            disk_guid: disk,
            partition_guid: Uuid::from_u128(0x3333),
        },
    )
}

#[test]
fn uefi_layout_in_any_case() {
    let win = tempfile::tempdir().expect("tempdir");
    let esp = tempfile::tempdir().expect("tempdir");
    let bootmgfw = pe_x64(b"MARKER");
    put(win.path(), "WINDOWS/boot/efi/BOOTMGFW.EFI", &bootmgfw);
    put(win.path(), "WINDOWS/boot/efi/memtest.efi", b"memtest");
    put(
        win.path(),
        "WINDOWS/boot/efi/en-US/bootmgfw.efi.mui",
        b"mui",
    );
    put(win.path(), "WINDOWS/boot/Fonts/segoe_slboot.ttf", b"font");
    fs::create_dir_all(esp.path().join("efi/microsoft")).expect("existing ESP folders");

    let report =
        install_boot_files(win.path(), esp.path(), &gpt_target(Firmware::Uefi)).expect("install");
    assert_eq!(report.fallback_loader, "bootx64.efi");
    assert_eq!(report.bcd, "EFI/Microsoft/Boot/BCD");
    let e = esp.path();
    // Existing `efi/microsoft` reused, not doubled.
    assert!(
        !e.join("EFI").exists()
            || e.join("EFI").canonicalize().ok() == e.join("efi").canonicalize().ok()
    );
    assert_eq!(
        fs::read(e.join("efi/microsoft/Boot/BOOTMGFW.EFI")).expect("bootmgfw"),
        bootmgfw
    );
    assert_eq!(
        fs::read(e.join("efi/Boot/bootx64.efi")).expect("fallback loader"),
        bootmgfw
    );
    assert_eq!(
        fs::read(e.join("efi/microsoft/Boot/en-US/bootmgfw.efi.mui")).expect("mui"),
        b"mui"
    );
    assert_eq!(
        fs::read(e.join("efi/microsoft/Boot/memtest.efi")).expect("memtest"),
        b"memtest"
    );
    assert_eq!(
        fs::read(e.join("efi/microsoft/Boot/Fonts/segoe_slboot.ttf")).expect("font"),
        b"font"
    );
    let bcd = fs::read(e.join("efi/microsoft/Boot/BCD")).expect("BCD");
    assert_eq!(
        BcdStore::from_bytes(&bcd).expect("BCD reads back"),
        BcdStore::windows(&gpt_target(Firmware::Uefi))
    );
    assert!(
        read_hive(&bcd)
            .expect("hive")
            .find("Objects\\{9dea862c-5cdd-4e70-acc1-f32b344d4795}")
            .is_some()
    );
    assert!(
        report.copied.contains(&"EFI/Boot/bootx64.efi".to_string()),
        "{:?}",
        report.copied
    );

    // Running again (a re-run step) replaces the files in place.
    install_boot_files(win.path(), esp.path(), &gpt_target(Firmware::Uefi))
        .expect("second install");
    assert_eq!(
        fs::read_dir(e.join("efi/microsoft/Boot"))
            .expect("dir")
            .count(),
        5,
        "BOOTMGFW.EFI memtest.efi en-US Fonts BCD"
    );
}

#[test]
fn bios_layout() {
    let win = tempfile::tempdir().expect("tempdir");
    let sys = tempfile::tempdir().expect("tempdir");
    put(win.path(), "Windows/Boot/PCAT/bootmgr", b"bootmgr");
    put(win.path(), "Windows/Boot/PCAT/bootnxt", b"bootnxt");
    put(win.path(), "Windows/Boot/PCAT/memtest.exe", b"memtest");
    put(
        win.path(),
        "Windows/Boot/PCAT/en-US/bootmgr.exe.mui",
        b"mui",
    );
    put(win.path(), "Windows/Boot/Fonts/wgl4_boot.ttf", b"font");
    let target = BcdTarget::new(
        Firmware::Bios,
        PartitionRef::Mbr {
            disk_signature: 0x1234_5678,
            partition_offset: 1 << 20,
        },
        PartitionRef::Mbr {
            disk_signature: 0x1234_5678,
            partition_offset: 1 << 20,
        },
    );
    let report = install_boot_files(win.path(), sys.path(), &target).expect("install");
    let s = sys.path();
    assert_eq!(
        fs::read(s.join("bootmgr")).expect("bootmgr at the root"),
        b"bootmgr"
    );
    assert_eq!(
        fs::read(s.join("bootnxt")).expect("bootnxt at the root"),
        b"bootnxt"
    );
    assert_eq!(
        fs::read(s.join("Boot/memtest.exe")).expect("memtest"),
        b"memtest"
    );
    assert_eq!(
        fs::read(s.join("Boot/en-US/bootmgr.exe.mui")).expect("mui"),
        b"mui"
    );
    assert_eq!(
        fs::read(s.join("Boot/Fonts/wgl4_boot.ttf")).expect("font"),
        b"font"
    );
    assert!(!s.join("Boot/bootmgr").exists());
    assert_eq!(report.bcd, "Boot/BCD");
    assert_eq!(
        BcdStore::from_bytes(&fs::read(s.join("Boot/BCD")).expect("BCD")).expect("reads"),
        BcdStore::windows(&target)
    );
}

#[test]
fn missing_boot_files_are_named() {
    let win = tempfile::tempdir().expect("tempdir");
    let esp = tempfile::tempdir().expect("tempdir");
    let err = install_boot_files(win.path(), esp.path(), &gpt_target(Firmware::Uefi))
        .expect_err("no Windows folder");
    assert!(err.to_string().contains("has no Windows:"), "{err}");

    put(win.path(), "Windows/Boot/EFI/memtest.efi", b"memtest");
    let err = install_boot_files(win.path(), esp.path(), &gpt_target(Firmware::Uefi))
        .expect_err("no bootmgfw.efi");
    assert!(matches!(err, BootFilesError::MissingFile(_)));
    assert!(
        err.to_string().contains("Windows/Boot/EFI/bootmgfw.efi"),
        "{err}"
    );
    assert!(
        fs::read_dir(esp.path()).expect("esp").next().is_none(),
        "nothing written before the check"
    );

    let err = install_boot_files(win.path(), esp.path(), &gpt_target(Firmware::Bios))
        .expect_err("no PCAT");
    assert!(err.to_string().contains("Windows/Boot/PCAT"), "{err}");
}
