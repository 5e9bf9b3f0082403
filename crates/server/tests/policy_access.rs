//! Issue #15, M3, over real sockets: media may ask only about the computer the management
//! point identified for them (the site-signed identity token), collection variables reach only
//! members of the collection, and secret variables never cross the wire or reach the server's
//! log in clear. A recording relay sits between the runtime's client and the server and keeps
//! every byte both ways; the server logs at TRACE level into a buffer.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use common::*;
use tsmedia_protocol::api::{DeploymentsRequest, IdentityRequest, PolicyRequest};
use tsmedia_protocol::client::{ClientError, ClientOptions, SiteClient};
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

/// A TCP relay to `to` that appends every byte it forwards, both ways, to `wire`.
fn relay(to: SocketAddr, wire: Arc<Mutex<Vec<u8>>>) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for client in l.incoming() {
            let Ok(client) = client else { return };
            let Ok(server) = TcpStream::connect(to) else {
                return;
            };
            let pump = |mut from: TcpStream, mut into: TcpStream, wire: Arc<Mutex<Vec<u8>>>| {
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16 * 1024];
                    loop {
                        match from.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                wire.lock().unwrap().extend_from_slice(&buf[..n]);
                                if into.write_all(&buf[..n]).is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    let _ = into.shutdown(std::net::Shutdown::Write);
                });
            };
            pump(
                client.try_clone().unwrap(),
                server.try_clone().unwrap(),
                Arc::clone(&wire),
            );
            pump(server, client, Arc::clone(&wire));
        }
    });
    addr
}

/// The server's log, at TRACE level, into a buffer.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn code_of(e: &ClientError) -> (u16, &str) {
    match e {
        ClientError::Refused { status, code, .. } => (*status, code.as_str()),
        other => panic!("expected a refusal, got {other}"),
    }
}

#[test]
fn policy_only_for_the_identified_computer_and_secrets_sealed() {
    let log = LogBuffer::default();
    let sink = log.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .init();

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let f = fixture(&url, &[("MP1", &url, &[])], 1000);
    let server = start(&f, listener);
    let wire = Arc::new(Mutex::new(Vec::new()));
    let mp = format!("http://{}", relay(server.addr, Arc::clone(&wire)));
    let media_a = SiteClient::new(ClientOptions {
        signer: Some(Arc::clone(&f.good)),
        ..ClientOptions::default()
    })
    .unwrap();

    // Media A is identified as PC1.
    let id = media_a
        .identity(
            &mp,
            &IdentityRequest {
                smbios_guid: Some(GUID.into()),
                arch: "x64".into(),
                ..IdentityRequest::default()
            },
        )
        .unwrap();
    assert_eq!(id.resource_id, f.pc1);
    assert!(id.token.starts_with("v1."), "{}", id.token);

    // PC2's policy and deployments by its resource ID: refused, with PC1's token or none.
    let pc2_policy = |token: &str| PolicyRequest {
        deployment_id: f.dep_lab2.clone(),
        resource_id: f.pc2,
        identity_token: token.into(),
        recipient_key: None,
    };
    let e = media_a.policy(&mp, &pc2_policy(&id.token)).unwrap_err();
    assert_eq!(code_of(&e), (403, "not_identified"), "{e}");
    assert!(
        e.to_string()
            .contains(&format!("identified as resource {}, not {}", f.pc1, f.pc2)),
        "{e}"
    );
    let e = media_a.policy(&mp, &pc2_policy("")).unwrap_err();
    assert_eq!(code_of(&e), (403, "identity_token_missing"), "{e}");
    let e = media_a
        .deployments(
            &mp,
            &DeploymentsRequest {
                resource_id: f.pc2,
                identity_token: id.token.clone(),
                preferred_advert_id: None,
            },
        )
        .unwrap_err();
    assert_eq!(code_of(&e), (403, "not_identified"), "{e}");

    // Other media replaying A's token (as if stolen from A's traffic) are refused too.
    let media_b = SiteClient::new(ClientOptions {
        signer: Some(Arc::clone(&f.guest)),
        ..ClientOptions::default()
    })
    .unwrap();
    let pc1_policy = PolicyRequest {
        deployment_id: f.dep_visible.clone(),
        resource_id: f.pc1,
        identity_token: id.token.clone(),
        recipient_key: None,
    };
    let e = media_b.policy(&mp, &pc1_policy).unwrap_err();
    assert_eq!(code_of(&e), (403, "identity_token_other_media"), "{e}");

    // PC1's own policy: Lab's variables only, the join password opened by the client.
    let policy = media_a.policy(&mp, &pc1_policy).unwrap();
    let vars: Vec<(&str, &str, bool)> = policy
        .variables
        .iter()
        .map(|v| (v.name.as_str(), v.value.as_str(), v.secret))
        .collect();
    assert_eq!(
        vars,
        [
            ("OSDComputerName", "LAB-PC1", false),
            ("OSDJoinPassword", JOIN_SECRET, true)
        ]
    );

    // Neither secret ever crossed the wire or reached the server's log in clear; the
    // policy answer did (its plain variable is there).
    drop(server);
    let wire = String::from_utf8_lossy(&wire.lock().unwrap()).into_owned();
    let log = String::from_utf8_lossy(&log.0.lock().unwrap()).into_owned();
    assert!(
        wire.contains("LAB-PC1") && wire.contains("sealed_by"),
        "{wire}"
    );
    assert!(
        log.contains("/mp/v1/policy"),
        "the log is the server's: {log}"
    );
    for secret in [JOIN_SECRET, JOIN_SECRET2] {
        assert!(!wire.contains(secret), "{secret} on the wire");
        assert!(!log.contains(secret), "{secret} in the log");
    }
}
