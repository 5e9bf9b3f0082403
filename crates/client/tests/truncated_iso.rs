//! Issue #15, L5: a truncated ISO (a copy cut short) fails to extract with a message naming
//! it, and leaves no half-extracted work folder behind: the retry with the whole ISO succeeds,
//! as does a run after one that was killed mid-extraction. The ISO is made by xorriso (Debian
//! package xorriso).

mod common;

use std::fs;
use std::path::Path;

use common::{tool, write_tree};
use tsmedia_client::source::{MARKER, SourceError, materialise, staging_path};

fn make_iso(dir: &Path) -> std::path::PathBuf {
    let src = dir.join("src");
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    write_tree(
        &src,
        &[
            (
                "SMS/data/TsmBootstrap.ini",
                b"[Boot]\nMediaType=FullMedia\n",
            ),
            ("SMS/PKG/PS100001/a.txt", b"first file"),
            ("SMS/PKG/PS100001/zz-big.bin", &big),
        ],
    );
    let iso = dir.join("media.iso");
    tool(
        "xorriso",
        "xorriso",
        &[
            "-as",
            "mkisofs",
            "-quiet",
            "-J",
            "-R",
            "-o",
            iso.to_str().expect("utf-8"),
            src.to_str().expect("utf-8"),
        ],
    );
    iso
}

#[test]
fn a_truncated_iso_leaves_no_work_folder_and_the_retry_succeeds() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let iso = make_iso(tmp.path());
    let whole = fs::read(&iso).expect("read");
    let work = tmp.path().join("target/_SMSTaskSequence/Media");

    // Cut short in the middle of the large file.
    fs::write(&iso, &whole[..whole.len() - 1_500_000]).expect("truncate");
    for _ in 0..2 {
        let err = materialise(&iso, &work).expect_err("truncated");
        assert!(matches!(err, SourceError::Iso { .. }), "{err}");
        assert!(err.to_string().contains("media.iso"), "{err}");
        assert!(!work.exists(), "no half-extracted work folder");
        assert!(!staging_path(&work).exists(), "staging removed");
    }

    // The whole ISO: extracted, complete.
    fs::write(&iso, &whole).expect("restore");
    let m = materialise(&iso, &work).expect("the retry succeeds");
    assert!(!m.reused && m.files == 3, "{m:?}");
    assert_eq!(
        fs::read(work.join("SMS/PKG/PS100001/zz-big.bin"))
            .expect("big")
            .len(),
        3_000_000
    );
    assert!(work.join(MARKER).is_file());
    assert!(!staging_path(&work).exists());
}

#[test]
fn the_leftovers_of_a_killed_extraction_are_removed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let iso = make_iso(tmp.path());
    let work = tmp.path().join("work");
    // What a run killed mid-extraction leaves: the staging folder, half filled; and an empty
    // work folder the caller made.
    write_tree(&staging_path(&work), &[("SMS/PKG/PS100001/a.txt", b"fir")]);
    fs::create_dir_all(&work).expect("mkdir");
    let m = materialise(&iso, &work).expect("extracted");
    assert_eq!(m.files, 3);
    assert_eq!(
        fs::read(work.join("SMS/PKG/PS100001/a.txt")).expect("a"),
        b"first file"
    );
    assert!(!staging_path(&work).exists());
    // Reused next time.
    assert!(materialise(&iso, &work).expect("again").reused);
}
