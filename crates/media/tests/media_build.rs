//! Media built from a synthetic site and checked with the reference tools: xorriso, isoinfo,
//! udfinfo, 7-Zip, wimlib-imagex, sfdisk, fsck.fat, mtools, QEMU (SeaBIOS, OVMF).
//! Debian packages: xorriso, genisoimage, udftools, 7zip, wimtools, fdisk, dosfstools, mtools,
//! qemu-system-x86, ovmf.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use tsmedia_media::{BuildOptions, Error, MediaKind, MediaType, build, inspect};

fn build_ok(f: &Fixture, spec: &tsmedia_media::MediaSpec) -> tsmedia_media::BuildReport {
    let plan = f.plan(spec).unwrap_or_else(|e| panic!("preflight: {e:#?}"));
    build(&mut f.site(), &plan, &BuildOptions::default()).unwrap()
}

/// The boot.wim of the media holds the runtime at `SMS/bin/x64/tsmedia` and the media
/// configuration at `SMS/data`, read with our WIM reader and with `wimlib-imagex dir`.
fn assert_runtime_in_boot_wim(boot_wim: &Path, runtime: &[u8]) {
    let w = tsmedia_wim::Wim::open(boot_wim).unwrap();
    let img = tsmedia_wim::ops::load_image(&w, 1).unwrap();
    let find = |path: &str| {
        let mut d = &img.root;
        for part in path.split('/') {
            d = d
                .children
                .iter()
                .find(|c| c.name_lossy() == part)
                .unwrap_or_else(|| panic!("{path} not in boot.wim"));
        }
        w.open_blob(&d.data, true).unwrap().read_all().unwrap()
    };
    assert!(
        find("SMS/bin/x64/tsmedia") == runtime,
        "runtime bytes differ"
    );
    assert!(
        String::from_utf8(find("SMS/data/TsmBootstrap.ini"))
            .unwrap()
            .contains("MediaType=")
    );
    assert!(!find("SMS/data/Variables.dat").is_empty());
    assert!(
        !find("Windows/System32/winpeshl.ini").is_empty(),
        "the boot image is kept"
    );
    let listing = stdout(
        Command::new(tool("wimlib-imagex", "wimtools"))
            .arg("dir")
            .arg(boot_wim)
            .arg("1"),
    );
    for p in [
        "/SMS/bin/x64/tsmedia",
        "/SMS/data/TsmBootstrap.ini",
        "/SMS/data/Variables.dat",
        "/Windows/System32/winpeshl.ini",
    ] {
        assert!(listing.lines().any(|l| l == p), "{p} missing:\n{listing}");
    }
}

fn extract_with_7zz(iso: &Path, dir: &Path) {
    let z = tool("7zz", "7zip");
    run(Command::new(z)
        .arg("x")
        .arg("-y")
        .arg(format!("-o{}", dir.display()))
        .arg(iso));
}

/// Nothing on the media (image bytes, every file of the ISO, every file inside boot.wim)
/// holds the secret variable value or the MP address in plaintext.
fn assert_no_plaintext(iso: &Path, work: &Path) {
    let bytes = std::fs::read(iso).unwrap();
    for needle in [SECRET_VALUE, "http://mp1.example"] {
        assert!(
            !contains_text(&bytes, needle),
            "{needle} in plaintext in {}",
            iso.display()
        );
    }
    let x = work.join("x");
    extract_with_7zz(iso, &x);
    let boot = files_under(&x)
        .into_iter()
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.eq_ignore_ascii_case("boot.wim"))
        })
        .expect("boot.wim on the media");
    let applied = work.join("bootwim");
    wimlib_apply(&boot, &applied);
    let mut n = 0;
    for p in files_under(&x).into_iter().chain(files_under(&applied)) {
        let data = std::fs::read(&p).unwrap();
        assert!(
            !contains_text(&data, SECRET_VALUE),
            "{} holds the secret",
            p.display()
        );
        n += 1;
    }
    assert!(
        files_under(&applied)
            .iter()
            .any(|p| p.ends_with("SMS/data/Variables.dat"))
    );
    assert!(n > 10);
}

