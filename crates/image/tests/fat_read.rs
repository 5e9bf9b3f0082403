//! The FAT reader against volumes made by the reference tools (`mkfs.fat` + `mcopy`,
//! Debian packages dosfstools and mtools) and by our own writer (FAT volumes, MBR and GPT
//! USB images): every file read back byte for byte, lookups, extraction.

mod fat_support;

use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::path::Path;

use fat_support::{data, read_tree, tool_ok};
use tsmedia_image::disk::{
    Guid, PartitionKind, PartitionTable, PartitionType, TableKind, UsbImageOptions, UsbImagePlan,
    open_fat_volume, read_partition_table,
};
use tsmedia_image::fat::{
    ExtractOptions, FatOptions, FatPlan, FatTree, FatType, FatVolume, ReadError,
};

type Tree = BTreeMap<String, Option<Vec<u8>>>;

/// Every entry of a volume as (path → bytes or None for directories), read with our reader.
fn read_volume<R: Read + std::io::Seek>(v: &mut FatVolume<R>) -> Tree {
    let mut out = Tree::new();
    for (path, e) in v.walk("").unwrap() {
        if e.is_dir() {
            out.insert(path, None);
        } else {
            let mut bytes = Vec::new();
            v.open_file(&e, &path)
                .unwrap()
                .read_to_end(&mut bytes)
                .unwrap();
            assert_eq!(bytes.len() as u64, u64::from(e.size), "{path}");
            out.insert(path, Some(bytes));
        }
    }
    out
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// A host tree with long names, 8.3 names, lower-case short names, non-ASCII names, empty
/// files and folders, a deep path and a file of a few MB.
fn host_tree(root: &Path, big: usize) {
    write(&root.join("README.TXT"), b"short upper\r\n");
    write(&root.join("readme2.txt"), b"short lower");
    write(
        &root.join("A long file name with spaces.text"),
        &data(1, 5000),
    );
    write(&root.join("Ünïcödé naïve file.bin"), &data(2, 777));
    write(&root.join("empty.dat"), b"");
    write(&root.join("big/large file.bin"), &data(3, big));
    std::fs::create_dir_all(root.join("Empty Folder")).unwrap();
    let mut deep = root.join("deep");
    for i in 0..12 {
        deep = deep.join(format!("level {i} of the deep tree"));
    }
    write(&deep.join("leaf.txt"), b"at the bottom");
    for i in 0..40 {
        write(
            &root.join(format!("many/File number {i:03} with a long name.txt")),
            &data(100 + i, (i as usize) * 37),
        );
    }
}

fn mkfs_and_copy(dir: &Path, bits: u32, size_kib: u32, sector: u32, src: &Path) -> String {
    let img = dir.join(format!("fat{bits}-{sector}.img"));
    let img_s = img.to_str().unwrap().to_string();
    tool_ok(
        "mkfs.fat",
        "dosfstools",
        &[
            "-C",
            "-F",
            &bits.to_string(),
            "-S",
            &sector.to_string(),
            "-n",
            "READTEST",
            &img_s,
            &size_kib.to_string(),
        ],
    );
    for e in std::fs::read_dir(src).unwrap() {
        let p = e.unwrap().path();
        tool_ok(
            "mcopy",
            "mtools",
            &["-s", "-i", &img_s, p.to_str().unwrap(), "::/"],
        );
    }
    img_s
}

#[test]
fn volumes_made_by_mkfs_fat_and_mcopy_read_back_identically() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    host_tree(&src, 3 << 20);
    let expected = read_tree(&src);
    for (bits, size_kib, sector, want) in [
        (12, 8 * 1024, 512, FatType::Fat12),
        (16, 32 * 1024, 512, FatType::Fat16),
        (32, 48 * 1024, 512, FatType::Fat32),
        (32, 300 * 1024, 4096, FatType::Fat32),
    ] {
        let img = mkfs_and_copy(dir.path(), bits, size_kib, sector, &src);
        let file = std::fs::File::open(&img).unwrap();
        let mut v = FatVolume::open(file, 0).unwrap();
        assert_eq!(v.fat_type(), want, "{img}");
        assert_eq!(v.boot_parameters().bytes_per_sector, sector);
        assert_eq!(v.label().unwrap().as_deref(), Some("READTEST"));
        let got = read_volume(&mut v);
        let missing: Vec<_> = expected.keys().filter(|k| !got.contains_key(*k)).collect();
        let extra: Vec<_> = got.keys().filter(|k| !expected.contains_key(*k)).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{img}: missing {missing:?}, extra {extra:?}"
        );
        for (k, want) in &expected {
            assert!(&got[k] == want, "{img}: {k} differs");
        }
        // Case-insensitive lookups, by long and by short name.
        let e = v.find("/BIG/LARGE FILE.BIN").unwrap().unwrap();
        assert_eq!(e.size, 3 << 20);
        assert!(v.find("readme.txt").unwrap().is_some());
        assert!(v.find("MANY").unwrap().unwrap().is_dir());
        assert!(v.find("big/LARGEF~1.BIN").unwrap().is_some());
        assert!(v.find("big/nothing").unwrap().is_none());
        assert!(v.find("README.TXT/below").unwrap().is_none());
        assert_eq!(
            v.read_file("deep/LEVEL 0 OF THE DEEP TREE/level 1 of the deep tree/level 2 of the deep tree/level 3 of the deep tree/level 4 of the deep tree/level 5 of the deep tree/level 6 of the deep tree/level 7 of the deep tree/level 8 of the deep tree/level 9 of the deep tree/level 10 of the deep tree/level 11 of the deep tree/leaf.txt", 1 << 20).unwrap(),
            b"at the bottom"
        );
        // Whole-tree and subtree extraction.
        let out = dir.path().join(format!("out{bits}-{sector}"));
        let report = v.extract("", &out, &ExtractOptions::default()).unwrap();
        assert_eq!(read_tree(&out), expected, "{img}");
        assert_eq!(
            report.files,
            expected.values().filter(|v| v.is_some()).count() as u64
        );
        let sub = dir.path().join(format!("sub{bits}-{sector}"));
        v.extract("Many", &sub, &ExtractOptions::default()).unwrap();
        assert_eq!(read_tree(&sub).len(), 40);
        // Extracting again refuses to overwrite unless asked.
        assert!(matches!(
            v.extract("Many", &sub, &ExtractOptions::default()),
            Err(ReadError::Host { .. })
        ));
        let opts = ExtractOptions {
            overwrite: true,
            ..ExtractOptions::default()
        };
        v.extract("Many", &sub, &opts).unwrap();
        // A single file.
        let one = dir.path().join(format!("one{bits}-{sector}"));
        v.extract("readme2.txt", &one, &ExtractOptions::default())
            .unwrap();
        assert_eq!(
            std::fs::read(one.join("readme2.txt")).unwrap(),
            b"short lower"
        );
    }
}

