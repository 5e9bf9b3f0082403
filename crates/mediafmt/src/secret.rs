//! Encrypted media files (`Variables.dat`, `policy.xml`; the runtime also seals its saved
//! task sequence state with it): sealed by the builder, opened by the runtime and by
//! `media inspect`.
//!
//! Format (all integers little-endian):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `TSMSEC\r\n` |
//! | 8 | 1 | version, 1 |
//! | 9 | 1 | key source: 1 = Argon2id over the media password, 0 = no password: the 32-byte key follows the nonce (the media are **unprotected**) |
//! | 10 | 4 | Argon2 memory, KiB (65536 = 64 MiB) |
//! | 14 | 4 | Argon2 passes |
//! | 18 | 4 | Argon2 lanes |
//! | 22 | 16 | salt |
//! | 38 | 24 | XChaCha20-Poly1305 nonce |
//! | 62 | 32 | key (key source 0 only) |
//! | … | … | ciphertext with its 16-byte tag; the header before it is the associated data |
//!
//! Configuration Manager's own scheme (AES-128 from SHA-1 of the password, zero IV, a public
//! default password) is weak (`docs/media.md`, "Sealed files"); this replaces it with a
//! memory-hard KDF and an AEAD, so a wrong password or a changed byte is detected.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// File magic.
pub const MAGIC: &[u8; 8] = b"TSMSEC\r\n";
const HEADER: usize = 62;

/// Argon2id cost. Default: 64 MiB, 3 passes, 1 lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory, KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub passes: u32,
    /// Lanes (parallelism).
    pub lanes: u32,
}

impl Default for KdfParams {
    fn default() -> Self {
        KdfParams {
            memory_kib: 64 * 1024,
            passes: 3,
            lanes: 1,
        }
    }
}

/// Where salts, nonces and per-media keys come from.
#[derive(Debug, Clone)]
pub enum Randomness {
    /// The operating system's generator.
    Os,
    /// Derived from a seed (a hash of the media spec): reproducible builds. The log says so.
    Seeded([u8; 32]),
}

impl Randomness {
    /// `n` bytes for purpose `what` (distinct purposes give unrelated bytes when seeded).
    pub fn bytes(&self, what: &str, n: usize) -> Result<Vec<u8>> {
        match self {
            Randomness::Os => {
                let mut v = vec![0u8; n];
                getrandom::fill(&mut v)
                    .map_err(|e| Error::Certificate(format!("no randomness: {e}")))?;
                Ok(v)
            }
            Randomness::Seeded(seed) => {
                let mut out = Vec::with_capacity(n);
                let mut counter = 0u32;
                while out.len() < n {
                    let mut h = Sha256::new();
                    h.update(seed);
                    h.update(what.as_bytes());
                    h.update(counter.to_le_bytes());
                    out.extend_from_slice(&h.finalize());
                    counter += 1;
                }
                out.truncate(n);
                Ok(out)
            }
        }
    }
}

/// Encrypts `plain`: with `password`, under an Argon2id key; without, under a random key
/// stored in the file (anyone holding the media can read it).
pub fn seal(
    plain: &[u8],
    password: Option<&str>,
    params: KdfParams,
    rng: &Randomness,
    what: &str,
) -> Result<Vec<u8>> {
    let salt = rng.bytes(&format!("{what}/salt"), 16)?;
    let nonce = rng.bytes(&format!("{what}/nonce"), 24)?;
    let mut out = Vec::with_capacity(HEADER + 32 + plain.len() + 16);
    out.extend_from_slice(MAGIC);
    out.push(1);
    out.push(u8::from(password.is_some()));
    out.extend_from_slice(&params.memory_kib.to_le_bytes());
    out.extend_from_slice(&params.passes.to_le_bytes());
    out.extend_from_slice(&params.lanes.to_le_bytes());
    out.extend_from_slice(&salt);
    out.extend_from_slice(&nonce);
    let key = match password {
        Some(p) => derive(p, &salt, params, what)?,
        None => {
            let k = rng.bytes(&format!("{what}/key"), 32)?;
            out.extend_from_slice(&k);
            k
        }
    };
    let cipher = XChaCha20Poly1305::new_from_slice(&key)
        .map_err(|e| Error::Certificate(format!("key: {e}")))?;
    let ct = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plain,
                aad: &out,
            },
        )
        .map_err(|_| Error::Decrypt {
            what: what.into(),
            reason: "encryption failed".into(),
        })?;
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Whether a sealed file needs a password.
pub fn needs_password(data: &[u8]) -> bool {
    data.len() > 9 && data.starts_with(MAGIC) && data[9] == 1
}

