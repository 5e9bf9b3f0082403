//! Over real sockets on loopback, with the blocking client: MP fallback, location by subnet,
//! refusals, malformed requests, resumed downloads, TLS, and a whole media conversation.

mod common;

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use tsmedia_protocol::api::{DeploymentsRequest, IdentityRequest, PolicyRequest};
use tsmedia_protocol::client::{ClientError, ClientOptions, SiteClient, partial_path};
use tsmedia_server::{ServerOptions, router};

/// A running server; dropping it stops it.
struct Running {
    addr: SocketAddr,
    _stop: tokio::sync::oneshot::Sender<()>,
    _rt: tokio::runtime::Runtime,
}

fn start(listener: TcpListener, f: &Fixture, tls: Option<Arc<rustls::ServerConfig>>) -> Running {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(&f.site_dir, &ServerOptions::default()).unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let stop = async move {
        let _ = rx.await;
    };
    match tls {
        Some(tls) => {
            rt.spawn(tsmedia_server::serve_tls(listener, app, tls, stop));
        }
        None => {
            listener.set_nonblocking(true).unwrap();
            rt.spawn(async move {
                let l = tokio::net::TcpListener::from_std(listener).unwrap();
                tsmedia_server::serve(l, app, stop).await
            });
        }
    }
    Running {
        addr,
        _stop: tx,
        _rt: rt,
    }
}

/// A site whose DP1 and MP1 are the server on `listener`, MP1 serving 10.1.0.0/16 and
/// 127.0.0.0/8, MP2 (elsewhere) serving everyone.
fn site_on(listener: &TcpListener, big_len: usize) -> Fixture {
    let url = format!("http://{}", listener.local_addr().unwrap());
    fixture(
        &url,
        &[
            ("MP1", &url, &["10.1.0.0/16", "127.0.0.0/8"]),
            ("MP2", "http://mp2.test", &[]),
        ],
        big_len,
    )
}

fn client(
    f: &Fixture,
    signer: &Arc<tsmedia_protocol::signing::RequestSigner>,
    principal: Option<&str>,
) -> SiteClient {
    SiteClient::new(ClientOptions {
        signer: Some(Arc::clone(signer)),
        principal: principal.map(str::to_string),
        ..ClientOptions::default()
    })
    .unwrap_or_else(|e| panic!("{e} for {}", f.site_dir.display()))
}

fn code_of(e: &ClientError) -> (u16, &str) {
    match e {
        ClientError::Refused { status, code, .. } => (*status, code.as_str()),
        other => panic!("expected a refusal, got {other}"),
    }
}

/// A port on which nothing listens.
fn dead_address() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = l.local_addr().unwrap();
    drop(l);
    format!("http://{a}")
}

#[test]
fn dynamic_mp_fallback_and_location_by_subnet() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let f = site_on(&listener, 1000);
    let server = start(listener, &f, None);
    let live = format!("http://{}", server.addr);
    let c = client(&f, &f.good, None);
    let (used, loc) = c.locate_mp(&[dead_address(), live.clone()], None).unwrap();
    assert_eq!(
        used, live,
        "the first MP refused the connection; the next was used"
    );
    assert_eq!(loc.client_ip, "127.0.0.1", "located by the peer address");
    assert_eq!(loc.management_points[0].name, "MP1");
    let (_, loc) = c
        .locate_mp(
            std::slice::from_ref(&live),
            Some("10.1.7.7".parse::<IpAddr>().unwrap()),
        )
        .unwrap();
    assert_eq!(
        loc.management_points
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>(),
        ["MP1", "MP2"]
    );
    let (_, loc) = c
        .locate_mp(
            std::slice::from_ref(&live),
            Some("172.16.0.1".parse::<IpAddr>().unwrap()),
        )
        .unwrap();
    assert_eq!(
        loc.management_points[0].url, "http://mp2.test",
        "another subnet is sent to MP2"
    );
    match c.locate_mp(&[dead_address(), dead_address()], None) {
        Err(ClientError::NoManagementPoint(tried)) => assert_eq!(tried.len(), 2),
        other => panic!("{other:?}"),
    }
}

