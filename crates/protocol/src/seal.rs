//! Secret collection variables, sealed to the requesting media (issue #15, M3).
//!
//! A policy answer may hold domain-join and local administrator passwords. Those variables
//! ([`is_secret_name`]) travel encrypted to a key only the asking runtime holds, so they are
//! never in clear on the wire (plain HTTP included), in a proxy's or the server's logs, or in
//! a captured answer.
//!
//! Scheme `TSMEDIA-SEAL-V1` (an ECIES in the shape of HPKE's base mode, RFC 9180, with
//! X25519, HKDF-SHA256 and ChaCha20-Poly1305):
//!
//! 1. The runtime makes a fresh X25519 key pair for each policy request and sends its public
//!    half in the request body (`recipient_key`). The body is covered by the request signature
//!    made with the **media certificate's** key, so the server knows the key is that of the
//!    media it identified, and nobody on the way can substitute theirs.
//! 2. The server makes its own fresh X25519 key pair, computes the shared secret, and derives
//!    `key = HKDF-SHA256(salt = "TSMEDIA-SEAL-V1", ikm = X25519 shared secret,
//!    info = "TSMEDIA-SEAL-V1" ‖ server public ‖ recipient public)`, 32 bytes.
//! 3. Each secret variable's value becomes `base64(ChaCha20-Poly1305(key, nonce = 96-bit
//!    big-endian index of the variable in the answer, aad = its name, value))`; the answer
//!    carries the server's public key (`sealed_by`). A key is used for one answer only, so
//!    the counter nonces never repeat under a key.
//! 4. The runtime derives the same key and opens the values; a changed value, name or key is
//!    an authentication failure. Its private key lives in memory for the one request, so a
//!    captured answer cannot be opened later even by someone who later steals the media
//!    (forward secrecy) — something encrypting to the certificate's own long-term key would
//!    not give, and it works the same for ECDSA and RSA media certificates.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::agreement::{self, EphemeralPrivateKey, UnparsedPublicKey, X25519};
use ring::hkdf;
use ring::rand::SystemRandom;

use crate::api::Variable;

/// Name of the scheme (salt and info prefix of the key derivation).
pub const SCHEME: &str = "TSMEDIA-SEAL-V1";

/// Whether a collection variable is secret: its name contains `password`, `passwd`,
/// `secret` or `productkey` (any case), as `OSDJoinPassword`, `OSDLocalAdminPassword` or
/// `OSDProductKey` do. The site has no per-variable flag yet, so the name decides.
pub fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["password", "passwd", "secret", "productkey"]
        .iter()
        .any(|w| n.contains(w))
}

/// Why sealing or opening failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// A public key is not 32 bytes of base64.
    #[error("{0} is not an X25519 public key (32 bytes, base64)")]
    BadKey(&'static str),
    /// No randomness or the key agreement failed.
    #[error("key agreement failed")]
    Agreement,
    /// The answer has secret variables but no sender key.
    #[error("the answer has secret variables but no `sealed_by` key")]
    NoSenderKey,
    /// A sealed value does not open.
    #[error("secret variable {0:?} does not open with this request's key (changed on the way?)")]
    Open(String),
}

fn decode_key(b64: &str, what: &'static str) -> Result<[u8; 32], SealError> {
    BASE64
        .decode(b64.trim())
        .ok()
        .and_then(|v| <[u8; 32]>::try_from(v.as_slice()).ok())
        .ok_or(SealError::BadKey(what))
}

fn derive(
    shared: &[u8],
    sender: &[u8; 32],
    recipient: &[u8; 32],
) -> Result<LessSafeKey, SealError> {
    let info: [&[u8]; 3] = [SCHEME.as_bytes(), sender, recipient];
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, SCHEME.as_bytes()).extract(shared);
    let okm = prk
        .expand(&info, &aead::CHACHA20_POLY1305)
        .map_err(|_| SealError::Agreement)?;
    Ok(LessSafeKey::new(UnboundKey::from(okm)))
}

fn nonce(index: usize) -> Nonce {
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&(index as u64).to_be_bytes());
    Nonce::assume_unique_for_key(n)
}

/// Seals the values of the variables marked `secret` to `recipient_key` (base64, from the
/// request). Returns the sender key for the answer's `sealed_by`, or `None` when no variable
/// is secret (then nothing is changed).
pub fn seal(recipient_key: &str, variables: &mut [Variable]) -> Result<Option<String>, SealError> {
    if !variables.iter().any(|v| v.secret) {
        return Ok(None);
    }
    let recipient = decode_key(recipient_key, "recipient_key")?;
    let rng = SystemRandom::new();
    let private = EphemeralPrivateKey::generate(&X25519, &rng).map_err(|_| SealError::Agreement)?;
    let mut sender = [0u8; 32];
    sender.copy_from_slice(
        private
            .compute_public_key()
            .map_err(|_| SealError::Agreement)?
            .as_ref(),
    );
    let key = agreement::agree_ephemeral(
        private,
        &UnparsedPublicKey::new(&X25519, &recipient),
        |shared| derive(shared, &sender, &recipient),
    )
    .map_err(|_| SealError::Agreement)??;
    for (i, v) in variables.iter_mut().enumerate().filter(|(_, v)| v.secret) {
        let mut buf = std::mem::take(&mut v.value).into_bytes();
        key.seal_in_place_append_tag(nonce(i), Aad::from(v.name.as_bytes()), &mut buf)
            .map_err(|_| SealError::Agreement)?;
        v.value = BASE64.encode(&buf);
    }
    Ok(Some(BASE64.encode(sender)))
}

