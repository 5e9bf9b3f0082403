//! 200 simulated media at once, each getting its policy from the MP and its content from the
//! DP on loopback; every one must finish without an error. Content per client: 100 MB, as
//! issue 6's acceptance asks (20 GB over loopback, each client's copy verified and deleted;
//! up to ~20 GB of scratch space while they run). `TSMEDIA_LOAD_MB` changes the size.

mod common;

use std::net::TcpListener;
use std::sync::Arc;

use common::*;
use tsmedia_protocol::api::{IdentityRequest, PolicyRequest};
use tsmedia_protocol::client::{ClientOptions, SiteClient};
use tsmedia_server::{ServerOptions, router};

const CLIENTS: usize = 200;

#[test]
fn two_hundred_concurrent_clients() {
    let mb: usize = std::env::var("TSMEDIA_LOAD_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let f = fixture(&url, &[("MP1", &url, &[])], mb << 20);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let app = router(&f.site_dir, &ServerOptions::default()).unwrap();
    listener.set_nonblocking(true).unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    rt.spawn(async move {
        let l = tokio::net::TcpListener::from_std(listener).unwrap();
        tsmedia_server::serve(l, app, async move {
            let _ = stop_rx.await;
        })
        .await
    });

    let client = Arc::new(
        SiteClient::new(ClientOptions {
            signer: Some(Arc::clone(&f.good)),
            principal: Some(READER.into()),
            ..ClientOptions::default()
        })
        .unwrap(),
    );
    let root = Arc::new(f.dir.path().join("clients"));
    let threads: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let client = Arc::clone(&client);
            let root = Arc::clone(&root);
            let url = url.clone();
            let dep = f.dep_visible.clone();
            std::thread::spawn(move || -> Result<u64, String> {
                let e = |e: tsmedia_protocol::client::ClientError| format!("client {i}: {e}");
                let (mp, _) = client.locate_mp(&[url], None).map_err(e)?;
                let id = client
                    .identity(
                        &mp,
                        &IdentityRequest {
                            smbios_guid: Some(GUID.into()),
                            macs: vec![],
                            arch: "x64".into(),
                            allow_unknown: false,
                        },
                    )
                    .map_err(e)?;
                let policy = client
                    .policy(
                        &mp,
                        &PolicyRequest {
                            deployment_id: dep,
                            resource_id: id.resource_id,
                            identity_token: id.token.clone(),
                            recipient_key: None,
                        },
                    )
                    .map_err(e)?;
                let mut bytes = 0;
                for r in &policy.references {
                    let locs = client.content_locations(&mp, &r.content_id).map_err(e)?;
                    let dps: Vec<String> = locs.locations.into_iter().map(|l| l.url).collect();
                    let dir = root.join(i.to_string());
                    bytes += client
                        .download_content(&dps, &r.content_id, &dir)
                        .map_err(e)?
                        .bytes_downloaded;
                    // Verified by download_content; free the disk for the others.
                    std::fs::remove_dir_all(&dir).map_err(|x| x.to_string())?;
                }
                Ok(bytes)
            })
        })
        .collect();
    let mut errors = Vec::new();
    let mut total = 0;
    for t in threads {
        match t.join() {
            Ok(Ok(b)) => total += b,
            Ok(Err(e)) => errors.push(e),
            Err(_) => errors.push("a client thread panicked".into()),
        }
    }
    let _ = stop_tx.send(());
    assert!(
        errors.is_empty(),
        "{} of {CLIENTS} clients failed; first: {}",
        errors.len(),
        errors[0]
    );
    assert_eq!(total, (CLIENTS * ((mb << 20) + 6)) as u64);
}
