//! Images written by tsmedia read back by independent tools: 7-Zip (UDF), xorriso (Joliet and
//! El Torito), isoinfo (ISO 9660 and Joliet), udfinfo (UDF descriptors).
//! Needs 7zip, xorriso, genisoimage and udftools.

mod iso_common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use iso_common::*;
use tsmedia_image::boot_payload::bios_boot_image;
use tsmedia_image::iso::{BootEntry, BootImage, IsoBuilder, IsoOptions};

const LONG: &str = "A file name that is much longer than the sixty-four characters Joliet allows, kept whole by UDF.log";

/// (path, content) of the sample tree; directories implied, plus the empty `emptydir`.
fn sample_files() -> Vec<(String, Vec<u8>)> {
    let mut deep = String::new();
    for i in 1..=12 {
        deep.push_str(&format!("d{i}/"));
    }
    deep.push_str("deep.txt");
    // Enough entries that directory records and UDF identifiers span several sectors.
    let many = (0..300).map(|i| {
        let name = format!("many/Entry number {i:03} with a longer name.txt");
        (name, pattern(100 + i, (i * 37 % 3000) as usize))
    });
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("bootmgr".into(), pattern(1, 300_000)),
        ("sources/install.wim".into(), pattern(2, 5_000_001)),
        ("SMS/PKG/CCP00001/Setup.exe".into(), pattern(3, 4097)),
        ("SMS/data/Variables.dat".into(), pattern(4, 2048)),
        ("empty.txt".into(), Vec::new()),
        ("Readme.first.TXT".into(), b"upper case".to_vec()),
        ("readme.first.txt".into(), b"lower case!".to_vec()),
        ("Unicode/Größe – 文件.txt".into(), pattern(5, 100)),
        ("Unicode/файл.dat".into(), pattern(6, 33)),
        (format!("Long/{LONG}"), pattern(8, 55)),
        (deep, b"deep!!!".to_vec()),
        ("Program Files/My App/app data.bin".into(), pattern(9, 5000)),
    ];
    files.extend(many);
    files
}

fn sample_builder(timestamp: i64) -> IsoBuilder {
    let mut b = IsoBuilder::new(IsoOptions {
        volume_label: "Tsmedia Interop".into(),
        timestamp: Some(timestamp),
        ..IsoOptions::default()
    });
    for (path, data) in sample_files() {
        b.add_file(&path, data.len() as u64, bytes(data)).unwrap();
    }
    b.add_dir("emptydir").unwrap();
    let etfs = bios_boot_image("x", 1);
    b.add_file("boot/etfsboot.com", 2048, bytes(etfs)).unwrap();
    b.add_boot_entry(BootEntry::bios(BootImage::File("boot/etfsboot.com".into())));
    b
}

/// Every file of the sample with its content, including the boot image.
fn expected_files() -> BTreeMap<String, Vec<u8>> {
    let mut m: BTreeMap<String, Vec<u8>> = sample_files().into_iter().collect();
    m.insert("boot/etfsboot.com".into(), bios_boot_image("x", 1));
    m
}

fn expected_dirs() -> Vec<String> {
    let mut dirs: Vec<String> = vec!["emptydir".into()];
    for path in expected_files().keys() {
        let mut p = path.as_str();
        while let Some(i) = p.rfind('/') {
            p = &p[..i];
            dirs.push(p.to_owned());
        }
    }
    dirs.sort();
    dirs.dedup();
    dirs
}

/// The Joliet name of a sample path (only the long one is cut).
fn joliet_path(p: &str) -> String {
    p.replace(LONG, &joliet_long())
}

fn joliet_long() -> String {
    let ext = ".log";
    format!("{}{ext}", &LONG[..64 - ext.len()])
}

fn build(dir: &Path) -> std::path::PathBuf {
    let iso = dir.join("sample.iso");
    write_iso(sample_builder(1_700_000_000), &iso);
    iso
}

/// Reads every regular file below `root` into a map of relative path → content.
fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// Compares extracted trees by name, then content, without printing whole files.
fn assert_same_tree(got: &BTreeMap<String, Vec<u8>>, want: &BTreeMap<String, Vec<u8>>) {
    let only_got: Vec<&String> = got.keys().filter(|k| !want.contains_key(*k)).collect();
    let only_want: Vec<&String> = want.keys().filter(|k| !got.contains_key(*k)).collect();
    assert!(
        only_got.is_empty() && only_want.is_empty(),
        "unexpected: {only_got:?}\nmissing: {only_want:?}"
    );
    for (k, v) in want {
        assert!(
            got[k] == *v,
            "content of {k} differs ({} vs {} bytes)",
            got[k].len(),
            v.len()
        );
    }
}

