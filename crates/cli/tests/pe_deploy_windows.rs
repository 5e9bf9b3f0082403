//! tsmedia PE deploys a Windows-shaped image onto NTFS and the deployed disk boots (QEMU, TCG,
//! OVMF).
//!
//! The OS image is made on the host as Windows would hold it (tests/ntfs_common: security
//! descriptors, named streams, a symbolic link and a junction, short names, hard links,
//! attributes, 100 ns times) with `Windows/Boot/EFI/bootmgfw.efi` a tiny EFI program that
//! prints a marker and powers off. Stand-alone media run Format and Partition Disk (the UEFI
//! layout: ESP FAT32, MSR, Windows NTFS, recovery NTFS) on a blank 16 GiB sparse disk, Apply
//! Operating System onto NTFS, Apply Driver Package, Apply Windows Settings and Setup Windows
//! and ConfigMgr, which restarts: QEMU (`-no-reboot`) exits. The disk alone then boots under
//! OVMF and the marker appears. On the host: `sgdisk -v`, `ntfsfix -n` on the Windows
//! partition, the BCD store read back by `hivexsh` (the Windows Boot Loader's device and
//! osdevice name the Windows partition's GUID), the answer file, and no secret in smsts.log.
//! A second run with an image index that does not exist fails with the reason on the screen
//! and in the log.
//!
//! Debian packages: qemu-system-x86, ovmf, gdisk, mtools, ntfs-3g, libhivex-bin, wimtools,
//! binutils, and tsmedia PE's packages (`scripts/fetch-pe-debs.sh`). Needs root (FUSE).

mod common;
mod ntfs_common;
mod pe_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{require, run, s, wimlib};
use ntfs_common::{MIB, fill_source, mkntfs};
use pe_common::{Firmware, PeSite, Vm, cdrom_and_disk, mtype};

const MARKER: &str = "TSMEDIA-DEPLOYED-DISK-BOOTED";
const ADMIN_PASSWORD: &str = "Adm1n-S3cret-Pw";

/// The Windows-shaped OS image, captured by wimlib from an NTFS volume; `WINDOWS/ARCH` = 9.
fn windows_wim(dir: &Path) -> PathBuf {
    let src = dir.join("src.img");
    mkntfs(&src, 64 * MIB);
    let efi = tsmedia_image::boot_payload::uefi_boot_app(MARKER);
    fill_source(
        &src,
        &[
            ("Windows/Boot/EFI/bootmgfw.efi", &efi),
            ("Windows/Boot/EFI/en-US/bootmgfw.efi.mui", b"mui"),
            ("Windows/Boot/Fonts/wgl4_boot.ttf", b"font"),
            (
                "Windows/System32/drivers/etc/hosts",
                b"127.0.0.1 localhost\r\n",
            ),
        ],
    );
    let wim = dir.join("install.wim");
    wimlib(&["capture", s(&src), s(&wim), "Windows 10 Enterprise"]);
    wimlib(&["info", s(&wim), "1", "--image-property", "WINDOWS/ARCH=9"]);
    wim
}

