//! Interoperability with wimlib-imagex, the reference implementation, in both directions.

mod common;

use common::*;
use std::path::Path;

/// Our WIM is verified by wimlib and applied by wimlib to an identical tree.
fn ours_then_wimlib(dir: &Path, src: &Path, extra: &[&str]) {
    let wim = dir.join("ours.wim");
    let mut args = vec!["wim", "capture", s(src), s(&wim), "--unix-data", "--quiet"];
    args.extend_from_slice(extra);
    ours(&args);
    wimlib(&["verify", s(&wim)]);
    let out = dir.join("wimlib-applied");
    wimlib(&["apply", s(&wim), "1", s(&out), "--unix-data"]);
    assert_same_tree(src, &out, true);
    std::fs::remove_dir_all(&out).expect("cleanup");
    std::fs::remove_file(&wim).expect("cleanup");
}

#[test]
fn our_uncompressed_wims_verify_and_apply_in_wimlib() {
    let t = tempfile::tempdir().expect("tempdir");
    let src = corpus(t.path(), 1);
    ours_then_wimlib(t.path(), &src, &["--compress", "none"]);
    ours_then_wimlib(t.path(), &src, &["--compress", "none", "--check"]);
}

#[test]
fn our_xpress_wims_at_every_chunk_size_verify_and_apply_in_wimlib() {
    let t = tempfile::tempdir().expect("tempdir");
    let src = corpus(t.path(), 2);
    for (i, cs) in ["4096", "8192", "16384", "32768", "65536"]
        .iter()
        .enumerate()
    {
        let mut args = vec!["--compress", "xpress", "--chunk-size", cs];
        if i % 2 == 0 {
            args.push("--check");
        }
        ours_then_wimlib(t.path(), &src, &args);
    }
}

#[test]
fn our_three_image_wim_applies_each_image_in_wimlib() {
    let t = tempfile::tempdir().expect("tempdir");
    let srcs: Vec<_> = (10..13).map(|seed| corpus(t.path(), seed)).collect();
    let wim = t.path().join("three.wim");
    ours(&[
        "wim",
        "capture",
        s(&srcs[0]),
        s(&wim),
        "--name",
        "one",
        "--unix-data",
        "--check",
        "--quiet",
    ]);
    ours(&[
        "wim",
        "append",
        s(&srcs[1]),
        s(&wim),
        "--name",
        "two",
        "--unix-data",
        "--quiet",
    ]);
    ours(&[
        "wim",
        "append",
        s(&srcs[2]),
        s(&wim),
        "--name",
        "three",
        "--unix-data",
        "--boot",
        "--quiet",
    ]);
    wimlib(&["verify", s(&wim)]);
    let info = String::from_utf8(wimlib(&["info", s(&wim)]).stdout).expect("utf8");
    assert!(info.contains("Image Count:    3"), "{info}");
    assert!(info.contains("Boot Index:     3"), "{info}");
    for (i, src) in srcs.iter().enumerate() {
        let out = t.path().join(format!("out{i}"));
        wimlib(&[
            "apply",
            s(&wim),
            &(i + 1).to_string(),
            s(&out),
            "--unix-data",
        ]);
        assert_same_tree(src, &out, true);
    }
    // Single-instance storage: a second image of the same tree adds only its metadata.
    let one = t.path().join("one.wim");
    ours(&["wim", "capture", s(&srcs[0]), s(&one), "--quiet"]);
    let single = std::fs::metadata(&one).expect("wim").len();
    ours(&[
        "wim",
        "append",
        s(&srcs[0]),
        s(&one),
        "--name",
        "again",
        "--quiet",
    ]);
    let double = std::fs::metadata(&one).expect("wim").len();
    assert!(
        double < single + single / 10,
        "two images of one tree: {double} bytes vs {single} for one"
    );
}

#[test]
fn our_split_wim_verifies_applies_and_joins() {
    let t = tempfile::tempdir().expect("tempdir");
    let src = corpus(t.path(), 3);
    let wim = t.path().join("big.wim");
    ours(&[
        "wim",
        "capture",
        s(&src),
        s(&wim),
        "--compress",
        "none",
        "--unix-data",
        "--quiet",
    ]);
    let first = t.path().join("part.swm");
    ours(&["wim", "split", s(&wim), s(&first), "1"]);
    let parts: Vec<_> = std::fs::read_dir(t.path())
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "swm"))
        .collect();
    assert!(parts.len() >= 2, "expected several parts, got {parts:?}");
    let glob = format!("{}/part*.swm", t.path().display());
    wimlib(&["verify", s(&first), &format!("--ref={glob}")]);
    let out = t.path().join("wl");
    wimlib(&[
        "apply",
        s(&first),
        "1",
        s(&out),
        &format!("--ref={glob}"),
        "--unix-data",
    ]);
    assert_same_tree(&src, &out, true);
    // Our own apply of the parts, and join back into one WIM.
    let out2 = t.path().join("ours");
    ours(&[
        "wim",
        "apply",
        s(&first),
        "1",
        s(&out2),
        "--ref",
        &glob,
        "--quiet",
    ]);
    assert_same_tree(&src, &out2, true);
    let joined = t.path().join("joined.wim");
    let mut args = vec!["wim".to_string(), "join".into(), s(&joined).into()];
    args.extend(parts.iter().map(|p| s(p).to_string()));
    run(tsmedia().args(&args));
    wimlib(&["verify", s(&joined)]);
    let out3 = t.path().join("joined-out");
    wimlib(&["apply", s(&joined), "1", s(&out3), "--unix-data"]);
    assert_same_tree(&src, &out3, true);
}

