//! Property round trips: metadata trees and blobs written, read back, compared.

use proptest::prelude::*;
use std::path::Path;
use tsmedia_codecs::Format;
use tsmedia_wim::dentry::{Dentry, IO_REPARSE_TAG_SYMLINK, UnixData, attr};
use tsmedia_wim::metadata::Image;
use tsmedia_wim::security::SecurityData;
use tsmedia_wim::xml::Element;
use tsmedia_wim::{Sha1, Wim, WimWriter, WriteOptions};

fn name() -> impl Strategy<Value = Vec<u16>> {
    prop::collection::vec(
        prop_oneof![0x20u16..0x7f, 0xa0u16..0xd7ff, 0xe000u16..0xfffd],
        1..20,
    )
}

fn leaf() -> impl Strategy<Value = Dentry> {
    (
        name(),
        any::<[u8; 20]>(),
        any::<u64>(),
        any::<bool>(),
        any::<bool>(),
        any::<u32>(),
        0u64..4,
    )
        .prop_map(|(name, h, t, link, unix, mode, group)| {
            let mut d = Dentry {
                name,
                attributes: attr::NORMAL,
                security_id: -1,
                last_write_time: t,
                creation_time: t / 2,
                last_access_time: t / 3,
                data: Sha1(h),
                hard_link_group: group,
                unix: unix.then_some(UnixData {
                    uid: mode,
                    gid: mode / 7,
                    mode,
                    rdev: 0,
                }),
                ..Dentry::default()
            };
            if link {
                d.attributes = attr::REPARSE_POINT;
                d.reparse_tag = IO_REPARSE_TAG_SYMLINK;
                d.reparse_data = Sha1(h);
                d.data = Sha1::ZERO;
                d.hard_link_group = 0;
            }
            d
        })
}

fn tree() -> impl Strategy<Value = Dentry> {
    leaf().prop_recursive(4, 64, 8, |inner| {
        (name(), prop::collection::vec(inner, 0..8)).prop_map(|(name, children)| {
            let mut seen = std::collections::HashSet::new();
            let children = children
                .into_iter()
                .filter(|c| seen.insert(c.name.clone()))
                .collect();
            Dentry {
                name,
                attributes: attr::DIRECTORY,
                security_id: -1,
                children,
                ..Dentry::default()
            }
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn metadata_round_trips(children in prop::collection::vec(tree(), 0..6), descs in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..3)) {
        let mut seen = std::collections::HashSet::new();
        let children = children.into_iter().filter(|c| seen.insert(c.name.clone())).collect();
        let img = Image {
            security: SecurityData { descriptors: descs },
            root: Dentry { attributes: attr::DIRECTORY, security_id: -1, children, ..Dentry::default() },
        };
        let bytes = img.to_bytes();
        let back = Image::parse(&bytes, 1).expect("our own metadata parses");
        prop_assert_eq!(&back, &img);
        prop_assert_eq!(back.to_bytes(), bytes);
    }

    #[test]
    fn blobs_round_trip(blobs in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..100_000), 1..8), compress in 0usize..3, chunk_shift in 12u32..17) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.wim");
        let compression = [None, Some(Format::Xpress), Some(Format::Lzx)][compress];
        let chunk_size = if compression == Some(Format::Lzx) { 1 << 15 } else { 1 << chunk_shift };
        let opts = WriteOptions { compression, chunk_size, threads: 2, ..WriteOptions::default() };
        let mut w = WimWriter::create(&path, opts).expect("create");
        let mut root = Dentry { attributes: attr::DIRECTORY, security_id: -1, ..Dentry::default() };
        for (i, b) in blobs.iter().enumerate() {
            let h = w.write_blob(&mut &b[..], b.len() as u64, None, Path::new("mem")).expect("write");
            root.children.push(Dentry { name: format!("f{i}").encode_utf16().collect(), attributes: attr::NORMAL, security_id: -1, data: h, ..Dentry::default() });
        }
        w.add_image(&Image { security: SecurityData::default(), root }, Element::new("IMAGE")).expect("image");
        w.finish(0).expect("finish");
        let wim = Wim::open(&path).expect("open");
        for b in &blobs {
            if b.is_empty() { continue; }
            let got = wim.open_blob(&Sha1::of(b), true).expect("blob").read_all().expect("read");
            prop_assert_eq!(&got, b);
        }
    }
}

