//! Issue 17, through the `tsmedia` binary as a Configuration Manager administrator uses it:
//! each test is one thing the administrator does and what they see (`docs/media.md`).
//! Debian packages: wimtools, xorriso.

mod cm_lab;
mod common;

use std::fs;
use std::path::Path;

use cm_lab::{Lab, client, serve, small_package};
use common::{require, run, s, tsmedia};

fn media_log(dir: &Path) -> String {
    fs::read_to_string(dir.join("CreateTSMedia.log")).expect("CreateTSMedia.log")
}

#[test]
fn x86_boot_image_serves_x64_computers_and_not_the_reverse() {
    let lab = Lab::new();
    let x86 = lab.boot_image("Boot x86", "x86");
    lab.ok(&["content", "distribute", &x86, "--dp", "dp1"]);
    let boot = lab.boot.clone();
    let create = |image: &str, arch: &str, out: &str| -> Vec<String> {
        [
            "media",
            "create",
            "bootable",
            "--boot-image",
            image,
            "--arch",
            arch,
            "--dp",
            "dp1",
            "--out",
            out,
            "--dry-run",
        ]
        .into_iter()
        .map(str::to_string)
        .collect()
    };
    let ok = |v: Vec<String>| lab.ok(&v.iter().map(String::as_str).collect::<Vec<&str>>());
    // An x64 boot image cannot start an x86 computer.
    let v = create(&boot, "x86", "a");
    let v: Vec<&str> = v.iter().map(String::as_str).collect();
    lab.refused(&v, &[&boot, "cannot boot x86 computers"]);
    // An x86 boot image starts x64 computers, and x86 ones.
    ok(create(&x86, "x64", "b"));
    ok(create(&x86, "x86", "c"));
    ok(create(&boot, "x64", "d"));

    // Without --arch the media are for the boot image's own architecture, and the log says so.
    let rt = lab.runtime();
    lab.ok(&[
        "media",
        "create",
        "bootable",
        "--boot-image",
        &x86,
        "--dp",
        "dp1",
        "--out",
        "media",
        "--runtime",
        s(&rt),
        "--quiet",
    ]);
    let log = media_log(&lab.path("media"));
    assert!(
        log.contains("no --arch given: media for x86 computers"),
        "{log}"
    );
}

/// An OS image WIM of two images (`Windows 11 Pro`, `Windows 11 Enterprise`), each with a
/// `Windows/edition.txt` naming it; the package, distributed to dp1.
fn two_image_os(lab: &Lab) -> String {
    let wim = lab.path("install.wim");
    for (i, edition) in ["Windows 11 Pro", "Windows 11 Enterprise"]
        .iter()
        .enumerate()
    {
        let tree = lab.path(&format!("os{i}"));
        lab.write(&format!("os{i}/Windows/edition.txt"), edition.as_bytes());
        let verb = if i == 0 { "capture" } else { "append" };
        lab.ok(&[
            "wim",
            verb,
            s(&tree),
            s(&wim),
            edition,
            "--compress",
            "none",
        ]);
    }
    let os = lab.ok(&[
        "package",
        "add",
        "--type",
        "os-image",
        "--name",
        "Windows 11",
        s(&wim),
    ]);
    lab.ok(&["content", "distribute", &os, "--dp", "dp1"]);
    os
}

/// A task sequence as Configuration Manager exports it: Apply Operating System with
/// `/image:<ID>,%OSDImageIndex%` and its default index 1; deployed to media.
fn apply_os_sequence(lab: &Lab, os: &str) -> String {
    let xml = lab.write(
        "ts.xml",
        format!(
            r#"<sequence version="3.10">
  <referenceList><reference package="{os}" /></referenceList>
  <step type="SMS_TaskSequence_ApplyOperatingSystemAction" name="Apply Operating System">
    <action>OSDApplyOS.exe /image:{os},%OSDImageIndex% /target:%OSDTargetSystemDrive%</action>
    <defaultVarList><variable name="OSDImageIndex" property="ImageIndex">1</variable></defaultVarList>
  </step>
</sequence>"#
        )
        .as_bytes(),
    );
    let boot = lab.boot.clone();
    let ts = lab.ok(&[
        "ts",
        "import",
        s(&xml),
        "--name",
        "Deploy",
        "--boot-image",
        &boot,
    ]);
    let ts = ts.lines().next().expect("an ID").trim().to_string();
    lab.ok(&["collection", "add", "All"]);
    lab.ok(&[
        "deploy",
        &ts,
        "--collection",
        "All",
        "--availability",
        "media-pxe",
    ]);
    ts
}