/// The site, the media and the ISO; `index` is the image index the task sequence applies.
fn media(dir: &Path, index: u32) -> PathBuf {
    let site = PeSite::new(
        dir,
        "LAB",
        &["tsmedia.failwait=2"],
        &[("readme.txt", b"data")],
    );
    let t = |args: &[&str]| site.run(args);
    let wim = windows_wim(dir);
    let os = t(&[
        "package",
        "add",
        "--type",
        "os-image",
        "--name",
        "Windows 10",
        s(&wim),
    ]);
    let drivers = dir.join("drivers");
    std::fs::create_dir_all(drivers.join("net")).expect("drivers");
    std::fs::write(
        drivers.join("net/tsnet.inf"),
        "[Version]\r\nSignature=\"$WINDOWS NT$\"\r\nClass=Net\r\n",
    )
    .expect("inf");
    std::fs::write(drivers.join("net/tsnet.sys"), b"driver").expect("sys");
    let drv = t(&[
        "package",
        "add",
        "--type",
        "driver",
        "--name",
        "Net driver",
        s(&drivers),
    ]);
    let client_files = dir.join("client");
    std::fs::create_dir_all(&client_files).expect("client");
    std::fs::write(client_files.join("ccmsetup.exe"), b"MZ").expect("ccmsetup");
    let client = t(&[
        "package",
        "add",
        "--type",
        "package",
        "--name",
        "Configuration Manager Client Package",
        s(&client_files),
    ]);
    t(&["dp", "add", "dp1", "--url", "http://dp1.example"]);
    t(&["dp", "grant", "dp1", "--principal", "Everyone"]);
    for id in [&site.boot, &os, &drv, &client] {
        t(&["content", "distribute", id, "--dp", "dp1"]);
    }
    let v = |n: &str, v: &str| format!(r#"<variable name="{n}" property="{n}">{v}</variable>"#);
    let partitions: String = [
        v("OSDDiskIndex", "0"),
        v("OSDPartitions0Type", "EFI"),
        v("OSDPartitions0FileSystem", "FAT32"),
        v("OSDPartitions0Size", "260"),
        v("OSDPartitions0SizeUnits", "MB"),
        v("OSDPartitions0VolumeName", "System"),
        v("OSDPartitions1Type", "MSR"),
        v("OSDPartitions1Size", "16"),
        v("OSDPartitions2Type", "Primary"),
        v("OSDPartitions2FileSystem", "NTFS"),
        v("OSDPartitions2Size", "99"),
        v("OSDPartitions2SizeUnits", "%"),
        v("OSDPartitions2VolumeName", "Windows"),
        v("OSDPartitions2QuickFormat", "True"),
        v("OSDPartitions2Variable", "OSDisk"),
        v("OSDPartitions3Type", "Recovery"),
        v("OSDPartitions3FileSystem", "NTFS"),
        v("OSDPartitions3Size", "100"),
        v("OSDPartitions3SizeUnits", "%"),
        v("OSDPartitions3VolumeName", "Recovery"),
        v("OSDPartitions", "4"),
        v("OSDPartitionStyle", "GPT"),
    ]
    .concat();
    let settings: String = [
        v("OSDComputerName", "DEPLOYED-PC"),
        v("OSDRegisteredUserName", "Lab User"),
        v("OSDRegisteredOrgName", "Contoso Lab"),
        v("OSDTimeZone", "W. Europe Standard Time"),
        v("OSDLocalAdminPassword", ADMIN_PASSWORD),
    ]
    .concat();
    let ts = site.task_sequence(
        dir,
        "Deploy Windows",
        &format!(
            r#"<sequence version="3.10"><referenceList><reference package="{os}" /><reference package="{drv}" /><reference package="{client}" /></referenceList>
<step type="SMS_TaskSequence_PartitionDiskAction" name="Partition Disk 0 - UEFI"><action>OSDDiskPart.exe</action>
  <defaultVarList>{partitions}</defaultVarList></step>
<step type="SMS_TaskSequence_ApplyOperatingSystemAction" name="Apply Operating System">
  <action>OSDApplyOS.exe /image:{os},{index} /target:%OSDisk% /runfromnet:False</action></step>
<step type="SMS_TaskSequence_ApplyDriverPackageAction" name="Apply Driver Package">
  <defaultVarList>{drvvar}</defaultVarList></step>
<step type="SMS_TaskSequence_ApplyWindowsSettingsAction" name="Apply Windows Settings">
  <defaultVarList>{settings}</defaultVarList></step>
<step type="SMS_TaskSequence_SetupWindowsAndSMSAction" name="Setup Windows and ConfigMgr">
  <action>OSDSetupWindows.exe /client:{client}</action></step>
<step type="SMS_TaskSequence_RunCommandLineAction" name="After the restart" runIn="FullOS">
  <defaultVarList>{cmd}</defaultVarList></step>
</sequence>"#,
            drvvar = v("OSDApplyDriverDriverPackageID", &drv),
            cmd = v("CommandLine", "echo in the full OS"),
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
    ]);
    out.join("media.iso")
}

/// A blank sparse disk of 16 GiB.
fn blank_16g(dir: &Path) -> PathBuf {
    let disk = dir.join("disk.img");
    std::fs::File::create(&disk)
        .and_then(|f| f.set_len(16 << 30))
        .expect("disk");
    disk
}

/// `sgdisk -p` rows: (number, first sector, last sector, code).
fn partitions(disk: &Path) -> Vec<(u32, u64, u64, String)> {
    let out = run(Command::new("sgdisk").arg("-p").arg(disk));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let n = w.first()?.parse().ok()?;
            Some((
                n,
                w.get(1)?.parse().ok()?,
                w.get(2)?.parse().ok()?,
                w.get(5)?.to_string(),
            ))
        })
        .collect()
}