#[test]
fn bootable_iso_passes_reference_tools_inspects_and_boots() {
    let f = fixture();
    let mut spec = f.spec(MediaKind::Bootable, "bootmedia");
    spec.password = Some("media-pw-1".into());
    spec.prestart_command = Some("cmd /c echo prestart".into());
    spec.allow_unknown = true;
    let report = build_ok(&f, &spec);
    let iso = f.path("bootmedia/bootmedia.iso");
    assert_eq!(report.outputs, vec![iso.clone()]);
    let log = std::fs::read_to_string(f.path("bootmedia/CreateTSMedia.log")).unwrap();
    assert!(log.contains("<![LOG[Preflight OK"), "{log}");
    assert!(log.contains(&f.boot_id));
    assert!(log.contains("cmd /c echo prestart"));
    assert!(log.contains("_SMSTSMediaPFX = ********"));
    // Issue #15, L2: custom variables (where domain-join passwords go) by name and length.
    assert!(
        !log.contains(SECRET_VALUE),
        "a --variable value is in the log"
    );
    assert!(
        log.contains(&format!(
            "Variable OSDComputerName = (custom, {} characters; value not logged)",
            SECRET_VALUE.len()
        )),
        "{log}"
    );

    // Reference tools.
    let info = stdout(
        Command::new(tool("isoinfo", "genisoimage"))
            .args(["-d", "-i"])
            .arg(&iso),
    );
    assert!(info.contains("Volume id: TSMEDIA"), "{info}");
    assert!(info.contains("El Torito"), "{info}");
    let report_el = stdout(
        Command::new(tool("xorriso", "xorriso"))
            .arg("-indev")
            .arg(&iso)
            .args(["-report_el_torito", "plain", "-find", "/", "-type", "f"]),
    );
    assert!(report_el.contains("BIOS"), "{report_el}");
    assert!(report_el.contains("UEFI"), "{report_el}");
    for p in [
        "/sources/boot.wim",
        "/SMS/data/Variables.dat",
        "/SMS/data/TsmBootstrap.ini",
        "/MediaLabel.txt",
        "/EFI/Boot/bootx64.efi",
        "/bootmgr",
    ] {
        assert!(
            report_el.contains(&format!("'{p}'")),
            "{p} missing:\n{report_el}"
        );
    }
    let listing = stdout(Command::new(tool("7zz", "7zip")).arg("l").arg(&iso));
    assert!(listing.contains("boot.wim"), "{listing}");
    stdout(Command::new(tool("udfinfo", "udftools")).arg(&iso));

    // Inspect: right, wrong and missing password.
    let i = inspect(&iso, Some("media-pw-1"), false).unwrap();
    assert_eq!(i.media_type, "BootMedia");
    assert!(i.password_required);
    let var = |n: &str| {
        i.variables
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        var("SMSTSLocationMPs").as_deref(),
        Some("http://mp1.example|")
    );
    assert_eq!(
        var("_SMSTSBootMediaPackageID").as_deref(),
        Some(f.boot_id.as_str())
    );
    assert_eq!(var("_SMSTSSiteCode").as_deref(), Some("PS1"));
    assert_eq!(var("OSDComputerName").as_deref(), Some(SECRET_VALUE));
    assert!(var("_SMSTSx64UnknownMachineGUID").is_some());
    assert!(var("_SMSTSMediaPFX").unwrap().starts_with("****"));
    let (_, nb, na) = i.certificate.clone().expect("certificate");
    assert!(na > nb);
    assert_eq!(i.discs.len(), 1);
    assert!(i.discs[0].bootable);
    let wrong = inspect(&iso, Some("nope"), false).unwrap_err();
    assert!(matches!(wrong, Error::Decrypt { .. }), "{wrong}");
    assert!(
        wrong.to_string().contains("wrong media password"),
        "{wrong}"
    );
    let none = inspect(&iso, None, false).unwrap_err();
    assert!(none.to_string().contains("password-protected"), "{none}");

    // The media PFX opens with OpenSSL.
    let shown = inspect(&iso, Some("media-pw-1"), true).unwrap();
    let pfx_hex = shown
        .variables
        .iter()
        .find(|(k, _)| k == "_SMSTSMediaPFX")
        .unwrap()
        .1
        .clone();
    let pfx = f.path("media.pfx");
    std::fs::write(&pfx, hex::decode(pfx_hex).unwrap()).unwrap();
    let certs = stdout(
        Command::new(tool("openssl", "openssl"))
            .args(["pkcs12", "-nodes", "-passin", "pass:", "-in"])
            .arg(&pfx),
    );
    assert!(
        certs.contains("BEGIN CERTIFICATE") && certs.contains("PRIVATE KEY"),
        "{certs}"
    );

    assert_no_plaintext(&iso, &f.path("np"));
    let x = f.path("rt");
    extract_with_7zz(&iso, &x);
    assert_runtime_in_boot_wim(
        &x.join("sources/boot.wim"),
        &std::fs::read(&f.runtime).unwrap(),
    );
    let log = std::fs::read_to_string(f.path("bootmedia/CreateTSMedia.log")).unwrap();
    assert!(
        log.contains("injected into boot.wim as SMS/bin/x64/tsmedia"),
        "{log}"
    );

    let (status, out) = boot_bios_cd(&iso);
    assert!(out.contains(BIOS_MARKER), "BIOS: status {status}\n{out}");
    assert_eq!(status, 33, "{out}");
    let (status, out) = boot_uefi_cd(&iso, f.dir.path());
    assert!(out.contains(UEFI_MARKER), "UEFI: status {status}\n{out}");
    assert_eq!(status, 0, "{out}");
}

