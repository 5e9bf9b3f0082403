//! FAT12/16/32 volumes checked by dosfstools (`fsck.fat`) and read back with mtools.

mod fat_support;

use std::collections::BTreeMap;
use std::io::{self, Read};

use fat_support::{data, fsck_fat, mcopy_all, tool_ok};
use tsmedia_image::fat::{FatOptions, FatPlan, FatTimestamp, FatTree, FatType, FileSource};

type Expected = BTreeMap<String, Option<Vec<u8>>>;

/// Declares `files` (path → bytes) and `dirs`, remembering what mtools should extract.
fn declare(files: &[(&str, Vec<u8>)], dirs: &[&str]) -> (FatTree, Expected) {
    let mut tree = FatTree::new();
    let mut expected = Expected::new();
    for dir in dirs {
        tree.add_dir(dir).unwrap();
    }
    for (path, bytes) in files {
        tree.add_file(path, bytes.len() as u64, bytes.clone())
            .unwrap();
    }
    for path in dirs.iter().copied().chain(files.iter().map(|(p, _)| *p)) {
        let parts: Vec<&str> = path.split('/').collect();
        for i in 1..parts.len() {
            expected.insert(parts[..i].join("/"), None);
        }
    }
    for dir in dirs {
        expected.insert(dir.to_string(), None);
    }
    for (path, bytes) in files {
        expected.insert(path.to_string(), Some(bytes.clone()));
    }
    (tree, expected)
}

fn build(plan: &FatPlan) -> Vec<u8> {
    let mut out = Vec::new();
    plan.write(&mut out).unwrap();
    assert_eq!(out.len() as u64, plan.total_bytes());
    // The seeking writer gives the same bytes (on a buffer that starts out empty).
    let mut seekable = std::io::Cursor::new(Vec::new());
    plan.write_seekable(&mut seekable).unwrap();
    assert!(
        seekable.into_inner() == out,
        "write_seekable differs from write"
    );
    out
}

/// Writes the image, runs fsck.fat, lists it with mdir and extracts it with mcopy.
fn check_with_tools(image: &[u8], bits: u32, expected: &Expected) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vol.img");
    std::fs::write(&path, image).unwrap();
    let fsck = fsck_fat(&path, bits);
    let listing = tool_ok(
        "mdir",
        "mtools",
        &["-/", "-i", path.to_str().unwrap(), "::/"],
    );
    let extracted = mcopy_all(path.to_str().unwrap(), &dir.path().join("out"));
    let missing: Vec<_> = expected
        .keys()
        .filter(|k| !extracted.contains_key(*k))
        .collect();
    let extra: Vec<_> = extracted
        .keys()
        .filter(|k| !expected.contains_key(*k))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, unexpected {extra:?}"
    );
    let differ: Vec<_> = expected
        .keys()
        .filter(|k| extracted[*k] != expected[*k])
        .collect();
    assert!(differ.is_empty(), "bytes differ: {differ:?}");
    format!("{fsck}\n{listing}")
}

#[test]
fn fat12_efi_boot_image() {
    let efi = data(1, 3000);
    let (tree, expected) = declare(&[("EFI/BOOT/BOOTX64.EFI", efi)], &[]);
    let plan = tree
        .plan(&FatOptions {
            label: Some("EFISYS".into()),
            volume_id: Some(0x1234_ABCD),
            ..FatOptions::default()
        })
        .unwrap();
    assert_eq!(plan.fat_type(), FatType::Fat12);
    let report = check_with_tools(&build(&plan), 12, &expected);
    assert!(report.contains("EFISYS"), "{report}");
    assert!(report.contains("1234-ABCD"), "{report}");
}

#[test]
fn fat12_floppy_size() {
    let (tree, expected) = declare(&[("EFI/BOOT/BOOTX64.EFI", data(2, 70_000))], &[]);
    let plan = tree
        .plan(&FatOptions {
            volume_size: Some(1_474_560),
            ..FatOptions::default()
        })
        .unwrap();
    assert_eq!(plan.geometry().fat_sectors, 9);
    check_with_tools(&build(&plan), 12, &expected);
}

