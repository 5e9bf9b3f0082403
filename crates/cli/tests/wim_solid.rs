//! Solid WIMs (ESD files) against wimlib-imagex, in both directions: our `--solid` captures,
//! appends, exports and optimizes pass `wimlib-imagex verify` and apply identically with
//! wimlib; wimlib's solid WIMs of every chunk size (and with several solid resources) apply
//! identically with ours; an ESD-like WIM exports to a plain LZX WIM.

mod common;

use common::*;
use std::path::Path;

/// wimlib's view of a WIM: its header version and whether any blob is in a solid resource.
fn wimlib_solid_facts(wim: &Path) -> (bool, bool) {
    let header =
        String::from_utf8_lossy(&wimlib(&["info", s(wim), "--header"]).stdout).into_owned();
    let blobs = String::from_utf8_lossy(&wimlib(&["info", s(wim), "--blobs"]).stdout).into_owned();
    let version_solid = header
        .lines()
        .any(|l| l.starts_with("Version") && l.contains("0xe00"));
    (version_solid, blobs.contains("WIM_RESHDR_FLAG_SOLID"))
}

fn apply_both_and_compare(wim: &Path, image: &str, src: &Path, work: &Path, tag: &str) {
    wimlib(&["verify", s(wim)]);
    let by_wimlib = work.join(format!("wimlib-{tag}"));
    wimlib(&["apply", s(wim), image, s(&by_wimlib), "--unix-data"]);
    assert_same_tree(src, &by_wimlib, true);
    let by_us = work.join(format!("ours-{tag}"));
    ours(&[
        "wim",
        "apply",
        s(wim),
        image,
        s(&by_us),
        "--unix-data",
        "--quiet",
    ]);
    assert_same_tree(src, &by_us, true);
}

#[test]
fn our_solid_wims_verify_and_apply_in_wimlib() {
    let t = tempfile::tempdir().expect("tempdir");
    let src = corpus(t.path(), 31);
    for (i, extra) in [
        &["--solid"][..],
        &["--solid", "--solid-chunk-size", "32K", "--threads", "1"][..],
        &[
            "--solid",
            "--solid-chunk-size=1M",
            "--solid-compress=LZMS:20",
        ][..],
        &["--solid", "--solid-compress", "lzx", "--compress", "xpress"][..],
        &["--solid", "--solid-compress", "XPRESS", "--no-solid-sort"][..],
    ]
    .iter()
    .enumerate()
    {
        let wim = t.path().join(format!("ours{i}.wim"));
        let mut args = vec!["wim", "capture", s(&src), s(&wim), "--unix-data", "--quiet"];
        args.extend_from_slice(extra);
        ours(&args);
        assert_eq!(wimlib_solid_facts(&wim), (true, true), "{extra:?}");
        apply_both_and_compare(&wim, "1", &src, t.path(), &i.to_string());
    }
}

#[test]
fn solid_append_export_and_optimize_verify_in_wimlib() {
    let t = tempfile::tempdir().expect("tempdir");
    let a = corpus(t.path(), 32);
    let b = corpus(t.path(), 33);
    // Append to a solid WIM: a second solid resource in the same run of the blob table.
    let wim = t.path().join("two.wim");
    ours(&[
        "wim",
        "capture",
        s(&a),
        s(&wim),
        "--solid",
        "--unix-data",
        "--quiet",
    ]);
    ours(&["wim", "append", s(&b), s(&wim), "--unix-data", "--quiet"]);
    assert_eq!(wimlib_solid_facts(&wim), (true, true));
    apply_both_and_compare(&wim, "1", &a, t.path(), "two-1");
    apply_both_and_compare(&wim, "2", &b, t.path(), "two-2");

    // Export from a plain LZX WIM into a new solid one.
    let plain = t.path().join("plain.wim");
    ours(&["wim", "capture", s(&a), s(&plain), "--unix-data", "--quiet"]);
    let esd = t.path().join("exported.esd");
    ours(&["wim", "export", s(&plain), "1", s(&esd), "--solid"]);
    assert_eq!(wimlib_solid_facts(&esd), (true, true));
    apply_both_and_compare(&esd, "1", &a, t.path(), "exported");

    // optimize --solid turns the plain WIM solid; optimize --recompress --compress turns it back.
    ours(&["wim", "optimize", s(&plain), "--solid", "--quiet"]);
    assert_eq!(wimlib_solid_facts(&plain), (true, true));
    apply_both_and_compare(&plain, "1", &a, t.path(), "optimized-solid");
    // Without options a solid WIM stays solid.
    ours(&["wim", "optimize", s(&plain), "--rebuild", "--quiet"]);
    assert_eq!(wimlib_solid_facts(&plain), (true, true));
    ours(&[
        "wim",
        "optimize",
        s(&plain),
        "--recompress",
        "--compress=XPRESS",
        "--check",
        "--quiet",
    ]);
    assert!(!wimlib_solid_facts(&plain).1);
    apply_both_and_compare(&plain, "1", &a, t.path(), "optimized-xpress");
}

