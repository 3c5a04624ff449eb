//! The HTTP API: ingest, results, health and `/metrics`.
//!
//! Every error is a JSON body `{"error": {"code", "message"}}` with a 4xx status; codes come from
//! a fixed set (see [`crate::metrics::REJECTION_CODES`]). A middleware records request count,
//! latency and body sizes per route template.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, HttpBody};
use axum::extract::{MatchedPath, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::json;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::batch::{BatchError, BatchErrorKind};
use crate::drift::ReferenceProfile;
use crate::evaluation::unix_now;
use crate::metrics::{Metrics, UNKNOWN_MONITOR_LABEL};
use crate::monitor::{LabelOutcome, Monitor};
use crate::setup::Service;

/// Shared state of all handlers.
#[derive(Debug, Clone)]
pub struct AppState {
    monitors: Arc<HashMap<String, Arc<Monitor>>>,
    ordered: Arc<Vec<Arc<Monitor>>>,
    metrics: Arc<Metrics>,
    max_body_bytes: usize,
}

impl AppState {
    /// State for a built service.
    pub fn new(service: &Service) -> Self {
        let monitors = service
            .monitors
            .iter()
            .map(|m| (m.name().to_owned(), Arc::clone(m)))
            .collect();
        Self {
            monitors: Arc::new(monitors),
            ordered: Arc::new(service.monitors.clone()),
            metrics: Arc::clone(&service.metrics),
            max_body_bytes: service.settings.server.max_body_bytes,
        }
    }
}

/// The router with all routes and middleware.
pub fn router(state: AppState, request_timeout: Duration) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/v1/monitors", get(list_monitors))
        .route("/v1/monitors/{monitor}", get(monitor_results))
        .route("/v1/monitors/{monitor}/rows", post(ingest_rows))
        .route("/v1/monitors/{monitor}/labels", post(ingest_labels))
        .fallback(not_found)
        // Later layers wrap earlier ones: the metrics middleware sits outside the timeout so
        // requests answered 408 are counted and timed too.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            request_timeout,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            record_http_metrics,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// A request-level error: status, fixed code, and a message naming what is wrong.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// References are loaded before the listener opens, so a serving process is ready; the body
/// lists what was loaded.
async fn readyz(State(state): State<AppState>) -> Json<serde_json::Value> {
    let monitors: Vec<_> = state
        .ordered
        .iter()
        .map(|m| json!({"name": m.name(), "reference_rows": m.reference_rows}))
        .collect();
    Json(json!({"status": "ready", "monitors": monitors}))
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)],
        state.metrics.render(),
    )
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such route; see README for the API",
    )
}

async fn list_monitors(State(state): State<AppState>) -> Json<serde_json::Value> {
    let monitors: Vec<_> = state.ordered.iter().map(|m| describe(m)).collect();
    Json(json!({"monitors": monitors}))
}

fn describe(m: &Monitor) -> serde_json::Value {
    let columns: Vec<_> = m
        .checks
        .iter()
        .map(|c| {
            let kind = match c.reference {
                ReferenceProfile::Numeric(_) => "numerical",
                ReferenceProfile::Categorical(_) => "categorical",
            };
            json!({"name": c.name, "role": c.role, "type": kind, "test": c.test, "threshold": c.threshold})
        })
        .collect();
    let window = &m.spec.window;
    json!({
        "name": m.name(),
        "reference": m.spec.reference,
        "reference_rows": m.reference_rows,
        "columns": columns,
        "id": m.spec.id,
        "timestamp": m.spec.timestamp,
        "window": {
            "kind": m.window.kind_name(),
            "rows": window.rows,
            "duration": window.duration,
            "step": match &window.step {
                Some(crate::config::StepSpec::Rows(n)) => json!(n),
                Some(crate::config::StepSpec::Duration(d)) => json!(d),
                None => serde_json::Value::Null,
            },
            "min_rows": window.min_rows,
            "max_rows": window.max_rows,
            "clock": if m.spec.timestamp.is_some() { "event_time" } else { "arrival_time" },
        },
        "drift_share": m.spec.drift_share,
        "labels": m.labelled.as_ref().map(|_| json!({
            "max_pending": m.spec.label_join.max_pending,
            "max_age_seconds": m.spec.label_join.max_age.as_secs_f64(),
        })),
        "alerting": {
            "severity": m.spec.alerting.severity,
            "team": m.spec.alerting.team,
            "labels": m.spec.alerting.labels,
            "for_windows": m.spec.alerting.for_windows,
            "no_data_after_seconds": m.spec.alerting.no_data_after.as_secs_f64(),
        },
    })
}

async fn monitor_results(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(find_monitor(&state, &name)?.results_json()))
}

fn find_monitor<'a>(state: &'a AppState, name: &str) -> Result<&'a Arc<Monitor>, ApiError> {
    state.monitors.get(name).ok_or_else(|| {
        let mut known: Vec<&str> = state.monitors.keys().map(String::as_str).collect();
        known.sort_unstable();
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_monitor",
            format!(
                "monitor {name:?} is not configured; known monitors: {}",
                known.join(", ")
            ),
        )
    })
}

