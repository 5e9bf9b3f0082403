//! `tsmedia_client::source::materialise`: the runtime's media as a folder, from a folder, an
//! ISO set, a USB image and a disk staged by `tsmedia prestage apply`. Every content file
//! extracted is checked against the media's content manifest (SHA-256), every generated
//! file is present, a partial set names the missing disc, and a filled work folder is reused.
//! Debian packages: dosfstools, mtools (for the synthetic boot image).

#[path = "../../media/tests/common/mod.rs"]
mod media_common;

use std::path::Path;
use std::process::Command;

use media_common::{Fixture, fixture_with};
use tsmedia_client::source::{MARKER, SourceError, SourceKind, materialise};
use tsmedia_media::{BuildOptions, MediaKind, MediaType, build, preflight_with};

fn build_media(f: &Fixture, spec: &tsmedia_media::MediaSpec) {
    let mut site = f.site();
    // The stand-in runtime: this test binary would not fit the small discs of the set.
    let plan = preflight_with(&site, spec, &f.plan_options())
        .unwrap_or_else(|e| panic!("preflight: {e:#?}"));
    build(&mut site, &plan, &BuildOptions::default()).unwrap();
}

/// Checks a materialised media folder: the generated files and every manifest file.
fn check_folder(root: &Path) -> usize {
    for p in ["SMS/data/TsmBootstrap.ini", "SMS/data/Variables.dat"] {
        assert!(root.join(p).is_file(), "{p} missing in {}", root.display());
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("SMS/data/ContentManifest.json")).unwrap())
            .unwrap();
    let mut checked = 0;
    for p in manifest["packages"].as_array().unwrap() {
        for file in p["files"].as_array().unwrap() {
            let path = file["path"].as_str().unwrap();
            assert!(root.join(path).is_file(), "{path} missing");
            assert_eq!(
                sha256(&root.join(path)),
                file["sha256"].as_str().unwrap(),
                "{path}"
            );
            checked += 1;
        }
    }
    checked
}

/// SHA-256 of a file with coreutils' `sha256sum`.
fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum: install the Debian package `coreutils`");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn iso_set_usb_image_staged_disk_and_folder() {
    let f = fixture_with(6, 1 << 20);
    let work = f.path("work");

    // A stand-alone set of several discs.
    let mut spec = f.spec(MediaKind::Standalone, "full");
    spec.size = Some("8MiB".into());
    build_media(&f, &spec);
    assert!(f.path("full/full2.iso").exists());
    let m = materialise(&f.path("full/full.iso"), &work.join("iso")).unwrap();
    assert!(
        matches!(m.kind, SourceKind::IsoSet { discs } if discs >= 2),
        "{m:?}"
    );
    assert_eq!(m.root, work.join("iso"));
    assert!(check_folder(&m.root) >= 8);
    // The label of disc 1 is kept (every disc has one).
    let label = std::fs::read_to_string(m.root.join("MediaLabel.txt")).unwrap();
    assert!(label.contains("disc=1"), "{label}");
    // Again: the filled folder is reused, nothing is extracted.
    let again = materialise(&f.path("full/full.iso"), &work.join("iso")).unwrap();
    assert!(again.reused && again.files == 0);
    // The output folder of the set works too.
    let m = materialise(&f.path("full"), &work.join("iso-folder")).unwrap();
    assert!(matches!(m.kind, SourceKind::IsoSet { .. }));
    check_folder(&m.root);
    // A missing disc is named.
    std::fs::rename(f.path("full/full2.iso"), f.path("elsewhere.iso")).unwrap();
    let err = materialise(&f.path("full/full.iso"), &work.join("partial")).unwrap_err();
    assert!(
        matches!(err, SourceError::MissingDisc { disc: 2, .. })
            && err.to_string().contains("full2.iso"),
        "{err}"
    );
    assert!(!work.join("partial").exists());

    // A stand-alone USB image.
    let mut spec = f.spec(MediaKind::Standalone, "usb.img");
    spec.media_type = MediaType::Usb;
    build_media(&f, &spec);
    let m = materialise(&f.path("usb.img"), &work.join("usb")).unwrap();
    assert_eq!(m.kind, SourceKind::Disk);
    assert!(m.files > 8);
    assert!(check_folder(&m.root) >= 8);
    assert!(m.root.join("EFI/Boot/bootx64.efi").is_file());

    // A disk staged from prestaged media by the CLI.
    let spec = f.spec(MediaKind::Prestaged, "prestaged.wim");
    build_media(&f, &spec);
    let disk = f.path("staged.img");
    let out = Command::new(env!("CARGO_BIN_EXE_tsmedia"))
        .args(["prestage", "apply", "--quiet", "--disk"])
        .arg(&disk)
        .arg(f.path("prestaged.wim"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m = materialise(&disk, &work.join("staged")).unwrap();
    assert_eq!(m.kind, SourceKind::Disk);
    assert!(check_folder(&m.root) >= 8);
    assert!(m.root.join("sources/boot.wim").is_file());
    assert!(m.root.join(MARKER).is_file());

    // A folder is used where it is.
    let m = materialise(&work.join("staged"), &work.join("unused")).unwrap();
    assert_eq!(
        (m.kind, m.root.clone()),
        (SourceKind::Folder, work.join("staged"))
    );
    assert!(!work.join("unused").exists());

    // A work folder holding something else is refused; junk media are named.
    let busy = work.join("busy");
    std::fs::create_dir_all(&busy).unwrap();
    std::fs::write(busy.join("mine.txt"), b"keep").unwrap();
    let err = materialise(&disk, &busy).unwrap_err();
    assert!(matches!(err, SourceError::WorkNotEmpty { .. }), "{err}");
    assert_eq!(std::fs::read(busy.join("mine.txt")).unwrap(), b"keep");
    let junk = f.path("junk.bin");
    std::fs::write(&junk, vec![7u8; 8192]).unwrap();
    let err = materialise(&junk, &work.join("junk")).unwrap_err();
    assert!(err.to_string().contains("junk.bin"), "{err}");
    let err = materialise(&f.path("nothing.iso"), &work.join("n")).unwrap_err();
    assert!(err.to_string().contains("nothing.iso"), "{err}");
}