#[test]
fn standalone_set_splits_content_across_discs_once_each() {
    let f = fixture_with(8, 1 << 20);
    let mut spec = f.spec(MediaKind::Standalone, "full");
    spec.size = Some("8MiB".into());
    spec.password = Some("pw".into());
    let report = build_ok(&f, &spec);
    assert!(report.outputs.len() >= 2, "{:?}", report.outputs);
    assert_eq!(report.outputs[0], f.path("full/full.iso"));
    assert_eq!(report.outputs[1], f.path("full/full2.iso"));
    for o in &report.outputs {
        let info = stdout(
            Command::new(tool("isoinfo", "genisoimage"))
                .args(["-d", "-i"])
                .arg(o),
        );
        assert!(info.contains("Volume id"), "{info}");
        assert!(
            std::fs::metadata(o).unwrap().len() <= 8 << 20,
            "{} too large",
            o.display()
        );
    }
    let i = inspect(&f.path("full"), Some("pw"), false).unwrap();
    assert_eq!(i.media_type, "FullMedia");
    assert!(i.policy);
    let n = report.outputs.len() as u32;
    let mut content: Vec<String> = Vec::new();
    for (k, d) in i.discs.iter().enumerate() {
        assert_eq!((d.disc, d.discs), (k as u32 + 1, n));
        content.extend(
            d.files
                .iter()
                .filter(|(p, _)| p.starts_with("SMS/PKG/"))
                .map(|(p, _)| p.clone()),
        );
    }
    let manifest = i.content.unwrap();
    let mut want: Vec<String> = manifest["packages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| {
            p["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["path"].as_str().unwrap().to_string())
        })
        .collect();
    content.sort();
    want.sort();
    assert_eq!(content, want, "every content file exactly once");
    assert!(
        want.iter()
            .any(|p| p.contains(&f.os_id) && p.ends_with("install.wim"))
    );
    assert!(want.iter().filter(|p| p.contains("/data/file")).count() == 8);
}

#[test]
fn prestaged_wim_verifies_applies_and_matches_its_manifest() {
    let f = fixture();
    let mut spec = f.spec(MediaKind::Prestaged, "prestaged.wim");
    spec.created_by = Some("tests".into());
    let report = build_ok(&f, &spec);
    let wim = f.path("prestaged.wim");
    assert_eq!(report.outputs, vec![wim.clone()]);
    let w = tool("wimlib-imagex", "wimtools");
    run(Command::new(&w).arg("verify").arg(&wim));
    let applied = f.path("applied");
    wimlib_apply(&wim, &applied);
    assert!(applied.join("sources/boot.wim").exists());
    run(Command::new(&w)
        .arg("verify")
        .arg(applied.join("sources/boot.wim")));
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(applied.join("SMS/data/ContentManifest.json")).unwrap(),
    )
    .unwrap();
    let mut checked = 0;
    for p in manifest["packages"].as_array().unwrap() {
        for file in p["files"].as_array().unwrap() {
            let data = std::fs::read(applied.join(file["path"].as_str().unwrap())).unwrap();
            use sha2::Digest;
            assert_eq!(
                hex::encode(sha2::Sha256::digest(&data)),
                file["sha256"].as_str().unwrap()
            );
            checked += 1;
        }
    }
    assert!(checked >= 4, "{checked}");
    let i = inspect(&wim, None, false).unwrap();
    assert_eq!(i.media_type, "OEMMedia");
    assert!(!i.password_required);
}

