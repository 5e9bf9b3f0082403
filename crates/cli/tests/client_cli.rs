//! `tsmedia client run` on a stand-alone media folder sealed as the media builder seals it.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::str::contains;
use tsmedia_media::secret::{KdfParams, Randomness, seal};
use tsmedia_media::variables::{Variable, bootstrap_ini, to_xml};

const KDF: KdfParams = KdfParams {
    memory_kib: 1024,
    passes: 1,
    lanes: 1,
};

const POLICY: &str = r#"<sequence>
  <step type="SMS_TaskSequence_SetVariableAction" name="Set">
    <defaultVarList>
      <variable name="VariableName" property="VariableName">Marker</variable>
      <variable name="VariableValue" property="VariableValue">ran-%_SMSTSMediaType%</variable>
    </defaultVarList>
  </step>
  <step type="SMS_TaskSequence_RunCommandLineAction" name="Touch">
    <defaultVarList><variable name="CommandLine" property="CommandLine">printf '%s' "$Marker" &gt; marker.txt; exit $FAIL</variable></defaultVarList>
  </step>
</sequence>"#;

fn media(root: &Path, fail: &str) {
    media_with(root, fail, POLICY);
}

fn media_with(root: &Path, fail: &str, policy: &str) {
    let data = root.join("SMS/data");
    fs::create_dir_all(&data).expect("mkdir");
    fs::write(
        data.join("TsmBootstrap.ini"),
        bootstrap_ini("FullMedia", true, true, None, None),
    )
    .expect("ini");
    let vars = vec![
        Variable::new("_SMSTSMediaType", "FullMedia"),
        Variable::new("FAIL", fail),
    ];
    let rng = Randomness::Os;
    let sealed = seal(&to_xml(&vars), Some("pw"), KDF, &rng, "Variables.dat").expect("seal");
    fs::write(data.join("Variables.dat"), sealed).expect("write");
    let sealed = seal(policy.as_bytes(), Some("pw"), KDF, &rng, "policy.xml").expect("seal");
    fs::write(data.join("policy.xml"), sealed).expect("write");
}

#[test]
fn client_run_runs_stand_alone_media_and_reports_failures() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("media");
    media(&root, "0");
    let target = tmp.path().join("target");
    Command::cargo_bin("tsmedia")
        .expect("binary")
        .args(["client", "run", "--password", "pw", "--media"])
        .arg(&root)
        .arg("--target")
        .arg(&target)
        .assert()
        .success()
        .stdout(contains("task sequence succeeded"));
    assert_eq!(
        fs::read_to_string(target.join("marker.txt")).expect("marker"),
        "ran-FullMedia"
    );
    assert!(target.join("_SMSTaskSequence/Logs/smsts.log").is_file());

    Command::cargo_bin("tsmedia")
        .expect("binary")
        .args(["client", "run", "--password", "wrong", "--media"])
        .arg(&root)
        .arg("--target")
        .arg(&target)
        .assert()
        .failure()
        .stderr(contains("Variables.dat"));

    let root2 = tmp.path().join("media2");
    media(&root2, "9");
    Command::cargo_bin("tsmedia")
        .expect("binary")
        .args(["client", "run", "--password", "pw", "--media"])
        .arg(&root2)
        .arg("--target")
        .arg(tmp.path().join("t2"))
        .assert()
        .failure()
        .stderr(contains("step \"Touch\" with exit code 9"));
}

/// Ctrl-C at the terminal (SIGINT to the whole foreground process group) while a step runs:
/// the run stops before the next step and exits 130, as a shell expects.
#[test]
fn ctrl_c_stops_client_run_before_the_next_step() {
    use std::os::unix::process::CommandExt;
    const SLOW: &str = r#"<sequence>
  <step type="SMS_TaskSequence_RunCommandLineAction" name="Slow">
    <defaultVarList><variable name="CommandLine" property="CommandLine">touch started.txt; sleep 60</variable></defaultVarList>
  </step>
  <step type="SMS_TaskSequence_RunCommandLineAction" name="Next">
    <defaultVarList><variable name="CommandLine" property="CommandLine">touch next.txt</variable></defaultVarList>
  </step>
</sequence>"#;
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("media");
    media_with(&root, "0", SLOW);
    let target = tmp.path().join("target");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("tsmedia"))
        .args(["client", "run", "--password", "pw", "--media"])
        .arg(&root)
        .arg("--target")
        .arg(&target)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("spawn");
    let started = target.join("started.txt");
    for _ in 0..600 {
        if started.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(started.exists(), "the slow step never started");
    let group = format!("-{}", child.id());
    let kill = std::process::Command::new("kill")
        .args(["-INT", "--", &group])
        .status()
        .expect("kill");
    assert!(kill.success());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("cancelled"), "{stderr}");
    assert!(
        !target.join("next.txt").exists(),
        "no step runs after Ctrl-C"
    );
}
