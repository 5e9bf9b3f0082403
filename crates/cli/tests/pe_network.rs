//! Bootable media with a tsmedia PE boot image on a network (QEMU, TCG): the management and
//! distribution points (`tsmedia serve`) run on the host's loopback; the virtual machine
//! reaches them only through QEMU user networking with `restrict=on` and `guestfwd` rules to
//! 127.0.0.1 (each guest connection is handed to `socat`), so no other traffic leaves it. The
//! media are dynamic with a dead first management point; the computer is known to the site
//! by its SMBIOS UUID and MAC; content comes from the distribution point; a Restart Computer
//! step in the middle reboots the machine, which boots the media again, and the task sequence
//! resumes and completes.
//!
//! Debian packages: qemu-system-x86, socat, gdisk, dosfstools, mtools, binutils, and tsmedia
//! PE's packages (`scripts/fetch-pe-debs.sh`).

mod common;
mod pe_common;

use std::path::{Path, PathBuf};

use common::{require, s};
use pe_common::{
    Firmware, PeSite, Server, Vm, blank_disk, cdrom_and_disk, first_partition_start, mtype, serve,
    usb_stick_and_disk, user_network,
};

const PASSWORD: &str = "Net-Boot-42";
const UUID: &str = "5A0F1E2D-3C4B-4A59-8877-665544332211";
const MAC: &str = "52:54:00:AB:CD:01";
/// The address the guest uses for the site's server (forwarded to the host's loopback).
const SITE_IP: &str = "10.0.2.100";
/// A management point nobody answers at (no forwarding rule: the guest cannot reach it).
const DEAD_IP: &str = "10.0.2.101";

/// The media a lab builds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Bootable media; the task sequence partitions the disk, applies the data image,
    /// restarts and writes `after.txt`.
    Bootable,
    /// Prestaged media (`prestaged.wim`) carrying the driver package; the task sequence
    /// records the media type and applies the driver package onto the staged volume.
    Prestaged,
}

/// A site whose MP and DP are at `http://SITE_IP` for the guest, and bootable media made with
/// `media_args` (after `--boot-image ID --dp DP1 --password PW --out DIR`); returns the media
/// folder, the running server and its loopback port.
fn lab(dir: &Path, media_args: &[&str]) -> (PathBuf, Server, u16) {
    let (out, server, port, _) = lab_of(dir, Kind::Bootable, media_args);
    (out, server, port)
}

