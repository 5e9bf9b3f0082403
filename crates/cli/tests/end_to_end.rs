//! End to end through the `tsmedia` binary only (issue 6's acceptance): a site made with the
//! site commands, `tsmedia serve` on loopback, media built with `media create`, prestaged
//! media staged with `prestage apply`, and `client run` on the staged disk image, on the
//! bootable ISO and on stand-alone USB media (with the server stopped).

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};

use common::{s, tsmedia};
use tsmedia_image::boot_payload::{bios_boot_image, uefi_boot_app};

const GUID: &str = "4C4C4544-0042-3510-8052-B4C04F4E3332";
const MAC: &str = "00:15:5D:0A:0B:0C";
const PASSWORD: &str = "e2e-secret";

/// `tsmedia serve` in the background; killed on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Lab {
    dir: tempfile::TempDir,
}

impl Lab {
    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn site(&self) -> PathBuf {
        self.path("site")
    }

    /// Runs `tsmedia --site SITE args...`; returns the output, whatever the exit status.
    fn try_run(&self, args: &[&str]) -> Output {
        tsmedia()
            .arg("--site")
            .arg(self.site())
            .args(args)
            .env_remove("TSMEDIA_MEDIA_PASSWORD")
            .output()
            .unwrap_or_else(|e| panic!("cannot run tsmedia {args:?}: {e}"))
    }

