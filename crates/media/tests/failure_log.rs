//! `CreateTSMedia.log` on failure: preflight failures and write errors are logged beside the
//! output (or at `--log`) in CMTrace format, and no partial media are left behind.

mod common;

use common::*;
use tsmedia_media::{BuildOptions, MediaKind, build, write_failure_log};

fn names(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn error_lines(log: &str) -> Vec<&str> {
    log.lines().filter(|l| l.contains("type=\"3\"")).collect()
}

#[test]
fn preflight_failures_are_logged_beside_the_set_without_making_it() {
    let f = fixture();
    let mut spec = f.spec(MediaKind::Bootable, "set");
    spec.label = Some("L".repeat(40));
    spec.arch = Some("arm64".into());
    let failures = f.plan(&spec).unwrap_err();
    assert_eq!(failures.len(), 2, "{failures:#?}");
    let before = files_under(f.dir.path()).len();
    let log = write_failure_log(&spec, &f.plan_options(), &failures).unwrap();
    // The set's folder does not exist: the log goes beside where it would have been.
    assert_eq!(log, f.path("CreateTSMedia.log"));
    assert!(
        !f.path("set").exists(),
        "a failed build made the set folder"
    );
    assert_eq!(files_under(f.dir.path()).len(), before + 1, "only the log");
    let text = std::fs::read_to_string(&log).unwrap();
    let errors = error_lines(&text);
    assert_eq!(errors.len(), 3, "{text}");
    assert!(
        errors[0].contains("--label") && errors[0].contains("fix:"),
        "{text}"
    );
    assert!(errors[1].contains("cannot boot arm64"), "{text}");
    assert!(errors[2].contains("nothing was written"), "{text}");
    assert!(text.starts_with("<![LOG["), "CMTrace: {text}");

    // With an existing set folder the log goes into it; with --log, there.
    std::fs::create_dir(f.path("set")).unwrap();
    assert_eq!(
        write_failure_log(&spec, &f.plan_options(), &failures).unwrap(),
        f.path("set/CreateTSMedia.log")
    );
    spec.log = Some(f.path("logs.txt"));
    assert_eq!(
        write_failure_log(&spec, &f.plan_options(), &failures).unwrap(),
        f.path("logs.txt")
    );
    assert!(
        std::fs::read_to_string(f.path("logs.txt"))
            .unwrap()
            .contains("cannot boot arm64")
    );
}

#[test]
fn a_write_error_is_logged_and_leaves_no_partial_media() {
    let f = fixture();
    let mut spec = f.spec(MediaKind::Standalone, "set");
    spec.password = Some("pw".into());
    // A first build succeeds; its ISO must survive the failed rebuild.
    let plan = f.plan(&spec).unwrap();
    build(&mut f.site(), &plan, &BuildOptions::default()).unwrap();
    let old = std::fs::read(f.path("set/set.iso")).unwrap();

    // A content file of the library shrinks after preflight: the ISO writer finds it short.
    let plan = f.plan(&spec).unwrap();
    let victim = plan
        .content
        .iter()
        .flat_map(|c| &c.files)
        .find(|e| e.path.ends_with("file001.bin"))
        .expect("a tools file")
        .library_path
        .clone();
    std::fs::write(&victim, b"short").unwrap();
    let err = build(&mut f.site(), &plan, &BuildOptions::default()).unwrap_err();
    let shown = format!("{err}");
    assert!(shown.contains("set.iso"), "{shown}");
    assert!(
        std::fs::read(f.path("set/set.iso")).unwrap() == old,
        "the previous ISO was changed"
    );
    assert_eq!(names(&f.path("set")), ["CreateTSMedia.log", "set.iso"]);
    let text = std::fs::read_to_string(f.path("set/CreateTSMedia.log")).unwrap();
    let errors = error_lines(&text);
    assert_eq!(errors.len(), 2, "{text}");
    assert!(errors[0].contains("Media creation failed") && errors[0].contains("set.iso"));
    assert!(errors[1].contains("existing outputs were kept"), "{text}");
    assert!(
        text.contains("Preflight OK"),
        "the log has the whole story:\n{text}"
    );

    // A failed first build of a new set leaves no folder, only the log beside it.
    let mut spec2 = spec.clone();
    spec2.out = f.path("fresh");
    let plan = f.plan(&spec2).unwrap();
    assert!(build(&mut f.site(), &plan, &BuildOptions::default()).is_err());
    assert!(
        !f.path("fresh").exists(),
        "the failed build left its folder"
    );
    let text = std::fs::read_to_string(f.path("CreateTSMedia.log")).unwrap();
    assert!(text.contains("fresh.iso"), "{text}");
}
