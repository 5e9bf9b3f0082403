//! Issue #15, L3, over a real socket: a distribution point whose body stalls mid-way no longer
//! hangs the client. The read time limit ends the attempt, and the retry resumes from the last
//! byte received with an HTTP `Range` request; a server that always stalls makes the download
//! fail with a message saying how many attempts were made. The stalled connections are held
//! open by the server (at most 60 s) until the test ends, so only the client's limit can end
//! them.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tsmedia_protocol::api::ManifestFile;
use tsmedia_protocol::client::{ClientError, ClientOptions, SiteClient, partial_path};

const SIZE: usize = 300_000;
const STALL_AT: usize = 120_000;

fn data() -> Vec<u8> {
    (0..SIZE).map(|i| (i * 7 % 251) as u8).collect()
}

/// A DP serving `data()`: answers the first `stalls` requests with the head and the bytes up
/// to `STALL_AT` from where they asked, then goes silent; later requests get the rest. Keeps
/// every request head.
struct StallingDp {
    addr: SocketAddr,
    heads: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl Drop for StallingDp {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn serve(stream: TcpStream, stall: bool, heads: &Mutex<Vec<String>>, stop: &AtomicBool) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line.to_ascii_lowercase());
    }
    heads.lock().expect("heads").push(head.clone());
    let start = head
        .lines()
        .find_map(|l| l.strip_prefix("range: bytes="))
        .and_then(|r| r.trim().trim_end_matches('-').parse::<usize>().ok())
        .unwrap_or(0);
    let body = data();
    let mut out = stream;
    let status = if start > 0 {
        format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {start}-{}/{SIZE}\r\n",
            SIZE - 1
        )
    } else {
        "HTTP/1.1 200 OK\r\n".to_string()
    };
    let _ = out.write_all(
        format!(
            "{status}Content-Length: {}\r\nAccept-Ranges: bytes\r\n\r\n",
            SIZE - start
        )
        .as_bytes(),
    );
    if stall {
        let _ = out.write_all(&body[start..STALL_AT.max(start)]);
        let _ = out.flush();
        // Silent, connection open, until the test ends (bounded).
        let until = Instant::now() + Duration::from_secs(60);
        while !stop.load(Ordering::SeqCst) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(50));
        }
    } else {
        let _ = out.write_all(&body[start..]);
    }
}

fn stalling_dp(stalls: usize) -> StallingDp {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let heads = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let (h, s) = (Arc::clone(&heads), Arc::clone(&stop));
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(stream) = stream else { return };
            let (h, s) = (Arc::clone(&h), Arc::clone(&s));
            std::thread::spawn(move || serve(stream, n < stalls, &h, &s));
        }
    });
    StallingDp { addr, heads, stop }
}

fn client(retries: u32) -> SiteClient {
    SiteClient::new(ClientOptions {
        read_timeout: Duration::from_millis(500),
        retries,
        retry_delay: Duration::from_millis(20),
        ..ClientOptions::default()
    })
    .expect("client")
}

fn manifest_file() -> ManifestFile {
    ManifestFile {
        path: "os.wim".into(),
        size: SIZE as u64,
        sha256: Sha256::digest(data())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    }
}

#[test]
fn a_stalled_body_is_retried_from_the_last_byte() {
    let dp = stalling_dp(1);
    let tmp = tempfile::tempdir().expect("tempdir");
    let dest = tmp.path().join("os.wim");
    let report = client(3)
        .download_file(
            &format!("http://{}", dp.addr),
            "PS100001.1",
            &manifest_file(),
            &dest,
        )
        .expect("the retry completes the download");
    assert_eq!(std::fs::read(&dest).expect("read"), data());
    assert_eq!(report.bytes_downloaded, SIZE as u64, "{report:?}");
    let heads = dp.heads.lock().expect("heads").clone();
    assert_eq!(heads.len(), 2, "{heads:?}");
    assert!(!heads[0].contains("range:"), "{}", heads[0]);
    assert!(
        heads[1].contains(&format!("range: bytes={STALL_AT}-")),
        "the retry resumes from the last byte: {}",
        heads[1]
    );
}

#[test]
fn a_server_that_always_stalls_fails_after_the_retries() {
    let dp = stalling_dp(usize::MAX);
    let tmp = tempfile::tempdir().expect("tempdir");
    let dest = tmp.path().join("os.wim");
    let err = client(2)
        .download_file(
            &format!("http://{}", dp.addr),
            "PS100001.1",
            &manifest_file(),
            &dest,
        )
        .expect_err("never completes");
    assert!(matches!(err, ClientError::Unreachable { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("gave up after 3 attempts") && text.contains("os.wim"),
        "{text}"
    );
    assert!(err.is_server_side(), "another DP may be tried: {text}");
    assert_eq!(dp.heads.lock().expect("heads").len(), 3);
    // What arrived is kept for a later resume.
    let partial = std::fs::metadata(partial_path(&dest)).expect("partial kept");
    assert_eq!(partial.len(), STALL_AT as u64);
    assert!(!dest.exists());
}
