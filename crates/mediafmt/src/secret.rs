//! Encrypted media files (`Variables.dat`, `policy.xml`; the runtime also seals its saved
//! task sequence state with it): sealed by the builder, opened by the runtime and by
//! `media inspect`.
//!
//! Format (all integers little-endian):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `TSMSEC\r\n` |
//! | 8 | 1 | version, 2 |
//! | 9 | 1 | key source: 1 = Argon2id over the media password, 0 = no password: the 32-byte key follows the nonce (the media are **unprotected**) |
//! | 10 | 4 | Argon2 memory, KiB (65536 = 64 MiB) |
//! | 14 | 4 | Argon2 passes |
//! | 18 | 4 | Argon2 lanes |
//! | 22 | 16 | salt |
//! | 38 | 24 | XChaCha20-Poly1305 nonce: a synthetic IV (below) |
//! | 62 | 32 | key (key source 0 only) |
//! | … | … | ciphertext with its 16-byte tag; the header before it is the associated data |
//!
//! The Argon2 parameters are read before anything is authenticated (the header is the AEAD's
//! associated data, checked only with the derived key), so they are accepted only within fixed
//! bounds ([`KdfParams::check`]: at most 1 GiB, 16 passes, 16 lanes) and refused before any
//! derivation otherwise: a changed header cannot make the runtime allocate gigabytes or hang.
//!
//! The file key `K` (Argon2id output, or the stored key) is split into two subkeys with
//! HMAC-SHA256: `Kenc = HMAC(K, "tsmedia sealed v2 encryption")` encrypts, and
//! `Ksiv = HMAC(K, "tsmedia sealed v2 nonce")` makes the nonce:
//! `nonce = HMAC(Ksiv, header[0..38] || plaintext)[0..24]`. A nonce is therefore repeated
//! only for the same key, header and plaintext, which then give the same file: reproducible
//! builds stay byte-identical, and two builds that differ in their plaintext never reuse a
//! nonce under one key (the SIV construction, as in RFC 5297).
//!
//! The salt is random, or in reproducible builds taken from [`Randomness::Seeded`], whose seed
//! the builder derives from the media's non-secret settings only: nothing in the header is a
//! function of the password, so checking a guess costs one Argon2id derivation.
//!
//! Version 1 (tsmedia before this format) drew salt and nonce from a seed that hashed the
//! password: it is refused with a message that says to rebuild the media.
//!
//! Configuration Manager's own scheme (AES-128 from SHA-1 of the password, zero IV, a public
//! default password) is weak (`docs/media.md`, "Sealed files"); this replaces it with a
//! memory-hard KDF and an AEAD, so a wrong password or a changed byte is detected.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// File magic.
pub const MAGIC: &[u8; 8] = b"TSMSEC\r\n";
/// The format version written and read.
pub const VERSION: u8 = 2;
const HEADER: usize = 62;
/// End of the header part that goes into the synthetic IV (magic through salt).
const SIV_PREFIX: usize = 38;

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

/// Largest Argon2 memory accepted, KiB (1 GiB): the default is 64 MiB, and a boot
/// environment must not be made to allocate more than this by a file header.
pub const MAX_MEMORY_KIB: u32 = 1 << 20;
/// Most Argon2 passes accepted.
pub const MAX_PASSES: u32 = 16;
/// Most Argon2 lanes accepted.
pub const MAX_LANES: u32 = 16;

impl KdfParams {
    /// Checks the parameters against fixed bounds (memory 8 KiB per lane to
    /// [`MAX_MEMORY_KIB`], 1 to [`MAX_PASSES`] passes, 1 to [`MAX_LANES`] lanes). The header
    /// holding them is only authenticated after the key is derived, so a changed header must
    /// not be able to make the derivation take unbounded memory or time: `open` refuses
    /// parameters outside these bounds before deriving anything, and `seal` never writes them.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.lanes == 0 || self.lanes > MAX_LANES {
            return Err(format!(
                "Argon2 lanes {} outside 1..={MAX_LANES}",
                self.lanes
            ));
        }
        if self.passes == 0 || self.passes > MAX_PASSES {
            return Err(format!(
                "Argon2 passes {} outside 1..={MAX_PASSES}",
                self.passes
            ));
        }
        let least = 8 * self.lanes;
        if self.memory_kib < least || self.memory_kib > MAX_MEMORY_KIB {
            return Err(format!(
                "Argon2 memory {} KiB outside {least}..={MAX_MEMORY_KIB} KiB",
                self.memory_kib
            ));
        }
        Ok(())
    }
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

/// Where salts and per-media keys come from (nonces are synthetic, see the module
/// documentation).
#[derive(Debug, Clone)]
pub enum Randomness {
    /// The operating system's generator.
    Os,
    /// Derived from a seed: reproducible builds. The log says so. The seed must be a function
    /// of non-secret settings only (never of the media password or a secret variable): salts
    /// are drawn from it, and a salt that hashes the password lets anyone holding the media
    /// check password guesses at hash speed.
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

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], parts: &[&[u8]]) -> HmacSha256 {
    // HMAC takes keys of any length; 32 bytes are always given here.
    let mut m = <HmacSha256 as hmac::KeyInit>::new_from_slice(key)
        .expect("HMAC accepts keys of any length");
    for p in parts {
        m.update(p);
    }
    m
}