/// A wimlib-made WIM is applied by us to an identical tree.
fn wimlib_then_ours(dir: &Path, src: &Path, wim: &Path, image: &str, unix: bool) {
    let out = dir.join(format!("ours-{image}"));
    ours(&["wim", "apply", s(wim), image, s(&out), "--quiet"]);
    assert_same_tree(src, &out, unix);
    std::fs::remove_dir_all(&out).expect("cleanup");
}

#[test]
fn wimlib_wims_apply_identically_with_ours() {
    let t = tempfile::tempdir().expect("tempdir");
    let src = corpus(t.path(), 4);
    let src2 = corpus(t.path(), 5);
    for (i, extra) in [
        &["--compress=none"][..],
        &["--compress=XPRESS"][..],
        &["--compress=XPRESS", "--check", "--chunk-size=4096"][..],
        &["--compress=none", "--unix-data"][..],
        &["--compress=XPRESS", "--unix-data", "--chunk-size=65536"][..],
        // Solid resources: chunks shared by many blobs, decoded once by the apply stream.
        &[
            "--compress=XPRESS",
            "--solid",
            "--solid-compress=XPRESS",
            "--solid-chunk-size=65536",
        ][..],
        &[
            "--compress=LZX",
            "--solid",
            "--solid-compress=LZX",
            "--solid-chunk-size=32768",
        ][..],
    ]
    .iter()
    .enumerate()
    {
        let wim = t.path().join(format!("wl{i}.wim"));
        let mut args = vec!["capture", s(&src), s(&wim), "--norpfix"];
        args.extend_from_slice(extra);
        wimlib(&args);
        let unix = extra.contains(&"--unix-data");
        wimlib_then_ours(t.path(), &src, &wim, "1", unix);
        ours(&["wim", "verify", s(&wim), "--quiet"]);
    }
    // Several images and a boot index.
    let multi = t.path().join("multi.wim");
    wimlib(&[
        "capture",
        s(&src),
        s(&multi),
        "first",
        "--compress=XPRESS",
        "--unix-data",
        "--norpfix",
    ]);
    wimlib(&[
        "append",
        s(&src2),
        s(&multi),
        "second",
        "--unix-data",
        "--boot",
        "--norpfix",
    ]);
    wimlib_then_ours(t.path(), &src, &multi, "first", true);
    wimlib_then_ours(t.path(), &src2, &multi, "2", true);
    // Split by wimlib, applied by us.
    let first = t.path().join("wl.swm");
    wimlib(&["split", s(&multi), s(&first), "1"]);
    let out = t.path().join("split-out");
    ours(&[
        "wim",
        "apply",
        s(&first),
        "2",
        s(&out),
        "--ref",
        &format!("{}/wl*.swm", t.path().display()),
        "--quiet",
    ]);
    assert_same_tree(&src2, &out, true);
}

fn field<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    text.lines()
        .filter_map(|l| {
            l.strip_prefix(name)
                .map(|v| v.trim_start_matches(':').trim())
        })
        .collect()
}

