//! Each cause appears once in a printed chain: a variant either prints its cause or returns it
//! from `source()`, never both.

use super::Error;
use crate::sha1::Sha1;
use std::error::Error as StdError;
use std::io;
use std::path::PathBuf;

/// The `Display` of every error in the chain, outermost first.
fn chain(e: &(dyn StdError + 'static)) -> Vec<String> {
    let mut out = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(c) = cur {
        out.push(c.to_string());
        cur = c.source();
    }
    out
}

fn assert_no_repeat(e: Error) {
    let texts = chain(&e);
    for (i, outer) in texts.iter().enumerate() {
        for inner in &texts[i + 1..] {
            assert!(
                !outer.contains(inner.as_str()),
                "{outer:?} repeats its cause {inner:?} (chain {texts:?})"
            );
        }
    }
}

fn xml_error() -> roxmltree::Error {
    roxmltree::Document::parse("<WIM>").expect_err("an unclosed element does not parse")
}

#[test]
fn io_prints_the_path_and_leaves_the_cause_to_source() {
    let e = Error::Io {
        path: PathBuf::from("/tmp/x.wim"),
        source: io::Error::new(io::ErrorKind::PermissionDenied, "permission denied"),
    };
    assert_eq!(e.to_string(), "/tmp/x.wim");
    assert_eq!(chain(&e), ["/tmp/x.wim", "permission denied"]);
    assert_no_repeat(e);
}

#[test]
fn no_variant_with_a_source_prints_it() {
    let cases = [
        Error::Io {
            path: PathBuf::from("a.wim"),
            source: io::Error::other("disk on fire"),
        },
        Error::Decode {
            offset: 0x1000,
            chunk: 3,
            source: tsmedia_codecs::DecodeError::Truncated,
        },
        Error::Xml {
            source: xml_error(),
        },
        Error::Codec(tsmedia_codecs::CodecError::Unsupported(
            tsmedia_codecs::Format::Lzms,
        )),
    ];
    for e in cases {
        assert!(e.source().is_some(), "{e:?} has a source");
        assert_no_repeat(e);
    }
}

#[test]
fn self_contained_variants_have_no_source() {
    let h = Sha1::of(b"x");
    let cases = [
        Error::MissingBlob {
            sha1: h,
            user: Some("needed by /a".into()),
        },
        Error::HashMismatch {
            sha1: h,
            user: None,
            actual: Sha1::of(b"y"),
        },
        Error::NoSuchImage { index: 3, count: 2 },
        Error::MissingParts {
            missing: vec![2, 4],
            total: 4,
        },
        Error::TooShort { len: 10 },
    ];
    for e in cases {
        assert!(e.source().is_none(), "{e:?}");
    }
}

#[test]
fn an_error_wrapped_as_io_error_keeps_its_chain_once() {
    let inner = Error::Xml {
        source: xml_error(),
    };
    let wrapped: io::Error = inner.into();
    let texts = chain(&wrapped);
    // io::Error::new displays and sources its payload: print from the payload down.
    let payload = wrapped.get_ref().expect("custom io::Error has a payload");
    let below = chain(payload);
    assert_eq!(texts[0], below[0]);
    for (i, outer) in below.iter().enumerate() {
        for inner in &below[i + 1..] {
            assert!(!outer.contains(inner.as_str()), "{below:?}");
        }
    }
}

#[test]
fn messages_name_the_thing_and_its_context() {
    let h = Sha1::of(b"x");
    let table = [
        (
            Error::MissingBlob {
                sha1: h,
                user: Some("needed by /d/f.txt".into()),
            },
            format!("blob {h} (needed by /d/f.txt) is missing"),
        ),
        (
            Error::NoSuchImage { index: 3, count: 2 },
            "no image 3 in this WIM (it has 2 images)".into(),
        ),
        (
            Error::MissingParts {
                missing: vec![2, 4],
                total: 4,
            },
            "split WIM: part(s) 2, 4 of 4 missing".into(),
        ),
        (
            Error::TooShort { len: 10 },
            "file is 10 bytes, shorter than a WIM header".into(),
        ),
    ];
    for (e, want) in table {
        assert!(e.to_string().contains(&want), "{e} lacks {want:?}");
    }
}

#[test]
fn typed_reasons_print_what_and_where() {
    use super::{MetadataFault, ResourceFault};
    let table = [
        (
            Error::BadResource {
                offset: 0x2000,
                reason: ResourceFault::ChunkStoredSize {
                    chunk: 4,
                    stored: 0,
                    len: 32768,
                },
            },
            "resource at offset 0x2000: chunk 4 has stored size 0 for 32768 bytes",
        ),
        (
            Error::BadResource {
                offset: 0xd0,
                reason: ResourceFault::PastEnd {
                    bytes: 16,
                    file: PathBuf::from("/w/a.wim"),
                    file_len: 0xd8,
                },
            },
            "resource at offset 0xd0: 16 bytes run past the end of /w/a.wim (0xd8 bytes): truncated file?",
        ),
        (
            Error::BadBlobEntry {
                index: 1,
                offset: 0x132,
                reason: ResourceFault::EntryPastEnd {
                    start: 0x100,
                    end: 0x900,
                    file_len: 0x800,
                },
            },
            "blob table entry 1 at offset 0x132: resource 0x100..0x900 runs past the end of the file (0x800)",
        ),
        (
            Error::BadResource {
                offset: 0x10,
                reason: ResourceFault::IntegrityCount {
                    entries: 2,
                    chunks: 3,
                },
            },
            "resource at offset 0x10: integrity table: 2 entries for 3 chunks",
        ),
        (
            Error::BadMetadata {
                image: 2,
                offset: 0x78,
                reason: MetadataFault::DuplicateName("a.txt".into()),
            },
            "image 2 metadata at byte 0x78: duplicate name \"a.txt\" in one directory",
        ),
    ];
    for (e, text) in table {
        assert_eq!(e.to_string(), text);
        assert!(
            e.source().is_none(),
            "{e}: the reason is part of the message"
        );
    }
}