/// The two subkeys of a file key: (encryption, synthetic IV).
fn subkeys(key: &[u8]) -> ([u8; 32], [u8; 32]) {
    let enc = hmac(key, &[b"tsmedia sealed v2 encryption"]).finalize();
    let siv = hmac(key, &[b"tsmedia sealed v2 nonce"]).finalize();
    (enc.into_bytes().into(), siv.into_bytes().into())
}

/// The synthetic IV: the first 24 bytes of HMAC(Ksiv, header prefix || plaintext).
fn synthetic_nonce(siv_key: &[u8], prefix: &[u8], plain: &[u8]) -> [u8; 24] {
    let tag = hmac(siv_key, &[prefix, plain]).finalize().into_bytes();
    let mut n = [0u8; 24];
    n.copy_from_slice(&tag[..24]);
    n
}

/// Encrypts `plain`: with `password`, under an Argon2id key; without, under a random key
/// stored in the file (anyone holding the media can read it). Same inputs with
/// [`Randomness::Seeded`] give the same bytes.
pub fn seal(
    plain: &[u8],
    password: Option<&str>,
    params: KdfParams,
    rng: &Randomness,
    what: &str,
) -> Result<Vec<u8>> {
    if password.is_some() {
        params.check().map_err(|reason| Error::SecretFormat {
            what: what.into(),
            reason,
        })?;
    }
    let salt = rng.bytes(&format!("{what}/salt"), 16)?;
    let mut out = Vec::with_capacity(HEADER + 32 + plain.len() + 16);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.push(u8::from(password.is_some()));
    out.extend_from_slice(&params.memory_kib.to_le_bytes());
    out.extend_from_slice(&params.passes.to_le_bytes());
    out.extend_from_slice(&params.lanes.to_le_bytes());
    out.extend_from_slice(&salt);
    let (key, stored) = match password {
        Some(p) => (derive(p, &salt, params, what)?, None),
        None => {
            let k = rng.bytes(&format!("{what}/key"), 32)?;
            (k.clone(), Some(k))
        }
    };
    let (enc_key, siv_key) = subkeys(&key);
    let nonce = synthetic_nonce(&siv_key, &out[..SIV_PREFIX], plain);
    out.extend_from_slice(&nonce);
    if let Some(k) = stored {
        out.extend_from_slice(&k);
    }
    let cipher = XChaCha20Poly1305::new_from_slice(&enc_key)
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

/// Decrypts a file written by [`seal`] for media that may or may not have a password: use
/// [`open_protected`] wherever the runtime knows the media were built with one.
pub fn open(data: &[u8], password: Option<&str>, what: &str) -> Result<Vec<u8>> {
    let bad = |reason: &str| Error::SecretFormat {
        what: what.into(),
        reason: reason.into(),
    };
    if data.len() < HEADER + 16 || !data.starts_with(MAGIC) {
        return Err(bad("bad magic or too short"));
    }
    match data[8] {
        VERSION => {}
        1 => {
            return Err(bad(
                "sealed in format version 1 by an older tsmedia, which is no longer opened \
                 (its reproducible builds let the media password be checked without Argon2id); \
                 rebuild the media with this tsmedia",
            ));
        }
        v => {
            return Err(bad(&format!(
                "unsupported version {v} (this tsmedia reads {VERSION})"
            )));
        }
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
            // Refused before deriving: the header is not authenticated yet (see
            // `KdfParams::check`).
            params.check().map_err(|reason| {
                bad(&format!(
                    "{reason}: the header was changed or made by something else; refused \
                     before deriving a key"
                ))
            })?;
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
    let (enc_key, siv_key) = subkeys(&key);
    let cipher =
        XChaCha20Poly1305::new_from_slice(&enc_key).map_err(|e| bad(&format!("key: {e}")))?;
    let failed = || Error::Decrypt {
        what: what.into(),
        reason: if data[9] == 1 {
            "wrong media password, or the file was changed".into()
        } else {
            "the file was changed".into()
        },
    };
    let plain = cipher
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: &data[header_len..],
                aad: &data[..header_len],
            },
        )
        .map_err(|_| failed())?;
    // The AEAD already authenticated every byte; this refuses files whose nonce was not made
    // as this format requires (only someone holding the key can write one).
    if synthetic_nonce(&siv_key, &data[..SIV_PREFIX], &plain)[..] != *nonce {
        return Err(bad("the nonce is not the synthetic IV of the contents"));
    }
    Ok(plain)
}

/// The Argon2id file key for `password`: the one slow step every password guess must take.
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