#[test]
fn refusals_over_the_wire() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let f = site_on(&listener, 1000);
    let server = start(listener, &f, None);
    let live = format!("http://{}", server.addr);
    let unknown = IdentityRequest {
        smbios_guid: Some("11111111-2222-3333-4444-555555555555".into()),
        macs: vec!["AA:BB:CC:DD:EE:FF".into()],
        arch: "x64".into(),
        allow_unknown: false,
    };
    // The site's record of the media decides, whatever the request says (issue #15, M2).
    let c = client(&f, &f.good, None);
    let closed = client(&f, &f.guest, None);
    assert_eq!(
        code_of(
            &closed
                .identity(
                    &live,
                    &IdentityRequest {
                        allow_unknown: true,
                        ..unknown.clone()
                    }
                )
                .unwrap_err()
        ),
        (403, "unknown_computer")
    );
    let id = c
        .identity(
            &live,
            &IdentityRequest {
                allow_unknown: true,
                ..unknown.clone()
            },
        )
        .unwrap();
    assert_eq!(id.name, "x64 Unknown Computer");

    // A refused certificate ends the MP search: every MP of the site would refuse it.
    let blocked = client(&f, &f.blocked, None);
    let e = blocked
        .locate_mp(&[live.clone(), dead_address()], None)
        .unwrap_err();
    assert_eq!(code_of(&e), (403, "certificate_blocked"));
    let expired = client(&f, &f.expired, None);
    assert_eq!(
        code_of(&expired.identity(&live, &unknown).unwrap_err()),
        (403, "certificate_expired")
    );

    let guest = client(&f, &f.guest, None);
    assert_eq!(
        code_of(&guest.manifest(&live, &f.content_id).unwrap_err()),
        (403, "no_read_access")
    );
    let reader = client(&f, &f.good, Some(READER));
    assert_eq!(
        reader.manifest(&live, &f.content_id).unwrap().files.len(),
        2
    );
}

fn raw_exchange(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    s.write_all(bytes).unwrap();
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn malformed_requests_get_4xx_and_the_server_keeps_serving() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let f = site_on(&listener, 1000);
    let server = start(listener, &f, None);
    let live = format!("http://{}", server.addr);
    for garbage in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET /mp/v1/location HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
        b"POST /mp/v1/identity HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nX-Tsmedia-Cert: \xff\xfe\r\n\r\n{}{}{",
        b"GET /dp/v1/content/%ZZ/manifest HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    ] {
        let answer = raw_exchange(server.addr, garbage);
        if let Some(status) = answer.split(' ').nth(1) {
            assert!(status.starts_with('4'), "{garbage:?} got {answer:?}");
        }
    }
    let c = client(&f, &f.good, None);
    let resp = ureq::post(&format!("{live}/mp/v1/identity"))
        .config()
        .http_status_as_error(false)
        .build()
        .send("{{{")
        .unwrap();
    assert_eq!(
        resp.status().as_u16(),
        401,
        "unsigned garbage is refused before it is parsed"
    );
    // Still serving.
    let (_, loc) = c.locate_mp(std::slice::from_ref(&live), None).unwrap();
    assert_eq!(loc.site_code, "PS1");
}

/// A proxy that forwards to `upstream`, cutting the first connection's answer after `cut`
/// bytes; later connections pass through.
fn cutting_proxy(upstream: SocketAddr, cut: usize) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut down) = conn else { return };
            let first = seen.fetch_add(1, Ordering::SeqCst) == 0;
            std::thread::spawn(move || {
                let mut up = TcpStream::connect(upstream).unwrap();
                let mut up_w = up.try_clone().unwrap();
                let mut down_r = down.try_clone().unwrap();
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut down_r, &mut up_w);
                    let _ = up_w.shutdown(std::net::Shutdown::Write);
                });
                let mut sent = 0;
                let mut buf = [0u8; 8192];
                loop {
                    let n = match up.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    let n = if first { n.min(cut - sent) } else { n };
                    if down.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    sent += n;
                    if first && sent >= cut {
                        break;
                    }
                }
                let _ = down.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    addr
}

