//! `tsmedia media create|inspect` end to end through the binary: a site made with the site
//! commands, a dry run that writes nothing, a bootable ISO whose boot.wim carries the tsmedia
//! executable itself, inspect with and without the password, a refused build's log, and a
//! stand-alone set whose OS image spans discs as `.swm` parts (notice on stderr, parts checked
//! by the runtime's manifest check and by wimlib). An ignored test measures peak memory of
//! building media with 10 GB of content.
//! Debian packages: wimtools, xorriso, time (for the ignored measurement).

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn ok(args: &[&str]) -> String {
    let out = run(tsmedia().args(args));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn write(path: &Path, data: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, data).unwrap();
}

/// A site in `d/site` with a Windows-PE-shaped boot image (stand-in boot files; booting is
/// tested in crates/media), a DP readable by Everyone and an MP.
struct TestSite {
    site: String,
    boot: String,
}

impl TestSite {
    fn new(d: &Path) -> TestSite {
        let pe = d.join("pe");
        for (p, data) in [
            (
                "Windows/Boot/DVD/PCAT/etfsboot.com",
                &b"etfsboot stand-in"[..],
            ),
            ("Windows/Boot/DVD/EFI/en-US/efisys.bin", b"efisys stand-in"),
            ("Windows/Boot/EFI/bootmgfw.efi", b"bootmgfw stand-in"),
            ("Windows/System32/winpeshl.ini", b"[LaunchApps]\r\n"),
        ] {
            write(&pe.join(p), data);
        }
        let wim = d.join("boot.wim");
        // Stored, not compressed: boot.wim inherits it, so injecting the (large, unstripped)
        // test build of tsmedia costs a copy rather than minutes of LZX.
        ok(&[
            "wim",
            "capture",
            s(&pe),
            s(&wim),
            "WinPE",
            "--compress",
            "none",
        ]);
        let mut t = TestSite {
            site: s(&d.join("site")).to_string(),
            boot: String::new(),
        };
        t.ok(&["site", "init", "--code", "PS1"]);
        t.boot = t.ok(&[
            "package",
            "add",
            "--type",
            "boot-image",
            "--name",
            "Boot x64",
            "--arch",
            "x64",
            "--image-index",
            "1",
            s(&wim),
        ]);
        t.ok(&["dp", "add", "dp1", "--url", "http://dp1.example"]);
        t.ok(&["dp", "grant", "dp1", "--principal", "Everyone"]);
        t.ok(&["mp", "add", "mp1", "--url", "http://mp1.example"]);
        let boot = t.boot.clone();
        t.ok(&["content", "distribute", &boot, "--dp", "dp1"]);
        t
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = tsmedia();
        c.args(["--site", &self.site]).args(args);
        c
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = run(&mut self.cmd(args));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

/// `xorriso -osirrox on -indev ISO -extract / DIR`.
fn extract_iso(iso: &Path, dir: &Path) {
    require("xorriso", "xorriso");
    run(Command::new("xorriso")
        .args(["-osirrox", "on", "-indev"])
        .arg(iso)
        .args(["-extract", "/"])
        .arg(dir));
}

#[test]
fn create_dry_run_build_and_inspect() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let t = TestSite::new(d);
    let out = d.join("media");
    let create = [
        "media",
        "create",
        "bootable",
        "--boot-image",
        &t.boot,
        "--dp",
        "dp1",
        "--out",
        s(&out),
        "--password",
        "cli-pw",
        "--variable",
        "Color=Purple-Canary-42",
    ];
    let mut dry = create.to_vec();
    dry.push("--dry-run");
    let plan = t.ok(&dry);
    assert!(plan.contains("sources/boot.wim"), "{plan}");
    assert!(plan.contains("boot/etfsboot.com"), "{plan}");
    assert!(!out.exists(), "a dry run wrote {}", out.display());

    // The runtime is this very executable (the default).
    let printed = t.ok(&create);
    assert!(printed.ends_with("media.iso"), "{printed}");
    assert!(out.join("CreateTSMedia.log").exists());
    let iso_bytes = std::fs::read(out.join("media.iso")).unwrap();
    let needle = b"Purple-Canary-42";
    assert!(
        !iso_bytes.windows(needle.len()).any(|w| w == needle),
        "variable value in plaintext"
    );
    drop(iso_bytes);
    let x = d.join("x");
    extract_iso(&out.join("media.iso"), &x);
    let boot_wim = x.join("sources/boot.wim");
    let listing = String::from_utf8_lossy(&wimlib(&["dir", s(&boot_wim), "1"]).stdout).into_owned();
    for p in [
        "/SMS/bin/x64/tsmedia",
        "/SMS/data/TsmBootstrap.ini",
        "/SMS/data/Variables.dat",
    ] {
        assert!(listing.lines().any(|l| l == p), "{p} missing:\n{listing}");
    }
    let rt = d.join("rt");
    wimlib(&[
        "extract",
        s(&boot_wim),
        "1",
        "/SMS/bin/x64/tsmedia",
        &format!("--dest-dir={}", s(&rt)),
    ]);
    assert!(
        std::fs::read(rt.join("tsmedia")).unwrap()
            == std::fs::read(env!("CARGO_BIN_EXE_tsmedia")).unwrap(),
        "boot.wim's runtime is not the tsmedia executable"
    );

    let json = ok(&[
        "media",
        "inspect",
        s(&out),
        "--password",
        "cli-pw",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["media_type"], "BootMedia");
    assert!(
        v["variables"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x[0] == "Color" && x[1] == "Purple-Canary-42"),
        "{json}"
    );

    let wrong = tsmedia()
        .args(["media", "inspect", s(&out), "--password", "nope"])
        .output()
        .unwrap();
    assert!(!wrong.status.success());
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert!(err.contains("wrong media password"), "{err}");

    // A preflight failure names the problem, writes no media, and is logged beside them.
    let bad_out = d.join("bad");
    let failed = t
        .cmd(&[
            "media",
            "create",
            "bootable",
            "--boot-image",
            &t.boot,
            "--dp",
            "dp1",
            "--out",
            s(&bad_out),
            "--label",
        ])
        .arg("X".repeat(40))
        .output()
        .unwrap();
    assert!(!failed.status.success());
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(
        err.contains("--label") && err.contains("nothing was written"),
        "{err}"
    );
    assert!(!bad_out.exists());
    let log = d.join("CreateTSMedia.log");
    assert!(err.contains(&format!("log: {}", log.display())), "{err}");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("type=\"3\"") && text.contains("--label"),
        "{text}"
    );
}

#[test]
fn standalone_set_spans_an_os_image_across_discs_as_swm_parts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let t = TestSite::new(d);
    // An OS image of 8 stored (uncompressed) files of 600 KB: about 4.8 MB.
    let tree = d.join("os");
    for i in 0..8u64 {
        let mut x = 0x9E37_79B9_7F4A_7C15u64.wrapping_mul(i + 1) | 1;
        let data: Vec<u8> = (0..600_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        write(&tree.join(format!("Windows/data{i}.bin")), &data);
    }
    let wim = d.join("src/install.wim");
    std::fs::create_dir_all(wim.parent().unwrap()).unwrap();
    ok(&[
        "wim",
        "capture",
        s(&tree),
        s(&wim),
        "Windows",
        "--compress",
        "none",
    ]);
    let os = t.ok(&[
        "package",
        "add",
        "--type",
        "os-image",
        "--name",
        "Windows",
        s(&wim),
    ]);
    t.ok(&["content", "distribute", &os, "--dp", "dp1"]);
    let ts_xml = d.join("ts.xml");
    std::fs::write(
        &ts_xml,
        format!(
            r#"<sequence version="3.10"><referenceList><reference package="{os}" /></referenceList>
<step type="SMS_TaskSequence_ApplyOperatingSystemAction" name="Apply Operating System">
<action>OSDApplyOS.exe /image:{os},1</action></step></sequence>"#
        ),
    )
    .unwrap();
    let ts = t.ok(&[
        "ts",
        "import",
        s(&ts_xml),
        "--name",
        "Deploy",
        "--boot-image",
        &t.boot,
    ]);
    let ts = ts.lines().next().unwrap().trim().to_string();
    let runtime = d.join("runtime");
    std::fs::write(&runtime, b"a small runtime stand-in").unwrap();
    let out = d.join("set");
    let done = run(&mut t.cmd(&[
        "media",
        "create",
        "standalone",
        "--ts",
        &ts,
        "--dp",
        "dp1",
        "--out",
        s(&out),
        "--size",
        "4MiB",
        "--password",
        "pw",
        "--runtime",
        s(&runtime),
    ]));
    let stderr = String::from_utf8_lossy(&done.stderr);
    let notice = stderr
        .lines()
        .find(|l| l.starts_with("notice:") && l.contains(".swm"))
        .unwrap_or_else(|| panic!("no notice on stderr:\n{stderr}"));
    assert!(notice.contains("install.wim"), "{notice}");
    let isos: Vec<PathBuf> = String::from_utf8_lossy(&done.stdout)
        .lines()
        .map(PathBuf::from)
        .collect();
    assert!(isos.len() >= 3, "{isos:?}");
    let log = std::fs::read_to_string(out.join("CreateTSMedia.log")).unwrap();
    assert!(log.contains(notice.trim_start_matches("notice: ")), "{log}");

    // The runtime's view: each disc's files gathered into one media root, the package checked
    // against the manifest (every part with its size and SHA-256), then applied with --ref.
    let root = d.join("root");
    for (k, iso) in isos.iter().enumerate() {
        assert!(std::fs::metadata(iso).unwrap().len() <= 4 << 20);
        let x = d.join(format!("disc{}", k + 1));
        extract_iso(iso, &x);
        for f in files_in(&x) {
            let rel = f.strip_prefix(&x).unwrap();
            let to = root.join(rel);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            if !to.exists() {
                std::fs::rename(&f, &to).unwrap();
            }
        }
    }
    let manifest = tsmedia_client::ContentManifest::read(&root).unwrap();
    let package = manifest.package(&os).unwrap();
    assert!(
        package.files.len() >= 2 && package.files.iter().all(|f| f.path.ends_with(".swm")),
        "{package:?}"
    );
    let folder = root.join("SMS/PKG").join(&os);
    let staged = tsmedia_client::StagedContent::from_media(&root).unwrap();
    staged.verify_all().unwrap();
    let first = folder.join("install.swm");
    let applied = d.join("applied");
    wimlib(&[
        "apply",
        s(&first),
        "1",
        s(&applied),
        &format!("--ref={}", s(&folder.join("install*.swm"))),
    ]);
    assert_same_tree(&tree, &applied, false);
    // Tampering with a part is caught by the runtime's check.
    let part2 = folder.join("install2.swm");
    let mut bytes = std::fs::read(&part2).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(&part2, bytes).unwrap();
    let err = staged.verify_all().unwrap_err().to_string();
    assert!(err.contains("install2.swm"), "{err}");
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_in(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// An uncompressed WIM of `sizes` blobs that are holes of a sparse file (fake SHA-1s: enough
/// for planning and streaming parts, not for applying), with the metadata of a tiny image.
fn sparse_wim(d: &Path, out: &Path, sizes: &[u64]) {
    use std::io::{Read, Seek, SeekFrom, Write};
    use tsmedia_wim::blob_table::BlobEntry;
    use tsmedia_wim::resource::{ResourceHeader, flags};
    let tree = d.join("tiny");
    write(&tree.join("a.txt"), b"tiny");
    let small = d.join("tiny.wim");
    ok(&[
        "wim",
        "capture",
        s(&tree),
        s(&small),
        "Tiny",
        "--compress",
        "none",
    ]);
    let src = tsmedia_wim::Wim::open(&small).unwrap();
    let meta = src.metadata[0];
    let mut meta_bytes = vec![0u8; meta.resource.stored_size as usize];
    let mut f = std::fs::File::open(&small).unwrap();
    f.seek(SeekFrom::Start(meta.resource.offset)).unwrap();
    f.read_exact(&mut meta_bytes).unwrap();
    let mut o = std::fs::File::create(out).unwrap();
    let mut pos = tsmedia_wim::header::HEADER_SIZE as u64;
    o.seek(SeekFrom::Start(pos)).unwrap();
    o.write_all(&meta_bytes).unwrap();
    let mut table = Vec::new();
    let meta_res = ResourceHeader {
        offset: pos,
        ..meta.resource
    };
    BlobEntry {
        resource: meta_res,
        ..meta
    }
    .write_to(&mut table);
    pos += meta_bytes.len() as u64;
    for (i, &size) in sizes.iter().enumerate() {
        let mut sha = [0u8; 20];
        sha[0] = i as u8 + 1;
        BlobEntry {
            resource: ResourceHeader {
                stored_size: size,
                flags: 0,
                offset: pos,
                uncompressed_size: size,
            },
            part_number: 1,
            ref_count: 1,
            sha1: tsmedia_wim::Sha1(sha),
        }
        .write_to(&mut table);
        pos += size;
    }
    let xml = tsmedia_wim::xml::to_bytes(&src.xml);
    o.seek(SeekFrom::Start(pos)).unwrap();
    o.write_all(&table).unwrap();
    o.write_all(&xml).unwrap();
    let mut h = src.header.clone();
    let len = |n: usize| n as u64;
    h.blob_table = ResourceHeader {
        stored_size: len(table.len()),
        flags: flags::METADATA,
        offset: pos,
        uncompressed_size: len(table.len()),
    };
    h.xml_data = ResourceHeader {
        stored_size: len(xml.len()),
        flags: flags::METADATA,
        offset: pos + len(table.len()),
        uncompressed_size: len(xml.len()),
    };
    h.boot_metadata = meta_res;
    o.seek(SeekFrom::Start(0)).unwrap();
    o.write_all(&h.to_bytes()).unwrap();
}

/// Peak memory of building media with 10 GB of content (ten 1 GiB files, sparse at the source
/// and stored once in the single-instance library; written ten times to the media), measured
/// with `/usr/bin/time -v` for an ISO set and a USB image; then a USB image carrying a 5 GiB
/// WIM, stored as two `.swm` parts under FAT32's limit. Writes about 20 GB at a time; run
/// with `TSMEDIA_BIG_DIR=/tmp cargo test -p tsmedia --test media_cli -- --ignored --nocapture`.
#[test]
#[ignore = "writes 20 GB; a measurement, not a CI test"]
fn ten_gb_of_content_builds_in_bounded_memory() {
    let dir =
        tempfile::tempdir_in(std::env::var_os("TSMEDIA_BIG_DIR").unwrap_or(".".into())).unwrap();
    let d = dir.path();
    let t = TestSite::new(d);
    let content = d.join("content");
    std::fs::create_dir_all(&content).unwrap();
    for i in 0..10 {
        let f = std::fs::File::create(content.join(format!("data{i:02}.bin"))).unwrap();
        f.set_len(1 << 30).unwrap();
    }
    let pkg = t.ok(&[
        "package",
        "add",
        "--type",
        "package",
        "--name",
        "Big",
        s(&content),
    ]);
    t.ok(&["content", "distribute", &pkg, "--dp", "dp1"]);
    let runtime = d.join("runtime");
    std::fs::write(&runtime, b"runtime stand-in").unwrap();
    require("time", "time");
    let big_wim = d.join("wimpkg");
    std::fs::create_dir_all(&big_wim).unwrap();
    sparse_wim(
        d,
        &big_wim.join("install.wim"),
        &[2 << 30, 2 << 30, 1 << 30],
    );
    let wim_pkg = t.ok(&[
        "package",
        "add",
        "--type",
        "package",
        "--name",
        "BigWim",
        s(&big_wim),
    ]);
    t.ok(&["content", "distribute", &wim_pkg, "--dp", "dp1"]);
    for (kind, out, pkg) in [
        ("cd-dvd", d.join("set"), &pkg),
        ("usb", d.join("usb.img"), &pkg),
        ("usb", d.join("usbwim.img"), &wim_pkg),
    ] {
        let started = std::time::Instant::now();
        let done = run(Command::new("/usr/bin/time")
            .arg("-v")
            .arg(env!("CARGO_BIN_EXE_tsmedia"))
            .args(["--site", &t.site, "media", "create", "bootable"])
            .args(["--boot-image", &t.boot, "--dp", "dp1", "--type", kind])
            .args([
                "--prestart-command",
                "cmd /c exit 0",
                "--prestart-package",
                pkg.as_str(),
            ])
            .arg("--out")
            .arg(&out)
            .arg("--runtime")
            .arg(&runtime));
        let secs = started.elapsed().as_secs_f64();
        let report = String::from_utf8_lossy(&done.stderr);
        let kib: u64 = report
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("Maximum resident set size (kbytes): ")
            })
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no RSS in:\n{report}"));
        let bytes: u64 = if out.is_dir() {
            files_in(&out)
                .iter()
                .map(|p| std::fs::metadata(p).unwrap().len())
                .sum()
        } else {
            std::fs::metadata(&out).unwrap().len()
        };
        let what = if *pkg == wim_pkg {
            "a 5 GiB WIM (as .swm parts)"
        } else {
            "10 GiB of content"
        };
        println!(
            "media create bootable --type {kind}: {what}, {bytes} bytes written in {secs:.1} s, max RSS {kib} KiB ({:.1} MiB)",
            kib as f64 / 1024.0
        );
        if *pkg == wim_pkg {
            let notices = String::from_utf8_lossy(&done.stderr);
            assert!(notices.contains("install2.swm"), "{notices}");
            // FAT32 accepts the volume: every file under 4 GiB.
            let part = d.join("part.img");
            run(Command::new("dd")
                .arg(format!("if={}", s(&out)))
                .arg(format!("of={}", s(&part)))
                .args(["bs=1M", "skip=1", "conv=sparse", "status=none"]));
            require("fsck.fat", "dosfstools");
            run(Command::new("fsck.fat").arg("-n").arg(&part));
            std::fs::remove_file(&part).unwrap();
        }
        assert!(kib < 1 << 20, "max RSS {kib} KiB is not under 1 GiB");
        if out.is_dir() {
            std::fs::remove_dir_all(&out).unwrap();
        } else {
            std::fs::remove_file(&out).unwrap();
        }
    }
}
