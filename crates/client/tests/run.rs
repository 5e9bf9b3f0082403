//! `client::run` over media folders written the way the media builder writes them: sealed
//! `Variables.dat` and `policy.xml`, `TsmBootstrap.ini`, staged content with its manifest.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{Pkg, os_wim_bytes, stage};
use tsmedia_client::{Error, RunOptions, run};
use tsmedia_media::secret::{KdfParams, Randomness, seal};
use tsmedia_media::variables::{Variable, bootstrap_ini, to_xml};
use tsmedia_mediafmt::manifest::MANIFEST_HASH_VARIABLE;
use tsmedia_tasksequence::RunStatus;

const PASSWORD: &str = "correct horse";
const KDF: KdfParams = KdfParams {
    memory_kib: 1024,
    passes: 1,
    lanes: 1,
};

const POLICY: &str = r#"<sequence version="3.10">
  <step type="SMS_TaskSequence_ApplyOperatingSystemAction" name="Apply OS">
    <action>OSDApplyOS.exe /image:PS100004,1</action>
  </step>
  <step type="SMS_TaskSequence_RunCommandLineAction" name="Greet">
    <defaultVarList><variable name="CommandLine" property="CommandLine">printf '%s' "$Greeting" &gt; greeting.txt</variable></defaultVarList>
  </step>
</sequence>"#;

fn write_media(root: &Path, media_type: &str, extra: &[(&str, &str)]) {
    let wim = os_wim_bytes(&root.join("..").join(format!("wim-{media_type}")));
    let manifest_hash = stage(
        root,
        &[Pkg {
            id: "PS100004",
            version: 1,
            files: vec![("install.wim", wim)],
        }],
    );
    let data = root.join("SMS/data");
    fs::write(
        data.join("TsmBootstrap.ini"),
        bootstrap_ini(media_type, true, true, None, None),
    )
    .expect("ini");
    let mut vars = vec![
        Variable::new("_SMSTSMediaType", media_type),
        Variable::new("_SMSTSLaunchMode", "UFD+FORMAT"),
        Variable::new("_SMSTSStandAloneTSID", "PS100099"),
        Variable::new("_SMSTSPreStartCommand", "echo Greeting=hello from prestart"),
        Variable::new(MANIFEST_HASH_VARIABLE, manifest_hash),
    ];
    for (k, v) in extra {
        vars.push(Variable::new(k, *v));
    }
    let rng = Randomness::Os;
    fs::write(
        data.join("Variables.dat"),
        seal(&to_xml(&vars), Some(PASSWORD), KDF, &rng, "Variables.dat").expect("seal"),
    )
    .expect("write");
    fs::write(
        data.join("policy.xml"),
        seal(POLICY.as_bytes(), Some(PASSWORD), KDF, &rng, "policy.xml").expect("seal"),
    )
    .expect("write");
}

fn options(tmp: &Path, media: PathBuf) -> RunOptions {
    RunOptions {
        media,
        target: Some(tmp.join("target")),
        password: Some(PASSWORD.into()),
        now: Some(1_800_000_000),
        ..RunOptions::default()
    }
}

#[test]
fn stand_alone_media_run_without_a_network_and_log_in_cmtrace_format() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let media = tmp.path().join("media");
    write_media(
        &media,
        "FullMedia",
        &[("_SMSTSMediaExpirationDate", "2030-01-01")],
    );
    let result = run(&options(tmp.path(), media)).expect("runs");
    assert_eq!(result.report.status, RunStatus::Succeeded);
    let target = tmp.path().join("target");
    assert_eq!(
        fs::read(target.join("Windows/explorer.exe")).expect("applied"),
        b"MZ explorer"
    );
    assert_eq!(
        fs::read_to_string(target.join("greeting.txt")).expect("greeting"),
        "hello from prestart"
    );
    assert_eq!(result.log, target.join("_SMSTaskSequence/Logs/smsts.log"));
    let log = fs::read_to_string(&result.log).expect("log");
    assert!(log.lines().all(|l| l.starts_with("<![LOG[")), "{log}");
    for needle in [
        "Staged content verified",
        "Prestart set Greeting",
        "Apply OS: applied image 1 of PS100004",
        "completed successfully",
    ] {
        assert!(log.contains(needle), "{needle} missing in\n{log}");
    }
}

