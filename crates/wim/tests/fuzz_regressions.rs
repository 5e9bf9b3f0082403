//! Inputs that once crashed (panicked, overflowed or allocated without bound in) the reader,
//! found by the `fuzz/` targets or while writing them. Each must now be a clean error.

use std::path::Path;
use tsmedia_wim::blob_table::{BlobEntry, SOLID_RESOURCE_MAGIC};
use tsmedia_wim::dentry::{Dentry, attr};
use tsmedia_wim::header::Header;
use tsmedia_wim::metadata::Image;
use tsmedia_wim::resource::{ResourceHeader, flags as rflags};
use tsmedia_wim::xml::Element;
use tsmedia_wim::{Error, Sha1, Wim, WimWriter, WriteOptions, ops};

/// A raw dentry: fixed part, name, padded to 8 bytes; `subdir` and `extra` (stream count) as given.
fn raw_dentry(name: &str, attributes: u32, subdir: u64, extra: u16) -> Vec<u8> {
    let units: Vec<u16> = name.encode_utf16().collect();
    let mut d = vec![0u8; 102];
    d[8..12].copy_from_slice(&attributes.to_le_bytes());
    d[12..16].copy_from_slice(&(-1i32).to_le_bytes());
    d[0x10..0x18].copy_from_slice(&subdir.to_le_bytes());
    d[0x60..0x62].copy_from_slice(&extra.to_le_bytes());
    d[0x64..0x66].copy_from_slice(&((units.len() * 2) as u16).to_le_bytes());
    if !units.is_empty() {
        d.extend(units.iter().flat_map(|u| u.to_le_bytes()));
        d.extend_from_slice(&[0, 0]);
    }
    d.resize(d.len().div_ceil(8) * 8, 0);
    let len = d.len() as u64;
    d[..8].copy_from_slice(&len.to_le_bytes());
    d
}

/// Empty security data (8 bytes) then `rest`.
fn metadata(rest: &[u8]) -> Vec<u8> {
    let mut m = vec![8, 0, 0, 0, 0, 0, 0, 0];
    m.extend_from_slice(rest);
    m
}

fn expect_bad_metadata(data: &[u8], needle: &str) {
    match Image::parse(data, 1) {
        Err(e @ Error::BadMetadata { .. }) => assert!(e.to_string().contains(needle), "{e}"),
        other => panic!("expected BadMetadata containing {needle:?}, got {other:?}"),
    }
}

