use std::io::{Read, Seek, SeekFrom, Write};

use tsmedia_codecs::Format;
use tsmedia_wim::blob_table::BlobEntry;
use tsmedia_wim::capture::{self, CaptureOptions};
use tsmedia_wim::header::HEADER_SIZE;
use tsmedia_wim::resource::{ResourceHeader, flags as rflags};
use tsmedia_wim::{Sha1, WimWriter, WriteOptions, ops};

use super::*;
use crate::layout::FAT32_MAX_FILE;

fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A WIM of `files` files of `size` bytes (plus a duplicate, an empty file and a text file).
pub(crate) fn sample_wim(
    dir: &Path,
    compression: Option<Format>,
    files: usize,
    size: usize,
) -> PathBuf {
    let tree = dir.join("tree");
    std::fs::create_dir_all(tree.join("sub")).unwrap();
    for i in 0..files {
        std::fs::write(tree.join(format!("sub/f{i}.bin")), noise(i as u64, size)).unwrap();
    }
    std::fs::write(tree.join("dup.bin"), noise(0, size)).unwrap();
    std::fs::write(tree.join("empty"), b"").unwrap();
    std::fs::write(tree.join("a.txt"), "text ".repeat(1000)).unwrap();
    let out = dir.join("sample.wim");
    let opts = WriteOptions {
        compression,
        threads: 1,
        ..WriteOptions::default()
    };
    let mut w = WimWriter::create(&out, opts).unwrap();
    capture::capture(
        &tree,
        &mut w,
        &CaptureOptions {
            name: Some("Sample".into()),
            ..CaptureOptions::default()
        },
    )
    .unwrap();
    w.finish(1).unwrap();
    out
}

fn read_source(s: &PartSource) -> Vec<u8> {
    let mut v = Vec::new();
    s.open().unwrap().read_to_end(&mut v).unwrap();
    v
}

#[test]
fn parts_equal_the_wim_engines_split() {
    for compression in [None, Some(Format::Xpress), Some(Format::Lzx)] {
        let dir = tempfile::tempdir().unwrap();
        let wim = sample_wim(dir.path(), compression, 12, 40_000);
        let limit = 120_000;
        let layout = plan(&wim, &|_| limit).unwrap();
        let w = Wim::open(&wim).unwrap();
        let names = ops::split(&w, &dir.path().join("ref.swm"), limit).unwrap();
        assert!(names.len() >= 3, "{compression:?}: {names:?}");
        assert_eq!(layout.parts.len(), names.len(), "{compression:?}");
        for (p, name) in layout.parts.iter().zip(&names) {
            let want = std::fs::read(name).unwrap();
            let got = read_source(&layout.source_of(p.number).unwrap());
            assert_eq!(got.len() as u64, p.size);
            assert!(got == want, "{compression:?}: part {} differs", p.number);
            assert!(p.size <= limit);
        }
        // Few pieces: adjacent source ranges are merged.
        assert!(layout.parts.iter().all(|p| p.pieces.len() <= 5));
        // The reference reads the parts (equal to ours) as one WIM.
        wimlib_verify(&names);
    }
}