#[test]
fn usb_image_passes_partition_and_fat_checks_and_boots_under_ovmf() {
    let f = fixture();
    let mut spec = f.spec(MediaKind::Bootable, "usb.img");
    spec.media_type = MediaType::Usb;
    let report = build_ok(&f, &spec);
    let img = f.path("usb.img");
    assert_eq!(report.outputs, vec![img.clone()]);
    let dump = stdout(Command::new(tool("sfdisk", "fdisk")).arg("-d").arg(&img));
    assert!(dump.contains("start=        2048"), "{dump}");
    let bytes = std::fs::read(&img).unwrap();
    let part = f.path("part.img");
    std::fs::write(&part, &bytes[1 << 20..]).unwrap();
    run(Command::new(tool("fsck.fat", "dosfstools"))
        .args(["-n", "-v"])
        .arg(&part));
    let dir = stdout(
        Command::new(tool("mdir", "mtools"))
            .arg("-i")
            .arg(&part)
            .arg("::/EFI/Boot"),
    );
    assert!(dir.to_ascii_lowercase().contains("bootx64"), "{dir}");
    let out = Command::new("timeout")
        .arg("60")
        .arg(tool("qemu-system-x86_64", "qemu-system-x86"))
        .args([
            "-m",
            "256",
            "-nographic",
            "-no-reboot",
            "-serial",
            "stdio",
            "-monitor",
            "none",
            "-net",
            "none",
        ])
        .args([
            "-device",
            "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-machine",
            "q35",
        ])
        .args([
            "-drive",
            "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
        ])
        .arg("-drive")
        .arg(format!("if=pflash,format=raw,file={}", {
            let v = f.path("vars.fd");
            std::fs::copy("/usr/share/OVMF/OVMF_VARS_4M.fd", &v)
                .expect("OVMF missing: install the Debian package `ovmf`");
            v.display().to_string()
        }))
        .arg("-drive")
        .arg(format!("if=none,id=s,file={},format=raw", img.display()))
        .args(["-device", "qemu-xhci", "-device", "usb-storage,drive=s"])
        .output()
        .expect("qemu-system-x86_64: install the Debian package `qemu-system-x86`");
    let serial = String::from_utf8_lossy(&out.stdout);
    assert!(serial.contains(UEFI_MARKER), "{serial}");
    assert_eq!(out.status.code(), Some(0), "{serial}");
}

#[test]
fn deterministic_builds_are_byte_identical_and_need_a_given_certificate() {
    let f = fixture();
    let cert =
        tsmedia_media::certificate::self_signed("repro", 1_700_000_000, 4_000_000_000).unwrap();
    let pfx = f.path("repro.pfx");
    std::fs::write(&pfx, &cert.pfx).unwrap();
    let mut spec = f.spec(MediaKind::Standalone, "repro");
    spec.deterministic = true;
    let fails = f.plan(&spec).unwrap_err();
    assert!(fails.iter().any(|x| x.fix.contains("--pfx")), "{fails:?}");
    spec.pfx = Some(pfx);
    spec.password = Some("pw".into());
    build_ok(&f, &spec);
    let first = std::fs::read(f.path("repro/repro.iso")).unwrap();
    let log1 = std::fs::read(f.path("repro/CreateTSMedia.log")).unwrap();
    std::fs::remove_dir_all(f.path("repro")).unwrap();
    build_ok(&f, &spec);
    let second = std::fs::read(f.path("repro/repro.iso")).unwrap();
    assert!(
        first == second,
        "ISO bytes differ between identical deterministic builds"
    );
    assert!(
        log1 == std::fs::read(f.path("repro/CreateTSMedia.log")).unwrap(),
        "logs differ"
    );
    let i = inspect(&f.path("repro/repro.iso"), Some("pw"), false).unwrap();
    assert_eq!(i.certificate.unwrap().1, 1_700_000_000);
}