/// Writes `blobs` (unhashed, as a stream would give them) as files of one image; returns the
/// WIM's length.
fn write_unhashed(path: &Path, blobs: &[&[u8]], compression: Option<Format>) -> u64 {
    let opts = WriteOptions {
        compression,
        threads: 2,
        guid: Some([7; 16]),
        timestamp: Some(1),
        ..WriteOptions::default()
    };
    let mut w = WimWriter::create(path, opts).expect("create");
    let mut root = Dentry {
        attributes: attr::DIRECTORY,
        security_id: -1,
        ..Dentry::default()
    };
    for (i, b) in blobs.iter().enumerate() {
        let h = w
            .write_blob(&mut &b[..], b.len() as u64, None, Path::new("mem"))
            .expect("write");
        root.children.push(Dentry {
            name: format!("f{i:02}").encode_utf16().collect(),
            attributes: attr::NORMAL,
            security_id: -1,
            data: h,
            ..Dentry::default()
        });
    }
    w.add_image(
        &Image {
            security: SecurityData::default(),
            root,
        },
        Element::new("IMAGE"),
    )
    .expect("image");
    w.finish(0).expect("finish");
    std::fs::metadata(path).expect("written").len()
}

#[test]
fn a_duplicate_found_while_writing_takes_no_space() {
    let pattern = |seed: u8, len: usize| -> Vec<u8> {
        let mut x = u32::from(seed).wrapping_mul(2_654_435_761) | 1;
        (0..len)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                if i % 3 == 0 {
                    (x >> 24) as u8
                } else {
                    b'a' + (i % 7) as u8
                }
            })
            .collect()
    };
    let big = pattern(1, 300_000); // ten chunks of 32 KiB
    let small = pattern(2, 5_000);
    let other = pattern(3, 120_000);
    let dir = tempfile::tempdir().expect("tempdir");
    for compression in [None, Some(Format::Xpress), Some(Format::Lzx)] {
        let with = dir.path().join("with.wim");
        let without = dir.path().join("without.wim");
        let a = write_unhashed(
            &with,
            &[&big, &small, &big, &other, &small, &big, &other],
            compression,
        );
        // The same files, each name pointing at the first copy: no duplicate is ever written.
        let b = write_unhashed(&without, &[&big, &small, &other], compression);
        let wim = Wim::open(&with).expect("open");
        for blob in [&big, &small, &other] {
            let got = wim
                .open_blob(&Sha1::of(blob), true)
                .expect("blob")
                .read_all()
                .expect("read");
            assert_eq!(&got, blob);
        }
        // Four more dentries in the metadata resource are all that may differ.
        assert!(
            a < b + 1024,
            "{compression:?}: {a} bytes with duplicates, {b} without"
        );
    }
}

#[test]
fn a_blob_stored_raw_in_a_compressed_wim_reads_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mixed.wim");
    let text: Vec<u8> = (0..200_000u32)
        .map(|i| b"abcabd"[(i % 6) as usize])
        .collect();
    let noise: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let opts = WriteOptions {
        threads: 2,
        ..WriteOptions::default()
    };
    let mut w = WimWriter::create(&path, opts).expect("create");
    let mut root = Dentry {
        attributes: attr::DIRECTORY,
        security_id: -1,
        ..Dentry::default()
    };
    let a = w
        .write_blob(&mut &text[..], text.len() as u64, None, Path::new("a"))
        .expect("a");
    let b = w
        .write_blob_stored(&mut &noise[..], noise.len() as u64, None, Path::new("b"))
        .expect("b");
    let c = w
        .write_blob(&mut &text[..100_000], 100_000, None, Path::new("c"))
        .expect("c");
    for (i, h) in [a, b, c].into_iter().enumerate() {
        root.children.push(Dentry {
            name: format!("f{i}").encode_utf16().collect(),
            attributes: attr::NORMAL,
            security_id: -1,
            data: h,
            ..Dentry::default()
        });
    }
    w.add_image(
        &Image {
            security: SecurityData::default(),
            root,
        },
        Element::new("IMAGE"),
    )
    .expect("image");
    w.finish(0).expect("finish");
    let wim = Wim::open(&path).expect("open");
    for blob in [&text[..], &noise[..], &text[..100_000]] {
        let got = wim
            .open_blob(&Sha1::of(blob), true)
            .expect("blob")
            .read_all()
            .expect("read");
        assert_eq!(got, blob);
    }
    let stored = wim.blobs.get(&b).expect("listed");
    assert!(!stored.entry.resource.is_compressed());
    assert_eq!(stored.entry.resource.stored_size, noise.len() as u64);
}