async fn ingest_rows(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<serde_json::Value>, ApiError> {
    let result = ingest(&state, &name, &headers, body).await;
    count_rejection(&state, &name, result)
}

async fn ingest_labels(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<serde_json::Value>, ApiError> {
    let result = labels(&state, &name, &headers, body).await;
    count_rejection(&state, &name, result)
}

/// Counts a rejected request under its monitor (or [`UNKNOWN_MONITOR_LABEL`]) and error code.
fn count_rejection(
    state: &AppState,
    name: &str,
    result: Result<Json<serde_json::Value>, ApiError>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if let Err(e) = &result {
        let label = state
            .monitors
            .get(name)
            .map_or(UNKNOWN_MONITOR_LABEL, |m| m.name());
        state
            .metrics
            .requests_rejected
            .with_label_values(&[label, e.code])
            .inc();
    }
    result
}

/// Checks the content type and reads the body within `server.max_body_bytes`.
async fn read_json_body(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<axum::body::Bytes, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("Content-Type must be application/json, got {content_type:?}"),
        ));
    }
    let limit = state.max_body_bytes;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "request body exceeds server.max_body_bytes ({limit} bytes); send smaller batches"
            ),
        )
    };
    if body.size_hint().lower() > limit as u64 {
        return Err(too_large());
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Err(e) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("could not read the request body: {e}"),
        )),
    }
}

fn batch_error(name: &str, e: BatchError) -> ApiError {
    let (status, code) = match e.kind {
        BatchErrorKind::MalformedJson => (StatusCode::BAD_REQUEST, "malformed_json"),
        BatchErrorKind::InvalidBody => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
        BatchErrorKind::EmptyBatch => (StatusCode::UNPROCESSABLE_ENTITY, "empty_batch"),
        BatchErrorKind::RowNotObject => (StatusCode::UNPROCESSABLE_ENTITY, "row_not_object"),
        BatchErrorKind::InvalidTimestamp => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_timestamp"),
    };
    ApiError::new(status, code, format!("monitor {name:?}: {}", e.message))
}

fn internal(e: &tokio::task::JoinError) -> ApiError {
    tracing::error!(error = %e, "Request worker failed.");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "the request could not be processed",
    )
}

async fn ingest(
    state: &AppState,
    name: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<Json<serde_json::Value>, ApiError> {
    let monitor = find_monitor(state, name)?;
    let bytes = read_json_body(state, headers, body).await?;
    // Parsing a large body is CPU work: keep it off the async workers.
    let parser = Arc::clone(monitor);
    let parsed = tokio::task::spawn_blocking(move || parser.schema.parse(&bytes))
        .await
        .map_err(|e| internal(&e))?;
    let batch = parsed.map_err(|e| batch_error(name, e))?;
    let rows = batch.rows;
    let (windows, labelled) = monitor.ingest(batch, unix_now()).wait().await;
    Ok(Json(
        json!({"accepted": rows, "windows_evaluated": windows, "labelled_windows_evaluated": labelled}),
    ))
}

async fn labels(
    state: &AppState,
    name: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<Json<serde_json::Value>, ApiError> {
    let monitor = find_monitor(state, name)?;
    if monitor.labelled.is_none() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "no_target",
            format!(
                "monitor {name:?} has no `target` column in monitors.yaml, so it cannot take labels"
            ),
        ));
    }
    let bytes = read_json_body(state, headers, body).await?;
    let items = crate::labels::parse_body(&bytes).map_err(|e| batch_error(name, e))?;
    let joiner = Arc::clone(monitor);
    let (outcomes, published) =
        tokio::task::spawn_blocking(move || joiner.add_labels(&items, unix_now()))
            .await
            .map_err(|e| internal(&e))?;
    let (_, labelled) = published.wait().await;
    let count = |o: LabelOutcome| outcomes.iter().filter(|&&x| x == o).count();
    Ok(Json(json!({
        "received": outcomes.len(),
        "matched": count(LabelOutcome::Matched),
        "unmatched": outcomes.len() - count(LabelOutcome::Matched),
        "labelled_windows_evaluated": labelled,
        "outcomes": outcomes,
    })))
}

/// Records request count, latency and body sizes, labelled by route template (never the raw
/// path, whose monitor segment is user input).
async fn record_http_metrics(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
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
    response
}

/// Clock work for every monitor: closes time windows on the server clock (feature windows of
/// arrival-time monitors, all labelled windows) and expires predictions waiting for labels, so
/// a window is published within `interval` of its end even when no further rows arrive.
pub async fn run_ticker(monitors: Vec<Arc<Monitor>>, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let now = unix_now();
        for monitor in &monitors {
            // Published by the monitor's evaluator; nobody waits for it here.
            drop(monitor.tick(now));
        }
    }
}
