//! Every command that honours `SOURCE_DATE_EPOCH` refuses an invalid value the same way: one
//! message naming the variable and the value, exit code 2 (bad command line), nothing written.

use assert_cmd::Command;

/// The commands that stamp their output with the build clock, each given enough arguments
/// to get past the command line.
fn commands(dir: &std::path::Path) -> Vec<(&'static str, Vec<String>)> {
    let p = |rel: &str| dir.join(rel).to_string_lossy().into_owned();
    let src = p("src");
    vec![
        (
            "wim capture",
            vec!["wim".into(), "capture".into(), src.clone(), p("c.wim")],
        ),
        (
            "wim append",
            vec!["wim".into(), "append".into(), src, p("a.wim")],
        ),
        (
            "media create",
            vec![
                "--site".into(),
                p("site"),
                "media".into(),
                "create".into(),
                "bootable".into(),
                "--out".into(),
                p("set"),
            ],
        ),
    ]
}

#[test]
fn an_invalid_source_date_epoch_is_refused_the_same_way_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/file.txt"), b"data").unwrap();
    for value in ["abc", "-5", "1e9"] {
        let expected = format!(
            "error: SOURCE_DATE_EPOCH={value:?} is not a whole number of seconds since 1970-01-01"
        );
        for (name, args) in commands(dir.path()) {
            let out = Command::cargo_bin("tsmedia")
                .unwrap()
                .args(&args)
                .env("SOURCE_DATE_EPOCH", value)
                .current_dir(dir.path())
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{name} {value}: {stderr}");
            assert!(
                stderr.starts_with(&expected),
                "{name} {value}: expected {expected:?}, got:\n{stderr}"
            );
        }
        for written in ["c.wim", "a.wim", "set", "site"] {
            assert!(!dir.path().join(written).exists(), "{written} was written");
        }
    }
}