#[test]
fn fat16_sixteen_mib() {
    let files = vec![
        ("EFI/BOOT/BOOTX64.EFI", data(3, 1 << 20)),
        ("sources/boot.wim", data(4, 5_000_000)),
    ];
    let (tree, expected) = declare(&files, &["empty dir"]);
    let plan = tree
        .plan(&FatOptions {
            volume_size: Some(16 << 20),
            label: Some("boot media".into()),
            ..FatOptions::default()
        })
        .unwrap();
    assert_eq!(plan.fat_type(), FatType::Fat16);
    check_with_tools(&build(&plan), 16, &expected);
}

#[test]
fn fat16_minimal_size_grows_past_fat12() {
    let (tree, expected) = declare(&[("big.bin", data(5, 6 << 20))], &[]);
    let plan = tree.plan(&FatOptions::default()).unwrap();
    assert_eq!(plan.fat_type(), FatType::Fat16);
    assert!(plan.total_bytes() < (7 << 20), "{}", plan.total_bytes());
    check_with_tools(&build(&plan), 16, &expected);
}

/// Long, Unicode, deep, empty, many-in-one-dir and cluster-boundary cases on FAT32.
#[test]
fn fat32_hard_cases() {
    let cluster = 4096usize;
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("empty.txt".into(), Vec::new()),
        ("exact cluster.bin".into(), data(6, cluster)),
        ("two clusters.bin".into(), data(7, 2 * cluster)),
        ("one byte over.bin".into(), data(8, cluster + 1)),
        ("Ünïcödé ñame — 日本語 Ωμέγα.txt".into(), data(9, 100)),
        (
            "A very long file name that needs many long name entries to be stored in one directory.data"
                .into(),
            data(10, 5000),
        ),
        ("readme.txt".into(), b"lower case 8.3".to_vec()),
        ("README.TXT.bak".into(), b"upper".to_vec()),
        ("SMS/PKG/PS100004/install.wim".into(), data(11, 300_000)),
        ("SMS/data/Variables.dat".into(), data(12, 777)),
    ];
    let deep: String = (0..20).map(|i| format!("level {i}/")).collect();
    files.push((format!("{deep}deep file.bin"), data(13, 10)));
    for i in 0..600 {
        files.push((
            format!("many/Same long prefix number {i}.txt"),
            format!("{i}").into_bytes(),
        ));
    }
    let refs: Vec<(&str, Vec<u8>)> = files.iter().map(|(p, d)| (p.as_str(), d.clone())).collect();
    let (tree, expected) = declare(&refs, &["empty dir", "Mixed Case Dir/inner"]);
    let plan = tree
        .plan(&FatOptions {
            fat_type: Some(FatType::Fat32),
            cluster_size: Some(cluster as u32),
            volume_size: Some(300 << 20),
            label: Some("TSMEDIA".into()),
            ..FatOptions::default()
        })
        .unwrap();
    assert_eq!(plan.cluster_bytes(), 4096);
    let image = build(&plan);
    check_with_tools(&image, 32, &expected);
}

#[test]
fn fat32_minimal_size() {
    let (tree, expected) = declare(&[("EFI/BOOT/BOOTX64.EFI", data(14, 1024))], &[]);
    let plan = tree
        .plan(&FatOptions {
            fat_type: Some(FatType::Fat32),
            ..FatOptions::default()
        })
        .unwrap();
    assert!(plan.geometry().cluster_count >= 65_525);
    assert!(plan.total_bytes() < 35 << 20);
    check_with_tools(&build(&plan), 32, &expected);
}

#[test]
fn output_is_deterministic_and_independent_of_declaration_order() {
    let files: Vec<(String, Vec<u8>)> = (0..50)
        .map(|i| {
            (
                format!("dir {}/file number {i}.bin", i % 7),
                data(i, 100 * i as usize),
            )
        })
        .collect();
    let options = FatOptions {
        fat_type: Some(FatType::Fat32),
        timestamp: FatTimestamp::new(2024, 5, 17, 12, 30, 0).unwrap(),
        ..FatOptions::default()
    };
    let make = |reverse: bool| {
        let mut tree = FatTree::new();
        let mut list: Vec<&(String, Vec<u8>)> = files.iter().collect();
        if reverse {
            list.reverse();
        }
        for (path, bytes) in list {
            tree.add_file(path, bytes.len() as u64, bytes.clone())
                .unwrap();
        }
        build(&tree.plan(&options).unwrap())
    };
    let a = make(false);
    assert_eq!(a, make(false));
    assert_eq!(a, make(true));
}

