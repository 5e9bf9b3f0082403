//! USB images boot under QEMU + SeaBIOS through the generated MBR chain loader, which loads a
//! boot program stored as a file in the FAT32 partition. Needs `qemu-system-x86`.

mod fat_support;

use std::path::Path;
use std::process::Command;

use tsmedia_image::boot_payload::bios_boot_image;
use tsmedia_image::disk::{
    Error, PartitionKind, PartitionTable, TargetOptions, UsbImageOptions, UsbImagePlan,
};
use tsmedia_image::fat::FatTree;

const EXIT_VALUE: u8 = 16;

fn boot_bios(image: &Path, attach: &[&str]) -> (Option<i32>, String) {
    let drive = format!("file={},format=raw", image.display());
    let attach: Vec<String> = attach
        .iter()
        .map(|a| a.replace("{drive}", &drive))
        .collect();
    let output = Command::new("timeout")
        .arg("60")
        .arg("qemu-system-x86_64")
        .args(["-m", "256", "-nographic", "-no-reboot", "-serial", "stdio"])
        .args(["-monitor", "none", "-net", "none"])
        .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"])
        .args(&attach)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run qemu-system-x86_64 ({e}); install the Debian package `qemu-system-x86`"
            )
        });
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

fn image(table: PartitionTable, marker: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let mut tree = FatTree::new();
    let boot = bios_boot_image(marker, EXIT_VALUE);
    tree.add_file("readme.txt", 3000, vec![b'x'; 3000]).unwrap();
    tree.add_file("boot/tsboot.bin", boot.len() as u64, boot)
        .unwrap();
    let plan = UsbImagePlan::new(
        tree,
        &UsbImageOptions {
            table,
            partition_kind: PartitionKind::BasicData,
            guid_seed: Some(3),
            bios_boot_file: Some("BOOT/TSBOOT.BIN".into()),
            ..UsbImageOptions::default()
        },
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("usb.img");
    plan.write_to_path(&path, TargetOptions::default()).unwrap();
    (dir, path)
}

fn assert_booted(status: Option<i32>, serial: &str, marker: &str) {
    assert!(
        serial.contains(marker),
        "marker {marker:?} missing (status {status:?}):\n{serial}"
    );
    assert_eq!(
        status,
        Some(i32::from(EXIT_VALUE) << 1 | 1),
        "serial:\n{serial}"
    );
}

#[test]
fn mbr_usb_image_boots_under_seabios_as_usb_storage() {
    let marker = "TSMEDIA-USB-MBR-BIOS-OK";
    let (_dir, path) = image(PartitionTable::Mbr, marker);
    let (status, serial) = boot_bios(
        &path,
        &[
            "-drive",
            "if=none,id=s,{drive}",
            "-device",
            "qemu-xhci",
            "-device",
            "usb-storage,drive=s",
        ],
    );
    assert_booted(status, &serial, marker);
}

#[test]
fn gpt_usb_image_boots_under_seabios_as_a_disk() {
    let marker = "TSMEDIA-USB-GPT-BIOS-OK";
    let (_dir, path) = image(PartitionTable::Gpt, marker);
    let (status, serial) = boot_bios(&path, &["-drive", "{drive},if=ide,media=disk"]);
    assert_booted(status, &serial, marker);
}

#[test]
fn bios_boot_file_must_exist_and_be_small() {
    let plan = |size: usize, path: &str| {
        let mut tree = FatTree::new();
        tree.add_file("boot.bin", size as u64, vec![0u8; size])
            .unwrap();
        UsbImagePlan::new(
            tree,
            &UsbImageOptions {
                bios_boot_file: Some(path.into()),
                ..UsbImageOptions::default()
            },
        )
    };
    assert!(plan(2048, "boot.bin").is_ok());
    assert!(matches!(
        plan(2048, "missing.bin"),
        Err(Error::InvalidOption(_))
    ));
    assert!(matches!(
        plan(128 * 512, "boot.bin"),
        Err(Error::InvalidOption(_))
    ));
    assert!(matches!(plan(0, "boot.bin"), Err(Error::InvalidOption(_))));
}