#[test]
fn os_image_index_is_checked_recorded_and_applied() {
    let lab = Lab::new();
    let os = two_image_os(&lab);
    let ts = apply_os_sequence(&lab, &os);
    let rt = lab.runtime();
    let prestaged = |index: &str, out: &str| {
        lab.try_run(&[
            "media",
            "create",
            "prestaged",
            "--ts",
            &ts,
            "--os-image",
            &os,
            "--os-image-index",
            index,
            "--dp",
            "dp1",
            "--mp",
            "mp1",
            "--password",
            "pw",
            "--runtime",
            s(&rt),
            "--out",
            out,
            "--quiet",
        ])
    };
    // An index the WIM does not hold: refused, naming the WIM and the images it has.
    let out = prestaged("3", "three.wim");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    for want in [
        "--os-image-index 3",
        "install.wim",
        "1 (Windows 11 Pro), 2 (Windows 11 Enterprise)",
    ] {
        assert!(err.contains(want), "{want:?} not in:\n{err}");
    }
    assert!(!lab.path("three.wim").exists());

    // Image 2: on the media as OSDImageIndex and in the content manifest.
    let out = prestaged("2", "two.wim");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = lab.ok(&["media", "inspect", "two.wim", "--password", "pw"]);
    assert!(shown.contains("variable OSDImageIndex = 2"), "{shown}");
    // Prestaged media start from the hard disk they are staged on.
    assert!(shown.contains("variable _SMSTSLaunchMode = HD"), "{shown}");
    let json: serde_json::Value = serde_json::from_str(&lab.ok(&[
        "media",
        "inspect",
        "two.wim",
        "--password",
        "pw",
        "--json",
    ]))
    .expect("JSON");
    let staged = json["content"]["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["package_id"] == os.as_str())
        .expect("the OS image is staged");
    assert_eq!(staged["image_index"], 2, "{staged}");

    // The runtime's Apply Operating System takes the media's OSDImageIndex over the step's
    // default 1: stand-alone media carrying the variable apply the Enterprise image.
    lab.ok(&[
        "media",
        "create",
        "standalone",
        "--ts",
        &ts,
        "--dp",
        "dp1",
        "--password",
        "pw",
        "--variable",
        "OSDImageIndex=2",
        "--runtime",
        s(&rt),
        "--out",
        "sa",
        "--quiet",
    ]);
    let target = lab.path("target");
    let run = tsmedia()
        .args(["client", "run", "--password", "pw", "--media"])
        .arg(lab.path("sa/sa.iso"))
        .arg("--target")
        .arg(&target)
        .output()
        .expect("client run");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        fs::read_to_string(target.join("Windows/edition.txt")).expect("OS applied"),
        "Windows 11 Enterprise"
    );
}

#[test]
fn options_of_another_media_type_are_refused_by_name() {
    let lab = Lab::new();
    let os = two_image_os(&lab);
    let ts = apply_os_sequence(&lab, &os);
    let tools = small_package(&lab, "package", "Tools", &[]);
    let boot = lab.boot.clone();
    for (kind, extra, option) in [
        ("bootable", vec!["--os-image", os.as_str()], "--os-image"),
        ("bootable", vec!["--package", tools.as_str()], "--package"),
        (
            "bootable",
            vec!["--created-by", "Contoso IT"],
            "--created-by",
        ),
        ("prestaged", vec!["--type", "cd-dvd"], "--type"),
        ("capture", vec!["--ts", ts.as_str()], "--ts"),
        ("standalone", vec!["--uda", "auto-approval"], "--uda"),
        ("standalone", vec!["--allow-unknown"], "--allow-unknown"),
        ("standalone", vec!["--mode", "dynamic"], "--mode"),
        ("standalone", vec!["--mp", "mp1"], "--mp"),
    ] {
        let out = format!(
            "out-{kind}{}",
            if kind == "prestaged" { ".wim" } else { "" }
        );
        let mut args = vec![
            "media",
            "create",
            kind,
            "--boot-image",
            &boot,
            "--dp",
            "dp1",
        ];
        if matches!(kind, "prestaged" | "standalone") {
            args.extend(["--ts", ts.as_str()]);
        }
        if kind == "prestaged" {
            args.extend(["--os-image", os.as_str()]);
        }
        args.extend(extra.iter().copied());
        args.extend(["--out", out.as_str(), "--dry-run"]);
        lab.refused(&args, &[option, &format!("does not apply to {kind} media")]);
    }
}

