//! The routes. Each ingest request takes one of `server.max_concurrent_ingest` permits (or gets
//! 429), reads its body within `server.max_body_bytes`, and parses and applies it on a blocking
//! thread.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;
use super::request::{idempotency_key, ingest_permit, read_body};
use crate::check::report::unix_now;
use crate::config::Role;
use crate::engine::monitor::{Monitor, Refused};
use crate::labelled::join::LabelOutcome;

/// Set on the response to a retried request that was not applied again.
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";

pub(super) async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

pub(super) async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let metrics = Arc::clone(&state.metrics);
    let text = tokio::task::spawn_blocking(move || metrics.render())
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(([(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)], text).into_response())
}

/// The OpenAPI 3.1 document of this API (`docs/openapi.json`), embedded at compile time.
pub const OPENAPI_DOCUMENT: &str = include_str!("../../docs/openapi.json");

/// `GET /openapi.json`: scope `read` with authentication on, like the monitor list.
pub(super) async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        OPENAPI_DOCUMENT,
    )
        .into_response()
}

pub(super) async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such route; see README for the API",
    )
}

pub(super) async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method: POST rows and labels, GET everything else",
    )
}

pub(super) async fn monitor_results(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let monitor = find_monitor(&state, &monitor_name(path)?)?;
    tokio::task::spawn_blocking(move || Json(monitor.results_json()))
        .await
        .map_err(|e| ApiError::internal(&e))
}

/// The `{monitor}` path segment, or a JSON 400 (e.g. percent-encoded bytes that are not UTF-8).
pub(super) fn monitor_name(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(name)| name).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_path",
            format!(
                "cannot read the monitor name in the path: {}",
                e.body_text()
            ),
        )
    })
}

pub(super) fn find_monitor(state: &AppState, name: &str) -> Result<Arc<Monitor>, ApiError> {
    let monitors = state.service.monitors();
    if monitors.get(name).is_none() && state.service.catalog.contains_key(name) {
        let holder = match state.role() {
            Role::Ingest => "the engines",
            _ => "another engine",
        };
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_owned",
            format!(
                "monitor {name:?} is configured, but its windows are kept by {holder}; ask the \
                 engine that owns it (driftscope_kafka_monitors_owned, or its /v1/monitors/{name})"
            ),
        ));
    }
    monitors
        .get(name)
        .cloned()
        .ok_or_else(|| ApiError::unknown_monitor(name, monitors.names()))
}

/// An engine takes rows and labels only from the events topic: 409 for a request.
fn refuse_in_engine(state: &AppState) -> Result<(), ApiError> {
    if state.role() == Role::Engine {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "wrong_role",
            "this process runs server.role engine and reads rows and labels from the events \
             topic; send them to an ingest process",
        ));
    }
    Ok(())
}

/// Runs `work` against monitor `name`, again against its successor when a reload replaced
/// it meanwhile (for at most [`RELOAD_WAIT`]).
fn with_monitor<T>(
    state: &AppState,
    name: &str,
    mut work: impl FnMut(&Monitor) -> Result<Result<T, Refused>, ApiError>,
) -> Result<T, ApiError> {
    let deadline = std::time::Instant::now() + RELOAD_WAIT;
    loop {
        let monitor = find_monitor(state, name)?;
        match work(&monitor)? {
            Ok(done) => return Ok(done),
            Err(Refused::Retired) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Err(refused) => return Err(refusal(name, refused)),
        }
    }
}

/// How long a request waits for a reload to install a monitor's successor.
const RELOAD_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

fn refusal(name: &str, refused: Refused) -> ApiError {
    match refused {
        Refused::Backlog { queued } => ApiError::too_many(
            "evaluation_backlog",
            format!(
                "monitor {name:?} has {queued} windows waiting for evaluation \
                 (server.max_queued_windows); retry after the Retry-After seconds"
            ),
            1,
        ),
        Refused::Storage(e) => {
            tracing::error!(monitor = name, error = %e, "Cannot write the state log.");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "state_write_failed",
                format!(
                    "monitor {name:?} could not log the request to server.state_dir: {e}; nothing was applied, retry"
                ),
            )
        }
        Refused::Retired => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "reloading",
            format!("monitor {name:?} is being reloaded; retry"),
        ),
    }
}

