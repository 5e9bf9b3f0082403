//! Request signing with the media certificate.
//!
//! Media sign every request to the management point (and may sign requests to the distribution
//! point) with the private key of their media certificate. The scheme, version 2:
//!
//! ```text
//! string to sign = "TSMEDIA-SIG-V2\n"
//!                  METHOD "\n"                  e.g. POST
//!                  HOST "\n"                    the server addressed ([`normalize_host`])
//!                  PATH-AND-QUERY "\n"          e.g. /mp/v1/policy?x=1 (as sent)
//!                  hex(SHA-256(body)) "\n"      lowercase; the hash of an empty body for GET
//!                  TIMESTAMP "\n"               Unix seconds, decimal
//!                  NONCE "\n"                   16 random bytes, lowercase hex, new per request
//!                  PRINCIPAL                    the X-Tsmedia-Principal header, or empty
//! ```
//!
//! The host stops a request captured on its way to one server from being played to another;
//! the nonce lets the server refuse a request it has already seen within the time window
//! (its replay cache keeps each nonce until the request's timestamp falls out of the window).
//!
//! Headers sent with the request:
//! - `X-Tsmedia-Cert`: thumbprint of the media certificate (SHA-1 of its DER, hex, as Windows
//!   shows it; [`thumbprint`], the same function the site registers certificates with);
//! - `X-Tsmedia-Time`: the timestamp that was signed;
//! - `X-Tsmedia-Nonce`: the nonce that was signed;
//! - `X-Tsmedia-Signature`: base64 (standard, padded) of the signature: ECDSA P-256/SHA-256 or
//!   P-384/SHA-384 in ASN.1 DER form, or RSA PKCS#1 v1.5 with SHA-256, by the key type of the
//!   certificate.
//!
//! The server checks that the certificate is registered at the site and not blocked, that now
//! is within its validity, that the timestamp is within the allowed clock skew of the server's
//! clock, and the signature with the public key of the **registered** certificate (whatever the
//! client claims, the site's copy is the one trusted).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair as _, RsaKeyPair};
use sha2::Digest as _;

pub use tsmedia_mediafmt::certificate::thumbprint;

/// Header carrying the certificate thumbprint.
pub const CERT_HEADER: &str = "x-tsmedia-cert";
/// Header carrying the signed timestamp.
pub const TIME_HEADER: &str = "x-tsmedia-time";
/// Header carrying the signature.
pub const SIGNATURE_HEADER: &str = "x-tsmedia-signature";
/// Header carrying the signed nonce.
pub const NONCE_HEADER: &str = "x-tsmedia-nonce";
/// Header naming the principal a distribution point checks read access for.
pub const PRINCIPAL_HEADER: &str = "x-tsmedia-principal";

/// Why a signature could not be made or was not accepted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SigningError {
    /// The private key is not a PKCS#8 ECDSA P-256/P-384 or RSA key, or does not match.
    #[error("media certificate key: {0}")]
    Key(String),
    /// The certificate could not be parsed.
    #[error("media certificate: {0}")]
    Certificate(String),
    /// The signature headers are missing or malformed.
    #[error("signature headers: {0}")]
    Headers(String),
    /// The signature does not verify.
    #[error("the request signature does not verify with the registered certificate")]
    BadSignature,
    /// The signed timestamp is too far from the server's clock.
    #[error("the request time {time} is more than {skew} s from the server's time {now}")]
    Stale {
        /// Signed time.
        time: i64,
        /// Server time.
        now: i64,
        /// Allowed difference.
        skew: i64,
    },
}

/// The headers a signed request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeaders {
    /// `X-Tsmedia-Cert`.
    pub thumbprint: String,
    /// `X-Tsmedia-Time`.
    pub timestamp: i64,
    /// `X-Tsmedia-Nonce` (lowercase hex).
    pub nonce: String,
    /// `X-Tsmedia-Signature` (base64).
    pub signature: String,
}

