//! `tsmedia serve`: refuses bad set-ups clearly, and serves a site over a real socket.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

use assert_cmd::cargo::CommandCargoExt;

#[test]
fn refuses_a_missing_site_and_half_tls_options() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("tsmedia")
        .unwrap()
        .args(["--site"])
        .arg(dir.path().join("none"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no site"),
        "{out:?}"
    );
    let out = Command::cargo_bin("tsmedia")
        .unwrap()
        .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert", "c.pem"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

/// A site in `dir/site` whose DP1 holds one package with `a.txt` (`content`), readable by
/// anyone; returns the site folder and the package's content ID.
fn dp_site(dir: &std::path::Path, content: &[u8]) -> (std::path::PathBuf, String) {
    let site_dir = dir.join("site");
    let mut site = tsmedia_site::Site::init(&site_dir, "PS1", None).unwrap();
    let src = dir.join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("a.txt"), content).unwrap();
    let pkg = site
        .add_package(
            tsmedia_site::PackageType::Package,
            "A",
            &src,
            &Default::default(),
        )
        .unwrap();
    site.add_distribution_point("DP1", "http://127.0.0.1:1")
        .unwrap();
    site.distribute(std::slice::from_ref(&pkg.id), "DP1")
        .unwrap();
    site.grant_dp_read("DP1", "Anonymous").unwrap();
    (site_dir, pkg.content_id)
}

#[test]
fn serves_the_distribution_point() {
    let dir = tempfile::tempdir().unwrap();
    let (site_dir, content_id) = dp_site(dir.path(), b"served by tsmedia");

    let mut child = Command::cargo_bin("tsmedia")
        .unwrap()
        .arg("--site")
        .arg(&site_dir)
        .args(["serve", "--dp", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let addr = first.rsplit("http://").next().unwrap().trim().to_string();
    assert!(first.contains("distribution point"), "{first}");
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        s,
        "GET /dp/v1/content/{}/files/a.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=10-\r\nConnection: close\r\n\r\n",
        content_id
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(answer.starts_with("HTTP/1.1 206"), "{answer}");
    assert!(answer.ends_with("tsmedia"), "{answer}");
}

/// Whoever read the service's log went away (its stderr pipe is closed): requests are still
/// answered, each logging at debug level into the broken pipe (a log write used to panic the
/// request's task and drop the connection).
#[test]
fn a_closed_log_pipe_does_not_end_requests() {
    let dir = tempfile::tempdir().unwrap();
    let (site_dir, content_id) = dp_site(dir.path(), b"still served");

    let mut child = Command::cargo_bin("tsmedia")
        .unwrap()
        .arg("--site")
        .arg(&site_dir)
        .args(["serve", "--dp", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "debug")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    let addr = first.rsplit("http://").next().unwrap().trim().to_string();
    // The reader goes away.
    drop(reader);
    let mut answers = Vec::new();
    for _ in 0..3 {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        write!(
            s,
            "GET /dp/v1/content/{}/files/a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            content_id
        )
        .unwrap();
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        answers.push(answer);
    }
    let alive = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    assert!(alive, "the service is still running");
    for a in &answers {
        assert!(
            a.starts_with("HTTP/1.1 200") && a.ends_with("still served"),
            "{a:?}"
        );
    }
}
