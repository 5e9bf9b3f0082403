//! The runtime against a real management point and distribution point on loopback, with media
//! built by the media builder: bootable media (everything from the DP), prestaged media
//! (staged content until the package is updated), dynamic media (fallback and location by
//! subnet) and the refusals (unknown computer, blocked and expired certificates, DP read
//! access, wrong password). Needs `7zz` (Debian package 7zip) to extract ISOs.

mod network_site;

use std::fs;
use std::net::TcpListener;
use std::path::Path;

use network_site::*;
use tsmedia_client::{Error, ErrorClass, RunOptions, RunResult, run};
use tsmedia_media::MediaKind;
use tsmedia_protocol::client::ClientError;
use tsmedia_tasksequence::RunStatus;

/// A site whose DP and only MP is one server.
fn served_lab() -> (Lab, Running) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let lab = Lab::new(
        &url,
        &[MpDef {
            name: "MP1",
            url: url.clone(),
            boundaries: vec![],
        }],
    );
    let server = serve(listener, &lab.site_dir);
    (lab, server)
}

fn options(lab: &Lab, media: &Path, target: &str) -> RunOptions {
    RunOptions {
        media: media.to_path_buf(),
        target: Some(lab.path(target)),
        password: Some(PASSWORD.into()),
        smbios_guid: Some(GUID.into()),
        macs: vec![MAC.into()],
        arch: Some("x64".into()),
        ..RunOptions::default()
    }
}

fn log_of(r: &RunResult) -> String {
    fs::read_to_string(&r.log).expect("smsts.log")
}

fn log_at(target: &Path) -> String {
    fs::read_to_string(target.join("_SMSTaskSequence/Logs/smsts.log")).expect("smsts.log")
}

/// The step-detail line of `step` in the log.
/// The line of `step` in the latest run (runs on one target append to one log).
fn step_line<'a>(log: &'a str, step: &str) -> &'a str {
    log.lines()
        .rfind(|l| l.contains(&format!("[{step}: ")))
        .unwrap_or_else(|| panic!("no line of step {step} in\n{log}"))
}

fn refusal(e: &Error) -> (&str, &str) {
    match e {
        Error::Site {
            error: ClientError::Refused { code, message, .. },
            ..
        } => (code.as_str(), message.as_str()),
        other => panic!("expected a refusal by the site, got {other}"),
    }
}

#[test]
fn bootable_media_take_everything_from_the_dp() {
    let (lab, _server) = served_lab();
    let media = lab.media(&lab.spec(MediaKind::Bootable, "boot-iso"), "boot");
    let o = options(&lab, &media, "target");
    let result = run(&o).expect("runs");
    assert_eq!(result.media_type, "BootMedia");
    assert_eq!(result.report.status, RunStatus::Succeeded);
    let target = lab.path("target");
    assert_eq!(
        fs::read(target.join("Windows/explorer.exe")).expect("OS applied"),
        b"MZ explorer"
    );
    assert_eq!(
        fs::read(
            target
                .join("Drivers")
                .join(&lab.drivers_id)
                .join("net/e1d.sys")
        )
        .expect("drivers copied"),
        pattern(9, 200_000)
    );
    assert_eq!(
        fs::read_to_string(target.join("name.txt")).expect("collection variable"),
        "LAB-PC1"
    );
    assert!(
        target
            .join("_SMSTaskSequence/Packages")
            .join(&lab.drivers_id)
            .join("net/e1d.inf")
            .is_file()
    );
    assert_eq!(
        result.report.variables.get("_SMSTSAdvertID"),
        Some(lab.deployment.as_str())
    );
    let log = log_of(&result);
    assert!(log.lines().all(|l| l.starts_with("<![LOG[")), "{log}");
    for step in ["Apply Operating System", "Apply Drivers"] {
        let line = step_line(&log, step);
        assert!(line.contains("from distribution point DP1"), "{line}");
    }
    assert!(log.contains("identified this computer as PC1"), "{log}");

    // The next run finds the content in the cache and downloads nothing.
    let again = run(&o).expect("runs again");
    assert_eq!(again.report.status, RunStatus::Succeeded);
    let log = log_of(&again);
    let line = step_line(&log, "Apply Drivers");
    assert!(line.contains(" 0 bytes downloaded"), "{line}");

    let mut wrong = o.clone();
    wrong.password = Some("wrong".into());
    let e = run(&wrong).expect_err("wrong password");
    assert!(matches!(e, Error::Media(_)), "{e}");
    assert!(e.to_string().contains("Variables.dat"), "{e}");
    assert_eq!(e.class(), ErrorClass::InvalidInput);
}

