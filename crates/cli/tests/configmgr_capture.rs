//! Issue 17, capture media: the administrator builds capture media, boots the reference
//! computer from them (`client run` against its volume) and gets a WIM of that volume with
//! the name, description, version and compression they chose (`docs/media.md`, "Capture
//! media"). Debian packages: wimtools, xorriso.

mod cm_lab;
mod common;

use std::fs;
use std::path::Path;

use cm_lab::Lab;
use common::{s, tsmedia, wimlib};

/// A reference computer's volume: Windows files and a user's document.
fn reference_volume(lab: &Lab, name: &str) -> std::path::PathBuf {
    for (p, data) in [
        ("Windows/System32/config/SOFTWARE", &b"regf stand-in"[..]),
        (
            "Windows/System32/drivers/etc/hosts",
            b"127.0.0.1 localhost\r\n",
        ),
        (
            "Users/Public/Documents/read me.txt",
            "héllo wörld".as_bytes(),
        ),
        (
            "pagefile.sys",
            b"paging file, left out as wimlib leaves it out",
        ),
    ] {
        lab.write(&format!("{name}/{p}"), data);
    }
    lab.path(name)
}

fn capture_media(lab: &Lab, out: &str, variables: &[&str], extra: &[&str]) {
    let rt = lab.runtime();
    let boot = lab.boot.clone();
    let mut args = vec![
        "media",
        "create",
        "capture",
        "--boot-image",
        &boot,
        "--dp",
        "dp1",
        "--password",
        "pw",
        "--runtime",
        s(&rt),
        "--out",
        out,
        "--quiet",
    ];
    for v in variables {
        args.extend(["--variable", v]);
    }
    args.extend(extra);
    lab.ok(&args);
}

fn run_capture(media: &Path, volume: &Path) -> std::process::Output {
    tsmedia()
        .args(["client", "run", "--password", "pw", "--media"])
        .arg(media)
        .arg("--target")
        .arg(volume)
        .env_remove("TSMEDIA_MEDIA_PASSWORD")
        .output()
        .expect("client run")
}

#[test]
fn capture_media_capture_the_reference_volume_into_a_wim() {
    let lab = Lab::new();
    let volume = reference_volume(&lab, "ref");
    fs::create_dir_all(lab.path("images")).expect("mkdir");
    let wim = lab.path("images/reference.wim");

    // Image properties as media variables; the destination from the prestart command, which
    // runs at boot (the reference computer's operator could answer there).
    capture_media(
        &lab,
        "cap",
        &[
            "OSDImageName=Windows 11 reference",
            "OSDImageDescription=Contoso baseline",
            "OSDImageVersion=2026.12",
            "OSDImageCreator=Contoso IT",
            "OSDCaptureCompression=xpress",
        ],
        &[
            "--prestart-command",
            &format!("echo OSDCaptureDestination={}", wim.display()),
        ],
    );
    let inspected = lab.ok(&["media", "inspect", "cap", "--password", "pw"]);
    assert!(
        inspected.contains("variable _SMSTSMediaType = CaptureMedia"),
        "{inspected}"
    );
    let run = run_capture(&lab.path("cap/cap.iso"), &volume);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );

    // wimlib accepts the WIM; it holds the volume with the chosen properties.
    wimlib(&["verify", s(&wim)]);
    let info = String::from_utf8_lossy(&wimlib(&["info", s(&wim)]).stdout).into_owned();
    for want in ["Windows 11 reference", "Contoso baseline", "XPRESS"] {
        assert!(info.contains(want), "{want:?} not in:\n{info}");
    }
    let xml =
        String::from_utf8_lossy(&wimlib(&["info", s(&wim), "--xml"]).stdout).replace('\0', "");
    assert!(
        xml.contains("<VERSION>2026.12</VERSION>") && xml.contains("<CREATOR>Contoso IT</CREATOR>"),
        "{xml}"
    );
    let applied = lab.path("applied");
    wimlib(&["apply", s(&wim), "1", s(&applied)]);
    for rel in [
        "Windows/System32/config/SOFTWARE",
        "Windows/System32/drivers/etc/hosts",
        "Users/Public/Documents/read me.txt",
    ] {
        assert_eq!(
            fs::read(applied.join(rel)).expect(rel),
            fs::read(volume.join(rel)).expect(rel),
            "{rel}"
        );
    }
    assert!(!applied.join("pagefile.sys").exists());
    assert!(
        !applied.join("_SMSTaskSequence").exists(),
        "the runtime's working folder is not captured"
    );
    let smsts = fs::read_to_string(volume.join("_SMSTaskSequence/Logs/smsts.log")).expect("log");
    assert!(
        smsts.contains("Capture Operating System Image")
            && smsts.contains("Prestart set OSDCaptureDestination"),
        "{smsts}"
    );
}

#[test]
fn capture_media_without_a_destination_or_into_the_volume_itself_stop_and_say_why() {
    let lab = Lab::new();
    let volume = reference_volume(&lab, "ref");
    // Unattended, nothing given: nothing is asked, and the step names the variable.
    capture_media(&lab, "bare", &[], &["--unattended"]);
    let run = run_capture(&lab.path("bare/bare.iso"), &volume);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "{err}");
    let smsts = fs::read_to_string(volume.join("_SMSTaskSequence/Logs/smsts.log")).expect("log");
    assert!(
        smsts.contains("no capture destination (OSDCaptureDestination)"),
        "{smsts}"
    );

    // A destination inside the volume being captured is refused.
    let volume = reference_volume(&lab, "ref2");
    let inside = volume.join("Users/reference.wim");
    capture_media(
        &lab,
        "inside",
        &[&format!("OSDCaptureDestination={}", inside.display())],
        &[],
    );
    let run = run_capture(&lab.path("inside/inside.iso"), &volume);
    assert!(!run.status.success());
    let smsts = fs::read_to_string(volume.join("_SMSTaskSequence/Logs/smsts.log")).expect("log");
    assert!(
        smsts.contains("is inside the volume being captured"),
        "{smsts}"
    );
    assert!(!inside.exists());

    // Capture media carry their own sequence: --ts is refused, naming it.
    lab.refused(
        &[
            "media",
            "create",
            "capture",
            "--boot-image",
            &lab.boot,
            "--dp",
            "dp1",
            "--ts",
            "PS100009",
            "--out",
            "x",
            "--dry-run",
        ],
        &["--ts", "does not apply to capture media"],
    );
}
