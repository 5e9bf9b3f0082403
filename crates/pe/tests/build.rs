//! Building tsmedia PE from packages made in the test: what goes into the initramfs and the
//! boot image, reproducibility, and bad input (missing, damaged or foreign packages, a runtime
//! for another machine, an unknown module).

mod fixtures;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use tsmedia_pe::runtime::RuntimeElf;
use tsmedia_pe::{Error, PeOptions, build};

const KVER: &str = "9.9.9-1-amd64";

/// The test binary itself stands in for the runtime: a real x86-64 dynamic executable.
fn runtime() -> PathBuf {
    std::env::current_exe().expect("test binary path")
}

fn needed() -> Vec<String> {
    let r = RuntimeElf::read(&runtime()).expect("read test binary");
    let mut n = r.needed.clone();
    n.extend(
        r.interpreter
            .as_deref()
            .and_then(|i| i.rsplit('/').next())
            .map(str::to_string),
    );
    n
}

fn standard_modules() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "drivers/virtio/virtio_ring.ko",
            fixtures::module("virtio_ring", &[], &[]),
        ),
        (
            "drivers/virtio/virtio.ko",
            fixtures::module("virtio", &["virtio_ring"], &[]),
        ),
        (
            "drivers/block/virtio_blk.ko",
            fixtures::module(
                "virtio_blk",
                &["virtio", "virtio_ring"],
                &["virtio:d00000002v*"],
            ),
        ),
        (
            "fs/isofs/isofs.ko",
            fixtures::module("isofs", &[], &["fs-iso9660"]),
        ),
        (
            "drivers/not/wanted.ko",
            fixtures::module("wanted_not", &[], &[]),
        ),
    ]
}

fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    fixtures::packages(dir.path(), KVER, &standard_modules(), &needed());
    dir
}

fn opts(dir: &Path) -> PeOptions {
    PeOptions {
        debs: dir.to_path_buf(),
        runtime: runtime(),
        extra_modules: Vec::new(),
        kernel_args: vec!["nomodeset".into()],
    }
}

/// The entries of a gzip newc archive: path → (mode, data).
fn unpack(initrd: &[u8]) -> BTreeMap<String, (u32, Vec<u8>)> {
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(initrd)
        .read_to_end(&mut raw)
        .expect("gunzip");
    let mut out = BTreeMap::new();
    let mut i = 0;
    loop {
        assert_eq!(&raw[i..i + 6], b"070701", "entry at {i}");
        let field = |k: usize| {
            u32::from_str_radix(
                std::str::from_utf8(&raw[i + 6 + 8 * k..i + 14 + 8 * k]).expect("ascii"),
                16,
            )
            .expect("hex")
        };
        let (mode, size, namesize) = (field(1), field(6) as usize, field(11) as usize);
        let name = String::from_utf8(raw[i + 110..i + 110 + namesize - 1].to_vec()).expect("utf8");
        let data_at = (i + 110 + namesize + 3) & !3;
        if name == "TRAILER!!!" {
            return out;
        }
        out.insert(name, (mode, raw[data_at..data_at + size].to_vec()));
        i = (data_at + size + 3) & !3;
    }
}