#[test]
fn prestaged_media_use_staged_drivers_until_the_package_is_updated() {
    let (lab, _server) = served_lab();
    let media = lab.media(&lab.spec(MediaKind::Prestaged, "prestaged.wim"), "disk");
    assert!(media.join("SMS/PKG").join(&lab.drivers_id).is_dir());
    let o = options(&lab, &media, "target");
    let first = run(&o).expect("runs");
    assert_eq!(first.media_type, "OEMMedia");
    assert_eq!(
        first.report.status,
        RunStatus::Succeeded,
        "{}",
        log_of(&first)
    );
    let target = lab.path("target");
    assert!(
        !target.join("Windows").exists(),
        "Apply Operating System is skipped on prestaged media"
    );
    let log = log_of(&first);
    let line = step_line(&log, "Apply Drivers");
    assert!(line.contains("from staged media"), "{line}");
    // The task sequence has two deployments available to media (the lab's and the unknown
    // computers'), so the media name none in SMSTSPreferredAdvertID (a deployment ID); the
    // one offered to PC1 runs.
    assert!(
        log.contains(&format!("Deployment {} ", lab.deployment))
            && log.contains("the only deployment offered"),
        "{log}"
    );
    let inf = target
        .join("Drivers")
        .join(&lab.drivers_id)
        .join("net/e1d.inf");
    assert!(
        fs::read_to_string(&inf)
            .expect("drivers")
            .contains("DriverVer=1.0")
    );

    let new_content = lab.update_drivers();
    let second = run(&o).expect("runs after the update");
    assert_eq!(second.report.status, RunStatus::Succeeded);
    let log = log_of(&second);
    let line = step_line(&log, "Apply Drivers");
    assert!(line.contains("from distribution point DP1"), "{line}");
    assert!(
        line.contains(&format!(
            "version {}",
            new_content.rsplit('.').next().unwrap_or("")
        )),
        "{line}"
    );
    assert!(
        fs::read_to_string(&inf)
            .expect("drivers")
            .contains("DriverVer=2.0")
    );
}

/// Two servers of one site: MP1 serves 10.1.0.0/16, MP2 everyone else; MP0 is a closed port.
#[test]
fn dynamic_media_fall_back_and_follow_the_subnet() {
    let l1 = TcpListener::bind("127.0.0.1:0").expect("bind");
    let l2 = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url1 = format!("http://{}", l1.local_addr().expect("address"));
    let url2 = format!("http://{}", l2.local_addr().expect("address"));
    let dead = closed_port();
    let lab = Lab::new(
        &url1,
        &[
            MpDef {
                name: "MP0",
                url: dead.clone(),
                boundaries: vec!["192.0.2.0/24".into()],
            },
            MpDef {
                name: "MP1",
                url: url1.clone(),
                boundaries: vec!["10.1.0.0/16".into()],
            },
            MpDef {
                name: "MP2",
                url: url2.clone(),
                boundaries: vec![],
            },
        ],
    );
    let _s1 = serve(l1, &lab.site_dir);
    let _s2 = serve(l2, &lab.site_dir);
    let mut spec = lab.spec(MediaKind::Bootable, "dyn-iso");
    spec.mode = tsmedia_media::MpMode::Dynamic;
    spec.mp = vec!["MP0".into(), "MP2".into()];
    let media = lab.media(&spec, "dyn");

    let mut o = options(&lab, &media, "target-subnet");
    o.client_ip = Some("10.1.7.7".parse().expect("ip"));
    let r = run(&o).expect("runs");
    assert_eq!(r.report.status, RunStatus::Succeeded);
    let log = log_of(&r);
    assert!(
        log.contains(&format!(
            "dynamic media: {url2} answered the MP location request for 10.1.7.7"
        )),
        "MP0 is down, MP2 is next by priority: {log}"
    );
    assert_eq!(
        r.report.variables.get("_SMSTSMP"),
        Some(url1.as_str()),
        "the location answer sends 10.1.0.0/16 to MP1"
    );

    let o = options(&lab, &media, "target-elsewhere");
    let r = run(&o).expect("runs");
    assert_eq!(r.report.variables.get("_SMSTSMP"), Some(url2.as_str()));

    // Media whose every MP is down name each one.
    let dead2 = closed_port();
    lab.site()
        .add_management_point("MP3", &dead2, &["192.0.2.0/24".to_string()])
        .expect("mp");
    let mut spec = lab.spec(MediaKind::Bootable, "dead-iso");
    spec.mode = tsmedia_media::MpMode::Dynamic;
    spec.mp = vec!["MP0".into(), "MP3".into()];
    let media = lab.media(&spec, "dead");
    let e = run(&options(&lab, &media, "target-dead")).expect_err("no MP");
    match &e {
        Error::NoManagementPoint { tried } => assert_eq!(tried.len(), 2, "{tried:?}"),
        other => panic!("{other}"),
    }
    let text = e.to_string();
    assert!(text.contains(&dead) && text.contains(&dead2), "{text}");
}

