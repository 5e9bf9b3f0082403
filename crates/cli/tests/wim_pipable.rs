//! wimlib's pipable WIMs, `-` for standard input and output, `--rpfix`/`--norpfix`,
//! `capture --source-list` and `apply --recover-data`, each checked against the real
//! wimlib-imagex in both directions.

mod common;

use common::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Runs `producer | consumer` and asserts both succeed.
fn pipe(producer: &mut Command, consumer: &mut Command) {
    let mut p = producer
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("producer runs");
    let out = p.stdout.take().expect("piped");
    let c = consumer.stdin(out).output().expect("consumer runs");
    let po = p.wait_with_output().expect("producer ends");
    assert!(
        po.status.success(),
        "{producer:?}: {}",
        String::from_utf8_lossy(&po.stderr)
    );
    assert!(
        c.status.success(),
        "{consumer:?}: {}",
        String::from_utf8_lossy(&c.stderr)
    );
}

/// Feeds the file `wim` to `cmd`'s standard input; returns the output (not asserted).
fn from_file(cmd: &mut Command, wim: &Path) -> std::process::Output {
    let f = std::fs::File::open(wim).expect("open");
    cmd.stdin(f).output().expect("runs")
}

fn wimlib_cmd() -> Command {
    require("wimlib-imagex", "wimtools");
    Command::new("wimlib-imagex")
}

fn is_pipable(wim: &Path) -> bool {
    let b = std::fs::read(wim).expect("read");
    b.starts_with(b"WLPWM\0\0\0")
}

#[test]
fn our_pipable_wims_are_verified_and_applied_by_wimlib_from_a_file_and_a_pipe() {
    let t = tempfile::tempdir().expect("tempdir");
    let src = corpus(t.path(), 41);
    for c in ["none", "xpress", "lzx"] {
        let wim = t.path().join(format!("{c}.wim"));
        ours(&[
            "wim",
            "capture",
            s(&src),
            s(&wim),
            "--pipable",
            "--check",
            &format!("--compress={c}"),
        ]);
        assert!(is_pipable(&wim), "{c}: WLPWM magic");
        // wimlib checks the integrity table and every blob of our file.
        wimlib(&["verify", s(&wim)]);
        let info = String::from_utf8(wimlib(&["info", s(&wim)]).stdout).expect("utf-8");
        assert!(info.contains("Pipable"), "{info}");
        let out = t.path().join(format!("{c}-file"));
        wimlib(&["apply", s(&wim), "1", s(&out)]);
        assert_same_tree(&src, &out, false);
        // wimlib reading our stream sequentially, as from a network pipe.
        let out = t.path().join(format!("{c}-pipe"));
        let o = from_file(wimlib_cmd().args(["apply", "-", "1", s(&out)]), &wim);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_same_tree(&src, &out, false);
        // And ours from the pipe.
        let out = t.path().join(format!("{c}-ours"));
        let o = from_file(tsmedia().args(["wim", "apply", "-", "1", s(&out)]), &wim);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_same_tree(&src, &out, false);
    }
}

