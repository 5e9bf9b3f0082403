//! The BCD store read back by hivex, the reference reader (Debian `libhivex-bin`): `hivexml`
//! dumps every key and value, `hivexsh` reads single elements. The expected device bytes are
//! spelled out here by hand (docs/bcd.md#device-elements), not computed by the code under test.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use base64::Engine;
use tsmedia_winboot::bcd::{BcdStore, BcdTarget, Firmware, PartitionRef};
use uuid::Uuid;

const BOOTMGR: &str = "{9dea862c-5cdd-4e70-acc1-f32b344d4795}";
const MEMDIAG: &str = "{b2721d73-1db4-4c62-bf78-c548a880142d}";

/// What hivexml says a value is.
#[derive(Debug, PartialEq)]
enum Val {
    Str(String),
    List(Vec<String>),
    Int(u32),
    Bin(Vec<u8>),
}

/// `path\to\key` → value name → value, for the whole hive, as hivexml reads it.
fn hivexml(hive: &Path) -> BTreeMap<String, BTreeMap<String, Val>> {
    let out = Command::new("hivexml")
        .arg(hive)
        .output()
        .expect("hivexml (libhivex-bin) is installed");
    assert!(
        out.status.success(),
        "hivexml: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let xml = String::from_utf8(out.stdout).expect("utf-8");
    let doc = roxmltree::Document::parse(&xml).expect("hivexml writes XML");
    let mut keys = BTreeMap::new();
    for node in doc.descendants().filter(|n| n.has_tag_name("node")) {
        let path: Vec<&str> = node
            .ancestors()
            .filter(|n| n.has_tag_name("node") && n.attribute("root").is_none())
            .filter_map(|n| n.attribute("name"))
            .collect();
        let path = path.into_iter().rev().collect::<Vec<_>>().join("\\");
        let mut values = BTreeMap::new();
        for v in node.children().filter(|n| n.has_tag_name("value")) {
            let key = v.attribute("key").unwrap_or("").to_string();
            let text = v.attribute("value").unwrap_or("");
            let val = match v.attribute("type") {
                Some("string") => Val::Str(text.to_string()),
                Some("int32") => Val::Int(text.parse::<i64>().expect("int32") as u32),
                Some("binary") => {
                    let compact: String = text.split_whitespace().collect();
                    Val::Bin(
                        base64::engine::general_purpose::STANDARD
                            .decode(compact)
                            .expect("base64"),
                    )
                }
                Some("string-list") => Val::List(
                    v.children()
                        .filter(|s| s.has_tag_name("string"))
                        .filter_map(|s| s.text())
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect(),
                ),
                other => panic!("unexpected value type {other:?}"),
            };
            values.insert(key, val);
        }
        keys.insert(path, values);
    }
    keys
}

fn element<'a>(
    keys: &'a BTreeMap<String, BTreeMap<String, Val>>,
    object: &str,
    id: &str,
) -> &'a Val {
    let path = format!("Objects\\{object}\\Elements\\{id}");
    keys.get(&path)
        .and_then(|v| v.get("Element"))
        .unwrap_or_else(|| panic!("{path} missing"))
}

fn object_type(keys: &BTreeMap<String, BTreeMap<String, Val>>, object: &str) -> u32 {
    match keys
        .get(&format!("Objects\\{object}\\Description"))
        .and_then(|v| v.get("Type"))
    {
        Some(Val::Int(t)) => *t,
        other => panic!("{object} type: {other:?}"),
    }
}

/// The 88-byte partition device element, written out by hand.
fn device(partition: [u8; 16], style: u8, disk: [u8; 16]) -> Vec<u8> {
    let mut v = vec![0u8; 16];
    v.extend([6, 0, 0, 0, 0, 0, 0, 0, 0x48, 0, 0, 0, 0, 0, 0, 0]);
    v.extend(partition);
    v.extend([0, 0, 0, 0, style, 0, 0, 0]);
    v.extend(disk);
    v.extend([0u8; 16]);
    v
}