pub(super) async fn ingest_rows(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let name = monitor_name(path)?;
    if let Some(sink) = state.sink.clone() {
        return super::produce::rows(state, sink, name, headers, body).await;
    }
    refuse_in_engine(&state)?;
    find_monitor(&state, &name)?;
    let key = idempotency_key(&headers)?;
    let _permit = ingest_permit(&state)?;
    let (bytes, format) = read_body(&state, &headers, body, true).await?;
    // Parsing and appending are CPU work under the monitor's lock: keep them off the async
    // workers.
    let worker = state.clone();
    let target = name.clone();
    let ingested = tokio::task::spawn_blocking(move || {
        with_monitor(&worker, &target, |monitor| {
            let schema = &monitor.model.schema;
            let batch = schema.parse_as(format, &bytes);
            let batch = batch.map_err(|e| ApiError::batch(&target, e))?;
            Ok(monitor.ingest(batch, unix_now(), key.clone()))
        })
    })
    .await
    .map_err(|e| ApiError::internal(&e))??;
    let (windows, labelled) = ingested.published.wait().await;
    let body = json!({
        "accepted": ingested.ack.accepted,
        "dropped": ingested.ack.dropped,
        "windows_evaluated": windows,
        "labelled_windows_evaluated": labelled,
        "replayed": ingested.replayed,
    });
    let mut response = Json(body).into_response();
    if ingested.replayed {
        response
            .headers_mut()
            .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    }
    Ok(response)
}

pub(super) async fn ingest_labels(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let name = monitor_name(path)?;
    if let Some(sink) = state.sink.clone() {
        return super::produce::labels(state, sink, name, headers, body).await;
    }
    refuse_in_engine(&state)?;
    let monitor = find_monitor(&state, &name)?;
    if monitor.model.labelled.is_none() {
        return Err(ApiError::no_target(&name));
    }
    let _permit = ingest_permit(&state)?;
    let (bytes, _) = read_body(&state, &headers, body, false).await?;
    let max_items = monitor.model.limits.max_rows_per_request;
    let worker = state.clone();
    let target = name.clone();
    let (outcomes, published) = tokio::task::spawn_blocking(move || {
        let items = crate::ingest::labels::parse_body(&bytes, max_items)
            .map_err(|e| ApiError::batch(&target, e))?;
        with_monitor(&worker, &target, |monitor| {
            Ok(monitor.add_labels(items.clone(), unix_now()))
        })
    })
    .await
    .map_err(|e| ApiError::internal(&e))??;
    let (_, labelled) = published.wait().await;
    let count = |o: LabelOutcome| outcomes.iter().filter(|&&x| x == o).count();
    Ok(Json(json!({
        "received": outcomes.len(),
        "matched": count(LabelOutcome::Matched),
        "unmatched": outcomes.len() - count(LabelOutcome::Matched),
        "labelled_windows_evaluated": labelled,
        "outcomes": outcomes,
    }))
    .into_response())
}

/// `POST /-/reload`: re-reads the config file; 200 with what changed, or 422 with every
/// problem while the old config keeps serving.
pub(super) async fn reload(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let service = Arc::clone(&state.service);
    let outcome = tokio::task::spawn_blocking(move || service.reload())
        .await
        .map_err(|e| ApiError::internal(&e))?;
    match outcome {
        Ok(report) => Ok(Json(json!({"status": "reloaded", "changes": report}))),
        Err(problems) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_config",
            problems
                .iter()
                .map(|p| format!("{}: {}", p.path, p.message))
                .collect::<Vec<_>>()
                .join("; "),
        )),
    }
}