#[test]
fn wimlib_pipable_wims_are_applied_by_us_from_a_file_and_a_pipe() {
    let t = tempfile::tempdir().expect("tempdir");
    let src = corpus(t.path(), 42);
    for c in ["none", "xpress", "lzx"] {
        let wim = t.path().join(format!("{c}.wim"));
        wimlib(&[
            "capture",
            s(&src),
            s(&wim),
            "--pipable",
            &format!("--compress={c}"),
        ]);
        ours(&["wim", "verify", s(&wim)]);
        let out = t.path().join(format!("{c}-file"));
        ours(&["wim", "apply", s(&wim), "1", s(&out)]);
        assert_same_tree(&src, &out, false);
        let out = t.path().join(format!("{c}-pipe"));
        let o = from_file(tsmedia().args(["wim", "apply", "-", s(&out)]), &wim);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_same_tree(&src, &out, false);
        // The staging copy of standard input is gone.
        let left: Vec<_> = std::fs::read_dir(t.path())
            .expect("ls")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(".tsmedia"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}

#[test]
fn capture_and_export_to_standard_output_stream_into_wimlib_and_back() {
    let t = tempfile::tempdir().expect("tempdir");
    let src = corpus(t.path(), 43);
    // Ours to stdout (pipable implied), wimlib applying from its stdin.
    let out = t.path().join("a");
    pipe(
        tsmedia().args(["wim", "capture", s(&src), "-", "--compress=LZX"]),
        wimlib_cmd().args(["apply", "-", "1", s(&out)]),
    );
    assert_same_tree(&src, &out, false);
    // wimlib to stdout, ours applying from stdin.
    let out = t.path().join("b");
    pipe(
        wimlib_cmd().args(["capture", s(&src), "-"]),
        tsmedia().args(["wim", "apply", "-", "1", s(&out)]),
    );
    assert_same_tree(&src, &out, false);
    // export of a normal WIM's image 2 to stdout, then wimlib applying it.
    let wim = t.path().join("two.wim");
    let other = corpus(t.path(), 143);
    ours(&["wim", "capture", s(&src), s(&wim), "one"]);
    ours(&["wim", "append", s(&other), s(&wim), "two"]);
    let out = t.path().join("c");
    pipe(
        tsmedia().args(["wim", "export", s(&wim), "2", "-"]),
        wimlib_cmd().args(["apply", "-", "1", s(&out)]),
    );
    assert_same_tree(&other, &out, false);
}

#[test]
fn append_and_export_keep_a_pipable_wim_pipable_unless_not_pipable() {
    let t = tempfile::tempdir().expect("tempdir");
    let src = corpus(t.path(), 44);
    let wim = t.path().join("p.wim");
    let other = corpus(t.path(), 144);
    ours(&["wim", "capture", s(&src), s(&wim), "--pipable", "first"]);
    ours(&["wim", "append", s(&other), s(&wim), "second"]);
    assert!(is_pipable(&wim));
    wimlib(&["verify", s(&wim)]);
    // wimlib applies image 2 from the pipe, past image 1's data.
    let out = t.path().join("two");
    let o = from_file(wimlib_cmd().args(["apply", "-", "second", s(&out)]), &wim);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same_tree(&other, &out, false);
    // Edits keep it pipable, as in wimlib.
    ours(&["wim", "info", s(&wim), "1", "renamed"]);
    assert!(is_pipable(&wim));
    ours(&["wim", "delete", s(&wim), "renamed"]);
    assert!(is_pipable(&wim));
    wimlib(&["verify", s(&wim)]);
    ours(&["wim", "capture", s(&src), s(&wim), "--pipable", "first"]);
    // Exported into a new normal WIM by default, pipable when asked.
    let normal = t.path().join("n.wim");
    ours(&["wim", "export", s(&wim), "1", s(&normal)]);
    assert!(!is_pipable(&normal));
    let piped = t.path().join("e.wim");
    ours(&["wim", "export", s(&wim), "all", s(&piped), "--pipable"]);
    assert!(is_pipable(&piped));
    wimlib(&["verify", s(&piped)]);
    ours(&[
        "wim",
        "append",
        s(&src),
        s(&piped),
        "third",
        "--not-pipable",
    ]);
    assert!(!is_pipable(&piped));
    wimlib(&["verify", s(&piped)]);
}

#[test]
fn standard_input_is_refused_clearly_where_it_cannot_be_read() {
    let t = tempfile::tempdir().expect("tempdir");
    let src = corpus(t.path(), 45);
    let wim = t.path().join("normal.wim");
    ours(&["wim", "capture", s(&src), s(&wim)]);
    for cmd in ["info", "dir", "verify"] {
        let o = tsmedia().args(["wim", cmd, "-"]).output().expect("runs");
        assert!(!o.status.success(), "{cmd} -");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("standard input"), "{cmd}: {err}");
    }
    // A normal WIM on standard input is not pipable: refused before anything is written.
    let out = t.path().join("out");
    let o = from_file(tsmedia().args(["wim", "apply", "-", s(&out)]), &wim);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("not a pipable WIM"), "{err}");
    assert!(!out.exists());
    // append to standard output makes no sense (wimlib refuses it too).
    let o = tsmedia()
        .args(["wim", "append", s(&src), "-"])
        .output()
        .expect("runs");
    assert!(!o.status.success());
}

