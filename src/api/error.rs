//! Every error response: `{"error": {"code", "message"}}` with a 4xx/5xx status.
//!
//! The code travels with the response as an extension, so the metrics middleware counts every
//! rejection — including those made by middleware (auth, limits, timeouts) and fallbacks — in
//! `driftscope_requests_rejected_total{monitor, code}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::ingest::error::{BatchError, BatchErrorKind};
use crate::service::auth::Denied;

/// A request-level error: status, fixed code, and a message naming what is wrong.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// Seconds for `Retry-After` (429).
    retry_after: Option<u32>,
}

/// The code of an error response, read by the metrics middleware.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCode(pub &'static str);

impl ApiError {
    /// An error with `status` and a code from [`crate::export::metrics::REJECTION_CODES`].
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 429: the client should retry after `seconds`.
    pub fn too_many(code: &'static str, message: impl Into<String>, seconds: u32) -> Self {
        Self {
            retry_after: Some(seconds),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, code, message)
        }
    }

    /// 401 / 403 for an authentication failure.
    pub fn denied(denied: Denied, scope: &str) -> Self {
        match denied {
            Denied::Missing => Self::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                format!(
                    "send `Authorization: Bearer <token>` with a token that has scope {scope:?}"
                ),
            ),
            Denied::Invalid => Self::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "the bearer token is not valid",
            ),
            Denied::Forbidden => Self::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("the token lacks scope {scope:?}"),
            ),
        }
    }

    /// 404 `unknown_monitor`: `name` is not configured; the message lists `known`.
    pub fn unknown_monitor<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Self {
        let known: Vec<&str> = known.into_iter().collect();
        Self::new(
            StatusCode::NOT_FOUND,
            "unknown_monitor",
            format!(
                "monitor {name:?} is not configured; known monitors: {}",
                known.join(", ")
            ),
        )
    }

    /// 422 `no_target`: labels for monitor `name`, which has no target column.
    pub fn no_target(name: &str) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "no_target",
            format!(
                "monitor {name:?} has no `target` column in monitors.yaml, so it cannot take labels"
            ),
        )
    }

    /// A parser error for `monitor`'s request.
    pub fn batch(monitor: &str, e: BatchError) -> Self {
        let (status, code) = match e.kind {
            BatchErrorKind::MalformedJson => (StatusCode::BAD_REQUEST, "malformed_json"),
            BatchErrorKind::InvalidBody => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
            BatchErrorKind::EmptyBatch => (StatusCode::UNPROCESSABLE_ENTITY, "empty_batch"),
            BatchErrorKind::RowNotObject => (StatusCode::UNPROCESSABLE_ENTITY, "row_not_object"),
            BatchErrorKind::InvalidTimestamp => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid_timestamp")
            }
            BatchErrorKind::TooManyRows => (StatusCode::PAYLOAD_TOO_LARGE, "too_many_rows"),
        };
        Self::new(status, code, format!("monitor {monitor:?}: {}", e.message))
    }

    /// 500 for a worker that failed (a bug); logged.
    pub fn internal(e: &tokio::task::JoinError) -> Self {
        tracing::error!(error = %e, "Request worker failed.");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the request could not be processed",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"driftscope\""),
            );
        }
        // Most errors are answered before the request body is read; closing the connection keeps
        // a client from sending its next request behind an unread body.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        response.extensions_mut().insert(ErrorCode(self.code));
        response
    }
}
