//! The ingest routes of the `ingest` role: a request is validated as a single process would,
//! stamped with its arrival time, written to its monitor's partition of the events topic, and
//! answered 202 once the broker acknowledged the write. What the rows do to windows (late,
//! dropped, an idempotent replay) is decided by the engine that owns the monitor and counted in
//! its metrics.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::error::ApiError;
use super::request::{idempotency_key, ingest_permit, read_body};
use crate::check::report::unix_now;
use crate::cluster::ingest::{EventSink, Stored};
use crate::engine::model::MonitorModel;
use crate::engine::state::Event;

/// `POST /v1/monitors/{monitor}/rows` in the `ingest` role.
pub(super) async fn rows(
    state: AppState,
    sink: Arc<EventSink>,
    name: String,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let model = model(&state, &name)?;
    let key = idempotency_key(&headers)?;
    let _permit = ingest_permit(&state)?;
    let (bytes, format) = read_body(&state, &headers, body, true).await?;
    let record_key = sink.rows_key(&model, key.as_deref());
    let encode_key = record_key.clone();
    let (record, rows) = tokio::task::spawn_blocking(move || {
        let schema = &model.schema;
        let batch = schema.parse_as(format, &bytes);
        let batch = batch.map_err(|e| ApiError::batch(model.name(), e))?;
        let rows = batch.rows;
        let event = Event::Rows {
            time: unix_now(),
            key,
            columns: model.columns.clone(),
            batch,
        };
        Ok::<_, ApiError>((EventSink::encode(&model, &encode_key, event), rows))
    })
    .await
    .map_err(|e| ApiError::internal(&e))??;
    let stored = write(&sink, &record_key, "rows", record).await?;
    Ok(queued(json!({"queued_rows": rows}), stored))
}

/// `POST /v1/monitors/{monitor}/labels` in the `ingest` role.
pub(super) async fn labels(
    state: AppState,
    sink: Arc<EventSink>,
    name: String,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let model = model(&state, &name)?;
    if model.labelled.is_none() {
        return Err(ApiError::no_target(&name));
    }
    let _permit = ingest_permit(&state)?;
    let (bytes, _) = read_body(&state, &headers, body, false).await?;
    let (record, items) = tokio::task::spawn_blocking(move || {
        let items = crate::ingest::labels::parse_body(&bytes, model.limits.max_rows_per_request)
            .map_err(|e| ApiError::batch(model.name(), e))?;
        let count = items.len();
        let event = Event::Labels {
            time: unix_now(),
            items,
        };
        Ok::<_, ApiError>((EventSink::encode(&model, model.name(), event), count))
    })
    .await
    .map_err(|e| ApiError::internal(&e))??;
    let stored = write(&sink, &name, "labels", record).await?;
    Ok(queued(json!({"queued_labels": items}), stored))
}

fn model(state: &AppState, name: &str) -> Result<Arc<MonitorModel>, ApiError> {
    let catalog = &state.service.catalog;
    catalog
        .get(name)
        .cloned()
        .ok_or_else(|| ApiError::unknown_monitor(name, catalog.keys().map(String::as_str)))
}

async fn write(
    sink: &EventSink,
    name: &str,
    kind: &str,
    record: Vec<u8>,
) -> Result<Stored, ApiError> {
    sink.send(name, kind, record).await.map_err(|e| {
        tracing::error!(monitor = name, error = %e, "The broker did not take an event.");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "broker_unavailable",
            format!(
                "the events topic did not acknowledge the request ({e}); nothing was stored, retry"
            ),
        )
    })
}

/// 202 with where the event is: the engines apply it from there.
fn queued(mut body: serde_json::Value, stored: Stored) -> Response {
    body["partition"] = json!(stored.partition);
    body["offset"] = json!(stored.offset);
    (StatusCode::ACCEPTED, Json(body)).into_response()
}