#[test]
fn wimlib_solid_wims_of_every_chunk_size_apply_with_ours() {
    let t = tempfile::tempdir().expect("tempdir");
    let a = corpus(t.path(), 34);
    let b = corpus(t.path(), 35);
    for size in [
        "32768", "65536", "131072", "262144", "524288", "1M", "2M", "4M", "8M", "16M", "32M", "64M",
    ] {
        let wim = t.path().join(format!("wl-{size}.wim"));
        let cs = format!("--solid-chunk-size={size}");
        wimlib(&[
            "capture",
            s(&a),
            s(&wim),
            "--solid",
            &cs,
            "--unix-data",
            "--norpfix",
        ]);
        let out = t.path().join(format!("ours-{size}"));
        ours(&[
            "wim",
            "apply",
            s(&wim),
            "1",
            s(&out),
            "--unix-data",
            "--quiet",
        ]);
        assert_same_tree(&a, &out, true);
    }
    // wimlib appends a second solid resource; its blob table interleaves the resources' entries
    // with their blobs, whose offsets count from the start of the whole run.
    let wim = t.path().join("wl-two.wim");
    wimlib(&[
        "capture",
        s(&a),
        s(&wim),
        "--solid",
        "--solid-chunk-size=64K",
        "--unix-data",
    ]);
    wimlib(&[
        "append",
        s(&b),
        s(&wim),
        "--solid",
        "--solid-chunk-size=64K",
        "--unix-data",
    ]);
    for (image, src) in [("1", &a), ("2", &b)] {
        let out = t.path().join(format!("ours-two-{image}"));
        ours(&[
            "wim",
            "apply",
            s(&wim),
            image,
            s(&out),
            "--unix-data",
            "--quiet",
        ]);
        assert_same_tree(src, &out, true);
    }
    ours(&["wim", "verify", s(&wim), "--quiet"]);
}

#[test]
fn esd_like_wim_exports_to_plain_lzx() {
    let t = tempfile::tempdir().expect("tempdir");
    let a = corpus(t.path(), 36);
    let b = corpus(t.path(), 37);
    // An ESD as Microsoft ships them: LZMS solid resources, several images.
    let wim = t.path().join("pre.wim");
    wimlib(&["capture", s(&a), s(&wim), "one", "--unix-data"]);
    wimlib(&["append", s(&b), s(&wim), "two", "--unix-data"]);
    let esd = t.path().join("install.esd");
    wimlib(&[
        "export",
        s(&wim),
        "all",
        s(&esd),
        "--compress=LZMS",
        "--solid",
    ]);
    assert_eq!(wimlib_solid_facts(&esd), (true, true));
    let out = t.path().join("install.wim");
    ours(&["wim", "export", s(&esd), "2", s(&out), "--compress", "lzx"]);
    let (_, solid) = wimlib_solid_facts(&out);
    assert!(!solid, "the exported WIM must not be solid");
    let info = String::from_utf8_lossy(&wimlib(&["info", s(&out)]).stdout).into_owned();
    assert!(
        info.lines()
            .any(|l| l.starts_with("Compression:") && l.ends_with(" LZX")),
        "{info}"
    );
    apply_both_and_compare(&out, "1", &b, t.path(), "esd-export");
}

#[test]
fn esd_imports_as_an_os_image_package() {
    let t = tempfile::tempdir().expect("tempdir");
    let a = corpus(t.path(), 38);
    let b = corpus(t.path(), 39);
    let wim = t.path().join("pre.wim");
    wimlib(&["capture", s(&a), s(&wim), "Home", "--unix-data"]);
    wimlib(&["append", s(&b), s(&wim), "Pro", "--unix-data"]);
    let esd = t.path().join("install.esd");
    wimlib(&[
        "export",
        s(&wim),
        "all",
        s(&esd),
        "--compress=LZMS",
        "--solid",
    ]);
    let site = t.path().join("site");
    let site_cmd = |args: &[&str]| {
        let mut c = tsmedia();
        c.env("TSMEDIA_SITE", &site).args(args);
        String::from_utf8_lossy(&run(&mut c).stdout).into_owned()
    };
    site_cmd(&["site", "init", "--code", "esd", "--name", "ESD lab"]);
    let id = site_cmd(&[
        "package",
        "add",
        "--type",
        "os-image",
        "--name",
        "Windows",
        s(&esd),
    ]);
    let shown = site_cmd(&["package", "show", id.trim()]);
    let images: Vec<&str> = shown
        .lines()
        .skip_while(|l| !l.starts_with("INDEX"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(images.len(), 2, "{shown}");
    assert!(
        images[0].starts_with('1') && images[0].ends_with("Home"),
        "{shown}"
    );
    assert!(
        images[1].starts_with('2') && images[1].ends_with("Pro"),
        "{shown}"
    );
    site_cmd(&["content", "verify", id.trim()]);
}
