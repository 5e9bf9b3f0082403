//! Property round trips: metadata trees and blobs written, read back, compared.

use proptest::prelude::*;
use std::path::Path;
use tsmedia_codecs::Format;
use tsmedia_wim::dentry::{Dentry, IO_REPARSE_TAG_SYMLINK, UnixData, attr};
use tsmedia_wim::metadata::Image;
use tsmedia_wim::read::stream::{Piece, StreamError, StreamOptions, stream_blobs};
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
    let pattern = |seed: u8, len: usize| patterned(u32::from(seed), len);
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

/// Streams `hashes` from `wim` with the given threads and buffer bound; returns each blob's bytes
/// as delivered (in call order) and the error, if any.
fn stream(
    wim: &Wim,
    hashes: &[Sha1],
    threads: usize,
    max_buffered: usize,
) -> (Vec<(usize, Vec<u8>)>, Option<StreamError>) {
    let mut got: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut open = false;
    let opts = StreamOptions {
        threads,
        max_buffered,
    };
    let r = stream_blobs(wim, hashes, opts, |i, piece| {
        if !open {
            got.push((i, Vec::new()));
            open = true;
        }
        let last = got.last_mut().expect("pushed above");
        assert_eq!(last.0, i, "a blob's pieces come together");
        match piece {
            Piece::Data(d) => {
                assert!(!d.is_empty(), "data pieces are never empty");
                last.1.extend_from_slice(d);
            }
            Piece::End => open = false,
        }
        Ok(())
    });
    assert!(!open || r.is_err(), "every blob delivered ends with End");
    (got, r.err())
}

fn patterned(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761) | 1;
    (0..len)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if i % 4 == 0 {
                (x >> 24) as u8
            } else {
                b"wim "[i % 4]
            }
        })
        .collect()
}

#[test]
fn streamed_blobs_arrive_whole_and_in_order_for_any_window() {
    let sizes = [1usize, 32_767, 32_768, 100_000, 5, 300_001, 65_536, 7_000];
    let blobs: Vec<Vec<u8>> = sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| patterned(i as u32 + 1, n))
        .collect();
    let refs: Vec<&[u8]> = blobs.iter().map(|b| &b[..]).collect();
    let dir = tempfile::tempdir().expect("tempdir");
    for compression in [None, Some(Format::Xpress), Some(Format::Lzx)] {
        let path = dir.path().join("s.wim");
        write_unhashed(&path, &refs, compression);
        let wim = Wim::open(&path).expect("open");
        // A different order from the file's, and a missing blob at the end.
        let mut order: Vec<usize> = (0..blobs.len()).rev().collect();
        order.rotate_left(3);
        let mut hashes: Vec<Sha1> = order.iter().map(|&i| Sha1::of(&blobs[i])).collect();
        hashes.push(Sha1([0xab; 20]));
        for (threads, max_buffered) in [(1, 1), (2, 40_000), (3, 100_000), (4, 16 << 20)] {
            let (got, err) = stream(&wim, &hashes, threads, max_buffered);
            let what = format!("{compression:?}, {threads} threads, {max_buffered} buffered");
            assert_eq!(got.len(), blobs.len(), "{what}");
            for (k, (i, data)) in got.iter().enumerate() {
                assert_eq!(*i, k, "{what}");
                assert!(data == &blobs[order[k]], "{what}: blob {k} differs");
            }
            let err = err.expect("the missing blob fails");
            assert_eq!(err.blob, Some(blobs.len()), "{what}");
            assert!(
                matches!(err.error, tsmedia_wim::Error::MissingBlob { .. }),
                "{what}: {}",
                err.error
            );
        }
    }
}

#[test]
fn a_damaged_blob_fails_the_stream_at_that_blob_after_the_ones_before() {
    let blobs: Vec<Vec<u8>> = (0..5).map(|i| patterned(i + 10, 90_000)).collect();
    let refs: Vec<&[u8]> = blobs.iter().map(|b| &b[..]).collect();
    let dir = tempfile::tempdir().expect("tempdir");
    for compression in [None, Some(Format::Xpress), Some(Format::Lzx)] {
        let path = dir.path().join("d.wim");
        write_unhashed(&path, &refs, compression);
        let hashes: Vec<Sha1> = blobs.iter().map(|b| Sha1::of(b)).collect();
        let victim = Wim::open(&path).expect("open").blobs[&hashes[3]]
            .entry
            .resource;
        let mut bytes = std::fs::read(&path).expect("read");
        let at = (victim.offset + victim.stored_size / 2) as usize;
        bytes[at] ^= 0x55;
        std::fs::write(&path, &bytes).expect("write");
        let wim = Wim::open(&path).expect("open");
        for threads in [1, 2, 4] {
            let (got, err) = stream(&wim, &hashes, threads, 1 << 20);
            let err = err.expect("the damaged blob fails");
            assert_eq!(err.blob, Some(3), "{compression:?}: {}", err.error);
            assert!(
                got.iter().take(3).all(|(i, d)| d == &blobs[*i]),
                "{compression:?}: the blobs before the damage arrive whole"
            );
            assert!(
                got.len() <= 4,
                "{compression:?}: nothing after the damaged blob"
            );
        }
    }
}
