//! tsmedia PE built from Debian's real packages boots under QEMU: the signed kernel starts the
//! initramfs, `/init` loads the modules for the virtual machine's devices and runs the tsmedia
//! runtime (`tsmedia-runtime`, linked against the packaged C library), which answers, and the machine powers off.
//!
//! The packages come from `scripts/fetch-pe-debs.sh` (run by `scripts/test.sh`) in
//! `target/pe-debs`, or the folder named by `TSMEDIA_PE_DEBS`. The test fails, never skips,
//! when they are missing.

mod common;
mod pe_common;

use std::process::Command;

use common::{require, run, tsmedia};
use pe_common::{debs, stripped_runtime};

#[test]
fn tsmedia_pe_from_debian_packages_boots_and_runs_the_runtime() {
    require("qemu-system-x86_64", "qemu-system-x86");
    let debs = debs();
    let tmp = tempfile::tempdir().expect("tempdir");
    let runtime = stripped_runtime(tmp.path());
    let wim = tmp.path().join("tspe.wim");
    let out = run(tsmedia()
        .args(["pe", "build", "--json", "--debs"])
        .arg(&debs)
        .arg("--runtime")
        .arg(&runtime)
        .arg("--out")
        .arg(&wim));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(report["flavour"], "tsmedia-pe");
    assert_eq!(report["arch"], "amd64");
    let modules = report["modules"].as_array().expect("modules");
    for m in ["virtio_blk", "ahci", "e1000", "isofs", "vfat", "fuse"] {
        assert!(
            modules.iter().any(|x| x == m),
            "{m} not carried: {modules:?}"
        );
    }

    // Reproducible: the same packages and runtime give the same bytes.
    let again = tmp.path().join("again.wim");
    run(tsmedia()
        .args(["pe", "build", "--debs"])
        .arg(&debs)
        .arg("--runtime")
        .arg(&runtime)
        .arg("--out")
        .arg(&again));
    assert!(
        std::fs::read(&wim).expect("read") == std::fs::read(&again).expect("read"),
        "two builds from the same packages differ"
    );

    // The site takes it as a boot image and says what it is.
    let site = tmp.path().join("site");
    run(tsmedia()
        .env("TSMEDIA_SITE", &site)
        .args(["site", "init", "--code", "LAB", "--name", "Lab"]));
    let added = run(tsmedia()
        .env("TSMEDIA_SITE", &site)
        .args([
            "package",
            "add",
            "--type",
            "boot-image",
            "--name",
            "tsmedia PE",
            "--json",
        ])
        .arg(&wim));
    let added: serde_json::Value = serde_json::from_slice(&added.stdout).expect("json");
    assert_eq!(added["arch"], "x64");
    assert_eq!(added["images"][0]["flavour"], "tsmedia-pe");
    assert_eq!(added["images"][0]["kernel"], report["kernel"]);
    let id = added["id"].as_str().expect("id");
    let shown = run(tsmedia()
        .env("TSMEDIA_SITE", &site)
        .args(["package", "show", id]));
    let shown = String::from_utf8_lossy(&shown.stdout);
    let kernel = report["kernel"].as_str().expect("kernel");
    assert!(
        shown.contains(&format!("Flavour:        tsmedia-pe (Linux {kernel})")),
        "{shown}"
    );

    // The reference reads it; then boot its kernel and initramfs.
    common::wimlib(&["verify", wim.to_str().expect("utf-8 path")]);
    let tree = tmp.path().join("tree");
    run(tsmedia()
        .args(["wim", "apply"])
        .arg(&wim)
        .arg("1")
        .arg(&tree));
    // A virtio disk, so the virtio drivers are loaded by modalias in two rounds (the PCI
    // transport first, then the block driver for the device behind it).
    let disk = tmp.path().join("disk.img");
    std::fs::write(&disk, vec![0u8; 1 << 20]).expect("disk");
    let boot = Command::new("timeout")
        .args([
            "300",
            "qemu-system-x86_64",
            "-m",
            "1024",
            "-nographic",
            "-no-reboot",
        ])
        .args(["-serial", "stdio", "-monitor", "none", "-net", "none"])
        .arg("-drive")
        .arg(format!("if=virtio,format=raw,file={}", disk.display()))
        .arg("-kernel")
        .arg(tree.join("boot/vmlinuz"))
        .arg("-initrd")
        .arg(tree.join("boot/initrd.gz"))
        .args(["-append", "console=ttyS0,115200n8 quiet tsmedia.selftest"])
        .output()
        .expect("run qemu");
    let console = String::from_utf8_lossy(&boot.stdout);
    assert!(
        console.contains("TSMEDIA-PE-SELFTEST-OK"),
        "tsmedia PE did not finish its self-test (exit {}):\n{console}\n{}",
        boot.status,
        String::from_utf8_lossy(&boot.stderr)
    );
    assert!(
        console.contains("tsmedia PE: runtime tsmedia-runtime "),
        "the runtime did not run:\n{console}"
    );
    let loaded = console
        .lines()
        .find_map(|l| l.trim().strip_prefix("tsmedia PE: modules: "))
        .unwrap_or_else(|| panic!("no module list:\n{console}"));
    for m in ["virtio_pci", "virtio_blk", "isofs", "vfat", "fuse"] {
        assert!(
            loaded.split(' ').any(|x| x == m),
            "{m} not loaded: {loaded}"
        );
    }
}
