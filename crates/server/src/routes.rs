//! HTTP handlers: parse, call [`crate::mp`] or the site, answer. Nothing else.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};
use tokio_util::io::ReaderStream;

use crate::auth::{Caller, dp_access};
use crate::error::ApiError;
use crate::identified;
use crate::mp;
use crate::range::{self, RangeAnswer};
use crate::server::AppState;
use tsmedia_protocol::api::{
    ContentLocations, DeploymentList, DeploymentsRequest, Identity, IdentityRequest, Manifest,
    ManifestFile, MpLocation, Policy, PolicyRequest,
};

/// Read buffer of file responses.
const CHUNK: usize = 256 * 1024;

type AppResult<T> = Result<Json<T>, ApiError>;

/// A JSON body; a malformed one is a 400 `malformed_json` with serde's message.
fn json<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("malformed_json", format!("request body: {e}")))
}

pub(crate) async fn location(
    State(state): State<Arc<AppState>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    RawQuery(query): RawQuery,
) -> AppResult<MpLocation> {
    let asked = query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("ip="));
    let ip: IpAddr = match (asked, peer) {
        (Some(ip), _) => ip
            .parse()
            .map_err(|_| ApiError::bad_request("bad_ip", format!("{ip:?} is not an IP address")))?,
        (None, Some(Extension(ConnectInfo(addr)))) => addr.ip(),
        (None, None) => {
            return Err(ApiError::bad_request(
                "bad_ip",
                "no client address: pass ?ip=",
            ));
        }
    };
    Ok(Json(
        state.pool.run(move |site| mp::locate(site, ip)).await?,
    ))
}

pub(crate) async fn identity(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> AppResult<Identity> {
    let req: IdentityRequest = json(&body)?;
    let allow_unknown = caller.allow_unknown;
    let mut identity = state
        .pool
        .run(move |site| mp::identify(site, &req, allow_unknown))
        .await?;
    identified::issue(state.site_signer()?, &caller, &mut identity);
    Ok(Json(identity))
}

pub(crate) async fn deployments(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> AppResult<DeploymentList> {
    let req: DeploymentsRequest = json(&body)?;
    identified::check(
        state.site_signer()?,
        &caller,
        &req.identity_token,
        req.resource_id,
    )?;
    Ok(Json(
        state
            .pool
            .run(move |site| mp::deployments(site, &req))
            .await?,
    ))
}

pub(crate) async fn policy(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> AppResult<Policy> {
    let req: PolicyRequest = json(&body)?;
    identified::check(
        state.site_signer()?,
        &caller,
        &req.identity_token,
        req.resource_id,
    )?;
    let recipient_key = req.recipient_key.clone();
    let mut policy = state.pool.run(move |site| mp::policy(site, &req)).await?;
    identified::seal_secrets(&mut policy, recipient_key.as_deref())?;
    Ok(Json(policy))
}

pub(crate) async fn content_locations(
    State(state): State<Arc<AppState>>,
    Path(content_id): Path<String>,
) -> AppResult<ContentLocations> {
    let pool = Arc::clone(&state.pool);
    Ok(Json(
        state
            .pool
            .run(move |site| {
                let mut answer = mp::content_locations(site, &content_id)?;
                // The files the site recorded: the hashes media check downloads against,
                // inside this signed answer.
                answer.files = pool
                    .manifest(site, &answer.content_id)?
                    .iter()
                    .map(|f| ManifestFile {
                        path: f.path.clone(),
                        size: f.size,
                        sha256: f.hash.clone(),
                    })
                    .collect();
                Ok(answer)
            })
            .await?,
    ))
}

fn target(uri: &OriginalUri) -> String {
    uri.0
        .path_and_query()
        .map_or_else(|| uri.0.path().to_string(), |p| p.as_str().to_string())
}

pub(crate) async fn manifest(
    State(state): State<Arc<AppState>>,
    Path(content_id): Path<String>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
) -> AppResult<Manifest> {
    let content_id = content_id.trim().to_ascii_uppercase();
    dp_access(
        &state,
        &headers,
        &uri.0,
        &method,
        &target(&uri),
        &content_id,
    )
    .await?;
    let pool = Arc::clone(&state.pool);
    let id = content_id.clone();
    let files = state.pool.run(move |site| pool.manifest(site, &id)).await?;
    Ok(Json(Manifest {
        content_id,
        files: files
            .iter()
            .map(|f| ManifestFile {
                path: f.path.clone(),
                size: f.size,
                sha256: f.hash.clone(),
            })
            .collect(),
    }))
}

pub(crate) async fn file(
    State(state): State<Arc<AppState>>,
    Path((content_id, path)): Path<(String, String)>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let content_id = content_id.trim().to_ascii_uppercase();
    dp_access(
        &state,
        &headers,
        &uri.0,
        &method,
        &target(&uri),
        &content_id,
    )
    .await?;
    let pool = Arc::clone(&state.pool);
    let id = content_id.clone();
    let files = state.pool.run(move |site| pool.manifest(site, &id)).await?;
    let entry = files.iter().find(|f| f.path == path).ok_or_else(|| {
        ApiError::not_found(
            "file_not_found",
            format!("content {content_id} has no file {path:?}"),
        )
    })?;
    let range_header = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let answer = range::parse(range_header, entry.size);
    let (status, start, len) = match answer {
        RangeAnswer::Full => (StatusCode::OK, 0, entry.size),
        RangeAnswer::Partial { start, end } => {
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        RangeAnswer::Unsatisfiable => {
            let mut resp = ApiError::client(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range_not_satisfiable",
                format!("{path} has {} bytes", entry.size),
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{}", entry.size)) {
                resp.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return Ok(resp);
        }
    };
    // Only a regular file is served: a symbolic link or FIFO planted in the library is
    // refused without being followed or blocking (issue #15, L6).
    let library_path = entry.library_path.clone();
    let opened = tokio::task::spawn_blocking(move || tsmedia_base::open_regular(&library_path))
        .await
        .map_err(|e| ApiError::internal(format!("opening a library file: {e}")))?;
    let mut file = tokio::fs::File::from_std(
        opened.map_err(|e| ApiError::internal(format!("{}: {e}", entry.library_path.display())))?,
    );
    let actual = file
        .metadata()
        .await
        .map_err(|e| ApiError::internal(format!("{}: {e}", entry.library_path.display())))?
        .len();
    if actual != entry.size {
        return Err(ApiError::internal(format!(
            "{} is {actual} bytes, its manifest says {}",
            entry.library_path.display(),
            entry.size
        )));
    }
    if start > 0 {
        file.seek(std::io::SeekFrom::Start(start))
            .await
            .map_err(|e| ApiError::internal(format!("{}: {e}", entry.library_path.display())))?;
    }
    let stream = ReaderStream::with_capacity(file.take(len), CHUNK);
    let mut resp = Response::new(Body::from_stream(stream));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", entry.hash)) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&entry.hash) {
        h.insert("x-tsmedia-sha256", v);
    }
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(v) =
            HeaderValue::from_str(&format!("bytes {start}-{}/{}", start + len - 1, entry.size))
    {
        h.insert(header::CONTENT_RANGE, v);
    }
    Ok(resp)
}

pub(crate) async fn not_found(uri: OriginalUri) -> ApiError {
    ApiError::not_found("no_such_endpoint", format!("no endpoint {}", uri.0.path()))
}

pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::client(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed here",
    )
}
