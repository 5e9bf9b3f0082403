//! The step runner under the real engine: real WIMs, real commands, staged content checked
//! against its manifest, disks checked with sfdisk and mtools, captures with wimlib-imagex.

mod common;

use std::fs;
use std::path::Path;

use common::{Pkg, os_wim_bytes, path_str, stage, tool};
use tsmedia_client::{
    ContentProvider, Error, FirstAvailable, MediaStepRunner, RunnerOptions, StagedContent,
};
use tsmedia_tasksequence::{
    BuiltIns, Engine, LogRecord, MediaType, NodeResult, RunReport, RunStatus, TaskSequence,
    Variables,
};

fn run(
    xml: &str,
    content: &mut dyn ContentProvider,
    options: RunnerOptions,
    env: Variables,
) -> (RunReport, Vec<String>) {
    let ts = TaskSequence::from_xml(xml).expect("task sequence parses");
    let mut runner = MediaStepRunner::new(options, content);
    let mut log: Vec<LogRecord> = Vec::new();
    let report = Engine::new(&ts, &mut runner, &mut log)
        .start(env)
        .expect("engine runs");
    let lines = runner
        .take_log()
        .into_iter()
        .map(|l| format!("{}: {}", l.step, l.message))
        .collect();
    (report, lines)
}

fn env_for(media: Option<MediaType>) -> Variables {
    let mut env = Variables::new();
    BuiltIns {
        media_type: media,
        ..BuiltIns::default()
    }
    .apply(&mut env)
    .expect("built-ins");
    env
}

fn step_result<'a>(report: &'a RunReport, name: &str) -> &'a NodeResult {
    &report
        .records
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("step {name} has a record: {:?}", report.records))
        .result
}

const FULL: &str = r#"<sequence version="3.10">
  <step type="SMS_TaskSequence_PartitionDiskAction" name="Partition Disk 0">
    <defaultVarList><variable name="OSDPartitionStyle" property="PartitionStyle">MBR</variable></defaultVarList>
  </step>
  <step type="SMS_TaskSequence_ApplyOperatingSystemAction" name="Apply OS">
    <action>OSDApplyOS.exe /image:PS100004,%OSDImageIndex% /target:%OSDTargetSystemDrive%</action>
    <defaultVarList><variable name="OSDImageIndex" property="ImageIndex">1</variable></defaultVarList>
  </step>
  <step type="SMS_TaskSequence_ApplyDriverPackageAction" name="Apply Drivers">
    <defaultVarList><variable name="OSDApplyDriverDriverPackageID" property="DriverPackageID">PS100010</variable></defaultVarList>
  </step>
  <step type="SMS_TaskSequence_SetVariableAction" name="Set Greeting">
    <defaultVarList>
      <variable name="VariableName" property="VariableName">Greeting</variable>
      <variable name="VariableValue" property="VariableValue">hello from %_SMSTSMediaType%</variable>
    </defaultVarList>
  </step>
  <step type="SMS_TaskSequence_RunCommandLineAction" name="Write Greeting" successCodeList="0 5">
    <defaultVarList><variable name="CommandLine" property="CommandLine">printf '%s' "$Greeting" &gt; greeting.txt; exit 5</variable></defaultVarList>
  </step>
  <step type="SMS_TaskSequence_InstallSoftwareAction" name="Install Tools">
    <defaultVarList>
      <variable name="PackageID" property="PackageID">PS100020</variable>
      <variable name="CommandLine" property="CommandLine">sh install.sh "$OSDTarget"</variable>
    </defaultVarList>
  </step>
  <step type="SMS_TaskSequence_DownloadPackageContentAction" name="Download Tools">
    <defaultVarList>
      <variable name="OSDDownloadDownloadPackages" property="DownloadPackages">PS100020,PS100010</variable>
      <variable name="OSDDownloadDestinationLocationType" property="DestinationLocationType">TSCache</variable>
      <variable name="OSDDownloadDestinationVariable" property="DestinationVariable">DL</variable>
    </defaultVarList>
  </step>
  <step type="SMS_TaskSequence_CaptureSystemImageAction" name="Capture">
    <defaultVarList><variable name="OSDImageName" property="ImageName">Captured</variable></defaultVarList>
  </step>
  <step type="SMS_TaskSequence_SetupWindowsAndSMSAction" name="Setup Windows and ConfigMgr" continueOnError="true"/>
