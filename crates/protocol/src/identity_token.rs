//! The identity token: the management point's signed statement "these media were told they
//! are computer N", which every later request about that computer must carry (issue #15, M3).
//!
//! The identity answer hands the token out; deployment and policy requests send it back. The
//! server accepts it only when its site signature verifies, it has not expired, and the
//! certificate it names is the one that signed the request carrying it — so media can ask
//! only about the computer the site identified for them, never about another resource ID.
//! The token is stateless: the site key signs it, no table remembers it.
//!
//! Format, version 1:
//!
//! ```text
//! token   = "v1." base64url(claims JSON) "." base64url(Ed25519 signature)
//! signed  = "TSMEDIA-IDENTITY-V1\n" claims JSON        (the bytes inside the first part)
//! claims  = {"resource_id": N, "certificate": "<thumbprint>", "expires": <Unix s>,
//!            "unknown": bool}
//! ```
//!
//! The prefix keeps a token signature from ever being taken for an answer signature
//! ([`crate::reply`], `TSMEDIA-REPLY-V1`), made with the same key.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use ring::signature;
use serde::{Deserialize, Serialize};

use crate::reply::ReplySigner;

/// How long a token is accepted after it was issued: long enough for a person to pick a task
/// sequence at the console, short enough that a leaked token soon stops working.
pub const LIFETIME_SECS: i64 = 3600;

/// Longest token read (a real one is about 250 characters).
const MAX_TOKEN: usize = 2048;

const DOMAIN: &[u8] = b"TSMEDIA-IDENTITY-V1\n";

/// What a token says.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct IdentityClaims {
    /// The computer the site identified.
    pub resource_id: i64,
    /// Thumbprint of the media certificate that asked (uppercase hex SHA-1).
    pub certificate: String,
    /// Unix time after which the token is refused.
    pub expires: i64,
    /// Whether the computer is an Unknown Computer record.
    pub unknown: bool,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The request carries none.
    #[error("the request carries no identity token: ask the identity endpoint first")]
    Missing,
    /// Not a token of this format.
    #[error("the identity token is malformed ({0})")]
    Malformed(&'static str),
    /// The site signature does not verify.
    #[error("the identity token is not signed by this site")]
    BadSignature,
    /// Past its expiry.
    #[error("the identity token expired at {expires} (now {now}): ask the identity endpoint again")]
    Expired {
        /// When it expired.
        expires: i64,
        /// Now.
        now: i64,
    },
    /// Issued to other media.
    #[error("the identity token was issued to media certificate {issued_to}, not to {caller}")]
    OtherMedia {
        /// The certificate the token names.
        issued_to: String,
        /// The certificate that signed this request.
        caller: String,
    },
}

/// Issues a token for `claims`, signed with the site key.
pub fn issue(signer: &ReplySigner, claims: &IdentityClaims) -> String {
    // Serializing a struct of integers, a bool and a string cannot fail.
    let json = serde_json::to_vec(claims).expect("identity claims serialize");
    let mut signed = DOMAIN.to_vec();
    signed.extend_from_slice(&json);
    let sig = signer.sign_bytes(&signed);
    format!("v1.{}.{}", B64URL.encode(&json), B64URL.encode(sig))
}

/// Checks `token` (as the request carried it; empty means none) with the site's public key,
/// the time `now` and the thumbprint of the certificate that signed the request; returns its
/// claims.
pub fn verify(
    public_key: &[u8; 32],
    token: &str,
    caller_thumbprint: &str,
    now: i64,
) -> Result<IdentityClaims, TokenError> {
    let token = token.trim();
    if token.is_empty() {
        return Err(TokenError::Missing);
    }
    if token.len() > MAX_TOKEN {
        return Err(TokenError::Malformed("too long"));
    }
    let mut parts = token.split('.');
    let (Some("v1"), Some(claims), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed("not v1.<claims>.<signature>"));
    };
    let json = B64URL
        .decode(claims)
        .map_err(|_| TokenError::Malformed("claims are not base64url"))?;
    let sig = B64URL
        .decode(sig)
        .map_err(|_| TokenError::Malformed("signature is not base64url"))?;
    let mut signed = DOMAIN.to_vec();
    signed.extend_from_slice(&json);
    signature::UnparsedPublicKey::new(&signature::ED25519, public_key)
        .verify(&signed, &sig)
        .map_err(|_| TokenError::BadSignature)?;
    let claims: IdentityClaims =
        serde_json::from_slice(&json).map_err(|_| TokenError::Malformed("claims are not JSON"))?;
    if now > claims.expires {
        return Err(TokenError::Expired {
            expires: claims.expires,
            now,
        });
    }
    if !claims.certificate.eq_ignore_ascii_case(caller_thumbprint) {
        return Err(TokenError::OtherMedia {
            issued_to: claims.certificate,
            caller: caller_thumbprint.to_string(),
        });
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::generate_site_key;

    #[test]
    fn issue_verify_and_refuse() {
        let site = ReplySigner::from_pkcs8(&generate_site_key().unwrap()).unwrap();
        let other = ReplySigner::from_pkcs8(&generate_site_key().unwrap()).unwrap();
        let key = site.public_key();
        let claims = IdentityClaims {
            resource_id: 16_777_220,
            certificate: "AB12".into(),
            expires: 1_000,
            unknown: false,
        };
        let t = issue(&site, &claims);
        assert_eq!(verify(&key, &t, "ab12", 1_000), Ok(claims.clone()));
        assert_eq!(verify(&key, "", "AB12", 0), Err(TokenError::Missing));
        assert_eq!(
            verify(&key, &issue(&other, &claims), "AB12", 0),
            Err(TokenError::BadSignature)
        );
        assert!(matches!(
            verify(&key, &t, "AB12", 1_001),
            Err(TokenError::Expired { expires: 1_000, .. })
        ));
        assert!(matches!(
            verify(&key, &t, "CD34", 0),
            Err(TokenError::OtherMedia { .. })
        ));
        // Another resource ID under the original signature.
        let (_, sig) = t.rsplit_once('.').unwrap();
        let forged_claims = IdentityClaims {
            resource_id: 16_777_221,
            ..claims
        };
        let forged = format!(
            "v1.{}.{sig}",
            B64URL.encode(serde_json::to_vec(&forged_claims).unwrap())
        );
        assert_eq!(
            verify(&key, &forged, "AB12", 0),
            Err(TokenError::BadSignature)
        );
        let long = "v".repeat(5000);
        for bad in ["v2.a.b", "v1.a", "v1.a.b.c", "v1.!!.AA", long.as_str()] {
            assert!(
                matches!(verify(&key, bad, "AB12", 0), Err(TokenError::Malformed(_))),
                "{bad}"
            );
        }
    }
}
