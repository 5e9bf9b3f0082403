//! Signing the management point's answers with the site key (`tsmedia_protocol::reply`), so
//! media trust an answer for what signed it, not for the address it came from.
//!
//! A middleware around every MP route, outermost: it keeps the request's method, target, body
//! and nonce, lets the handler (and the request signature check) answer, then signs the whole
//! answer, refusals included, and adds the signature header.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tsmedia_protocol::reply::{NONCE_HEADER, ReplySigner, SIGNATURE_HEADER, SignedReply};

use crate::auth::{path_and_query, read_body};
use crate::error::ApiError;

/// Largest answer signed (a task sequence policy with its XML is well under this; the
/// client reads at most as much).
const MAX_REPLY: usize = 16 * 1024 * 1024;

/// Middleware of the management point: signs each answer with the site key.
pub(crate) async fn sign_replies(
    State(signer): State<Arc<ReplySigner>>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let target = path_and_query(&req);
    let (parts, body) = req.into_parts();
    let request_body = read_body(body).await?;
    let method = parts.method.clone();
    let nonce = parts
        .headers
        .get(NONCE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let resp = next
        .run(Request::from_parts(parts, Body::from(request_body.clone())))
        .await;
    let (mut parts, body) = resp.into_parts();
    let answer = to_bytes(body, MAX_REPLY)
        .await
        .map_err(|e| ApiError::internal(format!("reading the answer to sign: {e}")))?;
    let signature = signer.sign(&SignedReply {
        method: method.as_str(),
        path_and_query: &target,
        request_body: &request_body,
        nonce: &nonce,
        status: parts.status.as_u16(),
        body: &answer,
    });
    let value = HeaderValue::from_str(&signature)
        .map_err(|e| ApiError::internal(format!("signature header: {e}")))?;
    parts.headers.insert(SIGNATURE_HEADER, value);
    Ok(Response::from_parts(parts, Body::from(answer)))
}