#[test]
fn stand_alone_media_carry_the_chosen_applications_packages_and_drivers() {
    let lab = Lab::new();
    let os = two_image_os(&lab);
    let ts = apply_os_sequence(&lab, &os);
    let runtime_lib = small_package(&lab, "package", "Runtime", &[]);
    let tools = small_package(&lab, "package", "Tools", &["--depends", &runtime_lib]);
    let app = small_package(&lab, "application", "Editor", &[]);
    let nic = small_package(&lab, "driver", "NIC", &[]);
    let rt = lab.runtime();
    lab.ok(&[
        "media",
        "create",
        "standalone",
        "--ts",
        &ts,
        "--dp",
        "dp1",
        "--password",
        "pw",
        "--package",
        &tools,
        "--application",
        &app,
        "--driver-package",
        &nic,
        "--include-dependencies",
        "--runtime",
        s(&rt),
        "--out",
        "sa",
        "--quiet",
    ]);
    let json: serde_json::Value =
        serde_json::from_str(&lab.ok(&["media", "inspect", "sa", "--password", "pw", "--json"]))
            .expect("JSON");
    let carried: Vec<&str> = json["content"]["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter_map(|p| p["package_id"].as_str())
        .collect();
    for (what, id) in [
        ("OS image of the task sequence", &os),
        ("--package", &tools),
        ("its dependency", &runtime_lib),
        ("--application", &app),
        ("--driver-package", &nic),
    ] {
        assert!(
            carried.contains(&id.as_str()),
            "{what} {id} not in {carried:?}"
        );
    }
}

/// `len` bytes that do not compress (xorshift64).
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn a_cd_dvd_set_is_written_as_outputfile_iso_outputfile2_iso() {
    let lab = Lab::new();
    let os = two_image_os(&lab);
    let ts = apply_os_sequence(&lab, &os);
    for i in 0..3u64 {
        lab.write(&format!("big/part{i}.bin"), &noise(i + 1, 1_500_000));
    }
    let big = lab.ok(&[
        "package",
        "add",
        "--type",
        "package",
        "--name",
        "Big",
        s(&lab.path("big")),
    ]);
    lab.ok(&["content", "distribute", &big, "--dp", "dp1"]);
    fs::create_dir(lab.path("out")).expect("the output folder, made first as the wizard asks");
    let rt = lab.runtime();
    let printed = lab.ok(&[
        "media",
        "create",
        "standalone",
        "--ts",
        &ts,
        "--package",
        &big,
        "--dp",
        "dp1",
        "--size",
        "4MiB",
        "--password",
        "pw",
        "--runtime",
        s(&rt),
        "--out",
        "out/outputfile.iso",
        "--quiet",
    ]);
    let isos: Vec<&str> = printed.lines().collect();
    assert!(isos.len() >= 2, "{printed}");
    for (k, iso) in isos.iter().enumerate() {
        let want = match k {
            0 => lab.path("out/outputfile.iso"),
            k => lab.path(&format!("out/outputfile{}.iso", k + 1)),
        };
        // As given on the command line (relative to the current folder).
        assert_eq!(lab.path(iso), want, "{printed}");
        assert!(want.is_file(), "{} missing", want.display());
    }
    assert!(lab.path("out/CreateTSMedia.log").is_file());
    let listed: Vec<String> = fs::read_dir(lab.path("out"))
        .expect("out")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        listed
            .iter()
            .all(|n| n.ends_with(".iso") || n == "CreateTSMedia.log"),
        "{listed:?}"
    );
}