/// A source that gives a few bytes per read and counts how often it was opened.
struct Trickle {
    bytes: Vec<u8>,
    opened: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

struct TrickleReader<'a>(&'a [u8], usize);

impl Read for TrickleReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.1 = self.1 % 7 + 1;
        let n = self.1.min(buf.len()).min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

impl FileSource for Trickle {
    fn open(&self) -> io::Result<Box<dyn Read + '_>> {
        self.opened
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(Box::new(TrickleReader(&self.bytes, 0)))
    }
}

#[test]
fn short_reads_and_single_open() {
    let opened = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let bytes = data(20, 50_000);
    let mut tree = FatTree::new();
    for i in 0..3 {
        let source = Trickle {
            bytes: bytes.clone(),
            opened: opened.clone(),
        };
        tree.add_file(&format!("t{i}.bin"), bytes.len() as u64, source)
            .unwrap();
    }
    let plan = tree.plan(&FatOptions::default()).unwrap();
    let mut image = Vec::new();
    plan.write(&mut image).unwrap();
    assert_eq!(opened.load(std::sync::atomic::Ordering::SeqCst), 3);
    let expected: Expected = (0..3)
        .map(|i| (format!("T{i}.BIN"), Some(bytes.clone())))
        .collect();
    // Names that only differ in case from an 8.3 name are stored with long-name entries, so
    // mtools gives back the declared lower-case names.
    let expected: Expected = expected
        .into_iter()
        .map(|(k, v)| (k.to_lowercase(), v))
        .collect();
    check_with_tools(&image, 12, &expected);
}

#[test]
fn limits_are_checked_before_writing() {
    let mut tree = FatTree::new();
    tree.add_file("sources/install.wim", 5 << 30, Vec::new())
        .unwrap();
    let err = tree.plan(&FatOptions::default()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("sources/install.wim") && msg.contains("4 GiB"),
        "{msg}"
    );

    // Exactly 4 GiB - 1 is the largest FAT file; it plans (nothing is read while planning).
    let mut tree = FatTree::new();
    tree.add_file("sources/max.wim", u64::from(u32::MAX), Vec::new())
        .unwrap();
    let plan = tree
        .plan(&FatOptions {
            volume_size: Some(5 << 30),
            ..FatOptions::default()
        })
        .unwrap();
    assert_eq!(plan.fat_type(), FatType::Fat32);
    let (offset, size) = plan.file_extent("SOURCES/MAX.WIM").unwrap();
    assert_eq!(size, u64::from(u32::MAX));
    assert_eq!(offset % u64::from(plan.cluster_bytes()), 0);
    assert!(plan.free_bytes() < (5 << 30) - u64::from(u32::MAX));

    let mut tree = FatTree::new();
    tree.add_file("a.bin", 3 << 20, data(1, 3 << 20)).unwrap();
    let err = tree
        .plan(&FatOptions {
            volume_size: Some(1_474_560),
            ..FatOptions::default()
        })
        .unwrap_err();
    match err {
        tsmedia_image::fat::Error::VolumeTooSmall { available, needed } => {
            assert_eq!(available, 1_474_560);
            assert!(needed > 3 << 20, "{needed}");
        }
        other => panic!("unexpected {other}"),
    }

    let err = FatTree::new()
        .plan(&FatOptions {
            label: Some("LABEL TOO LONG".into()),
            ..FatOptions::default()
        })
        .unwrap_err();
    assert!(err.to_string().contains("LABEL TOO LONG"));

    let err = FatTree::new()
        .plan(&FatOptions {
            fat_type: Some(FatType::Fat32),
            volume_size: Some(16 << 20),
            ..FatOptions::default()
        })
        .unwrap_err();
    assert!(err.to_string().contains("FAT32"), "{err}");
}