#[test]
fn seven_zip_lists_tests_and_extracts_udf_tree() {
    let z = tool("7zz", "7zip");
    let dir = tempfile::tempdir().unwrap();
    let iso = build(dir.path());
    let listing = stdout(Command::new(&z).arg("l").arg("-slt").arg(&iso));
    let mut files = BTreeMap::new();
    let mut dirs = Vec::new();
    for block in listing.split("\n\n").filter(|b| b.contains("Path = ")) {
        let field = |k: &str| {
            block
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{k} = ")))
                .map(str::to_owned)
        };
        let (Some(path), Some(folder)) = (field("Path"), field("Folder")) else {
            continue;
        };
        if path.ends_with(".iso") {
            continue;
        }
        if folder == "+" {
            dirs.push(path);
        } else {
            let size: u64 = field("Size").unwrap().parse().unwrap();
            files.insert(path, size);
        }
    }
    let want: BTreeMap<String, u64> = expected_files()
        .iter()
        .map(|(p, d)| (p.clone(), d.len() as u64))
        .collect();
    assert_eq!(
        files, want,
        "7-Zip file listing (UDF names keep case and length)"
    );
    dirs.sort();
    assert_eq!(dirs, expected_dirs());
    assert!(
        listing.contains("Type = Udf"),
        "7-Zip should open the UDF tree:\n{listing}"
    );

    let t = stdout(Command::new(&z).arg("t").arg(&iso));
    assert!(t.contains("Everything is Ok"), "{t}");

    let out = dir.path().join("x7");
    run(Command::new(&z)
        .arg("x")
        .arg(format!("-o{}", out.display()))
        .arg(&iso));
    assert_same_tree(&read_tree(&out), &expected_files());
}

#[test]
fn xorriso_reads_joliet_tree_and_el_torito() {
    let x = tool("xorriso", "xorriso");
    let dir = tempfile::tempdir().unwrap();
    let iso = build(dir.path());
    let report = stdout_and_stderr(Command::new(&x).arg("-indev").arg(&iso).args([
        "-report_el_torito",
        "plain",
        "-find",
        "/",
        "-type",
        "f",
        "-exec",
        "lsdl",
    ]));
    assert!(
        report.contains("El Torito boot img :   1  BIOS  y   none  0x0000  0x00      4"),
        "{report}"
    );
    assert!(
        report.contains("El Torito img path :   1  /boot/etfsboot.com"),
        "{report}"
    );
    assert!(
        report.contains("Volume id    : 'TSMEDIA_INTEROP'"),
        "{report}"
    );
    let mut listed = BTreeMap::new();
    for line in report.lines().filter(|l| l.starts_with('-')) {
        let name = line
            .split('\'')
            .nth(1)
            .unwrap()
            .trim_start_matches('/')
            .to_owned();
        let size: u64 = line.split_whitespace().nth(4).unwrap().parse().unwrap();
        listed.insert(name, size);
    }
    let want: BTreeMap<String, u64> = expected_files()
        .iter()
        .map(|(p, d)| (joliet_path(p), d.len() as u64))
        .collect();
    assert_eq!(listed, want);

    let out = dir.path().join("xo");
    run(Command::new(&x)
        .arg("-osirrox")
        .arg("on")
        .arg("-indev")
        .arg(&iso)
        .arg("-extract")
        .arg("/")
        .arg(&out));
    let want: BTreeMap<String, Vec<u8>> = expected_files()
        .into_iter()
        .map(|(p, d)| (joliet_path(&p), d))
        .collect();
    assert_same_tree(&read_tree(&out), &want);
}

