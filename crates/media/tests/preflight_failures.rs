//! One test per preflight failure: the message names the problem and nothing is written.

mod common;

use common::*;
use tsmedia_media::{MediaKind, MediaSpec, MediaType, PlanOptions, preflight_with};
use tsmedia_site::{PackageOptions, PackageType};

/// Runs preflight on `spec`, expects a failure whose text contains `want`, and checks that
/// the fixture folder holds nothing new.
fn fails(f: &Fixture, spec: &MediaSpec, want: &str) {
    fails_with(f, spec, &PlanOptions::default(), want)
}

fn fails_with(f: &Fixture, spec: &MediaSpec, options: &PlanOptions, want: &str) {
    let before = files_under(f.dir.path()).len();
    let err = preflight_with(&f.site(), spec, options).expect_err("preflight should fail");
    let text: Vec<String> = err.iter().map(|e| e.to_string()).collect();
    assert!(
        text.iter().any(|t| t.contains(want)),
        "wanted {want:?} in {text:#?}"
    );
    assert!(err.iter().all(|e| !e.fix.is_empty()));
    assert!(!spec.out.exists(), "{} was written", spec.out.display());
    assert_eq!(files_under(f.dir.path()).len(), before, "files appeared");
}

#[test]
fn label_too_long() {
    let f = fixture();
    let mut s = f.spec(MediaKind::Bootable, "out");
    s.label = Some("A".repeat(40));
    fails(&f, &s, "--label");
}

#[test]
fn boot_image_architecture() {
    let f = fixture();
    let mut s = f.spec(MediaKind::Bootable, "out");
    s.arch = Some("arm64".into());
    fails(&f, &s, "cannot boot arm64");
}

#[test]
fn content_not_on_chosen_dp() {
    let f = fixture();
    let mut s = f.spec(MediaKind::Standalone, "out");
    s.dp = vec!["dp2".into()];
    fails(&f, &s, "is on none of the chosen DPs");
}

#[test]
fn no_read_access_on_dp() {
    let f = fixture();
    let mut site = f.site();
    site.distribute(std::slice::from_ref(&f.boot_id), "dp2")
        .unwrap();
    drop(site);
    let mut s = f.spec(MediaKind::Bootable, "out");
    s.dp = vec!["dp2".into()];
    fails(&f, &s, "may not read it");
}

#[test]
fn task_sequence_without_media_deployment() {
    let f = fixture();
    let mut site = f.site();
    let ts = site
        .import_task_sequence(
            "<sequence><step type=\"T\" name=\"x\"/></sequence>",
            "Undeployed",
            Some(&f.boot_id),
        )
        .unwrap();
    drop(site);
    let mut s = f.spec(MediaKind::Prestaged, "out.wim");
    s.ts = Some(ts.id);
    fails(&f, &s, "no deployment available to media");
}

#[test]
fn referenced_package_missing() {
    let f = fixture();
    let mut site = f.site();
    let ts = site
        .import_task_sequence(
            "<sequence><referenceList><reference package=\"PS1FFFFF\" /></referenceList><step type=\"T\" name=\"x\"/></sequence>",
            "Broken",
            Some(&f.boot_id),
        )
        .unwrap();
    drop(site);
    let mut s = f.spec(MediaKind::Standalone, "out");
    s.ts = Some(ts.id);
    fails(&f, &s, "PS1FFFFF");
}

#[test]
fn prestaged_boot_image_differs_from_task_sequence() {
    let f = fixture();
    let mut site = f.site();
    let other = site
        .add_package(
            PackageType::BootImage,
            "Other boot image",
            &f.path("src/boot/boot.wim"),
            &PackageOptions {
                arch: Some(tsmedia_site::Arch::X64),
                image_index: Some(1),
                ..PackageOptions::default()
            },
        )
        .unwrap();
    site.distribute(std::slice::from_ref(&other.id), "dp1")
        .unwrap();
    drop(site);
    let mut s = f.spec(MediaKind::Prestaged, "out.wim");
    s.boot_image = Some(other.id);
    fails(&f, &s, "must use the task sequence's boot image");
}

#[test]
fn certificate_dates() {
    let f = fixture();
    let mut s = f.spec(MediaKind::Bootable, "out");
    s.cert_start = Some("2030-01-02".into());
    s.cert_expire = Some("2030-01-01".into());
    fails(&f, &s, "is not after --cert-start");
    s.cert_start = Some("2001-01-01".into());
    s.cert_expire = Some("2002-01-01".into());
    fails(&f, &s, "is in the past");
}

#[test]
fn prestaged_output_must_be_a_wim() {
    let f = fixture();
    let s = f.spec(MediaKind::Prestaged, "out.iso");
    fails(&f, &s, "name the output NAME.wim");
}

#[test]
fn disc_too_small_for_boot_files() {
    let f = fixture();
    let mut s = f.spec(MediaKind::Bootable, "out");
    s.size = Some("3MiB".into());
    fails(&f, &s, "do not fit");
}

#[test]
fn property_lengths() {
    let f = fixture();
    let mut s = f.spec(MediaKind::Prestaged, "out.wim");
    s.comment = Some("c".repeat(128));
    fails(&f, &s, "--comment");
}

#[test]
fn standalone_needs_a_task_sequence() {
    let f = fixture();
    let mut s = f.spec(MediaKind::Standalone, "out");
    s.ts = None;
    fails(&f, &s, "need a task sequence");
}

#[test]
fn usb_boot_wim_over_the_file_limit_cannot_be_split() {
    let f = fixture();
    let mut s = f.spec(MediaKind::Bootable, "usb.img");
    s.media_type = MediaType::Usb;
    let options = PlanOptions {
        usb_max_file: 1_000_000,
        ..f.plan_options()
    };
    fails_with(&f, &s, &options, "reads no .swm parts");
}

#[test]
fn usb_content_over_the_file_limit_that_is_not_a_wim() {
    let f = fixture_with(2, 1_700_000);
    let mut s = f.spec(MediaKind::Standalone, "usb.img");
    s.media_type = MediaType::Usb;
    let options = PlanOptions {
        usb_max_file: 1_600_000,
        ..f.plan_options()
    };
    fails_with(
        &f,
        &s,
        &options,
        "only WIM files can be stored as .swm parts",
    );
}

#[test]
fn runtime_missing() {
    let f = fixture();
    let s = f.spec(MediaKind::Bootable, "out");
    let options = PlanOptions {
        runtime: Some(f.path("no/such/tsmedia")),
        ..PlanOptions::default()
    };
    fails_with(&f, &s, &options, "runtime");
}
