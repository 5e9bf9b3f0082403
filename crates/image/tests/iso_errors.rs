//! Bad input is an error naming the culprit, never a panic; short reads change nothing;
//! progress and cancellation work.

mod iso_common;

use std::io::{self, Read};
use std::sync::atomic::Ordering;
use tsmedia_base::{Cancel, Progress};

use iso_common::*;
use tsmedia_image::iso::{
    BootEntry, BootImage, DataSource, Error, IsoBuilder, IsoOptions, write, write_with_progress,
};

fn options() -> IsoOptions {
    IsoOptions {
        timestamp: Some(1_000_000_000),
        ..IsoOptions::default()
    }
}

fn lying_image(declared: u64, actual: usize) -> Result<Vec<u8>, Error> {
    let mut b = IsoBuilder::new(options());
    b.add_file("ok.txt", 2, bytes(b"ok".to_vec())).unwrap();
    // Declares `declared` bytes but gives `actual`.
    b.add_file("sources/liar.bin", declared, bytes(pattern(1, actual)))
        .unwrap();
    let plan = b.plan().unwrap();
    let mut out = Vec::new();
    write(&plan, &mut out).map(|()| out)
}

#[test]
fn short_source_is_an_error_naming_the_file() {
    let e = lying_image(5000, 4999).unwrap_err();
    assert!(
        matches!(
            e,
            Error::SourceTooShort {
                declared: 5000,
                got: 4999,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("sources/liar.bin"), "{e}");
}

#[test]
fn long_source_is_an_error_naming_the_file() {
    let e = lying_image(5000, 5001).unwrap_err();
    assert!(
        matches!(e, Error::SourceTooLong { declared: 5000, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("sources/liar.bin"), "{e}");
}

#[test]
fn empty_file_with_data_is_an_error() {
    let e = lying_image(0, 1).unwrap_err();
    assert!(
        matches!(e, Error::SourceTooLong { declared: 0, .. }),
        "{e:?}"
    );
}

struct Failing;

impl DataSource for Failing {
    fn open(&self) -> io::Result<Box<dyn Read + '_>> {
        Err(io::Error::new(io::ErrorKind::NotFound, "gone"))
    }
}

/// The error and its causes, as the CLI prints them.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(&format!(": {c}"));
        cause = c.source();
    }
    out
}

#[test]
fn open_failure_names_the_file() {
    let mut b = IsoBuilder::new(options());
    b.add_file("a/missing.dat", 10, Box::new(Failing)).unwrap();
    let plan = b.plan().unwrap();
    let e = write(&plan, io::sink()).unwrap_err();
    assert!(matches!(e, Error::Open { .. }), "{e:?}");
    assert!(
        chain(&e).contains("a/missing.dat") && chain(&e).contains("gone"),
        "{e}"
    );
}

/// Gives its data 1 to 7 bytes per read, and `Interrupted` now and then.
struct Trickle(Vec<u8>);

struct TrickleReader<'a> {
    data: &'a [u8],
    n: usize,
}

impl Read for TrickleReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.n += 1;
        if self.n.is_multiple_of(5) {
            return Err(io::ErrorKind::Interrupted.into());
        }
        let k = (self.n % 7 + 1).min(buf.len()).min(self.data.len());
        buf[..k].copy_from_slice(&self.data[..k]);
        self.data = &self.data[k..];
        Ok(k)
    }
}

impl DataSource for Trickle {
    fn open(&self) -> io::Result<Box<dyn Read + '_>> {
        Ok(Box::new(TrickleReader {
            data: &self.0,
            n: 0,
        }))
    }
}

#[test]
fn short_reads_give_the_same_image() {
    let data = pattern(9, 70_001);
    let build = |trickle: bool| {
        let mut b = IsoBuilder::new(options());
        let src: Box<dyn DataSource> = if trickle {
            Box::new(Trickle(data.clone()))
        } else {
            bytes(data.clone())
        };
        b.add_file("x/data.bin", data.len() as u64, src).unwrap();
        let plan = b.plan().unwrap();
        let mut out = Vec::new();
        write(&plan, &mut out).unwrap();
        out
    };
    assert!(build(true) == build(false));
}

#[test]
fn declaration_errors() {
    let mut b = IsoBuilder::new(options());
    b.add_file("a/b.txt", 1, bytes(vec![1])).unwrap();
    assert!(matches!(
        b.add_file("a/b.txt", 1, bytes(vec![1])),
        Err(Error::Duplicate { .. })
    ));
    assert!(matches!(b.add_file("A\\b.txt", 1, bytes(vec![1])), Ok(())));
    assert!(matches!(
        b.add_file("a/b.txt/c", 1, bytes(vec![1])),
        Err(Error::ParentIsFile { .. })
    ));
    assert!(matches!(
        b.add_dir("a/b.txt"),
        Err(Error::ParentIsFile { .. })
    ));
    assert!(matches!(
        b.add_file("/", 1, bytes(vec![1])),
        Err(Error::InvalidPath { .. })
    ));
    assert!(matches!(
        b.add_file("a/../x", 1, bytes(vec![1])),
        Err(Error::InvalidPath { .. })
    ));
    assert!(matches!(
        b.add_file("a//x", 1, bytes(vec![1])),
        Err(Error::InvalidPath { .. })
    ));
    assert!(matches!(
        b.add_file("tab\there", 1, bytes(vec![1])),
        Err(Error::InvalidPath { .. })
    ));
    b.add_dir("a").unwrap(); // existing directory: fine
}