/// [`lab`] for media of `kind`; also returns the site and the driver package's ID.
fn lab_of(dir: &Path, kind: Kind, media_args: &[&str]) -> (PathBuf, Server, u16, (PeSite, String)) {
    let site_dir = dir.join("site");
    let lab_site = PeSite::new(
        dir,
        "NET",
        &["tsmedia.failwait=5"],
        &[("Payload/readme.txt", b"downloaded from the DP\n")],
    );
    let (boot, image) = (lab_site.boot.clone(), lab_site.image.clone());
    let t = |args: &[&str]| lab_site.run(args);
    let drivers_dir = dir.join("drivers");
    std::fs::create_dir_all(drivers_dir.join("net")).expect("drivers");
    std::fs::write(
        drivers_dir.join("net/e1d.inf"),
        b"[Version]\r\nDriverVer=1.0\r\n",
    )
    .expect("inf");
    let drivers = t(&[
        "package",
        "add",
        "--type",
        "driver",
        "--name",
        "NIC drivers",
        s(&drivers_dir),
    ]);
    let steps = match kind {
        Kind::Bootable => format!(
            r#"<step type="SMS_TaskSequence_PartitionDiskAction" name="Format and Partition Disk 0">
  <defaultVarList><variable name="OSDPartitionStyle" property="PartitionStyle">GPT</variable>
  <variable name="OSDPartitions0VolumeLetterVariable" property="VolumeLetterVariable">OSDisk</variable></defaultVarList></step>
<step type="SMS_TaskSequence_ApplyDataImageAction" name="Apply Data Image">
  <action>OSDApplyOS.exe /image:{image},1</action></step>
<step type="SMS_TaskSequence_SetVariableAction" name="Remember">
  <defaultVarList><variable name="VariableName" property="VariableName">Phase</variable><variable name="VariableValue" property="VariableValue">set-before-restart</variable></defaultVarList></step>
<step type="SMS_TaskSequence_RebootAction" name="Restart Computer">
  <defaultVarList><variable name="SMSRebootTarget" property="Target">WinPE</variable></defaultVarList></step>
<step type="SMS_TaskSequence_RunCommandLineAction" name="After the restart">
  <defaultVarList><variable name="CommandLine" property="CommandLine">printf '%s %s' "$Phase" "$OSDComputerName" &gt; "$OSDisk/after.txt"</variable></defaultVarList></step>"#
        ),
        // The staged volume is the target: no partitioning (the condition Configuration
        // Manager's prestaged sequences use), the media type and computer name recorded, the
        // driver package applied (staged copy, or the DP's when the staged one is stale).
        Kind::Prestaged => format!(
            r#"<step type="SMS_TaskSequence_PartitionDiskAction" name="Format and Partition Disk 0">
  <condition><expression type="SMS_TaskSequence_VariableConditionExpression"><variable name="Operator">notEquals</variable><variable name="Value">OEMMedia</variable><variable name="Variable">_SMSTSMediaType</variable></expression></condition>
  <defaultVarList><variable name="OSDPartitionStyle" property="PartitionStyle">GPT</variable></defaultVarList></step>
<step type="SMS_TaskSequence_RunCommandLineAction" name="Record">
  <defaultVarList><variable name="CommandLine" property="CommandLine">printf '%s %s' "$_SMSTSMediaType" "$OSDComputerName" &gt; "$OSDTargetSystemDrive/first-boot.txt"</variable></defaultVarList></step>
<step type="SMS_TaskSequence_ApplyDriverPackageAction" name="Apply Drivers">
  <action>OSDApplyDriver.exe /install:{drivers}</action>
  <defaultVarList><variable name="OSDApplyDriverDriverPackageID" property="DriverPackageID">{drivers}</variable></defaultVarList></step>"#
        ),
    };
    let ts = lab_site.task_sequence(
        dir,
        "Network deploy",
        &format!(
            r#"<sequence version="3.10"><referenceList><reference package="{image}" /><reference package="{drivers}" /></referenceList>
{steps}
</sequence>"#
        ),
    );
    t(&[
        "computer",
        "import",
        "--name",
        "VM1",
        "--smbios-guid",
        UUID,
        "--mac",
        MAC,
    ]);
    t(&["collection", "add", "Lab"]);
    t(&["collection", "add-member", "Lab", "--computer", "VM1"]);
    t(&["collection", "set-var", "Lab", "OSDComputerName=LAB-VM1"]);
    t(&[
        "deploy",
        &ts,
        "--collection",
        "Lab",
        "--availability",
        "media-pxe",
    ]);
    let url = format!("http://{SITE_IP}");
    t(&["dp", "add", "DP1", "--url", &url]);
    t(&["dp", "grant", "DP1", "--principal", "Everyone"]);
    t(&[
        "content",
        "distribute",
        "--dp",
        "DP1",
        &boot,
        &image,
        &drivers,
    ]);
    // MP0 serves another network, so the site's MP location answer names only MP1; the
    // media still ask MP0 first and must pass over it.
    t(&[
        "mp",
        "add",
        "MP0",
        "--url",
        &format!("http://{DEAD_IP}"),
        "--boundary",
        "192.0.2.0/24",
    ]);
    t(&["mp", "add", "MP1", "--url", &url]);
    let out = match kind {
        Kind::Bootable => dir.join("media"),
        Kind::Prestaged => dir.join("prestaged.wim"),
    };
    let mut create = vec![
        "media",
        "create",
        match kind {
            Kind::Bootable => "bootable",
            Kind::Prestaged => "prestaged",
        },
        "--boot-image",
        &boot,
        "--dp",
        "DP1",
        "--password",
        PASSWORD,
        "--out",
        s(&out),
    ];
    if kind == Kind::Prestaged {
        create.extend(["--ts", &ts, "--driver-package", &drivers]);
    }
    create.extend_from_slice(media_args);
    t(&create);
    let (server, port) = serve(&site_dir);
    (out, server, port, (lab_site, drivers))
}

/// QEMU's network for this lab's machine.
fn network(port: u16) -> Vec<String> {
    user_network(port, SITE_IP, UUID, MAC)
}

/// The first partition of `disk` as an mtools image spec (`file@@offset`).
fn volume(disk: &Path) -> String {
    format!("{}@@{}", disk.display(), first_partition_start(disk) * 512)
}