/// [`open`] with no downgrade: when `protected` (the media were built with a password:
/// `TsmBootstrap.ini` says one is required, so the PE asks for it), a file sealed without a
/// password is refused rather than opened. Otherwise an unprotected `Variables.dat` copied from other
/// media into password-protected ones would be accepted, and with it another site key and
/// management point.
pub fn open_protected(
    data: &[u8],
    password: Option<&str>,
    protected: bool,
    what: &str,
) -> Result<Vec<u8>> {
    if protected && data.starts_with(MAGIC) && !needs_password(data) {
        return Err(Error::Downgrade { what: what.into() });
    }
    open(data, password, what)
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
    fn no_downgrade_to_unprotected_files() {
        let u = seal(b"x", None, FAST, &Randomness::Os, "v").unwrap();
        let p = seal(b"x", Some("pw"), FAST, &Randomness::Os, "v").unwrap();
        assert_eq!(open_protected(&u, None, false, "v").unwrap(), b"x");
        assert_eq!(open_protected(&p, Some("pw"), true, "v").unwrap(), b"x");
        // A password given to unprotected media is not used (as before).
        assert_eq!(open_protected(&u, Some("pw"), false, "v").unwrap(), b"x");
        for (pw, protected) in [(None, true), (Some("pw"), true)] {
            let e = open_protected(&u, pw, protected, "Variables.dat").unwrap_err();
            assert!(matches!(e, Error::Downgrade { .. }), "{e}");
            assert!(
                e.to_string()
                    .contains("Variables.dat is not password-protected"),
                "{e}"
            );
        }
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
    fn salt_is_no_function_of_the_password() {
        // Same settings (one seed), two passwords: everything before the nonce is equal, and
        // the salt is what the seed alone gives.
        let rng = Randomness::Seeded([9; 32]);
        let a = seal(b"vars", Some("first password"), FAST, &rng, "v").unwrap();
        let b = seal(b"vars", Some("second password"), FAST, &rng, "v").unwrap();
        assert_eq!(a[..SIV_PREFIX], b[..SIV_PREFIX]);
        assert_eq!(a[22..38], rng.bytes("v/salt", 16).unwrap()[..]);
        // The only bytes that depend on the password are the nonce and the ciphertext, and
        // both come from the Argon2id output: recomputing them needs the derivation.
        assert_ne!(a[38..], b[38..]);
        let key = derive("first password", &a[22..38], FAST, "v").unwrap();
        let (_, siv) = subkeys(&key);
        assert_eq!(synthetic_nonce(&siv, &a[..SIV_PREFIX], b"vars"), a[38..62]);
        let cheap = Sha256::digest(b"first password");
        let (_, siv) = subkeys(&cheap);
        assert_ne!(synthetic_nonce(&siv, &a[..SIV_PREFIX], b"vars"), a[38..62]);
    }

    #[test]
    fn deterministic_nonces_are_synthetic_ivs() {
        let rng = Randomness::Seeded([3; 32]);
        for pw in [Some("pw"), None] {
            let one = seal(b"first contents", pw, FAST, &rng, "v").unwrap();
            let two = seal(b"other contents", pw, FAST, &rng, "v").unwrap();
            assert_eq!(one[22..38], two[22..38], "same settings, same salt");
            assert_ne!(
                one[38..62],
                two[38..62],
                "different plaintext, different nonce"
            );
            let again = seal(b"first contents", pw, FAST, &rng, "v").unwrap();
            assert_eq!(one, again, "same plaintext, same bytes");
            assert_eq!(open(&two, pw, "v").unwrap(), b"other contents");
        }
    }

    #[test]
    fn version_1_is_refused_with_advice() {
        let mut s = seal(b"x", Some("pw"), FAST, &Randomness::Os, "Variables.dat").unwrap();
        s[8] = 1;
        let e = open(&s, Some("pw"), "Variables.dat")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("version 1") && e.contains("rebuild the media"),
            "{e}"
        );
        s[8] = 9;
        let e = open(&s, Some("pw"), "Variables.dat")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unsupported version 9"), "{e}");
    }

    #[test]
    fn parameters_outside_the_bounds_are_refused_before_deriving() {
        let s = seal(b"x", Some("pw"), FAST, &Randomness::Os, "v").unwrap();
        for (offset, value) in [
            (10, u32::MAX),
            (10, 4),
            (14, 0),
            (14, 1 << 30),
            (18, 0),
            (18, 999),
        ] {
            let mut h = s.clone();
            h[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
            let e = open(&h, Some("pw"), "v").unwrap_err().to_string();
            assert!(
                e.contains("Argon2") && e.contains("refused before deriving"),
                "{e}"
            );
        }
        let huge = KdfParams {
            memory_kib: MAX_MEMORY_KIB + 1,
            ..FAST
        };
        assert!(seal(b"x", Some("pw"), huge, &Randomness::Os, "v").is_err());
        assert!(KdfParams::default().check().is_ok());
    }

    #[test]
    fn seeded_is_reproducible() {
        let a = seal(b"a", None, FAST, &Randomness::Seeded([2; 32]), "v").unwrap();
        let b = seal(b"a", None, FAST, &Randomness::Seeded([2; 32]), "v").unwrap();
        assert_eq!(a, b);
    }
}