    /// Runs `tsmedia --site SITE args...`, which must succeed; returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.try_run(args);
        assert!(
            out.status.success(),
            "tsmedia {args:?} failed with {}\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The `id` of a `--json` answer.
    fn id(&self, args: &[&str]) -> String {
        let mut a = args.to_vec();
        a.push("--json");
        let v: serde_json::Value = serde_json::from_str(&self.ok(&a)).expect("JSON");
        v["id"].as_str().expect("an id").to_string()
    }

    fn write(&self, rel: &str, data: &[u8]) -> PathBuf {
        let p = self.path(rel);
        fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        fs::write(&p, data).expect("write");
        p
    }

    fn serve(&self, addr: &str) -> Server {
        let mut child = tsmedia()
            .arg("--site")
            .arg(self.site())
            .args(["serve", "--listen", addr])
            .stderr(Stdio::piped())
            .spawn()
            .expect("tsmedia serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let server = Server(child);
        let first = BufReader::new(stderr)
            .lines()
            .next()
            .expect("serve prints its address")
            .expect("readable");
        assert!(first.contains("serving") && first.contains(addr), "{first}");
        server
    }

    /// `client run` on `media` into a fresh `target`; returns (output, smsts.log).
    fn client(&self, media: &Path, target: &str) -> (Output, String) {
        let target = self.path(target);
        let out = tsmedia()
            .args(["client", "run", "--password", PASSWORD, "--media"])
            .arg(media)
            .arg("--target")
            .arg(&target)
            .args(["--smbios-guid", GUID, "--mac", MAC, "--arch", "x64"])
            .output()
            .expect("client run");
        let log =
            fs::read_to_string(target.join("_SMSTaskSequence/Logs/smsts.log")).unwrap_or_default();
        (out, log)
    }
}

fn assert_ok(out: &Output, log: &str) {
    assert!(
        out.status.success(),
        "client run failed with {}\nstdout:\n{}\nstderr:\n{}\nsmsts.log:\n{log}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The log line of a step's content in the latest run: `<step>: ... from ...` (runs on one
/// target append to one log).
fn content_line<'a>(log: &'a str, step: &str) -> &'a str {
    log.lines()
        .rfind(|l| l.contains(&format!("{step}:")) && l.contains(" from "))
        .unwrap_or_else(|| panic!("no content line for {step:?} in\n{log}"))
}

/// A Windows-PE-shaped boot image, an OS image, a driver package and a task sequence using
/// them, deployed to a collection holding this computer; one server as MP and DP.
fn lab() -> (Lab, Server, [String; 4]) {
    let lab = Lab {
        dir: tempfile::tempdir().expect("tempdir"),
    };
    let b = "pe/Windows/Boot";
    lab.write(
        &format!("{b}/DVD/PCAT/etfsboot.com"),
        &bios_boot_image("e2e: BIOS boot", 0),
    );
    lab.write(&format!("{b}/DVD/EFI/en-US/efisys.bin"), &[0u8; 65536]);
    lab.write(
        &format!("{b}/EFI/bootmgfw.efi"),
        &uefi_boot_app("e2e: UEFI boot"),
    );
    lab.write(&format!("{b}/PCAT/bootmgr"), b"bootmgr stand-in");
    lab.write("pe/Windows/System32/winpeshl.ini", b"[LaunchApps]\r\n");
    lab.write("os/Windows/explorer.exe", b"MZ explorer");
    lab.write("os/Windows/System32/config/SYSTEM", &vec![7u8; 200_000]);
    lab.write("drivers/net/e1d.inf", b"[Version]\r\nDriverVer=1.0\r\n");
    for (tree, wim, name) in [
        ("pe", "boot.wim", "Microsoft Windows PE (x64)"),
        ("os", "install.wim", "Windows 11 Enterprise"),
    ] {
        let out = tsmedia()
            .args(["wim", "capture", "--quiet", "--compress", "xpress"])
            .arg(lab.path(tree))
            .arg(lab.path(wim))
            .arg(name)
            .output()
            .expect("wim capture");
        assert!(out.status.success(), "{out:?}");
    }
    let site = lab.site();
    lab.ok(&["site", "init", "--code", "E2E"]);
    let boot = lab.id(&[
        "package",
        "add",
        "--type",
        "boot-image",
        "--name",
        "Boot image (x64)",
        "--arch",
        "x64",
        s(&lab.path("boot.wim")),
    ]);
    let os = lab.id(&[
        "package",
        "add",
        "--type",
        "os-image",
        "--name",
        "Windows 11",
        s(&lab.path("install.wim")),
    ]);
    let drivers = lab.id(&[
        "package",
        "add",
        "--type",
        "driver",
        "--name",
        "NIC drivers",
        s(&lab.path("drivers")),
    ]);
    let xml = lab.write(
        "ts.xml",
        format!(
            r#"<sequence version="3.10">
  <referenceList><reference package="{os}" /><reference package="{drivers}" /></referenceList>
  <step type="SMS_TaskSequence_ApplyOperatingSystemAction" name="Apply Operating System">
    <action>OSDApplyOS.exe /image:{os},1</action>
    <defaultVarList><variable name="OSDImagePackageId" property="ImagePackageID">{os}</variable></defaultVarList>
  </step>
  <step type="SMS_TaskSequence_ApplyDriverPackageAction" name="Apply Drivers">
    <action>OSDApplyDriver.exe /install:{drivers}</action>
    <defaultVarList><variable name="OSDApplyDriverDriverPackageID" property="DriverPackageID">{drivers}</variable></defaultVarList>
  </step>
  <step type="SMS_TaskSequence_RunCommandLineAction" name="Name">
    <defaultVarList><variable name="CommandLine" property="CommandLine">printf '%s' "$OSDComputerName-$_SMSTSMediaType" &gt; name.txt</variable></defaultVarList>
  </step>
</sequence>"#
        )
        .as_bytes(),
    );
    let ts = lab.id(&[
        "ts",
        "import",
        "--name",
        "Deploy Windows 11",
        "--boot-image",
        &boot,
        s(&xml),
    ]);
    lab.ok(&[
        "computer",
        "import",
        "--name",
        "PC1",
        "--smbios-guid",
        GUID,
        "--mac",
        MAC,
    ]);
    lab.ok(&["collection", "add", "Lab"]);
    lab.ok(&["collection", "add-member", "Lab", "--computer", "PC1"]);
    lab.ok(&["collection", "set-var", "Lab", "OSDComputerName=LAB-PC1"]);
    lab.ok(&[
        "deploy",
        &ts,
        "--collection",
        "Lab",
        "--availability",
        "media-pxe",
    ]);
    // A free loopback port for the server, registered as MP and DP before it starts.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .to_string();
    let url = format!("http://{addr}");
    lab.ok(&["dp", "add", "DP1", "--url", &url]);
    lab.ok(&["dp", "grant", "DP1", "--principal", "Everyone"]);
    lab.ok(&["content", "distribute", "--dp", "DP1", &boot, &os, &drivers]);
    lab.ok(&["mp", "add", "MP1", "--url", &url]);
    let server = lab.serve(&addr);
    assert!(site.join("site.db").is_file());
    (lab, server, [boot, os, drivers, ts])
}

fn media_args<'a>(kind: &'a str, boot: &'a str, ts: &'a str) -> Vec<&'a str> {
    let mut args = vec![
        "media",
        "create",
        kind,
        "--boot-image",
        boot,
        "--ts",
        ts,
        "--dp",
        "DP1",
        "--password",
        PASSWORD,
        "--unattended",
    ];
    // Stand-alone media never contact a management point: --mode and --mp are refused there.
    if kind != "standalone" {
        args.extend(["--mode", "site-based", "--mp", "MP1"]);
    }
    args
}

