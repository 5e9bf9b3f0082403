//! Hostile volumes for the FAT reader: targeted damage (cluster chain loops, clusters out of
//! range, chains shorter or longer than the size, directory cycles, unsafe names) gives the
//! matching error; every sector of small FAT12 and FAT32 volumes zeroed, filled or flipped
//! gives errors or data, never a panic or a hang.

mod fat_support;

use std::io::{Cursor, Read};

use fat_support::data;
use tsmedia_image::fat::{
    ExtractOptions, FatOptions, FatPlan, FatTree, FatType, FatVolume, ReadError,
};

struct Volume {
    bytes: Vec<u8>,
}

impl Volume {
    fn new(fat_type: FatType, size: Option<u64>) -> Volume {
        let mut tree = FatTree::new();
        tree.add_file("a.bin", 1500, data(1, 1500)).unwrap();
        tree.add_file("dir/sub/f.txt", 5, b"hello".to_vec())
            .unwrap();
        tree.add_file("dir/other.txt", 700, data(2, 700)).unwrap();
        tree.add_file("victimvictim.txt", 3, b"abc".to_vec())
            .unwrap();
        tree.add_file("empty", 0, Vec::new()).unwrap();
        let plan = FatPlan::new(
            tree,
            &FatOptions {
                fat_type: Some(fat_type),
                cluster_size: Some(512),
                volume_size: size,
                ..FatOptions::default()
            },
        )
        .unwrap();
        let mut bytes = Vec::new();
        plan.write(&mut bytes).unwrap();
        Volume { bytes }
    }

    fn open(&self) -> Result<FatVolume<Cursor<&[u8]>>, ReadError> {
        FatVolume::open(Cursor::new(&self.bytes[..]), 0)
    }

    fn fat16_entry(&mut self, cluster: u32, value: u16) {
        let v = self.open().unwrap();
        let at = v.boot_parameters().fat_offset() as usize + 2 * cluster as usize;
        self.bytes[at..at + 2].copy_from_slice(&value.to_le_bytes());
    }

    /// Offset of the 32-byte short entry named `short` (11 bytes) anywhere in the volume.
    fn entry_at(&self, short: &[u8; 11]) -> usize {
        self.bytes
            .chunks_exact(32)
            .position(|e| &e[..11] == short)
            .expect("entry present")
            * 32
    }
}

