//! Short reads: a capture source that returns a few bytes at a time (and is sometimes
//! interrupted) must give the same WIM as one that returns everything at once, and a source that
//! ends early or runs long must be refused with [`Error::Source`] naming it.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use tsmedia_codecs::Format;
use tsmedia_wim::dentry::{Dentry, attr};
use tsmedia_wim::metadata::Image;
use tsmedia_wim::xml::Element;
use tsmedia_wim::{Error, Sha1, Wim, WimWriter, WriteOptions, ops};

/// Returns 1–7 bytes per `read`, and `Interrupted` every so often, from a pseudo-random walk.
struct Trickle<'a> {
    data: &'a [u8],
    pos: usize,
    state: u32,
}

impl<'a> Trickle<'a> {
    fn new(data: &'a [u8], seed: u32) -> Self {
        Trickle {
            data,
            pos: 0,
            state: seed | 1,
        }
    }

    fn next(&mut self) -> u32 {
        // xorshift32
        self.state ^= self.state << 13;
        self.state ^= self.state >> 17;
        self.state ^= self.state << 5;
        self.state
    }
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let r = self.next();
        if r.is_multiple_of(11) {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "signal"));
        }
        let n = (1 + r % 7) as usize;
        let n = n.min(buf.len()).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn contents() -> Vec<(String, Vec<u8>)> {
    let text: Vec<u8> = (0..100_000u32)
        .flat_map(|i| format!("line {} of a log\n", i % 977).into_bytes())
        .collect();
    let mut noise = vec![0u8; 9000];
    let mut s = 0x1234_5678u32;
    for b in &mut noise {
        s = s.wrapping_mul(1_103_515_245).wrapping_add(12345);
        *b = (s >> 24) as u8;
    }
    [
        ("empty", Vec::new()),
        ("one", b"x".to_vec()),
        ("seven", b"1234567".to_vec()),
        ("chunk-1", vec![b'a'; 4095]),
        ("chunk", vec![b'b'; 4096]),
        ("chunk+1", vec![b'c'; 4097]),
        ("noise", noise),
        ("text", text[..200_000].to_vec()),
    ]
    .into_iter()
    .map(|(n, d)| (n.to_string(), d))
    .collect()
}

fn options(compression: Option<Format>) -> WriteOptions {
    WriteOptions {
        compression,
        chunk_size: if compression.is_some() { 4096 } else { 0 },
        threads: 2,
        guid: Some([7; 16]),
        timestamp: Some(0),
        ..WriteOptions::default()
    }
}

fn file(name: &str, data: Sha1) -> Dentry {
    Dentry {
        name: name.encode_utf16().collect(),
        attributes: attr::NORMAL,
        security_id: -1,
        data,
        ..Dentry::default()
    }
}

/// Writes every content through a `Trickle` and checks the WIM reads back identically.
fn round_trip(compression: Option<Format>, seed: u32) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.wim");
    let mut w = WimWriter::create(&path, options(compression)).expect("create");
    let mut root = Dentry {
        attributes: attr::DIRECTORY,
        security_id: -1,
        ..Dentry::default()
    };
    let files = contents();
    for (i, (name, data)) in files.iter().enumerate() {
        let mut src = Trickle::new(data, seed.wrapping_add(i as u32));
        let h = w
            .write_blob(&mut src, data.len() as u64, None, Path::new(name))
            .expect("write_blob");
        let expected = if data.is_empty() {
            Sha1::ZERO
        } else {
            Sha1::of(data)
        };
        assert_eq!(h, expected, "{name}: hash of a trickled source");
        root.children.push(file(name, h));
    }
    root.sort_children();
    w.add_image(
        &Image {
            security: Default::default(),
            root,
        },
        Element::new("IMAGE"),
    )
    .expect("add_image");
    w.finish(0).expect("finish");

    let wim = Wim::open(&path).expect("open");
    ops::verify(&wim, &tsmedia_wim::write::NoProgress).expect("verify");
    let img = ops::load_image(&wim, 1).expect("load image");
    assert_eq!(img.root.children.len(), files.len());
    for (name, data) in &files {
        let d = img
            .root
            .children
            .iter()
            .find(|c| c.name_lossy() == *name)
            .expect("file in image");
        let back = if d.data.is_zero() {
            Vec::new()
        } else {
            // Read it back a few bytes at a time too.
            let mut r = wim.open_blob(&d.data, true).expect("open blob");
            let mut out = Vec::new();
            let mut buf = [0u8; 5];
            loop {
                let n = r.read(&mut buf).expect("read blob");
                if n == 0 {
                    break;
                }
                out.extend_from_slice(&buf[..n]);
            }
            out
        };
        assert!(
            back == *data,
            "{name}: {} bytes read back, {} written",
            back.len(),
            data.len()
        );
    }
}

#[test]
fn trickled_sources_round_trip_uncompressed() {
    round_trip(None, 1);
}

#[test]
fn trickled_sources_round_trip_xpress() {
    round_trip(Some(Format::Xpress), 2);
}

/// A source that ends before (or runs past) its declared size is a `Source` error naming it.
fn wrong_length(compression: Option<Format>) {
    let data = vec![b'z'; 10_000];
    for (declared, what) in [
        (10_001u64, "ended after 10000 bytes"),
        (9_999, "grew beyond"),
        (20_000, "ended after"),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut w =
            WimWriter::create(&dir.path().join("t.wim"), options(compression)).expect("create");
        let name = PathBuf::from(format!("/src/declared-{declared}"));
        let err = w
            .write_blob(
                &mut Trickle::new(&data, declared as u32),
                declared,
                None,
                &name,
            )
            .expect_err("must fail");
        match &err {
            Error::Source { path, reason } => {
                assert_eq!(path, &name);
                assert!(
                    reason.contains(what),
                    "{compression:?} declared {declared}: {reason}"
                );
            }
            other => {
                panic!("{compression:?} declared {declared}: expected Error::Source, got {other:?}")
            }
        }
        let msg = err.to_string();
        assert!(
            msg.contains(&*name.to_string_lossy()),
            "message names the source: {msg}"
        );
    }
}

#[test]
fn wrong_length_sources_are_refused_uncompressed() {
    wrong_length(None);
}

#[test]
fn wrong_length_sources_are_refused_xpress() {
    wrong_length(Some(Format::Xpress));
}

/// A source that fails mid-way gives an `Io` error naming it.
#[test]
fn failing_source_is_an_io_error_naming_it() {
    struct Broken(usize);
    impl Read for Broken {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::other("disk on fire"));
            }
            let n = buf.len().min(self.0).min(3);
            buf[..n].fill(1);
            self.0 -= n;
            Ok(n)
        }
    }
    for compression in [None, Some(Format::Xpress)] {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut w =
            WimWriter::create(&dir.path().join("t.wim"), options(compression)).expect("create");
        let name = Path::new("/src/broken");
        match w.write_blob(&mut Broken(100), 5000, None, name) {
            Err(Error::Io { path, source }) => {
                assert_eq!(path, name);
                assert!(source.to_string().contains("disk on fire"));
            }
            other => panic!("{compression:?}: expected Error::Io, got {other:?}"),
        }
    }
}
