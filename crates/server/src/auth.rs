//! Who may ask: signed requests from media (management point) and read access per principal
//! (distribution point).
//!
//! Management point: every request must carry the signature headers of [`tsmedia_protocol::signing`];
//! the certificate must be registered at the site, not blocked and within its validity.
//! Refusals are 401 `unsigned` (headers missing) or 403 with the codes
//! `certificate_unknown`, `certificate_blocked`, `certificate_not_yet_valid`,
//! `certificate_expired`, `bad_signature` and `stale_request`.
//!
//! Distribution point: the principal is the `X-Tsmedia-Principal` header (`Anonymous` when
//! absent); it must have been granted read access to this DP (`tsmedia dp grant DP PRINCIPAL`,
//! compared without case). When the request also carries signature headers they are verified
//! as for the management point (the principal is part of what is signed), so media can prove
//! the principal they claim; an unsigned principal is taken at its word, as a share's guest
//! access would be.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use tsmedia_site::Site;

use crate::error::ApiError;
use crate::server::AppState;
use tsmedia_protocol::signing::{
    self, CERT_HEADER, PRINCIPAL_HEADER, SIGNATURE_HEADER, SignatureHeaders, SignedRequest,
    SigningError, TIME_HEADER,
};

/// Largest request body the management point reads (requests are small JSON documents).
pub const MAX_BODY: usize = 64 * 1024;

/// The principal of an unauthenticated DP request.
pub const ANONYMOUS: &str = "Anonymous";

/// Current Unix time.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, ApiError> {
    headers
        .get(name)
        .map(|v| {
            v.to_str().map_err(|_| {
                ApiError::bad_request("bad_header", format!("header {name} is not ASCII text"))
            })
        })
        .transpose()
}

/// The signature headers, if the request has any; an incomplete or malformed set is a 400.
fn signature_headers(headers: &HeaderMap) -> Result<Option<SignatureHeaders>, ApiError> {
    let cert = header(headers, CERT_HEADER)?;
    let time = header(headers, TIME_HEADER)?;
    let sig = header(headers, SIGNATURE_HEADER)?;
    match (cert, time, sig) {
        (None, None, None) => Ok(None),
        (Some(cert), Some(time), Some(sig)) => {
            let timestamp = time.trim().parse::<i64>().map_err(|_| {
                ApiError::bad_request("bad_header", format!("{TIME_HEADER} is not a number"))
            })?;
            Ok(Some(SignatureHeaders {
                thumbprint: cert.trim().to_string(),
                timestamp,
                signature: sig.trim().to_string(),
            }))
        }
        _ => Err(ApiError::bad_request(
            "bad_header",
            format!(
                "a signed request needs all of {CERT_HEADER}, {TIME_HEADER} and {SIGNATURE_HEADER}"
            ),
        )),
    }
}

/// Checks that a media certificate may be used now; returns its registered DER.
pub fn check_certificate(site: &Site, thumbprint: &str, now: i64) -> Result<Vec<u8>, ApiError> {
    let cert = match site.certificate(thumbprint) {
        Ok(c) => c,
        Err(tsmedia_site::Error::NotFound { .. }) => {
            return Err(ApiError::forbidden(
                "certificate_unknown",
                format!("media certificate {thumbprint} is not registered at this site"),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    if cert.blocked {
        return Err(ApiError::forbidden(
            "certificate_blocked",
            format!("media certificate {} is blocked", cert.id),
        ));
    }
    if now < cert.not_before.0 {
        return Err(ApiError::forbidden(
            "certificate_not_yet_valid",
            format!(
                "media certificate {} is valid from {}",
                cert.id, cert.not_before
            ),
        ));
    }
    if now > cert.not_after.0 {
        return Err(ApiError::forbidden(
            "certificate_expired",
            format!(
                "media certificate {} expired at {}",
                cert.id, cert.not_after
            ),
        ));
    }
    Ok(site.certificate_der(&cert.id)?)
}

fn signing_refusal(e: SigningError) -> ApiError {
    match e {
        SigningError::BadSignature => ApiError::forbidden("bad_signature", e.to_string()),
        SigningError::Stale { .. } => ApiError::forbidden("stale_request", e.to_string()),
        SigningError::Headers(_) => ApiError::bad_request("bad_header", e.to_string()),
        // The registered certificate itself is unusable (`Certificate`, `Key`): the site's
        // data, not the caller. The error type lives in the protocol crate and is
        // non-exhaustive; anything it adds is refused the same way.
        _ => ApiError::forbidden("certificate_unusable", e.to_string()),
    }
}

/// Verifies the signature headers of a request against the site.
async fn verify_signed(
    state: &AppState,
    sig: SignatureHeaders,
    method: &Method,
    path_and_query: &str,
    body: &[u8],
    principal: &str,
) -> Result<(), ApiError> {
    let thumbprint = sig.thumbprint.clone();
    let now = now();
    let der = state
        .pool
        .run(move |site| check_certificate(site, &thumbprint, now))
        .await?;
    signing::verify(
        &der,
        &sig,
        &SignedRequest {
            method: method.as_str(),
            path_and_query,
            body,
            principal,
        },
        now,
        state.max_clock_skew,
    )
    .map_err(signing_refusal)
}

pub(crate) fn path_and_query(req: &Request) -> String {
    let uri = req
        .extensions()
        .get::<OriginalUri>()
        .map_or(req.uri(), |o| &o.0);
    uri.path_and_query()
        .map_or_else(|| uri.path().to_string(), |p| p.as_str().to_string())
}

/// Middleware of the management point: the request must be signed by a usable certificate.
pub(crate) async fn require_signature(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let target = path_and_query(&req);
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, MAX_BODY).await.map_err(|_| {
        ApiError::client(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("request bodies are limited to {MAX_BODY} bytes"),
        )
    })?;
    let sig = signature_headers(&parts.headers)?.ok_or_else(|| {
        ApiError::client(
            StatusCode::UNAUTHORIZED,
            "unsigned",
            "requests to the management point must be signed with the media certificate",
        )
    })?;
    let principal = header(&parts.headers, PRINCIPAL_HEADER)?
        .unwrap_or("")
        .to_string();
    verify_signed(&state, sig, &parts.method, &target, &bytes, &principal).await?;
    Ok(next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await)
}

/// The distribution point's check before serving `content_id`: this DP holds it and the
/// principal may read it. Returns the principal.
pub(crate) async fn dp_access(
    state: &Arc<AppState>,
    req_headers: &HeaderMap,
    method: &Method,
    path_and_query: &str,
    content_id: &str,
) -> Result<String, ApiError> {
    let dp = state
        .dp_name
        .clone()
        .ok_or_else(|| ApiError::internal("distribution point role without a DP name"))?;
    let principal = header(req_headers, PRINCIPAL_HEADER)?
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .unwrap_or(ANONYMOUS)
        .to_string();
    if let Some(sig) = signature_headers(req_headers)? {
        verify_signed(state, sig, method, path_and_query, b"", &principal).await?;
    }
    let content_id = content_id.to_string();
    let who = principal.clone();
    state
        .pool
        .run(move |site| {
            if !site.has_dp_read_access(&dp, &who)? {
                return Err(ApiError::forbidden(
                    "no_read_access",
                    format!("{who} has no read access to distribution point {dp}"),
                ));
            }
            if !site.dps_holding(&content_id)?.iter().any(|d| d == &dp) {
                return Err(ApiError::not_found(
                    "content_not_here",
                    format!("distribution point {dp} does not hold content {content_id}"),
                ));
            }
            Ok(())
        })
        .await?;
    Ok(principal)
}
