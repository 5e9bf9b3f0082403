//! Benchmark (ignored by default; run with
//! `cargo test -p tsmedia-server --release --test bench_nginx -- --ignored --nocapture`):
//! DP throughput against nginx serving the same library file from the same disk, over
//! loopback, with the same client (16 concurrent downloads, each of the whole file 8 times).
//! Prints both throughputs and the ratio; asserts nothing about time. Needs the Debian package
//! `nginx`. `TSMEDIA_BENCH_MB` sets the file size (default 64).

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Instant;

use common::*;
use tsmedia_server::{ServerOptions, router};

const THREADS: usize = 16;
const ROUNDS: usize = 8;

fn throughput(url: &str, principal: Option<&str>, size: u64) -> f64 {
    let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
    let start = Instant::now();
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let agent = agent.clone();
            let url = url.to_string();
            let principal = principal.map(str::to_string);
            std::thread::spawn(move || {
                let mut total = 0u64;
                let mut buf = vec![0u8; 256 * 1024];
                for _ in 0..ROUNDS {
                    let mut req = agent.get(&url);
                    if let Some(p) = &principal {
                        req = req.header("x-tsmedia-principal", p);
                    }
                    let mut resp = req.call().expect("download");
                    let mut r = resp.body_mut().with_config().limit(u64::MAX).reader();
                    loop {
                        let n = r.read(&mut buf).expect("read");
                        if n == 0 {
                            break;
                        }
                        total += n as u64;
                    }
                }
                total
            })
        })
        .collect();
    let bytes: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(bytes, size * (THREADS * ROUNDS) as u64);
    bytes as f64 / start.elapsed().as_secs_f64() / 1e6
}

#[test]
#[ignore = "benchmark: run with --ignored --nocapture"]
fn dp_throughput_against_nginx() {
    let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("nginx is missing: install the Debian package `nginx`");
    let mb: usize = std::env::var("TSMEDIA_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let f = fixture(&url, &[("MP1", &url, &[])], mb << 20);
    let site = tsmedia_site::Site::open(&f.site_dir).unwrap();
    let entry = site
        .content_files(&f.content_id)
        .unwrap()
        .into_iter()
        .find(|e| e.path == f.big_path)
        .unwrap();
    let filelib = site.library().root().join("FileLib");
    let rel = entry
        .library_path
        .strip_prefix(&filelib)
        .unwrap()
        .to_string_lossy()
        .into_owned();

    // nginx on its own loopback port, serving the library folder.
    let nginx_port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = f.dir.path().join("nginx");
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.display();
    let conf = format!(
        "daemon off;\nuser root root;\nworker_processes 2;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{ worker_connections 1024; }}\n\
         http {{ access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;\n\
           client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fcgi;\n\
           uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n\
           server {{ listen 127.0.0.1:{nginx_port}; root {}; }} }}\n",
        filelib.display()
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let mut child = Command::new(nginx)
        .arg("-p")
        .arg(&dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starting nginx");
    let nginx_url = format!("http://127.0.0.1:{nginx_port}/{rel}");
    let ready = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        ureq::get(&nginx_url).call().is_ok()
    });

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // Unsigned requests read as Anonymous (a principal header alone is refused since #15 M1):
    // grant it, so the figures stay those of plain file serving.
    tsmedia_site::Site::open(&f.site_dir)
        .unwrap()
        .grant_dp_read("DP1", tsmedia_server::ANONYMOUS)
        .unwrap();
    let app = router(&f.site_dir, &ServerOptions::default()).unwrap();
    listener.set_nonblocking(true).unwrap();
    rt.spawn(async move {
        let l = tokio::net::TcpListener::from_std(listener).unwrap();
        tsmedia_server::serve(l, app, std::future::pending()).await
    });
    let dp_url = format!(
        "{url}/dp/v1/content/{}/files/{}",
        f.content_id,
        tsmedia_protocol::api::encode_path(&f.big_path)
    );
    let size = f.big.len() as u64;
    let result = std::panic::catch_unwind(|| {
        assert!(
            ready,
            "nginx did not start; see {}/error.log",
            dir.display()
        );
        // Warm the page cache once through each.
        throughput(&nginx_url, None, size);
        let ours = throughput(&dp_url, None, size);
        let theirs = throughput(&nginx_url, None, size);
        (ours, theirs)
    });
    let _ = child.kill();
    let _ = child.wait();
    let (ours, theirs) = result.unwrap();
    println!(
        "DP throughput, {THREADS} concurrent downloads x {ROUNDS} of a {mb} MiB file on loopback: \
         tsmedia {ours:.0} MB/s, nginx {theirs:.0} MB/s, ratio {:.2}",
        ours / theirs
    );
}