#[test]
fn plan_errors() {
    for label in ["", "this label is longer than 32 chars", "bad\nlabel"] {
        let b = IsoBuilder::new(IsoOptions {
            volume_label: label.into(),
            ..options()
        });
        assert!(matches!(b.plan(), Err(Error::Label { .. })), "{label:?}");
    }
    for t in [-1, 6_000_000_000] {
        let b = IsoBuilder::new(IsoOptions {
            timestamp: Some(t),
            ..options()
        });
        assert!(matches!(b.plan(), Err(Error::Timestamp { .. })), "{t}");
    }
    let mut b = IsoBuilder::new(options());
    b.add_boot_entry(BootEntry::bios(BootImage::File("boot/etfsboot.com".into())));
    let e = b.plan().unwrap_err();
    assert!(matches!(e, Error::Boot { index: 0, .. }), "{e:?}");
    assert!(e.to_string().contains("etfsboot.com"), "{e}");

    let mut b = IsoBuilder::new(options());
    b.add_dir("boot").unwrap();
    b.add_boot_entry(BootEntry::bios(BootImage::File("boot".into())));
    assert!(matches!(b.plan(), Err(Error::Boot { .. })));

    let mut b = IsoBuilder::new(options());
    b.add_boot_entry(BootEntry::uefi(BootImage::Hidden(Vec::new())));
    assert!(matches!(b.plan(), Err(Error::Boot { .. })));

    let mut b = IsoBuilder::new(options());
    let mut e = BootEntry::bios(BootImage::Hidden(vec![1; 2048]));
    e.load_sectors = Some(0);
    b.add_boot_entry(e);
    assert!(matches!(b.plan(), Err(Error::Boot { .. })));
}

#[test]
fn system_area_is_written_and_bounded() {
    let mut b = IsoBuilder::new(options());
    b.add_file("f", 3, bytes(b"abc".to_vec())).unwrap();
    let mut plan = b.plan().unwrap();
    assert!(matches!(
        plan.set_system_area(vec![0; 32769]),
        Err(Error::SystemArea { len: 32769 })
    ));
    let mbr = pattern(3, 512);
    plan.set_system_area(mbr.clone()).unwrap();
    let mut out = Vec::new();
    write(&plan, &mut out).unwrap();
    assert_eq!(&out[..512], &mbr[..]);
    assert!(out[512..32768].iter().all(|&b| b == 0));
    assert_eq!(&out[32769..32774], b"CD001");
}

/// Records `(bytes done, total)` after every report.
#[derive(Default)]
struct Recorder(
    std::sync::Mutex<Vec<(u64, Option<u64>)>>,
    std::sync::Mutex<(u64, Option<u64>)>,
);

impl Progress for Recorder {
    fn begin(&self, _: &str, total: Option<u64>) {
        *self.1.lock().unwrap() = (0, total);
    }
    fn advance(&self, n: u64) {
        let mut now = self.1.lock().unwrap();
        now.0 += n;
        self.0.lock().unwrap().push(*now);
    }
}

#[test]
fn progress_reaches_total_and_cancel_stops() {
    let mut b = IsoBuilder::new(options());
    b.add_file("big.bin", 3 << 20, bytes(vec![7; 3 << 20]))
        .unwrap();
    let plan = b.plan().unwrap();
    let seen = Recorder::default();
    write_with_progress(&plan, io::sink(), &seen, &Cancel::default()).unwrap();
    let seen = seen.0.into_inner().unwrap();
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0));
    assert!(seen.iter().all(|&(_, t)| t == Some(plan.total_size())));
    assert_eq!(seen.last().map(|s| s.0), Some(plan.total_size()));
    assert!(seen.len() > 3);

    /// Cancels once more than 1 MiB is written.
    struct CancelAfterMib(Cancel, std::sync::atomic::AtomicU64);
    impl Progress for CancelAfterMib {
        fn advance(&self, n: u64) {
            if self.1.fetch_add(n, Ordering::Relaxed) + n > 1 << 20 {
                self.0.cancel();
            }
        }
    }
    let cancel = Cancel::new();
    let mut out = Vec::new();
    let e = write_with_progress(
        &plan,
        &mut out,
        &CancelAfterMib(cancel.clone(), Default::default()),
        &cancel,
    )
    .unwrap_err();
    assert!(matches!(e, Error::Cancelled { .. }), "{e:?}");
}

#[test]
fn write_errors_carry_the_offset() {
    struct Full(u64);
    impl io::Write for Full {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::other("disk full"));
            }
            let n = (buf.len() as u64).min(self.0) as usize;
            self.0 -= n as u64;
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut b = IsoBuilder::new(options());
    b.add_file("big.bin", 4 << 20, bytes(vec![7; 4 << 20]))
        .unwrap();
    let plan = b.plan().unwrap();
    let e = write(&plan, Full(3 << 20)).unwrap_err();
    assert!(matches!(e, Error::Write { .. }), "{e:?}");
    assert!(chain(&e).contains("disk full"), "{e}");
}