fn usb_tree() -> (FatTree, Tree) {
    let mut tree = FatTree::new();
    let mut expected = Tree::new();
    let files: Vec<(String, Vec<u8>)> = vec![
        ("EFI/Boot/bootx64.efi".into(), data(10, 40_000)),
        ("sources/boot.wim".into(), data(11, 1 << 20)),
        ("SMS/data/TsmBootstrap.ini".into(), b"[Media]\r\n".to_vec()),
        (
            "SMS/PKG/PS100001/A file with a long name.cmd".into(),
            data(12, 3),
        ),
        ("empty".into(), Vec::new()),
    ];
    for (p, b) in &files {
        tree.add_file(p, b.len() as u64, b.clone()).unwrap();
        let parts: Vec<&str> = p.split('/').collect();
        for i in 1..parts.len() {
            expected.insert(parts[..i].join("/"), None);
        }
        expected.insert(p.clone(), Some(b.clone()));
    }
    (tree, expected)
}

#[test]
fn usb_images_from_our_writer_read_back_mbr_and_gpt() {
    for (table, kind) in [
        (PartitionTable::Mbr, PartitionKind::BasicData),
        (PartitionTable::Gpt, PartitionKind::EfiSystem),
        (PartitionTable::Gpt, PartitionKind::BasicData),
    ] {
        let (tree, expected) = usb_tree();
        let plan = UsbImagePlan::new(
            tree,
            &UsbImageOptions {
                table,
                partition_kind: kind,
                guid_seed: Some(7),
                fat: FatOptions {
                    label: Some("TSMEDIA".into()),
                    ..FatOptions::default()
                },
                ..UsbImageOptions::default()
            },
        )
        .unwrap();
        let mut img = Vec::new();
        plan.write(&mut img).unwrap();
        let layout = read_partition_table(&mut Cursor::new(&img)).unwrap();
        assert_eq!(layout.partitions.len(), 1);
        let p = &layout.partitions[0];
        assert_eq!(p.offset(), plan.partition_offset());
        assert_eq!(p.size(), plan.partition_bytes());
        match table {
            PartitionTable::Mbr => {
                assert_eq!(layout.table, TableKind::Mbr);
                assert!(p.active);
                assert_eq!(p.kind, PartitionType::Mbr(0x0C));
                assert_eq!(layout.disk_signature, Some(plan.disk_signature()));
            }
            PartitionTable::Gpt => {
                assert_eq!(layout.table, TableKind::Gpt);
                let want = match kind {
                    PartitionKind::EfiSystem => Guid::EFI_SYSTEM,
                    PartitionKind::BasicData => Guid::BASIC_DATA,
                };
                assert_eq!(p.kind, PartitionType::Gpt(want));
                assert_eq!(layout.disk_guid, plan.disk_guid());
                assert_eq!(p.guid, plan.partition_guid());
                assert_eq!(p.name, "tsmedia");
                assert!(!layout.used_backup_gpt);
            }
        }
        let (mut v, part) = open_fat_volume(Cursor::new(&img)).unwrap();
        assert_eq!(part.unwrap().number, 1);
        assert_eq!(v.fat_type(), FatType::Fat32);
        assert_eq!(v.label().unwrap().as_deref(), Some("TSMEDIA"));
        assert_eq!(read_volume(&mut v), expected, "{table:?}");

        if table == PartitionTable::Gpt {
            // A damaged primary header: the backup is used.
            let mut damaged = img.clone();
            damaged[512 + 20] ^= 0xFF;
            let layout = read_partition_table(&mut Cursor::new(&damaged)).unwrap();
            assert!(layout.used_backup_gpt);
            // A damaged entry array in both copies: an error naming the CRC.
            let n = damaged.len();
            damaged[1024 + 60] ^= 1;
            damaged[n - 512 - 16_384 + 60] ^= 1;
            let err = read_partition_table(&mut Cursor::new(&damaged)).unwrap_err();
            assert!(err.to_string().contains("CRC"), "{err}");
        }
    }
}