#[test]
fn interrupted_download_resumes_and_is_verified() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let f = site_on(&listener, 3 << 20);
    let server = start(listener, &f, None);
    // No retries within a call: this test resumes across calls (retries within one are
    // `protocol`'s download_stall test).
    let c = SiteClient::new(ClientOptions {
        signer: Some(Arc::clone(&f.good)),
        principal: Some(READER.into()),
        retries: 0,
        ..ClientOptions::default()
    })
    .unwrap();
    let live = format!("http://{}", server.addr);
    let manifest = c.manifest(&live, &f.content_id).unwrap();
    let entry = manifest
        .files
        .iter()
        .find(|m| m.path == f.big_path)
        .unwrap();
    let dest = f.dir.path().join("dl/big.bin");

    let proxy = format!("http://{}", cutting_proxy(server.addr, 1 << 20));
    let e = c
        .download_file(&proxy, &f.content_id, entry, &dest)
        .unwrap_err();
    assert!(matches!(e, ClientError::Unreachable { .. }), "{e}");
    let partial = partial_path(&dest);
    let have = std::fs::metadata(&partial).unwrap().len();
    assert!(
        have > 0 && have < f.big.len() as u64,
        "partial file of {have} bytes"
    );
    assert!(!dest.exists());

    let r = c
        .download_file(&proxy, &f.content_id, entry, &dest)
        .unwrap();
    assert_eq!(r.bytes_reused, have, "resumed from the partial size");
    assert_eq!(r.bytes_reused + r.bytes_downloaded, f.big.len() as u64);
    assert!(std::fs::read(&dest).unwrap() == f.big);
    assert!(!partial.exists());
    // Complete and matching: kept, nothing downloaded.
    let r = c.download_file(&live, &f.content_id, entry, &dest).unwrap();
    assert_eq!(
        (r.bytes_downloaded, r.bytes_reused),
        (0, f.big.len() as u64)
    );

    // A damaged partial file is caught by the hash check, deleted, and the next try succeeds.
    std::fs::remove_file(&dest).unwrap();
    let mut bad = f.big[..1000].to_vec();
    bad[10] ^= 1;
    std::fs::write(&partial, &bad).unwrap();
    let e = c
        .download_file(&live, &f.content_id, entry, &dest)
        .unwrap_err();
    assert!(
        matches!(
            e,
            ClientError::Mismatch {
                what: "SHA-256",
                ..
            }
        ),
        "{e}"
    );
    assert!(!partial.exists() && !dest.exists());
    let r = c
        .download_content(
            &[dead_address(), live.clone()],
            &f.content_id,
            &f.dir.path().join("all"),
        )
        .unwrap();
    assert_eq!(r.files, 2);
    assert!(std::fs::read(f.dir.path().join("all").join(&f.big_path)).unwrap() == f.big);
}

#[test]
fn whole_media_conversation() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let f = site_on(&listener, 100_000);
    let server = start(listener, &f, None);
    let c = client(&f, &f.good, Some(READER));
    let (mp, _) = c
        .locate_mp(&[format!("http://{}", server.addr)], None)
        .unwrap();
    let id = c
        .identity(
            &mp,
            &IdentityRequest {
                smbios_guid: Some(GUID.into()),
                macs: vec![],
                arch: "x64".into(),
                allow_unknown: false,
            },
        )
        .unwrap();
    assert_eq!(id.resource_id, f.pc1);
    let deps = c
        .deployments(
            &mp,
            &DeploymentsRequest {
                resource_id: id.resource_id,
                identity_token: id.token.clone(),
                preferred_advert_id: None,
            },
        )
        .unwrap();
    assert_eq!(deps.deployments.len(), 1);
    let policy = c
        .policy(
            &mp,
            &PolicyRequest {
                deployment_id: deps.deployments[0].id.clone(),
                resource_id: id.resource_id,
                identity_token: id.token.clone(),
                recipient_key: None,
            },
        )
        .unwrap();
    assert_eq!(policy.references.len(), 1);
    let locs = c
        .content_locations(&mp, &policy.references[0].content_id)
        .unwrap();
    let dps: Vec<String> = locs.locations.iter().map(|l| l.url.clone()).collect();
    let r = c
        .download_content(&dps, &locs.content_id, &f.dir.path().join("cache"))
        .unwrap();
    assert_eq!((r.files, r.bytes_downloaded), (2, 100_000 + 6));
}