/// Issue #15, H2: in deterministic builds the salt comes from the non-secret settings (so it
/// is equal for two passwords and checking a guess needs Argon2id), and the nonce is a
/// synthetic IV (different plaintext, different nonce; same plaintext, same bytes).
#[test]
fn deterministic_builds_take_no_salt_from_the_password_and_never_reuse_a_nonce() {
    let f = fixture();
    let cert =
        tsmedia_media::certificate::self_signed("repro", 1_700_000_000, 4_000_000_000).unwrap();
    let pfx = f.path("salt.pfx");
    std::fs::write(&pfx, &cert.pfx).unwrap();
    let mut spec = f.spec(MediaKind::Standalone, "salt");
    spec.deterministic = true;
    spec.pfx = Some(pfx);
    let sealed = |spec: &tsmedia_media::MediaSpec| {
        let _ = std::fs::remove_dir_all(f.path("salt"));
        build_ok(&f, spec);
        let dir = f.path("salt-x");
        let _ = std::fs::remove_dir_all(&dir);
        extract_with_7zz(&f.path("salt/salt.iso"), &dir);
        let read = |p: &str| std::fs::read(dir.join(p)).unwrap();
        (read("SMS/data/Variables.dat"), read("SMS/data/policy.xml"))
    };
    spec.password = Some("first password".into());
    let (vars_one, policy_one) = sealed(&spec);
    spec.password = Some("second password".into());
    let (vars_two, policy_two) = sealed(&spec);
    for (a, b) in [(&vars_one, &vars_two), (&policy_one, &policy_two)] {
        assert_eq!(a[8], 2, "format version 2");
        assert_eq!(a[..38], b[..38], "header and salt depend on the password");
        assert_ne!(a[38..], b[38..]);
    }
    assert_ne!(vars_one[22..38], policy_one[22..38], "one salt per file");
    let i = inspect(&f.path("salt/salt.iso"), Some("second password"), false).unwrap();
    assert!(i.certificate.is_some());
    let wrong = inspect(&f.path("salt/salt.iso"), Some("first password"), false).unwrap_err();
    assert!(matches!(wrong, Error::Decrypt { .. }), "{wrong}");

    // Same password and settings, another variable value: same salt, another nonce.
    spec.variable
        .insert("OSDComputerName".into(), "ANOTHER-NAME".into());
    let (vars_three, policy_three) = sealed(&spec);
    assert_eq!(vars_two[22..38], vars_three[22..38]);
    assert_ne!(vars_two[38..62], vars_three[38..62], "nonce reused");
    assert!(policy_two == policy_three, "same policy, same bytes");
}

#[test]
fn interrupted_build_leaves_nothing_and_keeps_the_old_output() {
    let f = fixture();
    let spec = f.spec(MediaKind::Bootable, "keep");
    build_ok(&f, &spec);
    let iso = f.path("keep/keep.iso");
    let old = std::fs::read(&iso).unwrap();
    let mut site = f.site();
    let plan = f.plan(&spec).unwrap();
    let cancel = tsmedia_base::Cancel::new();
    cancel.cancel();
    let options = BuildOptions {
        cancel,
        ..BuildOptions::default()
    };
    assert!(build(&mut site, &plan, &options).is_err());
    assert!(
        std::fs::read(&iso).unwrap() == old,
        "the previous ISO was changed"
    );
    let names: Vec<String> = std::fs::read_dir(f.path("keep"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.starts_with('.')),
        "temporary files left: {names:?}"
    );
}

/// One task begun: its name, total, what was reported done after each step, and whether it
/// finished.
type Task = (String, Option<u64>, Vec<u64>, bool);

/// Every task begun.
#[derive(Default)]
struct Recorder(std::sync::Mutex<Vec<Task>>);

impl tsmedia_base::Progress for Recorder {
    fn begin(&self, task: &str, total: Option<u64>) {
        let mut tasks = self.0.lock().unwrap();
        assert!(
            tasks.last().is_none_or(|t| t.3),
            "{task} begun inside another task"
        );
        tasks.push((task.to_string(), total, Vec::new(), false));
    }
    fn advance(&self, n: u64) {
        let mut tasks = self.0.lock().unwrap();
        let t = tasks.last_mut().expect("advance before begin");
        assert!(!t.3, "advance after finish");
        let done = t.2.last().copied().unwrap_or(0) + n;
        t.2.push(done);
    }
    fn finish(&self) {
        self.0
            .lock()
            .unwrap()
            .last_mut()
            .expect("finish before begin")
            .3 = true;
    }
}