#[test]
fn a_cancelled_run_stops_with_cancelled_before_the_next_step() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let media = tmp.path().join("media");
    write_media(&media, "FullMedia", &[]);
    let o = options(tmp.path(), media);
    o.cancel.cancel();
    let err = run(&o).expect_err("cancelled");
    assert!(matches!(err, Error::Cancelled(_)), "{err}");
    assert_eq!(err.class().exit_code(), 130);
    assert_eq!(err.to_string(), "operation cancelled");
    let target = tmp.path().join("target");
    assert!(!target.join("Windows").exists(), "no image was applied");
    assert!(!target.join("greeting.txt").exists(), "no command ran");
    let log = fs::read_to_string(target.join("_SMSTaskSequence/Logs/smsts.log")).expect("log");
    assert!(log.contains("operation cancelled"), "{log}");
}

/// Issue #15, M5: the Argon2 parameters come from the header of `Variables.dat`, which is
/// authenticated only after the key is derived. A header asking for 4 TiB of memory, or a
/// flipped bit making the pass count huge, is refused at once with a message saying so, before
/// any derivation (without the bound this test would exhaust memory or hang).
#[test]
fn huge_argon2_parameters_in_the_header_are_refused_before_deriving() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let media = tmp.path().join("media");
    write_media(&media, "FullMedia", &[]);
    let vars = media.join("SMS/data/Variables.dat");
    let sealed = fs::read(&vars).expect("read");
    // Memory (KiB) at offset 10, passes at 14, lanes at 18.
    for (offset, value, what) in [
        (10, u32::MAX, "Argon2 memory"),
        (14, 1 << 30, "Argon2 passes"),
        (18, 1 << 24, "Argon2 lanes"),
    ] {
        let mut crafted = sealed.clone();
        crafted[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
        fs::write(&vars, &crafted).expect("write");
        let err = run(&options(tmp.path(), media.clone())).expect_err("refused");
        let text = tsmedia_base::error_chain(&err);
        assert!(matches!(err, Error::Media(_)), "{text}");
        assert!(
            text.contains(what) && text.contains("refused before deriving a key"),
            "{text}"
        );
    }
}

#[test]
fn a_wrong_or_missing_password_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let media = tmp.path().join("media");
    write_media(&media, "FullMedia", &[]);
    for password in [Some("wrong"), None] {
        let mut o = options(tmp.path(), media.clone());
        o.password = password.map(str::to_string);
        let err = run(&o).expect_err("refused");
        assert!(matches!(err, Error::Media(_)), "{err}");
    }
    assert!(!tmp.path().join("target/Windows").exists());
    let log =
        fs::read_to_string(tmp.path().join("target/_SMSTaskSequence/Logs/smsts.log")).expect("log");
    assert!(
        log.contains("type=\"3\""),
        "the failure is logged as an error: {log}"
    );
}

