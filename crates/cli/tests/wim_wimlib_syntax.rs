//! `tsmedia` as a drop-in for wimlib-imagex: started through a symlink of that name, with
//! wimlib's syntax, and with output and results checked against the real wimlib-imagex.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A symlink named `name` to tsmedia in `dir`.
fn linked(dir: &Path, name: &str) -> PathBuf {
    let link = dir.join(name);
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_tsmedia"), &link).expect("symlink");
    link
}

/// Runs our `wimlib-imagex` symlink; must succeed.
fn as_wimlib(link: &Path, args: &[&str]) -> Output {
    run(Command::new(link).args(args))
}

/// Runs our `wimlib-imagex` symlink; must fail (stderr returned).
fn as_wimlib_fails(link: &Path, args: &[&str]) -> String {
    let out = Command::new(link).args(args).output().expect("runs");
    assert!(
        !out.status.success(),
        "{args:?} should have failed:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn text(o: Output) -> String {
    String::from_utf8(o.stdout).expect("utf8")
}

/// The value after `key:` in wimlib-imagex's info output.
fn field(info: &str, key: &str) -> String {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("no {key} in\n{info}"))
        .trim()
        .to_string()
}

fn tree(dir: &Path) -> PathBuf {
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("sub")).expect("mkdir");
    std::fs::write(src.join("a.txt"), b"hello\n").expect("write");
    std::fs::write(src.join("sub/b.txt"), b"world\n").expect("write");
    std::os::unix::fs::symlink("a.txt", src.join("link")).expect("symlink");
    src
}

#[test]
fn started_as_wimlib_imagex_it_captures_with_positional_name_and_description() {
    require("wimlib-imagex", "wimtools");
    let t = tempfile::tempdir().expect("tempdir");
    let src = tree(t.path());
    let link = linked(t.path(), "wimlib-imagex");
    let wim = t.path().join("x.wim");
    as_wimlib(
        &link,
        &[
            "capture",
            s(&src),
            s(&wim),
            "My Name",
            "My Description",
            "--compress=LZX",
        ],
    );
    let info = text(wimlib(&["info", s(&wim)]));
    assert_eq!(field(&info, "Name"), "My Name");
    assert_eq!(field(&info, "Description"), "My Description");
    assert_eq!(field(&info, "Compression"), "LZX");
    let out = t.path().join("out");
    wimlib(&["apply", s(&wim), "1", s(&out)]);
    assert_same_tree(&src, &out, false);
    // wimlib's per-command names work too.
    let wimcapture = linked(t.path(), "wimcapture");
    let x2 = t.path().join("x2.wim");
    as_wimlib(
        &wimcapture,
        &[s(&src), s(&x2), "--compress=fast", "--threads=1"],
    );
    assert_eq!(
        field(&text(wimlib(&["info", s(&x2)])), "Compression"),
        "XPRESS"
    );
}

#[test]
fn info_and_dir_print_what_wimlib_prints() {
    require("wimlib-imagex", "wimtools");
    let t = tempfile::tempdir().expect("tempdir");
    let src = tree(t.path());
    let link = linked(t.path(), "wimlib-imagex");
    let wim = t.path().join("w.wim");
    wimlib(&["capture", s(&src), s(&wim), "one", "first image", "--check"]);
    wimlib(&["append", s(&src), s(&wim), "two", "--boot"]);
    // Same file, same path argument: the whole output must match.
    for args in [
        vec!["info", s(&wim)],
        vec!["info", s(&wim), "2"],
        vec!["info", s(&wim), "one"],
        vec!["info", "--header", s(&wim)],
        vec!["dir", s(&wim), "1"],
        vec!["dir", s(&wim), "2", "--path=/sub"],
    ] {
        assert_eq!(
            text(as_wimlib(&link, &args)),
            text(wimlib(&args)),
            "wimlib-imagex {args:?}"
        );
    }
    // The XML data as stored: UTF-16LE.
    let theirs = wimlib(&["info", "--xml", s(&wim)]).stdout;
    assert_eq!(as_wimlib(&link, &["info", "--xml", s(&wim)]).stdout, theirs);
}

