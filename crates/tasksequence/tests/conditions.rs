//! Table-driven condition evaluation against fake and real hosts.

use std::collections::HashMap;
use std::io;

use tsmedia_tasksequence::condition::evaluate;
use tsmedia_tasksequence::host::{FileFacts, FolderFacts, InstalledProduct, RegistryValue};
use tsmedia_tasksequence::{
    Answer, Condition, ConditionContext, FsProbe, HostProbe, Node, NotAvailable, SystemQuery,
    TaskSequence, Truth, Variables,
};

/// In-memory files and folders, keyed by lower-cased Windows path.
#[derive(Default)]
struct FakeHost {
    files: HashMap<String, FileFacts>,
    folders: HashMap<String, FolderFacts>,
    broken: Option<String>,
}

impl HostProbe for FakeHost {
    fn file(&self, path: &str) -> io::Result<Option<FileFacts>> {
        if self.broken.as_deref() == Some(path) {
            return Err(io::Error::new(io::ErrorKind::PermissionDenied, "denied"));
        }
        Ok(self.files.get(&path.to_lowercase()).cloned())
    }
    fn folder(&self, path: &str) -> io::Result<Option<FolderFacts>> {
        Ok(self.folders.get(&path.to_lowercase()).cloned())
    }
}

struct FakeSystem;

impl SystemQuery for FakeSystem {
    fn wmi_has_instances(&self, namespace: &str, query: &str) -> Answer<bool> {
        assert_eq!(namespace, "root\\cimv2");
        Answer::Available(query.contains("Latitude"))
    }
    fn registry_key_exists(&self, key_path: &str) -> Answer<bool> {
        Answer::Available(key_path.eq_ignore_ascii_case("HKLM\\SOFTWARE\\Contoso"))
    }
    fn registry_value(&self, key_path: &str, value_name: &str) -> Answer<Option<RegistryValue>> {
        if !key_path.eq_ignore_ascii_case("HKLM\\SOFTWARE\\Contoso") {
            return Answer::Available(None);
        }
        Answer::Available(match value_name {
            "Build" => Some(RegistryValue::Dword(120)),
            "InstallDir" => Some(RegistryValue::Sz("C:\\Contoso".into())),
            _ => None,
        })
    }
    fn installed_products(&self) -> Answer<Vec<InstalledProduct>> {
        Answer::Available(vec![InstalledProduct {
            product_code: "{11111111-2222-3333-4444-555555555555}".into(),
            upgrade_code: Some("{AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE}".into()),
            name: "Contoso Agent".into(),
            version: "2.5.0".into(),
        }])
    }
}

fn expr(kind: &str, params: &[(&str, &str)]) -> String {
    let vars: String = params
        .iter()
        .map(|(n, v)| format!("<variable name=\"{n}\">{v}</variable>"))
        .collect();
    format!("<expression type=\"SMS_TaskSequence_{kind}ConditionExpression\">{vars}</expression>")
}

fn var(name: &str, op: &str, value: &str) -> String {
    expr(
        "Variable",
        &[("Variable", name), ("Operator", op), ("Value", value)],
    )
}

