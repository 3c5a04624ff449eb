//! The routes. Each ingest request takes one of `server.max_concurrent_ingest` permits (or gets
//! 429), reads its body within `server.max_body_bytes`, and parses and applies it on a blocking
//! thread.

use std::path::Path as FsPath;
use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{Value, json};
use tokio::sync::OwnedSemaphorePermit;

use super::AppState;
use crate::config::Role;
use crate::engine::model::MonitorModel;
use super::error::ApiError;
use crate::check::report::unix_now;
use crate::engine::monitor::{Monitor, Refused};
use crate::ingest::encoding::{DecodeError, Encoding};
use crate::ingest::idempotency;
use crate::labelled::join::LabelOutcome;
use crate::reference::profile::ReferenceProfile;

/// Header a client sets to make an ingest retry safe.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Set on the response to a retried request that was not applied again.
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";

pub(super) async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// References are loaded before the listener opens, so a serving process is ready; the body
/// lists what was loaded.
pub(super) async fn readyz(State(state): State<AppState>) -> Json<Value> {
    let monitors: Vec<_> = models(&state)
        .iter()
        .map(|m| json!({"name": m.name(), "reference_rows": m.reference_rows}))
        .collect();
    Json(json!({"status": "ready", "role": state.role().as_str(), "monitors": monitors}))
}

/// The configured monitors' models: the running monitors' in `single`, the catalog in the
/// scale-out roles (an engine runs only the monitors it owns).
fn models(state: &AppState) -> Vec<Arc<MonitorModel>> {
    if state.role() == Role::Single {
        let monitors = state.service.monitors();
        monitors.ordered.iter().map(|m| Arc::clone(&m.model)).collect()
    } else {
        state.service.catalog.values().cloned().collect()
    }
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

pub(super) async fn list_monitors(State(state): State<AppState>) -> Json<Value> {
    let monitors: Vec<_> = models(&state)
        .iter()
        .map(|m| describe(m, &state.base_dir))
        .collect();
    Json(json!({"monitors": monitors}))
}

fn describe(m: &MonitorModel, base_dir: &FsPath) -> Value {
    let columns: Vec<_> = m
        .checks
        .iter()
        .map(|c| {
            let kind = match &*c.reference {
                ReferenceProfile::Numeric(_) => "numerical",
                ReferenceProfile::Categorical(_) => "categorical",
            };
            json!({"name": c.name, "role": c.role, "type": kind, "test": c.test, "threshold": c.threshold})
        })
        .collect();
    let window = &m.spec.window;
    json!({
        "name": m.name(),
        "reference_fingerprint": m.fingerprint,
        "reference": shown_path(&m.spec.reference, base_dir),
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
                None => Value::Null,
            },
            "min_rows": window.min_rows,
            "max_rows": window.max_rows(),
            "summary": match window.summary {
                crate::config::Summary::Exact => "exact",
                crate::config::Summary::Binned => "binned",
            },
            "fine_bins": (window.summary == crate::config::Summary::Binned).then(|| window.fine_bins()),
            "clock": if m.spec.timestamp.is_some() { "event_time" } else { "arrival_time" },
            "max_future_skew_seconds": m.spec.timestamp.as_ref().map(|_| window.max_future_skew()),
            "allowed_lateness_seconds": m.spec.timestamp.as_ref().map(|_| window.allowed_lateness()),
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

/// A reference path as clients may see it: relative to the config file, never the server's
/// absolute layout (an absolute path outside the config's directory shows its file name only).
fn shown_path(path: &FsPath, base_dir: &FsPath) -> String {
    if path.is_relative() {
        return path.display().to_string();
    }
    match path.strip_prefix(base_dir) {
        Ok(relative) if base_dir.is_absolute() => relative.display().to_string(),
        _ => path
            .file_name()
            .map_or_else(String::new, |f| f.to_string_lossy().into_owned()),
    }
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
    monitors.get(name).cloned().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_monitor",
            format!(
                "monitor {name:?} is not configured; known monitors: {}",
                monitors.names().join(", ")
            ),
        )
    })
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

/// One of the `server.max_concurrent_ingest` slots, or 429.
pub(super) fn ingest_permit(state: &AppState) -> Result<OwnedSemaphorePermit, ApiError> {
    Arc::clone(&state.ingest_permits)
        .try_acquire_owned()
        .map_err(|_| {
            ApiError::too_many(
                "too_many_requests",
                "server.max_concurrent_ingest ingest requests are already running; retry after \
                 the Retry-After seconds",
                1,
            )
        })
}

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

/// The request's `Idempotency-Key`, if any; 400 when it is not 1–128 visible ASCII characters.
pub(super) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    if idempotency::valid_key(value.as_bytes()) {
        Ok(Some(String::from_utf8_lossy(value.as_bytes()).into_owned()))
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_idempotency_key",
            format!(
                "Idempotency-Key must be 1-{} visible ASCII characters",
                idempotency::MAX_KEY_BYTES
            ),
        ))
    }
}

