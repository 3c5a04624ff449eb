//! The HTTP API: ingest, results, health and `/metrics`.
//!
//! - [`error`]: the one JSON error shape, and the code every rejection is counted under;
//! - [`guard`]: middleware that runs before any handler: request metrics, size limits on the
//!   request line and headers, authentication, the request timeout;
//! - `describe`: what is configured (`/readyz`, the monitor list);
//! - [`handlers`]: the other routes;
//! - `produce`: the ingest routes of the `ingest` role, which write to the events topic;
//! - `request`: reading an ingest request (permit, idempotency key, body within its limit);
//! - [`ui`]: the HTML report page of a monitor.
//!
//! Handlers never hold a lock or do CPU work on the async workers: parsing, ingest, label
//! joins, results and `/metrics` rendering run on blocking threads.

mod describe;
pub mod error;
pub mod guard;
pub mod handlers;
mod produce;
mod request;
pub mod server;
pub mod ui;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::middleware;
use axum::routing::{get, post};
use tokio::sync::Semaphore;
use tower_http::trace::TraceLayer;

use crate::cluster::ingest::EventSink;
use crate::config::Role;
use crate::export::metrics::Metrics;
use crate::service::Service;
use crate::service::auth::Auth;

/// Shared state of all handlers.
#[derive(Debug, Clone)]
pub struct AppState {
    service: Arc<Service>,
    metrics: Arc<Metrics>,
    max_body_bytes: usize,
    /// Ingest requests running at once (`server.max_concurrent_ingest`).
    ingest_permits: Arc<Semaphore>,
    request_timeout: Duration,
    auth: Option<Arc<Auth>>,
    /// The config file's directory: reference paths are shown relative to it.
    base_dir: PathBuf,
    /// In the `ingest` role: where accepted requests go instead of a local monitor.
    sink: Option<Arc<EventSink>>,
}

impl AppState {
    /// State for a built service.
    pub fn new(service: &Arc<Service>) -> Self {
        let server = &service.settings.server;
        Self {
            service: Arc::clone(service),
            metrics: Arc::clone(&service.metrics),
            max_body_bytes: server.max_body_bytes,
            ingest_permits: Arc::new(Semaphore::new(server.max_concurrent_ingest)),
            request_timeout: server.request_timeout,
            auth: service.auth.clone(),
            base_dir: service.settings.base_dir.clone(),
            sink: None,
        }
    }

    /// State for the `ingest` role: requests are written to the events topic through `sink`.
    pub fn with_sink(service: &Arc<Service>, sink: Arc<EventSink>) -> Self {
        Self {
            sink: Some(sink),
            ..Self::new(service)
        }
    }

    /// What this process does.
    fn role(&self) -> Role {
        self.service.settings.server.role
    }
}

/// The router with all routes and middleware.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(handlers::healthz))
        .route("/readyz", get(describe::readyz))
        .route("/metrics", get(handlers::metrics))
        .route("/-/reload", post(handlers::reload))
        .route("/openapi.json", get(handlers::openapi))
        .route("/v1/monitors", get(describe::list_monitors))
        .route("/v1/monitors/{monitor}", get(handlers::monitor_results))
        .route("/v1/monitors/{monitor}/rows", post(handlers::ingest_rows))
        .route(
            "/v1/monitors/{monitor}/labels",
            post(handlers::ingest_labels),
        )
        .route("/ui/monitors/{monitor}", get(ui::monitor_page))
        .fallback(handlers::not_found)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        // Later layers wrap earlier ones: auth and the timeout run inside the metrics
        // middleware, so their rejections are counted and timed too.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::timeout,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::authenticate,
        ))
        .layer(middleware::from_fn(guard::request_limits))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::record_http_metrics,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
