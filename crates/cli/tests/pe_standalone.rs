//! Stand-alone media with a tsmedia PE boot image do the job on a virtual machine (QEMU, TCG):
//! the ISO boots under SeaBIOS, OVMF and OVMF with Secure Boot enforcing; the password is typed
//! on the serial console; the task sequence (Run Command Line in busybox sh, Set Task Sequence
//! Variable with a condition, Format and Partition Disk GPT + FAT32, Apply Data Image) runs on a
//! blank virtio disk and the machine powers off. The disk is then checked on the host with
//! sgdisk, fsck.fat and mtools: the applied files, what the commands wrote, and
//! `_SMSTaskSequence/Logs/smsts.log` in CMTrace format. Three wrong passwords end with a clear
//! message and a disk still blank.
//!
//! Debian packages: qemu-system-x86, ovmf, gdisk, dosfstools, mtools, binutils, and tsmedia
//! PE's packages (`scripts/fetch-pe-debs.sh`).

mod common;
mod pe_common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{require, run, s};
use pe_common::{
    Firmware, PeSite, Vm, blank_disk, cdrom_and_disk, first_partition_start, mtype,
    usb_stick_and_disk,
};

const PASSWORD: &str = "Correct-Horse-7";

/// A site with tsmedia PE as its boot image, a data image and a task sequence; returns the
/// stand-alone ISO.
fn standalone_iso(dir: &Path) -> PathBuf {
    // A failing run powers off 5 s after its failure screen.
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let site = PeSite::new(
        dir,
        "LAB",
        &["tsmedia.failwait=5"],
        &[
            ("hello.txt", b"hello from the data image\n"),
            ("Apps/Tool/tool.bin", &big),
        ],
    );
    let (boot, image) = (site.boot.clone(), site.image.clone());
    let t = |args: &[&str]| site.run(args);
    t(&["dp", "add", "dp1", "--url", "http://dp1.example"]);
    t(&["dp", "grant", "dp1", "--principal", "Everyone"]);
    t(&["content", "distribute", &boot, "--dp", "dp1"]);
    t(&["content", "distribute", &image, "--dp", "dp1"]);
    let ts = site.task_sequence(
        dir,
        "Deploy data",
        &format!(
            r#"<sequence version="3.10"><referenceList><reference package="{image}" /></referenceList>
<step type="SMS_TaskSequence_RunCommandLineAction" name="Say hello">
  <defaultVarList><variable name="CommandLine" property="CommandLine">echo "hello from busybox $(uname -s)"</variable></defaultVarList></step>
<step type="SMS_TaskSequence_SetVariableAction" name="Colour for stand-alone media">
  <condition><expression type="SMS_TaskSequence_VariableConditionExpression">
    <variable name="Operator">equals</variable><variable name="Value">FullMedia</variable><variable name="Variable">_SMSTSMediaType</variable>
  </expression></condition>
  <defaultVarList><variable name="VariableName" property="VariableName">Colour</variable><variable name="VariableValue" property="VariableValue">blue</variable></defaultVarList></step>
<step type="SMS_TaskSequence_SetVariableAction" name="Colour for boot media">
  <condition><expression type="SMS_TaskSequence_VariableConditionExpression">
    <variable name="Operator">equals</variable><variable name="Value">BootMedia</variable><variable name="Variable">_SMSTSMediaType</variable>
  </expression></condition>
  <defaultVarList><variable name="VariableName" property="VariableName">Colour</variable><variable name="VariableValue" property="VariableValue">red</variable></defaultVarList></step>
<step type="SMS_TaskSequence_PartitionDiskAction" name="Format and Partition Disk 0">
  <defaultVarList><variable name="OSDPartitionStyle" property="PartitionStyle">GPT</variable>
  <variable name="OSDPartitions0VolumeName" property="VolumeName">DEPLOYED</variable>
  <variable name="OSDPartitions0VolumeLetterVariable" property="VolumeLetterVariable">DataVol</variable></defaultVarList></step>
<step type="SMS_TaskSequence_ApplyDataImageAction" name="Apply Data Image">
  <action>OSDApplyOS.exe /image:{image},1</action></step>
<step type="SMS_TaskSequence_RunCommandLineAction" name="Write the colour">
  <defaultVarList><variable name="CommandLine" property="CommandLine">printf '%s' "$Colour" &gt; "$DataVol/colour.txt"</variable></defaultVarList></step>
</sequence>"#
        ),
    );
    let out = dir.join("media");
    t(&[
        "media",
        "create",
        "standalone",
        "--ts",
        &ts,
        "--dp",
        "dp1",
        "--out",
        s(&out),
        "--password",
        PASSWORD,
    ]);
    let iso = out.join("media.iso");
    assert!(iso.is_file(), "no {}", iso.display());
    iso
}