/// Checks the content type (`application/json`, or also `application/x-ndjson` when
/// `ndjson`), reads the body within `server.max_body_bytes` and decodes its
/// `Content-Encoding` within the same limit. Returns the body and whether it is NDJSON.
pub(super) async fn read_json_body(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    ndjson: bool,
) -> Result<(Bytes, bool), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or("").trim();
    let is_ndjson = ndjson && essence.eq_ignore_ascii_case("application/x-ndjson");
    if !is_ndjson && !essence.eq_ignore_ascii_case("application/json") {
        let accepted = if ndjson {
            "application/json or application/x-ndjson"
        } else {
            "application/json"
        };
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("Content-Type must be {accepted}, got {content_type:?}"),
        ));
    }
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let encoding = Encoding::from_header(encoding.as_deref()).map_err(decode_error)?;
    let limit = state.max_body_bytes;
    let too_large = || decode_error(DecodeError::TooLarge(limit));
    if body.size_hint().lower() > limit as u64 {
        return Err(too_large());
    }
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => return Err(too_large()),
        Err(e) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "body_read_failed",
                format!("could not read the request body: {e}"),
            ));
        }
    };
    if encoding == Encoding::Identity {
        return Ok((bytes, is_ndjson));
    }
    let decoded = tokio::task::spawn_blocking(move || encoding.decode(&bytes, limit))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(decode_error)?;
    Ok((Bytes::from(decoded), is_ndjson))
}

fn decode_error(e: DecodeError) -> ApiError {
    let (status, code) = match e {
        DecodeError::Unsupported(_) => {
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
        }
        DecodeError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        DecodeError::Corrupt { .. } => (StatusCode::BAD_REQUEST, "body_read_failed"),
    };
    let message = match e {
        DecodeError::TooLarge(limit) => format!(
            "request body exceeds server.max_body_bytes ({limit} bytes, after decompression); send smaller batches"
        ),
        e => e.to_string(),
    };
    ApiError::new(status, code, message)
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
    let (bytes, ndjson) = read_json_body(&state, &headers, body, true).await?;
    // Parsing and appending are CPU work under the monitor's lock: keep them off the async
    // workers.
    let worker = state.clone();
    let target = name.clone();
    let ingested = tokio::task::spawn_blocking(move || {
        with_monitor(&worker, &target, |monitor| {
            let schema = &monitor.model.schema;
            let batch = if ndjson {
                schema.parse_ndjson(&bytes)
            } else {
                schema.parse(&bytes)
            };
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
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "no_target",
            format!(
                "monitor {name:?} has no `target` column in monitors.yaml, so it cannot take labels"
            ),
        ));
    }
    let _permit = ingest_permit(&state)?;
    let (bytes, _) = read_json_body(&state, &headers, body, false).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_paths_never_show_the_server_layout() {
        let base = FsPath::new("/srv/app");
        assert_eq!(shown_path(FsPath::new("ref/a.csv"), base), "ref/a.csv");
        assert_eq!(
            shown_path(FsPath::new("/srv/app/ref/a.csv"), base),
            "ref/a.csv"
        );
        assert_eq!(shown_path(FsPath::new("/data/secret/a.csv"), base), "a.csv");
    }
}
