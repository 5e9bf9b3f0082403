//! Exit codes of every crate's errors, and a closed standard output.

use std::io::{BufRead, BufReader};
use std::process::{Command as StdCommand, Stdio};

use assert_cmd::Command;

fn tsmedia() -> Command {
    Command::cargo_bin("tsmedia").unwrap()
}

#[test]
fn inspecting_a_file_that_is_not_media_is_invalid_input() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("hostname");
    std::fs::write(&f, "not media\n").unwrap();
    let out = tsmedia()
        .args(["media", "inspect"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not an ISO"), "{err}");
}

#[test]
fn missing_things_are_not_found() {
    let d = tempfile::tempdir().unwrap();
    let out = tsmedia()
        .args(["media", "inspect"])
        .arg(d.path().join("nothing.iso"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{out:?}");

    let site = d.path().join("site");
    tsmedia()
        .arg("--site")
        .arg(&site)
        .args(["site", "init", "--code", "PS1"])
        .assert()
        .success();
    let out = tsmedia()
        .arg("--site")
        .arg(&site)
        .args([
            "media",
            "create",
            "bootable",
            "--boot-image",
            "PS199999",
            "--dp",
            "dp1",
            "--quiet",
            "--out",
        ])
        .arg(d.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("PS199999"), "{err}");
    assert!(!d.path().join("out").exists());
}

#[test]
fn a_task_sequence_that_is_not_xml_is_invalid_input() {
    let d = tempfile::tempdir().unwrap();
    let site = d.path().join("site");
    tsmedia()
        .arg("--site")
        .arg(&site)
        .args(["site", "init", "--code", "PS1"])
        .assert()
        .success();
    let xml = d.path().join("ts.xml");
    std::fs::write(&xml, "<sequence><step").unwrap();
    let out = tsmedia()
        .arg("--site")
        .arg(&site)
        .args(["ts", "import"])
        .arg(&xml)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
}

#[test]
fn a_closed_stdout_ends_quietly() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("tree");
    for i in 0..2000 {
        let dir = src.join(format!("d{}", i % 20));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(format!("file-with-a-long-name-{i}.txt")),
            i.to_string(),
        )
        .unwrap();
    }
    let wim = d.path().join("x.wim");
    tsmedia()
        .args(["wim", "capture", "--quiet"])
        .arg(&src)
        .arg(&wim)
        .assert()
        .success();
    let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("tsmedia"))
        .args(["wim", "dir"])
        .arg(&wim)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(!line.is_empty());
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(0 | 141)),
        "{:?} {err}",
        out.status
    );
    assert!(!err.contains("panicked"), "{err}");
}