/// Boots, types the password, waits for the power-off; returns the console.
fn deploy(dir: &Path, iso: &Path, firmware: Firmware, disk: &Path) -> String {
    let mut vm = Vm::start(dir, firmware, &cdrom_and_disk(iso, disk), false);
    let at = vm.wait_for("Media password:", 0);
    vm.type_line(PASSWORD);
    vm.wait_for("tsmedia PE: running the task sequence", at);
    let (console, secs) = vm.finish();
    assert!(
        !console.contains(PASSWORD),
        "{firmware:?}: the password was echoed:\n{console}"
    );
    eprintln!("{firmware:?}: the task sequence ran and the VM powered off after {secs:.1} s (TCG)");
    console
}

/// Checks the deployed disk on the host.
fn check_disk(dir: &Path, disk: &Path) {
    let start = first_partition_start(disk);
    // The volume alone, for fsck.fat and mtools.
    let volume = dir.join(format!(
        "{}.vol",
        disk.file_name().unwrap().to_string_lossy()
    ));
    run(Command::new("dd")
        .arg(format!("if={}", disk.display()))
        .arg(format!("of={}", volume.display()))
        .arg(format!("skip={start}"))
        .args(["bs=512", "status=none"]));
    run(Command::new("fsck.fat").args(["-n"]).arg(&volume));
    let image = volume.to_str().expect("utf-8 path");
    let mtype = |path: &str| mtype(image, path);
    assert_eq!(mtype("/hello.txt"), "hello from the data image\n");
    assert_eq!(mtype("/colour.txt"), "blue");
    let tool = run(Command::new("mdir")
        .arg("-i")
        .arg(&volume)
        .arg("::/Apps/Tool"));
    assert!(
        String::from_utf8_lossy(&tool.stdout).contains("300000"),
        "{}",
        String::from_utf8_lossy(&tool.stdout)
    );
    let log = mtype("/_SMSTaskSequence/Logs/smsts.log");
    assert!(log.starts_with("<![LOG["), "not CMTrace: {log}");
    for want in [
        "Say hello",
        "Apply Data Image",
        "Format and Partition Disk 0",
        "DataVol = ",
    ] {
        assert!(log.contains(want), "smsts.log lacks {want:?}:\n{log}");
    }
    assert!(
        !log.contains("Colour for boot media\" ran"),
        "the false condition ran:\n{log}"
    );
}

#[test]
fn standalone_iso_deploys_a_blank_disk_under_bios_uefi_and_secure_boot() {
    for (tool, package) in [
        ("sgdisk", "gdisk"),
        ("fsck.fat", "dosfstools"),
        ("mtype", "mtools"),
    ] {
        require(tool, package);
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let iso = standalone_iso(dir);

    // The ISO is hybrid: written to a USB stick as it is, SeaBIOS boots it from the stick
    // (ISOLINUX's MBR) and the session finds its medium there. Then three wrong passwords: a
    // clear message, and nothing written to the disk.
    let disk = blank_disk(dir, "untouched.img");
    let stick = dir.join("stick.img");
    std::fs::copy(&iso, &stick).expect("write the ISO to the stick");
    let usb = usb_stick_and_disk(&stick, &disk);
    let mut vm = Vm::start(dir, Firmware::Bios, &usb, false);
    let mut at = 0;
    for _ in 0..3 {
        at = vm.wait_for("Media password:", at);
        vm.type_line("wrong");
    }
    let (console, _) = vm.finish();
    assert!(console.contains("tsmedia PE: firmware BIOS"), "{console}");
    assert!(
        console.contains("on /dev/sd"),
        "the medium is the USB disk:\n{console}"
    );
    assert!(console.contains("Wrong password"), "{console}");
    assert!(
        console.contains("nothing was written to any disk"),
        "{console}"
    );
    let bytes = std::fs::read(&disk).expect("disk");
    assert!(bytes.iter().all(|b| *b == 0), "the disk was written to");

    for (firmware, name) in [
        (Firmware::Bios, "bios.img"),
        (Firmware::Uefi, "uefi.img"),
        (Firmware::SecureBoot, "secure-boot.img"),
    ] {
        let disk = blank_disk(dir, name);
        let console = deploy(dir, &iso, firmware, &disk);
        assert!(
            console.contains("tsmedia PE: the task sequence completed."),
            "{firmware:?}:\n{console}"
        );
        let shown = match firmware {
            Firmware::Bios => "tsmedia PE: firmware BIOS\r",
            Firmware::Uefi => "tsmedia PE: firmware UEFI\r",
            Firmware::SecureBoot => "tsmedia PE: firmware UEFI, Secure Boot enforcing",
        };
        assert!(
            console.contains(shown),
            "{firmware:?}: no {shown:?}:\n{console}"
        );
        check_disk(dir, &disk);
    }
}