#[test]
fn a_usb_device_output_keeps_its_log_out_of_the_device_folder() {
    let lab = Lab::new();
    fs::create_dir(lab.path("dev")).expect("mkdir");
    let device = lab.path("dev/usb");
    // A block device node (the minor of no attached loop device): preflight refuses it without
    // --format before anything is written to it.
    let made = std::process::Command::new("mknod")
        .arg(&device)
        .args(["b", "7", "250"])
        .status()
        .expect("mknod runs");
    assert!(made.success(), "mknod needs root (CAP_MKNOD) for this test");
    let boot = lab.boot.clone();
    let err = lab.refused(
        &[
            "media",
            "create",
            "bootable",
            "--boot-image",
            &boot,
            "--dp",
            "dp1",
            "--type",
            "usb",
            "--out",
            s(&device),
        ],
        &["--format"],
    );
    assert!(
        !lab.path("dev/CreateTSMedia.log").exists(),
        "the log went beside the device node:\n{err}"
    );
    let log = fs::read_to_string(lab.path("CreateTSMedia.log"))
        .unwrap_or_else(|e| panic!("no log in the current folder ({e}):\n{err}"));
    assert!(log.contains("--format"), "{log}");
}

#[test]
fn source_date_epoch_fixes_times_but_a_default_build_still_gets_a_certificate() {
    let lab = Lab::new();
    let boot = lab.boot.clone();
    let rt = lab.runtime();
    let build = |extra: &[&str], out: &str| {
        tsmedia()
            .arg("--site")
            .arg(lab.path("site"))
            .args([
                "media",
                "create",
                "bootable",
                "--boot-image",
                &boot,
                "--dp",
                "dp1",
            ])
            .args([
                "--password",
                "pw",
                "--runtime",
                s(&rt),
                "--quiet",
                "--out",
                out,
            ])
            .args(extra)
            .current_dir(lab.dir.path())
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .output()
            .expect("media create")
    };
    let out = build(&[], "ci");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = media_log(&lab.path("ci"));
    assert!(
        log.contains("self-signed media certificate created"),
        "{log}"
    );
    assert!(
        log.contains("date=\"11-14-2023\""),
        "times not fixed:\n{log}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&lab.ok(&["media", "inspect", "ci", "--password", "pw", "--json"]))
            .expect("JSON");
    // The certificate is valid from the real build date, not from 2023.
    let not_before = json["certificate"][1].as_i64().expect("certificate dates");
    assert!(not_before > 1_700_000_000 + 86_400, "{json}");

    // --deterministic still needs a given certificate.
    let out = build(&["--deterministic"], "repro");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--pfx"));
}

/// The commands a refusal prints in its fixes (between backticks, starting with `tsmedia `).
fn hinted_commands(stderr: &str) -> Vec<String> {
    stderr
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|c| c.starts_with("tsmedia "))
        .map(str::to_string)
        .collect()
}

/// Runs a printed command as the administrator would paste it into a shell.
fn paste(lab: &Lab, command: &str) {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "tsmedia() {{ \"$TSMEDIA\" --site \"$SITE\" \"$@\"; }}\n{command}"
        ))
        .env("TSMEDIA", env!("CARGO_BIN_EXE_tsmedia"))
        .env("SITE", lab.path("site"))
        .current_dir(lab.dir.path())
        .output()
        .expect("sh runs");
    assert!(
        out.status.success(),
        "the printed fix `{command}` does not work:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_command_a_fix_prints_works_as_printed() {
    let lab = Lab::new();
    let os = two_image_os(&lab);
    // A task sequence not yet deployed, a DP that holds nothing and that no one may read.
    let xml = lab.write(
        "ts.xml",
        format!(
            r#"<sequence version="3.10"><referenceList><reference package="{os}" /></referenceList>
<step type="SMS_TaskSequence_ApplyOperatingSystemAction" name="Apply Operating System">
<action>OSDApplyOS.exe /image:{os},1</action></step></sequence>"#
        )
        .as_bytes(),
    );
    let boot = lab.boot.clone();
    let ts = lab.ok(&[
        "ts",
        "import",
        s(&xml),
        "--name",
        "Deploy",
        "--boot-image",
        &boot,
    ]);
    let ts = ts.lines().next().expect("an ID").trim().to_string();
    lab.ok(&["collection", "add", "Lab"]);
    lab.ok(&[
        "dp",
        "add",
        "dp2",
        "--url",
        "http://dp2.example",
        "--no-default-access",
    ]);
    let create = [
        "media",
        "create",
        "prestaged",
        "--ts",
        &ts,
        "--os-image",
        &os,
        "--dp",
        "dp2",
        "--mp",
        "mp1",
        "--user",
        "LAB\\Media Builders",
        "--out",
        "staged.wim",
        "--dry-run",
    ];
    // Objects the site does not have: the fixes say where to look.
    let err = lab.refused(
        &[
            "media",
            "create",
            "prestaged",
            "--ts",
            "PS1FFFFF",
            "--os-image",
            &os,
            "--dp",
            "nodp",
            "--mp",
            "nomp",
            "--out",
            "x.wim",
            "--dry-run",
        ],
        &["PS1FFFFF", "nodp", "nomp"],
    );
    let lookups = hinted_commands(&err);
    for want in ["tsmedia ts list", "tsmedia dp list", "tsmedia mp list"] {
        assert!(
            lookups.iter().any(|c| c == want),
            "{want} not hinted:\n{err}"
        );
    }
    for c in &lookups {
        paste(&lab, c);
    }
    // Follow the fixes, as printed, until the build passes: deploy, distribute, grant.
    let mut followed = Vec::new();
    for _ in 0..4 {
        let out = lab.try_run(&create);
        if out.status.success() {
            break;
        }
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        let mut fixes = hinted_commands(&err);
        fixes.sort();
        fixes.dedup();
        assert!(
            !fixes.is_empty(),
            "a refusal without a command to run:\n{err}"
        );
        for c in fixes {
            assert!(!followed.contains(&c), "`{c}` did not fix it:\n{err}");
            paste(&lab, &c);
            followed.push(c);
        }
    }
    lab.ok(&create);
    for verb in [
        "tsmedia deploy",
        "tsmedia content distribute",
        "tsmedia dp grant",
    ] {
        assert!(
            followed.iter().any(|c| c.starts_with(verb)),
            "no `{verb}` among {followed:?}"
        );
    }
}

