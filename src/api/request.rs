//! Reading an ingest request, shared by both ways of taking one (applied here, or written to
//! the events topic): the concurrency permit, the `Idempotency-Key`, and the body within the
//! size limit, decompressed.

use std::sync::Arc;

use axum::body::{Body, Bytes, HttpBody};
use axum::http::{HeaderMap, StatusCode, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tokio::sync::OwnedSemaphorePermit;

use super::AppState;
use super::error::ApiError;
use crate::ingest::encoding::{DecodeError, Encoding};
use crate::ingest::idempotency;
use crate::ingest::rows::BodyFormat;

/// Header a client sets to make an ingest retry safe.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

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

/// Checks the content type (`application/json`, or any [`BodyFormat`] when `rows`), reads the
/// body within `server.max_body_bytes` and decodes its `Content-Encoding` within the same
/// limit. Returns the body and its format.
pub(super) async fn read_body(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    rows: bool,
) -> Result<(Bytes, BodyFormat), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or("").trim();
    let format = BodyFormat::of_media_type(essence).filter(|f| rows || *f == BodyFormat::Json);
    let Some(format) = format else {
        let accepted = if rows {
            BodyFormat::MEDIA_TYPES
        } else {
            "application/json"
        };
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("Content-Type must be {accepted}, got {content_type:?}"),
        ));
    };
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
        return Ok((bytes, format));
    }
    let decoded = tokio::task::spawn_blocking(move || encoding.decode(&bytes, limit))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(decode_error)?;
    Ok((Bytes::from(decoded), format))
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