#[test]
fn info_json_agrees_with_wimlib_info() {
    let t = tempfile::tempdir().expect("tempdir");
    let src = corpus(t.path(), 6);
    let src2 = corpus(t.path(), 7);
    let wims = [t.path().join("a.wim"), t.path().join("b.wim")];
    wimlib(&[
        "capture",
        s(&src),
        s(&wims[0]),
        "alpha",
        "--compress=XPRESS",
        "--chunk-size=16384",
        "--norpfix",
    ]);
    wimlib(&[
        "append",
        s(&src2),
        s(&wims[0]),
        "beta",
        "--boot",
        "--norpfix",
    ]);
    ours(&[
        "wim",
        "capture",
        s(&src),
        s(&wims[1]),
        "--name",
        "gamma",
        "--compress",
        "xpress",
        "--boot",
        "--quiet",
    ]);
    ours(&[
        "wim",
        "append",
        s(&src2),
        s(&wims[1]),
        "--name",
        "delta",
        "--quiet",
    ]);
    for wim in &wims {
        let text = String::from_utf8(wimlib(&["info", s(wim)]).stdout).expect("utf8");
        let json: serde_json::Value =
            serde_json::from_slice(&ours(&["wim", "info", s(wim), "--json"]).stdout).expect("json");
        assert_eq!(
            field(&text, "Image Count")[0],
            json["image_count"].to_string()
        );
        assert_eq!(
            field(&text, "Boot Index")[0],
            json["boot_index"].to_string()
        );
        assert_eq!(
            field(&text, "Chunk Size")[0],
            format!("{} bytes", json["chunk_size"])
        );
        assert_eq!(
            field(&text, "Compression")[0].to_ascii_lowercase(),
            json["compression"]
                .as_str()
                .expect("str")
                .to_ascii_lowercase()
        );
        let images = json["images"].as_array().expect("images");
        let names = field(&text, "Name");
        let dirs = field(&text, "Directory Count");
        let files = field(&text, "File Count");
        let bytes = field(&text, "Total Bytes");
        assert_eq!(names.len(), images.len());
        for (i, img) in images.iter().enumerate() {
            assert_eq!(names[i], img["name"].as_str().expect("name"));
            assert_eq!(dirs[i], img["dir_count"].to_string(), "{}", wim.display());
            assert_eq!(files[i], img["file_count"].to_string(), "{}", wim.display());
            assert_eq!(
                bytes[i],
                img["total_bytes"].to_string(),
                "{}",
                wim.display()
            );
        }
    }
    // Our counts agree with what wimlib computes for the same tree.
    let ja: serde_json::Value =
        serde_json::from_slice(&ours(&["wim", "info", s(&wims[0]), "--json"]).stdout)
            .expect("json");
    let jb: serde_json::Value =
        serde_json::from_slice(&ours(&["wim", "info", s(&wims[1]), "--json"]).stdout)
            .expect("json");
    for k in ["dir_count", "file_count", "total_bytes", "hard_link_bytes"] {
        assert_eq!(ja["images"][0][k], jb["images"][0][k], "{k}");
        assert_eq!(ja["images"][1][k], jb["images"][1][k], "{k}");
    }
}

#[test]
fn export_and_update_outputs_pass_wimlib_verify() {
    let t = tempfile::tempdir().expect("tempdir");
    let src = corpus(t.path(), 8);
    let src2 = corpus(t.path(), 9);
    let wim = t.path().join("src.wim");
    ours(&[
        "wim",
        "capture",
        s(&src),
        s(&wim),
        "--name",
        "a",
        "--unix-data",
        "--quiet",
    ]);
    ours(&[
        "wim",
        "append",
        s(&src2),
        s(&wim),
        "--name",
        "b",
        "--unix-data",
        "--quiet",
    ]);
    // Export one image (same compression: blobs copied verbatim) and all (recompressed).
    let one = t.path().join("one.wim");
    ours(&["wim", "export", s(&wim), "b", s(&one)]);
    wimlib(&["verify", s(&one)]);
    let out = t.path().join("exp");
    wimlib(&["apply", s(&one), "1", s(&out), "--unix-data"]);
    assert_same_tree(&src2, &out, true);
    let all = t.path().join("all.wim");
    ours(&[
        "wim",
        "export",
        s(&wim),
        "all",
        s(&all),
        "--compress",
        "none",
    ]);
    wimlib(&["verify", s(&all)]);
    // Export appends to an existing WIM.
    ours(&["wim", "export", s(&wim), "1", s(&one)]);
    let info = String::from_utf8(wimlib(&["info", s(&one)]).stdout).expect("utf8");
    assert!(info.contains("Image Count:    2"), "{info}");
    // Update: add a file and a tree, delete a tree.
    let extra = t.path().join("extra.txt");
    std::fs::write(&extra, b"injected by update\n").expect("write");
    ours(&[
        "wim",
        "update",
        s(&wim),
        "1",
        "--add",
        &format!("{}:/SMS/data/TsmBootstrap.ini", s(&extra)),
        "--add",
        &format!("{}:/added tree", s(&src2)),
        "--delete",
        "/Program Files",
    ]);
    wimlib(&["verify", s(&wim)]);
    let out = t.path().join("upd");
    wimlib(&["apply", s(&wim), "1", s(&out)]);
    assert_eq!(
        std::fs::read(out.join("SMS/data/TsmBootstrap.ini")).expect("added"),
        b"injected by update\n"
    );
    assert!(!out.join("Program Files").exists());
    assert!(out.join("added tree/Windows/Logs/setup0.log").is_file());
    assert!(out.join("Windows/Logs/setup0.log").is_file());
}