#[test]
fn tampered_staged_content_stops_the_run() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let media = tmp.path().join("media");
    write_media(&media, "FullMedia", &[]);
    let wim = media.join("SMS/PKG/PS100004/install.wim");
    let mut bytes = fs::read(&wim).expect("read");
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    fs::write(&wim, bytes).expect("tamper");
    match run(&options(tmp.path(), media)) {
        Err(Error::ContentMismatch { package, reason }) => {
            assert_eq!(package, "PS100004");
            assert!(reason.contains("install.wim"), "{reason}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

/// Issue #15, L1: a staged file edited together with its hash in `ContentManifest.json` is
/// refused — the manifest's own hash is sealed in `Variables.dat` — and nothing runs.
#[test]
fn an_edited_manifest_with_its_file_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let media = tmp.path().join("media");
    write_media(&media, "FullMedia", &[]);
    let wim = media.join("SMS/PKG/PS100004/install.wim");
    let mut bytes = fs::read(&wim).expect("read");
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    fs::write(&wim, &bytes).expect("tamper");
    let manifest = media.join("SMS/data/ContentManifest.json");
    let old = tsmedia_base::digest::hex(&tsmedia_base::digest::sha256(
        &fs::read(&wim)
            .map(|mut b| {
                b[last] ^= 1;
                b
            })
            .expect("read"),
    ));
    let new = tsmedia_base::digest::hex(&tsmedia_base::digest::sha256(&bytes));
    let text = fs::read_to_string(&manifest).expect("manifest");
    assert!(text.contains(&old), "{text}");
    fs::write(&manifest, text.replace(&old, &new)).expect("edit manifest");
    let err = run(&options(tmp.path(), media)).expect_err("refused");
    let text = tsmedia_base::error_chain(&err);
    assert!(matches!(err, Error::Media(_)), "{text}");
    assert!(
        text.contains("ContentManifest.json")
            && text.contains("changed since the media were built"),
        "{text}"
    );
    assert!(!tmp.path().join("target/greeting.txt").exists());
}

/// Issue #15, L1: an unprotected `Variables.dat` (or `policy.xml`) copied into
/// password-protected media (`TsmBootstrap.ini` asks for a password) is refused, with or without
/// the password given — no downgrade.
#[test]
fn an_unprotected_file_in_protected_media_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let media = tmp.path().join("media");
    write_media(&media, "FullMedia", &[]);
    let data = media.join("SMS/data");
    let vars = tsmedia_media::variables::from_xml(
        &tsmedia_media::secret::open(
            &fs::read(data.join("Variables.dat")).expect("read"),
            Some(PASSWORD),
            "v",
        )
        .expect("open"),
    )
    .expect("vars");
    let unprotected =
        seal(&to_xml(&vars), None, KDF, &Randomness::Os, "Variables.dat").expect("seal");
    let original = fs::read(data.join("Variables.dat")).expect("read");
    fs::write(data.join("Variables.dat"), &unprotected).expect("write");
    for password in [Some(PASSWORD), None] {
        let mut o = options(tmp.path(), media.clone());
        o.password = password.map(str::to_string);
        let err = run(&o).expect_err("refused");
        let text = tsmedia_base::error_chain(&err);
        assert!(
            text.contains("Variables.dat is not password-protected, but these media are"),
            "{text}"
        );
    }
    // The same for the policy.
    fs::write(data.join("Variables.dat"), &original).expect("write");
    let policy = seal(POLICY.as_bytes(), None, KDF, &Randomness::Os, "policy.xml").expect("seal");
    fs::write(data.join("policy.xml"), policy).expect("write");
    let err = run(&options(tmp.path(), media)).expect_err("refused");
    let text = tsmedia_base::error_chain(&err);
    assert!(
        text.contains("policy.xml is not password-protected"),
        "{text}"
    );
    assert!(!tmp.path().join("target/greeting.txt").exists());
}

#[test]
fn stand_alone_media_outside_their_validity_window_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let media = tmp.path().join("media");
    write_media(
        &media,
        "FullMedia",
        &[
            ("_SMSTSMediaStartDate", "2026-01-01"),
            ("_SMSTSMediaExpirationDate", "2027-01-01"),
        ],
    );
    let mut o = options(tmp.path(), media);
    o.now = Some(1_700_000_000); // 2023
    assert!(matches!(run(&o), Err(Error::NotYetValid(_))));
    o.now = Some(1_900_000_000); // 2030
    assert!(matches!(run(&o), Err(Error::Expired(_))));
    o.now = Some(1_780_000_000); // 2026
    assert_eq!(run(&o).expect("valid").report.status, RunStatus::Succeeded);
}

