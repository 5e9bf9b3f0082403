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

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use common::{require, s, tsmedia};
use pe_common::{
    Firmware, PeSite, Vm, blank_disk, cdrom_and_disk, first_partition_start, mtype,
    usb_stick_and_disk,
};

const PASSWORD: &str = "Net-Boot-42";
const UUID: &str = "5A0F1E2D-3C4B-4A59-8877-665544332211";
const MAC: &str = "52:54:00:AB:CD:01";
/// The address the guest uses for the site's server (forwarded to the host's loopback).
const SITE_IP: &str = "10.0.2.100";
/// A management point nobody answers at (no forwarding rule: the guest cannot reach it).
const DEAD_IP: &str = "10.0.2.101";

/// `tsmedia serve`, killed on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A site whose MP and DP are at `http://SITE_IP` for the guest, and bootable media made with
/// `media_args` (after `--boot-image ID --dp DP1 --password PW --out DIR`); returns the media
/// folder, the running server and its loopback port.
fn lab(dir: &Path, media_args: &[&str]) -> (PathBuf, Server, u16) {
    let site_dir = dir.join("site");
    let lab_site = PeSite::new(
        dir,
        "NET",
        &["tsmedia.failwait=5"],
        &[("Payload/readme.txt", b"downloaded from the DP\n")],
    );
    let (boot, image) = (lab_site.boot.clone(), lab_site.image.clone());
    let t = |args: &[&str]| lab_site.run(args);
    let ts = lab_site.task_sequence(
        dir,
        "Network deploy",
        &format!(
            r#"<sequence version="3.10"><referenceList><reference package="{image}" /></referenceList>
<step type="SMS_TaskSequence_PartitionDiskAction" name="Format and Partition Disk 0">
  <defaultVarList><variable name="OSDPartitionStyle" property="PartitionStyle">GPT</variable>
  <variable name="OSDPartitions0VolumeLetterVariable" property="VolumeLetterVariable">OSDisk</variable></defaultVarList></step>
<step type="SMS_TaskSequence_ApplyDataImageAction" name="Apply Data Image">
  <action>OSDApplyOS.exe /image:{image},1</action></step>
<step type="SMS_TaskSequence_SetVariableAction" name="Remember">
  <defaultVarList><variable name="VariableName" property="VariableName">Phase</variable><variable name="VariableValue" property="VariableValue">set-before-restart</variable></defaultVarList></step>
<step type="SMS_TaskSequence_RebootAction" name="Restart Computer">
  <defaultVarList><variable name="SMSRebootTarget" property="Target">WinPE</variable></defaultVarList></step>
<step type="SMS_TaskSequence_RunCommandLineAction" name="After the restart">
  <defaultVarList><variable name="CommandLine" property="CommandLine">printf '%s %s' "$Phase" "$OSDComputerName" &gt; "$OSDisk/after.txt"</variable></defaultVarList></step>
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
    t(&["content", "distribute", "--dp", "DP1", &boot, &image]);
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
    let out = dir.join("media");
    let mut create = vec![
        "media",
        "create",
        "bootable",
        "--boot-image",
        &boot,
        "--dp",
        "DP1",
        "--password",
        PASSWORD,
        "--out",
        s(&out),
    ];
    create.extend_from_slice(media_args);
    t(&create);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut child = tsmedia()
        .arg("--site")
        .arg(&site_dir)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stderr(Stdio::piped())
        .spawn()
        .expect("tsmedia serve");
    let stderr = child.stderr.take().expect("stderr");
    let server = Server(child);
    let mut lines = BufReader::new(stderr).lines();
    let first = lines
        .next()
        .expect("serve prints its address")
        .expect("readable");
    assert!(first.contains("serving"), "{first}");
    // The server logs refused requests to stderr: keep reading it (shown with the test's
    // output) so that it never writes into a closed pipe.
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            eprintln!("serve: {line}");
        }
    });
    (out, server, port)
}

/// QEMU's network: user mode, `restrict=on`, and the site's address forwarded to the
/// server on the host's loopback, one `socat` per guest connection.
fn network(port: u16) -> Vec<String> {
    vec![
        "-uuid".into(),
        UUID.into(),
        "-netdev".into(),
        format!(
            "user,id=n0,restrict=on,guestfwd=tcp:{SITE_IP}:80-cmd:socat - TCP:127.0.0.1:{port}"
        ),
        "-device".into(),
        format!("virtio-net-pci,netdev=n0,mac={MAC}"),
    ]
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

#[test]
fn bootable_usb_image_over_the_network_under_uefi() {
    for (tool, package) in [("socat", "socat"), ("sgdisk", "gdisk"), ("mtype", "mtools")] {
        require(tool, package);
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let (media, _server, port) = lab(
        dir,
        &["--type", "usb", "--mode", "site-based", "--mp", "MP1"],
    );
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
    assert!(untouched(&disk), "nothing may be written to the disk");
}

/// Media of one site booted where another site's server answers at the management point's
/// address: that site does not know the media's certificate and refuses them (exit code 5 on
/// the failure screen), and nothing is written to the disk.
#[test]
fn media_of_another_site_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for site in ["a", "b"] {
        std::fs::create_dir_all(tmp.path().join(site)).expect("mkdir");
    }
    let (media, _server_a, _port_a) = lab(
        &tmp.path().join("a"),
        &["--mode", "site-based", "--mp", "MP1"],
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
    let end = vm.wait_for("reboot: Power down", at);
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
