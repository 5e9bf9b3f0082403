use std::path::Path;

use super::*;
use crate::swm::tests::{sample_wim, sparse_wim};

fn content(dest: &str, path: &Path) -> ContentFile {
    ContentFile {
        file: PlannedFile {
            dest: dest.into(),
            size: std::fs::metadata(path).unwrap().len(),
            source: FileSource::Library(path.to_path_buf()),
        },
        package_id: "PS100004".into(),
        sha256: "00".repeat(32),
    }
}

fn boot_wim(size: u64) -> PlannedFile {
    PlannedFile {
        dest: BOOT_WIM.into(),
        size,
        source: FileSource::BootWim,
    }
}

#[test]
fn default_usb_limit_is_fat32s() {
    assert_eq!(PlanOptions::default().usb_max_file, FAT32_MAX_FILE);
    assert_eq!(FAT32_MAX_FILE, 4_294_967_295);
}

#[test]
fn a_wim_over_4_gib_on_usb_is_planned_as_parts_with_the_default_limit() {
    let dir = tempfile::tempdir().unwrap();
    let gib = 1u64 << 30;
    let wim = sparse_wim(dir.path(), &[2 * gib, 2 * gib, gib]);
    let mut out = Packed::default();
    let c = content("SMS/PKG/PS100004/install.wim", &wim);
    assert!(c.file.size > FAT32_MAX_FILE);
    pack_usb(
        &mut out,
        vec![boot_wim(300 << 20)],
        vec![c],
        PlanOptions::default().usb_max_file,
    );
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    assert_eq!(out.discs.len(), 1);
    let names: Vec<&str> = out.discs[0].iter().map(|f| f.dest.as_str()).collect();
    assert_eq!(
        names,
        [
            BOOT_WIM,
            "SMS/PKG/PS100004/install.swm",
            "SMS/PKG/PS100004/install2.swm"
        ]
    );
    assert!(out.discs[0].iter().all(|f| f.size <= FAT32_MAX_FILE));
    assert_eq!(out.splits.len(), 1);
    assert_eq!(out.splits[0].dest, "SMS/PKG/PS100004/install.wim");
    let notice = split_notice(&out.splits[0], &[], Some(FAT32_MAX_FILE));
    assert!(notice.contains("FAT32's 4 GiB file limit"), "{notice}");
    assert!(notice.contains("install2.swm"), "{notice}");
}

#[test]
fn usb_refuses_where_splitting_cannot_help() {
    let dir = tempfile::tempdir().unwrap();
    let wim = sample_wim(dir.path(), None, 2, 50_000);
    let other = dir.path().join("big.iso");
    std::fs::write(&other, vec![0u8; 70_000]).unwrap();
    let mut out = Packed::default();
    pack_usb(
        &mut out,
        vec![boot_wim(80_000)],
        vec![
            content("SMS/PKG/P/big.iso", &other),
            // One 50,000-byte resource cannot fit in 40,000-byte parts.
            content("SMS/PKG/P/install.wim", &wim),
        ],
        40_000,
    );
    let text: Vec<String> = out.failures.iter().map(|f| f.to_string()).collect();
    assert_eq!(text.len(), 3, "{text:#?}");
    assert!(text[0].contains("sources/boot.wim") && text[0].contains("RAM disk"));
    assert!(text[1].contains("big.iso") && text[1].contains("only WIM files"));
    assert!(text[2].contains("install.wim") && text[2].contains("never cut across parts"));
}

#[test]
fn a_wim_larger_than_a_disc_spreads_across_discs() {
    let dir = tempfile::tempdir().unwrap();
    // 12 blobs of 300,000 bytes (uncompressed): 3.9 MB, on discs of about 1 MB.
    let wim = sample_wim(dir.path(), None, 12, 300_000);
    let size = 3 << 20; // capacity: 3 MiB - 2 MiB - 1 % ≈ 1 MiB
    let cap = size - overhead(size);
    let wim_len = std::fs::metadata(&wim).unwrap().len();
    assert!(wim_len > cap, "{wim_len} <= {cap}");
    let mut out = Packed::default();
    let small = dir.path().join("small.bin");
    std::fs::write(&small, vec![1u8; 100_000]).unwrap();
    pack_discs(
        &mut out,
        vec![boot_wim(200_000)],
        vec![
            content("SMS/PKG/P/install.wim", &wim),
            content("SMS/PKG/P/after.bin", &small),
        ],
        size,
    );
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    let parts = out.splits[0].layout.parts.len();
    assert!(parts >= 4, "{parts}");
    // Part 1 shares disc 1 with boot.wim; after.bin joins the last part or follows it.
    assert!(
        matches!(out.discs.len() - parts, 0 | 1),
        "{} discs",
        out.discs.len()
    );
    assert_eq!(out.discs[0][1].dest, "SMS/PKG/P/install.swm");
    for (i, d) in out.discs.iter().enumerate() {
        let used: u64 = d.iter().map(|f| f.size + PER_FILE).sum();
        assert!(used <= cap, "disc {} holds {used} > {cap}", i + 1);
        if i > 0 && i < parts {
            assert_eq!(
                d[0].dest,
                swm::part_dest("SMS/PKG/P/install.wim", i as u16 + 1)
            );
        }
    }
    assert_eq!(
        out.discs.last().unwrap().last().unwrap().dest,
        "SMS/PKG/P/after.bin"
    );
    // Every byte of the WIM's data is in exactly one part.
    let total: u64 = out
        .discs
        .iter()
        .flatten()
        .filter(|f| f.dest.ends_with(".swm"))
        .map(|f| f.size)
        .sum();
    assert!(total > wim_len);
}

#[test]
fn a_non_wim_larger_than_a_disc_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.bin");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(5 << 20)
        .unwrap();
    let mut out = Packed::default();
    pack_discs(
        &mut out,
        vec![boot_wim(100_000)],
        vec![content("SMS/PKG/P/big.bin", &big)],
        4 << 20,
    );
    assert_eq!(out.failures.len(), 1);
    assert!(out.failures[0].problem.contains("only WIM files"));
}

#[test]
fn a_disc_too_small_for_anything_is_a_failure_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let wim = sample_wim(dir.path(), None, 2, 10_000);
    let mut out = Packed::default();
    pack_discs(
        &mut out,
        vec![boot_wim(100_000)],
        vec![content("SMS/PKG/P/install.wim", &wim)],
        1 << 20,
    );
    assert!(
        out.failures
            .iter()
            .any(|f| f.problem.contains("do not fit"))
    );
    assert!(out.failures.len() >= 2, "{:?}", out.failures);
}