#[test]
fn tls_with_a_self_signed_certificate() {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let tls =
        tsmedia_server::tls_config_from_pem(cert.pem().as_bytes(), key.serialize_pem().as_bytes())
            .unwrap();
    assert!(tsmedia_server::tls_config_from_pem(b"junk", key.serialize_pem().as_bytes()).is_err());

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let url = format!("https://localhost:{port}");
    let f = fixture(&url, &[("MP1", &url, &[])], 50_000);
    let _server = start(listener, &f, Some(tls));
    let trusting = SiteClient::new(ClientOptions {
        signer: Some(Arc::clone(&f.good)),
        principal: Some(READER.into()),
        root_certs: vec![cert.der().to_vec()],
        ..ClientOptions::default()
    })
    .unwrap();
    let (_, loc) = trusting
        .locate_mp(std::slice::from_ref(&url), None)
        .unwrap();
    assert_eq!(loc.management_points[0].url, url);
    let r = trusting
        .download_content(
            std::slice::from_ref(&url),
            &f.content_id,
            &f.dir.path().join("tls"),
        )
        .unwrap();
    assert_eq!(r.files, 2);
    // Without the certificate among its roots the client refuses the server.
    let other = client(&f, &f.good, None);
    assert!(matches!(
        other.locate_mp(&[url], None),
        Err(ClientError::NoManagementPoint(_))
    ));
}

/// Issue #15, H1: every MP answer carries the site's signature. A client holding the site key
/// accepts them (and the signed content-location answer lists the DP's files and hashes); a
/// client holding another key refuses the very same answers.
#[test]
fn answers_are_signed_with_the_site_key() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let f = site_on(&listener, 1000);
    let server = start(listener, &f, None);
    let live = format!("http://{}", server.addr);
    let key = tsmedia_site::Site::open(&f.site_dir)
        .unwrap()
        .signing_public_key()
        .unwrap();
    let with_key = |key: [u8; 32]| {
        SiteClient::new(ClientOptions {
            signer: Some(Arc::clone(&f.good)),
            principal: Some(READER.into()),
            site_key: Some(key),
            ..ClientOptions::default()
        })
        .unwrap()
    };
    let c = with_key(key);
    let (mp, _) = c.locate_mp(std::slice::from_ref(&live), None).unwrap();
    let id = c
        .identity(
            &mp,
            &IdentityRequest {
                smbios_guid: Some(GUID.into()),
                macs: vec![],
                arch: "x64".into(),
                allow_unknown: false,
            },
        )
        .unwrap();
    let deps = c
        .deployments(
            &mp,
            &DeploymentsRequest {
                resource_id: id.resource_id,
                identity_token: id.token.clone(),
                preferred_advert_id: None,
            },
        )
        .unwrap();
    let policy = c
        .policy(
            &mp,
            &PolicyRequest {
                deployment_id: deps.deployments[0].id.clone(),
                resource_id: id.resource_id,
                identity_token: id.token.clone(),
                recipient_key: None,
            },
        )
        .unwrap();
    let content_id = &policy.references[0].content_id;
    let locs = c.content_locations(&mp, content_id).unwrap();
    let dp_manifest = c.manifest(&locs.locations[0].url, content_id).unwrap();
    assert!(!locs.files.is_empty());
    assert_eq!(locs.files, dp_manifest.files);

    let mut other = key;
    other[0] ^= 1;
    let stranger = with_key(other);
    match stranger.locate_mp(std::slice::from_ref(&live), None) {
        Err(e @ ClientError::UnsignedReply { .. }) => {
            let text = e.to_string();
            assert!(text.contains(&live), "{text}");
            assert!(text.contains("signature does not verify"), "{text}");
        }
        other => panic!("expected a refused answer, got {other:?}"),
    }
    assert!(matches!(
        stranger.content_locations(&mp, content_id),
        Err(ClientError::UnsignedReply { .. })
    ));
}
