//! Reply signing with the site's key: how media know an answer comes from their site.
//!
//! Each site has an Ed25519 signing key (kept by the site, `tsmedia-site`); the media carry its
//! 32-byte public key inside the sealed `Variables.dat` (variable [`SITE_KEY_VARIABLE`],
//! [`encode_site_key`]). The
//! management point signs every answer, and the runtime refuses an answer whose signature is
//! missing or does not verify with the key of its media, over HTTP and HTTPS alike: TLS says
//! who holds the server's certificate, the signature says the site wrote the answer.
//!
//! Scheme, version 1:
//!
//! ```text
//! string to sign = "TSMEDIA-REPLY-V1\n"
//!                  METHOD "\n"                     of the request, e.g. POST
//!                  PATH-AND-QUERY "\n"             of the request, as sent
//!                  hex(SHA-256(request body)) "\n"
//!                  NONCE "\n"                      the request's X-Tsmedia-Reply-Nonce, or empty
//!                  STATUS "\n"                     of the answer, decimal, e.g. 200
//!                  hex(SHA-256(answer body))
//! ```
//!
//! The client sends a fresh random [`NONCE_HEADER`] with each request, so a signed answer
//! cannot be replayed to another request, nor to the same request later; the answer carries
//! [`SIGNATURE_HEADER`]: base64 (standard, padded) of the 64-byte Ed25519 signature.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::rand::{SecureRandom as _, SystemRandom};
use ring::signature::{self, Ed25519KeyPair, KeyPair as _};
use sha2::Digest as _;

use crate::signing::{SigningError, hex};

/// Request header carrying the client's nonce.
pub const NONCE_HEADER: &str = "x-tsmedia-reply-nonce";
/// Answer header carrying the site's signature.
pub const SIGNATURE_HEADER: &str = "x-tsmedia-site-signature";
pub use tsmedia_mediafmt::variables::{SITE_KEY_VARIABLE, encode_site_key, parse_site_key};

/// What a reply signature covers.
#[derive(Debug, Clone, Copy)]
pub struct SignedReply<'a> {
    /// Method of the request.
    pub method: &'a str,
    /// Path and query of the request, as sent.
    pub path_and_query: &'a str,
    /// Body of the request (empty for GET).
    pub request_body: &'a [u8],
    /// The request's nonce header, or empty.
    pub nonce: &'a str,
    /// Status of the answer.
    pub status: u16,
    /// Body of the answer.
    pub body: &'a [u8],
}

/// The bytes that are signed (see the module documentation).
pub fn string_to_sign(reply: &SignedReply<'_>) -> Vec<u8> {
    format!(
        "TSMEDIA-REPLY-V1\n{}\n{}\n{}\n{}\n{}\n{}",
        reply.method.to_ascii_uppercase(),
        reply.path_and_query,
        hex(&sha2::Sha256::digest(reply.request_body)),
        reply.nonce,
        reply.status,
        hex(&sha2::Sha256::digest(reply.body)),
    )
    .into_bytes()
}

/// A fresh nonce for [`NONCE_HEADER`]: 16 random bytes, hex.
pub fn new_nonce() -> Result<String, SigningError> {
    let mut b = [0u8; 16];
    SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| SigningError::Key("no randomness for the reply nonce".into()))?;
    Ok(hex(&b))
}

/// A new Ed25519 site key, PKCS#8 (what the site stores).
pub fn generate_site_key() -> Result<Vec<u8>, SigningError> {
    Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
        .map(|d| d.as_ref().to_vec())
        .map_err(|_| SigningError::Key("cannot generate an Ed25519 key".into()))
}

/// The site's key, signing answers.
pub struct ReplySigner {
    key: Ed25519KeyPair,
}

impl std::fmt::Debug for ReplySigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplySigner")
            .field("public_key", &encode_site_key(&self.public_key()))
            .finish_non_exhaustive()
    }
}

impl ReplySigner {
    /// The signer of a PKCS#8 Ed25519 key ([`generate_site_key`]).
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<ReplySigner, SigningError> {
        Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
            .map(|key| ReplySigner { key })
            .map_err(|e| SigningError::Key(format!("site signing key: {e}")))
    }

    /// The public key the media carry.
    pub fn public_key(&self) -> [u8; 32] {
        let mut k = [0u8; 32];
        k.copy_from_slice(self.key.public_key().as_ref());
        k
    }

    /// The Ed25519 signature of `bytes` (for other statements of the site, such as identity
    /// tokens, whose signed bytes carry their own domain prefix).
    pub(crate) fn sign_bytes(&self, bytes: &[u8]) -> Vec<u8> {
        self.key.sign(bytes).as_ref().to_vec()
    }

    /// The [`SIGNATURE_HEADER`] value for `reply`.
    pub fn sign(&self, reply: &SignedReply<'_>) -> String {
        BASE64.encode(self.key.sign(&string_to_sign(reply)).as_ref())
    }
}

/// Checks the `signature` header value (`None` when the answer has none) of `reply` with the
/// site's public key.
pub fn verify(
    public_key: &[u8; 32],
    reply: &SignedReply<'_>,
    signature: Option<&str>,
) -> Result<(), ReplyError> {
    let sig = signature.ok_or(ReplyError::Unsigned)?;
    let sig = BASE64
        .decode(sig.trim())
        .map_err(|_| ReplyError::BadSignature)?;
    signature::UnparsedPublicKey::new(&signature::ED25519, public_key)
        .verify(&string_to_sign(reply), &sig)
        .map_err(|_| ReplyError::BadSignature)
}

/// Why an answer was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplyError {
    /// The answer carries no site signature.
    #[error("the answer is not signed by the site")]
    Unsigned,
    /// The signature does not verify with the site key of the media.
    #[error("the answer's signature does not verify with the site key of the media")]
    BadSignature,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_refuse() {
        let signer = ReplySigner::from_pkcs8(&generate_site_key().unwrap()).unwrap();
        let other = ReplySigner::from_pkcs8(&generate_site_key().unwrap()).unwrap();
        let key = signer.public_key();
        assert_eq!(parse_site_key(&encode_site_key(&key)).unwrap(), key);
        let reply = SignedReply {
            method: "POST",
            path_and_query: "/mp/v1/policy",
            request_body: b"{\"deployment_id\":\"X\"}",
            nonce: "00ff",
            status: 200,
            body: b"{}",
        };
        let sig = signer.sign(&reply);
        assert_eq!(verify(&key, &reply, Some(&sig)), Ok(()));
        assert_eq!(verify(&key, &reply, None), Err(ReplyError::Unsigned));
        assert_eq!(
            verify(&key, &reply, Some(&other.sign(&reply))),
            Err(ReplyError::BadSignature)
        );
        assert_eq!(
            verify(&key, &reply, Some("!!")),
            Err(ReplyError::BadSignature)
        );
        // Every covered part changes the signed bytes.
        let changed = [
            SignedReply {
                body: b"{ }",
                ..reply
            },
            SignedReply {
                nonce: "00fe",
                ..reply
            },
            SignedReply {
                status: 201,
                ..reply
            },
            SignedReply {
                request_body: b"",
                ..reply
            },
            SignedReply {
                path_and_query: "/mp/v1/policy?a",
                ..reply
            },
            SignedReply {
                method: "GET",
                ..reply
            },
        ];
        for c in changed {
            assert_eq!(
                verify(&key, &c, Some(&sig)),
                Err(ReplyError::BadSignature),
                "{c:?}"
            );
        }
    }
}
