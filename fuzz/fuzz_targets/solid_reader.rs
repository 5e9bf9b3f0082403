//! Fuzzes the solid-resource reader: a small valid solid WIM (two solid resources in one run
//! of the blob table, LZMS, XPRESS or LZX chunks, written once per process by our writer) is
//! damaged by the input's patches, then opened and every blob read (one by one, and streamed
//! as apply reads them) and verified. Random bytes would almost never reach the solid code;
//! patches to a valid file reach its header, chunk table, chunks and blob table entries. Any
//! error is fine; a panic, hang or huge allocation is not.
//!
//! Input: byte 0 chooses the template's compression; then 3-byte patches, each a u16 position
//! (little-endian, modulo the template's length) and the byte to store there.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tsmedia_codecs::Format;
use tsmedia_wim::dentry::{Dentry, attr};
use tsmedia_wim::read::stream::{StreamOptions, stream_blobs};
use tsmedia_wim::security::SecurityData;
use tsmedia_wim::write::NoProgress;
use tsmedia_wim::xml::Element;
use tsmedia_wim::{Image, SolidOptions, Wim, WimWriter, WriteOptions, ops};

/// Bytes read per blob at most.
const BLOB_CAP: u64 = 1 << 20;

fn scratch_dir() -> PathBuf {
    if Path::new("/dev/shm").is_dir() {
        "/dev/shm".into()
    } else {
        std::env::temp_dir()
    }
}

/// Blob contents: text, a run, pseudo-random bytes; several per image.
fn blobs(seed: u32) -> Vec<Vec<u8>> {
    let mut x = seed.wrapping_mul(2_654_435_761) | 1;
    let mut random = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    };
    vec![
        b"solid resources pack many blobs together; ".repeat(40 + seed as usize),
        vec![0x5A; 3000],
        random(700),
        b"tiny".to_vec(),
    ]
}

fn image_of(hashes: &[tsmedia_wim::Sha1]) -> Image {
    let utf16 = |s: &str| s.encode_utf16().collect::<Vec<u16>>();
    let children = hashes
        .iter()
        .enumerate()
        .map(|(i, h)| Dentry {
            name: utf16(&format!("f{i}.txt")),
            attributes: attr::NORMAL,
            security_id: -1,
            data: *h,
            ..Dentry::default()
        })
        .collect();
    Image {
        security: SecurityData::default(),
        root: Dentry {
            attributes: attr::DIRECTORY,
            security_id: -1,
            children,
            ..Dentry::default()
        },
    }
}

/// The template WIM for a format, written once.
fn template(format: Format) -> &'static [u8] {
    static T: [OnceLock<Vec<u8>>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let (slot, chunk) = match format {
        Format::Xpress => (0, 4096),
        Format::Lzx => (1, 32768),
        _ => (2, 32768),
    };
    T[slot].get_or_init(|| {
        let path = scratch_dir().join(format!("tsmedia-fuzz-solid-template-{}-{slot}.wim", std::process::id()));
        let opts = WriteOptions {
            compression: Some(Format::Lzms),
            chunk_size: 1 << 17,
            threads: 1,
            guid: Some([7; 16]),
            timestamp: Some(0),
            solid: Some(SolidOptions {
                compression: Some(format),
                chunk_size: chunk,
                ..SolidOptions::default()
            }),
            ..WriteOptions::default()
        };
        let mut w = WimWriter::create(&path, opts).expect("template writer");
        for seed in [1u32, 2] {
            let data = blobs(seed);
            let hashes: Vec<_> = data
                .iter()
                .map(|d| {
                    w.write_blob(&mut &d[..], d.len() as u64, None, Path::new("t"))
                        .expect("template blob")
                })
                .collect();
            // The image's metadata closes the first solid resource: two resources, one run.
            w.add_image(&image_of(&hashes), Element::new("IMAGE"))
                .expect("template image");
        }
        w.finish(0).expect("template finish");
        let bytes = std::fs::read(&path).expect("template bytes");
        let _ = std::fs::remove_file(&path);
        bytes
    })
}

fn scratch() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| scratch_dir().join(format!("tsmedia-fuzz-solid-{}.wim", std::process::id())))
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, patches)) = data.split_first() else {
        return;
    };
    let format = match which % 3 {
        0 => Format::Lzms,
        1 => Format::Xpress,
        _ => Format::Lzx,
    };
    let mut wim_bytes = template(format).to_vec();
    let len = wim_bytes.len();
    for p in patches.chunks_exact(3) {
        let at = usize::from(u16::from_le_bytes([p[0], p[1]])) % len;
        wim_bytes[at] = p[2];
    }
    let path = scratch();
    if std::fs::write(path, &wim_bytes).is_err() {
        return;
    }
    let Ok(wim) = Wim::open(path) else { return };
    let hashes: Vec<_> = wim.blobs.keys().copied().collect();
    for h in &hashes {
        if let Ok(r) = wim.open_blob(h, true) {
            let mut sink = Vec::new();
            let _ = r.take(BLOB_CAP).read_to_end(&mut sink);
        }
    }
    let opts = StreamOptions {
        threads: 2,
        max_buffered: 1 << 20,
    };
    let _ = stream_blobs(&wim, &hashes, opts, |_, _| Ok(()));
    for i in 1..=wim.image_count().min(4) {
        let _ = ops::load_image(&wim, i);
    }
    let _ = ops::verify(&wim, &NoProgress);
});