/// Decrypts a file written by [`seal`].
pub fn open(data: &[u8], password: Option<&str>, what: &str) -> Result<Vec<u8>> {
    let bad = |reason: &str| Error::SecretFormat {
        what: what.into(),
        reason: reason.into(),
    };
    if data.len() < HEADER + 16 || !data.starts_with(MAGIC) {
        return Err(bad("bad magic or too short"));
    }
    if data[8] != 1 {
        return Err(bad(&format!("unsupported version {}", data[8])));
    }
    let u32_at = |o: usize| u32::from_le_bytes([data[o], data[o + 1], data[o + 2], data[o + 3]]);
    let params = KdfParams {
        memory_kib: u32_at(10),
        passes: u32_at(14),
        lanes: u32_at(18),
    };
    let salt = &data[22..38];
    let nonce = &data[38..62];
    let (key, header_len) = match data[9] {
        1 => {
            let p = password.ok_or_else(|| Error::Decrypt {
                what: what.into(),
                reason: "the media are password-protected; give the media password".into(),
            })?;
            if params.memory_kib > 4 << 20 {
                return Err(bad("Argon2 memory over 4 GiB"));
            }
            (derive(p, salt, params, what)?, HEADER)
        }
        0 => {
            if data.len() < HEADER + 32 + 16 {
                return Err(bad("too short"));
            }
            (data[HEADER..HEADER + 32].to_vec(), HEADER + 32)
        }
        k => return Err(bad(&format!("unknown key source {k}"))),
    };
    let cipher = XChaCha20Poly1305::new_from_slice(&key).map_err(|e| bad(&format!("key: {e}")))?;
    cipher
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: &data[header_len..],
                aad: &data[..header_len],
            },
        )
        .map_err(|_| Error::Decrypt {
            what: what.into(),
            reason: if data[9] == 1 {
                "wrong media password, or the file was changed".into()
            } else {
                "the file was changed".into()
            },
        })
}

fn derive(password: &str, salt: &[u8], p: KdfParams, what: &str) -> Result<Vec<u8>> {
    let params = Params::new(p.memory_kib, p.passes, p.lanes, Some(32)).map_err(|e| {
        Error::SecretFormat {
            what: what.into(),
            reason: format!("Argon2 parameters: {e}"),
        }
    })?;
    let mut key = vec![0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(password.as_bytes(), salt, &mut key)
        .map_err(|e| Error::SecretFormat {
            what: what.into(),
            reason: format!("Argon2: {e}"),
        })?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: KdfParams = KdfParams {
        memory_kib: 64,
        passes: 1,
        lanes: 1,
    };

    #[test]
    fn round_trip_with_and_without_password() {
        let rng = Randomness::Seeded([7; 32]);
        let s = seal(b"secret value", Some("pw"), FAST, &rng, "v").unwrap();
        assert!(needs_password(&s));
        assert_eq!(open(&s, Some("pw"), "v").unwrap(), b"secret value");
        assert!(matches!(
            open(&s, Some("nope"), "v"),
            Err(Error::Decrypt { .. })
        ));
        assert!(matches!(open(&s, None, "v"), Err(Error::Decrypt { .. })));
        let u = seal(b"x", None, FAST, &Randomness::Os, "v").unwrap();
        assert!(!needs_password(&u));
        assert_eq!(open(&u, None, "v").unwrap(), b"x");
    }

    #[test]
    fn tampering_and_garbage_are_errors() {
        let rng = Randomness::Seeded([1; 32]);
        let mut s = seal(b"abc", Some("pw"), FAST, &rng, "v").unwrap();
        let n = s.len();
        s[n - 1] ^= 1;
        assert!(open(&s, Some("pw"), "v").is_err());
        assert!(open(b"short", None, "v").is_err());
        let mut h = seal(b"abc", Some("pw"), FAST, &rng, "v").unwrap();
        h[10] ^= 1; // KDF memory is authenticated
        assert!(open(&h, Some("pw"), "v").is_err());
    }

    #[test]
    fn seeded_is_reproducible() {
        let a = seal(b"a", None, FAST, &Randomness::Seeded([2; 32]), "v").unwrap();
        let b = seal(b"a", None, FAST, &Randomness::Seeded([2; 32]), "v").unwrap();
        assert_eq!(a, b);
    }
}
