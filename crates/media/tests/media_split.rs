//! Content WIMs stored as `.swm` parts: on USB over the FAT32 limit (here a small test-only
//! limit, [`PlanOptions::usb_max_file`]), on a CD/DVD set when larger than a disc. The parts
//! are read back from the media and checked with `wimlib-imagex verify`, `join` and `apply
//! --ref`, with our WIM reader, and against the content manifest.
//! Debian packages: wimtools, mtools, dosfstools, 7zip, genisoimage.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use sha2::Digest;
use tsmedia_media::{BuildOptions, FileSource, MediaKind, MediaType, PlanOptions, build, inspect};

/// An OS image of `files` stored (uncompressed) files of `size` bytes.
fn big_os_fixture(files: usize, size: usize) -> Fixture {
    fixture_opts(FixtureOptions {
        os_files: files,
        os_file_size: size,
        os_compression: None,
        ..FixtureOptions::default()
    })
}

fn sha256(data: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(data))
}

/// Checks the parts in `dir` (first part `first`) as one WIM: wimlib verifies, joins and
/// applies them (`--ref`), our reader verifies them, and the applied tree is `f.os_tree`.
fn check_parts(f: &Fixture, first: &Path, parts: &[PathBuf], work: &Path) {
    let w = tool("wimlib-imagex", "wimtools");
    std::fs::create_dir_all(work).unwrap();
    let glob = first.with_file_name("install*.swm");
    run(Command::new(&w)
        .arg("verify")
        .arg(first)
        .arg(format!("--ref={}", glob.display())));
    let joined = work.join("joined.wim");
    run(Command::new(&w).arg("join").arg(&joined).args(parts));
    run(Command::new(&w).arg("verify").arg(&joined));
    let applied = work.join("applied");
    run(Command::new(&w)
        .arg("apply")
        .arg(first)
        .arg("1")
        .arg(&applied)
        .arg(format!("--ref={}", glob.display())));
    let mut want: Vec<PathBuf> = files_under(&f.os_tree)
        .into_iter()
        .map(|p| p.strip_prefix(&f.os_tree).unwrap().to_path_buf())
        .collect();
    let mut got: Vec<PathBuf> = files_under(&applied)
        .into_iter()
        .map(|p| p.strip_prefix(&applied).unwrap().to_path_buf())
        .collect();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    for p in &want {
        assert!(
            std::fs::read(applied.join(p)).unwrap() == std::fs::read(f.os_tree.join(p)).unwrap(),
            "{} differs after apply",
            p.display()
        );
    }
    let mut ours = tsmedia_wim::Wim::open(first).unwrap();
    for p in &parts[1..] {
        ours.add_ref(p).unwrap();
    }
    ours.check_parts().unwrap();
    tsmedia_wim::ops::verify(&ours, &tsmedia_wim::write::NoProgress).unwrap();
}

/// The manifest lists the parts (not the WIM), each with the SHA-256 of the file read back.
fn check_manifest(manifest: &serde_json::Value, os_id: &str, parts: &BTreeMap<String, Vec<u8>>) {
    let files: Vec<&serde_json::Value> = manifest["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["package_id"] == os_id)
        .flat_map(|p| p["files"].as_array().unwrap())
        .collect();
    let wim = format!("SMS/PKG/{os_id}/install.wim");
    assert!(
        files.iter().all(|f| f["path"] != wim.as_str()),
        "{files:#?}"
    );
    let listed: Vec<&str> = files
        .iter()
        .filter(|f| f["split_wim"]["path"] == wim.as_str())
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), parts.len(), "{files:#?}");
    for f in files.iter().filter(|f| f["split_wim"].is_object()) {
        let name = f["path"].as_str().unwrap();
        let data = &parts[name];
        assert_eq!(f["size"].as_u64().unwrap(), data.len() as u64, "{name}");
        assert_eq!(f["sha256"].as_str().unwrap(), sha256(data), "{name}");
        assert_eq!(
            f["split_wim"]["parts"].as_u64().unwrap(),
            parts.len() as u64
        );
    }
}

