//! Every site command on a fresh site, with the JSON each prints.

mod site_common;

use serde_json::Value;
use site_common::{Env, make_wim, require_tool};

fn ts_xml(os: &str, driver: &str, app: &str, missing: &str) -> String {
    format!(
        r#"<?xml version="1.0"?>
<sequence version="3.10">
  <globalVarList><variable name="OSDComputerName" property="">LAB-PC</variable></globalVarList>
  <group name="Install" description="" continueOnError="false">
    <condition><operator type="and">
      <expression type="SMS_TaskSequence_VariableConditionExpression">
        <variable name="Operator">notEquals</variable>
        <variable name="Value">OEMMedia</variable>
        <variable name="Variable">_SMSTSMediaType</variable>
      </expression></operator></condition>
    <step type="SMS_TaskSequence_ApplyOperatingSystemAction" name="Apply OS" runIn="WinPE" successCodeList="0 3010">
      <action>OSDApplyOS.exe /image:{os},%OSDImageIndex% /target:%OSDTargetSystemDrive%</action>
      <defaultVarList><variable name="OSDImageIndex" property="ImageIndex">2</variable></defaultVarList>
    </step>
    <step type="SMS_TaskSequence_ApplyDriverPackageAction" name="Drivers" runIn="WinPE">
      <action>osddriverclient.exe /install:{driver} /unsigned:False</action>
    </step>
    <step type="SMS_TaskSequence_InstallSoftwareAction" name="Tools" disable="true">
      <action>smsswd.exe /pkg:{app} /install /basevar: /continueOnError:</action>
    </step>
    <step type="SMS_TaskSequence_InstallSoftwareAction" name="Gone">
      <action>smsswd.exe /pkg:{missing} /install /basevar: /continueOnError:</action>
    </step>
  </group>
</sequence>
"#
    )
}