/// The symlinks of wimlib's own --rpfix test, in `dir/in`.
fn rpfix_tree(dir: &Path) -> PathBuf {
    let root = dir.join("in");
    std::fs::create_dir_all(&root).expect("mkdir");
    std::fs::write(root.join("file"), b"1\n").expect("write");
    let r = s(&root).to_string();
    for (target, name) in [
        (r.clone(), "absrootlink"),
        (format!("{r}////"), "absrootlinkslashes"),
        ("/___NONEXISTENT___".to_string(), "absnonexistent"),
        ("/usr/bin/env".to_string(), "absoutoftree"),
        ("file".to_string(), "relalink"),
        (format!("{r}/file"), "abslink"),
        (format!("{r}/file///"), "abslinkslashes"),
    ] {
        std::os::unix::fs::symlink(target, root.join(name)).expect("symlink");
    }
    root
}

fn links(dir: &Path) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("ls")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_symlink()))
        .map(|e| {
            let t = std::fs::read_link(e.path()).expect("readlink");
            (
                e.file_name().to_string_lossy().into_owned(),
                t.to_string_lossy().into_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn rpfix_fixes_absolute_links_into_the_tree_as_wimlib_does() {
    let t = tempfile::tempdir().expect("tempdir");
    let src = rpfix_tree(t.path());
    // Ours with the default (--rpfix), wimlib with its default: the same links stored.
    let ours_wim = t.path().join("ours.wim");
    let theirs_wim = t.path().join("theirs.wim");
    ours(&["wim", "capture", s(&src), s(&ours_wim)]);
    wimlib(&["capture", s(&src), s(&theirs_wim)]);
    let info = String::from_utf8(wimlib(&["info", s(&ours_wim)]).stdout).expect("utf-8");
    assert!(info.contains("Relative path junction"), "{info}");
    for (wim, who) in [(&ours_wim, "ours"), (&theirs_wim, "wimlib's")] {
        // --norpfix: the stored, root-relative targets.
        let raw_w = t.path().join(format!("{who}-w-raw"));
        let raw_o = t.path().join(format!("{who}-o-raw"));
        wimlib(&["apply", "--norpfix", s(wim), s(&raw_w)]);
        ours(&["wim", "apply", "--norpfix", s(wim), s(&raw_o)]);
        let expect: Vec<(String, String)> = [
            ("abslink", "/file"),
            ("abslinkslashes", "/file///"),
            ("absnonexistent", "/___NONEXISTENT___"),
            ("absoutoftree", "/usr/bin/env"),
            ("absrootlink", "/"),
            ("absrootlinkslashes", "////"),
            ("relalink", "file"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(links(&raw_w), expect, "wimlib --norpfix of {who}");
        assert_eq!(links(&raw_o), expect, "our --norpfix of {who}");
        // Default apply: fixed links point into the target, the others are left alone.
        let fix_w = t.path().join(format!("{who}-w-fix"));
        let fix_o = t.path().join(format!("{who}-o-fix"));
        wimlib(&["apply", s(wim), s(&fix_w)]);
        ours(&["wim", "apply", s(wim), s(&fix_o)]);
        let canon = |p: &Path| std::fs::canonicalize(p).expect("canonicalize");
        let rebase = |v: Vec<(String, String)>, root: &Path| -> Vec<(String, String)> {
            let r = canon(root).to_string_lossy().into_owned();
            v.into_iter()
                .map(|(n, l)| (n, l.replacen(&r, "TARGET", 1)))
                .collect()
        };
        assert_eq!(
            rebase(links(&fix_o), &fix_o),
            rebase(links(&fix_w), &fix_w),
            "default apply of {who}"
        );
        assert_eq!(
            canon(&fix_o.join("absrootlink")),
            canon(&fix_o),
            "{who}: the root link points at the target"
        );
    }
    // --norpfix at capture stores the targets as they are, with no RP_FIX flag.
    let plain = t.path().join("plain.wim");
    ours(&["wim", "capture", s(&src), s(&plain), "--norpfix"]);
    let out = t.path().join("plain-out");
    wimlib(&["apply", s(&plain), s(&out)]);
    assert_eq!(links(&out), links(&src));
}

#[test]
fn source_list_places_and_overlays_sources_as_wimlib_does() {
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    std::fs::create_dir_all(d.join("in.dir")).expect("mkdir");
    std::fs::write(d.join("in.dir/1"), b"1\n").expect("write");
    std::fs::hard_link(d.join("in.dir/1"), d.join("in.dir/1link")).expect("link");
    std::fs::write(d.join("5"), b"5\n").expect("write");
    std::fs::create_dir_all(d.join("otherdir")).expect("mkdir");
    std::fs::write(d.join("otherdir/x.c"), b"int x;\n").expect("write");
    for (dir, f) in [("overlay dir 1", "A"), ("overlay dir 2", "B")] {
        std::fs::create_dir_all(d.join(dir)).expect("mkdir");
        std::fs::write(d.join(dir).join(f), f).expect("write");
    }
    for n in [1, 2] {
        std::fs::create_dir_all(d.join(format!("deep.{n}/subdir/subdir2"))).expect("mkdir");
        std::fs::write(d.join(format!("deep.{n}/subdir/{n}")), b"x").expect("write");
        std::fs::write(d.join(format!("deep.{n}/subdir/subdir2/{}", n + 2)), b"y").expect("write");
        // Hard links in each source: their groups must stay apart.
        std::fs::hard_link(
            d.join(format!("deep.{n}/subdir/{n}")),
            d.join(format!("deep.{n}/h{n}")),
        )
        .expect("link");
    }
    let list = d.join("srclist");
    let mut f = std::fs::File::create(&list).expect("create");
    writeln!(
        f,
        "in.dir /\n5      /5\n# a comment\n\notherdir /otherdir\n \"overlay dir 1\"\t\t'otherdir'  \t\n \"overlay dir 2\"\t\t'otherdir'  \ndeep.1\t/\ndeep.2\t/\n"
    )
    .expect("write");
    drop(f);
    let ours_wim = d.join("ours.wim");
    let theirs_wim = d.join("theirs.wim");
    run(tsmedia().current_dir(d).args([
        "wim",
        "capture",
        "srclist",
        "--source-list",
        s(&ours_wim),
    ]));
    run(wimlib_cmd()
        .current_dir(d)
        .args(["capture", "srclist", "--source-list", s(&theirs_wim)]));
    let a = d.join("a");
    let b = d.join("b");
    wimlib(&["apply", s(&ours_wim), s(&a)]);
    wimlib(&["apply", s(&theirs_wim), s(&b)]);
    assert_same_tree(&b, &a, false);
    for p in [
        "5",
        "1",
        "1link",
        "otherdir/A",
        "otherdir/B",
        "otherdir/x.c",
        "subdir/1",
    ] {
        assert!(a.join(p).is_file(), "{p}");
    }
    let info = String::from_utf8(wimlib(&["info", s(&ours_wim)]).stdout).expect("utf-8");
    assert!(
        info.contains("srclist"),
        "image named after the list: {info}"
    );
    // A file where the sources put a directory is refused, as wimlib refuses it.
    std::fs::write(&list, "deep.1\t/\ndeep.2\t/\n5\t\t/subdir\n").expect("write");
    let bad = d.join("bad.wim");
    let o = tsmedia()
        .current_dir(d)
        .args(["wim", "capture", "srclist", "--source-list", s(&bad)])
        .output()
        .expect("runs");
    assert!(!o.status.success());
    assert!(!bad.exists());
    let o = wimlib_cmd()
        .current_dir(d)
        .args(["capture", "srclist", "--source-list", s(&bad)])
        .output()
        .expect("runs");
    assert!(!o.status.success(), "wimlib refuses it too");
}

/// Corrupts the stored data of the only file blob of `wim` (a one-file WIM) at `at` bytes in.
fn corrupt_file_data(wim: &Path, content: &[u8], at: usize) {
    let mut b = std::fs::read(wim).expect("read");
    let pos = b
        .windows(content.len())
        .position(|w| w == content)
        .unwrap_or({
            // Compressed: the file's resource follows the 208-byte header, its chunk table
            // (under 1 KiB here) first.
            208 + 2048
        });
    b[pos + at] ^= 0x5a;
    std::fs::write(wim, b).expect("write");
}

#[test]
fn recover_data_writes_corrupt_files_as_wimlib_does() {
    let t = tempfile::tempdir().expect("tempdir");
    let src = t.path().join("src");
    std::fs::create_dir_all(&src).expect("mkdir");
    let content: Vec<u8> = (0..100_000u32)
        .flat_map(|i| format!("line {} of the file\n", i % 977).into_bytes())
        .collect();
    std::fs::write(src.join("file"), &content).expect("write");
    for c in ["none", "lzx", "xpress"] {
        let wim = t.path().join(format!("{c}.wim"));
        // wimlib writes the WIM: the file's data comes first after the header.
        wimlib(&["capture", s(&src), s(&wim), &format!("--compress={c}")]);
        corrupt_file_data(&wim, &content[..64], 100);
        let plain = t.path().join(format!("{c}-plain"));
        let o = tsmedia()
            .args(["wim", "apply", s(&wim), s(&plain)])
            .output()
            .expect("runs");
        assert!(!o.status.success(), "{c}: a corrupt file stops the apply");
        let ours_out = t.path().join(format!("{c}-ours"));
        let theirs_out = t.path().join(format!("{c}-theirs"));
        let o = run(tsmedia().args(["wim", "apply", "--recover-data", s(&wim), s(&ours_out)]));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("corrupt"),
            "{c}: a warning names the file"
        );
        wimlib(&["apply", "--recover-data", s(&wim), s(&theirs_out)]);
        let a = std::fs::read(ours_out.join("file")).expect("recovered");
        let b = std::fs::read(theirs_out.join("file")).expect("recovered by wimlib");
        assert_eq!(a.len(), content.len(), "{c}");
        assert_eq!(a.len(), b.len(), "{c}");
        if c == "none" {
            assert!(a == b, "{c}: the same bytes recovered as wimlib");
            continue;
        }
        // What a decoder writes before it fails differs between decoders: every chunk but the
        // damaged one is intact, as in wimlib's copy.
        let bad: Vec<usize> = (0..a.len().div_ceil(32768))
            .filter(|i| {
                let r = i * 32768..((i + 1) * 32768).min(a.len());
                a[r.clone()] != content[r]
            })
            .collect();
        assert_eq!(bad.len(), 1, "{c}: one damaged chunk, got {bad:?}");
        let r = bad[0] * 32768..((bad[0] + 1) * 32768).min(a.len());
        assert!(
            b[r.clone()] != content[r.clone()],
            "{c}: wimlib sees the same chunk damaged"
        );
        assert!(
            a[..r.start] == b[..r.start] && a[r.end..] == b[r.end..],
            "{c}"
        );
    }
}

#[test]
fn pipable_wims_split_into_parts_wimlib_applies() {
    let t = tempfile::tempdir().expect("tempdir");
    let src = corpus(t.path(), 45);
    let wim = t.path().join("pipe.wim");
    ours(&[
        "wim",
        "capture",
        s(&src),
        s(&wim),
        "--pipable",
        "--unix-data",
        "--quiet",
    ]);
    let part1 = t.path().join("pipe.swm");
    ours(&["wim", "split", s(&wim), s(&part1), "0.2"]);
    assert!(t.path().join("pipe2.swm").is_file(), "more than one part");
    let refs = format!("{}/pipe*.swm", t.path().display());
    let out = t.path().join("wimlib");
    wimlib(&[
        "apply",
        s(&part1),
        "1",
        s(&out),
        "--ref",
        &refs,
        "--unix-data",
    ]);
    assert_same_tree(&src, &out, true);
    let back = t.path().join("ours");
    ours(&[
        "wim",
        "apply",
        s(&part1),
        "1",
        s(&back),
        "--ref",
        &refs,
        "--quiet",
    ]);
    assert_same_tree(&src, &back, false);
}