#[test]
fn usb_wim_over_the_file_limit_is_stored_as_parts() {
    let f = big_os_fixture(12, 500_000);
    let mut spec = f.spec(MediaKind::Standalone, "usb.img");
    spec.media_type = MediaType::Usb;
    spec.password = Some("pw".into());
    // Over efisys.bin and boot.wim (about 1.5 MB each), under the 6 MB OS image.
    let limit = 2_000_000;
    let options = PlanOptions {
        usb_max_file: limit,
        ..f.plan_options()
    };
    let plan = tsmedia_media::preflight_with(&f.site(), &spec, &options).unwrap();
    assert_eq!(plan.splits.len(), 1);
    let notice = plan
        .notices
        .iter()
        .find(|n| n.contains(".swm"))
        .expect("a notice about the split");
    assert!(
        notice.contains("install.wim") && notice.contains("USB file limit"),
        "{notice}"
    );
    let part_names: Vec<String> = plan.discs[0]
        .files
        .iter()
        .filter(|p| matches!(p.source, FileSource::SwmPart { .. }))
        .map(|p| p.dest.clone())
        .collect();
    assert!(part_names.len() >= 3, "{part_names:?}");
    assert!(
        plan.discs[0]
            .files
            .iter()
            .all(|p| p.size <= limit || p.dest.starts_with("sources/"))
    );
    build(&mut f.site(), &plan, &BuildOptions::default()).unwrap();
    let log = std::fs::read_to_string(f.path("CreateTSMedia.log")).unwrap();
    assert!(
        log.contains(notice.as_str()),
        "the notice is logged:\n{log}"
    );

    // Read the parts back from the FAT volume.
    let img = std::fs::read(f.path("usb.img")).unwrap();
    let part = f.path("part.img");
    std::fs::write(&part, &img[1 << 20..]).unwrap();
    drop(img);
    run(Command::new(tool("fsck.fat", "dosfstools"))
        .arg("-n")
        .arg(&part));
    let listing = stdout(
        Command::new(tool("mdir", "mtools"))
            .args(["-/", "-b", "-i"])
            .arg(&part)
            .arg("::/"),
    )
    .to_ascii_lowercase();
    assert!(!listing.contains("install.wim"), "{listing}");
    let out = f.path("parts");
    std::fs::create_dir_all(&out).unwrap();
    let mut parts = BTreeMap::new();
    let mut paths = Vec::new();
    for name in &part_names {
        let file = out.join(Path::new(name).file_name().unwrap());
        run(Command::new(tool("mcopy", "mtools"))
            .arg("-i")
            .arg(&part)
            .arg(format!("::/{name}"))
            .arg(&file));
        let data = std::fs::read(&file).unwrap();
        assert!(data.len() as u64 <= limit, "{name}: {} bytes", data.len());
        parts.insert(name.clone(), data);
        paths.push(file);
    }
    check_parts(&f, &paths[0], &paths, &f.path("work"));
    let manifest = std::process::Command::new(tool("mtype", "mtools"))
        .arg("-i")
        .arg(&part)
        .arg("::/SMS/data/ContentManifest.json")
        .output()
        .unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&manifest.stdout).unwrap();
    check_manifest(&manifest, &f.os_id, &parts);
}

#[test]
fn cd_set_wim_larger_than_a_disc_spans_discs() {
    let f = big_os_fixture(16, 500_000);
    let mut spec = f.spec(MediaKind::Standalone, "set");
    spec.size = Some("8MiB".into());
    spec.password = Some("pw".into());
    let plan = f.plan(&spec).unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!(plan.splits.len(), 1);
    let notice = plan.notices.iter().find(|n| n.contains(".swm")).unwrap();
    assert!(
        notice.contains("larger than one disc; on discs 1, 2"),
        "{notice}"
    );
    let report = build(&mut f.site(), &plan, &BuildOptions::default()).unwrap();
    assert!(report.outputs.len() >= 2, "{:?}", report.outputs);
    let n = report.outputs.len() as u32;

    let i = inspect(&f.path("set"), Some("pw"), false).unwrap();
    let mut on_discs: Vec<String> = Vec::new();
    let mut parts = BTreeMap::new();
    let mut paths = Vec::new();
    for (k, d) in i.discs.iter().enumerate() {
        assert_eq!(
            (d.disc, d.discs),
            (k as u32 + 1, n),
            "disc numbers recorded"
        );
        assert!(std::fs::metadata(&d.path).unwrap().len() <= 8 << 20);
        run(Command::new(tool("isoinfo", "genisoimage"))
            .args(["-d", "-i"])
            .arg(&d.path));
        on_discs.extend(
            d.files
                .iter()
                .filter(|(p, _)| p.starts_with("SMS/PKG/"))
                .map(|(p, _)| p.clone()),
        );
        let x = f.path(&format!("x{}", k + 1));
        run(Command::new(tool("7zz", "7zip"))
            .args(["x", "-y"])
            .arg(format!("-o{}", x.display()))
            .arg(&d.path));
        for (p, _) in d.files.iter().filter(|(p, _)| p.ends_with(".swm")) {
            parts.insert(p.clone(), std::fs::read(x.join(p)).unwrap());
        }
    }
    assert!(parts.len() >= 2, "{:?}", parts.keys());
    // Gather the parts in one folder, as the runtime does after asking for each disc.
    let all = f.path("parts");
    std::fs::create_dir_all(&all).unwrap();
    for (name, data) in &parts {
        let p = all.join(Path::new(name).file_name().unwrap());
        std::fs::write(&p, data).unwrap();
        paths.push(p);
    }
    paths.sort_by_key(|p| {
        let s = p.file_stem().unwrap().to_string_lossy().into_owned();
        s.trim_start_matches("install").parse::<u32>().unwrap_or(1)
    });
    check_parts(&f, &paths[0], &paths, &f.path("work"));
    let manifest = i.content.unwrap();
    check_manifest(&manifest, &f.os_id, &parts);
    // Each file records the disc it is on.
    for x in manifest["packages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["files"].as_array().unwrap())
    {
        let path = x["path"].as_str().unwrap();
        let disc = i
            .discs
            .iter()
            .find(|d| d.files.iter().any(|(p, _)| p == path))
            .unwrap()
            .disc;
        assert_eq!(x["disc"].as_u64(), Some(u64::from(disc)), "{path}");
    }
    // Every manifest file is on exactly one disc.
    let mut want: Vec<String> = manifest["packages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["files"].as_array().unwrap())
        .map(|x| x["path"].as_str().unwrap().to_string())
        .collect();
    want.sort();
    on_discs.sort();
    assert_eq!(on_discs, want);
}