/// `wimlib-imagex verify FIRST --ref=GLOB` over parts `ref.swm`, `ref2.swm`, ...
fn wimlib_verify(parts: &[PathBuf]) {
    let exe = ["/usr/bin/wimlib-imagex", "/bin/wimlib-imagex"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("wimlib-imagex is missing: install the Debian package `wimtools`");
    let glob = parts[0].with_file_name("ref*.swm");
    let out = std::process::Command::new(exe)
        .arg("verify")
        .arg(&parts[0])
        .arg(format!("--ref={}", glob.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "wimlib-imagex verify: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn each_part_may_have_its_own_limit() {
    let dir = tempfile::tempdir().unwrap();
    let wim = sample_wim(dir.path(), None, 10, 30_000);
    let limits = |i: usize| if i == 0 { 50_000 } else { 150_000 };
    let layout = plan(&wim, &limits).unwrap();
    for (i, p) in layout.parts.iter().enumerate() {
        assert!(p.size <= limits(i), "part {} is {} bytes", p.number, p.size);
    }
    assert!(layout.parts[0].size < 50_000);
    assert!(layout.parts[1].size > 50_000);
    // Read back through the WIM engine: every part opens, all together they verify.
    let mut paths = Vec::new();
    for p in &layout.parts {
        let path = dir.path().join(part_dest("x/install.wim", p.number));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, read_source(&layout.source_of(p.number).unwrap())).unwrap();
        paths.push(path);
    }
    let mut w = Wim::open(&paths[0]).unwrap();
    for p in &paths[1..] {
        w.add_ref(p).unwrap();
    }
    w.check_parts().unwrap();
    let report = ops::verify(&w, &tsmedia_wim::write::NoProgress).unwrap();
    assert_eq!(report.images, 1);
    let joined = dir.path().join("joined.wim");
    ops::join(&joined, &paths).unwrap();
    let j = Wim::open(&joined).unwrap();
    let src = Wim::open(&wim).unwrap();
    assert_eq!(j.blobs.len(), src.blobs.len());
}

#[test]
fn part_names_follow_dism_and_wimlib() {
    assert_eq!(
        part_dest("SMS/PKG/P1/install.wim", 1),
        "SMS/PKG/P1/install.swm"
    );
    assert_eq!(
        part_dest("SMS/PKG/P1/install.wim", 2),
        "SMS/PKG/P1/install2.swm"
    );
    assert_eq!(
        part_dest("SMS/PKG/P1/os/Big.WIM", 12),
        "SMS/PKG/P1/os/Big12.swm"
    );
    assert_eq!(part_dest("noext", 3), "noext3.swm");
    assert_eq!(part_dest(".wim", 1), ".wim.swm");
}

#[test]
fn refusals_say_why_splitting_cannot_help() {
    let dir = tempfile::tempdir().unwrap();
    let wim = sample_wim(dir.path(), None, 3, 100_000);
    match plan(&wim, &|_| 60_000) {
        Err(SplitRefusal::ResourceTooLarge { size, limit }) => {
            assert_eq!((size, limit), (100_000, 60_000));
        }
        other => panic!("{other:?}"),
    }
    let not = dir.path().join("not.wim");
    std::fs::write(&not, b"not a wim at all").unwrap();
    assert!(matches!(
        plan(&not, &|_| 1 << 20),
        Err(SplitRefusal::NotAWim(_))
    ));
    let w = Wim::open(&wim).unwrap();
    let parts = ops::split(&w, &dir.path().join("p.swm"), 150_000).unwrap();
    assert!(parts.len() > 1);
    assert_eq!(
        plan(&parts[0], &|_| 1 << 20),
        Err(SplitRefusal::AlreadySplit)
    );
    let text = SplitRefusal::Solid.to_string();
    assert!(text.contains("solid"), "{text}");
}

/// An uncompressed WIM whose blobs are holes of a sparse file: `sizes` bytes each, past the
/// metadata of a tiny real image. Only the header, metadata, blob table and XML are written.
pub(crate) fn sparse_wim(dir: &Path, sizes: &[u64]) -> PathBuf {
    let small = sample_wim(dir, None, 1, 10);
    let src = Wim::open(&small).unwrap();
    let meta = src.metadata[0];
    let mut meta_bytes = vec![0u8; meta.resource.stored_size as usize];
    let mut f = File::open(&small).unwrap();
    f.seek(SeekFrom::Start(meta.resource.offset)).unwrap();
    f.read_exact(&mut meta_bytes).unwrap();

    let path = dir.join("huge.wim");
    let mut out = File::create(&path).unwrap();
    let mut pos = HEADER_SIZE as u64;
    out.seek(SeekFrom::Start(pos)).unwrap();
    out.write_all(&meta_bytes).unwrap();
    let mut table = Vec::new();
    BlobEntry {
        resource: ResourceHeader {
            offset: pos,
            ..meta.resource
        },
        ..meta
    }
    .write_to(&mut table);
    pos += meta_bytes.len() as u64;
    for (i, &size) in sizes.iter().enumerate() {
        let mut sha = [0u8; 20];
        sha[0] = i as u8 + 1;
        BlobEntry {
            resource: ResourceHeader {
                stored_size: size,
                flags: 0,
                offset: pos,
                uncompressed_size: size,
            },
            part_number: 1,
            ref_count: 1,
            sha1: Sha1(sha),
        }
        .write_to(&mut table);
        pos += size;
    }
    let xml = tsmedia_wim::xml::to_bytes(&src.xml);
    out.seek(SeekFrom::Start(pos)).unwrap();
    out.write_all(&table).unwrap();
    out.write_all(&xml).unwrap();
    let mut h = src.header.clone();
    h.blob_table = ResourceHeader {
        stored_size: table.len() as u64,
        flags: rflags::METADATA,
        offset: pos,
        uncompressed_size: table.len() as u64,
    };
    h.xml_data = ResourceHeader {
        stored_size: xml.len() as u64,
        flags: rflags::METADATA,
        offset: pos + table.len() as u64,
        uncompressed_size: xml.len() as u64,
    };
    h.boot_metadata = ResourceHeader {
        offset: HEADER_SIZE as u64,
        ..meta.resource
    };
    out.seek(SeekFrom::Start(0)).unwrap();
    out.write_all(&h.to_bytes()).unwrap();
    path
}

#[test]
fn a_wim_over_4_gib_is_planned_as_fat32_parts_without_writing_it() {
    let dir = tempfile::tempdir().unwrap();
    let gib = 1u64 << 30;
    let wim = sparse_wim(
        dir.path(),
        &[3 * gib / 2, 3 * gib / 2, 3 * gib / 2, gib / 4],
    );
    let len = std::fs::metadata(&wim).unwrap().len();
    assert!(len > FAT32_MAX_FILE, "{len}");
    let layout = plan(&wim, &|_| FAT32_MAX_FILE).unwrap();
    assert_eq!(layout.parts.len(), 2);
    assert!(layout.parts.iter().all(|p| p.size <= FAT32_MAX_FILE));
    // Every byte of the source but its own table and XML is in exactly one part.
    let data: u64 = layout
        .parts
        .iter()
        .flat_map(|p| &p.pieces)
        .map(|p| match p {
            Piece::Copy { len, .. } => *len,
            Piece::Bytes(_) => 0,
        })
        .sum();
    assert_eq!(
        data,
        3 * (3 * gib / 2) + gib / 4 + Wim::open(&wim).unwrap().metadata[0].resource.stored_size
    );
    // The header of part 2 reads back as part 2 of 2 (only its generated bytes are read).
    let Piece::Bytes(h) = &layout.parts[1].pieces[0] else {
        panic!("a part starts with its header")
    };
    let h = tsmedia_wim::header::Header::parse(h).unwrap();
    assert_eq!((h.part_number, h.total_parts), (2, 2));
    assert!(h.is_spanned());
}