#[test]
fn bootable_iso_over_the_network_with_a_dead_mp_and_a_restart() {
    for (tool, package) in [("socat", "socat"), ("sgdisk", "gdisk"), ("mtype", "mtools")] {
        require(tool, package);
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let (media, _server, port) = lab(dir, &["--mode", "dynamic", "--mp", "MP0", "MP1"]);
    let iso = media.join("media.iso");
    let disk = blank_disk(dir, "disk.img");
    let mut extra = network(port);
    extra.extend(cdrom_and_disk(&iso, &disk));
    // Restarts are real: the machine reboots and boots the media again.
    let mut vm = Vm::start(dir, Firmware::Bios, &extra, true);
    let at = vm.wait_for("Media password:", 0);
    vm.type_line(PASSWORD);
    let at = vm.wait_for("tsmedia PE: network up on", at);
    // The first request to a management point follows at once.
    let at = vm.wait_for("tsmedia PE: running the task sequence", at);
    eprintln!(
        "BIOS ISO: QEMU start to the first MP request {:.1} s (TCG, password typed at once)",
        vm.elapsed()
    );
    let at = vm.wait_for("restarting", at);
    // The second boot: the saved state is found on the disk and the sequence resumes.
    let at = vm.wait_for("Media password:", at);
    vm.type_line(PASSWORD);
    vm.wait_for("tsmedia PE: resuming the task sequence saved on", at);
    let end = vm.wait_for("reboot: Power down", at);
    eprintln!(
        "BIOS ISO: QEMU start to the end of the task sequence, one restart included, {:.1} s (TCG)",
        vm.elapsed()
    );
    let console = vm.console();
    drop(vm);
    assert!(
        console[..end].contains("tsmedia PE: the task sequence completed."),
        "{console}"
    );

    // The disk, on the host.
    let volume = volume(&disk);
    assert_eq!(
        mtype(&volume, "/Payload/readme.txt"),
        "downloaded from the DP\n"
    );
    assert_eq!(mtype(&volume, "/after.txt"), "set-before-restart LAB-VM1");
    let log = mtype(&volume, "/_SMSTaskSequence/Logs/smsts.log");
    for want in [
        "answered the MP location request",
        "identified this computer as VM1",
        "from distribution point DP1",
        "Resuming the task sequence",
    ] {
        assert!(log.contains(want), "smsts.log lacks {want:?}:\n{log}");
    }
    assert!(
        log.find("Restart Computer").expect("restart") < log.find("Resuming").expect("resume"),
        "one log across the restart:\n{log}"
    );
}

/// Bootable USB media under UEFI, with two task sequences deployed to the computer: the
/// console lists both, refuses a number not on the list, and runs the one chosen; after the
/// restart the chosen sequence resumes without asking again.
#[test]
fn bootable_usb_image_over_the_network_under_uefi() {
    for (tool, package) in [("socat", "socat"), ("sgdisk", "gdisk"), ("mtype", "mtools")] {
        require(tool, package);
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let (media, _server, port, (site, _)) = lab_of(
        dir,
        Kind::Bootable,
        &["--type", "usb", "--mode", "site-based", "--mp", "MP1"],
    );
    // A second task sequence deployed to the computer's collection: the media are not
    // unattended, so the console shows both and the person at it picks one.
    let other = site.task_sequence(
        dir,
        "Other deploy",
        r#"<sequence version="3.10"><step type="SMS_TaskSequence_RunCommandLineAction" name="Other">
  <defaultVarList><variable name="CommandLine" property="CommandLine">exit 9</variable></defaultVarList></step></sequence>"#,
    );
    site.run(&[
        "deploy",
        &other,
        "--collection",
        "Lab",
        "--availability",
        "media-pxe",
    ]);
    let stick = media.clone();
    assert!(
        stick.is_file(),
        "USB media are one image: {}",
        stick.display()
    );
    let disk = blank_disk(dir, "disk.img");
    let mut extra = network(port);
    extra.extend(usb_stick_and_disk(&stick, &disk));
    let mut vm = Vm::start(dir, Firmware::Uefi, &extra, true);
    let at = vm.wait_for("tsmedia PE: firmware UEFI", 0);
    let at = vm.wait_for("Media password:", at);
    vm.type_line(PASSWORD);
    let menu = vm.wait_for(
        "Several task sequences are available for this computer:",
        at,
    );
    let prompt = vm.wait_for("Run which one (1-2)?", menu);
    let console = vm.console();
    let choice = console[menu..prompt]
        .lines()
        .find(|l| l.contains("(Network deploy)"))
        .and_then(|l| l.trim().split('.').next())
        .unwrap_or_else(|| panic!("no menu entry for Network deploy:\n{console}"))
        .to_string();
    vm.type_line("7");
    let at = vm.wait_for("is not a number from the list", prompt);
    vm.type_line(&choice);
    let at = vm.wait_for("restarting", at);
    let at = vm.wait_for("Media password:", at);
    vm.type_line(PASSWORD);
    vm.wait_for("tsmedia PE: the task sequence completed.", at);
    vm.wait_for("reboot: Power down", at);
    drop(vm);
    let volume = volume(&disk);
    assert_eq!(
        mtype(&volume, "/Payload/readme.txt"),
        "downloaded from the DP\n"
    );
    assert_eq!(mtype(&volume, "/after.txt"), "set-before-restart LAB-VM1");
}

/// Whether a disk image holds only zero bytes (nothing was written to it).
fn untouched(disk: &Path) -> bool {
    std::fs::read(disk).expect("disk").iter().all(|b| *b == 0)
}

/// A cable without a DHCP server: the network adapter is there (on an empty QEMU hub), no
/// answer comes; the session retries with backoff, then shows a clear failure and writes
/// nothing to the disk.
#[test]
fn bootable_media_without_a_dhcp_answer_fail_clearly_after_retries() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let (media, _server, _port) = lab(dir, &["--mode", "site-based", "--mp", "MP1"]);
    let disk = blank_disk(dir, "disk.img");
    let mut extra: Vec<String> = vec![
        "-netdev".into(),
        "hubport,id=n0,hubid=0".into(),
        "-device".into(),
        format!("virtio-net-pci,netdev=n0,mac={MAC}"),
    ];
    extra.extend(cdrom_and_disk(&media.join("media.iso"), &disk));
    let mut vm = Vm::start(dir, Firmware::Bios, &extra, false);
    let at = vm.wait_for("Media password:", 0);
    vm.type_line(PASSWORD);
    let at = vm.wait_for("(round 1 of 4); retrying in 2 s", at);
    let at = vm.wait_for("(round 3 of 4); retrying in 8 s", at);
    let at = vm.wait_for("The network could not be started", at);
    vm.wait_for("reboot: Power down", at);
    let console = vm.console();
    drop(vm);
    assert!(console.contains("no DHCP answer"), "{console}");
    assert!(
        !console.contains("debug shell"),
        "media built without --debug-shell offer no shell:\n{console}"
    );
    assert!(untouched(&disk), "nothing may be written to the disk");
}

/// Media of one site booted where another site's server answers at the management point's
/// address: that site does not know the media's certificate and refuses them (exit code 5 on
/// the failure screen), and nothing is written to the disk. The media were built with
/// `--debug-shell`, so the failure screen offers a shell, which runs commands.
#[test]
fn media_of_another_site_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for site in ["a", "b"] {
        std::fs::create_dir_all(tmp.path().join(site)).expect("mkdir");
    }
    let (media, _server_a, _port_a) = lab(
        &tmp.path().join("a"),
        &["--mode", "site-based", "--mp", "MP1", "--debug-shell"],
    );
    let (_media_b, _server_b, port_b) = lab(
        &tmp.path().join("b"),
        &["--mode", "site-based", "--mp", "MP1"],
    );
    let dir = tmp.path();
    let disk = blank_disk(dir, "disk.img");
    let mut extra = network(port_b);
    extra.extend(cdrom_and_disk(&media.join("media.iso"), &disk));
    let mut vm = Vm::start(dir, Firmware::Bios, &extra, false);
    let at = vm.wait_for("Media password:", 0);
    vm.type_line(PASSWORD);
    let at = vm.wait_for("tsmedia PE: network up on", at);
    // These media were built with --debug-shell: the failure screen offers a shell, whose
    // commands run in tsmedia PE.
    let shell = vm.wait_for("Type shell and press Enter for a debug shell", at);
    vm.type_line("shell");
    let shell = vm.wait_for("tsmedia PE: debug shell", shell);
    vm.type_line("echo DEBUG-$((6*7)) on $(uname -s)");
    let shell = vm.wait_for("DEBUG-42 on Linux", shell);
    vm.type_line("exit");
    let end = vm.wait_for("reboot: Power down", shell);
    let console = vm.console();
    drop(vm);
    let shown = &console[at..end];
    // The other site's management point does not know the media's certificate (had it
    // answered, its answers would not verify with the site key the media carry).
    assert!(
        shown.contains("certificate_unknown") && shown.contains("Exit code: 5"),
        "{shown}"
    );
    assert!(!shown.contains("the task sequence completed"), "{shown}");
    assert!(untouched(&disk), "nothing may be written to the disk");
}