#[test]
fn prestaged_bootable_and_stand_alone_media_run_end_to_end() {
    let (lab, server, [boot, os, drivers, ts]) = lab();

    // Prestaged: build, stage onto a disk image, run from the disk image.
    let wim = lab.path("prestaged.wim");
    let mut args = media_args("prestaged", &boot, &ts);
    args.extend(["--os-image", &os, "--driver-package", &drivers, "--out"]);
    args.push(s(&wim));
    lab.ok(&args);
    let disk = lab.path("staged.img");
    let out = tsmedia()
        .args(["prestage", "apply"])
        .arg(&wim)
        .arg("--disk")
        .arg(&disk)
        .output()
        .expect("prestage apply");
    assert!(out.status.success(), "{out:?}");

    let (out, log) = lab.client(&disk, "t-prestaged");
    assert_ok(&out, &log);
    assert!(log.contains("Staged content verified"), "{log}");
    assert!(
        !lab.path("t-prestaged/Windows").exists(),
        "Apply Operating System is skipped on prestaged media (OEMMedia)"
    );
    assert!(
        content_line(&log, "Apply Drivers").contains("from staged media"),
        "{log}"
    );
    let inf = lab.path(&format!("t-prestaged/Drivers/{drivers}/net/e1d.inf"));
    assert!(fs::read_to_string(&inf).expect("drivers").contains("1.0"));
    assert_eq!(
        fs::read_to_string(lab.path("t-prestaged/name.txt")).expect("name.txt"),
        "LAB-PC1-OEMMedia"
    );

    // A new version of the driver package: the staged copy is stale, the DP has the new one.
    lab.write("drivers/net/e1d.inf", b"[Version]\r\nDriverVer=2.0\r\n");
    lab.ok(&["package", "update", &drivers]);
    lab.ok(&["content", "distribute", "--dp", "DP1", &drivers]);
    let (out, log) = lab.client(&disk, "t-prestaged");
    assert_ok(&out, &log);
    assert!(
        content_line(&log, "Apply Drivers").contains("from distribution point DP1"),
        "{log}"
    );
    assert!(fs::read_to_string(&inf).expect("drivers").contains("2.0"));

    // Tampered staged content is detected before anything runs.
    let tampered = lab.path("tampered.img");
    fs::copy(&disk, &tampered).expect("copy");
    tamper(&tampered, b"DriverVer=1.0", b"DriverVer=6.6");
    let (out, log) = lab.client(&tampered, "t-tampered");
    assert!(!out.status.success(), "{log}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&drivers) && err.contains("manifest"), "{err}");

    // Bootable ISO: everything comes from the DP, the OS image is applied.
    let set = lab.path("iso");
    let mut args = media_args("bootable", &boot, &ts);
    args.extend(["--type", "cd-dvd", "--out"]);
    args.push(s(&set));
    lab.ok(&args);
    let (out, log) = lab.client(&set.join("iso.iso"), "t-bootable");
    assert_ok(&out, &log);
    assert!(
        content_line(&log, "Apply Drivers").contains("from distribution point DP1"),
        "{log}"
    );
    assert_eq!(
        fs::read(lab.path("t-bootable/Windows/explorer.exe")).expect("OS applied"),
        b"MZ explorer"
    );
    assert_eq!(
        fs::read_to_string(lab.path("t-bootable/name.txt")).expect("name.txt"),
        "LAB-PC1-BootMedia"
    );

    // A wrong password is refused, naming what could not be opened.
    let out = tsmedia()
        .args(["client", "run", "--password", "wrong", "--media"])
        .arg(set.join("iso.iso"))
        .arg("--target")
        .arg(lab.path("t-wrong"))
        .output()
        .expect("client run");
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Variables.dat"),
        "{out:?}"
    );

    // Stand-alone USB media run with no server at all.
    let usb = lab.path("standalone.img");
    let mut args = media_args("standalone", &boot, &ts);
    args.extend(["--type", "usb", "--out"]);
    args.push(s(&usb));
    lab.ok(&args);
    drop(server);
    let (out, log) = lab.client(&usb, "t-standalone");
    assert_ok(&out, &log);
    assert_eq!(
        fs::read(lab.path("t-standalone/Windows/explorer.exe")).expect("OS applied"),
        b"MZ explorer"
    );
    assert!(
        fs::read_to_string(&inf).is_ok()
            && fs::read_to_string(lab.path(&format!("t-standalone/Drivers/{drivers}/net/e1d.inf")))
                .expect("drivers from the media")
                .contains("2.0")
    );
}

/// Replaces the first occurrence of `from` in the file (same length).
fn tamper(path: &Path, from: &[u8], to: &[u8]) {
    let mut bytes = fs::read(path).expect("read");
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("the staged file is stored uncompressed on the FAT volume");
    bytes[at..at + to.len()].copy_from_slice(to);
    fs::write(path, bytes).expect("write");
}
