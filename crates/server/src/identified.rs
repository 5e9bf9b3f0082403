//! Which computer media may ask about: the one the identity endpoint named for them, as its
//! signed token says (`tsmedia_protocol::identity_token`; issue #15, M3).
//!
//! The identity route issues the token, bound to the media certificate that signed the
//! identity request and valid for [`LIFETIME_SECS`]; the deployments and policy routes accept
//! a resource ID only with a token for it, issued to the same certificate. Refusals are 403
//! with the codes `identity_token_missing`, `identity_token_invalid`,
//! `identity_token_expired`, `identity_token_other_media` and `not_identified` (the token
//! names another computer). Secret variables of a policy are sealed to the runtime's key
//! here too ([`seal_secrets`]).

use tsmedia_protocol::api::{Identity, Policy};
use tsmedia_protocol::identity_token::{self, IdentityClaims, LIFETIME_SECS, TokenError};
use tsmedia_protocol::reply::ReplySigner;
use tsmedia_protocol::seal;

use crate::auth::{Caller, now};
use crate::error::ApiError;

/// Adds the identity token for `caller` to `identity`.
pub(crate) fn issue(signer: &ReplySigner, caller: &Caller, identity: &mut Identity) {
    identity.token = identity_token::issue(
        signer,
        &IdentityClaims {
            resource_id: identity.resource_id,
            certificate: caller.thumbprint.clone(),
            expires: now() + LIFETIME_SECS,
            unknown: identity.unknown,
        },
    );
}

/// Checks that `token` lets `caller` ask about `resource_id`.
pub(crate) fn check(
    signer: &ReplySigner,
    caller: &Caller,
    token: &str,
    resource_id: i64,
) -> Result<(), ApiError> {
    let claims = identity_token::verify(&signer.public_key(), token, &caller.thumbprint, now())
        .map_err(|e| {
            let code = match e {
                TokenError::Missing => "identity_token_missing",
                TokenError::Expired { .. } => "identity_token_expired",
                TokenError::OtherMedia { .. } => "identity_token_other_media",
                _ => "identity_token_invalid",
            };
            ApiError::forbidden(code, e.to_string())
        })?;
    if claims.resource_id != resource_id {
        return Err(ApiError::forbidden(
            "not_identified",
            format!(
                "these media were identified as resource {}, not {resource_id}: a request may \
                 name only the computer the management point identified",
                claims.resource_id
            ),
        ));
    }
    Ok(())
}

/// Marks the secret variables of `policy` ([`seal::is_secret_name`]) and seals them to
/// `recipient_key`; a policy with secrets and no recipient key is refused (400
/// `recipient_key_required`), since they would otherwise travel in clear.
pub(crate) fn seal_secrets(
    policy: &mut Policy,
    recipient_key: Option<&str>,
) -> Result<(), ApiError> {
    for v in &mut policy.variables {
        v.secret = seal::is_secret_name(&v.name);
    }
    if !policy.variables.iter().any(|v| v.secret) {
        return Ok(());
    }
    let Some(key) = recipient_key.filter(|k| !k.trim().is_empty()) else {
        let names: Vec<&str> = policy
            .variables
            .iter()
            .filter(|v| v.secret)
            .map(|v| v.name.as_str())
            .collect();
        return Err(ApiError::bad_request(
            "recipient_key_required",
            format!(
                "the policy holds secret variables ({}); the request must carry a \
                 recipient_key to seal them to",
                names.join(", ")
            ),
        ));
    };
    policy.sealed_by = seal::seal(key, &mut policy.variables)
        .map_err(|e| ApiError::bad_request("bad_recipient_key", e.to_string()))?;
    Ok(())
}