#[test]
fn every_command_works_on_a_fresh_site() {
    require_tool("openssl", "openssl");
    let env = Env::new();
    let site = env.json(&["site", "show"]);
    assert_eq!(site["id"], "LAB");
    assert_eq!(site["name"], "Test lab");
    assert_eq!(site["schema_version"], 4);

    // Packages of every type.
    env.write("tools/bin/tool.exe", b"tool binary");
    env.write("tools/readme.txt", b"read me");
    let tools = env.ok(&[
        "package", "add", "--type", "package", "--name", "Tools", "tools",
    ]);
    assert_eq!(tools.trim(), "LAB00001");
    env.write("drivers/net.inf", b"[Version]");
    let driver = env.json(&[
        "package", "add", "--type", "driver", "--name", "NIC", "drivers", "--arch", "x64",
    ]);
    assert_eq!(driver["id"], "LAB00002");
    assert_eq!(driver["arch"], "x64");
    env.write("app/setup.msi", b"msi");
    let app = env.json(&[
        "package",
        "add",
        "--type",
        "application",
        "--name",
        "App",
        "app",
        "--depends",
        "LAB00001",
    ]);
    assert_eq!(app["depends"], serde_json::json!(["LAB00001"]));
    env.write("upgrade/setup.exe", b"setup");
    env.write("upgrade/sources/install.esd", b"esd");
    let upgrade = env.json(&[
        "package",
        "add",
        "--type",
        "os-upgrade",
        "--name",
        "Upgrade",
        "upgrade",
    ]);
    assert_eq!(upgrade["file_count"], 2);

    let boot_wim = make_wim(&env, "boot.wim", &[("Microsoft Windows PE (x64)", Some(9))]);
    let boot = env.json(&[
        "package",
        "add",
        "--type",
        "boot-image",
        "--name",
        "Boot x64",
        boot_wim.to_str().unwrap(),
        "--prestart-command",
        "cmd.exe /c prestart.cmd",
        "--prestart-package",
        "lab00001",
    ]);
    assert_eq!(boot["arch"], "x64");
    assert_eq!(boot["image_index"], 1);
    assert_eq!(boot["prestart_package"], "LAB00001");
    assert_eq!(
        boot["images"][0].get("flavour"),
        None,
        "a Windows PE boot image"
    );
    let boot_id = boot["id"].as_str().unwrap().to_string();
    let shown = env.ok(&["package", "show", &boot_id]);
    assert!(shown.contains("Flavour:        winpe\n"), "{shown}");

    let os_wim = make_wim(
        &env,
        "install.wim",
        &[
            ("Windows 11 Pro", Some(9)),
            ("Windows 11 Enterprise", Some(9)),
        ],
    );
    let os = env.json(&[
        "package",
        "add",
        "--type",
        "os-image",
        "--name",
        "Win11",
        os_wim.to_str().unwrap(),
    ]);
    let images = os["images"].as_array().unwrap();
    assert_eq!(images.len(), 2);
    assert_eq!(images[1]["index"], 2);
    assert_eq!(images[1]["name"], "Windows 11 Enterprise");
    assert_eq!(images[1]["arch"], "x64");
    assert!(images[0]["size"].as_u64().unwrap() > 1000);
    let os_id = os["id"].as_str().unwrap().to_string();

    let list = env.json(&["package", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 6);
    for p in list.as_array().unwrap() {
        for field in [
            "id",
            "name",
            "type",
            "source_version",
            "content_hash",
            "size",
        ] {
            assert!(!p[field].is_null(), "package JSON lacks {field}: {p}");
        }
    }
    let text = env.ok(&["package", "list", "--type", "boot-image"]);
    assert!(
        text.contains("Boot x64") && !text.contains("Tools"),
        "{text}"
    );
    let shown = env.ok(&["package", "show", &os_id]);
    assert!(shown.contains("Windows 11 Enterprise"), "{shown}");

    // Content.
    let content = env.json(&["content", "show", "LAB00001"]);
    assert_eq!(content["id"], "LAB00001.1");
    let paths: Vec<&str> = content["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["bin/tool.exe", "readme.txt"]);
    env.ok(&["content", "verify"]);

    // Infrastructure.
    assert_eq!(
        env.ok(&[
            "dp",
            "add",
            "dp1.lab",
            "--url",
            "http://dp1.lab/",
            "--no-default-access"
        ])
        .trim(),
        "dp1.lab"
    );
    let dp = env.json(&["dp", "grant", "dp1.lab", "--principal", "LAB\\builders"]);
    assert_eq!(dp["read_access"], serde_json::json!(["LAB\\builders"]));
    let mp = env.json(&[
        "mp",
        "add",
        "mp1.lab",
        "--url",
        "https://mp1.lab",
        "--boundary",
        "10.1.0.0/16",
        "192.0.2.0/24",
    ]);
    assert_eq!(mp["id"], "mp1.lab");
    assert_eq!(
        mp["boundaries"],
        serde_json::json!(["10.1.0.0/16", "192.0.2.0/24"])
    );
    assert_eq!(env.json(&["mp", "list"]).as_array().unwrap().len(), 1);
    assert_eq!(
        env.json(&["mp", "show", "mp1.lab"])["url"],
        "https://mp1.lab"
    );

    // Task sequence referencing the packages, and one that does not exist.
    env.write(
        "deploy.xml",
        ts_xml(&os_id, "LAB00002", "LAB00003", "LAB0FFFF").as_bytes(),
    );
    let imported = env
        .cmd()
        .args([
            "ts",
            "import",
            "deploy.xml",
            "--name",
            "Deploy Win11",
            "--boot-image",
            &boot_id,
        ])
        .output()
        .unwrap();
    assert!(imported.status.success());
    let ts_id = String::from_utf8(imported.stdout)
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(ts_id, "LAB00007");
    let warning = String::from_utf8_lossy(&imported.stderr);
    assert!(
        warning.contains("LAB0FFFF") && warning.contains("Gone"),
        "unresolved reference not listed: {warning}"
    );
    let tree = env.ok(&["ts", "show", &ts_id]);
    for step in ["Install", "Apply OS", "Drivers", "Tools", "Gone"] {
        assert!(tree.contains(step), "tree lacks {step}:\n{tree}");
    }
    let model = env.json(&["ts", "show", &ts_id]);
    assert_eq!(model["boot_image"], boot_id.as_str());
    assert_eq!(model["steps"][0]["name"], "Install");
    let refs = env.json(&["ts", "references", &ts_id]);
    let refs = refs.as_array().unwrap();
    let find = |id: &str| {
        refs.iter()
            .find(|r| r["package_id"] == id)
            .unwrap_or_else(|| panic!("{id} not referenced"))
    };
    assert_eq!(find(&os_id)["resolved"], true);
    assert_eq!(find(&os_id)["steps"], serde_json::json!(["Apply OS"]));
    assert_eq!(
        find(&boot_id)["needed_by"],
        serde_json::json!(["boot image"])
    );
    assert_eq!(
        find("LAB00001")["needed_by"],
        serde_json::json!(["dependency of LAB00003"])
    );
    assert_eq!(find("LAB0FFFF")["resolved"], false);
    assert_eq!(find("LAB00003")["only_disabled"], true);
    let exported = env.ok(&["ts", "export", &ts_id]);
    assert!(exported.contains(&format!("/image:{os_id}")), "{exported}");
    env.ok(&["ts", "export", &ts_id, "-o", "out.xml"]);
    assert_eq!(
        std::fs::read_to_string(env.path("out.xml")).unwrap(),
        exported
    );
    let tss = env.json(&["ts", "list"]);
    assert_eq!(tss[0]["step_count"], 4);

    // Distribute everything the task sequence needs (resolved), by TS ID.
    let out = env
        .cmd()
        .args(["content", "distribute", &ts_id, "--dp", "dp1.lab", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("LAB0FFFF"),
        "the unresolved reference must be reported"
    );
    let dist: Value = serde_json::from_slice(&out.stdout).unwrap();
    let held = dist["content_ids"].as_array().unwrap();
    assert_eq!(held.len(), 5, "{dist}");
    let dp = env.json(&["dp", "show", "dp1.lab"]);
    assert_eq!(dp["content"].as_array().unwrap().len(), 5);
    let refs = env.json(&["ts", "references", &ts_id]);
    assert!(
        refs.as_array()
            .unwrap()
            .iter()
            .filter(|r| r["resolved"] == true)
            .all(|r| r["distributed_to"] == serde_json::json!(["dp1.lab"]))
    );

    // Computers and collections.
    let computers = env.json(&["computer", "list"]);
    let unknown: Vec<&str> = computers
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["unknown_arch"].is_null())
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        unknown,
        [
            "x86 Unknown Computer",
            "x64 Unknown Computer",
            "arm64 Unknown Computer"
        ]
    );
    let pc = env.ok(&[
        "computer",
        "import",
        "--name",
        "PC-001",
        "--smbios-guid",
        "{4c4c4544-0042-3510-8052-b4c04f564433}",
        "--mac",
        "00-15-5d-01-02-03",
    ]);
    assert_eq!(pc.trim(), "16777220");
    let pc = env.json(&["computer", "show", "PC-001"]);
    assert_eq!(pc["smbios_guid"], "4C4C4544-0042-3510-8052-B4C04F564433");
    assert_eq!(pc["mac"], "00:15:5D:01:02:03");
    let coll = env.ok(&["collection", "add", "Lab PCs"]);
    assert_eq!(coll.trim(), "LAB00008");
    env.ok(&[
        "collection",
        "add-member",
        "Lab PCs",
        "--computer",
        "PC-001",
    ]);
    env.ok(&["collection", "set-var", "Lab PCs", "OSDTimeZone=UTC"]);
    let coll = env.json(&["collection", "show", "LAB00008"]);
    assert_eq!(coll["members"][0]["name"], "PC-001");
    assert_eq!(
        coll["variables"][0],
        serde_json::json!({"name": "OSDTimeZone", "value": "UTC"})
    );
    let unknowns = env.json(&["collection", "show", "All Unknown Computers"]);
    assert_eq!(unknowns["members"].as_array().unwrap().len(), 3);
    assert!(env.json(&["collection", "list"]).as_array().unwrap().len() >= 3);

    // Deployments.
    let dep = env.ok(&[
        "deploy",
        &ts_id,
        "--collection",
        "Lab PCs",
        "--availability",
        "media-pxe-hidden",
    ]);
    assert_eq!(dep.trim(), "LAB00009");
    let dep2 = env.json(&[
        "deploy",
        &ts_id,
        "--collection",
        "All Unknown Computers",
        "--availability",
        "clients",
        "--purpose",
        "required",
    ]);
    assert_eq!(dep2["id"], "LAB0000A");
    assert_eq!(dep2["purpose"], "required");
    assert_eq!(env.json(&["deploy", "list"]).as_array().unwrap().len(), 2);
    let media = env.json(&["deploy", "list", "--media"]);
    assert_eq!(media.as_array().unwrap().len(), 1);
    assert_eq!(media[0]["availability"], "media-pxe-hidden");
    assert_eq!(
        env.json(&["deploy", "show", "LAB00009"])["collection_name"],
        "Lab PCs"
    );

    // Certificates, checked against OpenSSL's own thumbprint.
    let key = env.path("media.key");
    let pem = env.path("media.pem");
    let st = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=Lab media",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&pem)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let fp = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha1", "-in"])
        .arg(&pem)
        .output()
        .unwrap();
    let fp = String::from_utf8(fp.stdout).unwrap();
    let thumb: String = fp.trim().rsplit('=').next().unwrap().replace(':', "");
    let cert = env.ok(&["cert", "import", "media.pem"]);
    assert_eq!(cert.trim(), thumb);
    let listed = env.json(&["cert", "list"]);
    assert!(listed[0]["subject"].as_str().unwrap().contains("Lab media"));
    assert_eq!(listed[0]["blocked"], false);
    let blocked = env.json(&["cert", "block", &thumb.to_lowercase()]);
    assert_eq!(blocked["blocked"], true);
    assert_eq!(env.json(&["cert", "show", &thumb])["blocked"], true);
    env.ok(&["cert", "unblock", &thumb]);
    assert_eq!(env.json(&["cert", "list"])[0]["blocked"], false);

    // Update, prune.
    env.write("tools/readme.txt", b"read me, version 2");
    let updated = env.json(&["package", "update", "LAB00001"]);
    assert_eq!(updated["source_version"], 2);
    let pruned = env.json(&["package", "prune"]);
    // LAB00001.1 is on dp1.lab, so it stays.
    assert_eq!(pruned["kept_on_dp"], serde_json::json!(["LAB00001.1"]));
    env.ok(&["content", "distribute", "LAB00001", "--dp", "dp1.lab"]);
    let pruned = env.json(&["package", "prune", "LAB00001"]);
    assert_eq!(pruned["removed"], serde_json::json!(["LAB00001.1"]));
    assert_eq!(
        pruned["files_removed"], 1,
        "only the old readme goes: {pruned}"
    );
    env.ok(&["content", "verify"]);
}

