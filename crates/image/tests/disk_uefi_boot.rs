//! USB images boot under QEMU + OVMF (UEFI) from `EFI/BOOT/BOOTX64.EFI` on their FAT32
//! partition, attached as a USB mass-storage device. Needs `qemu-system-x86` and `ovmf`.

mod fat_support;

use std::path::Path;
use std::process::Command;

use tsmedia_image::boot_payload::uefi_boot_app;
use tsmedia_image::disk::{
    PartitionKind, PartitionTable, TargetOptions, UsbImageOptions, UsbImagePlan,
};
use tsmedia_image::fat::{FatOptions, FatTree};

const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.fd";
const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.fd";

/// Boots `image` as a USB stick under OVMF; returns (exit status, serial output).
fn boot_uefi_usb(dir: &Path, image: &Path) -> (Option<i32>, String) {
    assert!(
        Path::new(OVMF_CODE).exists() && Path::new(OVMF_VARS).exists(),
        "OVMF firmware missing; install the Debian package `ovmf`"
    );
    let vars = dir.join("vars.fd");
    std::fs::copy(OVMF_VARS, &vars).unwrap();
    let output = Command::new("timeout")
        .arg("60")
        .arg("qemu-system-x86_64")
        .args(["-m", "256", "-nographic", "-no-reboot", "-serial", "stdio"])
        .args(["-monitor", "none", "-net", "none"])
        .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"])
        .args(["-machine", "q35"])
        .args([
            "-drive",
            &format!("if=pflash,format=raw,readonly=on,file={OVMF_CODE}"),
        ])
        .args([
            "-drive",
            &format!("if=pflash,format=raw,file={}", vars.display()),
        ])
        .args([
            "-drive",
            &format!("if=none,id=s,file={},format=raw", image.display()),
        ])
        .args(["-device", "qemu-xhci", "-device", "usb-storage,drive=s"])
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

fn boots(table: PartitionTable, kind: PartitionKind, marker: &str) {
    let mut tree = FatTree::new();
    let app = uefi_boot_app(marker);
    tree.add_file("EFI/BOOT/BOOTX64.EFI", app.len() as u64, app)
        .unwrap();
    tree.add_file("SMS/data/TsmBootstrap.ini", 5, b"hello".to_vec())
        .unwrap();
    let plan = UsbImagePlan::new(
        tree,
        &UsbImageOptions {
            table,
            partition_kind: kind,
            guid_seed: Some(7),
            fat: FatOptions {
                label: Some("TSMEDIA".into()),
                ..FatOptions::default()
            },
            ..UsbImageOptions::default()
        },
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("usb.img");
    plan.write_to_path(&image, TargetOptions::default())
        .unwrap();
    let (status, serial) = boot_uefi_usb(dir.path(), &image);
    assert!(
        serial.contains(marker),
        "marker {marker:?} not on the serial console (status {status:?}):\n{serial}"
    );
    assert_eq!(status, Some(0), "QEMU exit status; serial:\n{serial}");
}

#[test]
fn gpt_esp_usb_boots_under_ovmf() {
    boots(
        PartitionTable::Gpt,
        PartitionKind::EfiSystem,
        "TSMEDIA-USB-GPT-UEFI-OK",
    );
}

#[test]
fn mbr_fat32_usb_boots_under_ovmf() {
    boots(
        PartitionTable::Mbr,
        PartitionKind::BasicData,
        "TSMEDIA-USB-MBR-UEFI-OK",
    );
}