#[test]
fn isoinfo_reads_volume_descriptors_primary_and_joliet_trees() {
    let isoinfo = tool("isoinfo", "genisoimage");
    let dir = tempfile::tempdir().unwrap();
    let iso = build(dir.path());
    let d = stdout(Command::new(&isoinfo).arg("-d").arg("-i").arg(&iso));
    for want in [
        "Volume id: TSMEDIA_INTEROP",
        "Application id: TSMEDIA",
        "Logical block size is: 2048",
        "El Torito VD version 1 found",
        "Joliet with UCS level 3 found",
        "Bootid 88 (bootable)",
        "Boot media 0 (No Emulation Boot)",
        "Nsect 4",
    ] {
        assert!(d.contains(want), "missing {want:?} in:\n{d}");
    }
    let size = std::fs::metadata(&iso).unwrap().len() / 2048;
    assert!(d.contains(&format!("Volume size is: {size}")), "{d}");

    // Primary tree: upper-case d-characters, `;1` versions, `~N` for collisions.
    let f = stdout(Command::new(&isoinfo).arg("-f").arg("-i").arg(&iso));
    let names: Vec<&str> = f.lines().collect();
    for want in [
        "/BOOTMGR.;1",
        "/EMPTY.TXT;1",
        "/README_FIRST.TXT;1",
        "/README_FIRST~1.TXT;1",
        "/SOURCES/INSTALL.WIM;1",
        "/SMS/PKG/CCP00001/SETUP.EXE;1",
        "/PROGRAM_FILES/MY_APP/APP_DATA.BIN;1",
        "/UNICODE/____.DAT;1",
        "/EMPTYDIR",
        "/D1/D2/D3/D4/D5/D6/D7/D8/D9/D10/D11/D12/DEEP.TXT;1",
    ] {
        assert!(names.contains(&want), "missing {want:?} in:\n{f}");
    }
    assert_eq!(
        names.len(),
        expected_files().len() + expected_dirs().len(),
        "{f}"
    );

    // Joliet tree. isoinfo prints names in ISO 8859-1 and `_` for what that cannot hold.
    let j = run(Command::new(&isoinfo).args(["-J", "-f", "-i"]).arg(&iso)).stdout;
    let j: String = j.iter().map(|&b| char::from(b)).collect();
    let mut got: Vec<String> = j
        .lines()
        .map(|l| l.trim_start_matches('/').to_owned())
        .collect();
    got.sort();
    let latin1 = |s: String| -> String {
        s.chars()
            .map(|c| if u32::from(c) < 256 { c } else { '_' })
            .collect()
    };
    let mut want: Vec<String> = expected_files()
        .keys()
        .map(|p| joliet_path(p))
        .chain(expected_dirs())
        .map(latin1)
        .collect();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn udfinfo_reads_udf_102_descriptors() {
    let udfinfo = tool("udfinfo", "udftools");
    let dir = tempfile::tempdir().unwrap();
    let iso = build(dir.path());
    let info = stdout(Command::new(udfinfo).arg(&iso));
    let size = std::fs::metadata(&iso).unwrap().len() / 2048;
    for want in [
        "label=Tsmedia Interop".to_owned(),
        "udfrev=1.02".to_owned(),
        "integrity=closed".to_owned(),
        "accesstype=readonly".to_owned(),
        "blocksize=2048".to_owned(),
        format!("blocks={size}"),
        format!("numfiles={}", expected_files().len()),
        // Directories plus the root.
        format!("numdirs={}", expected_dirs().len() + 1),
        "start=256, blocks=1, type=ANCHOR".to_owned(),
        format!("start={}, blocks=1, type=ANCHOR", size - 1),
    ] {
        assert!(
            info.lines().any(|l| l == want),
            "missing {want:?} in:\n{info}"
        );
    }
}

#[test]
fn same_input_gives_identical_bytes() {
    let plan_a = sample_builder(1_700_000_000).plan().unwrap();
    let plan_b = sample_builder(1_700_000_000).plan().unwrap();
    let mut a = Vec::new();
    let mut b = Vec::new();
    tsmedia_image::iso::write(&plan_a, &mut a).unwrap();
    tsmedia_image::iso::write(&plan_b, &mut b).unwrap();
    assert!(a == b, "two builds of the same input differ");
    let mut c = Vec::new();
    let plan_c = sample_builder(1_700_000_001).plan().unwrap();
    tsmedia_image::iso::write(&plan_c, &mut c).unwrap();
    assert_eq!(a.len(), c.len());
    assert!(a != c, "the timestamp must be recorded");
}

#[test]
fn file_extents_point_at_the_data() {
    let plan = sample_builder(0).plan().unwrap();
    let mut img = Vec::new();
    tsmedia_image::iso::write(&plan, &mut img).unwrap();
    for (path, data) in expected_files() {
        let e = plan.file_extent(&path).unwrap();
        assert_eq!(e.size, data.len() as u64, "{path}");
        assert_eq!(e.offset % 2048, 0);
        let at = e.offset as usize;
        assert_eq!(&img[at..at + data.len()], &data[..], "{path}");
    }
    assert!(plan.file_extent("sources").is_none());
    assert!(plan.file_extent("nope.txt").is_none());
    let boot = plan.boot_images();
    assert_eq!(boot.len(), 1);
    assert_eq!(
        boot[0].offset,
        plan.file_extent("boot/etfsboot.com").unwrap().offset
    );
    assert_eq!(plan.file_count() as usize, expected_files().len());
    assert_eq!(plan.dir_count() as usize, expected_dirs().len() + 1);
}

#[test]
fn seven_zip_iso_mode_reads_joliet_tree_and_boot_images() {
    let z = tool("7zz", "7zip");
    let dir = tempfile::tempdir().unwrap();
    let iso = build(dir.path());
    let out = dir.path().join("x7iso");
    run(Command::new(&z)
        .args(["x", "-tiso"])
        .arg(format!("-o{}", out.display()))
        .arg(&iso));
    let mut want: BTreeMap<String, Vec<u8>> = expected_files()
        .into_iter()
        .map(|(p, d)| (joliet_path(&p), d))
        .collect();
    // 7-Zip shows the El Torito image as a file under [BOOT] (numbered when several).
    want.insert("[BOOT]/Boot-NoEmul.img".into(), bios_boot_image("x", 1));
    assert_same_tree(&read_tree(&out), &want);
}
