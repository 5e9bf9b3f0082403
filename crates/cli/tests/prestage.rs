//! `tsmedia prestage apply` end to end: prestaged media built from the synthetic site of the
//! media tests are applied to GPT and MBR disk images; sgdisk, sfdisk, fsck.fat and mtools
//! accept them, the FAT reader finds every file of the WIM with equal bytes, the GPT image
//! boots under OVMF, and a WIM with a corrupt blob fails without touching the existing image.
//! Debian packages: gdisk, fdisk, dosfstools, mtools, qemu-system-x86, ovmf, wimtools.

#[path = "../../media/tests/common/mod.rs"]
mod media_common;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::process::Command;

use media_common::{Fixture, UEFI_MARKER, fixture, run, stdout, tool};
use tsmedia_image::disk::{Guid, PartitionType, TableKind, open_fat_volume, read_partition_table};
use tsmedia_media::{BuildOptions, MediaKind, build, preflight_with};
use tsmedia_wim::{Wim, ops};

fn tsmedia() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tsmedia"))
}

fn prestaged(f: &Fixture) -> std::path::PathBuf {
    let spec = f.spec(MediaKind::Prestaged, "prestaged.wim");
    let mut site = f.site();
    let plan = preflight_with(&site, &spec, &f.plan_options())
        .unwrap_or_else(|e| panic!("preflight: {e:#?}"));
    build(&mut site, &plan, &BuildOptions::default()).unwrap();
    f.path("prestaged.wim")
}

/// Every file of image 1 of a WIM: path → bytes.
fn wim_files(wim: &Path) -> BTreeMap<String, Vec<u8>> {
    let w = Wim::open(wim).unwrap();
    let image = ops::load_image(&w, 1).unwrap();
    let mut paths = Vec::new();
    image.root.walk(&mut |parents, d| {
        if !d.is_dir() {
            let mut p: Vec<String> = parents.iter().skip(1).map(|x| x.name_lossy()).collect();
            p.push(d.name_lossy());
            paths.push((p.join("/"), d.data));
        }
    });
    paths
        .into_iter()
        .map(|(p, sha)| {
            let bytes = if sha.is_zero() {
                Vec::new()
            } else {
                w.open_blob(&sha, true).unwrap().read_all().unwrap()
            };
            (p, bytes)
        })
        .collect()
}

/// Every file of the disk's FAT volume, read with our reader: path → bytes.
fn disk_files(disk: &Path) -> BTreeMap<String, Vec<u8>> {
    let (mut v, _) = open_fat_volume(File::open(disk).unwrap()).unwrap();
    let mut out = BTreeMap::new();
    for (path, e) in v.walk("").unwrap() {
        if !e.is_dir() {
            let mut bytes = Vec::new();
            v.open_file(&e, &path)
                .unwrap()
                .read_to_end(&mut bytes)
                .unwrap();
            out.insert(path, bytes);
        }
    }
    out
}

fn apply(wim: &Path, disk: &Path, extra: &[&str]) -> std::process::Output {
    tsmedia()
        .args(["prestage", "apply"])
        .arg(wim)
        .arg("--disk")
        .arg(disk)
        .args(extra)
        .output()
        .unwrap()
}