#[test]
fn a_pe_carries_the_kernel_the_modules_it_needs_busybox_the_runtime_and_its_libraries() {
    let dir = folder();
    let pe = build(&opts(dir.path())).expect("build");
    assert_eq!(pe.kernel_version, KVER);
    let paths: Vec<&str> = pe.files.iter().map(|f| f.path.as_str()).collect();
    for p in [
        ".disk/info",
        "EFI/boot/bootx64.efi",
        "EFI/boot/grubx64.efi",
        "EFI/boot/mmx64.efi",
        "boot/grub/grub.cfg",
        "boot/initrd.gz",
        "boot/vmlinuz",
        "isolinux/isohdpfx.bin",
        "isolinux/isolinux.bin",
        "isolinux/isolinux.cfg",
        "isolinux/ldlinux.c32",
    ] {
        assert!(paths.contains(&p), "{p} missing from {paths:?}");
    }
    let file = |p: &str| &pe.files.iter().find(|f| f.path == p).expect(p).data;
    assert_eq!(file("EFI/boot/bootx64.efi"), b"shim");
    assert_eq!(file("EFI/boot/grubx64.efi"), b"grub");
    let grub = String::from_utf8_lossy(file("boot/grub/grub.cfg"));
    assert!(grub.contains("linux /boot/vmlinuz") && grub.contains("initrd /boot/initrd.gz"));
    assert!(
        grub.contains("quiet nomodeset\n"),
        "extra kernel arguments: {grub}"
    );
    let isolinux = String::from_utf8_lossy(file("isolinux/isolinux.cfg"));
    assert!(
        isolinux.contains("APPEND initrd=/boot/initrd.gz console=tty0"),
        "{isolinux}"
    );
    assert!(isolinux.contains("quiet nomodeset\n"), "{isolinux}");

    // Dependencies before the modules that need them; virtio_blk is not in the default set's
    // way of being absent, isofs is; a module nobody wants is not carried.
    let pos = |m: &str| pe.modules.iter().position(|x| x == m);
    assert!(pos("virtio_ring") < pos("virtio") && pos("virtio") < pos("virtio_blk"));
    assert!(pos("isofs").is_some());
    assert_eq!(pos("wanted_not"), None);
    assert!(pe.modules_absent.contains(&"ahci".to_string()));
    assert!(
        !pe.modules_absent.contains(&"sd_mod".to_string()),
        "built in"
    );

    let root = unpack(file("boot/initrd.gz"));
    let (mode, init) = &root["init"];
    assert_eq!(mode & 0o777, 0o755);
    assert!(String::from_utf8_lossy(init).starts_with("#!/bin/sh\n"));
    assert_eq!(root["bin/busybox"].1, vec![0xbb; 100]);
    // NTFS-3G: the FUSE driver, mkntfs, their library under its soname, the mount table.
    assert_eq!(root["bin/ntfs-3g"].1, b"ntfs-3g");
    assert_eq!(root["sbin/mkntfs"].1, b"mkntfs");
    assert_eq!(
        root["lib/x86_64-linux-gnu/libntfs-3g.so.89"].1,
        b"libntfs-3g"
    );
    assert_eq!(root["etc/mtab"].1, b"/proc/self/mounts");
    assert_eq!(root["bin/sh"].1, b"busybox", "symlink target");
    assert_eq!(
        root["sbin/tsmedia-runtime"].1.len() as u64,
        std::fs::metadata(runtime()).expect("meta").len()
    );
    for lib in needed() {
        assert!(
            root.contains_key(&format!("lib/x86_64-linux-gnu/{lib}")),
            "{lib}"
        );
    }
    assert_eq!(
        root["dev/console"].0 & 0o170000,
        0o020000,
        "character device"
    );
    let dep =
        String::from_utf8_lossy(&root[&format!("lib/modules/{KVER}/modules.dep")].1).into_owned();
    assert!(
        dep.contains("kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko"),
        "{dep}"
    );
    let alias =
        String::from_utf8_lossy(&root[&format!("lib/modules/{KVER}/modules.alias")].1).into_owned();
    assert!(
        alias.contains("alias virtio:d00000002v* virtio_blk"),
        "{alias}"
    );
    let always =
        String::from_utf8_lossy(&root[&format!("lib/modules/{KVER}/tsmedia.load")].1).into_owned();
    assert!(
        always.contains("isofs\n"),
        "no device alias: loaded at every boot"
    );
    assert!(!always.contains("virtio_blk"), "loaded by modalias");
    assert!(root.contains_key(&format!("lib/modules/{KVER}/kernel/fs/isofs/isofs.ko")));
}

#[test]
fn the_same_packages_give_the_same_bytes() {
    let dir = folder();
    let a = build(&opts(dir.path())).expect("build");
    let b = build(&opts(dir.path())).expect("build");
    assert_eq!(a.files, b.files);
}