#[test]
fn unknown_computers_run_only_when_the_media_allow_them() {
    let (lab, _server) = served_lab();
    let strict = lab.media(&lab.spec(MediaKind::Bootable, "strict-iso"), "strict");
    let mut o = options(&lab, &strict, "target-strict");
    o.smbios_guid = Some(STRANGER.into());
    o.macs = vec!["02:00:00:00:00:99".into()];
    let e = run(&o).expect_err("unknown computer refused");
    let (code, message) = refusal(&e);
    assert_eq!(code, "unknown_computer");
    assert!(
        message.contains("do not allow unknown computers"),
        "{message}"
    );
    assert!(
        e.to_string().contains(STRANGER),
        "the error names the computer: {e}"
    );
    assert_eq!(e.class(), ErrorClass::Refused);

    let mut spec = lab.spec(MediaKind::Bootable, "open-iso");
    spec.allow_unknown = true;
    let open = lab.media(&spec, "open");
    let mut o = options(&lab, &open, "target-open");
    o.smbios_guid = Some(STRANGER.into());
    o.macs = vec!["02:00:00:00:00:99".into()];
    let r = run(&o).expect("unknown computer accepted");
    assert_eq!(r.report.status, RunStatus::Succeeded);
    assert_eq!(
        r.report.variables.get("_SMSTSAdvertID"),
        Some(lab.unknown_deployment.as_str())
    );
    assert!(
        log_of(&r).contains("x64 Unknown Computer"),
        "{}",
        log_of(&r)
    );
    assert_eq!(
        fs::read_to_string(lab.path("target-open/name.txt")).expect("name"),
        "",
        "the Lab collection variable is not for unknown computers"
    );
}

/// Rewrites the media's `Variables.dat` with another media certificate.
fn swap_certificate(media: &Path, cert: &tsmedia_media::certificate::MediaCertificate) {
    use tsmedia_media::secret::{KdfParams, Randomness, open, seal};
    use tsmedia_media::variables::{from_xml, to_xml};
    let path = media.join("SMS/data/Variables.dat");
    let plain = open(
        &fs::read(&path).expect("read"),
        Some(PASSWORD),
        "Variables.dat",
    )
    .expect("open");
    let mut vars = from_xml(&plain).expect("variables");
    for v in &mut vars {
        if v.name == "_SMSTSMediaPFX" {
            v.value = hex::encode_upper(&cert.pfx);
        }
    }
    let kdf = KdfParams {
        memory_kib: 1024,
        passes: 1,
        lanes: 1,
    };
    let sealed = seal(
        &to_xml(&vars),
        Some(PASSWORD),
        kdf,
        &Randomness::Os,
        "Variables.dat",
    )
    .expect("seal");
    fs::write(path, sealed).expect("write");
}

#[test]
fn blocked_and_expired_certificates_are_refused() {
    let (lab, _server) = served_lab();
    let media = lab.media(&lab.spec(MediaKind::Bootable, "cert-iso"), "cert");
    let site_certs = lab.site().certificates().expect("certificates");
    assert_eq!(site_certs.len(), 1, "the build registered its certificate");
    let id = site_certs[0].id.clone();
    lab.site()
        .set_certificate_blocked(&id, true)
        .expect("block");
    let e = run(&options(&lab, &media, "target-blocked")).expect_err("blocked");
    let (code, message) = refusal(&e);
    assert_eq!(code, "certificate_blocked");
    assert!(message.contains(&id), "{message}");
    assert_eq!(e.class(), ErrorClass::Refused);
    assert!(!lab.path("target-blocked/Windows").exists());
    assert!(log_at(&lab.path("target-blocked")).contains("certificate_blocked"));

    let expired =
        tsmedia_media::certificate::self_signed("expired media", 1_577_836_800, 1_609_459_200)
            .expect("certificate");
    let registered = lab
        .site()
        .register_certificate(&expired.der)
        .expect("register");
    swap_certificate(&media, &expired);
    let e = run(&options(&lab, &media, "target-expired")).expect_err("expired");
    let (code, message) = refusal(&e);
    assert_eq!(code, "certificate_expired");
    assert!(message.contains(&registered.id), "{message}");
}