impl SignatureHeaders {
    /// Name/value pairs to add to the request.
    pub fn pairs(&self) -> [(&'static str, String); 4] {
        [
            (CERT_HEADER, self.thumbprint.clone()),
            (TIME_HEADER, self.timestamp.to_string()),
            (NONCE_HEADER, self.nonce.clone()),
            (SIGNATURE_HEADER, self.signature.clone()),
        ]
    }
}

pub(crate) use tsmedia_base::digest::hex;

/// The bytes that are signed (see the module documentation).
pub fn string_to_sign(request: &SignedRequest<'_>, timestamp: i64, nonce: &str) -> Vec<u8> {
    format!(
        "TSMEDIA-SIG-V2\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
        request.method.to_ascii_uppercase(),
        normalize_host(request.host),
        request.path_and_query,
        hex(&sha2::Sha256::digest(request.body)),
        timestamp,
        nonce,
        request.principal
    )
    .into_bytes()
}

/// A host as both sides compare it: lower case, without a default port (`:80`, `:443`),
/// without surrounding space. The client takes it from the URL it asks, the server from the
/// `Host` header (or the HTTP/2 authority); a proxy in between must keep the `Host` header.
pub fn normalize_host(host: &str) -> String {
    let h = host.trim().to_ascii_lowercase();
    match h.strip_suffix(":80").or_else(|| h.strip_suffix(":443")) {
        Some(bare) => bare.to_string(),
        None => h,
    }
}

/// Whether a nonce has the form the client sends: 16 to 64 lowercase hex digits.
pub fn valid_nonce(nonce: &str) -> bool {
    (16..=64).contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The parts of a request that are signed.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// The server addressed: `host[:port]` of the URL (compared by [`normalize_host`]).
    pub host: &'a str,
    /// Path and query exactly as sent.
    pub path_and_query: &'a str,
    /// Body bytes (empty for GET).
    pub body: &'a [u8],
    /// Value of `X-Tsmedia-Principal`, or empty.
    pub principal: &'a str,
}

enum SigningKey {
    Ecdsa(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

/// Signs requests with a media certificate's private key. Cheap to share between threads.
pub struct RequestSigner {
    key: SigningKey,
    thumbprint: String,
    rng: SystemRandom,
}

impl std::fmt::Debug for RequestSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestSigner")
            .field("thumbprint", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

impl RequestSigner {
    /// A signer from the certificate (DER) and its PKCS#8 private key (DER). The key must be
    /// ECDSA P-256, ECDSA P-384 or RSA, and must belong to the certificate.
    pub fn new(cert_der: &[u8], pkcs8_der: &[u8]) -> Result<RequestSigner, SigningError> {
        let rng = SystemRandom::new();
        let key = if let Ok(k) =
            EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8_der, &rng)
        {
            SigningKey::Ecdsa(k)
        } else if let Ok(k) =
            EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P384_SHA384_ASN1_SIGNING, pkcs8_der, &rng)
        {
            SigningKey::Ecdsa(k)
        } else {
            let k = RsaKeyPair::from_pkcs8(pkcs8_der).map_err(|e| {
                SigningError::Key(format!("not a PKCS#8 ECDSA P-256/P-384 or RSA key ({e})"))
            })?;
            SigningKey::Rsa(k)
        };
        let public = public_key_of(cert_der)?;
        let matches = match &key {
            SigningKey::Ecdsa(k) => k.public_key().as_ref() == public.key.as_slice(),
            SigningKey::Rsa(k) => k.public_key().as_ref() == public.key.as_slice(),
        };
        if !matches {
            return Err(SigningError::Key(
                "the private key does not belong to the certificate".into(),
            ));
        }
        Ok(RequestSigner {
            key,
            thumbprint: thumbprint(cert_der),
            rng,
        })
    }

    /// The certificate's thumbprint.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// Signs one request; `timestamp` is the current Unix time.
    pub fn sign(
        &self,
        request: &SignedRequest<'_>,
        timestamp: i64,
    ) -> Result<SignatureHeaders, SigningError> {
        let mut nonce = [0u8; 16];
        ring::rand::SecureRandom::fill(&self.rng, &mut nonce)
            .map_err(|_| SigningError::Key("no randomness for the request nonce".into()))?;
        let nonce = hex(&nonce);
        let message = string_to_sign(request, timestamp, &nonce);
        let sig = match &self.key {
            SigningKey::Ecdsa(k) => k
                .sign(&self.rng, &message)
                .map_err(|_| SigningError::Key("ECDSA signing failed".into()))?
                .as_ref()
                .to_vec(),
            SigningKey::Rsa(k) => {
                let mut out = vec![0; k.public().modulus_len()];
                k.sign(&signature::RSA_PKCS1_SHA256, &self.rng, &message, &mut out)
                    .map_err(|_| SigningError::Key("RSA signing failed".into()))?;
                out
            }
        };
        Ok(SignatureHeaders {
            thumbprint: self.thumbprint.clone(),
            timestamp,
            nonce,
            signature: BASE64.encode(sig),
        })
    }
}

struct PublicKey {
    algorithm: &'static dyn signature::VerificationAlgorithm,
    key: Vec<u8>,
}

/// The public key of a certificate and the algorithm its signatures are verified with.
fn public_key_of(cert_der: &[u8]) -> Result<PublicKey, SigningError> {
    use x509_parser::oid_registry::{OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384};
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der)
        .map_err(|e| SigningError::Certificate(format!("not an X.509 certificate: {e}")))?;
    let spki = cert.public_key();
    let key = spki.subject_public_key.data.to_vec();
    let alg = &spki.algorithm;
    let algorithm: &'static dyn signature::VerificationAlgorithm =
        if alg.algorithm == OID_KEY_TYPE_EC_PUBLIC_KEY {
            let curve = alg
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .ok_or_else(|| SigningError::Certificate("EC key without a named curve".into()))?;
            if curve == OID_EC_P256 {
                &signature::ECDSA_P256_SHA256_ASN1
            } else if curve == OID_NIST_EC_P384 {
                &signature::ECDSA_P384_SHA384_ASN1
            } else {
                return Err(SigningError::Certificate(format!(
                    "EC curve {curve} is not supported (P-256 or P-384)"
                )));
            }
        } else if alg.algorithm == x509_parser::oid_registry::OID_PKCS1_RSAENCRYPTION {
            &signature::RSA_PKCS1_2048_8192_SHA256
        } else {
            return Err(SigningError::Certificate(format!(
                "key algorithm {} is not supported (ECDSA or RSA)",
                alg.algorithm
            )));
        };
    Ok(PublicKey { algorithm, key })
}

/// Checks a request's signature against the registered certificate `cert_der`, and its
/// timestamp against `now` (Unix seconds) with `max_skew` seconds of tolerance.
/// Validity and blocking are the caller's checks (they need the site).
pub fn verify(
    cert_der: &[u8],
    headers: &SignatureHeaders,
    request: &SignedRequest<'_>,
    now: i64,
    max_skew: i64,
) -> Result<(), SigningError> {
    if (headers.timestamp - now).abs() > max_skew {
        return Err(SigningError::Stale {
            time: headers.timestamp,
            now,
            skew: max_skew,
        });
    }
    if !valid_nonce(&headers.nonce) {
        return Err(SigningError::Headers(format!(
            "{NONCE_HEADER} must be 16 to 64 lowercase hex digits"
        )));
    }
    let sig = BASE64
        .decode(headers.signature.trim())
        .map_err(|e| SigningError::Headers(format!("signature is not base64: {e}")))?;
    let public = public_key_of(cert_der)?;
    let message = string_to_sign(request, headers.timestamp, &headers.nonce);
    signature::UnparsedPublicKey::new(public.algorithm, &public.key)
        .verify(&message, &sig)
        .map_err(|_| SigningError::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(alg: &'static rcgen::SignatureAlgorithm) -> (Vec<u8>, Vec<u8>) {
        let key = rcgen::KeyPair::generate_for(alg).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["media".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        (cert.der().to_vec(), key.serialize_der())
    }

    fn req<'a>(
        method: &'a str,
        path: &'a str,
        body: &'a [u8],
        principal: &'a str,
    ) -> SignedRequest<'a> {
        SignedRequest {
            method,
            host: "mp.lab:8080",
            path_and_query: path,
            body,
            principal,
        }
    }

    #[test]
    fn string_to_sign_layout() {
        let s = string_to_sign(
            &req("get", "/mp/v1/x?a=1", b"", "LAB\\naa"),
            42,
            "00112233445566778899aabbccddeeff",
        );
        assert_eq!(
            String::from_utf8(s).unwrap(),
            "TSMEDIA-SIG-V2\nGET\nmp.lab:8080\n/mp/v1/x?a=1\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n42\n\
             00112233445566778899aabbccddeeff\nLAB\\naa"
        );
        assert_eq!(normalize_host(" MP.Lab:80 "), "mp.lab");
        assert_eq!(normalize_host("mp.lab:443"), "mp.lab");
        assert_eq!(normalize_host("mp.lab:8443"), "mp.lab:8443");
    }

    #[test]
    fn sign_then_verify_and_every_tamper_fails() {
        for alg in [
            &rcgen::PKCS_ECDSA_P256_SHA256,
            &rcgen::PKCS_ECDSA_P384_SHA384,
        ] {
            let (der, key) = cert(alg);
            let signer = RequestSigner::new(&der, &key).unwrap();
            assert_eq!(signer.thumbprint(), thumbprint(&der));
            let h = signer.sign(&req("POST", "/p", b"{}", ""), 1000).unwrap();
            verify(&der, &h, &req("POST", "/p", b"{}", ""), 1010, 300).unwrap();
            for (m, p, b, pr) in [
                ("GET", "/p", &b"{}"[..], ""),
                ("POST", "/q", b"{}", ""),
                ("POST", "/p", b"{ }", ""),
                ("POST", "/p", b"{}", "other"),
            ] {
                assert!(matches!(
                    verify(&der, &h, &req(m, p, b, pr), 1000, 300),
                    Err(SigningError::BadSignature)
                ));
            }
            let mut other_host = req("POST", "/p", b"{}", "");
            other_host.host = "other.lab:8080";
            assert!(matches!(
                verify(&der, &h, &other_host, 1000, 300),
                Err(SigningError::BadSignature)
            ));
            let mut other_nonce = h.clone();
            other_nonce.nonce = "ffffffffffffffffffffffffffffffff".into();
            assert!(matches!(
                verify(&der, &other_nonce, &req("POST", "/p", b"{}", ""), 1000, 300),
                Err(SigningError::BadSignature)
            ));
            let again = signer.sign(&req("POST", "/p", b"{}", ""), 1000).unwrap();
            assert_ne!(again.nonce, h.nonce, "a new nonce per request");
            assert!(matches!(
                verify(&der, &h, &req("POST", "/p", b"{}", ""), 2000, 300),
                Err(SigningError::Stale { .. })
            ));
            let mut bad = h.clone();
            bad.signature = "!!".into();
            assert!(matches!(
                verify(&der, &bad, &req("POST", "/p", b"{}", ""), 1000, 300),
                Err(SigningError::Headers(_))
            ));
        }
    }

    #[test]
    fn key_of_another_certificate_is_refused() {
        let (der, _) = cert(&rcgen::PKCS_ECDSA_P256_SHA256);
        let (_, other_key) = cert(&rcgen::PKCS_ECDSA_P256_SHA256);
        assert!(matches!(
            RequestSigner::new(&der, &other_key),
            Err(SigningError::Key(_))
        ));
        assert!(matches!(
            RequestSigner::new(&der, b"junk"),
            Err(SigningError::Key(_))
        ));
    }
}