/// The runtime's key for one policy request.
pub struct RecipientKey {
    private: EphemeralPrivateKey,
    public: [u8; 32],
}

impl std::fmt::Debug for RecipientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecipientKey")
            .field("public", &self.public_base64())
            .finish_non_exhaustive()
    }
}

impl RecipientKey {
    /// A fresh key pair.
    pub fn generate() -> Result<RecipientKey, SealError> {
        let private = EphemeralPrivateKey::generate(&X25519, &SystemRandom::new())
            .map_err(|_| SealError::Agreement)?;
        let mut public = [0u8; 32];
        public.copy_from_slice(
            private
                .compute_public_key()
                .map_err(|_| SealError::Agreement)?
                .as_ref(),
        );
        Ok(RecipientKey { private, public })
    }

    /// The public half, for the request's `recipient_key`.
    pub fn public_base64(&self) -> String {
        BASE64.encode(self.public)
    }

    /// Opens the secret variables of an answer sealed by `sealed_by` (consumes the key: one
    /// answer per key).
    pub fn open(
        self,
        sealed_by: Option<&str>,
        variables: &mut [Variable],
    ) -> Result<(), SealError> {
        if !variables.iter().any(|v| v.secret) {
            return Ok(());
        }
        let sender = decode_key(sealed_by.ok_or(SealError::NoSenderKey)?, "sealed_by")?;
        let recipient = self.public;
        let key = agreement::agree_ephemeral(
            self.private,
            &UnparsedPublicKey::new(&X25519, &sender),
            |shared| derive(shared, &sender, &recipient),
        )
        .map_err(|_| SealError::Agreement)??;
        for (i, v) in variables.iter_mut().enumerate().filter(|(_, v)| v.secret) {
            let mut buf = BASE64
                .decode(v.value.trim())
                .map_err(|_| SealError::Open(v.name.clone()))?;
            let plain = key
                .open_in_place(nonce(i), Aad::from(v.name.as_bytes()), &mut buf)
                .map_err(|_| SealError::Open(v.name.clone()))?;
            v.value =
                String::from_utf8(plain.to_vec()).map_err(|_| SealError::Open(v.name.clone()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vec<Variable> {
        [
            ("OSDComputerName", "PC1", false),
            ("OSDJoinPassword", "Pa$$w0rd!", true),
        ]
        .into_iter()
        .map(|(n, v, s)| Variable {
            name: n.into(),
            value: v.into(),
            secret: s,
        })
        .collect()
    }

    #[test]
    fn seal_then_open_and_refuse_changes() {
        assert!(is_secret_name("OSDJoinPassword") && is_secret_name("osdproductkey"));
        assert!(!is_secret_name("OSDComputerName"));
        let key = RecipientKey::generate().unwrap();
        let mut v = vars();
        let by = seal(&key.public_base64(), &mut v).unwrap().unwrap();
        assert_eq!(v[0].value, "PC1");
        assert!(!v[1].value.contains("Pa$$"), "{}", v[1].value);
        let sealed = v.clone();
        key.open(Some(&by), &mut v).unwrap();
        assert_eq!(v, vars());

        // Another key, a renamed variable, a changed value: refused.
        let other = RecipientKey::generate().unwrap();
        let mut w = sealed.clone();
        assert_eq!(
            other.open(Some(&by), &mut w),
            Err(SealError::Open("OSDJoinPassword".into()))
        );
        let key = RecipientKey::generate().unwrap();
        let mut w = vars();
        let by = seal(&key.public_base64(), &mut w).unwrap().unwrap();
        w[1].name = "OSDLocalAdminPassword".into();
        assert!(matches!(
            key.open(Some(&by), &mut w),
            Err(SealError::Open(_))
        ));
        let key = RecipientKey::generate().unwrap();
        let mut w = vars();
        seal(&key.public_base64(), &mut w).unwrap();
        assert_eq!(key.open(None, &mut w), Err(SealError::NoSenderKey));
        assert_eq!(
            seal("AAAA", &mut vars()),
            Err(SealError::BadKey("recipient_key"))
        );
        // Nothing secret: nothing sealed, no key needed.
        let mut plain = vec![vars().remove(0)];
        assert_eq!(seal("", &mut plain), Ok(None));
    }
}
