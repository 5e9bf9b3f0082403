//! Content hashes as tsmedia writes them: hex text, the SHA-256 of a file (the content
//! library's and the distribution point's file identity) and certificate thumbprints.

use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::path::Path;

/// Lower-case hex of `bytes` (`"00ff"`).
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Upper-case hex of `bytes` (`"00FF"`), as Windows shows thumbprints and `_SMSTSMediaPFX`.
pub fn hex_upper(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02X}");
    }
    s
}

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// A running SHA-256 that counts the bytes it was given; a [`Write`] sink, so a copy can hash
/// what it writes.
#[derive(Debug, Clone, Default)]
pub struct Sha256Stream {
    hasher: Sha256,
    size: u64,
}

impl Sha256Stream {
    /// A stream that has seen nothing.
    pub fn new() -> Sha256Stream {
        Sha256Stream::default()
    }

    /// Adds `bytes`.
    pub fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.size += bytes.len() as u64;
    }

    /// Lower-case hex SHA-256 of everything given, and how many bytes that was.
    pub fn finish(self) -> (String, u64) {
        (hex(&self.hasher.finalize()), self.size)
    }
}

impl Write for Sha256Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Lower-case hex SHA-256 of everything `reader` yields, and how many bytes that was.
pub fn sha256_reader(reader: &mut impl Read) -> io::Result<(String, u64)> {
    let mut stream = Sha256Stream::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => stream.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(stream.finish())
}

/// Lower-case hex SHA-256 of the file at `path`, and its size.
pub fn sha256_file(path: &Path) -> io::Result<(String, u64)> {
    sha256_reader(&mut std::fs::File::open(path)?)
}

/// Thumbprint of a DER certificate: SHA-1 of the DER, upper-case hex (as Windows shows it and
/// as the site records a certificate's ID).
pub fn thumbprint(cert_der: &[u8]) -> String {
    hex_upper(&Sha1::digest(cert_der))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_both_cases() {
        assert_eq!(hex(&[]), "");
        assert_eq!(hex(&[0x00, 0x0f, 0xab, 0xff]), "000fabff");
        assert_eq!(hex_upper(&[0x00, 0x0f, 0xab, 0xff]), "000FABFF");
    }

    #[test]
    fn sha256_known_answers() {
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(hex(&sha256(b"")), empty);
        assert_eq!(sha256_reader(&mut &b""[..]).unwrap(), (empty.into(), 0));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("abc");
        std::fs::write(&p, b"abc").unwrap();
        assert_eq!(
            sha256_file(&p).unwrap(),
            (
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".into(),
                3
            )
        );
        assert!(sha256_file(&dir.path().join("missing")).is_err());
        let mut stream = Sha256Stream::new();
        stream.write_all(b"a").unwrap();
        stream.update(b"bc");
        assert_eq!(stream.finish(), sha256_file(&p).unwrap());
    }

    #[test]
    fn thumbprint_is_upper_case_sha1() {
        assert_eq!(
            thumbprint(b"abc"),
            "A9993E364706816ABA3E25717850C26C9CD0D89D"
        );
    }
}
