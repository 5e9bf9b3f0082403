//! The hand-written corpus under tests/corpus: every document imports, renders every node,
//! survives export → import unchanged, and yields the expected content references.

use std::path::PathBuf;

use tsmedia_tasksequence::{Node, ReferenceKind, ReferenceSource, TaskSequence};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn load(name: &str) -> TaskSequence {
    let path = corpus_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    TaskSequence::from_xml(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// (file, expected distinct package/application IDs)
const CORPUS: &[(&str, &[&str])] = &[
    (
        "cm2007_deploy.xml",
        &["CEN00002", "CEN00012", "CEN00013", "CEN0001A"],
    ),
    (
        "cb_deploy.xml",
        &[
            "PS100004",
            "PS100005",
            "PS100007",
            "PS10000A",
            "PS10000B",
            "PS10000C",
            "PS100011",
            "ScopeId_8F4C1A2B-3D4E-4F50-9A6B-7C8D9E0F1A2B/Application_0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        ],
    ),
    ("mdt_client.xml", &[]),
    ("mdt_server.xml", &[]),
    ("nested_conditions.xml", &["PS100020"]),
    ("disabled.xml", &["LAB00031"]),
    ("unknown.xml", &["LAB000FF"]),
    ("capture.xml", &["PS100030"]),
];

#[test]
fn corpus_is_complete() {
    let mut on_disk: Vec<String> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".xml"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = CORPUS.iter().map(|(n, _)| n.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "every corpus file is listed in CORPUS");
}

fn walk<'a>(nodes: &'a [Node], out: &mut Vec<&'a Node>) {
    for n in nodes {
        out.push(n);
        if let Node::Group(g) = n {
            walk(&g.children, out);
        }
    }
}

#[test]
fn render_tree_shows_every_node() {
    for (name, _) in CORPUS {
        let ts = load(name);
        let tree = ts.render_tree();
        let mut nodes = Vec::new();
        walk(&ts.steps, &mut nodes);
        assert!(!nodes.is_empty(), "{name} has nodes");
        let lines: Vec<&str> = tree.lines().collect();
        let node_lines: Vec<&&str> = lines
            .iter()
            .filter(|l| {
                let t = l.trim_start();
                t.starts_with("+ ") || t.starts_with("- ")
            })
            .collect();
        assert_eq!(node_lines.len(), nodes.len(), "{name}:\n{tree}");
        for (node, line) in nodes.iter().zip(&node_lines) {
            assert!(
                line.contains(node.name()),
                "{name}: {line} lacks {}",
                node.name()
            );
            assert_eq!(
                line.contains("(disabled)"),
                node.disabled(),
                "{name}: {line}"
            );
            assert_eq!(
                line.contains("(continue on error)"),
                node.continue_on_error(),
                "{name}: {line}"
            );
        }
        let conditioned = nodes.iter().filter(|n| n.condition().is_some()).count();
        let if_lines = lines
            .iter()
            .filter(|l| l.trim_start().starts_with("if "))
            .count();
        assert_eq!(conditioned, if_lines, "{name}:\n{tree}");
    }
}

#[test]
fn export_reimports_to_an_equal_model() {
    for (name, _) in CORPUS {
        let ts = load(name);
        let xml = ts.to_xml();
        let again = TaskSequence::from_xml(&xml).unwrap_or_else(|e| panic!("{name}: {e}\n{xml}"));
        assert_eq!(ts, again, "{name}:\n{xml}");
        assert_eq!(xml, again.to_xml(), "{name}: export is stable");
        let json = serde_json::to_string(&ts).unwrap();
        let back: TaskSequence = serde_json::from_str(&json).unwrap();
        assert_eq!(ts, back, "{name}: JSON round trip");
    }
}

#[test]
fn references_are_found() {
    for (name, expected) in CORPUS {
        let ts = load(name);
        let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(ts.package_ids(), want, "{name}: {:#?}", ts.references());
    }
}

#[test]
fn reference_kinds_and_sources() {
    let ts = load("cb_deploy.xml");
    let refs = ts.references();
    let kind_of = |id: &str, step: &str| {
        refs.iter()
            .find(|r| r.package_id == id && r.step == step)
            .map(|r| r.kind)
    };
    assert_eq!(
        kind_of("PS100004", "Apply Operating System"),
        Some(ReferenceKind::OsImage)
    );
    assert_eq!(
        kind_of("PS100011", "Apply Data Image 1"),
        Some(ReferenceKind::OsImage)
    );
    assert_eq!(
        kind_of("PS100007", "Apply Driver Package - Latitude 7440"),
        Some(ReferenceKind::DriverPackage)
    );
    assert_eq!(
        kind_of("PS100005", "Setup Windows and Configuration Manager"),
        Some(ReferenceKind::ClientPackage)
    );
    assert_eq!(
        kind_of("PS10000A", "Download Package Content"),
        Some(ReferenceKind::Package)
    );
    assert_eq!(
        kind_of("PS10000C", "Configure Start Menu"),
        Some(ReferenceKind::Package)
    );
    assert!(refs.iter().any(|r| r.kind == ReferenceKind::Application
        && r.step == "Install Application"
        && r.found_in
            == ReferenceSource::StepVariable {
                name: "OSDApp0Name".into()
            }));
    // The action and the variable both name the OS image.
    let os: Vec<_> = refs.iter().filter(|r| r.package_id == "PS100004").collect();
    assert!(os.iter().any(|r| r.found_in
        == ReferenceSource::Action {
            switch: "image".into()
        }));
    assert!(os.iter().any(|r| matches!(&r.found_in, ReferenceSource::StepVariable { name } if name == "OSDImagePackageId")));
    assert!(
        os.iter()
            .any(|r| r.found_in == ReferenceSource::ReferenceList)
    );
    // referenceList entries take the kind found in the steps.
    assert!(os.iter().all(|r| r.kind == ReferenceKind::OsImage));

    let cm = load("cm2007_deploy.xml");
    let config: Vec<_> = cm
        .references()
        .into_iter()
        .filter(|r| r.package_id == "CEN00013")
        .collect();
    assert_eq!(config.len(), 2);
    assert!(config.iter().all(|r| r.kind == ReferenceKind::Package));

    let disabled = load("disabled.xml");
    let refs = disabled.references();
    assert!(
        refs.iter().all(|r| r.disabled),
        "the legacy agent sits in a disabled group"
    );
}

#[test]
fn unknown_content_is_kept_verbatim() {
    let ts = load("unknown.xml");
    let xml = ts.to_xml();
    for needle in [
        "xmlns:ext=\"urn:example:tsmedia-ext\"",
        "ext:generator=\"lab\"",
        "futureFlag=\"yes\"",
        "<ext:metadata owner=\"lab team\"><ext:note>first line\nsecond line</ext:note><!-- keep me --><empty /></ext:metadata>",
        "type=\"SMS_TaskSequence_QuantumPrepareAction\"",
        "retryCount=\"3\"",
        "timeout=\"600\"",
        "<telemetry enabled=\"true\"><endpoint>https://telemetry.example.invalid/ts</endpoint><retries>2</retries></telemetry>",
        "ext:unit=\"qubit\"",
        "hidden=\"false\"",
        "<expression type=\"Contoso_LicenseConditionExpression\" strict=\"true\">",
        "<action>vendor.exe --mode \"a&amp;b\" &lt;fast&gt;</action>",
        "ext:color=\"blue\"",
        "<action />",
        "<ext:trailer checksum=\"0\" />",
        "successCodeList=\"-1 0 2147942402\"",
    ] {
        assert!(xml.contains(needle), "export lacks {needle}:\n{xml}");
    }
    assert_eq!(ts.version.as_deref(), Some("3.20"));
}
