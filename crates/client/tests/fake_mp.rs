//! Issue #15, H1: whoever answers at a management point's address cannot hand the media a task
//! sequence. A fake MP on loopback (plain TCP, HTTP/1.1) answers every endpoint with a
//! well-formed conversation whose policy runs a command line; unsigned, or signed with a key
//! that is not the site's, its answers are refused at the first one, the error names the MP,
//! and nothing runs. Over HTTPS, the real server signing with a key that is not the one the
//! media carry is refused the same way. Needs `7zz` (Debian package 7zip) to extract ISOs.

mod network_site;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};

use network_site::*;
use tsmedia_client::{Error, RunOptions, run};
use tsmedia_media::MediaKind;
use tsmedia_protocol::client::ClientError;
use tsmedia_protocol::reply::{
    NONCE_HEADER, ReplyError, ReplySigner, SIGNATURE_HEADER, SignedReply, generate_site_key,
};

/// The command line the fake policy runs: it must never run.
const MARKER: &str = "pwned-by-fake-mp.txt";

/// A management point that is not the site's: answers every endpoint, signing with `signer`
/// when given. Records the paths asked.
struct FakeMp {
    url: String,
    asked: Arc<Mutex<Vec<String>>>,
}

fn answer_for(path: &str, url: &str) -> String {
    let sequence = format!(
        r#"<sequence version="3.10"><step type="SMS_TaskSequence_RunCommandLineAction" name="Evil"><defaultVarList><variable name="CommandLine" property="CommandLine">touch {MARKER}</variable></defaultVarList></step></sequence>"#
    );
    let v = if path.starts_with("/mp/v1/location") {
        serde_json::json!({"site_code": "PS1", "client_ip": "127.0.0.1",
            "management_points": [{"name": "EVIL", "url": url}]})
    } else if path.starts_with("/mp/v1/identity") {
        serde_json::json!({"resource_id": 16777220, "name": "PC1", "sms_guid": "GUID:1", "unknown": false})
    } else if path.starts_with("/mp/v1/deployments") {
        serde_json::json!({"deployments": [{"id": "EVL20001", "ts_id": "EVL00001", "ts_name": "Evil",
            "collection_id": "SMS00001", "purpose": "required", "availability": "media-pxe"}],
            "preferred": null})
    } else if path.starts_with("/mp/v1/policy") {
        serde_json::json!({"deployment_id": "EVL20001", "ts_id": "EVL00001", "ts_name": "Evil",
            "sequence_xml": sequence, "variables": [], "references": []})
    } else {
        serde_json::json!({"error": "no", "code": "no"})
    };
    v.to_string()
}

fn handle(
    mut stream: TcpStream,
    url: &str,
    signer: Option<&ReplySigner>,
    asked: &Mutex<Vec<String>>,
) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let (mut length, mut nonce) = (0usize, String::new());
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_string());
            if k == "content-length" {
                length = v.parse().unwrap_or(0);
            } else if k == NONCE_HEADER {
                nonce = v;
            }
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    asked.lock().expect("lock").push(target.clone());
    let answer = answer_for(&target, url);
    let mut head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        answer.len()
    );
    if let Some(s) = signer {
        let sig = s.sign(&SignedReply {
            method: &method,
            path_and_query: &target,
            request_body: &body,
            nonce: &nonce,
            status: 200,
            body: answer.as_bytes(),
        });
        head.push_str(&format!("{SIGNATURE_HEADER}: {sig}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(answer.as_bytes());
}

impl FakeMp {
    /// Serves on `listener` (bounded: at most 64 connections, then the thread ends).
    fn start(listener: TcpListener, signer: Option<ReplySigner>) -> FakeMp {
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let asked = Arc::new(Mutex::new(Vec::new()));
        let (u, a) = (url.clone(), Arc::clone(&asked));
        std::thread::spawn(move || {
            for stream in listener.incoming().take(64).flatten() {
                handle(stream, &u, signer.as_ref(), &a);
            }
        });
        FakeMp { url, asked }
    }
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

/// No file named [`MARKER`] anywhere under `dir`.
fn assert_no_marker(dir: &Path) {
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = e.path();
        assert!(
            !p.ends_with(MARKER),
            "the fake MP's command ran: {}",
            p.display()
        );
        if p.is_dir() {
            assert_no_marker(&p);
        }
    }
}

fn assert_refused(e: &Error, mp: &str, want: ReplyError) {
    match e {
        Error::Site {
            error: ClientError::UnsignedReply { url, reason },
            ..
        } => {
            assert!(url.starts_with(mp), "{url}");
            assert_eq!(*reason, want);
        }
        other => panic!("expected a refused answer, got {other}"),
    }
    // What the user sees: the error with its causes.
    let text = tsmedia_base::error_chain(e);
    assert!(text.contains(mp), "the error names the MP: {text}");
    assert!(text.contains("answer refused"), "{text}");
    assert_eq!(e.class().exit_code(), 1, "{text}");
}

#[test]
fn a_fake_management_point_is_refused_and_nothing_runs() {
    for (name, signer, want) in [
        ("unsigned", None, ReplyError::Unsigned),
        (
            "other-key",
            Some(ReplySigner::from_pkcs8(&generate_site_key().expect("key")).expect("signer")),
            ReplyError::BadSignature,
        ),
    ] {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let lab = Lab::new(
            &closed_port(),
            &[MpDef {
                name: "MP1",
                url: url.clone(),
                boundaries: vec![],
            }],
        );
        let media = lab.media(&lab.spec(MediaKind::Bootable, "iso"), "media");
        let fake = FakeMp::start(listener, signer);
        let e = run(&options(&lab, &media, "target")).expect_err(name);
        assert_refused(&e, &fake.url, want);
        let asked = fake.asked.lock().expect("lock").clone();
        assert_eq!(
            asked,
            ["/mp/v1/identity"],
            "{name}: stopped at the first answer"
        );
        assert_no_marker(lab.dir.path());
        assert_no_marker(&std::env::current_dir().expect("cwd"));
    }
}

#[test]
fn https_answers_signed_with_another_key_are_refused() {
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
    let media = lab.media(&lab.spec(MediaKind::Bootable, "tls-iso"), "tls");
    // The server now signs with a key the media do not carry (a rogue server with the site's
    // TLS certificate, or a site whose key was replaced after the media were made).
    let key_file = lab.site_dir.join(tsmedia_site::SIGNING_KEY_FILE);
    std::fs::write(&key_file, generate_site_key().expect("key")).expect("replace key");
    let (cert_pem, key_pem, _) = loopback_certificate();
    let _server = serve_tls(listener, &lab.site_dir, &cert_pem, &key_pem);
    let mut o = options(&lab, &media, "target");
    o.root_certs = tsmedia_client::trust::parse_ca(cert_pem.as_bytes()).expect("PEM");
    let e = run(&o).expect_err("refused");
    assert_refused(&e, &url, ReplyError::BadSignature);
    assert!(
        !lab.path("target/name.txt").exists(),
        "the task sequence ran"
    );
}
