//! Who may ask: signed requests from media, for the management point and the distribution
//! point alike, and read access per principal (distribution point).
//!
//! Every signed request carries the headers of [`tsmedia_protocol::signing`]; the certificate
//! must be registered at the site, not blocked and within its validity, the timestamp within
//! the allowed skew, the host signed the one this request was sent to, and the nonce new
//! within the window (the replay cache, [`crate::replay`]). Refusals are 401 `unsigned`
//! (headers missing) or 403 with the codes `certificate_unknown`, `certificate_blocked`,
//! `certificate_not_yet_valid`, `certificate_expired`, `bad_signature` (also for a request
//! signed for another host), `stale_request` and `replayed_request`.
//!
//! What the caller may do comes from the site's record of its certificate ([`Caller`]), made
//! when the media were built, never from what the request says: whether unknown computers
//! may run, and the principal a distribution point checks read access for. An unsigned DP
//! request is `Anonymous`; an `X-Tsmedia-Principal` header that names anyone else than the
//! principal the request authenticates as is refused (403 `principal_mismatch`, or
//! `principal_not_authenticated` when the request is not signed).

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use tsmedia_site::{Certificate, Site};

use crate::error::ApiError;
use crate::replay::Replay;
use crate::server::AppState;
use tsmedia_protocol::signing::{
    self, CERT_HEADER, NONCE_HEADER, PRINCIPAL_HEADER, SIGNATURE_HEADER, SignatureHeaders,
    SignedRequest, SigningError, TIME_HEADER,
};

/// Who signed a request, as the site recorded their media: put into the request's
/// extensions by the signature check, read by handlers.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// The media certificate's thumbprint.
    pub(crate) thumbprint: String,
    /// Whether these media may run unknown computers (the site's record).
    pub(crate) allow_unknown: bool,
    /// The principal distribution points check these media as (the site's record).
    pub(crate) principal: String,
}

/// Largest request body the management point reads (requests are small JSON documents).
pub const MAX_BODY: usize = 64 * 1024;

/// The principal of an unauthenticated DP request.
pub const ANONYMOUS: &str = "Anonymous";

/// Reads a request body of at most [`MAX_BODY`] bytes: 413 `body_too_large` over it, 408
/// `body_timeout` when it stops arriving (the router's body timeout).
pub(crate) async fn read_body(body: Body) -> Result<axum::body::Bytes, ApiError> {
    to_bytes(body, MAX_BODY).await.map_err(|e| {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(c) = cause {
            if c.is::<http_body_util::LengthLimitError>() {
                return ApiError::client(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    format!("request bodies are limited to {MAX_BODY} bytes"),
                );
            }
            cause = c.source();
        }
        ApiError::client(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!("the request body did not arrive in time: {e}"),
        )
    })
}

/// Middleware of every route: a request declaring a body over [`MAX_BODY`] is refused before
/// any of it is read.
pub(crate) async fn limit_body(req: Request, next: Next) -> Result<Response, ApiError> {
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(ApiError::client(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("request bodies are limited to {MAX_BODY} bytes"),
        ));
    }
    Ok(next.run(req).await)
}

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
    let nonce = header(headers, NONCE_HEADER)?;
    let sig = header(headers, SIGNATURE_HEADER)?;
    match (cert, time, nonce, sig) {
        (None, None, None, None) => Ok(None),
        (Some(cert), Some(time), Some(nonce), Some(sig)) => {
            let timestamp = time.trim().parse::<i64>().map_err(|_| {
                ApiError::bad_request("bad_header", format!("{TIME_HEADER} is not a number"))
            })?;
            Ok(Some(SignatureHeaders {
                thumbprint: cert.trim().to_string(),
                timestamp,
                nonce: nonce.trim().to_string(),
                signature: sig.trim().to_string(),
            }))
        }
        _ => Err(ApiError::bad_request(
            "bad_header",
            format!(
                "a signed request needs all of {CERT_HEADER}, {TIME_HEADER}, {NONCE_HEADER} and {SIGNATURE_HEADER}"
            ),
        )),
    }
}

/// Checks that a media certificate may be used now; returns its registered DER.
pub fn check_certificate(site: &Site, thumbprint: &str, now: i64) -> Result<Vec<u8>, ApiError> {
    Ok(usable_certificate(site, thumbprint, now)?.1)
}

/// The site's record of a certificate that may be used now, and its registered DER.
fn usable_certificate(
    site: &Site,
    thumbprint: &str,
    now: i64,
) -> Result<(Certificate, Vec<u8>), ApiError> {
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
    let der = site.certificate_der(&cert.id)?;
    Ok((cert, der))
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

/// The parts of a request its signature covers, as this server received them.
struct Received<'a> {
    method: &'a Method,
    host: &'a str,
    path_and_query: &'a str,
    body: &'a [u8],
    principal: &'a str,
}