#[test]
fn a_new_distribution_point_lets_users_and_guests_read_as_configuration_manager_does() {
    let lab = Lab::new();
    lab.ok(&["dp", "add", "dp3", "--url", "http://dp3.example"]);
    let dp: serde_json::Value =
        serde_json::from_str(&lab.ok(&["dp", "show", "dp3", "--json"])).expect("JSON");
    assert_eq!(
        dp["read_access"],
        serde_json::json!(["Guests", "Users"]),
        "{dp}"
    );
    let boot = lab.boot.clone();
    lab.ok(&["content", "distribute", &boot, "--dp", "dp3"]);
    // The first build from it needs no grant, for the default principal and a named one.
    for user in [None, Some("LAB\\builder")] {
        let mut args = vec![
            "media",
            "create",
            "bootable",
            "--boot-image",
            &boot,
            "--dp",
            "dp3",
            "--out",
            "m",
            "--dry-run",
        ];
        if let Some(u) = user {
            args.extend(["--user", u]);
        }
        lab.ok(&args);
    }
    // --no-default-access starts with no one, and the build says who to grant.
    lab.ok(&[
        "dp",
        "add",
        "dp4",
        "--url",
        "http://dp4.example",
        "--no-default-access",
    ]);
    lab.ok(&["content", "distribute", &boot, "--dp", "dp4"]);
    lab.refused(
        &[
            "media",
            "create",
            "bootable",
            "--boot-image",
            &boot,
            "--dp",
            "dp4",
            "--out",
            "m",
            "--dry-run",
        ],
        &[
            "may not read it",
            "tsmedia dp grant dp4 --principal Everyone",
        ],
    );
}

#[test]
fn user_device_affinity_is_accepted_in_configuration_managers_spelling() {
    let lab = Lab::new();
    let boot = lab.boot.clone();
    let rt = lab.runtime();
    for (value, stored) in [
        ("DoNotAllow", "do-not-allow"),
        ("AdministratorApproval", "admin-approval"),
        ("AutoApproval", "auto-approval"),
        ("auto-approval", "auto-approval"),
    ] {
        let out = format!("uda-{value}");
        lab.ok(&[
            "media",
            "create",
            "bootable",
            "--boot-image",
            &boot,
            "--dp",
            "dp1",
            "--uda",
            value,
            "--password",
            "pw",
            "--runtime",
            s(&rt),
            "--out",
            &out,
            "--quiet",
        ]);
        let shown = lab.ok(&["media", "inspect", &out, "--password", "pw"]);
        assert!(
            shown.contains(&format!("variable _SMSTSUDAMode = {stored}")),
            "{value}: {shown}"
        );
    }
}