fn read_file(v: &mut FatVolume<Cursor<&[u8]>>, path: &str) -> Result<Vec<u8>, ReadError> {
    let e = v.find(path)?.unwrap();
    let mut out = Vec::new();
    let mut f = v.open_file(&e, path)?;
    let mut buf = [0u8; 100];
    loop {
        let n = f.read_some(&mut buf)?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

#[test]
fn damaged_cluster_chains_are_reported() {
    let fresh = Volume::new(FatType::Fat16, Some(8 << 20));
    let first = fresh
        .open()
        .unwrap()
        .find("a.bin")
        .unwrap()
        .unwrap()
        .first_cluster;
    assert_eq!(
        read_file(&mut fresh.open().unwrap(), "a.bin").unwrap(),
        data(1, 1500)
    );
    type Check = fn(&ReadError) -> bool;
    let cases: [(&str, u32, u16, Check); 5] = [
        ("loop", first + 1, first as u16, |e| {
            matches!(e, ReadError::ChainLoop { .. })
        }),
        ("short", first + 1, 0xFFFF, |e| {
            matches!(
                e,
                ReadError::ChainTooShort {
                    clusters: 2,
                    needed: 3,
                    ..
                }
            )
        }),
        ("long", first + 2, first as u16 + 3, |e| {
            matches!(e, ReadError::ChainTooLong { .. })
        }),
        ("out of range", first, 0xFFF0, |e| {
            matches!(
                e,
                ReadError::ClusterOutOfRange {
                    cluster: 0xFFF0,
                    ..
                }
            )
        }),
        ("free", first, 0, |e| {
            matches!(e, ReadError::ChainBroken { kind: "free", .. })
        }),
    ];
    for (name, cluster, value, check) in cases {
        let mut v = Volume {
            bytes: fresh.bytes.clone(),
        };
        v.fat16_entry(cluster, value);
        let err = read_file(&mut v.open().unwrap(), "a.bin").unwrap_err();
        assert!(check(&err), "{name}: {err}");
        // The error reaches io::Read users too, and names the file.
        let mut vol = v.open().unwrap();
        let e = vol.find("a.bin").unwrap().unwrap();
        let io = vol
            .open_file(&e, "a.bin")
            .unwrap()
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert!(io.to_string().contains("a.bin"), "{name}: {io}");
    }
    // A size larger than the chain, and a first cluster outside the volume.
    let mut v = Volume {
        bytes: fresh.bytes.clone(),
    };
    let at = v.entry_at(b"A       BIN");
    v.bytes[at + 28..at + 32].copy_from_slice(&5000u32.to_le_bytes());
    let err = read_file(&mut v.open().unwrap(), "a.bin").unwrap_err();
    assert!(matches!(err, ReadError::ChainTooShort { .. }), "{err}");
    v.bytes[at + 28..at + 32].copy_from_slice(&600u32.to_le_bytes());
    let err = read_file(&mut v.open().unwrap(), "a.bin").unwrap_err();
    assert!(matches!(err, ReadError::ChainTooLong { .. }), "{err}");
    v.bytes[at + 26..at + 28].copy_from_slice(&0xFFF5u16.to_le_bytes());
    let err = read_file(&mut v.open().unwrap(), "a.bin").unwrap_err();
    assert!(matches!(err, ReadError::ClusterOutOfRange { .. }), "{err}");
    v.bytes[at + 26..at + 28].copy_from_slice(&fresh.bytes[at + 26..at + 28]);
    v.bytes[at + 28..at + 32].copy_from_slice(&u32::MAX.to_le_bytes());
    let err = read_file(&mut v.open().unwrap(), "a.bin").unwrap_err();
    assert!(matches!(err, ReadError::ChainTooShort { .. }), "{err}");
}

#[test]
fn directory_cycles_and_loops_are_reported() {
    let fresh = Volume::new(FatType::Fat16, Some(8 << 20));
    let dir = fresh
        .open()
        .unwrap()
        .find("dir")
        .unwrap()
        .unwrap()
        .first_cluster;
    // dir/sub points back at dir.
    let mut v = Volume {
        bytes: fresh.bytes.clone(),
    };
    let at = v.entry_at(b"SUB        ");
    v.bytes[at + 26..at + 28].copy_from_slice(&(dir as u16).to_le_bytes());
    let err = v.open().unwrap().walk("").unwrap_err();
    assert!(matches!(err, ReadError::DirectoryCycle { .. }), "{err}");
    let out = tempfile::tempdir().unwrap();
    assert!(
        v.open()
            .unwrap()
            .extract("", out.path(), &ExtractOptions::default())
            .is_err()
    );
    // dir/sub points at the root (cluster 0 on FAT16).
    v.bytes[at + 26..at + 28].copy_from_slice(&0u16.to_le_bytes());
    let err = v.open().unwrap().walk("").unwrap_err();
    assert!(matches!(err, ReadError::DirectoryCycle { .. }), "{err}");
    // The directory's own chain loops.
    let mut v = Volume {
        bytes: fresh.bytes.clone(),
    };
    v.fat16_entry(dir, dir as u16);
    // Fill the directory's unused slots with deleted entries so that the reader must follow
    // the chain (it stops at the end marker otherwise).
    let bpb = v.open().unwrap().boot_parameters().clone();
    let start = bpb.cluster_offset(dir) as usize;
    let end = start + bpb.cluster_bytes() as usize;
    for slot in v.bytes[start..end].chunks_exact_mut(32) {
        if slot[0] == 0 {
            slot[0] = 0xE5;
        }
    }
    let err = v
        .open()
        .unwrap()
        .read_dir(&v.open().unwrap().find("dir").unwrap().unwrap());
    assert!(matches!(err, Err(ReadError::ChainLoop { .. })), "{err:?}");
}

#[test]
fn unsafe_names_are_refused_before_anything_is_written() {
    let fresh = Volume::new(FatType::Fat12, None);
    let units: Vec<u8> = "victi"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    for (evil, reason) in [
        ("..", "relative"),
        ("a/b", "separator"),
        ("a\\b", "separator"),
    ] {
        let mut v = Volume {
            bytes: fresh.bytes.clone(),
        };
        // The first long-name entry holds "victimvictim." (13 units): replace its units.
        let at = v
            .bytes
            .windows(units.len())
            .position(|w| w == units.as_slice())
            .expect("long name present")
            - 1;
        let mut name: Vec<u16> = evil.encode_utf16().collect();
        name.push(0);
        name.resize(13, 0xFFFF);
        let slots = (1..11)
            .step_by(2)
            .chain((14..26).step_by(2))
            .chain((28..32).step_by(2));
        for (slot, u) in slots.zip(name) {
            v.bytes[at + slot..at + slot + 2].copy_from_slice(&u.to_le_bytes());
        }
        // Make it the only long-name entry (ordinal 1, last).
        v.bytes[at] = 0x41;
        let mut vol = v.open().unwrap();
        let names: Vec<String> = vol
            .read_root()
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert!(names.contains(&evil.to_string()), "{names:?}");
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out");
        let err = vol
            .extract("", &dest, &ExtractOptions::default())
            .unwrap_err();
        assert!(
            matches!(&err, ReadError::UnsafeName { .. }) && err.to_string().contains(reason),
            "{evil}: {err}"
        );
        assert!(!dest.exists(), "{evil}: something was written");
    }
}

/// Opens, walks, reads every file and extracts; only errors are allowed, never a panic.
fn exercise(bytes: &[u8], scratch: &std::path::Path) {
    let Ok(mut v) = FatVolume::open(Cursor::new(bytes), 0) else {
        return;
    };
    let _ = v.label();
    if let Ok(entries) = v.walk("") {
        for (path, e) in entries {
            if !e.is_dir()
                && let Ok(mut f) = v.open_file(&e, &path)
            {
                let mut buf = vec![0u8; 4096];
                while let Ok(n) = f.read_some(&mut buf) {
                    if n == 0 {
                        break;
                    }
                }
            }
        }
    }
    let _ = v.find("dir/sub/f.txt");
    let _ = std::fs::remove_dir_all(scratch);
    let _ = v.extract("", scratch, &ExtractOptions::default());
}

fn mutate_sectors(mut bytes: Vec<u8>, sectors: impl Iterator<Item = usize>) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let scratch = dir.path().join("x");
    let mut runs = 0;
    let count = bytes.len() / 512;
    for s in sectors.filter(|&s| s < count) {
        let range = s * 512..(s + 1) * 512;
        let saved = bytes[range.clone()].to_vec();
        for mutation in 0..3 {
            for (i, b) in bytes[range.clone()].iter_mut().enumerate() {
                *b = match mutation {
                    0 => 0,
                    1 => 0xFF,
                    _ => saved[i] ^ (1 << (i % 8)),
                };
            }
            exercise(&bytes, &scratch);
            runs += 1;
        }
        bytes[range].copy_from_slice(&saved);
    }
    // Each field of the boot sector (every byte up to the signature) set to 0 and 0xFF.
    for i in 0..90 {
        let saved = bytes[i];
        for value in [0u8, 0xFF, saved.wrapping_add(1)] {
            bytes[i] = value;
            exercise(&bytes, &scratch);
            runs += 1;
        }
        bytes[i] = saved;
    }
    runs
}

#[test]
fn every_sector_damaged_gives_errors_not_panics() {
    let fat12 = Volume::new(FatType::Fat12, Some(256 << 10));
    assert_eq!(
        read_file(&mut fat12.open().unwrap(), "dir/sub/f.txt").unwrap(),
        b"hello"
    );
    let n = fat12.bytes.len() / 512;
    assert!(mutate_sectors(fat12.bytes, 0..n) > 1500);

    // FAT32: the reserved sectors, the start of each FAT (the end only maps free clusters),
    // and the first data clusters (root directory, directories, files).
    let fat32 = Volume::new(FatType::Fat32, None);
    let bpb = fat32.open().unwrap().boot_parameters().clone();
    let reserved = bpb.reserved_sectors as usize;
    let fat = bpb.fat_sectors as usize;
    let data = (bpb.data_offset() / 512) as usize;
    let sectors: Vec<usize> = (0..reserved + 4)
        .chain(reserved + fat..reserved + fat + 4)
        .chain(data..data + 64)
        .collect();
    assert!(mutate_sectors(fat32.bytes, sectors.into_iter()) > 200);
}
