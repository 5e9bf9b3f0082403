//! `tsmedia ts` over the task sequence corpus (crates/tasksequence/tests/corpus): every file
//! imports, shows every step, exports, and re-imports to an equal model.

mod site_common;

use std::path::PathBuf;

use serde_json::Value;
use site_common::Env;

fn corpus() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tasksequence/tests/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    files.sort();
    files
}

/// Names of every group and step, depth first.
fn names(nodes: &Value, out: &mut Vec<String>) {
    for node in nodes.as_array().expect("a node list") {
        out.push(node["name"].as_str().expect("a name").to_string());
        if let Some(children) = node.get("children") {
            names(children, out);
        }
    }
}

/// The model without the site's bookkeeping.
fn model(mut v: Value) -> Value {
    let obj = v.as_object_mut().expect("an object");
    for key in ["id", "name", "boot_image", "created_at", "updated_at"] {
        obj.remove(key);
    }
    v
}

#[test]
fn the_corpus_imports_shows_exports_and_reimports_equal() {
    let files = corpus();
    assert!(
        files.len() >= 6,
        "the corpus has only {} task sequences",
        files.len()
    );
    let env = Env::new();
    for file in &files {
        let stem = file.file_stem().unwrap().to_str().unwrap();
        let out = env.cmd().args(["ts", "import"]).arg(file).output().unwrap();
        assert!(
            out.status.success(),
            "{stem}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let id = String::from_utf8(out.stdout).unwrap().trim().to_string();
        let first = env.json(&["ts", "show", &id]);
        assert_eq!(first["name"], stem, "the name defaults to the file name");
        let mut all = Vec::new();
        names(&first["steps"], &mut all);
        assert!(!all.is_empty(), "{stem}: no steps");
        let tree = env.ok(&["ts", "show", &id]);
        for name in &all {
            assert!(
                tree.contains(name.as_str()),
                "{stem}: the tree does not show {name:?}:\n{tree}"
            );
        }
        // Every step in the JSON has the fields a console shows.
        fn check_steps(nodes: &Value, stem: &str) {
            for node in nodes.as_array().unwrap() {
                if node["kind"] == "step" {
                    for field in ["name", "type", "disabled", "condition", "variables"] {
                        assert!(
                            node.get(field).is_some(),
                            "{stem}: step lacks {field}: {node}"
                        );
                    }
                } else {
                    check_steps(&node["children"], stem);
                }
            }
        }
        check_steps(&first["steps"], stem);

        let exported = env.path(&format!("{stem}.export.xml"));
        env.ok(&["ts", "export", &id, "-o", exported.to_str().unwrap()]);
        let again = env.ok(&[
            "ts",
            "import",
            exported.to_str().unwrap(),
            "--name",
            &format!("{stem} again"),
        ]);
        let second = env.json(&["ts", "show", again.trim()]);
        assert_eq!(
            model(first.clone()),
            model(second),
            "{stem}: export → import changed the model"
        );
        // References are listed for every corpus file without error; unresolved ones are
        // marked, never dropped.
        let refs = env.json(&["ts", "references", &id]);
        for r in refs.as_array().unwrap() {
            assert_eq!(r["resolved"], false, "{stem}: nothing is in this site: {r}");
        }
    }
    assert_eq!(
        env.json(&["ts", "list"]).as_array().unwrap().len(),
        files.len() * 2
    );
}

#[test]
fn references_resolve_to_site_packages_and_unresolved_ones_are_listed() {
    // Site code PS1 with packages up to PS100004, so cb_deploy's references to PS100004 and
    // PS100005 resolve and the rest do not.
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    let run = |args: &[&str]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_tsmedia"));
        let out = c.arg("--site").arg(&site).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    run(&["site", "init", "--code", "PS1"]);
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("f"), b"x").unwrap();
    for i in 1..=5 {
        run(&[
            "package",
            "add",
            "--type",
            "package",
            "--name",
            &format!("P{i}"),
            src.to_str().unwrap(),
        ]);
    }
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tasksequence/tests/corpus/cb_deploy.xml");
    let (id, warnings) = run(&["ts", "import", file.to_str().unwrap()]);
    let refs: Value =
        serde_json::from_str(&run(&["ts", "references", id.trim(), "--json"]).0).unwrap();
    let refs = refs.as_array().unwrap();
    let resolved: Vec<&str> = refs
        .iter()
        .filter(|r| r["resolved"] == true)
        .map(|r| r["package_id"].as_str().unwrap())
        .collect();
    let unresolved: Vec<&str> = refs
        .iter()
        .filter(|r| r["resolved"] == false)
        .map(|r| r["package_id"].as_str().unwrap())
        .collect();
    assert!(
        resolved.contains(&"PS100004") && resolved.contains(&"PS100005"),
        "{refs:?}"
    );
    assert!(!unresolved.is_empty());
    for u in &unresolved {
        assert!(
            warnings.contains(u),
            "{u} not listed at import:\n{warnings}"
        );
    }
    for r in &resolved {
        assert!(!warnings.contains(r), "{r} resolved but warned about");
    }
}

/// UTF-16 as Windows tools write it: `big_endian` with a byte order mark, else little endian
/// without one.
fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if big_endian {
        out.extend([0xFE, 0xFF]);
    }
    for u in text.encode_utf16() {
        out.extend(if big_endian {
            u.to_be_bytes()
        } else {
            u.to_le_bytes()
        });
    }
    out
}

#[test]
fn utf16_be_and_bom_less_utf16_le_files_import_like_utf8() {
    let file = corpus()
        .into_iter()
        .find(|f| f.ends_with("cm2007_deploy.xml"))
        .expect("cm2007_deploy.xml in the corpus");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with('<'),
        "a BOM-less UTF-16LE file starts with '<'"
    );
    let env = Env::new();
    let utf8 = env.ok(&["ts", "import", file.to_str().unwrap(), "--name", "utf8"]);
    let expected = model(env.json(&["ts", "show", utf8.trim()]));
    for (name, bytes) in [
        ("be-bom", utf16(&text, true)),
        ("le-no-bom", utf16(&text, false)),
    ] {
        let path = env.write(&format!("{name}.xml"), &bytes);
        let id = env.ok(&["ts", "import", path.to_str().unwrap(), "--name", name]);
        assert_eq!(
            model(env.json(&["ts", "show", id.trim()])),
            expected,
            "{name}: imported a different task sequence"
        );
    }
}
