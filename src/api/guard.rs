//! Middleware that runs before any handler: request metrics and rejection counting, limits on
//! the request line and headers, bearer-token authentication and the request timeout.

use std::time::Instant;

use axum::body::HttpBody;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::{ApiError, ErrorCode};
use crate::config::Scope;
use crate::export::metrics::{NO_MONITOR_LABEL, UNKNOWN_MONITOR_LABEL};

/// Longest request target (path and query). hyper itself answers 414 without a body only above
/// 64 KiB; below that the client gets this limit's JSON error.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// Most request headers; hyper's own (body-less 431) limit is 100.
pub const MAX_HEADERS: usize = 64;

/// Most bytes of header names and values together.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// Records request count, latency and body sizes, labelled by route template (never the raw
/// path, whose monitor segment is user input), and counts every error response under its code.
pub async fn record_http_metrics(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let monitor = monitor_label(&state, request.uri().path());
    let request_size = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        .unwrap_or_else(|| request.body().size_hint().lower());
    let started = Instant::now();
    let response = next.run(request).await;
    let m = &state.metrics;
    m.http_duration
        .with_label_values(&[&route])
        .observe(started.elapsed().as_secs_f64());
    m.http_requests
        .with_label_values(&[route.as_str(), response.status().as_str()])
        .inc();
    m.http_request_size
        .with_label_values(&[&route])
        .observe(request_size as f64);
    let response_size = response
        .body()
        .size_hint()
        .exact()
        .unwrap_or_else(|| response.body().size_hint().lower());
    m.http_response_size
        .with_label_values(&[&route])
        .observe(response_size as f64);
    if let Some(ErrorCode(code)) = response.extensions().get::<ErrorCode>() {
        m.requests_rejected
            .with_label_values(&[monitor.as_str(), code])
            .inc();
    }
    response
}

/// The `monitor` label of a request: a configured monitor's name, [`UNKNOWN_MONITOR_LABEL`] for
/// any other name (bounded cardinality), [`NO_MONITOR_LABEL`] outside `/v1/monitors/{name}`.
fn monitor_label(state: &AppState, path: &str) -> String {
    match path
        .strip_prefix("/v1/monitors/")
        .or_else(|| path.strip_prefix("/ui/monitors/"))
        .and_then(|rest| rest.split('/').next())
    {
        Some(name) if state.service.monitors().get(name).is_some() => name.to_owned(),
        Some(_) => UNKNOWN_MONITOR_LABEL.to_owned(),
        None => NO_MONITOR_LABEL.to_owned(),
    }
}

/// Refuses oversized request lines (414) and header sections (431) with a JSON body.
pub async fn request_limits(request: Request, next: Next) -> Response {
    // Measured without formatting the URI: this runs on every request.
    let uri = request.uri();
    let uri_bytes = uri.authority().map_or(0, |a| a.as_str().len())
        + uri.path_and_query().map_or(0, |p| p.as_str().len());
    if uri_bytes > MAX_URI_BYTES {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("the request target is {uri_bytes} bytes; at most {MAX_URI_BYTES}"),
        )
        .into_response();
    }
    let headers = request.headers();
    let header_bytes: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len())
        .sum();
    if headers.len() > MAX_HEADERS || header_bytes > MAX_HEADER_BYTES {
        return ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            format!(
                "{} headers, {header_bytes} bytes; at most {MAX_HEADERS} headers and \
                 {MAX_HEADER_BYTES} bytes",
                headers.len()
            ),
        )
        .into_response();
    }
    next.run(request).await
}

/// With `server.auth` set, every route but `/healthz` and `/readyz` needs a bearer token:
/// scope `ingest` to POST rows or labels, `read` for everything else.
pub async fn authenticate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(auth) = &state.auth else {
        return next.run(request).await;
    };
    let path = request.uri().path();
    if matches!(path, "/healthz" | "/readyz") {
        return next.run(request).await;
    }
    let post = request.method() == Method::POST;
    let scope = if post && path.starts_with("/-/") {
        Scope::Admin
    } else if post && (path.ends_with("/rows") || path.ends_with("/labels")) {
        Scope::Ingest
    } else {
        Scope::Read
    };
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.as_bytes());
    match auth.authorize(presented, scope) {
        Ok(_) => next.run(request).await,
        Err(denied) => ApiError::denied(denied, scope.as_str()).into_response(),
    }
}

/// Answers 408 when a request (reading its body, ingest, waiting for its windows) takes longer
/// than `server.request_timeout`. Work already handed to a blocking thread still completes, so
/// a client that retries an ingest after 408 should send the same `Idempotency-Key`.
pub async fn timeout(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limit = state.request_timeout;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            format!(
                "the request took longer than server.request_timeout ({})",
                humantime::format_duration(limit)
            ),
        )
        .into_response(),
    }
}
