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
    let sealed = seal(POLICY.as_bytes(), Some("pw"), KDF, &rng, "policy.xml").expect("seal");
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
