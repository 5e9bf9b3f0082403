//! Issue #15's attacks on the request side, each performed over a real socket and refused
//! with a clear message: a captured request replayed (M6), a request signed for another host
//! (M6), a forged `X-Tsmedia-Principal` header (M1), and media claiming `allow_unknown` that
//! the site did not record for them (M2).

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};

use common::*;
use tsmedia_protocol::signing::{RequestSigner, SignedRequest};
use tsmedia_server::{ServerOptions, router};

struct Running {
    addr: SocketAddr,
    _stop: tokio::sync::oneshot::Sender<()>,
    _rt: tokio::runtime::Runtime,
}

fn start(f: &Fixture, listener: TcpListener) -> Running {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(&f.site_dir, &ServerOptions::default()).unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    listener.set_nonblocking(true).unwrap();
    rt.spawn(async move {
        let l = tokio::net::TcpListener::from_std(listener).unwrap();
        tsmedia_server::serve(l, app, async move {
            let _ = rx.await;
        })
        .await
    });
    Running {
        addr,
        _stop: tx,
        _rt: rt,
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The bytes of a signed HTTP/1.1 request, as media send it (and as someone on the path would
/// capture it). `signed_host` is the host the signature covers; `host` the one sent.
fn signed_request(
    signer: &RequestSigner,
    method: &str,
    host: &str,
    signed_host: &str,
    path: &str,
    body: &[u8],
    principal: Option<&str>,
) -> Vec<u8> {
    let h = signer
        .sign(
            &SignedRequest {
                method,
                host: signed_host,
                path_and_query: path,
                body,
                principal: principal.unwrap_or(""),
            },
            now(),
        )
        .unwrap();
    let mut text = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        text.push_str("Content-Type: application/json\r\n");
    }
    if let Some(p) = principal {
        text.push_str(&format!("X-Tsmedia-Principal: {p}\r\n"));
    }
    for (k, v) in h.pairs() {
        text.push_str(&format!("{k}: {v}\r\n"));
    }
    text.push_str("\r\n");
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Sends raw bytes; returns the status and the body.
fn exchange(addr: SocketAddr, bytes: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    s.write_all(bytes).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

fn code(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["code"].as_str().map(str::to_string))
        .unwrap_or_default()
}

fn site() -> (Fixture, Running) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let f = fixture(&url, &[("MP1", &url, &[])], 1000);
    let server = start(&f, listener);
    (f, server)
}

#[test]
fn a_replayed_request_is_refused() {
    let (f, server) = site();
    let host = server.addr.to_string();
    let body = serde_json::json!({"smbios_guid": GUID, "arch": "x64"}).to_string();
    let captured = signed_request(
        &f.good,
        "POST",
        &host,
        &host,
        "/mp/v1/identity",
        body.as_bytes(),
        None,
    );
    let (status, first) = exchange(server.addr, &captured);
    assert_eq!(status, 200, "{first}");
    assert!(first.contains("\"PC1\""), "{first}");
    // The same bytes again, within the time window: refused.
    let (status, again) = exchange(server.addr, &captured);
    assert_eq!(
        (status, code(&again).as_str()),
        (403, "replayed_request"),
        "{again}"
    );
    assert!(again.contains("replayed request is refused"), "{again}");
    // The same on a DP request.
    let manifest = format!("/dp/v1/content/{}/manifest", f.content_id);
    let captured = signed_request(&f.good, "GET", &host, &host, &manifest, b"", None);
    assert_eq!(exchange(server.addr, &captured).0, 200);
    let (status, again) = exchange(server.addr, &captured);
    assert_eq!(
        (status, code(&again).as_str()),
        (403, "replayed_request"),
        "{again}"
    );
}

#[test]
fn a_request_signed_for_another_host_is_refused() {
    let (f, server) = site();
    let host = server.addr.to_string();
    let captured = signed_request(
        &f.good,
        "GET",
        &host,
        "mp2.lab.example:8080",
        "/mp/v1/location",
        b"",
        None,
    );
    let (status, body) = exchange(server.addr, &captured);
    assert_eq!(
        (status, code(&body).as_str()),
        (403, "bad_signature"),
        "{body}"
    );
    assert!(body.contains(&format!("for host {host}")), "{body}");
}

#[test]
fn a_forged_principal_header_is_refused() {
    let (f, server) = site();
    let host = server.addr.to_string();
    let manifest = format!("/dp/v1/content/{}/manifest", f.content_id);
    // Unsigned, claiming the principal that has read access.
    let forged = format!(
        "GET {manifest} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nX-Tsmedia-Principal: {READER}\r\n\r\n"
    );
    let (status, body) = exchange(server.addr, forged.as_bytes());
    assert_eq!(
        (status, code(&body).as_str()),
        (403, "principal_not_authenticated"),
        "{body}"
    );
    assert!(body.contains("not signed"), "{body}");
    // Signed by media the site records as LAB\guest, claiming READER.
    let forged = signed_request(&f.guest, "GET", &host, &host, &manifest, b"", Some(READER));
    let (status, body) = exchange(server.addr, &forged);
    assert_eq!(
        (status, code(&body).as_str()),
        (403, "principal_mismatch"),
        "{body}"
    );
    assert!(
        body.contains("reads as LAB") && body.contains("guest"),
        "{body}"
    );
    // Without a claim, those media read as what the site recorded: no access.
    let honest = signed_request(&f.guest, "GET", &host, &host, &manifest, b"", None);
    let (status, body) = exchange(server.addr, &honest);
    assert_eq!(
        (status, code(&body).as_str()),
        (403, "no_read_access"),
        "{body}"
    );
    // And the media recorded with READER read it, with or without naming it.
    for claim in [None, Some(READER)] {
        let ok = signed_request(&f.good, "GET", &host, &host, &manifest, b"", claim);
        assert_eq!(exchange(server.addr, &ok).0, 200);
    }
}

#[test]
fn allow_unknown_comes_from_the_site_record_not_the_request() {
    let (f, server) = site();
    let host = server.addr.to_string();
    let body = serde_json::json!({
        "smbios_guid": "11111111-2222-3333-4444-555555555555",
        "arch": "x64",
        "allow_unknown": true
    })
    .to_string();
    let claim = signed_request(
        &f.guest,
        "POST",
        &host,
        &host,
        "/mp/v1/identity",
        body.as_bytes(),
        None,
    );
    let (status, answer) = exchange(server.addr, &claim);
    assert_eq!(
        (status, code(&answer).as_str()),
        (403, "unknown_computer"),
        "{answer}"
    );
    assert!(answer.contains("site's record"), "{answer}");
    let recorded = signed_request(
        &f.good,
        "POST",
        &host,
        &host,
        "/mp/v1/identity",
        body.replace("true", "false").as_bytes(),
        None,
    );
    let (status, answer) = exchange(server.addr, &recorded);
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains("x64 Unknown Computer"), "{answer}");
}
