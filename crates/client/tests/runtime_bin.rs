//! The `tsmedia-runtime` binary on a stand-alone media folder sealed as the media builder
//! seals it: the options of `tsmedia client run` and its exit codes (0 success, 1 a failed
//! step, 3 wrong password, 4 missing media).

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use tsmedia_mediafmt::secret::{KdfParams, Randomness, seal};
use tsmedia_mediafmt::variables::{Variable, bootstrap_ini, to_xml};

const KDF: KdfParams = KdfParams {
    memory_kib: 1024,
    passes: 1,
    lanes: 1,
};

const POLICY: &str = r#"<sequence>
  <step type="SMS_TaskSequence_RunCommandLineAction" name="Touch">
    <defaultVarList><variable name="CommandLine" property="CommandLine">printf ran &gt; marker.txt; exit $FAIL</variable></defaultVarList>
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

fn runtime(media: &Path, target: &Path, password: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tsmedia-runtime"))
        .args(["run", "--password", password, "--media"])
        .arg(media)
        .arg("--target")
        .arg(target)
        .env_remove("TSMEDIA_MEDIA_PASSWORD")
        .output()
        .expect("tsmedia-runtime runs")
}

#[test]
fn runtime_binary_runs_media_and_exits_like_client_run() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("media");
    media(&root, "0");
    let target = tmp.path().join("target");

    let ok = runtime(&root, &target, "pw");
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert_eq!(ok.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("task sequence succeeded (FullMedia media)"),
        "{stdout}"
    );
    assert_eq!(
        fs::read_to_string(target.join("marker.txt")).expect("marker"),
        "ran"
    );

    let wrong = runtime(&root, &target, "wrong");
    assert_eq!(wrong.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("Variables.dat"));

    let root2 = tmp.path().join("media2");
    media(&root2, "9");
    let failed = runtime(&root2, &tmp.path().join("t2"), "pw");
    assert_eq!(failed.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&failed.stderr).contains("step \"Touch\" with exit code 9"));

    let missing = runtime(&tmp.path().join("nowhere"), &tmp.path().join("t3"), "pw");
    assert_eq!(missing.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&missing.stderr).starts_with("error: running media "));
}
