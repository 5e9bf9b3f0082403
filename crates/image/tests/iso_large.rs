//! A file over 4 GiB: ISO 9660 level 3 multi-extent records and UDF extents over the same
//! data, checked with 7-Zip (UDF), xorriso and isoinfo (ISO 9660 / Joliet) and udfinfo.
//! The data is mostly zeros and the image a sparse file, so disk use stays small.

mod iso_common;

use std::io::{Read, Seek, SeekFrom};
use std::process::{Command, Stdio};

use iso_common::*;
use tsmedia_image::iso::{IsoBuilder, IsoOptions, write};

const BIG: u64 = (4 << 30) + (512 << 20) + 1234;

fn check_stream(mut r: impl Read, len: u64, what: &str) {
    let mut buf = vec![0u8; 1 << 20];
    let mut pos = 0u64;
    loop {
        let n = r.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        for (i, &b) in buf[..n].iter().enumerate() {
            let o = pos + i as u64;
            let want = SparsePattern::byte_at(len, o);
            assert_eq!(b, want, "{what}: byte {o}");
        }
        pos += n as u64;
    }
    assert_eq!(pos, len, "{what}: length");
}

#[test]
fn file_over_4_gib_is_readable_through_udf_and_iso9660() {
    let z = tool("7zz", "7zip");
    let x = tool("xorriso", "xorriso");
    let isoinfo = tool("isoinfo", "genisoimage");
    let udfinfo = tool("udfinfo", "udftools");
    let dir = tempfile::tempdir().unwrap();
    let iso = dir.path().join("big.iso");

    let mut b = IsoBuilder::new(IsoOptions {
        timestamp: Some(1_600_000_000),
        ..IsoOptions::default()
    });
    b.add_file("a_before.txt", 6, bytes(b"before".to_vec()))
        .unwrap();
    b.add_file(
        "sources/install.wim",
        BIG,
        Box::new(SparsePattern { len: BIG }),
    )
    .unwrap();
    b.add_file("z_after.txt", 5, bytes(b"after".to_vec()))
        .unwrap();
    let plan = b.plan().unwrap();
    assert!(plan.total_size() > BIG);
    let mut sink = SparseFile::create(&iso).unwrap();
    write(&plan, &mut sink).unwrap();
    sink.finish().unwrap();
    assert_eq!(std::fs::metadata(&iso).unwrap().len(), plan.total_size());

    // UDF through 7-Zip: size, then the whole content streamed and compared.
    let list = stdout(Command::new(&z).arg("l").arg(&iso));
    assert!(list.contains(&format!("{BIG}")), "{list}");
    let mut child = Command::new(&z)
        .args(["x", "-so"])
        .arg(&iso)
        .arg("sources/install.wim")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    check_stream(child.stdout.take().unwrap(), BIG, "7-Zip (UDF)");
    assert!(child.wait().unwrap().success());
    let after = run(Command::new(&z)
        .args(["x", "-so"])
        .arg(&iso)
        .arg("z_after.txt"))
    .stdout;
    assert_eq!(after, b"after");

    // ISO 9660: two directory records for the file (multi-extent), in both trees.
    let l = stdout(Command::new(&isoinfo).arg("-l").arg("-i").arg(&iso));
    assert_eq!(l.matches("INSTALL.WIM;1").count(), 2, "{l}");
    let lj = stdout(Command::new(&isoinfo).args(["-J", "-l", "-i"]).arg(&iso));
    assert_eq!(lj.matches("install.wim").count(), 2, "{lj}");

    // xorriso joins the extents into one file of the right size and reports where they lie.
    let report = stdout_and_stderr(
        Command::new(&x)
            .arg("-indev")
            .arg(&iso)
            .args(["-find", "/", "-type", "f", "-exec", "lsdl", "--"])
            .args(["-find", "/sources/install.wim", "-exec", "report_lba"]),
    );
    assert!(report.contains(&format!(" {BIG} ")), "{report}");
    let extents: Vec<(u64, u64)> = report
        .lines()
        .filter(|l| l.starts_with("File data lba:"))
        .map(|l| {
            let f: Vec<&str> = l.split(',').map(str::trim).collect();
            let lba: u64 = f[1].parse().unwrap();
            let blocks: u64 = f[2].parse().unwrap();
            (lba, blocks)
        })
        .collect();
    assert_eq!(extents.len(), 2, "{report}");
    assert_eq!(extents[0].1 * 2048, 0xFFFF_F800, "{report}");
    assert_eq!(
        extents.iter().map(|e| e.1).sum::<u64>(),
        BIG.div_ceil(2048),
        "{report}"
    );
    let e = plan.file_extent("sources/install.wim").unwrap();
    assert_eq!(extents[0].0 * 2048, e.offset, "{report}");
    // The data where the second ISO extent starts continues the pattern.
    let mut f = std::fs::File::open(&iso).unwrap();
    let second = extents[1].0 * 2048;
    let within = second - e.offset;
    assert_eq!(within, 0xFFFF_F800);
    let mib = within.div_ceil(1 << 20) << 20;
    f.seek(SeekFrom::Start(e.offset + mib)).unwrap();
    let mut m = [0u8; 8];
    f.read_exact(&mut m).unwrap();
    assert_eq!(u64::from_le_bytes(m), mib >> 20);

    let info = stdout(Command::new(udfinfo).arg(&iso));
    assert!(info.lines().any(|l| l == "numfiles=3"), "{info}");
    assert!(info.lines().any(|l| l == "integrity=closed"), "{info}");
}