#[test]
fn info_changes_boot_index_name_description_and_properties() {
    require("wimlib-imagex", "wimtools");
    let t = tempfile::tempdir().expect("tempdir");
    let src = tree(t.path());
    let link = linked(t.path(), "wimlib-imagex");
    let wim = t.path().join("w.wim");
    as_wimlib(&link, &["capture", s(&src), s(&wim), "one"]);
    as_wimlib(&link, &["append", s(&src), s(&wim), "two", "--check"]);
    as_wimlib(&link, &["info", s(&wim), "2", "--boot"]);
    as_wimlib(&link, &["info", s(&wim), "1", "renamed", "new description"]);
    as_wimlib(
        &link,
        &[
            "info",
            s(&wim),
            "renamed",
            "--image-property",
            "WINDOWS/EDITIONID=Pro",
        ],
    );
    // A name another image has is refused; a boot index past the images too.
    as_wimlib_fails(&link, &["info", s(&wim), "1", "two"]);
    as_wimlib_fails(&link, &["info", s(&wim), "3", "--boot"]);
    wimlib(&["verify", s(&wim)]);
    let info = text(wimlib(&["info", s(&wim)]));
    assert_eq!(field(&info, "Boot Index"), "2");
    assert!(info.contains("Name:                   renamed"), "{info}");
    assert!(
        info.contains("Description:            new description"),
        "{info}"
    );
    assert!(info.contains("Edition ID:             Pro"), "{info}");
    assert!(
        field(&info, "Attributes").contains("Integrity info"),
        "{info}"
    );
    as_wimlib(&link, &["info", s(&wim), "0", "--boot", "--nocheck"]);
    let info = text(wimlib(&["info", s(&wim)]));
    assert_eq!(field(&info, "Boot Index"), "0");
    assert!(!info.contains("Integrity info"), "{info}");
    // --extract-xml writes what --xml prints.
    let xml = t.path().join("x.xml");
    as_wimlib(
        &link,
        &["info", s(&wim), &format!("--extract-xml={}", s(&xml))],
    );
    assert_eq!(
        std::fs::read(&xml).expect("xml"),
        wimlib(&["info", "--xml", s(&wim)]).stdout
    );
}

#[test]
fn delete_export_and_split_follow_wimlib() {
    require("wimlib-imagex", "wimtools");
    let t = tempfile::tempdir().expect("tempdir");
    let src = tree(t.path());
    let link = linked(t.path(), "wimlib-imagex");
    let wim = t.path().join("w.wim");
    as_wimlib(&link, &["capture", s(&src), s(&wim), "a"]);
    for n in ["b", "c", "d"] {
        as_wimlib(&link, &["append", s(&src), s(&wim), n]);
    }
    as_wimlib(&link, &["info", s(&wim), "c", "--boot"]);
    as_wimlib(&link, &["delete", s(&wim), "1"]);
    let info = text(wimlib(&["info", s(&wim)]));
    assert_eq!(field(&info, "Image Count"), "3");
    assert_eq!(field(&info, "Boot Index"), "2", "follows image c");
    as_wimlib_fails(&link, &["delete", s(&wim), "4"]);

    // Export with a new name and description; --boot with `all` marks the copy of c.
    let dest = t.path().join("dest.wim");
    as_wimlib(
        &link,
        &["export", s(&wim), "b", s(&dest), "bee", "the b image"],
    );
    as_wimlib_fails(&link, &["export", s(&wim), "b", s(&dest), "bee"]);
    as_wimlib_fails(
        &link,
        &["export", s(&wim), "b", s(&dest), "x", "--compress=xpress"],
    );
    as_wimlib_fails(&link, &["export", s(&wim), "all", s(&dest), "x"]);
    let all = t.path().join("all.wim");
    as_wimlib(&link, &["export", s(&wim), "all", s(&all), "--boot"]);
    assert_eq!(field(&text(wimlib(&["info", s(&all)])), "Boot Index"), "2");
    as_wimlib(&link, &["info", s(&wim), "0", "--boot"]);
    as_wimlib_fails(
        &link,
        &[
            "export",
            s(&wim),
            "all",
            s(&t.path().join("n.wim")),
            "--boot",
        ],
    );
    let info = text(wimlib(&["info", s(&dest)]));
    assert!(info.contains("Name:                   bee"), "{info}");
    assert!(
        info.contains("Description:            the b image"),
        "{info}"
    );

    // Fractional part sizes: wimlib applies the parts.
    as_wimlib(&link, &["delete", s(&wim), "all"]);
    assert_eq!(field(&text(wimlib(&["info", s(&wim)])), "Image Count"), "0");
    let big = t.path().join("big");
    std::fs::create_dir(&big).expect("mkdir");
    for i in 0..4u8 {
        let data: Vec<u8> = (0..20_000u32)
            .map(|j| (j * 7 + u32::from(i)) as u8)
            .collect();
        std::fs::write(big.join(format!("f{i}")), data).expect("write");
    }
    let one = t.path().join("one.wim");
    as_wimlib(&link, &["capture", s(&big), s(&one), "--compress=none"]);
    let swm = t.path().join("p.swm");
    as_wimlib(&link, &["split", s(&one), s(&swm), "0.02"]);
    assert!(t.path().join("p3.swm").exists(), "0.02 MiB parts of 80 kB");
    let out = t.path().join("out");
    let glob = format!("{}/p*.swm", s(t.path()));
    wimlib(&["apply", s(&swm), "1", s(&out), &format!("--ref={glob}")]);
    assert_same_tree(&big, &out, false);
}