#[test]
fn superfloppy_and_volume_at_offset() {
    let (tree, expected) = usb_tree();
    let plan = FatPlan::new(tree, &FatOptions::default()).unwrap();
    let mut vol = Vec::new();
    plan.write(&mut vol).unwrap();
    let layout = read_partition_table(&mut Cursor::new(&vol)).unwrap();
    assert_eq!(layout.table, TableKind::None);
    let (mut v, part) = open_fat_volume(Cursor::new(&vol)).unwrap();
    assert!(part.is_none());
    assert_eq!(read_volume(&mut v), expected);
    // The same volume 12345 bytes into a larger file.
    let mut shifted = vec![0xAAu8; 12_345];
    shifted.extend_from_slice(&vol);
    let mut v = FatVolume::open(Cursor::new(shifted), 12_345).unwrap();
    assert_eq!(read_volume(&mut v), expected);
    // A truncated volume fails when opened.
    vol.truncate(vol.len() - 1);
    assert!(FatVolume::open(Cursor::new(vol), 0).is_err());
    // Neither a table nor a volume.
    let err = read_partition_table(&mut Cursor::new(vec![0u8; 4096])).unwrap_err();
    assert!(err.to_string().contains("0x55AA"), "{err}");
}

/// A reader that returns at most 3 bytes per call.
struct Trickle<R>(R);

impl<R: Read> Read for Trickle<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(3);
        self.0.read(&mut buf[..n])
    }
}

impl<R: std::io::Seek> std::io::Seek for Trickle<R> {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        self.0.seek(pos)
    }
}

#[test]
fn short_reads_from_the_device() {
    let (tree, expected) = usb_tree();
    let plan = FatPlan::new(tree, &FatOptions::default()).unwrap();
    let mut vol = Vec::new();
    plan.write(&mut vol).unwrap();
    let mut v = FatVolume::open(Trickle(Cursor::new(vol)), 0).unwrap();
    assert_eq!(read_volume(&mut v), expected);
}
