//! LZMS interoperability with wimlib-imagex, the reference implementation, in both directions:
//! non-solid LZMS WIMs at several chunk sizes and solid LZMS WIMs made by wimlib are applied by
//! us, and LZMS WIMs captured by us pass `wimlib-imagex verify` and apply identically in wimlib.

mod common;

use common::*;

#[test]
fn wimlib_lzms_wims_apply_identically_with_ours() {
    let t = tempfile::tempdir().expect("tempdir");
    let src = corpus(t.path(), 21);
    for (i, extra) in [
        &["--compress=LZMS"][..],
        &["--compress=LZMS", "--chunk-size=32768", "--unix-data"][..],
        &["--compress=LZMS", "--chunk-size=1048576"][..],
        &["--solid"][..],
        &["--solid", "--solid-chunk-size=65536", "--unix-data"][..],
    ]
    .iter()
    .enumerate()
    {
        let wim = t.path().join(format!("wl{i}.wim"));
        let mut args = vec!["capture", s(&src), s(&wim), "--norpfix"];
        args.extend_from_slice(extra);
        wimlib(&args);
        let out = t.path().join(format!("ours{i}"));
        ours(&["wim", "apply", s(&wim), "1", s(&out), "--quiet"]);
        assert_same_tree(&src, &out, extra.contains(&"--unix-data"));
        ours(&["wim", "verify", s(&wim), "--quiet"]);
    }
}

#[test]
fn our_lzms_wims_verify_and_apply_in_wimlib() {
    let t = tempfile::tempdir().expect("tempdir");
    let src = corpus(t.path(), 22);
    for (i, extra) in [
        &["--compress", "lzms"][..],
        &["--compress", "lzms:20", "--chunk-size", "32768", "--check"][..],
        &["--compress", "lzms:80", "--chunk-size", "1048576"][..],
    ]
    .iter()
    .enumerate()
    {
        let wim = t.path().join(format!("ours{i}.wim"));
        let mut args = vec!["wim", "capture", s(&src), s(&wim), "--unix-data", "--quiet"];
        args.extend_from_slice(extra);
        ours(&args);
        wimlib(&["verify", s(&wim)]);
        let out = t.path().join(format!("wimlib{i}"));
        wimlib(&["apply", s(&wim), "1", s(&out), "--unix-data"]);
        assert_same_tree(&src, &out, true);
        let back = t.path().join(format!("back{i}"));
        ours(&["wim", "apply", s(&wim), "1", s(&back), "--quiet"]);
        assert_same_tree(&src, &back, false);
    }
}
