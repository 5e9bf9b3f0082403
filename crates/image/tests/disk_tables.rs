//! USB disk images checked by sfdisk, sgdisk, fsck.fat (on the partition cut out), mtools
//! (at the 1 MiB offset) and 7-Zip.

mod fat_support;

use fat_support::{data, fsck_fat, mcopy_all, tool, tool_ok};
use tsmedia_image::disk::{
    Error, PartitionKind, PartitionTable, TargetOptions, UsbImageOptions, UsbImagePlan,
};
use tsmedia_image::fat::{FatOptions, FatTree};

fn sample_tree() -> (FatTree, Vec<(&'static str, Vec<u8>)>) {
    let files = vec![
        ("EFI/BOOT/BOOTX64.EFI", data(1, 1024)),
        ("sources/boot.wim", data(2, 3_000_000)),
        (
            "SMS/data/TsmBootstrap.ini",
            b"[MediaInfo]\r\nMediaType=FullMedia\r\n".to_vec(),
        ),
        ("MediaLabel.txt", b"label=Configuration Manager".to_vec()),
    ];
    let mut tree = FatTree::new();
    for (path, bytes) in &files {
        tree.add_file(path, bytes.len() as u64, bytes.clone())
            .unwrap();
    }
    (tree, files)
}

fn options(table: PartitionTable, kind: PartitionKind) -> UsbImageOptions {
    UsbImageOptions {
        table,
        partition_kind: kind,
        guid_seed: Some(42),
        fat: FatOptions {
            label: Some("TSMEDIA".into()),
            volume_id: Some(0x2024_0517),
            ..FatOptions::default()
        },
        ..UsbImageOptions::default()
    }
}

/// Builds the image into a temp dir, runs every checker, returns (dir, image path, sfdisk -d).
fn build_and_check(
    plan: &UsbImagePlan,
    files: &[(&str, Vec<u8>)],
) -> (tempfile::TempDir, std::path::PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("usb.img");
    plan.write_to_path(&img, TargetOptions::default()).unwrap();
    assert_eq!(std::fs::metadata(&img).unwrap().len(), plan.disk_bytes());
    // The seeking file writer and the plain stream give the same bytes.
    let mut streamed = Vec::new();
    plan.write(&mut streamed).unwrap();
    assert!(
        std::fs::read(&img).unwrap() == streamed,
        "file and stream differ"
    );
    let img_s = img.to_str().unwrap();

    let dump = tool_ok("sfdisk", "fdisk", &["-d", img_s]);
    assert!(dump.contains("start=        2048"), "{dump}");
    let verify = tool("sfdisk", "fdisk", &["--verify", img_s]);
    let verify_text = String::from_utf8_lossy(&verify.stdout).into_owned()
        + &String::from_utf8_lossy(&verify.stderr);
    assert!(verify.status.success(), "sfdisk --verify: {verify_text}");

    // The partition cut out with dd semantics, for fsck.fat.
    let image = std::fs::read(&img).unwrap();
    let start = plan.partition_offset() as usize;
    let part = dir.path().join("part.img");
    std::fs::write(
        &part,
        &image[start..start + plan.partition_bytes() as usize],
    )
    .unwrap();
    fsck_fat(&part, 32);

    let at = format!("{img_s}@@1M");
    let listing = tool_ok("mdir", "mtools", &["-/", "-i", &at, "::/"]);
    assert!(listing.contains("TSMEDIA"), "{listing}");
    let extracted = mcopy_all(&at, &dir.path().join("out"));
    for (path, bytes) in files {
        assert_eq!(
            extracted.get(*path),
            Some(&Some(bytes.clone())),
            "{path} differs after mcopy"
        );
    }
    let listing = tool_ok("7zz", "7zip", &["l", img_s]);
    // 7-Zip opens the partition table, then the FAT volume inside, and lists every file.
    assert!(listing.contains("File System = FAT32"), "{listing}");
    for (path, bytes) in files {
        assert!(
            listing.lines().any(|l| l.ends_with(&format!(" {path}"))
                && l.split_whitespace().nth(3) == Some(&bytes.len().to_string())),
            "7zz does not list {path} with {} bytes:\n{listing}",
            bytes.len()
        );
    }
    (dir, img, dump)
}

#[test]
fn gpt_esp_image_passes_sgdisk_sfdisk_fsck_mtools() {
    let (tree, files) = sample_tree();
    let plan = UsbImagePlan::new(
        tree,
        &options(PartitionTable::Gpt, PartitionKind::EfiSystem),
    )
    .unwrap();
    assert_eq!(plan.partition_offset(), 1 << 20);
    assert_eq!(plan.disk_bytes() % (1 << 20), 0);
    let (_dir, img, dump) = build_and_check(&plan, &files);
    assert!(dump.contains("label: gpt"), "{dump}");
    assert!(
        dump.contains("type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B"),
        "{dump}"
    );
    let disk_guid = plan.disk_guid().unwrap().to_string();
    assert!(dump.contains(&format!("label-id: {disk_guid}")), "{dump}");
    let part_guid = plan.partition_guid().unwrap().to_string();
    assert!(dump.contains(&format!("uuid={part_guid}")), "{dump}");
    assert!(dump.contains("name=\"tsmedia\""), "{dump}");
    let sg = tool_ok("sgdisk", "gdisk", &["-v", img.to_str().unwrap()]);
    assert!(sg.contains("No problems found"), "{sg}");
}

#[test]
fn mbr_image_has_one_active_fat32_partition() {
    let (tree, files) = sample_tree();
    let plan = UsbImagePlan::new(
        tree,
        &options(PartitionTable::Mbr, PartitionKind::BasicData),
    )
    .unwrap();
    let (_dir, _img, dump) = build_and_check(&plan, &files);
    assert!(dump.contains("label: dos"), "{dump}");
    assert!(dump.contains("type=c, bootable"), "{dump}");
    assert!(
        dump.contains(&format!("label-id: 0x{:08x}", plan.disk_signature())),
        "{dump}"
    );
}

#[test]
fn mbr_efi_type_and_fixed_disk_size() {
    let (tree, files) = sample_tree();
    let opts = UsbImageOptions {
        disk_size: Some(100 << 20),
        ..options(PartitionTable::Mbr, PartitionKind::EfiSystem)
    };
    let plan = UsbImagePlan::new(tree, &opts).unwrap();
    assert_eq!(plan.disk_bytes(), 100 << 20);
    assert_eq!(plan.partition_bytes(), 99 << 20);
    let (_dir, _img, dump) = build_and_check(&plan, &files);
    assert!(dump.contains("type=ef, bootable"), "{dump}");
}

#[test]
fn gpt_fixed_size_keeps_room_for_the_backup() {
    let (tree, files) = sample_tree();
    let opts = UsbImageOptions {
        disk_size: Some((200 << 20) + 4096),
        ..options(PartitionTable::Gpt, PartitionKind::BasicData)
    };
    let plan = UsbImagePlan::new(tree, &opts).unwrap();
    assert_eq!(plan.partition_bytes(), 198 << 20);
    let (_dir, img, dump) = build_and_check(&plan, &files);
    assert!(
        dump.contains("type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"),
        "{dump}"
    );
    let sg = tool_ok("sgdisk", "gdisk", &["-v", img.to_str().unwrap()]);
    assert!(sg.contains("No problems found"), "{sg}");
}

#[test]
fn seeded_images_are_identical() {
    let build = || {
        let (tree, _) = sample_tree();
        let plan = UsbImagePlan::new(
            tree,
            &options(PartitionTable::Gpt, PartitionKind::EfiSystem),
        )
        .unwrap();
        let mut out = Vec::new();
        plan.write(&mut out).unwrap();
        (plan.disk_guid(), out)
    };
    let (guid_a, a) = build();
    let (guid_b, b) = build();
    assert_eq!(guid_a, guid_b);
    assert!(a == b, "seeded images differ");
    // Unseeded images get fresh GUIDs.
    let fresh = |_| {
        let (tree, _) = sample_tree();
        UsbImagePlan::new(
            tree,
            &UsbImageOptions {
                guid_seed: None,
                ..options(PartitionTable::Gpt, PartitionKind::EfiSystem)
            },
        )
        .unwrap()
        .disk_guid()
    };
    assert_ne!(fresh(0), fresh(1));
}

#[test]
fn too_small_disk_and_occupied_target_are_refused() {
    let (tree, _) = sample_tree();
    let err = UsbImagePlan::new(
        tree,
        &UsbImageOptions {
            disk_size: Some(16 << 20),
            ..options(PartitionTable::Mbr, PartitionKind::BasicData)
        },
    )
    .unwrap_err();
    match err {
        Error::DiskTooSmall { available, needed } => {
            assert_eq!(available, 16 << 20);
            assert!(needed > 32 << 20, "{needed}");
        }
        other => panic!("unexpected {other}"),
    }

    let (tree, _) = sample_tree();
    let plan = UsbImagePlan::new(
        tree,
        &options(PartitionTable::Mbr, PartitionKind::BasicData),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("existing.img");
    std::fs::write(&img, b"precious").unwrap();
    let err = plan
        .write_to_path(&img, TargetOptions::default())
        .unwrap_err();
    assert!(matches!(err, Error::TargetNotEmpty { .. }), "{err}");
    assert_eq!(std::fs::read(&img).unwrap(), b"precious");
    let overwrite = TargetOptions {
        overwrite: true,
        ..TargetOptions::default()
    };
    plan.write_to_path(&img, overwrite).unwrap();
    assert_eq!(std::fs::metadata(&img).unwrap().len(), plan.disk_bytes());
    assert!(!dir.path().join("existing.img.partial").exists());
}

/// A big, nearly empty image is written sparsely: the free clusters are skipped, not zeroed.
#[cfg(unix)]
#[test]
fn large_image_file_is_sparse() {
    use std::os::unix::fs::MetadataExt;
    let (tree, files) = sample_tree();
    let plan = UsbImagePlan::new(
        tree,
        &UsbImageOptions {
            disk_size: Some(4 << 30),
            ..options(PartitionTable::Gpt, PartitionKind::BasicData)
        },
    )
    .unwrap();
    assert!(plan.fat().geometry().cluster_count > 500_000);
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("big.img");
    plan.write_to_path(&img, TargetOptions::default()).unwrap();
    let meta = std::fs::metadata(&img).unwrap();
    assert_eq!(meta.len(), 4 << 30);
    assert!(
        meta.blocks() * 512 < 64 << 20,
        "{} bytes allocated",
        meta.blocks() * 512
    );
    let sg = tool_ok("sgdisk", "gdisk", &["-v", img.to_str().unwrap()]);
    assert!(sg.contains("No problems found"), "{sg}");
    let at = format!("{}@@1M", img.display());
    let extracted = mcopy_all(&at, &dir.path().join("out"));
    for (path, bytes) in &files {
        assert_eq!(extracted.get(*path), Some(&Some(bytes.clone())), "{path}");
    }
}

#[test]
fn progress_is_reported_and_cancel_stops_the_write() {
    use std::sync::Mutex;
    use tsmedia_base::{Cancel, Progress};

    /// Records `(bytes done, total)` after every report.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<(u64, u64)>>, Mutex<(u64, u64)>);
    impl Progress for Recorder {
        fn begin(&self, _: &str, total: Option<u64>) {
            *self.1.lock().unwrap() = (0, total.unwrap());
        }
        fn advance(&self, n: u64) {
            let mut now = self.1.lock().unwrap();
            now.0 += n;
            self.0.lock().unwrap().push(*now);
        }
    }
    /// Cancels at the first report.
    struct StopAtFirst<'a>(&'a Cancel);
    impl Progress for StopAtFirst<'_> {
        fn advance(&self, _: u64) {
            self.0.cancel();
        }
    }

    let (tree, _) = sample_tree();
    let plan = UsbImagePlan::new(
        tree,
        &UsbImageOptions {
            disk_size: Some(256 << 20),
            ..options(PartitionTable::Gpt, PartitionKind::BasicData)
        },
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let record = Recorder::default();
    let img = dir.path().join("progress.img");
    plan.write_to_path(
        &img,
        TargetOptions {
            progress: Some(&record),
            ..TargetOptions::default()
        },
    )
    .unwrap();
    let seen = record.0.into_inner().unwrap();
    assert!(seen.len() >= 2, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "{seen:?}");
    assert_eq!(seen.last(), Some(&(plan.disk_bytes(), plan.disk_bytes())));

    let cancel = Cancel::new();
    let stop_after_first = StopAtFirst(&cancel);
    let img = dir.path().join("cancelled.img");
    let err = plan
        .write_to_path(
            &img,
            TargetOptions {
                progress: Some(&stop_after_first),
                cancel: Some(&cancel),
                ..TargetOptions::default()
            },
        )
        .unwrap_err();
    assert!(matches!(err, Error::Cancelled), "{err}");
    assert!(!img.exists());
    assert!(!dir.path().join("cancelled.img.partial").exists());
}

/// A leading area (an ISO 9660 boot area on prestaged disks) is written from the first byte
/// after the tables, and the partition moves to the next 1 MiB boundary after it; sgdisk still
/// finds the GPT sound and the FAT volume is whole. An area that would cover the tables is
/// refused.
#[test]
fn leading_area_moves_the_partition_and_keeps_the_tables() {
    let (tree, _) = sample_tree();
    let mut area = vec![0u8; (5 << 20) + 3];
    for (i, b) in area.iter_mut().enumerate().skip(32 << 10) {
        *b = (i % 251) as u8 | 1;
    }
    let plan = UsbImagePlan::new(
        tree,
        &UsbImageOptions {
            leading_area: area.clone(),
            ..options(PartitionTable::Gpt, PartitionKind::EfiSystem)
        },
    )
    .unwrap();
    assert_eq!(plan.partition_offset(), 6 << 20);
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("disk.img");
    plan.write_to_path(&img, TargetOptions::default()).unwrap();
    let bytes = std::fs::read(&img).unwrap();
    assert_eq!(&bytes[32 << 10..area.len()], &area[32 << 10..]);
    assert_eq!(&bytes[510..512], &[0x55, 0xAA]);
    assert_eq!(&bytes[512..520], b"EFI PART");
    let sg = tool_ok("sgdisk", "gdisk", &["-v", img.to_str().unwrap()]);
    assert!(sg.contains("No problems found"), "{sg}");
    let part = dir.path().join("part.img");
    let start = plan.partition_offset() as usize;
    std::fs::write(
        &part,
        &bytes[start..start + plan.partition_bytes() as usize],
    )
    .unwrap();
    fsck_fat(&part, 32);

    let (tree, _) = sample_tree();
    let mut covering = vec![0u8; 1 << 20];
    covering[600] = 1;
    let err = UsbImagePlan::new(
        tree,
        &UsbImageOptions {
            leading_area: covering,
            ..options(PartitionTable::Mbr, PartitionKind::BasicData)
        },
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("partition tables go there"),
        "{err}"
    );
}