#[test]
fn capture_config_and_default_exclusions_as_wimlib() {
    require("wimlib-imagex", "wimtools");
    let t = tempfile::tempdir().expect("tempdir");
    let src = t.path().join("src");
    for d in ["System Volume Information/x", "dir", "keep", "music"] {
        std::fs::create_dir_all(src.join(d)).expect("mkdir");
    }
    for f in [
        "hiberfil.sys",
        "pagefile.sys",
        "dir/include.txt",
        "dir/exclude.txt",
        "music/a.mp3",
        "keep/b.mp3",
        "x.txt",
    ] {
        std::fs::write(src.join(f), b"x").expect("write");
    }
    let config = t.path().join("config.txt");
    std::fs::write(
        &config,
        "[ExclusionList]\n# comment\n/dir\n*.mp3\n\n[ExclusionException]\n/dir/include*\n\\keep\\b.mp3\n",
    )
    .expect("write");
    let link = linked(t.path(), "wimlib-imagex");
    for (name, extra) in [("default", None), ("config", Some(&config))] {
        let ours_wim = t.path().join(format!("ours-{name}.wim"));
        let their_wim = t.path().join(format!("theirs-{name}.wim"));
        let cfg = extra.map(|c| format!("--config={}", s(c)));
        let mut a = vec!["capture", s(&src)];
        let mut ours_args = a.clone();
        ours_args.push(s(&ours_wim));
        a.push(s(&their_wim));
        if let Some(c) = &cfg {
            ours_args.push(c);
            a.push(c);
        }
        as_wimlib(&link, &ours_args);
        wimlib(&a);
        assert_eq!(
            text(wimlib(&["dir", s(&ours_wim)])),
            text(wimlib(&["dir", s(&their_wim)])),
            "{name}"
        );
    }
}

#[test]
fn update_reads_wimlib_commands_from_stdin() {
    require("wimlib-imagex", "wimtools");
    let t = tempfile::tempdir().expect("tempdir");
    let src = tree(t.path());
    let link = linked(t.path(), "wimlib-imagex");
    let wim = t.path().join("w.wim");
    as_wimlib(&link, &["capture", s(&src), s(&wim)]);
    let extra = t.path().join("Some File");
    std::fs::write(&extra, b"added").expect("write");
    let update = |cmds: &str| {
        let mut child = Command::new(&link)
            .args(["update", s(&wim)])
            .current_dir(t.path())
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(cmds.as_bytes())
            .expect("write");
        child.wait_with_output().expect("wait").status.success()
    };
    assert!(update("# nothing\n\n"), "an empty command list is a no-op");
    assert!(update(
        "add 'Some File' '/new dir/file'\nrename /a.txt /c.txt\n"
    ));
    assert!(!update("delete /sub\n"), "a directory needs --recursive");
    assert!(!update("delete /missing\n"));
    assert!(update("delete --force /missing\ndelete --recursive /sub\n"));
    assert!(!update("delete --bogus /x\n"));
    assert_eq!(
        text(wimlib(&["dir", s(&wim)])),
        "/\n/c.txt\n/link\n/new dir\n/new dir/file\n"
    );
    assert!(update("delete --recursive /\n"));
    assert_eq!(text(wimlib(&["dir", s(&wim)])), "/\n");
    wimlib(&["verify", s(&wim)]);
}

