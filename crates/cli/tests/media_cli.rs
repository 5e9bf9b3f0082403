//! `tsmedia media create|inspect` end to end through the binary: a site made with the site
//! commands, a dry run that writes nothing, a bootable ISO, and inspect with and without the
//! password.

mod common;

use common::*;
use std::path::Path;

fn ok(args: &[&str]) -> String {
    let out = run(tsmedia().args(args));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn write(path: &Path, data: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, data).unwrap();
}

#[test]
fn create_dry_run_build_and_inspect() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A Windows-PE-shaped boot image (boot files are stand-ins; booting is tested in
    // crates/media).
    let pe = d.join("pe");
    for (p, data) in [
        ("Windows/Boot/DVD/PCAT/etfsboot.com", &b"etfsboot stand-in"[..]),
        ("Windows/Boot/DVD/EFI/en-US/efisys.bin", b"efisys stand-in"),
        ("Windows/Boot/EFI/bootmgfw.efi", b"bootmgfw stand-in"),
        ("Windows/System32/winpeshl.ini", b"[LaunchApps]\r\n"),
    ] {
        write(&pe.join(p), data);
    }
    let wim = d.join("boot.wim");
    ok(&["wim", "capture", s(&pe), s(&wim), "WinPE"]);
    let site = d.join("site");
    let site_s = s(&site).to_string();
    let with_site = |args: &[&str]| {
        let mut v = vec!["--site", site_s.as_str()];
        v.extend_from_slice(args);
        ok(&v)
    };
    with_site(&["site", "init", "--code", "PS1"]);
    let boot = with_site(&[
        "package", "add", "--type", "boot-image", "--name", "Boot x64", "--arch", "x64", "--image-index", "1", s(&wim),
    ]);
    with_site(&["dp", "add", "dp1", "--url", "http://dp1.example"]);
    with_site(&["dp", "grant", "dp1", "--principal", "Everyone"]);
    with_site(&["mp", "add", "mp1", "--url", "http://mp1.example"]);
    with_site(&["content", "distribute", &boot, "--dp", "dp1"]);

    let out = d.join("media");
    let create = [
        "media", "create", "bootable", "--boot-image", &boot, "--dp", "dp1", "--out", s(&out), "--password",
        "cli-pw", "--variable", "Color=Purple-Canary-42",
    ];
    let mut dry = create.to_vec();
    dry.push("--dry-run");
    let plan = with_site(&dry);
    assert!(plan.contains("sources/boot.wim"), "{plan}");
    assert!(plan.contains("boot/etfsboot.com"), "{plan}");
    assert!(!out.exists(), "a dry run wrote {}", out.display());

    let printed = with_site(&create);
    assert!(printed.ends_with("media.iso"), "{printed}");
    assert!(out.join("CreateTSMedia.log").exists());
    let iso_bytes = std::fs::read(out.join("media.iso")).unwrap();
    let needle = b"Purple-Canary-42";
    assert!(!iso_bytes.windows(needle.len()).any(|w| w == needle), "variable value in plaintext");

    let json = ok(&["media", "inspect", s(&out), "--password", "cli-pw", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["media_type"], "BootMedia");
    assert!(v["variables"].as_array().unwrap().iter().any(|x| x[0] == "Color" && x[1] == "Purple-Canary-42"), "{json}");

    let wrong = tsmedia().args(["media", "inspect", s(&out), "--password", "nope"]).output().unwrap();
    assert!(!wrong.status.success());
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert!(err.contains("wrong media password"), "{err}");

    // A preflight failure names the problem and writes nothing.
    let bad_out = d.join("bad");
    let failed = tsmedia()
        .args(["--site", &site_s, "media", "create", "bootable", "--boot-image", &boot, "--dp", "dp1", "--out", s(&bad_out), "--label"])
        .arg("X".repeat(40))
        .output()
        .unwrap();
    assert!(!failed.status.success());
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(err.contains("--label") && err.contains("nothing was written"), "{err}");
    assert!(!bad_out.exists());
}