#[test]
fn a_missing_package_is_named_with_how_to_get_it() {
    let dir = folder();
    for f in std::fs::read_dir(dir.path()).expect("ls") {
        let p = f.expect("entry").path();
        if p.to_string_lossy().contains("busybox-static") {
            std::fs::remove_file(p).expect("rm");
        }
    }
    let e = build(&opts(dir.path())).expect_err("must fail");
    assert!(matches!(e, Error::MissingPackage { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("busybox-static") && text.contains("fetch-pe-debs.sh"),
        "{text}"
    );
    assert!(text.contains(&dir.path().display().to_string()), "{text}");
}

#[test]
fn a_damaged_or_truncated_package_is_named() {
    let dir = folder();
    let garbage = dir.path().join("garbage.deb");
    std::fs::write(&garbage, b"this is not a package").expect("write");
    let text = build(&opts(dir.path())).expect_err("garbage").to_string();
    assert!(
        text.contains("garbage.deb") && text.contains("not a Debian package"),
        "{text}"
    );
    std::fs::remove_file(&garbage).expect("rm");

    let busybox = std::fs::read_dir(dir.path())
        .expect("ls")
        .map(|e| e.expect("entry").path())
        .find(|p| p.to_string_lossy().contains("busybox"))
        .expect("busybox deb");
    let bytes = std::fs::read(&busybox).expect("read");
    std::fs::write(&busybox, &bytes[..bytes.len() - 40]).expect("truncate");
    let text = build(&opts(dir.path())).expect_err("truncated").to_string();
    assert!(
        text.contains("busybox-static_1.0_amd64.deb") && text.contains("truncated"),
        "{text}"
    );
}

#[test]
fn a_kernel_for_another_architecture_is_refused_by_name() {
    let dir = folder();
    fixtures::deb(
        dir.path(),
        "linux-image-9.9.9-1-arm64",
        "1.0",
        "arm64",
        &[("boot/vmlinuz-9.9.9-1-arm64".to_string(), vec![1; 64])],
    );
    let e = build(&opts(dir.path())).expect_err("must fail");
    assert!(matches!(e, Error::WrongArchitecture { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("linux-image-9.9.9-1-arm64_1.0_arm64.deb") && text.contains("arm64"),
        "{text}"
    );
}

#[test]
fn a_runtime_that_is_not_an_x86_64_program_is_refused() {
    let dir = folder();
    let bad = dir.path().join("runtime.txt");
    std::fs::write(&bad, b"#!/bin/sh\necho hi\n").expect("write");
    let mut o = opts(dir.path());
    o.runtime = bad.clone();
    let text = build(&o).expect_err("script").to_string();
    assert!(
        text.contains("runtime.txt") && text.contains("ELF"),
        "{text}"
    );

    // An ELF for AArch64: the machine field says so.
    let mut elf = std::fs::read(runtime()).expect("read");
    elf[18..20].copy_from_slice(&183u16.to_le_bytes());
    let arm = dir.path().join("runtime-arm64");
    std::fs::write(&arm, elf).expect("write");
    o.runtime = arm;
    let text = build(&o).expect_err("arm64").to_string();
    assert!(
        text.contains("runtime-arm64") && text.contains("x86-64"),
        "{text}"
    );
}

#[test]
fn an_unknown_module_asked_for_is_refused_and_a_missing_dependency_named() {
    let dir = folder();
    let mut o = opts(dir.path());
    o.extra_modules = vec!["no_such_driver".into()];
    let text = build(&o).expect_err("unknown").to_string();
    assert!(
        text.contains("no_such_driver") && text.contains(KVER),
        "{text}"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let mut mods = standard_modules();
    mods.push((
        "fs/ext4/ext4.ko",
        fixtures::module("ext4", &["jbd2"], &["fs-ext4"]),
    ));
    fixtures::packages(dir.path(), KVER, &mods, &needed());
    let text = build(&opts(dir.path())).expect_err("no jbd2").to_string();
    assert!(text.contains("ext4") && text.contains("jbd2"), "{text}");
}
