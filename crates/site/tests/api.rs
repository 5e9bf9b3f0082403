//! The library API that the media builder and the MP/DP server use, and the guarantee that a
//! failure inside a change leaves the database as it was.

use std::path::Path;

use tsmedia_site::{Arch, Availability, Error, PackageOptions, PackageType, Purpose, Site};

fn site(dir: &Path) -> Site {
    Site::init(&dir.join("site"), "XYZ", Some("API")).unwrap()
}

fn source(dir: &Path, name: &str, files: &[(&str, &[u8])]) -> std::path::PathBuf {
    let root = dir.join(name);
    for (path, data) in files {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }
    root
}

fn raw_db(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join("site/site.db")).unwrap()
}

fn count(db: &rusqlite::Connection, table: &str) -> i64 {
    db.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_failure_inside_add_or_update_leaves_nothing_half_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut site = site(dir.path());
    let src = source(dir.path(), "src", &[("a.txt", b"a"), ("b/c.txt", b"c")]);
    // Make the second manifest row fail, after the package and content version rows and the
    // first manifest row were written.
    let db = raw_db(dir.path());
    db.execute_batch(
        "CREATE TRIGGER fail_late BEFORE INSERT ON manifest_entries WHEN NEW.path = 'b/c.txt'
         BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
    )
    .unwrap();
    let err = site
        .add_package(PackageType::Package, "P", &src, &PackageOptions::default())
        .unwrap_err();
    assert!(chain(&err).contains("injected failure"), "{err}");
    for table in [
        "packages",
        "content_versions",
        "manifest_entries",
        "library_files",
        "package_dependencies",
    ] {
        assert_eq!(count(&db, table), 0, "{table} was half-written");
    }
    let next: i64 = db
        .query_row("SELECT next_object FROM site", [], |r| r.get(0))
        .unwrap();
    assert_eq!(next, 1, "the ID allocation was not rolled back");

    db.execute_batch("DROP TRIGGER fail_late").unwrap();
    let p = site
        .add_package(PackageType::Package, "P", &src, &PackageOptions::default())
        .unwrap();
    assert_eq!(p.id, "XYZ00001");

    // The same for an update: the source version stays.
    std::fs::write(src.join("b/c.txt"), b"changed").unwrap();
    db.execute_batch(
        "CREATE TRIGGER fail_update BEFORE INSERT ON manifest_entries WHEN NEW.content_id = 'XYZ00001.2'
         AND NEW.path = 'b/c.txt' BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
    )
    .unwrap();
    assert!(site.update_package("XYZ00001", None).is_err());
    assert_eq!(site.package("XYZ00001").unwrap().source_version, 1);
    assert_eq!(site.content_versions("XYZ00001").unwrap().len(), 1);
    db.execute_batch("DROP TRIGGER fail_update").unwrap();
    assert_eq!(
        site.update_package("XYZ00001", None)
            .unwrap()
            .source_version,
        2
    );
    // Library files stored by the failed attempt are referenced now, so verify passes.
    assert!(site.verify_content(&[]).unwrap().is_ok());
}

