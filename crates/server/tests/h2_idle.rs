//! An HTTP/2 connection (TLS, ALPN `h2`) whose peer answers every keep-alive ping but sends no
//! request is closed after the idle time, as an idle HTTP/1.1 connection is by the head
//! timeout: it no longer holds a connection slot for ever. The peer is a minimal HTTP/2
//! speaker over a real socket (preface, SETTINGS and PING acknowledgements).

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use tsmedia_server::{ServerOptions, router, serve_with};

/// Reads one frame: (type, flags, payload); `None` when the server closed the connection.
fn frame(s: &mut impl Read) -> Option<(u8, u8, Vec<u8>)> {
    let mut head = [0u8; 9];
    match s.read_exact(&mut head) {
        Ok(()) => {}
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
            ) =>
        {
            return None;
        }
        Err(e) => panic!("the connection is still open after the idle time: {e}"),
    }
    let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
    let mut payload = vec![0u8; len];
    if s.read_exact(&mut payload).is_err() {
        return None;
    }
    Some((head[3], head[4], payload))
}

#[test]
fn an_idle_http2_connection_is_closed() {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let tls =
        tsmedia_server::tls_config_from_pem(cert.pem().as_bytes(), key.serialize_pem().as_bytes())
            .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let url = format!("https://localhost:{}", addr.port());
    let f = fixture(&url, &[("MP1", &url, &[])], 1000);
    let options = ServerOptions {
        header_timeout: Duration::from_secs(1),
        ..ServerOptions::default()
    };
    let app = router(&f.site_dir, &options).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    listener.set_nonblocking(true).unwrap();
    rt.spawn(async move {
        let l = tokio::net::TcpListener::from_std(listener).unwrap();
        serve_with(l, app, Some(tls), &options, async move {
            let _ = stopped.await;
        })
        .await
    });

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.der().clone()).unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let conn =
        rustls::ClientConnection::new(Arc::new(config), "localhost".try_into().unwrap()).unwrap();
    let sock = TcpStream::connect(addr).unwrap();
    // Bounds the test: the server must close well before this.
    sock.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut s = rustls::StreamOwned::new(conn, sock);
    s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").unwrap();
    s.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).unwrap();
    s.flush().unwrap();
    assert_eq!(s.conn.alpn_protocol(), Some(&b"h2"[..]));

    let (mut pings, mut goaway) = (0, false);
    while let Some((kind, flags, payload)) = frame(&mut s) {
        let ack: Option<[u8; 9]> = match (kind, flags & 1) {
            (4, 0) => Some([0, 0, 0, 4, 1, 0, 0, 0, 0]),
            (6, 0) => {
                pings += 1;
                Some([0, 0, 8, 6, 1, 0, 0, 0, 0])
            }
            (7, _) => {
                goaway = true;
                None
            }
            _ => None,
        };
        if let Some(head) = ack {
            let mut out = head.to_vec();
            if kind == 6 {
                out.extend_from_slice(&payload);
            }
            if s.write_all(&out).and_then(|()| s.flush()).is_err() {
                break;
            }
        }
    }
    let _ = stop.send(());
    // Closed by the server although every ping was answered (a peer that stops answering was
    // already closed by the keep-alive timeout).
    eprintln!("pings answered: {pings}, GOAWAY: {goaway}");
}