#[test]
fn boot_image_architecture_comes_from_the_wim_or_arch() {
    let env = Env::new();
    for (code, arch) in [(0, "x86"), (9, "x64"), (12, "arm64")] {
        let wim = make_wim(&env, &format!("boot{code}.wim"), &[("PE", Some(code))]);
        let p = env.json(&[
            "package",
            "add",
            "--type",
            "boot-image",
            "--name",
            &format!("PE {arch}"),
            wim.to_str().unwrap(),
        ]);
        assert_eq!(p["arch"], arch);
        assert_eq!(p["images"][0]["arch"], arch);
    }
    let plain = make_wim(&env, "plain.wim", &[("PE", None)]);
    let plain = plain.to_str().unwrap();
    env.fail(
        &[
            "package",
            "add",
            "--type",
            "boot-image",
            "--name",
            "No arch",
            plain,
        ],
        &["plain.wim", "--arch"],
    );
    let p = env.json(&[
        "package",
        "add",
        "--type",
        "boot-image",
        "--name",
        "Given",
        plain,
        "--arch",
        "arm64",
    ]);
    assert_eq!(p["arch"], "arm64");
    let x64 = env.path("boot9.wim");
    env.fail(
        &[
            "package",
            "add",
            "--type",
            "boot-image",
            "--name",
            "Wrong",
            x64.to_str().unwrap(),
            "--arch",
            "x86",
        ],
        &["x86", "x64", "boot9.wim"],
    );
    // An update must keep the architecture; a new WIM of another one is refused.
    let arm = env.path("boot12.wim");
    env.fail(
        &["package", "update", "LAB00002", arm.to_str().unwrap()],
        &["LAB00002", "x64", "arm64", "boot12.wim"],
    );
    let updated = env.json(&["package", "update", "LAB00002", x64.to_str().unwrap()]);
    assert_eq!(updated["source_version"], 2);
    // Image index: the second image of a two-image WIM.
    let two = make_wim(&env, "two.wim", &[("A", Some(0)), ("B", Some(9))]);
    let p = env.json(&[
        "package",
        "add",
        "--type",
        "boot-image",
        "--name",
        "Second",
        two.to_str().unwrap(),
        "--image-index",
        "2",
    ]);
    assert_eq!(p["image_index"], 2);
    assert_eq!(p["arch"], "x64");
}

#[test]
fn site_init_refuses_bad_codes_and_existing_sites() {
    let env = Env::new();
    env.fail(
        &["site", "init", "--code", "ABC"],
        &["already exists", "site"],
    );
    let other = env.path("other");
    for bad in ["AB", "ABCD", "SMS", "A-1"] {
        let out = env
            .cmd()
            .args([
                "--site",
                other.to_str().unwrap(),
                "site",
                "init",
                "--code",
                bad,
            ])
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("site code"),
            "{bad}"
        );
        assert!(!other.exists(), "a refused init left {other:?} behind");
    }
    let out = env
        .cmd()
        .args(["--site", other.to_str().unwrap(), "package", "list"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no site at"));
    // --site wins over TSMEDIA_SITE.
    let id = env.ok(&[
        "--site",
        other.to_str().unwrap(),
        "site",
        "init",
        "--code",
        "xy1",
    ]);
    assert_eq!(id.trim(), "XY1");
    let shown: Value = serde_json::from_str(&env.ok(&[
        "site",
        "show",
        "--json",
        "--site",
        other.to_str().unwrap(),
    ]))
    .unwrap();
    assert_eq!(shown["id"], "XY1");
    assert_eq!(env.json(&["site", "show"])["id"], "LAB");
}
