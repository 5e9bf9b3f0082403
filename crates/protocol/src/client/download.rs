//! Downloads from distribution points: resumable (`<dest>.partial` and HTTP `Range`), verified
//! against the signed size and SHA-256, with time limits and retries (issue #15, L3).
//!
//! Every transport read and write has [`ClientOptions::read_timeout`], so a body that stops
//! arriving ends the attempt instead of waiting for ever; an attempt whose body was cut off
//! or stalled is retried [`ClientOptions::retries`] times, after [`ClientOptions::retry_delay`]
//! doubling each time (at most [`MAX_RETRY_DELAY`]), each retry resuming from the last byte
//! written. A distribution point that cannot be reached or refuses is not retried here: the
//! caller moves on to the next one.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::{ClientError, ClientOptions, DownloadReport, SiteClient, io_err};
use crate::api::{DP_PREFIX, ManifestFile, encode_path};
use crate::signing::hex;

/// Longest wait between two download attempts.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);

impl SiteClient {
    /// Downloads one file of a content version to `dest`, resuming `<dest>.partial` if an
    /// earlier download was interrupted (a `Range` request from its size), and checks size
    /// and SHA-256 against `file` before renaming it into place. A complete `dest` that
    /// already matches is kept. A partial file that turns out wrong is deleted, so the next
    /// attempt starts over. Network and server-side failures are retried with backoff
    /// ([`ClientOptions::retries`]), resuming from the last byte received.
    pub fn download_file(
        &self,
        dp: &str,
        content_id: &str,
        file: &ManifestFile,
        dest: &Path,
    ) -> Result<DownloadReport, ClientError> {
        let mut received = Received::default();
        let mut delay = self.options.retry_delay;
        let mut attempt = 0u32;
        loop {
            match self.download_attempt(dp, content_id, file, dest, &mut received) {
                Ok(r) => {
                    // Bytes received by earlier attempts of this call count as downloaded,
                    // not reused.
                    let earlier = received.bytes - r.bytes_downloaded;
                    return Ok(DownloadReport {
                        files: r.files,
                        bytes_downloaded: received.bytes,
                        bytes_reused: r.bytes_reused.saturating_sub(earlier),
                    });
                }
                Err(_) if received.interrupted && attempt < self.options.retries => {
                    received.interrupted = false;
                    attempt += 1;
                    wait(&self.options, delay)?;
                    delay = (delay * 2).min(MAX_RETRY_DELAY);
                }
                Err(e) if received.interrupted && attempt > 0 => {
                    return Err(ClientError::Unreachable {
                        url: format!("{}/{}", dp.trim_end_matches('/'), file.path),
                        reason: format!(
                            "gave up after {} attempts, {} bytes received: {e}",
                            attempt + 1,
                            received.bytes
                        ),
                    });
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn download_attempt(
        &self,
        dp: &str,
        content_id: &str,
        file: &ManifestFile,
        dest: &Path,
        received: &mut Received,
    ) -> Result<DownloadReport, ClientError> {
        if fs::metadata(dest).is_ok_and(|m| m.len() == file.size) && hash_file(dest)? == file.sha256
        {
            return Ok(DownloadReport {
                files: 1,
                bytes_downloaded: 0,
                bytes_reused: file.size,
            });
        }
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        let partial = partial_path(dest);
        let mut have = fs::metadata(&partial).map_or(0, |m| m.len());
        if have > file.size {
            have = 0;
        }
        let url = format!(
            "{}{DP_PREFIX}/content/{}/files/{}",
            dp.trim_end_matches('/'),
            encode_path(content_id),
            encode_path(&file.path)
        );
        let mut hasher = Sha256::new();
        let mut out = File::options()
            .create(true)
            .write(true)
            .read(true)
            .truncate(false)
            .open(&partial)
            .map_err(io_err(&partial))?;
        let mut downloaded = 0;
        if have < file.size || file.size == 0 {
            let range = [("range", format!("bytes={have}-"))];
            let extra: &[(&str, String)] = if have > 0 { &range } else { &[] };
            let mut resp = self.call("GET", &url, None, self.principal(), extra)?;
            if resp.status().as_u16() == 206 {
                let start = content_range_start(&resp);
                if start != Some(have) {
                    return Err(ClientError::Protocol {
                        url,
                        reason: format!("asked for bytes from {have}, got {start:?}"),
                    });
                }
            } else {
                // A full answer: start over.
                have = 0;
            }
            out.set_len(have).map_err(io_err(&partial))?;
            hash_prefix(&mut out, have, &mut hasher, &partial)?;
            let mut reader = resp.body_mut().as_reader();
            let mut buf = vec![0; 256 * 1024];
            loop {
                self.options.cancel.check()?;
                let n = reader.read(&mut buf).map_err(|e| {
                    received.interrupted = true;
                    ClientError::Unreachable {
                        url: url.clone(),
                        reason: format!("download interrupted after {downloaded} bytes: {e}"),
                    }
                })?;
                if n == 0 {
                    break;
                }
                if have + downloaded + n as u64 > file.size {
                    drop(out);
                    let _ = fs::remove_file(&partial);
                    return Err(ClientError::Mismatch {
                        path: dest.to_path_buf(),
                        what: "size",
                        expected: file.size.to_string(),
                        actual: format!("more than {}", have + downloaded),
                    });
                }
                out.write_all(&buf[..n]).map_err(io_err(&partial))?;
                hasher.update(&buf[..n]);
                downloaded += n as u64;
                received.bytes += n as u64;
            }
        } else {
            hash_prefix(&mut out, have, &mut hasher, &partial)?;
        }
        out.sync_all().map_err(io_err(&partial))?;
        drop(out);
        let size = have + downloaded;
        let digest = hex(&hasher.finalize());
        let mismatch = if size != file.size {
            Some(("size", file.size.to_string(), size.to_string()))
        } else if digest != file.sha256.to_ascii_lowercase() {
            Some(("SHA-256", file.sha256.clone(), digest))
        } else {
            None
        };
        if let Some((what, expected, actual)) = mismatch {
            let _ = fs::remove_file(&partial);
            return Err(ClientError::Mismatch {
                path: dest.to_path_buf(),
                what,
                expected,
                actual,
            });
        }
        fs::rename(&partial, dest).map_err(io_err(dest))?;
        Ok(DownloadReport {
            files: 1,
            bytes_downloaded: downloaded,
            bytes_reused: have,
        })
    }

    /// Downloads a whole content version into `dest_dir` from the first of `dps` (base URLs)
    /// that serves it, resuming and verifying each file ([`SiteClient::download_file`]).
    pub fn download_content(
        &self,
        dps: &[String],
        content_id: &str,
        dest_dir: &Path,
    ) -> Result<DownloadReport, ClientError> {
        let mut last = None;
        for dp in dps {
            match self.download_content_from(dp, content_id, dest_dir) {
                Ok(r) => return Ok(r),
                Err(e) if e.is_server_side() => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| ClientError::Protocol {
            url: content_id.to_string(),
            reason: "no distribution point holds this content".into(),
        }))
    }

    fn download_content_from(
        &self,
        dp: &str,
        content_id: &str,
        dest_dir: &Path,
    ) -> Result<DownloadReport, ClientError> {
        let manifest = self.manifest(dp, content_id)?;
        let mut total = DownloadReport::default();
        for file in &manifest.files {
            let r = self.download_file(dp, content_id, file, &dest_dir.join(&file.path))?;
            total.files += r.files;
            total.bytes_downloaded += r.bytes_downloaded;
            total.bytes_reused += r.bytes_reused;
        }
        Ok(total)
    }
}

/// What the attempts of one download got.
#[derive(Debug, Default)]
struct Received {
    /// Body bytes written, over all attempts.
    bytes: u64,
    /// Whether the last attempt's body was cut off or stalled (worth resuming).
    interrupted: bool,
}

/// Sleeps `delay` between attempts, waking early with [`ClientError::Cancelled`].
fn wait(options: &ClientOptions, delay: Duration) -> Result<(), ClientError> {
    let step = Duration::from_millis(100);
    let mut left = delay;
    while !left.is_zero() {
        options.cancel.check()?;
        let d = left.min(step);
        std::thread::sleep(d);
        left -= d;
    }
    options.cancel.check()?;
    Ok(())
}

/// `<dest>.partial`.
pub fn partial_path(dest: &Path) -> PathBuf {
    let mut name = dest.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

fn content_range_start(resp: &ureq::http::Response<ureq::Body>) -> Option<u64> {
    let v = resp.headers().get("content-range")?.to_str().ok()?;
    let range = v.strip_prefix("bytes ")?;
    range.split('-').next()?.trim().parse().ok()
}

fn hash_prefix(
    file: &mut File,
    len: u64,
    hasher: &mut Sha256,
    path: &Path,
) -> Result<(), ClientError> {
    use std::io::Seek;
    file.rewind().map_err(io_err(path))?;
    let copied = std::io::copy(&mut (&mut *file).take(len), &mut HashWriter(hasher))
        .map_err(io_err(path))?;
    if copied != len {
        return Err(ClientError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "partial file shrank"),
        });
    }
    file.seek(std::io::SeekFrom::Start(len))
        .map_err(io_err(path))?;
    Ok(())
}

fn hash_file(path: &Path) -> Result<String, ClientError> {
    let (hash, _) = tsmedia_base::digest::sha256_file(path).map_err(io_err(path))?;
    Ok(hash)
}

struct HashWriter<'a>(&'a mut Sha256);

impl Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancelled_download_stops_and_keeps_its_partial_file() {
        use std::io::{BufRead, BufReader};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = std::thread::spawn(move || {
            let (stream, _) = listener.accept().expect("accept");
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let mut stream = stream;
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        });
        let options = ClientOptions::default();
        options.cancel.cancel();
        let client = SiteClient::new(options).expect("client");
        let tmp = tempfile::tempdir().expect("tempdir");
        let dest = tmp.path().join("a.wim");
        let file = ManifestFile {
            path: "a.wim".into(),
            size: 5,
            sha256: hex(&Sha256::digest(b"hello")),
        };
        let err = client
            .download_file(&format!("http://{addr}"), "PS100001.1", &file, &dest)
            .expect_err("cancelled");
        assert!(matches!(err, ClientError::Cancelled(_)), "{err}");
        assert!(!dest.exists());
        assert!(partial_path(&dest).exists(), "kept for a resume");
        server.join().expect("server");
    }
}