/// A task sequence that writes the variables a deployment sees to `NAME.txt`, deployed to the
/// lab (media and PXE); returns (task sequence, deployment).
fn variables_sequence(lab: &Lab, name: &str) -> (String, String) {
    let xml = lab.write(
        &format!("{name}.xml"),
        format!(
            r#"<sequence version="3.10">
  <step type="SMS_TaskSequence_RunCommandLineAction" name="Write the variables">
    <defaultVarList><variable name="CommandLine" property="CommandLine">printf '%s|%s|%s|%s' "$_SMSTSLaunchMode" "$_SMSTSMedia" "$SMSTSPreferredAdvertID" "$_SMSTSAdvertID" &gt; {name}.txt</variable></defaultVarList>
  </step>
</sequence>"#
        )
        .as_bytes(),
    );
    let boot = lab.boot.clone();
    let ts = lab.ok(&[
        "ts",
        "import",
        s(&xml),
        "--name",
        name,
        "--boot-image",
        &boot,
    ]);
    let ts = ts.lines().next().expect("an ID").trim().to_string();
    let v: serde_json::Value = serde_json::from_str(&lab.ok(&[
        "deploy",
        &ts,
        "--collection",
        "Lab",
        "--availability",
        "media-pxe",
        "--json",
    ]))
    .expect("JSON");
    (ts, v["id"].as_str().expect("deployment ID").to_string())
}