#[test]
fn dentry_length_near_u64_max_does_not_overflow() {
    let mut root = raw_dentry("", attr::DIRECTORY, 0, 0);
    root[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    expect_bad_metadata(
        &metadata(&root),
        "dentry length 18446744073709551615 is invalid",
    );
}

#[test]
fn stream_entry_length_near_u64_max_does_not_overflow() {
    let root = raw_dentry("", attr::DIRECTORY, 0, 1);
    let mut stream = vec![0u8; 40];
    stream[..8].copy_from_slice(&(u64::MAX - 3).to_le_bytes());
    let mut m = metadata(&root);
    m.extend_from_slice(&stream);
    expect_bad_metadata(&m, "stream entry length");
}

/// Directories whose child lists start at different points of one shared list: a few hundred
/// bytes per directory once expanded into a tree quadratic in the input size.
#[test]
fn overlapping_dentry_lists_are_refused() {
    let k = 200;
    let fixed = 8 + raw_dentry("", attr::DIRECTORY, 0, 0).len() + 8; // security, root, end of list
    let dir_len = raw_dentry("d000", attr::DIRECTORY, 0, 0).len();
    let file_len = raw_dentry("f000", attr::NORMAL, 0, 0).len();
    let list = fixed as u64;
    let files_at = list + (k * dir_len) as u64;
    let mut rest = raw_dentry("", attr::DIRECTORY, list, 0);
    rest.extend_from_slice(&[0; 8]);
    for i in 0..k {
        rest.extend(raw_dentry(
            &format!("d{i:03}"),
            attr::DIRECTORY,
            files_at + (i * file_len) as u64,
            0,
        ));
    }
    for i in 0..k {
        rest.extend(raw_dentry(&format!("f{i:03}"), attr::NORMAL, 0, 0));
    }
    rest.extend_from_slice(&[0; 8]);
    expect_bad_metadata(&metadata(&rest), "dentry lists overlap");
}

fn options() -> WriteOptions {
    WriteOptions {
        compression: None,
        chunk_size: 0,
        threads: 1,
        guid: Some([3; 16]),
        timestamp: Some(0),
        ..WriteOptions::default()
    }
}

/// A valid uncompressed WIM with one file holding `data`; returns its bytes.
fn small_wim(dir: &Path, data: &[u8]) -> Vec<u8> {
    let path = dir.join("base.wim");
    let mut w = WimWriter::create(&path, options()).expect("create");
    let h = w
        .write_blob(&mut &data[..], data.len() as u64, None, Path::new("data"))
        .expect("blob");
    let file = Dentry {
        name: "f".encode_utf16().collect(),
        attributes: attr::NORMAL,
        security_id: -1,
        data: h,
        ..Dentry::default()
    };
    let root = Dentry {
        attributes: attr::DIRECTORY,
        security_id: -1,
        children: vec![file],
        ..Dentry::default()
    };
    w.add_image(
        &Image {
            security: Default::default(),
            root,
        },
        Element::new("IMAGE"),
    )
    .expect("image");
    w.finish(0).expect("finish");
    std::fs::read(&path).expect("read back")
}

/// Replaces the blob table with `entries`, appended at the end of the file.
fn with_blob_table(mut b: Vec<u8>, entries: &[BlobEntry]) -> Vec<u8> {
    let mut h = Header::parse(&b[..208]).expect("header");
    let mut table = Vec::new();
    for e in entries {
        e.write_to(&mut table);
    }
    h.blob_table = ResourceHeader {
        stored_size: table.len() as u64,
        flags: rflags::METADATA,
        offset: b.len() as u64,
        uncompressed_size: table.len() as u64,
    };
    b.extend_from_slice(&table);
    b[..208].copy_from_slice(&h.to_bytes());
    b
}

fn table_of(b: &[u8]) -> Vec<BlobEntry> {
    let h = Header::parse(&b[..208]).expect("header");
    let t =
        &b[h.blob_table.offset as usize..(h.blob_table.offset + h.blob_table.stored_size) as usize];
    tsmedia_wim::blob_table::parse_table(t, h.blob_table.offset).expect("table")
}

/// A solid resource whose header claims `2^62 - 1` one-byte chunks: `4 × chunks + 16` overflowed.
#[test]
fn solid_chunk_table_size_does_not_overflow() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = b"0123456789abcdef0123456789abcdef";
    let mut b = small_wim(dir.path(), data);
    let entries = table_of(&b);
    let blob = *entries
        .iter()
        .find(|e| e.sha1 == Sha1::of(data))
        .expect("blob");
    let meta = *entries
        .iter()
        .find(|e| e.resource.is_metadata())
        .expect("metadata");
    // The blob's 32 bytes become a solid resource header: size, chunk size 1, no compression.
    let at = blob.resource.offset as usize;
    b[at..at + 8].copy_from_slice(&((1u64 << 62) - 1).to_le_bytes());
    b[at + 8..at + 12].copy_from_slice(&1u32.to_le_bytes());
    b[at + 12..at + 16].copy_from_slice(&0u32.to_le_bytes());
    let run = BlobEntry {
        resource: ResourceHeader {
            flags: rflags::SOLID,
            uncompressed_size: SOLID_RESOURCE_MAGIC,
            ..blob.resource
        },
        sha1: Sha1::ZERO,
        ..blob
    };
    let member = BlobEntry {
        resource: ResourceHeader {
            stored_size: 32,
            flags: rflags::SOLID,
            offset: 0,
            uncompressed_size: 32,
        },
        ..blob
    };
    let b = with_blob_table(b, &[meta, run, member]);
    let path = dir.path().join("solid.wim");
    std::fs::write(&path, &b).expect("write");
    let wim = Wim::open(&path).expect("the tables are consistent");
    match wim.open_blob(&blob.sha1, true).and_then(|r| r.read_all()) {
        Err(e @ Error::BadResource { .. }) => {
            assert!(e.to_string().contains("solid chunk table"), "{e}")
        }
        other => panic!("expected BadResource, got {other:?}"),
    }
    assert!(ops::verify(&wim, &tsmedia_wim::write::NoProgress).is_err());
}