/// Prestaged media with tsmedia PE: `tsmedia prestage apply` stages them onto the computer's
/// disk (a FAT32 partition, and ISOLINUX's BIOS start before it), and that disk alone boots
/// into tsmedia PE, first under UEFI, then under BIOS, each time running the first-boot flow:
/// the media password, the management point, the deployed task sequence with
/// `_SMSTSMediaType=OEMMedia` (the partitioning step skipped by its condition), the staged
/// volume as the target. The first run uses the staged driver package; before the second, the
/// site revises it, so the staged copy is stale and the new one comes from the DP.
#[test]
fn prestaged_disk_boots_under_uefi_and_bios_and_runs_the_first_boot_flow() {
    for (tool, package) in [("sgdisk", "gdisk"), ("mtype", "mtools")] {
        require(tool, package);
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let (wim, _server, port, (site, drivers)) = lab_of(
        dir,
        Kind::Prestaged,
        &["--mode", "site-based", "--mp", "MP1"],
    );
    let disk = dir.join("staged.img");
    let out = common::run(
        common::tsmedia()
            .args(["prestage", "apply"])
            .arg(&wim)
            .arg("--disk")
            .arg(&disk)
            .arg("--json"),
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["bios_boot"], "isolinux/isolinux.bin", "{report}");
    let only_disk = [
        "-drive".to_string(),
        format!("if=virtio,format=raw,file={}", disk.display()),
    ];
    let inf = format!("/Drivers/{drivers}/net/e1d.inf");

    for (firmware, name, version, source) in [
        (Firmware::Uefi, "UEFI", "1.0", "from staged media"),
        (Firmware::Bios, "BIOS", "2.0", "from distribution point DP1"),
    ] {
        let mut extra = network(port);
        extra.extend(only_disk.iter().cloned());
        let mut vm = Vm::start(dir, firmware, &extra, false);
        let at = vm.wait_for(&format!("tsmedia PE: firmware {name}"), 0);
        let at = vm.wait_for("Media password:", at);
        vm.type_line(PASSWORD);
        let at = vm.wait_for("prestaged media: the staged volume", at);
        let end = vm.wait_for("reboot: Power down", at);
        eprintln!(
            "prestaged disk under {name}: QEMU start to power off after the first-boot flow {:.1} s (TCG)",
            vm.elapsed()
        );
        let console = vm.console();
        drop(vm);
        assert!(
            console[at..end].contains("tsmedia PE: the task sequence completed."),
            "{name}: {console}"
        );
        let volume = volume(&disk);
        assert_eq!(mtype(&volume, "/first-boot.txt"), "OEMMedia LAB-VM1");
        assert!(
            mtype(&volume, &inf).contains(&format!("DriverVer={version}")),
            "{name}: driver package version {version}"
        );
        let log = mtype(&volume, "/_SMSTaskSequence/Logs/smsts.log");
        let applied = log
            .lines()
            .rev()
            .find(|l| l.contains("Apply Drivers") && l.contains(" from "))
            .unwrap_or_else(|| panic!("{name}: no content line for Apply Drivers:\n{log}"));
        assert!(applied.contains(source), "{name}: {applied}");
        assert!(
            log.lines()
                .any(|l| l.contains("Format and Partition Disk 0") && l.contains("skipped")),
            "{name}: the partitioning step is skipped by its condition:\n{log}"
        );
        // The site revises the driver package: the staged copy is stale from now on.
        std::fs::write(
            dir.join("drivers/net/e1d.inf"),
            b"[Version]\r\nDriverVer=2.0\r\n",
        )
        .expect("inf");
        site.run(&["package", "update", &drivers]);
        site.run(&["content", "distribute", "--dp", "DP1", &drivers]);
    }
}