#[test]
fn launch_mode_preferred_deployment_and_the_choice_among_several() {
    let lab = Lab::new();
    let _server = serve(&lab);
    let (ts1, dep1) = variables_sequence(&lab, "first");
    let (_ts2, dep2) = variables_sequence(&lab, "second");
    let rt = lab.runtime();
    let boot = lab.boot.clone();
    let media = |extra: &[&str], out: &str| {
        let mut args = vec![
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
            "--unattended",
            "--runtime",
            s(&rt),
            "--quiet",
            "--out",
            out,
        ];
        args.extend(extra);
        lab.ok(&args);
    };
    let variables = |path: &str| -> Vec<(String, String)> {
        let shown = lab.ok(&["media", "inspect", path, "--password", "pw", "--json"]);
        let v: serde_json::Value = serde_json::from_str(&shown).expect("JSON");
        v["variables"]
            .as_array()
            .expect("variables")
            .iter()
            .map(|p| {
                let s = |i: usize| p[i].as_str().unwrap_or("").to_string();
                (s(0), s(1))
            })
            .collect()
    };
    let var = |vars: &[(String, String)], name: &str| {
        vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    };

    // Unattended media, two deployments, no preferred one: refused, naming both.
    media(&["--type", "cd-dvd", "--size", "650mb"], "cd");
    let vars = variables("cd");
    assert_eq!(var(&vars, "_SMSTSLaunchMode").as_deref(), Some("CD"));
    assert_eq!(var(&vars, "_SMSTSMedia").as_deref(), Some("BootMedia"));
    let iso = lab.path("cd/cd.iso");
    let out = client(&lab, &iso, "t-none", &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    for want in [
        dep1.as_str(),
        dep2.as_str(),
        "unattended media do not choose",
    ] {
        assert!(err.contains(want), "{want:?} not in:\n{err}");
    }
    // The operator names one.
    let out = client(&lab, &iso, "t-named", &["--deployment", &dep2]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        fs::read_to_string(lab.path("t-named/second.txt")).expect("second ran"),
        format!("CD|BootMedia||{dep2}")
    );

    // Media made for a task sequence prefer its deployment (a deployment ID, not the task
    // sequence's package ID), and a USB drive starts them.
    media(&["--type", "usb", "--ts", &ts1], "usb.img");
    let vars = variables("usb.img");
    assert_eq!(var(&vars, "SMSTSPreferredAdvertID"), Some(dep1.clone()));
    let out = client(&lab, &lab.path("usb.img"), "t-usb", &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        fs::read_to_string(lab.path("t-usb/first.txt")).expect("first ran"),
        format!("UFD|BootMedia|{dep1}|{dep1}")
    );

    // A DVD set, a formatted USB drive and prestaged media (a hard disk).
    media(&["--type", "cd-dvd"], "dvd");
    assert_eq!(
        var(&variables("dvd"), "_SMSTSLaunchMode").as_deref(),
        Some("DVD")
    );
    media(&["--type", "usb", "--format"], "fmt.img");
    assert_eq!(
        var(&variables("fmt.img"), "_SMSTSLaunchMode").as_deref(),
        Some("UFD+FORMAT")
    );
}

#[test]
fn inspect_shows_prestaged_media_properties_within_the_reference_limits() {
    let lab = Lab::new();
    let os = two_image_os(&lab);
    let ts = apply_os_sequence(&lab, &os);
    let rt = lab.runtime();
    let comment = "c".repeat(127);
    let prestaged = |comment: &str, out: &str| {
        lab.try_run(&[
            "media",
            "create",
            "prestaged",
            "--ts",
            &ts,
            "--os-image",
            &os,
            "--dp",
            "dp1",
            "--mp",
            "mp1",
            "--password",
            "pw",
            "--created-by",
            "Contoso IT",
            "--version",
            "2.1",
            "--comment",
            comment,
            "--runtime",
            s(&rt),
            "--out",
            out,
            "--quiet",
        ])
    };
    let too_long = prestaged(&"c".repeat(128), "long.wim");
    let err = String::from_utf8_lossy(&too_long.stderr);
    assert!(!too_long.status.success(), "{err}");
    assert!(
        err.contains("--comment") && err.contains("at most 127"),
        "{err}"
    );
    let out = prestaged(&comment, "props.wim");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = lab.ok(&["media", "inspect", "props.wim", "--password", "pw"]);
    for want in [
        "label: Configuration Manager".to_string(),
        "created by: Contoso IT".to_string(),
        "version: 2.1".to_string(),
        format!("comment: {comment}"),
    ] {
        assert!(
            shown.lines().any(|l| l == want),
            "{want:?} not in:\n{shown}"
        );
    }

    // Without --label, media carry Configuration Manager's default label, also as the ISO
    // volume name.
    let boot = lab.boot.clone();
    lab.ok(&[
        "media",
        "create",
        "bootable",
        "--boot-image",
        &boot,
        "--dp",
        "dp1",
        "--password",
        "pw",
        "--runtime",
        s(&rt),
        "--out",
        "plain",
        "--quiet",
    ]);
    let shown = lab.ok(&["media", "inspect", "plain", "--password", "pw"]);
    assert!(
        shown.lines().any(|l| l == "label: Configuration Manager"),
        "{shown}"
    );
    require("isoinfo", "genisoimage");
    let info = run(std::process::Command::new("isoinfo")
        .args(["-d", "-i"])
        .arg(lab.path("plain/plain.iso")));
    let info = String::from_utf8_lossy(&info.stdout);
    // ISO 9660's volume identifier holds d-characters: upper case, `_` for the space.
    assert!(info.contains("Volume id: CONFIGURATION_MANAGER"), "{info}");
}

#[test]
fn prestaged_build_warns_of_a_file_larger_than_the_staging_volume_holds() {
    let lab = Lab::new();
    let os = two_image_os(&lab);
    let ts = apply_os_sequence(&lab, &os);
    // 4 GiB: one byte over FAT32's limit (sparse: no disk space for the source).
    let big = lab.path("huge/recovery.img");
    fs::create_dir_all(big.parent().expect("parent")).expect("mkdir");
    fs::File::create(&big)
        .and_then(|f| f.set_len(4 << 30))
        .expect("sparse file");
    let pkg = lab.ok(&[
        "package",
        "add",
        "--type",
        "package",
        "--name",
        "Huge",
        s(&lab.path("huge")),
    ]);
    lab.ok(&["content", "distribute", &pkg, "--dp", "dp1"]);
    let out = lab.try_run(&[
        "media",
        "create",
        "prestaged",
        "--ts",
        &ts,
        "--os-image",
        &os,
        "--package",
        &pkg,
        "--dp",
        "dp1",
        "--mp",
        "mp1",
        "--out",
        "big.wim",
        "--dry-run",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "a warning, not a refusal:\n{err}");
    let notice = err
        .lines()
        .find(|l| l.starts_with("notice:") && l.contains("staging volume"))
        .unwrap_or_else(|| panic!("no warning:\n{err}"));
    assert!(
        notice.contains(&format!("SMS/PKG/{pkg}/recovery.img")),
        "{notice}"
    );
}