/// A compressed blob claiming `u64::MAX` bytes in 1-byte chunks: `8 × (chunks - 1)` overflowed,
/// and a chunk size beyond the format's range sized the decompression buffer.
#[test]
fn chunk_size_outside_the_format_range_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = vec![b'q'; 100];
    let b = small_wim(dir.path(), &data);
    let mut entries = table_of(&b);
    for (chunk_size, size) in [
        (1u32, u64::MAX),
        (1 << 31, 1 << 31),
        (0, 100),
        (3 << 12, 100),
    ] {
        for e in entries.iter_mut().filter(|e| e.sha1 == Sha1::of(&data)) {
            e.resource.flags |= rflags::COMPRESSED;
            e.resource.uncompressed_size = size;
        }
        let mut b = with_blob_table(b.clone(), &entries);
        let mut h = Header::parse(&b[..208]).expect("header");
        h.flags |=
            tsmedia_wim::header::flags::COMPRESSION | tsmedia_wim::header::flags::COMPRESS_XPRESS;
        h.chunk_size = chunk_size;
        b[..208].copy_from_slice(&h.to_bytes());
        let path = dir.path().join("chunks.wim");
        std::fs::write(&path, &b).expect("write");
        // The metadata resource is uncompressed: the WIM opens and the image loads.
        let wim = Wim::open(&path).expect("open");
        ops::load_image(&wim, 1).expect("uncompressed metadata still loads");
        match wim.open_blob(&Sha1::of(&data), true) {
            Err(e @ Error::BadResource { .. }) => {
                assert!(
                    e.to_string()
                        .contains(&format!("invalid chunk size {chunk_size}")),
                    "{e}"
                )
            }
            Err(other) => panic!("chunk size {chunk_size}: expected BadResource, got {other}"),
            Ok(_) => panic!("chunk size {chunk_size}: opened"),
        }
    }
}

/// An integrity table claiming one 4 GiB chunk: the hash buffer was sized by the claim.
#[test]
fn integrity_chunk_larger_than_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut b = small_wim(dir.path(), b"integrity");
    let mut h = Header::parse(&b[..208]).expect("header");
    let mut t = Vec::new();
    t.extend_from_slice(&32u32.to_le_bytes());
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(&u32::MAX.to_le_bytes());
    t.extend_from_slice(&[0xAB; 20]);
    h.integrity = ResourceHeader {
        stored_size: 32,
        flags: 0,
        offset: b.len() as u64,
        uncompressed_size: 32,
    };
    b.extend_from_slice(&t);
    b[..208].copy_from_slice(&h.to_bytes());
    let path = dir.path().join("integrity.wim");
    std::fs::write(&path, &b).expect("write");
    let wim = Wim::open(&path).expect("open");
    match ops::verify(&wim, &tsmedia_wim::write::NoProgress) {
        Err(Error::Integrity { chunk: 0, .. }) => {}
        other => panic!("expected an integrity mismatch, got {other:?}"),
    }
}

