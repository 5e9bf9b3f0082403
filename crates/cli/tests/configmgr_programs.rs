//! Issue 17, programs and deployment types: the administrator gives a package its programs
//! and an application its deployment type, imports a task sequence exported from
//! Configuration Manager whose steps name them (`PackageID` + `ProgramName`,
//! `ApplicationName`), and runs it from stand-alone media and from bootable media against
//! `tsmedia serve` (`docs/media.md`, "Programs and deployment types").

mod cm_lab;
mod common;

use std::fs;

use cm_lab::{Lab, client, serve};
use common::{s, tsmedia};

/// The model name Configuration Manager gave the application in the exported task sequence.
const MODEL: &str =
    "ScopeId_7E9C2B28-56D7-4E4F-BCF6-7E3E3A3F1F44/Application_2a5d7c1e-6f0b-4d0e-9a51-1c3e5f7a9b0d";

/// Package "Tools" (a setup script that copies `tool.txt` to `<target>/Tools`) and application
/// "Editor" (an installer that creates `Program Files/Editor/editor.exe` on the target), both
/// distributed to `dps`.
fn software(lab: &Lab, dps: &[&str]) -> (String, String) {
    lab.write("tools/tool.txt", b"a tool");
    lab.write(
        "tools/setup.sh",
        b"mkdir -p \"$OSDTargetSystemDrive/Tools\" && cp tool.txt \"$OSDTargetSystemDrive/Tools/\"\n",
    );
    lab.write(
        "tools/patch.sh",
        b"if [ -e \"$OSDTargetSystemDrive/patched\" ]; then exit 0; fi\ntouch \"$OSDTargetSystemDrive/patched\"\nexit 3\n",
    );
    lab.write(
        "editor/install.sh",
        b"mkdir -p \"$OSDTargetSystemDrive/Program Files/Editor\" && echo editor > \"$OSDTargetSystemDrive/Program Files/Editor/editor.exe\"\n",
    );
    let tools_src = lab.path("tools");
    let tools = lab.ok(&[
        "package",
        "add",
        "--type",
        "package",
        "--name",
        "Tools",
        s(&tools_src),
    ]);
    let editor_src = lab.path("editor");
    let editor = lab.ok(&[
        "package",
        "add",
        "--type",
        "application",
        "--name",
        "Editor",
        "--model-name",
        MODEL,
        s(&editor_src),
    ]);
    for dp in dps {
        lab.ok(&["content", "distribute", &tools, &editor, "--dp", dp]);
    }
    (tools, editor)
}

/// A task sequence as Configuration Manager exports it: Install Package naming package and
/// program, Install Application naming the application by model name.
fn exported_sequence(tools: &str, program: &str) -> String {
    format!(
        r#"<sequence version="3.10">
  <referenceList>
    <reference package="{tools}" program="{program}" type="0" />
    <reference package="{MODEL}" type="1" />
  </referenceList>
  <step type="SMS_TaskSequence_InstallSoftwareAction" name="Install Tools" description="" runIn="FullOS" successCodeList="0 3010" retryCount="0" runFromNet="false">
    <action>smsswd.exe /pkg:{tools} /install /basevar: /continueOnError:</action>
    <defaultVarList>
      <variable name="PackageID" property="PackageID">{tools}</variable>
      <variable name="_SMSSWDProgramName" property="ProgramName">{program}</variable>
    </defaultVarList>
  </step>
  <step type="SMS_TaskSequence_InstallApplicationAction" name="Install Editor" description="" runIn="FullOS" successCodeList="0" retryCount="0" runFromNet="false">
    <action>smsappinstall.exe /app:{MODEL} /basevar: /continueOnError:False</action>
    <defaultVarList>
      <variable name="OSDApp0Description" property="AppInfo0Description"></variable>
      <variable name="OSDApp0DisplayName" property="AppInfo0DisplayName">Editor</variable>
      <variable name="OSDApp0Name" property="AppInfo0Name">Editor</variable>
      <variable name="OSDAppCount" property="NumApps">1</variable>
      <variable name="ApplicationName" property="ApplicationName">{MODEL}</variable>
      <variable name="ContinueOnInstallError" property="ContinueOnInstallError">false</variable>
      <variable name="RetryCount" property="RetryCount">2</variable>
    </defaultVarList>
  </step>
</sequence>"#
    )
}