#[test]
fn a_principal_without_read_access_is_refused_by_the_dp() {
    let (lab, _server) = served_lab();
    let media = lab.media(&lab.spec(MediaKind::Bootable, "acl-iso"), "acl");
    // The principal is the site's record for the media certificate (issue #15, M1): record
    // one without read access.
    let mut site = lab.site();
    let cert = site
        .certificates()
        .expect("certificates")
        .pop()
        .expect("the media certificate");
    site.record_media(&cert.id, false, Some("LAB\\intruder"))
        .expect("record");
    let o = options(&lab, &media, "target");
    let r = run(&o).expect("the run starts");
    match &r.report.status {
        RunStatus::Failed { step, .. } => assert_eq!(step, "Apply Operating System"),
        other => panic!("{other:?}"),
    }
    let log = log_of(&r);
    let failure = log
        .lines()
        .find(|l| l.contains("no_read_access"))
        .unwrap_or_else(|| panic!("no refusal in\n{log}"));
    for needle in ["LAB\\intruder", "DP1", &format!("{}.", lab.os_id)] {
        assert!(failure.contains(needle), "{needle} not in {failure}");
    }
    assert!(!lab.path("target/Windows").exists());
}

/// Issue #15, M1: media cannot read as a principal the site did not record for them; the
/// claim is refused by the DP, and nothing is applied.
#[test]
fn a_claimed_principal_other_than_the_recorded_one_is_refused_by_the_dp() {
    let (lab, _server) = served_lab();
    let media = lab.media(&lab.spec(MediaKind::Bootable, "claim-iso"), "claim");
    let mut site = lab.site();
    site.grant_dp_read("DP1", "LAB\\admins").expect("grant");
    let mut o = options(&lab, &media, "target");
    o.principal = Some("LAB\\admins".into());
    let r = run(&o).expect("the run starts");
    assert!(matches!(r.report.status, RunStatus::Failed { .. }));
    let log = log_of(&r);
    let failure = log
        .lines()
        .find(|l| l.contains("principal_mismatch"))
        .unwrap_or_else(|| panic!("no refusal in\n{log}"));
    assert!(
        failure.contains("LAB\\admins") && failure.contains("Everyone"),
        "{failure}"
    );
    assert!(!lab.path("target/Windows").exists());
}

#[test]
fn https_sites_need_their_ca() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("https://{}", listener.local_addr().expect("address"));
    let lab = Lab::new(
        &url,
        &[MpDef {
            name: "MP1",
            url: url.clone(),
            boundaries: vec![],
        }],
    );
    let (cert_pem, key_pem, der) = loopback_certificate();
    let _server = serve_tls(listener, &lab.site_dir, &cert_pem, &key_pem);
    let media = lab.media(&lab.spec(MediaKind::Bootable, "tls-iso"), "tls");

    let e = run(&options(&lab, &media, "target-untrusted")).expect_err("untrusted");
    match &e {
        Error::NoManagementPoint { tried } => {
            assert!(tried.len() == 1 && tried[0].starts_with(&url), "{tried:?}")
        }
        other => panic!("{other}"),
    }

    let mut o = options(&lab, &media, "target");
    o.root_certs = tsmedia_client::trust::parse_ca(cert_pem.as_bytes()).expect("PEM");
    assert_eq!(o.root_certs, vec![der]);
    let r = run(&o).expect("runs over HTTPS");
    assert_eq!(r.report.status, RunStatus::Succeeded);
    let log = log_of(&r);
    let line = step_line(&log, "Apply Drivers");
    assert!(
        line.contains(&format!("from distribution point DP1 ({url})")),
        "{line}"
    );
}