/// Writes the fuzzers' seed inputs to `fuzz/seeds/` (a few KB, committed):
/// `cargo test -p tsmedia-wim --test fuzz_regressions -- --ignored generate_fuzz_seeds`.
#[test]
#[ignore = "generates fuzz/seeds; run by hand"]
fn generate_fuzz_seeds() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds");
    let dir = tempfile::tempdir().expect("tempdir");
    let text: Vec<u8> = (0..600u32)
        .flat_map(|i| format!("{i} ").into_bytes())
        .collect();
    let link_target = tsmedia_wim::reparse::symlink_data("../f");
    for (name, compression) in [
        ("none", None),
        ("xpress", Some(tsmedia_codecs::Format::Xpress)),
    ] {
        let path = dir.path().join(format!("{name}.wim"));
        let opts = WriteOptions {
            compression,
            chunk_size: if compression.is_some() { 4096 } else { 0 },
            ..options()
        };
        let mut w = WimWriter::create(&path, opts).expect("create");
        let mut hash = |d: &[u8]| {
            w.write_blob(&mut &d[..], d.len() as u64, None, Path::new("seed"))
                .expect("blob")
        };
        let (t, small, rp) = (hash(&text), hash(b"hi"), hash(&link_target));
        let file = |n: &str, data: Sha1| Dentry {
            name: n.encode_utf16().collect(),
            attributes: attr::NORMAL,
            security_id: 0,
            data,
            ..Dentry::default()
        };
        let mut ads = file("ads", small);
        ads.named_streams
            .push(("s".encode_utf16().collect(), small));
        ads.hard_link_group = 7;
        let link = Dentry {
            name: "l".encode_utf16().collect(),
            attributes: attr::REPARSE_POINT,
            reparse_tag: tsmedia_wim::dentry::IO_REPARSE_TAG_SYMLINK,
            reparse_data: rp,
            security_id: -1,
            ..Dentry::default()
        };
        let sub = Dentry {
            name: "d".encode_utf16().collect(),
            attributes: attr::DIRECTORY,
            security_id: -1,
            children: vec![file("t", t), ads],
            ..Dentry::default()
        };
        let root = Dentry {
            attributes: attr::DIRECTORY,
            security_id: 0,
            children: vec![sub, link, file("e", Sha1::ZERO)],
            ..Dentry::default()
        };
        let security = tsmedia_wim::security::SecurityData {
            descriptors: vec![vec![
                1, 0, 4, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 2, 0, 8, 0, 0, 0,
                0, 0,
            ]],
        };
        let image = Image { security, root };
        if compression.is_none() {
            std::fs::create_dir_all(seeds.join("dentry_tree")).expect("mkdir");
            std::fs::write(seeds.join("dentry_tree/image.bin"), image.to_bytes())
                .expect("write seed");
        }
        w.add_image(&image, Element::new("IMAGE")).expect("image");
        w.finish(0).expect("finish");
        std::fs::create_dir_all(seeds.join("wim_reader")).expect("mkdir");
        std::fs::copy(&path, seeds.join(format!("wim_reader/{name}.wim"))).expect("copy seed");
    }
}

/// XML data nested 100,000 deep: converting it recursively overflowed the stack.
#[test]
fn deeply_nested_xml_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut b = small_wim(dir.path(), b"xml");
    let depth = 100_000;
    let xml = format!(
        "\u{feff}<WIM><IMAGE INDEX=\"1\">{}{}</IMAGE></WIM>",
        "<X>".repeat(depth),
        "</X>".repeat(depth)
    );
    let bytes: Vec<u8> = xml.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    let mut h = Header::parse(&b[..208]).expect("header");
    h.xml_data = ResourceHeader {
        stored_size: bytes.len() as u64,
        flags: rflags::METADATA,
        offset: b.len() as u64,
        uncompressed_size: bytes.len() as u64,
    };
    b.extend_from_slice(&bytes);
    b[..208].copy_from_slice(&h.to_bytes());
    let path = dir.path().join("deep-xml.wim");
    std::fs::write(&path, &b).expect("write");
    match Wim::open(&path) {
        Err(e @ Error::XmlDepth { .. }) => assert!(e.to_string().contains("nested deeper"), "{e}"),
        Err(other) => panic!("expected BadXml, got {other}"),
        Ok(_) => panic!("opened"),
    }
}