</sequence>"#;

fn full_media(tmp: &Path) -> std::path::PathBuf {
    let media = tmp.join("media");
    let wim = os_wim_bytes(tmp);
    stage(
        &media,
        &[
            Pkg {
                id: "PS100004",
                version: 1,
                files: vec![("install.wim", wim)],
            },
            Pkg {
                id: "PS100010",
                version: 2,
                files: vec![
                    ("net/e1d.inf", b"[Version]".to_vec()),
                    ("net/e1d.sys", vec![7; 3000]),
                ],
            },
            Pkg {
                id: "PS100020",
                version: 1,
                files: vec![(
                    "install.sh",
                    b"echo installed > \"$1/tools.txt\"\n".to_vec(),
                )],
            },
        ],
    );
    media
}

#[test]
fn a_whole_sequence_runs_with_real_images_commands_and_disks() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let media = full_media(tmp.path());
    let target = tmp.path().join("target");
    fs::create_dir_all(&target).expect("mkdir");
    fs::write(target.join("old.txt"), b"wiped by Apply OS").expect("write");
    let disk = tmp.path().join("disk.img");
    let capture = tmp.path().join("captured.wim");
    let mut env = env_for(Some(MediaType::BootMedia));
    env.set("OSDTarget", path_str(&target)).expect("set");
    env.set("OSDCaptureDestination", path_str(&capture))
        .expect("set");
    let mut content = StagedContent::from_media(&media).expect("manifest");
    let options = RunnerOptions {
        target: target.clone(),
        disk: Some(disk.clone()),
        new_disk_size: 40 << 20,
        mounter: None,
        ..RunnerOptions::default()
    };
    let (report, lines) = run(FULL, &mut content, options, env);
    assert_eq!(
        report.status,
        RunStatus::Succeeded,
        "{lines:#?}\n{:#?}",
        report.records
    );

    // Partition Disk: an MBR disk with one FAT32 partition at 1 MiB, empty.
    let dump = tool("sfdisk", "fdisk", &["--dump", path_str(&disk)]);
    assert!(dump.contains("label: dos"), "{dump}");
    assert!(
        dump.contains("start=        2048") && dump.contains("type=c"),
        "{dump}"
    );
    let dir = tool(
        "mdir",
        "mtools",
        &["-i", &format!("{}@@1M", disk.display()), "-b", "::/"],
    );
    assert_eq!(dir.trim(), "", "the new volume is empty");

    // Apply OS wiped the target and applied the image.
    assert!(!target.join("old.txt").exists());
    assert_eq!(
        fs::read(target.join("Windows/explorer.exe")).expect("applied"),
        b"MZ explorer"
    );
    // Drivers, command line with a variable and a non-zero success code, package program.
    assert_eq!(
        fs::read(target.join("Drivers/PS100010/net/e1d.sys"))
            .expect("drivers")
            .len(),
        3000
    );
    assert_eq!(
        fs::read_to_string(target.join("greeting.txt")).expect("greeting"),
        "hello from BootMedia"
    );
    assert_eq!(
        step_result(&report, "Write Greeting"),
        &NodeResult::Succeeded { exit_code: 5 }
    );
    assert_eq!(
        fs::read_to_string(target.join("tools.txt"))
            .expect("tools")
            .trim(),
        "installed"
    );
    // Download into the task sequence cache, paths in DL01, DL02.
    let cache = target.join("_SMSTaskSequence/Packages");
    assert_eq!(
        report.variables.get("DL01"),
        Some(path_str(&cache.join("PS100020")))
    );
    assert_eq!(
        report.variables.get("DL02"),
        Some(path_str(&cache.join("PS100010")))
    );
    assert!(cache.join("PS100010/net/e1d.inf").is_file());
    // Capture: wimlib reads the WIM we wrote.
    let info = tool("wimlib-imagex", "wimtools", &["info", path_str(&capture)]);
    assert!(info.contains("Captured"), "{info}");
    let listed = tool(
        "wimlib-imagex",
        "wimtools",
        &["dir", path_str(&capture), "1"],
    );
    assert!(
        listed.contains("/Windows/explorer.exe") && listed.contains("/greeting.txt"),
        "{listed}"
    );
    // Setup Windows and ConfigMgr mounts the system partition through tsmedia PE's session;
    // without one it fails saying so, and continueOnError passes over it.
    match step_result(&report, "Setup Windows and ConfigMgr") {
        NodeResult::Failed {
            message, continued, ..
        } => {
            assert!(continued);
            let m = message.as_deref().unwrap_or_default();
            assert!(m.contains("mounted by tsmedia PE's session"), "{m}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn prestaged_media_skip_the_wipe_and_the_apply() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let media = full_media(tmp.path());
    let target = tmp.path().join("target");
    fs::create_dir_all(&target).expect("mkdir");
    fs::write(target.join("prestaged.txt"), b"kept").expect("write");
    let xml = r#"<sequence><step type="SMS_TaskSequence_ApplyOperatingSystemAction" name="Apply OS">
        <action>OSDApplyOS.exe /image:PS100004,1</action></step></sequence>"#;
    let mut content = StagedContent::from_media(&media).expect("manifest");
    let options = RunnerOptions {
        target: target.clone(),
        ..RunnerOptions::default()
    };
    let (report, lines) = run(
        xml,
        &mut content,
        options,
        env_for(Some(MediaType::OemMedia)),
    );
    assert_eq!(report.status, RunStatus::Succeeded);
    assert!(target.join("prestaged.txt").is_file());
    assert!(!target.join("Windows").exists());
    assert!(lines.iter().any(|l| l.contains("OEMMedia")), "{lines:?}");
}

#[test]
fn a_failing_command_fails_the_sequence_with_its_exit_code() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let media = full_media(tmp.path());
    let xml = r#"<sequence>
      <step type="SMS_TaskSequence_RunCommandLineAction" name="Fail"><defaultVarList>
        <variable name="CommandLine" property="CommandLine">exit 7</variable></defaultVarList></step>
      <step type="SMS_TaskSequence_RunCommandLineAction" name="Never"><defaultVarList>
        <variable name="CommandLine" property="CommandLine">touch never</variable></defaultVarList></step>
    </sequence>"#;
    let mut content = StagedContent::from_media(&media).expect("manifest");
    let options = RunnerOptions {
        target: tmp.path().to_path_buf(),
        ..RunnerOptions::default()
    };
    let (report, _) = run(xml, &mut content, options, env_for(None));
    assert_eq!(
        report.status,
        RunStatus::Failed {
            step: "Fail".into(),
            exit_code: 7
        }
    );
    assert!(!tmp.path().join("never").exists());
}

#[test]
fn partition_disk_writes_gpt_and_needs_a_disk() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let media = full_media(tmp.path());
    let disk = tmp.path().join("gpt.img");
    fs::write(&disk, vec![0xAAu8; 48 << 20]).expect("existing image");
    let xml = r#"<sequence><step type="SMS_TaskSequence_PartitionDiskAction" name="Partition"/></sequence>"#;
    let mut content = StagedContent::from_media(&media).expect("manifest");
    let options = RunnerOptions {
        target: tmp.path().join("t"),
        disk: Some(disk.clone()),
        ..RunnerOptions::default()
    };
    let (report, _) = run(xml, &mut content, options, env_for(None));
    assert_eq!(report.status, RunStatus::Succeeded);
    assert_eq!(
        fs::metadata(&disk).expect("disk").len(),
        48 << 20,
        "the disk keeps its size"
    );
    let dump = tool("sfdisk", "fdisk", &["--dump", path_str(&disk)]);
    assert!(dump.contains("label: gpt"), "{dump}");
    tool("sgdisk", "gdisk", &["--verify", path_str(&disk)]);

    let options = RunnerOptions {
        target: tmp.path().join("t"),
        disk: None,
        ..RunnerOptions::default()
    };
    let (report, _) = run(xml, &mut content, options, env_for(None));
    match step_result(&report, "Partition") {
        NodeResult::Failed { message, .. } => {
            assert!(message.as_deref().unwrap_or_default().contains("--disk"))
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn tampered_staged_content_is_refused_and_the_cache_is_used_when_it_matches() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let media = full_media(tmp.path());
    let staged = StagedContent::from_media(&media).expect("manifest");
    staged.verify_all().expect("untouched media verify");
    fs::write(media.join("SMS/PKG/PS100010/net/e1d.sys"), vec![8u8; 3000]).expect("tamper");
    match staged.verify_all() {
        Err(Error::ContentMismatch { package, reason }) => {
            assert_eq!(package, "PS100010");
            assert!(
                reason.contains("net/e1d.sys") && reason.contains("SHA-256"),
                "{reason}"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    let mut only_staged = staged.clone();
    assert!(matches!(
        only_staged.content("PS100010", None),
        Err(Error::ContentMismatch { .. })
    ));

    // A good copy in the cache is used instead.
    let cache = tmp.path().join("cache");
    fs::create_dir_all(cache.join("PS100010/net")).expect("mkdir");
    fs::write(cache.join("PS100010/net/e1d.inf"), b"[Version]").expect("write");
    fs::write(cache.join("PS100010/net/e1d.sys"), vec![7u8; 3000]).expect("write");
    let mut both = StagedContent::new(
        staged.manifest().clone(),
        Some(media.clone()),
        Some(cache.clone()),
    );
    let c = both.content("ps100010", Some(2)).expect("cache matches");
    assert_eq!(c.path, cache.join("PS100010"));
    assert_eq!(c.origin, "task sequence cache");
    // Another version than the manifest's is not this provider's to give.
    assert!(matches!(
        both.content("PS100010", Some(3)),
        Err(Error::ContentUnavailable(_))
    ));
    // A missing file is a mismatch too.
    fs::remove_file(cache.join("PS100010/net/e1d.inf")).expect("rm");
    match both.content("PS100010", None) {
        Err(Error::ContentMismatch { reason, .. }) => assert!(
            reason.contains("missing") || reason.contains("SHA-256"),
            "{reason}"
        ),
        other => panic!("unexpected {other:?}"),
    }
    // FirstAvailable reports the mismatch when nobody has good content.
    let mut chain = FirstAvailable::new(vec![Box::new(only_staged)]);
    assert!(matches!(
        chain.content("PS100010", None),
        Err(Error::ContentMismatch { .. })
    ));
    assert!(matches!(
        chain.content("PS999999", None),
        Err(Error::ContentUnavailable(_))
    ));
}

#[test]
fn an_os_image_stored_as_swm_parts_is_applied_from_all_its_parts() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let wim_bytes = os_wim_bytes(tmp.path());
    let whole = tmp.path().join("whole.wim");
    fs::write(&whole, &wim_bytes).expect("write");
    let parts_dir = tmp.path().join("parts");
    fs::create_dir_all(&parts_dir).expect("mkdir");
    let wim = tsmedia_wim::Wim::open(&whole).expect("open");
    let parts = tsmedia_wim::ops::split(&wim, &parts_dir.join("install.swm"), 700).expect("split");
    assert!(parts.len() >= 2, "{parts:?}");
    let files: Vec<(String, Vec<u8>)> = parts
        .iter()
        .map(|p| {
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            (name, fs::read(p).expect("part"))
        })
        .collect();
    let media = tmp.path().join("media");
    stage(
        &media,
        &[Pkg {
            id: "PS100004",
            version: 1,
            files: files.iter().map(|(n, b)| (n.as_str(), b.clone())).collect(),
        }],
    );
    let target = tmp.path().join("target");
    let xml = r#"<sequence><step type="SMS_TaskSequence_ApplyOperatingSystemAction" name="Apply OS">
        <action>OSDApplyOS.exe /image:PS100004,1</action></step></sequence>"#;
    let mut content = StagedContent::from_media(&media).expect("manifest");
    let options = RunnerOptions {
        target: target.clone(),
        ..RunnerOptions::default()
    };
    let (report, lines) = run(
        xml,
        &mut content,
        options,
        env_for(Some(MediaType::FullMedia)),
    );
    assert_eq!(report.status, RunStatus::Succeeded, "{lines:?}");
    assert_eq!(
        fs::read(target.join("Windows/explorer.exe")).expect("applied"),
        b"MZ explorer"
    );
    assert!(lines.iter().any(|l| l.contains("install.swm")), "{lines:?}");
}
