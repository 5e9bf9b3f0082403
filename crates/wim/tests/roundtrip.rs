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
    prop::collection::vec(prop_oneof![0x20u16..0x7f, 0xa0u16..0xd7ff, 0xe000u16..0xfffd], 1..20)
}

fn leaf() -> impl Strategy<Value = Dentry> {
    (name(), any::<[u8; 20]>(), any::<u64>(), any::<bool>(), any::<bool>(), any::<u32>(), 0u64..4).prop_map(
        |(name, h, t, link, unix, mode, group)| {
            let mut d = Dentry {
                name,
                attributes: attr::NORMAL,
                security_id: -1,
                last_write_time: t,
                creation_time: t / 2,
                last_access_time: t / 3,
                data: Sha1(h),
                hard_link_group: group,
                unix: unix.then_some(UnixData { uid: mode, gid: mode / 7, mode, rdev: 0 }),
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
        },
    )
}

fn tree() -> impl Strategy<Value = Dentry> {
    leaf().prop_recursive(4, 64, 8, |inner| {
        (name(), prop::collection::vec(inner, 0..8)).prop_map(|(name, children)| {
            let mut seen = std::collections::HashSet::new();
            let children = children.into_iter().filter(|c| seen.insert(c.name.clone())).collect();
            Dentry { name, attributes: attr::DIRECTORY, security_id: -1, children, ..Dentry::default() }
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