/// Imports `xml` as `name`, deploys it to `collection` (media and PXE); (task sequence,
/// `ts import`'s stderr, deployment).
fn import(lab: &Lab, name: &str, xml: &str, collection: &str) -> (String, String, String) {
    let file = lab.write(&format!("{name}.xml"), xml.as_bytes());
    let boot = lab.boot.clone();
    let out = lab.try_run(&[
        "ts",
        "import",
        s(&file),
        "--name",
        name,
        "--boot-image",
        &boot,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ts = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let deployed: serde_json::Value = serde_json::from_str(&lab.ok(&[
        "deploy",
        &ts,
        "--collection",
        collection,
        "--availability",
        "media-pxe",
        "--json",
    ]))
    .expect("JSON");
    (
        ts,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        deployed["id"].as_str().expect("deployment ID").to_string(),
    )
}

fn standalone(lab: &Lab, ts: &str, out: &str) -> std::process::Output {
    let rt = lab.runtime();
    lab.try_run(&[
        "media",
        "create",
        "standalone",
        "--ts",
        ts,
        "--dp",
        "dp1",
        "--password",
        "pw",
        "--runtime",
        s(&rt),
        "--out",
        out,
        "--quiet",
    ])
}

#[test]
fn an_exported_sequence_runs_the_programs_and_deployment_types_the_site_defines() {
    let lab = Lab::new();
    let (tools, editor) = software(&lab, &["dp1"]);
    lab.ok(&["collection", "add", "All"]);

    // A program the step names does not exist yet: import warns with the command that adds
    // it, and stand-alone media (which cannot ask the site later) are refused.
    let (ts, warned, _) = import(
        &lab,
        "Deploy apps",
        &exported_sequence(&tools, "Install"),
        "All",
    );
    assert!(
        warned.contains(&format!(
            "runs program \"Install\" of {tools} (step \"Install Tools\")"
        )) && warned.contains(&format!(
            "tsmedia package program add {tools} --name 'Install'"
        )),
        "{warned}"
    );
    assert!(
        warned.contains(&format!("application {editor}")),
        "{warned}"
    );
    let out = standalone(&lab, &ts, "early");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains(&format!("program \"Install\" of package {tools}"))
            && err.contains("has no deployment type"),
        "{err}"
    );

    // The administrator defines them.
    lab.ok(&[
        "package",
        "program",
        "add",
        &tools,
        "--name",
        "Install",
        "--command",
        "sh setup.sh",
        "--max-run-time",
        "15",
    ]);
    lab.ok(&[
        "package",
        "program",
        "add",
        &tools,
        "--name",
        "Broken",
        "--command",
        "sh setup.sh; exit 7",
    ]);
    lab.ok(&[
        "package",
        "program",
        "add",
        &tools,
        "--name",
        "Spare",
        "--command",
        "true",
    ]);
    lab.ok(&["package", "program", "remove", &tools, "--name", "spare"]);
    let listed = lab.ok(&["package", "program", "list", &tools]);
    assert!(
        listed.contains("Install") && listed.contains("15 min") && listed.contains("3010 1641"),
        "{listed}"
    );
    assert!(
        listed.contains("Broken") && !listed.contains("Spare"),
        "{listed}"
    );
    lab.refused(
        &[
            "package",
            "program",
            "add",
            &tools,
            "--name",
            "install",
            "--command",
            "x",
        ],
        &["program \"install\" already exists"],
    );
    lab.refused(
        &[
            "package",
            "program",
            "add",
            &editor,
            "--name",
            "Setup",
            "--command",
            "x",
        ],
        &[editor.as_str(), "is a application, not a package"],
    );
    lab.ok(&[
        "package",
        "deployment-type",
        "add",
        &editor,
        "--name",
        "Editor (ARM)",
        "--install",
        "exit 99",
        "--detect-file",
        "C:\\Program Files\\Editor\\editor-arm.exe",
        "--requires-arch",
        "arm64",
        "--priority",
        "1",
    ]);
    lab.ok(&[
        "package",
        "deployment-type",
        "add",
        &editor,
        "--name",
        "Editor script",
        "--install",
        "sh install.sh",
        "--uninstall",
        "rm -rf \"$OSDTargetSystemDrive/Program Files/Editor\"",
        "--detect-file",
        "%OSDTargetSystemDrive%\\Program Files\\Editor\\editor.exe",
        "--requires-arch",
        "x64",
    ]);
    let listed = lab.ok(&["package", "deployment-type", "list", &editor]);
    assert!(
        listed.contains("Editor script") && listed.contains("arch x64"),
        "{listed}"
    );
    let shown = lab.ok(&["package", "show", &editor]);
    assert!(
        shown.contains(&format!("Model name:     {MODEL}")),
        "{shown}"
    );
    let refs = lab.ok(&["ts", "references", &ts]);
    assert!(
        refs.lines()
            .any(|l| l.starts_with(&editor) && l.contains("application")),
        "the model name resolves to the application:\n{refs}"
    );

    // Stand-alone media now carry them; the task sequence runs to completion.
    let out = standalone(&lab, &ts, "sa");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = fs::read_to_string(lab.path("sa/CreateTSMedia.log")).expect("log");
    assert!(
        log.contains("Software policy: 2 program(s), 1 application(s) with 2 deployment type(s)"),
        "{log}"
    );
    let run = client(&lab, &lab.path("sa/sa.iso"), "t1", &[]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        fs::read_to_string(lab.path("t1/Tools/tool.txt")).expect("Tools installed"),
        "a tool"
    );
    assert!(lab.path("t1/Program Files/Editor/editor.exe").is_file());
    let smsts =
        fs::read_to_string(lab.path("t1/_SMSTaskSequence/Logs/smsts.log")).expect("smsts.log");
    for want in [
        format!("program \"Install\" of {tools}"),
        "installing deployment type \"Editor script\"".to_string(),
        "application Editor installed and detected".to_string(),
    ] {
        assert!(smsts.contains(&want), "{want:?} not in:\n{smsts}");
    }

    // Run again on the same target: the detection method finds Editor installed.
    let run = client(&lab, &lab.path("sa/sa.iso"), "t1", &[]);
    assert!(run.status.success());
    let smsts =
        fs::read_to_string(lab.path("t1/_SMSTaskSequence/Logs/smsts.log")).expect("smsts.log");
    assert!(smsts.contains("is already installed (detected)"), "{smsts}");

    // On an x86 computer no deployment type's requirements hold: the step fails, saying why.
    let run = tsmedia()
        .args([
            "client",
            "run",
            "--password",
            "pw",
            "--arch",
            "x86",
            "--media",
        ])
        .arg(lab.path("sa/sa.iso"))
        .arg("--target")
        .arg(lab.path("t-x86"))
        .output()
        .expect("client run");
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "{err}");
    let smsts =
        fs::read_to_string(lab.path("t-x86/_SMSTaskSequence/Logs/smsts.log")).expect("smsts.log");
    assert!(
        smsts.contains("no deployment type's requirements hold")
            && smsts.contains("needs x64 (this computer is x86)"),
        "{smsts}"
    );

    // A program whose exit code is no success fails its step with that code.
    let (broken, _, _) = import(&lab, "Broken", &exported_sequence(&tools, "Broken"), "All");
    let out = standalone(&lab, &broken, "broken");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = client(&lab, &lab.path("broken/broken.iso"), "t2", &[]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{err}");
    assert!(err.contains("Install Tools") && err.contains('7'), "{err}");
    let smsts =
        fs::read_to_string(lab.path("t2/_SMSTaskSequence/Logs/smsts.log")).expect("smsts.log");
    assert!(
        smsts.contains("exit code 7 is not among its success codes"),
        "{smsts}"
    );
    assert!(
        !lab.path("t2/Program Files/Editor").exists(),
        "the failure stopped the task sequence"
    );
}

#[test]
fn the_management_point_serves_programs_and_a_restart_code_restarts() {
    let lab = Lab::new();
    let _server = serve(&lab);
    let (tools, editor) = software(&lab, &["dp0"]);
    lab.ok(&[
        "package",
        "program",
        "add",
        &tools,
        "--name",
        "Patch",
        "--command",
        "sh patch.sh",
        // A Linux process exits with 0-255: 3010 cannot be returned, so the administrator
        // names the code the program uses for "restart needed".
        "--restart-codes",
        "3",
    ]);
    lab.ok(&[
        "package",
        "deployment-type",
        "add",
        &editor,
        "--name",
        "Editor script",
        "--install",
        "sh install.sh",
        "--detect-folder",
        "Program Files/Editor",
    ]);
    let (_ts, _, deployment) = import(&lab, "Patch", &exported_sequence(&tools, "Patch"), "Lab");
    let rt = lab.runtime();
    let boot = lab.boot.clone();
    lab.ok(&[
        "media",
        "create",
        "bootable",
        "--boot-image",
        &boot,
        "--dp",
        "dp0",
        "--mode",
        "site-based",
        "--mp",
        "mp0",
        "--password",
        "pw",
        "--runtime",
        s(&rt),
        "--quiet",
        "--out",
        "boot",
    ]);
    let iso = lab.path("boot/boot.iso");
    // The program returns its restart code: a success that restarts the computer after the step.
    let run = client(&lab, &iso, "t", &["--deployment", &deployment]);
    assert_eq!(
        run.status.code(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(lab.path("t/patched").is_file());
    assert!(!lab.path("t/Program Files/Editor").exists());
    // After the restart the task sequence continues with Install Application.
    let run = client(&lab, &iso, "t", &["--deployment", &deployment]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(lab.path("t/Program Files/Editor/editor.exe").is_file());
    let smsts =
        fs::read_to_string(lab.path("t/_SMSTaskSequence/Logs/smsts.log")).expect("smsts.log");
    assert!(
        smsts.contains("Software policy: 1 program(s), 1 application(s)"),
        "{smsts}"
    );
}
