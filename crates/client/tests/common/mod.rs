//! Test fixtures: real WIMs, staged media folders with their content manifest, and a check
//! that reference tools exist.

#![allow(dead_code)]

use std::fs;
use std::path::Path;
use std::process::Command;

use tsmedia_client::content::sha256_file;
use tsmedia_wim::capture::CaptureOptions;
use tsmedia_wim::{WimWriter, WriteOptions};

/// Writes `files` (path, contents) under `dir`.
pub fn write_tree(dir: &Path, files: &[(&str, &[u8])]) {
    for (p, data) in files {
        let path = dir.join(p);
        fs::create_dir_all(path.parent().expect("file paths have a parent")).expect("mkdir");
        fs::write(path, data).expect("write");
    }
}

/// Captures `src` into a new WIM at `out` (one image named `name`).
pub fn make_wim(src: &Path, out: &Path, name: &str) {
    let opts = WriteOptions {
        threads: 1,
        ..WriteOptions::default()
    };
    let mut w = WimWriter::create(out, opts).expect("create wim");
    tsmedia_wim::capture::capture(
        src,
        &mut w,
        &CaptureOptions {
            name: Some(name.into()),
            ..CaptureOptions::default()
        },
    )
    .expect("capture");
    w.finish(1).expect("finish");
}

/// A package to stage: ID, version, files.
pub struct Pkg<'a> {
    pub id: &'a str,
    pub version: u32,
    pub files: Vec<(&'a str, Vec<u8>)>,
}

/// Stages packages under `root/SMS/PKG/<ID>` and writes `root/SMS/data/ContentManifest.json`;
/// returns the manifest's SHA-256, for the media variable that authenticates it.
pub fn stage(root: &Path, pkgs: &[Pkg<'_>]) -> String {
    let mut packages = Vec::new();
    for p in pkgs {
        let dir = root.join("SMS/PKG").join(p.id);
        let mut files = Vec::new();
        for (name, data) in &p.files {
            let path = dir.join(name);
            fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            fs::write(&path, data).expect("write");
            let (sha, size) = sha256_file(&path).expect("hash");
            files.push(serde_json::json!({
                "path": format!("SMS/PKG/{}/{}", p.id, name),
                "size": size,
                "sha256": sha,
            }));
        }
        packages.push(serde_json::json!({
            "package_id": p.id, "name": p.id, "content_id": "c", "version": p.version, "files": files,
        }));
    }
    let doc = serde_json::json!({ "format": "tsmedia-content-manifest/1", "packages": packages });
    let m = root.join("SMS/data/ContentManifest.json");
    fs::create_dir_all(m.parent().expect("parent")).expect("mkdir");
    let bytes = serde_json::to_vec_pretty(&doc).expect("json");
    fs::write(m, &bytes).expect("write manifest");
    tsmedia_base::digest::hex(&tsmedia_base::digest::sha256(&bytes))
}

/// The output of a reference tool, failing (not skipping) when it is missing.
pub fn tool(program: &str, package: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} is needed (apt-get install {package}): {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A WIM of a small OS tree, staged as package `id`.
pub fn os_wim_bytes(tmp: &Path) -> Vec<u8> {
    let src = tmp.join("os-src");
    write_tree(
        &src,
        &[
            ("Windows/System32/config/SYSTEM", b"hive"),
            ("Windows/explorer.exe", b"MZ explorer"),
            ("Users/Public/readme.txt", b"hello"),
        ],
    );
    let wim = tmp.join("os.wim");
    make_wim(&src, &wim, "Windows 11 Enterprise");
    fs::read(&wim).expect("read wim")
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}