const DISK: &str = "00112233-4455-6677-8899-aabbccddeeff";
const DISK_BYTES: [u8; 16] = [
    0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
];
const ESP: &str = "01234567-89ab-cdef-0123-456789abcdef";
const ESP_BYTES: [u8; 16] = [
    0x67, 0x45, 0x23, 0x01, 0xab, 0x89, 0xef, 0xcd, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
];
const WIN: &str = "fedcba98-7654-3210-fedc-ba9876543210";
const WIN_BYTES: [u8; 16] = [
    0x98, 0xba, 0xdc, 0xfe, 0x54, 0x76, 0x10, 0x32, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
];

fn gpt(partition: &str) -> PartitionRef {
    PartitionRef::Gpt {
        disk_guid: Uuid::parse_str(DISK).expect("guid"),
        partition_guid: Uuid::parse_str(partition).expect("guid"),
    }
}

#[test]
fn uefi_gpt_store_as_hivex_reads_it() {
    let mut target = BcdTarget::new(Firmware::Uefi, gpt(ESP), gpt(WIN));
    target.locale = "de-DE".into();
    let (loader, resume) = target.object_ids();
    let (loader, resume) = (format!("{{{loader}}}"), format!("{{{resume}}}"));
    let bytes = BcdStore::windows(&target).to_bytes().expect("store");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("BCD");
    std::fs::write(&path, &bytes).expect("save");
    let keys = hivexml(&path);

    assert_eq!(
        keys["Description"]["KeyName"],
        Val::Str("BCD00000000".into())
    );
    let mut objects: Vec<(String, u32)> = keys
        .keys()
        .filter_map(|k| {
            k.strip_prefix("Objects\\")
                .filter(|o| !o.contains('\\'))
                .map(str::to_string)
        })
        .map(|o| {
            let t = object_type(&keys, &o);
            (o, t)
        })
        .collect();
    objects.sort();
    let mut expected = vec![
        (BOOTMGR.to_string(), 0x1010_0002),
        (loader.clone(), 0x1020_0003),
        (resume.clone(), 0x1020_0004),
        (MEMDIAG.to_string(), 0x1020_0005),
        ("{7ea2e1ac-2e61-4728-aaa3-896d9d0a9f0e}".into(), 0x2010_0000), // globalsettings
        ("{4636856e-540f-4170-a130-a84776f4c654}".into(), 0x2010_0000), // dbgsettings
        ("{0ce4991b-e6b3-4b16-b23c-5e0d9250e5d9}".into(), 0x2010_0000), // emssettings
        ("{5189b25c-5558-4bf2-bca4-289b11bd29e2}".into(), 0x2010_0000), // badmemory
        ("{6efb52bf-1766-41db-a6b3-0ee5eff72bd7}".into(), 0x2020_0003), // bootloadersettings
        ("{7ff607e0-4395-11db-b0de-0800200c9a66}".into(), 0x2020_0003), // hypervisorsettings
        ("{1afa9c49-16ab-4a5c-901b-212802da9460}".into(), 0x2020_0004), // resumeloadersettings
    ];
    expected.sort();
    assert_eq!(objects, expected);

    let esp_device = Val::Bin(device(ESP_BYTES, 0, DISK_BYTES));
    let win_device = Val::Bin(device(WIN_BYTES, 0, DISK_BYTES));
    // Boot manager: on the ESP, defaulting to our loader.
    assert_eq!(element(&keys, BOOTMGR, "11000001"), &esp_device);
    assert_eq!(
        element(&keys, BOOTMGR, "12000002"),
        &Val::Str("\\EFI\\Microsoft\\Boot\\bootmgfw.efi".into())
    );
    assert_eq!(
        element(&keys, BOOTMGR, "12000005"),
        &Val::Str("de-DE".into())
    );
    assert_eq!(
        element(&keys, BOOTMGR, "23000003"),
        &Val::Str(loader.clone())
    );
    assert_eq!(
        element(&keys, BOOTMGR, "23000006"),
        &Val::Str(resume.clone())
    );
    assert_eq!(
        element(&keys, BOOTMGR, "24000001"),
        &Val::List(vec![loader.clone()])
    );
    assert_eq!(
        element(&keys, BOOTMGR, "24000010"),
        &Val::List(vec![MEMDIAG.into()])
    );
    assert_eq!(
        element(&keys, BOOTMGR, "25000004"),
        &Val::Bin(vec![30, 0, 0, 0, 0, 0, 0, 0])
    );
    // Loader: device and osdevice on the Windows partition.
    assert_eq!(element(&keys, &loader, "11000001"), &win_device);
    assert_eq!(element(&keys, &loader, "21000001"), &win_device);
    assert_eq!(
        element(&keys, &loader, "12000002"),
        &Val::Str("\\Windows\\system32\\winload.efi".into())
    );
    assert_eq!(
        element(&keys, &loader, "22000002"),
        &Val::Str("\\Windows".into())
    );
    assert_eq!(
        element(&keys, &loader, "23000003"),
        &Val::Str(resume.clone())
    );
    assert_eq!(
        element(&keys, &loader, "14000006"),
        &Val::List(vec!["{6efb52bf-1766-41db-a6b3-0ee5eff72bd7}".into()])
    );
    assert_eq!(element(&keys, &loader, "16000060"), &Val::Bin(vec![1]));
    // Resume application and memory tester.
    assert_eq!(element(&keys, &resume, "21000001"), &win_device);
    assert_eq!(
        element(&keys, &resume, "22000002"),
        &Val::Str("\\hiberfil.sys".into())
    );
    assert_eq!(element(&keys, MEMDIAG, "11000001"), &esp_device);
    assert_eq!(
        element(&keys, MEMDIAG, "12000002"),
        &Val::Str("\\EFI\\Microsoft\\Boot\\memtest.efi".into())
    );

    // hivexsh, the interactive reader, sees the same device bytes.
    let script = format!("cd \\Objects\\{loader}\\Elements\\21000001\nlsval\n");
    let mut child = Command::new("hivexsh")
        .arg(&path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("hivexsh is installed");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("script");
    let out =
        String::from_utf8(child.wait_with_output().expect("hivexsh runs").stdout).expect("utf-8");
    let hex: Vec<String> = device(WIN_BYTES, 0, DISK_BYTES)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(out.trim(), format!("\"Element\"=hex(3):{}", hex.join(",")));

    // And our own reader gives back the store we wrote.
    assert_eq!(
        BcdStore::from_bytes(&bytes).expect("read back"),
        BcdStore::windows(&target)
    );
}

#[test]
fn bios_mbr_store_points_at_signature_and_offset() {
    let system = PartitionRef::Mbr {
        disk_signature: 0xA1B2_C3D4,
        partition_offset: 1024 * 1024,
    };
    let windows = PartitionRef::Mbr {
        disk_signature: 0xA1B2_C3D4,
        partition_offset: 501 * 1024 * 1024,
    };
    let target = BcdTarget::new(Firmware::Bios, system, windows);
    let loader = format!("{{{}}}", target.object_ids().0);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("BCD");
    std::fs::write(&path, BcdStore::windows(&target).to_bytes().expect("store")).expect("save");
    let keys = hivexml(&path);

    let signature = [0xD4, 0xC3, 0xB2, 0xA1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let mut system_offset = [0u8; 16];
    system_offset[..8].copy_from_slice(&(1024u64 * 1024).to_le_bytes());
    let mut windows_offset = [0u8; 16];
    windows_offset[..8].copy_from_slice(&(501u64 * 1024 * 1024).to_le_bytes());

    assert_eq!(
        element(&keys, BOOTMGR, "11000001"),
        &Val::Bin(device(system_offset, 1, signature))
    );
    assert!(
        !keys.contains_key(&format!("Objects\\{BOOTMGR}\\Elements\\12000002")),
        "BIOS bootmgr has no path"
    );
    assert_eq!(
        element(&keys, &loader, "21000001"),
        &Val::Bin(device(windows_offset, 1, signature))
    );
    assert_eq!(
        element(&keys, &loader, "12000002"),
        &Val::Str("\\Windows\\system32\\winload.exe".into())
    );
    assert_eq!(
        element(&keys, &loader, "12000005"),
        &Val::Str("en-US".into())
    );
    assert_eq!(
        element(&keys, MEMDIAG, "12000002"),
        &Val::Str("\\boot\\memtest.exe".into())
    );
    assert_eq!(object_type(&keys, &loader), 0x1020_0003);
}
