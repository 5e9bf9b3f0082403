//! Errors of the service: the caller's faults become 4xx with a JSON body `{error, code}`;
//! everything else becomes an opaque 500 whose cause is logged, never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
pub use tsmedia_protocol::api::ErrorBody;

/// An error a handler returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The caller's fault: shown to the caller as is.
    #[error("{status} {code}: {message}")]
    Client {
        /// A 4xx status.
        status: StatusCode,
        /// Stable code.
        code: &'static str,
        /// Message for the caller (no paths, no internals).
        message: String,
    },
    /// Ours: logged, and the caller sees only "internal error".
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 400 Bad Request.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        Self::client(StatusCode::BAD_REQUEST, code, message)
    }

    /// A 403 Forbidden.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> ApiError {
        Self::client(StatusCode::FORBIDDEN, code, message)
    }

    /// A 404 Not Found.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> ApiError {
        Self::client(StatusCode::NOT_FOUND, code, message)
    }

    /// Any 4xx.
    pub fn client(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::Client {
            status,
            code,
            message: message.into(),
        }
    }

    /// A server-side failure; `cause` is logged only.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        ApiError::Internal(cause.to_string())
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Client { status, .. } => *status,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Site errors: a missing object or an invalid argument is the caller's fault; anything else
/// (database, I/O) is ours.
impl From<tsmedia_site::Error> for ApiError {
    fn from(e: tsmedia_site::Error) -> ApiError {
        match e {
            tsmedia_site::Error::NotFound { kind, id } => {
                ApiError::not_found("not_found", format!("{kind} {id} not found"))
            }
            tsmedia_site::Error::Invalid { what, reason } => {
                ApiError::bad_request("invalid", format!("invalid {what}: {reason}"))
            }
            other => ApiError::internal(tsmedia_base::error_chain(&other)),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match self {
            ApiError::Client { code, message, .. } => {
                tracing::info!(status = status.as_u16(), code, %message, "request refused");
                ErrorBody {
                    error: message,
                    code: code.to_string(),
                }
            }
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                ErrorBody {
                    error: "internal error".into(),
                    code: "internal".into(),
                }
            }
        };
        (status, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_errors_map_to_the_right_side() {
        let nf: ApiError = tsmedia_site::Error::NotFound {
            kind: "package",
            id: "PS100001".into(),
        }
        .into();
        assert_eq!(nf.status(), StatusCode::NOT_FOUND);
        let io: ApiError = tsmedia_site::Error::Io {
            path: "/secret/path".into(),
            source: std::io::Error::other("disk"),
        }
        .into();
        assert_eq!(io.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let resp = io.into_response();
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