fn condition(inner: &str) -> Condition {
    let xml = format!(
        "<sequence><step name=\"s\" type=\"t\"><condition>{inner}</condition></step></sequence>"
    );
    let ts = TaskSequence::from_xml(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    match ts.steps.into_iter().next() {
        Some(Node::Step(s)) => s.condition.expect("condition"),
        _ => panic!("no step"),
    }
}

fn env() -> Variables {
    let mut v = Variables::new();
    v.set_builtin("_SMSTSMediaType", "FullMedia").unwrap();
    v.set_builtin("_SMSTSInWinPE", "true").unwrap();
    v.set("Memory", "8192").unwrap();
    v.set("Model", "Latitude 7440").unwrap();
    v.set("OSBuild", "22631").unwrap();
    v.set("Empty", "").unwrap();
    v.set("Root", "X:").unwrap();
    v
}

fn host() -> FakeHost {
    let mut h = FakeHost::default();
    h.files.insert(
        "x:\\tools\\flash.exe".into(),
        FileFacts {
            modified: Some(1_705_320_000), // 2024-01-15 12:00:00 UTC
            version: Some("1.2.3.4".into()),
        },
    );
    h.files.insert(
        "x:\\tools\\readme.txt".into(),
        FileFacts {
            modified: None,
            version: None,
        },
    );
    h.folders.insert(
        "x:\\tools".into(),
        FolderFacts {
            modified: Some(1_705_320_000),
        },
    );
    h.broken = Some("X:\\locked.bin".into());
    h
}

#[test]
fn variable_expressions() {
    use Truth::*;
    let table: &[(String, Truth)] = &[
        (var("_SMSTSMediaType", "equals", "FullMedia"), True),
        (var("_smstsmediatype", "equals", "fullmedia"), True),
        (var("_SMSTSMediaType", "notEquals", "OEMMedia"), True),
        (var("_SMSTSMediaType", "notEquals", "FullMedia"), False),
        (var("Unset", "notEquals", "OEMMedia"), True),
        (var("Unset", "equals", ""), True),
        (var("Empty", "exists", ""), True),
        (var("Unset", "exists", ""), False),
        (var("Unset", "notExists", ""), True),
        (var("Memory", "notExists", ""), False),
        (var("Memory", "greater", "4096"), True),
        (var("Memory", "greater", "10000"), False),
        (var("Memory", "greaterEqual", "8192"), True),
        (var("Memory", "less", "10000"), True),
        (var("Memory", "lessEqual", "8191"), False),
        (var("OSBuild", "less", "22631"), False),
        (var("OSBuild", "lessEqual", "22631"), True),
        (var("Model", "like", "%latitude%"), True),
        (var("Model", "like", "Latitude 74_0"), True),
        (var("Model", "like", "Precision%"), False),
        (var("Model", "sounds", "x"), Unknown),
        (
            expr("Variable", &[("Variable", "Model")]),
            Unknown, // no Operator parameter
        ),
    ];
    run_table(table, &FakeSystem);
}

#[test]
fn file_and_folder_expressions() {
    use Truth::*;
    let f = |params: &[(&str, &str)]| expr("File", params);
    let d = |params: &[(&str, &str)]| expr("Folder", params);
    let table: &[(String, Truth)] = &[
        (f(&[("Path", "X:\\tools\\flash.exe")]), True),
        (f(&[("Path", "x:\\TOOLS\\flash.exe")]), True),
        (f(&[("Path", "%Root%\\tools\\flash.exe")]), True),
        (f(&[("Path", "X:\\tools\\missing.exe")]), False),
        (
            f(&[
                ("Path", "X:\\tools\\flash.exe"),
                ("Version", "1.2.3.4"),
                ("VersionOperator", "equals"),
            ]),
            True,
        ),
        (
            f(&[
                ("Path", "X:\\tools\\flash.exe"),
                ("Version", "1.2.10"),
                ("VersionOperator", "less"),
            ]),
            True,
        ),
        (
            f(&[
                ("Path", "X:\\tools\\flash.exe"),
                ("Version", "1.3"),
                ("VersionOperator", "greaterEqual"),
            ]),
            False,
        ),
        (
            f(&[
                ("Path", "X:\\tools\\readme.txt"),
                ("Version", "1.0"),
                ("VersionOperator", "equals"),
            ]),
            False,
        ),
        (
            f(&[
                ("Path", "X:\\tools\\flash.exe"),
                ("DateTime", "20240101000000.000000+000"),
                ("DateTimeOperator", "greater"),
            ]),
            True,
        ),
        (
            f(&[
                ("Path", "X:\\tools\\flash.exe"),
                ("DateTime", "20240115120000.000000+000"),
                ("DateTimeOperator", "equals"),
            ]),
            True,
        ),
        (
            f(&[
                ("Path", "X:\\tools\\flash.exe"),
                ("DateTime", "20240115130000.000000+000"),
                ("DateTimeOperator", "greaterEqual"),
            ]),
            False,
        ),
        (
            f(&[
                ("Path", "X:\\tools\\flash.exe"),
                ("DateTime", "yesterday"),
                ("DateTimeOperator", "greater"),
            ]),
            Unknown,
        ),
        (
            f(&[
                ("Path", "X:\\tools\\readme.txt"),
                ("DateTime", "20240101000000.000000+000"),
                ("DateTimeOperator", "greater"),
            ]),
            Unknown,
        ),
        (f(&[("Path", "X:\\locked.bin")]), Unknown),
        (f(&[("Version", "1")]), Unknown),
        (d(&[("Path", "X:\\tools")]), True),
        (d(&[("Path", "X:\\tools\\flash.exe")]), False),
        (
            d(&[
                ("Path", "X:\\tools"),
                ("DateTime", "20240201000000.000000+000"),
                ("DateTimeOperator", "less"),
            ]),
            True,
        ),
        (
            d(&[
                ("Path", "X:\\tools"),
                ("DateTime", "20240201000000.000000+000"),
                ("DateTimeOperator", "greater"),
            ]),
            False,
        ),
    ];
    run_table(table, &FakeSystem);
}

#[test]
fn registry_wmi_software_expressions() {
    use Truth::*;
    let r = |params: &[(&str, &str)]| expr("Registry", params);
    let w = |q: &str| expr("WMI", &[("Namespace", "root\\cimv2"), ("Query", q)]);
    let s = |params: &[(&str, &str)]| expr("Software", params);
    let key = "HKLM\\SOFTWARE\\Contoso";
    let table: &[(String, Truth)] = &[
        (r(&[("KeyPath", key), ("Operator", "exists")]), True),
        (
            r(&[("KeyPath", "HKLM\\SOFTWARE\\Other"), ("Operator", "exists")]),
            False,
        ),
        (
            r(&[
                ("KeyPath", "HKLM\\SOFTWARE\\Other"),
                ("Operator", "notExists"),
            ]),
            True,
        ),
        (
            r(&[
                ("KeyPath", key),
                ("Operator", "exists"),
                ("Value", "Build"),
                ("Type", "REG_DWORD"),
            ]),
            True,
        ),
        (
            r(&[
                ("KeyPath", key),
                ("Operator", "exists"),
                ("Value", "Build"),
                ("Type", "REG_SZ"),
            ]),
            False,
        ),
        (
            r(&[
                ("KeyPath", key),
                ("Operator", "notExists"),
                ("Value", "Build"),
                ("Type", "REG_SZ"),
            ]),
            True,
        ),
        (
            r(&[
                ("KeyPath", key),
                ("Operator", "exists"),
                ("Value", "Missing"),
            ]),
            False,
        ),
        (
            r(&[
                ("KeyPath", key),
                ("Operator", "greater"),
                ("Value", "Build"),
                ("Data", "100"),
            ]),
            True,
        ),
        (
            r(&[
                ("KeyPath", key),
                ("Operator", "equals"),
                ("Value", "Build"),
                ("Type", "REG_SZ"),
                ("Data", "120"),
            ]),
            True,
        ),
        (
            r(&[
                ("KeyPath", key),
                ("Operator", "equals"),
                ("Value", "InstallDir"),
                ("Data", "c:\\contoso"),
            ]),
            True,
        ),
        (
            r(&[
                ("KeyPath", key),
                ("Operator", "less"),
                ("Value", "Missing"),
                ("Data", "1"),
            ]),
            False,
        ),
        (
            w("SELECT * FROM Win32_ComputerSystem WHERE Model LIKE '%Latitude%'"),
            True,
        ),
        (
            w("SELECT * FROM Win32_ComputerSystem WHERE Model LIKE '%Surface%'"),
            False,
        ),
        (
            s(&[
                ("Operator", "AnyVersion"),
                ("UpgradeCode", "{aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee}"),
            ]),
            True,
        ),
        (
            s(&[
                ("Operator", "AnyVersion"),
                ("ProductCode", "{11111111-2222-3333-4444-555555555555}"),
            ]),
            True,
        ),
        (
            s(&[
                ("Operator", "AnyVersion"),
                ("ProductCode", "{99999999-2222-3333-4444-555555555555}"),
            ]),
            False,
        ),
        (
            s(&[
                ("Operator", "ExactVersion"),
                ("ProductCode", "{11111111-2222-3333-4444-555555555555}"),
                ("Version", "2.5.0"),
            ]),
            True,
        ),
        (
            s(&[
                ("Operator", "ExactVersion"),
                ("ProductCode", "{11111111-2222-3333-4444-555555555555}"),
                ("Version", "2.4.0"),
            ]),
            False,
        ),
        (s(&[("Operator", "Someday")]), Unknown),
    ];
    run_table(table, &FakeSystem);
}

#[test]
fn unavailable_answers_are_unknown_and_combine_by_kleene_logic() {
    use Truth::*;
    let wmi = expr(
        "WMI",
        &[
            ("Namespace", "root\\cimv2"),
            ("Query", "SELECT * FROM Win32_BIOS"),
        ],
    );
    let reg = expr(
        "Registry",
        &[("KeyPath", "HKLM\\SOFTWARE\\X"), ("Operator", "exists")],
    );
    let sw = expr(
        "Software",
        &[("Operator", "AnyVersion"), ("ProductCode", "{1}")],
    );
    let yes = var("_SMSTSInWinPE", "equals", "true");
    let no = var("_SMSTSInWinPE", "equals", "false");
    let table: &[(String, Truth)] = &[
        (wmi.clone(), Unknown),
        (reg.clone(), Unknown),
        (sw.clone(), Unknown),
        (format!("<operator type=\"not\">{wmi}</operator>"), Unknown),
        (
            format!("<operator type=\"and\">{no}{wmi}</operator>"),
            False,
        ),
        (
            format!("<operator type=\"and\">{yes}{wmi}</operator>"),
            Unknown,
        ),
        (format!("<operator type=\"or\">{yes}{wmi}</operator>"), True),
        (
            format!("<operator type=\"or\">{no}{wmi}</operator>"),
            Unknown,
        ),
        (
            format!(
                "<operator type=\"not\"><operator type=\"or\">{yes}{wmi}</operator></operator>"
            ),
            False,
        ),
        (format!("{yes}{reg}"), Unknown),
        (format!("{no}{reg}"), False),
        (expr("Frobnicate", &[("X", "1")]), Unknown),
        (format!("<operator type=\"xor\">{yes}</operator>"), Unknown),
    ];
    run_table(table, &NotAvailable);

    let ctx_env = env();
    let host = host();
    let ctx = ConditionContext {
        env: &ctx_env,
        host: &host,
        system: &NotAvailable,
    };
    let e = evaluate(&condition(&wmi), &ctx);
    assert_eq!(e.notes.len(), 1);
    assert!(
        e.notes[0].contains("WMI") && e.notes[0].contains("not available"),
        "{:?}",
        e.notes
    );
}

#[test]
fn operators() {
    use Truth::*;
    let t = var("_SMSTSInWinPE", "equals", "true");
    let f = var("_SMSTSInWinPE", "equals", "false");
    let op = |kind: &str, inner: &[&String]| {
        let inner: String = inner.iter().map(|s| s.as_str()).collect();
        format!("<operator type=\"{kind}\">{inner}</operator>")
    };
    let table: &[(String, Truth)] = &[
        (op("and", &[&t, &t]), True),
        (op("and", &[&t, &f]), False),
        (op("and", &[]), True),
        (op("or", &[&f, &t]), True),
        (op("or", &[&f, &f]), False),
        (op("or", &[]), False),
        // `not` means "none of the conditions are true".
        (op("not", &[&f]), True),
        (op("not", &[&t]), False),
        (op("not", &[&f, &f]), True),
        (op("not", &[&f, &t]), False),
        (op("AND", &[&t]), True),
        (
            op(
                "and",
                &[&t, &op("or", &[&f, &op("not", &[&op("and", &[&t, &f])])])],
            ),
            True,
        ),
        (format!("{t}{f}"), False),
        (format!("{t}{t}"), True),
    ];
    run_table(table, &FakeSystem);
}

fn run_table(table: &[(String, Truth)], system: &dyn SystemQuery) {
    let env = env();
    let host = host();
    let ctx = ConditionContext {
        env: &env,
        host: &host,
        system,
    };
    for (xml, want) in table {
        let got = evaluate(&condition(xml), &ctx);
        assert_eq!(got.truth, *want, "{xml}\nnotes: {:?}", got.notes);
        if *want == Truth::Unknown {
            assert!(
                !got.notes.is_empty(),
                "an unknown result explains itself: {xml}"
            );
        }
    }
}

#[test]
fn fs_probe_on_a_real_directory() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fs_probe");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("Tools/Sub")).unwrap();
    let mut exe = vec![b'M', b'Z', 0, 0];
    exe.extend_from_slice(&0xFEEF_04BDu32.to_le_bytes());
    exe.extend_from_slice(&0x0001_0000u32.to_le_bytes());
    exe.extend_from_slice(&((6u32 << 16) | 1).to_le_bytes());
    exe.extend_from_slice(&((7601u32 << 16) | 17514).to_le_bytes());
    std::fs::write(dir.join("Tools/Flash.EXE"), &exe).unwrap();
    std::fs::write(dir.join("Tools/notes.txt"), b"plain").unwrap();

    let probe = FsProbe::new().with_drive('x', &dir);
    let facts = probe
        .file("X:\\tools\\flash.exe")
        .unwrap()
        .expect("case-insensitive match");
    assert_eq!(facts.version.as_deref(), Some("6.1.7601.17514"));
    assert!(facts.modified.is_some());
    let plain = probe.file("X:\\Tools\\notes.txt").unwrap().unwrap();
    assert_eq!(plain.version, None);
    assert!(probe.file("X:\\Tools\\nope.txt").unwrap().is_none());
    assert!(
        probe.file("X:\\Tools").unwrap().is_none(),
        "a folder is not a file"
    );
    assert!(
        probe.file("D:\\Tools\\notes.txt").unwrap().is_none(),
        "unmapped drive"
    );
    assert!(probe.folder("x:\\TOOLS\\sub").unwrap().is_some());
    assert!(
        probe
            .folder("X:\\Tools\\Sub\\..\\..\\..\\Tools")
            .unwrap()
            .is_some()
    );
    assert!(probe.folder("X:\\Tools\\notes.txt").unwrap().is_none());

    // Through the evaluator, with %VAR% expansion.
    let mut env = Variables::new();
    env.set("ToolDir", "X:\\Tools").unwrap();
    let ctx = ConditionContext {
        env: &env,
        host: &probe,
        system: &NotAvailable,
    };
    let c = condition(&format!(
        "<operator type=\"and\">{}{}</operator>",
        expr(
            "File",
            &[
                ("Path", "%ToolDir%\\flash.exe"),
                ("Version", "6.1.7600"),
                ("VersionOperator", "greater")
            ]
        ),
        expr("Folder", &[("Path", "%ToolDir%\\Sub")])
    ));
    assert_eq!(evaluate(&c, &ctx).truth, Truth::True);
}
