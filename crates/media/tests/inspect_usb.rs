//! `media inspect` of USB images: bootable and stand-alone media built as USB disk images are
//! read back through the FAT reader (type, label, decrypted variables, boot entries, files,
//! content manifest), and a wrong password is refused.

mod common;

use common::*;
use tsmedia_media::{BuildOptions, MediaKind, MediaType, build, inspect, preflight_with};

fn build_usb(f: &Fixture, kind: MediaKind, out: &str, password: Option<&str>) {
    let mut spec = f.spec(kind, out);
    spec.media_type = MediaType::Usb;
    spec.password = password.map(str::to_string);
    spec.variable.insert("Color".into(), "Teal".into());
    let mut site = f.site();
    let plan = preflight_with(&site, &spec, &f.plan_options())
        .unwrap_or_else(|e| panic!("preflight: {e:#?}"));
    build(&mut site, &plan, &BuildOptions::default()).unwrap();
}

#[test]
fn usb_images_inspect_like_isos() {
    let f = fixture();
    build_usb(&f, MediaKind::Bootable, "boot-usb.img", Some("usb-pw"));
    let img = f.path("boot-usb.img");
    let i = inspect(&img, Some("usb-pw"), false).unwrap();
    assert_eq!(i.media_type, "BootMedia");
    assert_eq!(i.label, "TSMEDIA");
    assert!(i.password_required);
    let var = |name: &str| {
        i.variables
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(var("Color").as_deref(), Some("Teal"));
    assert_eq!(var("OSDComputerName").as_deref(), Some(SECRET_VALUE));
    assert_eq!(var("_SMSTSMediaType").as_deref(), Some("BootMedia"));
    assert!(i.certificate.is_some());
    assert_eq!(i.discs.len(), 1);
    let d = &i.discs[0];
    assert!(d.bootable);
    assert_eq!((d.disc, d.discs), (1, 1));
    assert!(
        d.boot_entries
            .iter()
            .any(|e| e.contains("MBR type 0x0c") && e.contains("active")),
        "{:?}",
        d.boot_entries
    );
    assert!(
        d.boot_entries
            .iter()
            .any(|e| e.starts_with("UEFI x64: EFI/Boot/bootx64.efi")),
        "{:?}",
        d.boot_entries
    );
    let names: Vec<&str> = d.files.iter().map(|(p, _)| p.as_str()).collect();
    for want in [
        "EFI/Boot/bootx64.efi",
        "sources/boot.wim",
        "SMS/data/TsmBootstrap.ini",
        "SMS/data/Variables.dat",
    ] {
        assert!(names.contains(&want), "{want} not in {names:?}");
    }
    let boot_wim = d
        .files
        .iter()
        .find(|(p, _)| p == "sources/boot.wim")
        .unwrap();
    assert!(boot_wim.1 > 0);

    let err = inspect(&img, Some("not-the-password"), false).unwrap_err();
    assert!(err.to_string().contains("wrong media password"), "{err}");
    let err = inspect(&img, None, false).unwrap_err();
    assert!(err.to_string().contains("Variables.dat"), "{err}");

    // Stand-alone USB media: policy and content manifest are found too.
    build_usb(&f, MediaKind::Standalone, "sa-usb.img", None);
    let i = inspect(&f.path("sa-usb.img"), None, false).unwrap();
    assert_eq!(i.media_type, "FullMedia");
    assert!(!i.password_required);
    assert!(i.policy);
    let content = i.content.expect("content manifest");
    assert!(!content["packages"].as_array().unwrap().is_empty());
    assert!(
        i.discs[0]
            .files
            .iter()
            .any(|(p, _)| p.starts_with("SMS/PKG/"))
    );

    // Something that is neither: a clear error naming the file.
    let junk = f.path("junk.img");
    std::fs::write(&junk, vec![0u8; 4096]).unwrap();
    let err = inspect(&junk, None, false).unwrap_err().to_string();
    assert!(
        err.contains("junk.img") && err.contains("USB image"),
        "{err}"
    );
}