/// Found by `fuzz/wim_reader`: blob sizes in the table summing past `u64::MAX` overflowed the
/// progress total of `verify` (and of `apply`).
#[test]
fn blob_sizes_summing_past_u64_max() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sizes.wim");
    let (one, two) = (b"first blob".as_slice(), b"second blob".as_slice());
    let mut w = WimWriter::create(&path, options()).expect("create");
    let mut children = Vec::new();
    for (name, data) in [("a", one), ("b", two)] {
        let h = w
            .write_blob(&mut &data[..], data.len() as u64, None, Path::new(name))
            .expect("blob");
        children.push(Dentry {
            name: name.encode_utf16().collect(),
            attributes: attr::NORMAL,
            security_id: -1,
            data: h,
            ..Dentry::default()
        });
    }
    let root = Dentry {
        attributes: attr::DIRECTORY,
        security_id: -1,
        children,
        ..Dentry::default()
    };
    w.add_image(
        &Image {
            security: Default::default(),
            root,
        },
        Element::new("IMAGE"),
    )
    .expect("image");
    w.finish(0).expect("finish");
    let b = std::fs::read(&path).expect("read");
    let mut entries = table_of(&b);
    for e in entries.iter_mut().filter(|e| !e.resource.is_metadata()) {
        e.resource.flags |= rflags::COMPRESSED;
        e.resource.uncompressed_size = 1 << 63;
    }
    std::fs::write(&path, with_blob_table(b, &entries)).expect("write");
    let wim = Wim::open(&path).expect("open");
    match ops::verify(&wim, &tsmedia_wim::write::NoProgress) {
        Err(Error::BadResource { .. }) => {}
        other => panic!("expected BadResource, got {other:?}"),
    }
    let target = dir.path().join("target");
    let opts = tsmedia_wim::apply::ApplyOptions::default();
    assert!(tsmedia_wim::apply::apply(&wim, 1, &target, &opts).is_err());
    // Export copies the blobs verbatim (same compression), trusting their sizes for TOTALBYTES.
    let out = dir.path().join("exported.wim");
    let opts = ops::inherit_options(&wim, options(), false).expect("options");
    ops::export(&wim, &[1], &out, opts, false).expect("export copies verbatim");
    let exported = Wim::open(&out).expect("open export");
    assert_eq!(
        exported.image_xml(1).and_then(|e| e.get("TOTALBYTES")),
        Some(u64::MAX.to_string().as_str())
    );
}

/// Found by `fuzz/dentry_tree` (crash-b38d957e, 427 bytes): a child dentry whose length is near
/// `u64::MAX` overflowed `offset + length`.
#[test]
fn fuzz_dentry_tree_crash_b38d957e() {
    const HEX: [&str; 9] = [
        "30000000010000001c000000000000000100048000000000000000000000000019000000020008ffffffffffffffffff",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "ffffffffffffffffffffffffffffffffff00000000000000000068000000000000001000000000000000a00000000000",
        "0000000000000000000000000000000000000000000000000000000000000000000000000000000071b9336b3b040000",
        "16a4e0bb86566a53dd1ed043827e51b40000000028000000000000000000000000000000000000000000000000000000",
        "000000000000000000000000700000000000008000000000000000000000000000000000000000000000000000000000",
        "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        "00000000000000020065000000000000342609428d6f51b2c7af4c0bde6a420000000030000000000000000000000000",
        "000000c22b5f9178342609428d6f51b2c5af4c0bde6a420200730000000000000000000000000000000000",
    ];
    let hex: String = HEX.concat();
    let data: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect();
    assert_eq!(data.len(), 427);
    expect_bad_metadata(&data, "is invalid");
}