#[test]
fn a_failing_prestart_command_stops_the_run() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let media = tmp.path().join("media");
    write_media(
        &media,
        "FullMedia",
        &[("_SMSTSPreStartCommand", "echo nope >&2; exit 3")],
    );
    match run(&options(tmp.path(), media)) {
        Err(Error::Prestart { stderr, .. }) => assert_eq!(stderr, "nope"),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn prestaged_media_check_their_content_then_need_a_management_point() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let media = tmp.path().join("media");
    write_media(&media, "OEMMedia", &[]);
    match run(&options(tmp.path(), media.clone())) {
        Err(Error::NeedsManagementPoint(t)) => assert_eq!(t, "OEMMedia"),
        other => panic!("unexpected {other:?}"),
    }
    fs::write(media.join("SMS/PKG/PS100004/extra-but-harmless.txt"), b"x").expect("write");
    fs::remove_file(media.join("SMS/PKG/PS100004/install.wim")).expect("rm");
    assert!(matches!(
        run(&options(tmp.path(), media)),
        Err(Error::ContentMismatch { .. })
    ));
}

const RESTART_POLICY: &str = r#"<sequence version="3.10">
  <step type="SMS_TaskSequence_SetVariableAction" name="Before">
    <defaultVarList>
      <variable name="VariableName" property="VariableName">Phase</variable>
      <variable name="VariableValue" property="VariableValue">set-before-restart</variable>
    </defaultVarList>
  </step>
  <step type="SMS_TaskSequence_RebootAction" name="Restart Computer">
    <defaultVarList><variable name="SMSRebootTarget" property="Target">HD</variable></defaultVarList>
  </step>
  <step type="SMS_TaskSequence_RunCommandLineAction" name="After">
    <defaultVarList><variable name="CommandLine" property="CommandLine">printf '%s' "$Phase" &gt;&gt; after.txt</variable></defaultVarList>
  </step>
</sequence>"#;

#[test]
fn a_restart_suspends_the_run_and_the_next_run_resumes_after_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let media = tmp.path().join("media");
    write_media(&media, "FullMedia", &[]);
    fs::write(
        media.join("SMS/data/policy.xml"),
        seal(
            RESTART_POLICY.as_bytes(),
            Some(PASSWORD),
            KDF,
            &Randomness::Os,
            "policy.xml",
        )
        .expect("seal"),
    )
    .expect("write");
    let o = options(tmp.path(), media);
    let target = tmp.path().join("target");
    let state = target.join(tsmedia_client::run::STATE_FILE);

    let first = run(&o).expect("runs");
    assert!(
        matches!(first.report.status, RunStatus::Suspended(_)),
        "{:?}",
        first.report.status
    );
    assert!(state.is_file(), "the state is saved for the next run");
    assert!(
        !target.join("after.txt").exists(),
        "nothing ran after the restart"
    );
    let sealed = fs::read(&state).expect("state");
    assert!(
        !sealed.windows(18).any(|w| w == b"set-before-restart"),
        "the saved variables are sealed"
    );

    // The wrong password cannot open the saved state.
    let wrong = RunOptions {
        password: Some("wrong".into()),
        ..o.clone()
    };
    assert!(run(&wrong).is_err());

    let second = run(&o).expect("resumes");
    assert_eq!(second.report.status, RunStatus::Succeeded);
    assert_eq!(
        fs::read_to_string(target.join("after.txt")).expect("after"),
        "set-before-restart",
        "the run went on after the restart with the variables it had, and only once"
    );
    assert!(!state.exists(), "a finished run leaves no state behind");
    let log = fs::read_to_string(&second.log).expect("log");
    assert!(log.contains("Resuming the task sequence"), "{log}");
    // One log across the restart: the run before it is still there, before the resumed one.
    let suspended = log
        .find("Suspended (")
        .expect("the first run's lines are kept");
    assert!(suspended < log.find("Resuming the task sequence").expect("resumed"));
}