/// Partition `n` of `disk` copied to its own (sparse) file.
fn cut(dir: &Path, disk: &Path, part: &(u32, u64, u64, String)) -> PathBuf {
    let out = dir.join(format!("part{}.img", part.0));
    run(Command::new("dd")
        .arg(format!("if={}", disk.display()))
        .arg(format!("of={}", out.display()))
        .arg(format!("skip={}", part.1 / 2048))
        .arg(format!("count={}", (part.2 + 1 - part.1) / 2048))
        .args(["bs=1M", "conv=sparse", "status=none"]));
    out
}

/// A GUID as text (`sgdisk -i`) in its on-disk byte order.
fn guid_bytes(text: &str) -> Vec<u8> {
    let hex: String = text.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    let b: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
        .collect();
    let mut out = vec![b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6]];
    out.extend_from_slice(&b[8..]);
    out
}

/// Runs a hivexsh script against a hive; returns what it printed.
fn hivexsh(hive: &Path, script: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("hivexsh")
        .arg(hive)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hivexsh (libhivex-bin)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("script");
    let out = child.wait_with_output().expect("hivexsh");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `"Element"=hex(3):aa,bb,...` → the bytes.
fn element_bytes(lsval: &str) -> Option<Vec<u8>> {
    let hex = lsval
        .lines()
        .find_map(|l| l.trim().strip_prefix("\"Element\"=hex(3):"))?;
    hex.split(',')
        .map(|x| u8::from_str_radix(x.trim(), 16).ok())
        .collect()
}

#[test]
fn windows_is_deployed_onto_ntfs_and_the_disk_boots() {
    for (tool, package) in [
        ("sgdisk", "gdisk"),
        ("mtype", "mtools"),
        ("ntfsfix", "ntfs-3g"),
        ("hivexsh", "libhivex-bin"),
    ] {
        require(tool, package);
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let iso = media(dir, 1);
    let disk = blank_16g(dir);

    // Boot 1: tsmedia PE runs the task sequence; Setup Windows and ConfigMgr restarts and
    // QEMU (-no-reboot) exits.
    let mut vm = Vm::start(dir, Firmware::Uefi, &cdrom_and_disk(&iso, &disk), false);
    vm.wait_for("tsmedia PE: running the task sequence", 0);
    let (console, secs) = vm.finish();
    eprintln!("boot 1 (tsmedia PE, the deployment): {secs:.1} s (TCG)");
    assert!(
        console.contains("tsmedia PE: restarting"),
        "no restart:\n{console}"
    );
    assert!(
        !console.contains(ADMIN_PASSWORD),
        "the password was shown:\n{console}"
    );

    // Boot 2: the disk alone, under OVMF: the firmware starts \EFI\Boot\bootx64.efi.
    let only_disk = vec![
        "-drive".to_string(),
        format!("if=virtio,format=raw,file={}", disk.display()),
    ];
    let mut vm = Vm::start(dir, Firmware::Uefi, &only_disk, false);
    vm.wait_for(MARKER, 0);
    let (_, secs) = vm.finish();
    eprintln!("boot 2 (the deployed disk): the marker after {secs:.1} s");

    // The disk on the host.
    let verify = run(Command::new("sgdisk").arg("-v").arg(&disk));
    let verify = String::from_utf8_lossy(&verify.stdout);
    assert!(verify.contains("No problems found"), "{verify}");
    let parts = partitions(&disk);
    let codes: Vec<&str> = parts.iter().map(|p| p.3.as_str()).collect();
    assert_eq!(codes, ["EF00", "0C01", "0700", "2700"], "{parts:?}");

    let windows = cut(dir, &disk, &parts[2]);
    let fix = run(Command::new("ntfsfix").arg("-n").arg(&windows));
    let fix = String::from_utf8_lossy(&fix.stdout);
    assert!(fix.contains("processed successfully"), "{fix}");
    let m = tsmedia_ntfs::Mount::new(&windows).expect("mount the Windows partition");
    let root = m.path();
    let read =
        |p: &str| std::fs::read_to_string(root.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    assert_eq!(read("Program Files/LongFileName.txt:ads1"), "stream data");
    assert_eq!(
        read("Windows/System32/drivers/etc/hosts"),
        "127.0.0.1 localhost\r\n"
    );
    assert_eq!(
        xattr::get(root.join("Program Files"), tsmedia_ntfs::XATTR_DOS_NAME)
            .expect("xattr")
            .as_deref(),
        Some(&b"PROGRA~1"[..])
    );
    let unattend = read("Windows/Panther/unattend.xml");
    for want in ["DEPLOYED-PC", "Contoso Lab", "W. Europe Standard Time"] {
        assert!(
            unattend.contains(want),
            "unattend.xml lacks {want}:\n{unattend}"
        );
    }
    assert!(
        !unattend.contains(ADMIN_PASSWORD),
        "clear password:\n{unattend}"
    );
    let drivers = std::fs::read_dir(root.join("Drivers"))
        .expect("Drivers")
        .count();
    assert_eq!(drivers, 1);
    let log = read("_SMSTaskSequence/Logs/smsts.log");
    assert!(
        root.join("_SMSTaskSequence/TSState.dat").is_file(),
        "no saved state"
    );
    drop(m);
    assert!(log.starts_with("<![LOG["), "{log}");
    assert!(!log.contains(ADMIN_PASSWORD), "a secret in smsts.log");
    for want in [
        "NTFS volume",
        "boot files (Uefi)",
        "answer file in place",
        "deferred to the full operating system",
    ] {
        assert!(log.contains(want), "smsts.log lacks {want:?}:\n{log}");
    }

    // The BCD store on the ESP, read by hivexsh: the Windows Boot Loader's device and
    // osdevice (elements 11000001, 21000001) name the Windows partition.
    let esp = cut(dir, &disk, &parts[0]);
    let bcd = dir.join("BCD");
    let bytes = Command::new("mtype")
        .arg("-i")
        .arg(&esp)
        .arg("::/EFI/Microsoft/Boot/BCD")
        .output()
        .expect("mtype");
    std::fs::write(&bcd, &bytes.stdout).expect("BCD");
    assert!(!mtype(s(&esp), "/EFI/Boot/bootx64.efi").is_empty());
    let info = run(Command::new("sgdisk").args(["-i", "3"]).arg(&disk));
    let info = String::from_utf8_lossy(&info.stdout).into_owned();
    let guid = info
        .lines()
        .find_map(|l| l.strip_prefix("Partition unique GUID: "))
        .unwrap_or_else(|| panic!("{info}"))
        .trim()
        .to_string();
    let objects = hivexsh(&bcd, "cd \\Objects\nls\n");
    let mut loaders = 0;
    for object in objects.lines().filter(|l| l.starts_with('{')) {
        let kind = hivexsh(
            &bcd,
            &format!("cd \\Objects\\{object}\\Description\nlsval\n"),
        );
        if !kind.contains("\"Type\"=dword:0x10200003") && !kind.contains("\"Type\"=dword:10200003")
        {
            continue;
        }
        loaders += 1;
        for element in ["11000001", "21000001"] {
            let val = hivexsh(
                &bcd,
                &format!("cd \\Objects\\{object}\\Elements\\{element}\nlsval\n"),
            );
            let data = element_bytes(&val).unwrap_or_else(|| panic!("{element}: {val}"));
            assert_eq!(
                data[0x20..0x30],
                guid_bytes(&guid)[..],
                "{element} of {object}"
            );
        }
    }
    assert_eq!(loaders, 1, "Windows Boot Loader objects:\n{objects}");
}

#[test]
fn an_image_index_that_does_not_exist_fails_on_the_screen_and_in_the_log() {
    require("sgdisk", "gdisk");
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let iso = media(dir, 3);
    let disk = blank_16g(dir);
    let mut vm = Vm::start(dir, Firmware::Uefi, &cdrom_and_disk(&iso, &disk), false);
    vm.wait_for("tsmedia PE: running the task sequence", 0);
    let (console, secs) = vm.finish();
    eprintln!("the failing run powered off after {secs:.1} s (TCG)");
    assert!(
        console.contains("image index 3 does not exist"),
        "no reason on the screen:\n{console}"
    );
    assert!(console.contains("Apply Operating System"), "{console}");
    let parts = partitions(&disk);
    let windows = cut(dir, &disk, &parts[2]);
    let m = tsmedia_ntfs::Mount::new(&windows).expect("mount");
    let log = std::fs::read_to_string(m.path().join("_SMSTaskSequence/Logs/smsts.log"))
        .expect("smsts.log on the Windows volume");
    drop(m);
    assert!(log.contains("image index 3 does not exist"), "{log}");
}
