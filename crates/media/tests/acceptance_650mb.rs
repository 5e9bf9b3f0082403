//! Issue #5 acceptance: a stand-alone set with `--size 650mb` and about 1.5 GB of content
//! yields 3 ISOs holding every file exactly once, with the disc numbers recorded. Read back
//! with our ISO reader (`media inspect`), with `isoinfo` (Joliet listing) and with `xorriso`
//! (each file's extent, whose bytes are hashed against the content manifest).
//! Debian packages: genisoimage, xorriso.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::process::Command;

use common::*;
use sha2::Digest;
use tsmedia_media::{BuildOptions, CD_650MB, MediaKind, build, inspect};

/// `(path, lba, size)` of every file, from `xorriso -find / -type f -exec report_lba`.
fn xorriso_extents(iso: &std::path::Path) -> Vec<(String, u64, u64)> {
    let out = stdout_and_stderr(
        Command::new(tool("xorriso", "xorriso"))
            .arg("-indev")
            .arg(iso)
            .args(["-find", "/", "-type", "f", "-exec", "report_lba", "--"]),
    );
    out.lines()
        .filter_map(|l| l.strip_prefix("File data lba:"))
        .map(|l| {
            let fields: Vec<&str> = l.splitn(5, ',').map(str::trim).collect();
            let path = fields[4]
                .trim_matches('\'')
                .trim_start_matches('/')
                .to_string();
            (path, fields[1].parse().unwrap(), fields[3].parse().unwrap())
        })
        .collect()
}

fn sha256_range(file: &mut std::fs::File, offset: u64, len: u64) -> String {
    file.seek(SeekFrom::Start(offset)).unwrap();
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        file.read_exact(&mut buf[..n]).unwrap();
        h.update(&buf[..n]);
        left -= n as u64;
    }
    hex::encode(h.finalize())
}

#[test]
fn standalone_650mb_set_of_1_5_gb_is_three_isos_holding_every_file_once() {
    // 30 files of 50 MiB: 1.57 GB of content plus the fixture's OS image and setup.cmd.
    let f = fixture_with(30, 50 << 20);
    let mut spec = f.spec(MediaKind::Standalone, "cd");
    spec.size = Some("650mb".into());
    spec.password = Some("pw".into());
    let plan = f.plan(&spec).unwrap_or_else(|e| panic!("{e:#?}"));
    let report = build(&mut f.site(), &plan, &BuildOptions::default()).unwrap();
    assert_eq!(
        report.outputs,
        [
            f.path("cd/cd.iso"),
            f.path("cd/cd2.iso"),
            f.path("cd/cd3.iso")
        ]
    );

    let i = inspect(&f.path("cd"), Some("pw"), false).unwrap();
    let manifest = i.content.clone().unwrap();
    let want: BTreeMap<String, (u64, String)> = manifest["packages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["files"].as_array().unwrap())
        .map(|x| {
            (
                x["path"].as_str().unwrap().to_string(),
                (
                    x["size"].as_u64().unwrap(),
                    x["sha256"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect();
    assert_eq!(
        want.len(),
        32,
        "30 data files, setup.cmd, install.wim: {want:#?}"
    );
    let content_bytes: u64 = want.values().map(|(s, _)| s).sum();
    assert!(content_bytes > 1_500_000_000, "{content_bytes}");

    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    for (k, d) in i.discs.iter().enumerate() {
        let number = k as u32 + 1;
        assert_eq!((d.disc, d.discs), (number, 3), "disc number recorded");
        assert!(std::fs::metadata(&d.path).unwrap().len() <= CD_650MB);
        // Our reader and isoinfo's Joliet listing agree on the files of this disc.
        let ours: Vec<String> = d.files.iter().map(|(p, _)| format!("/{p}")).collect();
        let listing = stdout(
            Command::new(tool("isoinfo", "genisoimage"))
                .args(["-J", "-f", "-i"])
                .arg(&d.path),
        );
        for p in &ours {
            assert!(listing.lines().any(|l| l == p), "isoinfo misses {p}");
        }
        // xorriso's extents: every content file's bytes match the manifest.
        let extents = xorriso_extents(&d.path);
        let mut iso = std::fs::File::open(&d.path).unwrap();
        for (path, size) in d.files.iter().filter(|(p, _)| p.starts_with("SMS/PKG/")) {
            let (want_size, want_sha) = want
                .get(path)
                .unwrap_or_else(|| panic!("{path} on disc {number} is not in the manifest"));
            assert_eq!(size, want_size, "{path}");
            let (_, lba, xsize) = extents
                .iter()
                .find(|(p, _, _)| p == path)
                .unwrap_or_else(|| panic!("xorriso misses {path}"));
            assert_eq!(xsize, size, "{path}");
            assert_eq!(
                &sha256_range(&mut iso, lba * 2048, *size),
                want_sha,
                "{path}"
            );
            *seen.entry(path.clone()).or_default() += 1;
        }
        if number == 1 {
            assert!(d.bootable);
            assert!(d.files.iter().any(|(p, _)| p == "sources/boot.wim"));
        }
    }
    assert_eq!(
        seen.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "every content file is on the set"
    );
    assert!(
        seen.values().all(|&n| n == 1),
        "each exactly once: {seen:?}"
    );
}