#[test]
fn options_not_implemented_are_refused_by_name() {
    let t = tempfile::tempdir().expect("tempdir");
    let src = tree(t.path());
    let link = linked(t.path(), "wimlib-imagex");
    let wim = t.path().join("w.wim");
    // --pipable, --rpfix and --source-list are implemented now (tests/wim_pipable.rs), and
    // --solid (tests/wim_solid.rs).
    let err = as_wimlib_fails(&link, &["capture", s(&src), s(&wim), "--dereference"]);
    assert!(err.contains("--dereference"), "{err}");
    assert!(!wim.exists());
    as_wimlib(&link, &["capture", s(&src), s(&wim)]);
    let err = as_wimlib_fails(&link, &["delete", s(&wim), "1", "--soft"]);
    assert!(err.contains("--soft"), "{err}");
}

#[test]
fn extract_places_files_as_wimlib_does() {
    require("wimlib-imagex", "wimtools");
    let t = tempfile::tempdir().expect("tempdir");
    let src = t.path().join("src");
    for d in ["top/sub1", "top/sub2"] {
        std::fs::create_dir_all(src.join(d)).expect("mkdir");
    }
    for (f, data) in [
        ("top/sub1/hello1", "1"),
        ("top/sub2/hello2", "22"),
        ("top/hello3", "333"),
        ("file", "data"),
    ] {
        std::fs::write(src.join(f), data).expect("write");
    }
    let link = linked(t.path(), "wimlib-imagex");
    let wim = t.path().join("w.wim");
    wimlib(&["capture", s(&src), s(&wim)]);
    let list = t.path().join("list");
    std::fs::write(&list, "; comment\n/top/sub?/hello*\n").expect("write");
    let cases: Vec<Vec<String>> = vec![
        vec!["/file".into(), "top/sub1".into()],
        vec![format!("@{}", s(&list))],
        vec!["/top/*".into(), "--preserve-dir-structure".into()],
        vec!["/top/hello?".into()],
        vec![],
    ];
    for (n, extra) in cases.iter().enumerate() {
        let ours_out = t.path().join(format!("ours{n}"));
        let their_out = t.path().join(format!("theirs{n}"));
        for (out, ours) in [(&ours_out, true), (&their_out, false)] {
            let dest = format!("--dest-dir={}", s(out));
            let mut args = vec!["extract", s(&wim), "1"];
            args.extend(extra.iter().map(String::as_str));
            args.push(&dest);
            if ours {
                as_wimlib(&link, &args);
            } else {
                wimlib(&args);
            }
        }
        // The destination's own time is when it was written; everything in it must match.
        let (mut theirs, _) = snapshot(&their_out, false, true);
        let (mut ours, _) = snapshot(&ours_out, false, true);
        theirs.remove(Path::new(""));
        ours.remove(Path::new(""));
        assert_eq!(ours, theirs, "extract {extra:?}");
    }
    // A pattern matching nothing fails, unless --nullglob.
    as_wimlib_fails(&link, &["extract", s(&wim), "1", "/nothing*"]);
    let dest = format!("--dest-dir={}", s(&t.path().join("none")));
    as_wimlib(
        &link,
        &["extract", s(&wim), "1", "/nothing*", "--nullglob", &dest],
    );
    let out = as_wimlib(
        &link,
        &["extract", s(&wim), "1", "/top/hello3", "--to-stdout"],
    );
    assert_eq!(out.stdout, b"333");
}
