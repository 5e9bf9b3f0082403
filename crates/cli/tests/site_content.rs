//! The content library: single-instance storage measured on 1 GiB, source versions, and
//! verification that catches changed and missing library files.

mod site_common;

use std::io::Write;

use site_common::{Env, tree_bytes};

const GIB: u64 = 1 << 30;

/// Writes `len` bytes of deterministic pseudo-random data (xorshift64*, seeded).
fn write_random(path: &std::path::Path, len: u64, seed: u64) {
    let mut file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut buf = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        for chunk in buf.chunks_exact_mut(8) {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            chunk.copy_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
        }
        let n = left.min(buf.len() as u64) as usize;
        file.write_all(&buf[..n]).unwrap();
        left -= n as u64;
    }
    file.flush().unwrap();
}

#[test]
fn the_same_gibibyte_as_two_packages_is_stored_once() {
    let env = Env::new();
    // 1 GiB in 16 distinct files; the second package holds the same data under other names
    // (hard links, so the test writes the data only once).
    let first = env.path("first");
    let second = env.path("second/renamed");
    std::fs::create_dir_all(first.join("sub")).unwrap();
    std::fs::create_dir_all(&second).unwrap();
    for i in 0..16u64 {
        let path = first.join(format!("sub/part{i:02}.bin"));
        write_random(&path, GIB / 16, i + 1);
        std::fs::hard_link(&path, second.join(format!("other-{i}.dat"))).unwrap();
    }
    let before = tree_bytes(&env.site);
    let a = env.json(&[
        "package", "add", "--type", "package", "--name", "First", "first",
    ]);
    let after_first = tree_bytes(&env.site);
    let b = env.json(&[
        "package",
        "add",
        "--type",
        "os-upgrade",
        "--name",
        "Second",
        "second",
    ]);
    let after_second = tree_bytes(&env.site);

    assert_eq!(a["size"], GIB);
    assert_eq!(b["size"], GIB);
    assert_ne!(
        a["content_hash"], b["content_hash"],
        "the paths differ, so the manifests do"
    );
    let grew_first = after_first - before;
    let grew_second = after_second - after_first;
    // The first import stores the gibibyte (plus a few KiB of database).
    assert!(
        (GIB..GIB + GIB / 100).contains(&grew_first),
        "first import grew the site by {grew_first} bytes"
    );
    // The second stores nothing new: under 1% of a gibibyte (manifest rows only).
    assert!(
        grew_second < GIB / 100,
        "second import grew the site by {grew_second} bytes"
    );
    assert_eq!(env.library_files().len(), 16);
    env.ok(&["content", "verify"]);
}

#[test]
fn update_increments_the_source_version_and_verify_catches_tampering() {
    let env = Env::new();
    env.write("pkg/setup.cmd", b"echo version 1\r\n");
    env.write("pkg/data/shared.bin", &[7u8; 4096]);
    let p = env.json(&[
        "package", "add", "--type", "package", "--name", "Scripts", "pkg",
    ]);
    let id = p["id"].as_str().unwrap().to_string();
    assert_eq!(p["source_version"], 1);
    assert_eq!(p["content_id"], format!("{id}.1"));
    env.ok(&["content", "verify", &id]);

    // New content: the version increases, the old version stays.
    env.write("pkg/setup.cmd", b"echo version 2\r\n");
    env.write("pkg/new.txt", b"added in version 2");
    let p2 = env.json(&["package", "update", &id]);
    assert_eq!(p2["source_version"], 2);
    assert_eq!(p2["content_id"], format!("{id}.2"));
    assert_ne!(p2["content_hash"], p["content_hash"]);
    // Unchanged content still makes a new version.
    let p3 = env.json(&["package", "update", &id]);
    assert_eq!(p3["source_version"], 3);
    assert_eq!(p3["content_hash"], p2["content_hash"]);
    let shown = env.ok(&["package", "show", &id]);
    for v in 1..=3 {
        assert!(shown.contains(&format!("{id}.{v}")), "{shown}");
    }
    let report = env.json(&["content", "verify"]);
    assert_eq!(report["problems"].as_array().unwrap().len(), 0);
    assert_eq!(report["content_ids"].as_array().unwrap().len(), 3);
    // shared.bin is stored once for all three versions; the setup.cmd versions twice.
    assert_eq!(env.library_files().len(), 4);

    // Alter the library file holding version 2's new.txt.
    let v2 = env.json(&["content", "show", &format!("{id}.2")]);
    let entry = v2["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "new.txt")
        .unwrap()
        .clone();
    let lib_path = std::path::PathBuf::from(entry["library_path"].as_str().unwrap());
    std::fs::write(&lib_path, b"added in version 2, then tampered with").unwrap();
    let err = env.fail(
        &["content", "verify"],
        &[&id, "version 2", "new.txt", "changed"],
    );
    assert!(
        err.contains("version 3"),
        "version 3 shares the file and must be named too: {err}"
    );
    let out = env
        .cmd()
        .args(["content", "verify", "--json"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let problems = report["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 2);
    assert_eq!(problems[0]["package_id"], id.as_str());
    assert_eq!(problems[0]["version"], 2);
    assert_eq!(problems[0]["path"], "new.txt");
    assert_eq!(problems[0]["problem"]["kind"], "changed");
    // Version 1 does not use that file and is still intact.
    env.ok(&["content", "verify", &format!("{id}.1")]);
    // Damaged content is not distributed.
    env.ok(&["dp", "add", "dp1", "--url", "http://dp1"]);
    env.fail(
        &["content", "distribute", &id, "--dp", "dp1"],
        &[&id, "new.txt", "dp1"],
    );

    // A missing library file is named as missing.
    std::fs::remove_file(&lib_path).unwrap();
    env.fail(&["content", "verify", &id], &[&id, "new.txt", "missing"]);
    // Refreshing the package from its source stores the file again and repairs nothing
    // silently: the old versions still fail, the new one passes.
    let p4 = env.json(&["package", "update", &id]);
    assert_eq!(p4["source_version"], 4);
    env.ok(&["content", "verify", &format!("{id}.4")]);
    env.ok(&["content", "verify", &format!("{id}.1")]);
}

#[test]
fn prune_removes_old_versions_and_unused_files_only() {
    let env = Env::new();
    env.write("a/keep.bin", &[1u8; 1000]);
    env.write("a/old.bin", &[2u8; 1000]);
    let id = env
        .ok(&["package", "add", "--type", "package", "--name", "A", "a"])
        .trim()
        .to_string();
    env.write("b/keep.bin", &[1u8; 1000]);
    env.ok(&["package", "add", "--type", "package", "--name", "B", "b"]);
    std::fs::remove_file(env.path("a/old.bin")).unwrap();
    env.write("a/new.bin", &[3u8; 1000]);
    env.ok(&["package", "update", &id]);
    assert_eq!(env.library_files().len(), 3);
    let report = env.json(&["package", "prune"]);
    assert_eq!(report["removed"], serde_json::json!([format!("{id}.1")]));
    assert_eq!(report["files_removed"], 1);
    assert_eq!(report["bytes_freed"], 1000);
    assert_eq!(env.library_files().len(), 2);
    env.fail(
        &["content", "show", &format!("{id}.1")],
        &[&format!("{id}.1")],
    );
    env.ok(&["content", "verify"]);
}