/// Verifies the signature headers of a request against the site and records its nonce;
/// returns who signed it.
async fn verify_signed(
    state: &AppState,
    sig: SignatureHeaders,
    request: &Received<'_>,
) -> Result<Caller, ApiError> {
    let thumbprint = sig.thumbprint.clone();
    let now = now();
    let (cert, der) = state
        .pool
        .run(move |site| usable_certificate(site, &thumbprint, now))
        .await?;
    signing::verify(
        &der,
        &sig,
        &SignedRequest {
            method: request.method.as_str(),
            host: request.host,
            path_and_query: request.path_and_query,
            body: request.body,
            principal: request.principal,
        },
        now,
        state.max_clock_skew,
    )
    .map_err(|e| match e {
        // Tell a request signed for another server apart from a forged one: the signature
        // would verify with the host the client meant.
        SigningError::BadSignature if !request.host.is_empty() => {
            ApiError::forbidden("bad_signature", format!("{e} (for host {})", request.host))
        }
        e => signing_refusal(e),
    })?;
    state
        .replay
        .record(
            &cert.id,
            &sig.nonce,
            sig.timestamp + state.max_clock_skew,
            now,
        )
        .map_err(|r| match r {
            Replay::Seen => ApiError::forbidden(
                "replayed_request",
                format!(
                    "request nonce {} was already used: a replayed request is refused",
                    sig.nonce
                ),
            ),
            Replay::Full => ApiError::client(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "too many signed requests in the time window; try again later",
            ),
        })?;
    Ok(Caller {
        thumbprint: cert.id.clone(),
        allow_unknown: cert.allow_unknown,
        principal: cert.dp_principal().to_string(),
    })
}

/// The host a request was sent to: its `Host` header, or the authority of an HTTP/2 request.
fn request_host<'a>(headers: &'a HeaderMap, uri: &'a axum::http::Uri) -> &'a str {
    headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
        .unwrap_or("")
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
/// Handlers find the [`Caller`] in the request's extensions.
pub(crate) async fn require_signature(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let target = path_and_query(&req);
    let (mut parts, body) = req.into_parts();
    let bytes = read_body(body).await?;
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
    let caller = verify_signed(
        &state,
        sig,
        &Received {
            method: &parts.method,
            host: request_host(&parts.headers, &parts.uri),
            path_and_query: &target,
            body: &bytes,
            principal: &principal,
        },
    )
    .await?;
    parts.extensions.insert(caller);
    Ok(next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await)
}

/// The principal of a DP request: the site's record for the certificate that signed it, or
/// `Anonymous` when unsigned. A principal header naming someone else is refused.
async fn dp_principal(
    state: &Arc<AppState>,
    req_headers: &HeaderMap,
    uri: &axum::http::Uri,
    method: &Method,
    path_and_query: &str,
) -> Result<String, ApiError> {
    let claimed = header(req_headers, PRINCIPAL_HEADER)?
        .map(str::trim)
        .filter(|p| !p.is_empty());
    let Some(sig) = signature_headers(req_headers)? else {
        return match claimed {
            Some(c) if !c.eq_ignore_ascii_case(ANONYMOUS) => Err(ApiError::forbidden(
                "principal_not_authenticated",
                format!(
                    "{PRINCIPAL_HEADER} names {c}, but the request is not signed: a principal \
                     comes only from a request signed with a media certificate"
                ),
            )),
            _ => Ok(ANONYMOUS.to_string()),
        };
    };
    let caller = verify_signed(
        state,
        sig,
        &Received {
            method,
            host: request_host(req_headers, uri),
            path_and_query,
            body: b"",
            principal: claimed.unwrap_or(""),
        },
    )
    .await?;
    match claimed {
        Some(c) if !c.eq_ignore_ascii_case(&caller.principal) => Err(ApiError::forbidden(
            "principal_mismatch",
            format!(
                "{PRINCIPAL_HEADER} names {c}, but media certificate {} reads as {} (recorded \
                 at the site when the media were built)",
                caller.thumbprint, caller.principal
            ),
        )),
        _ => Ok(caller.principal),
    }
}

/// The distribution point's check before serving `content_id`: this DP holds it and the
/// principal may read it. Returns the principal.
pub(crate) async fn dp_access(
    state: &Arc<AppState>,
    req_headers: &HeaderMap,
    uri: &axum::http::Uri,
    method: &Method,
    path_and_query: &str,
    content_id: &str,
) -> Result<String, ApiError> {
    let dp = state
        .dp_name
        .clone()
        .ok_or_else(|| ApiError::internal("distribution point role without a DP name"))?;
    let principal = dp_principal(state, req_headers, uri, method, path_and_query).await?;
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