#[test]
fn progress_is_monotone_and_reaches_each_total() {
    let f = fixture();
    for (kind, out, task) in [
        (MediaKind::Bootable, "progress", "ISO"),
        (MediaKind::Prestaged, "progress/p.wim", "prestaged WIM"),
    ] {
        let spec = f.spec(kind, out);
        let mut site = f.site();
        let plan = f.plan(&spec).unwrap();
        let recorder = std::sync::Arc::new(Recorder::default());
        let options = BuildOptions {
            progress: recorder.clone(),
            ..BuildOptions::default()
        };
        build(&mut site, &plan, &options).unwrap();
        let tasks = recorder.0.lock().unwrap();
        let names: Vec<&str> = tasks.iter().map(|t| t.0.as_str()).collect();
        assert_eq!(names, ["boot.wim", task], "{kind:?}");
        let (_, total, done, finished) = &tasks[1];
        let total = total.expect("a disc has a total");
        assert!(*finished);
        assert!(total > 1 << 20, "{total}");
        assert!(done.windows(2).all(|w| w[0] <= w[1]), "{done:?}");
        assert_eq!(done.last(), Some(&total), "{kind:?}");
        assert!(done.len() > 2, "{done:?}");
    }
}

#[test]
fn the_runtime_is_compressed_once_into_the_site_cache_and_a_damaged_copy_is_not_used() {
    let f = fixture();
    let runtime = std::fs::read(&f.runtime).unwrap();
    let cache = f.site_dir.join("cache");
    let usb = |name: &str| {
        let mut spec = f.spec(MediaKind::Bootable, &format!("{name}.img"));
        spec.media_type = MediaType::Usb;
        spec.password = Some("pw".into());
        spec
    };
    let boot_wim_of = |img: &str, to: &str| {
        let out = f.path(to);
        std::fs::create_dir_all(&out).unwrap();
        let st = Command::new(tool("mcopy", "mtools"))
            .arg("-i")
            .arg(format!("{}@@1M", f.path(img).display()))
            .arg("::/sources/boot.wim")
            .arg(out.join("boot.wim"))
            .status()
            .unwrap();
        assert!(st.success(), "mcopy boot.wim out of {img}");
        out.join("boot.wim")
    };
    build_ok(&f, &usb("first"));
    let cached: Vec<_> = std::fs::read_dir(&cache).unwrap().flatten().collect();
    assert_eq!(cached.len(), 1, "one cached runtime");
    let cached = cached[0].path();
    assert!(
        cached
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("runtime-"),
        "{}",
        cached.display()
    );
    let log = std::fs::read_to_string(f.path("CreateTSMedia.log")).unwrap();
    assert!(log.contains("from the site cache"), "{log}");
    assert_runtime_in_boot_wim(&boot_wim_of("first.img", "b1"), &runtime);

    // A later build takes the cached copy after checking its integrity table.
    build_ok(&f, &usb("again"));
    let log = std::fs::read_to_string(f.path("CreateTSMedia.log")).unwrap();
    assert!(
        log.contains("from the site cache") && !log.contains("unusable"),
        "{log}"
    );
    assert_runtime_in_boot_wim(&boot_wim_of("again.img", "b1a"), &runtime);

    // Damage the compressed data of the cached copy: the next build compresses the runtime
    // itself, says why, and its boot.wim still holds the right bytes.
    let mut bytes = std::fs::read(&cached).unwrap();
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 64] {
        *b ^= 0xa5;
    }
    std::fs::write(&cached, &bytes).unwrap();
    build_ok(&f, &usb("second"));
    let log = std::fs::read_to_string(f.path("CreateTSMedia.log")).unwrap();
    assert!(
        log.contains("Runtime compressed for this build only") && log.contains("unusable"),
        "{log}"
    );
    assert_runtime_in_boot_wim(&boot_wim_of("second.img", "b2"), &runtime);
}