#[test]
fn wrong_source_lengths_are_errors() {
    for (declared, actual) in [(100u64, 99usize), (100, 101)] {
        let mut tree = FatTree::new();
        tree.add_file("x/y.bin", declared, data(1, actual)).unwrap();
        let plan = tree.plan(&FatOptions::default()).unwrap();
        let err = plan.write(&mut Vec::new()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("x/y.bin"), "{msg}");
        assert!(
            msg.contains(if actual < 100 {
                "ended after 99"
            } else {
                "more than"
            }),
            "{msg}"
        );
    }
}

/// Names outside the Basic Multilingual Plane are stored as UTF-16 surrogate pairs; mtools
/// 4.0.32 does not decode those, so 7-Zip is the reader here.
#[test]
fn names_outside_the_bmp_read_by_7zip() {
    let name = "emoji 😀 and 𝄞 clef.txt";
    let (tree, _) = declare(&[(name, b"surrogates".to_vec())], &[]);
    let plan = tree.plan(&FatOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vol.img");
    std::fs::write(&path, build(&plan)).unwrap();
    fsck_fat(&path, 12);
    let listing = tool_ok("7zz", "7zip", &["l", path.to_str().unwrap()]);
    assert!(listing.contains(name), "{listing}");
    let out = dir.path().join("x");
    tool_ok(
        "7zz",
        "7zip",
        &["x", &format!("-o{}", out.display()), path.to_str().unwrap()],
    );
    assert_eq!(std::fs::read(out.join(name)).unwrap(), b"surrogates");
}

#[test]
fn fat16_root_grows_past_512_entries() {
    let files: Vec<(String, Vec<u8>)> = (0..400)
        .map(|i| (format!("root file with a long name {i}.txt"), data(i, 10)))
        .collect();
    let refs: Vec<(&str, Vec<u8>)> = files.iter().map(|(p, d)| (p.as_str(), d.clone())).collect();
    let (tree, expected) = declare(&refs, &[]);
    let plan = tree
        .plan(&FatOptions {
            fat_type: Some(FatType::Fat16),
            ..FatOptions::default()
        })
        .unwrap();
    assert!(
        plan.geometry().root_entries >= 1200,
        "{}",
        plan.geometry().root_entries
    );
    check_with_tools(&build(&plan), 16, &expected);
}

#[test]
fn generated_short_names_avoid_declared_ones() {
    // "LONGFI~1.TEX" is a valid 8.3 name declared as is; the long name that would get the
    // same short name must be given "~2".
    let files = vec![
        ("Long File Name.text", b"long".to_vec()),
        ("LONGFI~1.TEX", b"short".to_vec()),
    ];
    let (tree, expected) = declare(&files, &[]);
    let plan = tree.plan(&FatOptions::default()).unwrap();
    let image = build(&plan);
    let report = check_with_tools(&image, 12, &expected);
    assert!(report.contains("LONGFI~2 TEX"), "{report}");
}

#[test]
fn empty_volumes() {
    for fat_type in [None, Some(FatType::Fat16), Some(FatType::Fat32)] {
        let plan = FatTree::new()
            .plan(&FatOptions {
                fat_type,
                label: Some("EMPTY".into()),
                ..FatOptions::default()
            })
            .unwrap();
        let bits = match plan.fat_type() {
            FatType::Fat12 => 12,
            FatType::Fat16 => 16,
            FatType::Fat32 => 32,
        };
        // `mdir -/` and `mcopy -s` fail on any empty volume (mkfs.fat's too), so plain mdir.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vol.img");
        std::fs::write(&path, build(&plan)).unwrap();
        fsck_fat(&path, bits);
        let listing = tool_ok("mdir", "mtools", &["-i", path.to_str().unwrap(), "::/"]);
        assert!(
            listing.contains("No files") && listing.contains("EMPTY"),
            "{listing}"
        );
    }
}

#[test]
fn directory_entry_limit() {
    let mut tree = FatTree::new();
    // Each name needs 3 long-name entries + 1 short entry: 16385 × 4 > 65536.
    for i in 0..16_385 {
        tree.add_file(
            &format!("big/a name that needs three LFN entries {i:05}"),
            0,
            Vec::new(),
        )
        .unwrap();
    }
    let err = tree.plan(&FatOptions::default()).unwrap_err();
    assert!(
        matches!(err, tsmedia_image::fat::Error::DirectoryTooLarge { ref path, .. } if path == "big"),
        "{err}"
    );
}
