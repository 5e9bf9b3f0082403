//! Our hives read back by hivex (Debian `libhivex-bin`), the reference reader: `hivexsh`
//! walks keys and values, `hivexml` dumps the whole tree.

use std::io::Write;
use std::process::{Command, Stdio};

use tsmedia_winboot::regf::{HiveOptions, Key, Value, write_hive};

/// Runs a hivexsh script against a hive file; returns stdout.
pub fn hivexsh(hive: &std::path::Path, script: &str) -> String {
    let mut child = Command::new("hivexsh")
        .arg(hive)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hivexsh (libhivex-bin) is installed");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("write script");
    let out = child.wait_with_output().expect("hivexsh runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "hivexsh failed: {stderr}"
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// The start of a long output, for assertion messages.
fn head(out: &str) -> &str {
    &out[..out.len().min(600)]
}

fn sample() -> Key {
    let mut root = Key::new("ROOT");
    let a = root.subkey_mut("Alpha");
    a.set(Value::string("Name", "héllo"));
    a.set(Value::dword("Number", 0x1234_5678));
    a.set(Value::binary("Small", vec![1, 2, 3]));
    a.set(Value::binary(
        "Big",
        (0..20_000u32).map(|i| (i % 251) as u8).collect(),
    ));
    a.set(Value::multi_string(
        "List",
        &["x".to_string(), "yz".to_string()],
    ));
    a.set(Value::string("", "default"));
    for i in 0..200 {
        root.subkey_mut("Many")
            .subkey_mut(&format!("k{i:03}"))
            .set(Value::dword("i", i));
    }
    root
}

#[test]
fn hivexsh_reads_keys_and_values() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("hive");
    std::fs::write(
        &path,
        write_hive(&sample(), &HiveOptions::default()).expect("write"),
    )
    .expect("save");

    let out = hivexsh(
        &path,
        "ls\ncd Alpha\nlsval\ncd \\Many\nls\ncd k117\nlsval\n",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(&lines[..2], ["Alpha", "Many"], "{}", head(&out));
    assert!(out.contains("\"Name\"=\"héllo\""), "{}", head(&out));
    assert!(out.contains("\"Number\"=dword:12345678"), "{}", head(&out));
    assert!(out.contains("\"Small\"=hex(3):01,02,03"), "{}", head(&out));
    assert!(out.contains("\"@\"=\"default\""), "{}", head(&out));
    assert!(
        out.contains("\"List\"=hex(7):78,00,00,00,79,00,7a,00,00,00,00,00"),
        "{}",
        head(&out)
    );
    assert!(out.contains("\"Big\"=hex(3):00,01,02,03"), "{}", head(&out));
    assert!(out.contains("k000\nk001\n"), "{}", head(&out));
    assert!(out.contains("k199\n"), "{}", head(&out));
    assert!(out.contains("\"i\"=dword:00000075"), "{}", head(&out));
}

#[test]
fn hivexml_dumps_the_whole_tree() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("hive");
    std::fs::write(
        &path,
        write_hive(&sample(), &HiveOptions::default()).expect("write"),
    )
    .expect("save");
    let out = Command::new("hivexml")
        .arg(&path)
        .output()
        .expect("hivexml runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let xml = String::from_utf8(out.stdout).expect("utf-8");
    let doc = roxmltree::Document::parse(&xml).expect("hivexml output is XML");
    let nodes = doc.descendants().filter(|n| n.has_tag_name("node")).count();
    assert_eq!(nodes, 1 + 2 + 200, "root, Alpha, Many and its 200 subkeys");
}