#[test]
fn interrupted_downloads_resume_and_damaged_ones_start_over() {
    let (lab, _server) = served_lab();
    let media = lab.media(&lab.spec(MediaKind::Bootable, "resume-iso"), "resume");
    let wim = fs::read(lab.path("src/os/install.wim")).expect("OS image");
    let half = wim.len() / 2;
    let partial = |target: &str| {
        lab.path(target)
            .join("_SMSTaskSequence/Packages")
            .join(&lab.os_id)
            .join("install.wim.partial")
    };

    // An interrupted download: the first half is there.
    write(&partial("target-resume"), &wim[..half]);
    let r = run(&options(&lab, &media, "target-resume")).expect("runs");
    assert_eq!(r.report.status, RunStatus::Succeeded);
    let log = log_of(&r);
    let line = step_line(&log, "Apply Operating System");
    assert!(
        line.contains(&format!(
            "{} bytes downloaded, {half} bytes already in the cache",
            wim.len() - half
        )),
        "{line}"
    );
    assert!(!partial("target-resume").exists());

    // A damaged partial file: found at the end, and the file is fetched again whole.
    let mut bad = wim[..half].to_vec();
    bad[10] ^= 0xFF;
    write(&partial("target-damaged"), &bad);
    let r = run(&options(&lab, &media, "target-damaged")).expect("runs");
    assert_eq!(r.report.status, RunStatus::Succeeded, "{}", log_of(&r));
    let cached = lab
        .path("target-damaged/_SMSTaskSequence/Packages")
        .join(&lab.os_id)
        .join("install.wim");
    assert_eq!(fs::read(cached).expect("cached"), wim);
    assert_eq!(
        fs::read(lab.path("target-damaged/Windows/explorer.exe")).expect("applied"),
        b"MZ explorer"
    );
}

#[test]
fn attended_media_with_several_deployments_need_a_choice() {
    let (lab, _server) = served_lab();
    let second = lab.deploy_another(
        "Deploy Windows 11 (second)",
        tsmedia_site::Availability::MediaPxe,
    );
    let hidden = lab.deploy_another(
        "Deploy Windows 11 (hidden)",
        tsmedia_site::Availability::MediaPxeHidden,
    );
    let mut spec = lab.spec(MediaKind::Bootable, "attended-iso");
    spec.unattended = false;
    let media = lab.media(&spec, "attended");

    let e = run(&options(&lab, &media, "target-none")).expect_err("no choice");
    match &e {
        Error::DeploymentChoice { offered } => {
            assert_eq!(
                offered.len(),
                2,
                "the hidden one is not offered: {offered:?}"
            );
            assert!(offered[0].starts_with(&lab.deployment), "{offered:?}");
            assert!(offered[1].starts_with(&second), "{offered:?}");
        }
        other => panic!("{other}"),
    }
    assert_eq!(e.class(), ErrorClass::InvalidInput);

    let mut o = options(&lab, &media, "target-named");
    o.deployment = Some(second.clone());
    let r = run(&o).expect("the named deployment runs");
    assert_eq!(
        r.report.variables.get("_SMSTSAdvertID"),
        Some(second.as_str())
    );

    o.deployment = Some("PS1FFFFF".into());
    let e = run(&o).expect_err("not offered");
    assert!(e.to_string().contains("PS1FFFFF"), "{e}");
    assert_eq!(e.class(), ErrorClass::NotFound);

    let mut spec = lab.spec(MediaKind::Bootable, "zero-touch-iso");
    spec.unattended = false;
    spec.variable
        .insert("SMSTSPreferredAdvertID".into(), hidden.clone());
    let media = lab.media(&spec, "zero-touch");
    let r = run(&options(&lab, &media, "target-hidden")).expect("the hidden deployment runs");
    assert_eq!(
        r.report.variables.get("_SMSTSAdvertID"),
        Some(hidden.as_str())
    );
    assert!(log_of(&r).contains("named by SMSTSPreferredAdvertID"));
}

/// `openssl` with these arguments, failing (not skipping) when it is missing.
fn openssl(args: &[&str], dir: &Path) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("openssl is needed (apt-get install openssl): {e}"));
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn media_with_a_pki_certificate_sign_with_its_password_protected_pfx() {
    let (lab, _server) = served_lab();
    let dir = lab.path("pki");
    fs::create_dir_all(&dir).expect("mkdir");
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
            "-days",
            "30",
            "-subj",
            "/CN=tsmedia PKI media",
        ],
        &dir,
    );
    openssl(
        &[
            "pkcs12",
            "-export",
            "-inkey",
            "key.pem",
            "-in",
            "cert.pem",
            "-out",
            "media.pfx",
            "-passout",
            "pass:pfx secret",
        ],
        &dir,
    );
    let mut spec = lab.spec(MediaKind::Bootable, "pki-iso");
    spec.pfx = Some(dir.join("media.pfx"));
    spec.pfx_password = Some("pfx secret".into());
    let media = lab.media(&spec, "pki");
    let r = run(&options(&lab, &media, "target")).expect("runs");
    assert_eq!(r.report.status, RunStatus::Succeeded);
    let certs = lab.site().certificates().expect("certificates");
    assert_eq!(certs.len(), 1);
    assert!(
        log_of(&r).contains(&format!("media certificate {}", certs[0].id)),
        "{}",
        log_of(&r)
    );
}