fn apply_ok(wim: &Path, disk: &Path, extra: &[&str]) -> serde_json::Value {
    let out = apply(wim, disk, extra);
    assert!(
        out.status.success(),
        "prestage apply failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Copies the partition out of the disk and runs fsck.fat and mdir on it.
fn check_fat(disk: &Path, offset: u64, len: u64, dir: &Path) {
    let bytes = std::fs::read(disk).unwrap();
    let part = dir.join("part.img");
    std::fs::write(&part, &bytes[offset as usize..(offset + len) as usize]).unwrap();
    let fsck = stdout(
        Command::new(tool("fsck.fat", "dosfstools"))
            .args(["-n", "-v"])
            .arg(&part),
    );
    assert!(fsck.contains("32 bit entries"), "{fsck}");
    let listing = stdout(
        Command::new(tool("mdir", "mtools"))
            .arg("-i")
            .arg(&part)
            .arg("::/EFI/Boot"),
    );
    assert!(
        listing.to_ascii_lowercase().contains("bootx64"),
        "{listing}"
    );
    std::fs::remove_file(&part).unwrap();
}

fn boot_under_ovmf(disk: &Path, dir: &Path) -> (Option<i32>, String) {
    let vars = dir.join("vars.fd");
    std::fs::copy("/usr/share/OVMF/OVMF_VARS_4M.fd", &vars)
        .expect("OVMF missing: install the Debian package `ovmf`");
    let out = Command::new("timeout")
        .arg("60")
        .arg(tool("qemu-system-x86_64", "qemu-system-x86"))
        .args(["-m", "256", "-nographic", "-no-reboot", "-serial", "stdio"])
        .args(["-monitor", "none", "-net", "none", "-machine", "q35"])
        .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"])
        .args([
            "-drive",
            "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
        ])
        .arg("-drive")
        .arg(format!("if=pflash,format=raw,file={}", vars.display()))
        .arg("-drive")
        .arg(format!("if=none,id=s,file={},format=raw", disk.display()))
        .args(["-device", "qemu-xhci", "-device", "usb-storage,drive=s"])
        .output()
        .expect("qemu-system-x86_64: install the Debian package `qemu-system-x86`");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn prestage_apply_gpt_checks_reads_back_and_boots() {
    let f = fixture();
    let wim = prestaged(&f);
    let disk = f.path("disk.img");
    let v = apply_ok(&wim, &disk, &["--json", "--quiet"]);
    assert_eq!(v["table"], "gpt");
    let size = std::fs::metadata(&disk).unwrap().len();
    assert_eq!(v["disk_bytes"].as_u64(), Some(size));
    let want = wim_files(&wim);
    assert_eq!(v["files"].as_u64(), Some(want.len() as u64));

    let verify = stdout(Command::new(tool("sgdisk", "gdisk")).arg("-v").arg(&disk));
    assert!(verify.contains("No problems found"), "{verify}");
    let dump = stdout(Command::new(tool("sfdisk", "fdisk")).arg("-d").arg(&disk));
    assert!(dump.contains("label: gpt"), "{dump}");
    assert!(
        dump.contains("type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B"),
        "{dump}"
    );
    let offset = v["partition_offset"].as_u64().unwrap();
    check_fat(
        &disk,
        offset,
        v["partition_bytes"].as_u64().unwrap(),
        f.dir.path(),
    );

    let layout = read_partition_table(&mut File::open(&disk).unwrap()).unwrap();
    assert_eq!(layout.table, TableKind::Gpt);
    assert_eq!(
        layout.partitions[0].kind,
        PartitionType::Gpt(Guid::EFI_SYSTEM)
    );
    let got = disk_files(&disk);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (p, bytes) in &want {
        assert!(&got[p] == bytes, "{p} differs");
    }
    assert!(want.keys().any(|p| p.starts_with("SMS/PKG/")));

    // The staged disk is media too: inspect sees prestaged (OEM) media.
    let i = tsmedia_media::inspect(&disk, None, false).unwrap();
    assert_eq!(i.media_type, "OEMMedia");
    let out = tsmedia()
        .args(["media", "inspect", "--json"])
        .arg(&disk)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["media_type"], "OEMMedia");
    let entries = j["discs"][0]["boot_entries"].to_string();
    assert!(
        entries.contains("GPT EFI system partition") && entries.contains("UEFI x64"),
        "{entries}"
    );
    assert!(
        j["content"]["packages"]
            .as_array()
            .is_some_and(|p| !p.is_empty())
    );

    let (code, serial) = boot_under_ovmf(&disk, f.dir.path());
    assert!(serial.contains(UEFI_MARKER), "{serial}");
    assert_eq!(code, Some(0), "{serial}");
}

#[test]
fn prestage_apply_mbr_with_size() {
    let f = fixture();
    let wim = prestaged(&f);
    let disk = f.path("mbr.img");
    let v = apply_ok(
        &wim,
        &disk,
        &["--table", "mbr", "--size", "80mib", "--json"],
    );
    assert_eq!(v["disk_bytes"].as_u64(), Some(80 << 20));
    let dump = stdout(Command::new(tool("sfdisk", "fdisk")).arg("-d").arg(&disk));
    assert!(dump.contains("label: dos"), "{dump}");
    assert!(dump.contains("type=c, bootable"), "{dump}");
    let layout = read_partition_table(&mut File::open(&disk).unwrap()).unwrap();
    assert_eq!(layout.table, TableKind::Mbr);
    assert!(layout.partitions[0].active);
    assert_eq!(layout.partitions[0].kind, PartitionType::Mbr(0x0C));
    check_fat(
        &disk,
        v["partition_offset"].as_u64().unwrap(),
        v["partition_bytes"].as_u64().unwrap(),
        f.dir.path(),
    );
    assert_eq!(disk_files(&disk), wim_files(&wim));

    // Too small a size is refused, naming what is needed; the image is kept.
    let before = std::fs::read(&disk).unwrap();
    let out = apply(&wim, &disk, &["--table", "mbr", "--size", "1mib"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("too small"), "{err}");
    assert!(std::fs::read(&disk).unwrap() == before);
    // Not prestaged media.
    let out = apply(&disk, &f.path("x.img"), &[]);
    assert!(!out.status.success());
    assert!(!f.path("x.img").exists());
}

#[test]
fn corrupt_blob_fails_and_keeps_the_existing_image() {
    let f = fixture();
    let wim = prestaged(&f);
    let disk = f.path("disk.img");
    apply_ok(&wim, &disk, &["--json", "--quiet"]);
    let before = std::fs::read(&disk).unwrap();

    // Damage the middle of the largest blob.
    let corrupt = f.path("corrupt.wim");
    std::fs::copy(&wim, &corrupt).unwrap();
    let w = Wim::open(&wim).unwrap();
    let largest = w
        .blobs
        .values()
        .max_by_key(|l| l.entry.resource.stored_size)
        .unwrap();
    let at = largest.entry.resource.offset + largest.entry.resource.stored_size / 2;
    let mut bytes = std::fs::read(&corrupt).unwrap();
    bytes[at as usize] ^= 0x5A;
    bytes[at as usize + 1] ^= 0xA5;
    std::fs::write(&corrupt, &bytes).unwrap();

    let out = apply(&corrupt, &disk, &["--quiet"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("kept"), "{err}");
    // The largest blob is a WIM file of the media (boot.wim with the runtime, or install.wim);
    // the error names it.
    assert!(
        (err.contains("sources/boot.wim") || err.contains("install.wim"))
            && err.contains("corrupt"),
        "{err}"
    );
    assert!(std::fs::read(&disk).unwrap() == before, "image changed");
    let leftovers: Vec<_> = std::fs::read_dir(f.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let _ = run;
}

#[test]
fn files_over_the_fat32_limit_are_named() {
    let f = fixture();
    let wim = prestaged(&f);
    // Make the blob table claim that one compressed blob is 5 GiB (nothing reads it: the
    // limit is checked before any byte is written).
    let w = Wim::open(&wim).unwrap();
    let image = ops::load_image(&w, 1).unwrap();
    let mut target = None;
    image.root.walk(&mut |parents, d| {
        let compressed = w
            .blobs
            .get(&d.data)
            .is_some_and(|l| l.entry.resource.is_compressed());
        if target.is_none() && !d.is_dir() && compressed {
            let mut p: Vec<String> = parents.iter().skip(1).map(|x| x.name_lossy()).collect();
            p.push(d.name_lossy());
            target = Some((p.join("/"), d.data));
        }
    });
    let (path, sha) = target.expect("a compressed blob");
    let table = w.header.blob_table;
    drop(w);
    let mut bytes = std::fs::read(&wim).unwrap();
    let start = table.offset as usize;
    let region = &bytes[start..start + table.stored_size as usize];
    let at = region
        .windows(20)
        .position(|x| x == sha.0)
        .expect("blob table entry")
        + start
        - 30;
    bytes[at + 16..at + 24].copy_from_slice(&(5u64 << 30).to_le_bytes());
    let big = f.path("big.wim");
    std::fs::write(&big, &bytes).unwrap();
    let disk = f.path("big.img");
    let out = apply(&big, &disk, &["--quiet"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&path) && err.contains("4 GiB"), "{err}");
    assert!(!disk.exists());
}