#[test]
fn content_files_point_into_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let mut site = site(dir.path());
    let src = source(
        dir.path(),
        "src",
        &[("x/one.bin", &[1; 100]), ("two.bin", &[2; 50])],
    );
    let p = site
        .add_package(
            PackageType::Driver,
            "D",
            &src,
            &PackageOptions {
                arch: Some(Arch::X64),
                ..Default::default()
            },
        )
        .unwrap();
    let files = site.content_files(&p.content_id).unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0].path, "two.bin");
    assert_eq!(files[1].path, "x/one.bin");
    for f in &files {
        assert_eq!(std::fs::metadata(&f.library_path).unwrap().len(), f.size);
        assert_eq!(tsmedia_site::hash_file(&f.library_path).unwrap().0, f.hash);
    }
    assert_eq!(p.size, 150);
    assert!(site.package_of_type(&p.id, PackageType::BootImage).is_err());
    assert!(matches!(
        site.package("xyz0dead"),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn media_deployments_computers_and_points() {
    let dir = tempfile::tempdir().unwrap();
    let mut site = site(dir.path());
    let xml = r#"<sequence version="3.10"><step type="SMS_TaskSequence_RunCommandLineAction" name="Hi"><action>cmd</action></step></sequence>"#;
    let ts = site.import_task_sequence(xml, "TS", None).unwrap();
    assert!(ts.unresolved.is_empty());

    // Unknown Computer records for each architecture, distinct GUIDs.
    let x86 = site.unknown_computer(Arch::X86).unwrap();
    let x64 = site.unknown_computer(Arch::X64).unwrap();
    let arm = site.unknown_computer(Arch::Arm64).unwrap();
    assert_eq!(x64.unknown_arch, Some(Arch::X64));
    assert_ne!(x86.sms_guid, x64.sms_guid);
    assert_ne!(x64.sms_guid, arm.sms_guid);

    let pc = site
        .import_computer(
            "PC1",
            "4C4C4544-0042-3510-8052-B4C04F564433",
            "00:15:5D:00:00:01",
        )
        .unwrap();
    assert_eq!(
        site.find_computer(Some("{4c4c4544-0042-3510-8052-b4c04f564433}"), None)
            .unwrap()
            .unwrap()
            .id,
        pc.id
    );
    assert_eq!(
        site.find_computer(None, Some("00-15-5d-00-00-01"))
            .unwrap()
            .unwrap()
            .id,
        pc.id
    );
    assert!(
        site.find_computer(Some("00000000-0000-0000-0000-000000000000"), None)
            .unwrap()
            .is_none()
    );

    site.add_collection("Lab").unwrap();
    site.add_collection_members("Lab", &["PC1".into()]).unwrap();
    let hidden = site
        .deploy(
            &ts.id,
            "Lab",
            Availability::MediaPxeHidden,
            Purpose::Available,
        )
        .unwrap();
    let unknown = site
        .deploy(
            &ts.id,
            "All Unknown Computers",
            Availability::ClientsMediaPxe,
            Purpose::Required,
        )
        .unwrap();
    site.deploy(
        &ts.id,
        "All Systems",
        Availability::Clients,
        Purpose::Available,
    )
    .unwrap();

    let ids = |d: Vec<tsmedia_site::Deployment>| d.into_iter().map(|d| d.id).collect::<Vec<_>>();
    assert_eq!(
        ids(site.deployments_for_media(None).unwrap()),
        [hidden.id.clone(), unknown.id.clone()]
    );
    assert_eq!(
        ids(site.deployments_for_media(Some(pc.id)).unwrap()),
        vec![hidden.id.clone()]
    );
    assert_eq!(
        ids(site.deployments_for_media(Some(x64.id)).unwrap()),
        vec![unknown.id.clone()]
    );
    assert!(hidden.availability.hidden());

    // Distribution point read access and management point boundaries.
    site.add_distribution_point("dp1", "http://dp1").unwrap();
    site.grant_dp_read("dp1", "LAB\\Builders").unwrap();
    assert!(site.has_dp_read_access("DP1", "lab\\builders").unwrap());
    assert!(!site.has_dp_read_access("dp1", "LAB\\Others").unwrap());
    site.add_management_point("mp-branch", "http://mpb", &["10.2.0.0/16".into()])
        .unwrap();
    site.add_management_point("mp-main", "http://mpm", &[])
        .unwrap();
    let for_branch: Vec<String> = site
        .management_points_for("10.2.3.4".parse().unwrap())
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(for_branch, ["mp-branch", "mp-main"]);
    let for_other: Vec<String> = site
        .management_points_for("10.9.3.4".parse().unwrap())
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(for_other, ["mp-main"]);

    // An unregistered certificate is refused like a blocked one.
    assert!(site.certificate_refused("00").unwrap());
}

#[test]
fn a_site_reopens_with_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let src = source(dir.path(), "src", &[("a", b"a")]);
    {
        let mut site = site(dir.path());
        site.add_package(
            PackageType::Application,
            "A",
            &src,
            &PackageOptions::default(),
        )
        .unwrap();
    }
    let site = Site::open(&dir.path().join("site")).unwrap();
    assert_eq!(site.code(), "XYZ");
    assert_eq!(site.packages().unwrap().len(), 1);
    assert_eq!(
        site.info().unwrap().schema_version,
        tsmedia_site::SCHEMA_VERSION
    );
}

/// The error and its causes, as the CLI prints them.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(&format!(": {c}"));
        cause = c.source();
    }
    out
}
