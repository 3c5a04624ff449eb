//! driftscope: a streaming drift-detection service.
//!
//! A model service POSTs live rows; each monitor keeps a window of them and compares it with
//! reference data using KS, PSI, chi-square and friends; results are exported as Prometheus
//! metrics and JSON.
//!
//! # Layout (follows the data)
//! - [`config`]: `monitors.yaml`, environment overrides, validation reporting every problem.
//! - [`reference`]: reads reference CSV/Parquet with polars (the only polars user).
//! - [`drift`]: profiles a reference column once, picks its test, compares a window with it.
//! - [`policy`]: alarm policy: default tests, family-wise correction, effect-size floors.
//! - [`null`]: learned null distributions, the p-values of `threshold: auto` distances.
//! - [`stats`]: the statistical tests, pure functions checked against scipy golden values.
//! - [`batch`]: parses an ingest body straight into columns.
//! - [`window`]: the windowing engine (count/time, tumbling/sliding).
//! - [`evaluation`]: one closed window → a report.
//! - [`labels`]: the join buffer where predictions wait for delayed ground truth.
//! - [`labelled`]: labelled windows: target drift, concept drift and model quality.
//! - [`concept`]: concept-drift tests and the Page-Hinkley error-stream detector.
//! - [`quality`]: model-quality metrics, checked against scikit-learn golden values.
//! - [`monitor`]: per-monitor state: ingest, evaluation off the async runtime, publishing.
//! - [`metrics`]: every Prometheus metric.
//! - [`idempotency`]: remembered `Idempotency-Key`s, so retried batches count once.
//! - [`auth`]: bearer tokens with scopes, compared in constant time.
//! - [`api`]: routes, JSON errors, middleware (metrics, limits, auth, timeout), the ticker.
//! - [`server`]: the connection loop (header-read timeout, connection limit, bounded drain).
//! - [`setup`]: config → running monitors (shared by `serve`, `check` and `calibrate`).
//! - [`calibrate`]: `driftscope calibrate`, false-alarm rate and power on the reference.

pub mod api;
pub mod auth;
pub mod batch;
pub mod calibrate;
pub mod category;
pub mod concept;
pub mod config;
pub mod drift;
pub mod evaluation;
pub mod idempotency;
pub mod labelled;
pub mod labels;
pub mod metrics;
pub mod monitor;
pub mod null;
pub mod policy;
pub mod quality;
pub mod reference;
pub mod server;
pub mod setup;
pub mod stats;
pub mod window;

use std::future::Future;
use std::time::Duration;

use tokio::net::TcpListener;

/// How often arrival-time windows are checked for closing.
pub const TICK_INTERVAL: Duration = Duration::from_millis(250);

/// Serves `service` on `listener` until `shutdown` completes, then lets in-flight requests
/// finish for at most `server.shutdown_grace`. Tests call this with a listener on port 0 and
/// their own shutdown future.
pub async fn run(
    listener: TcpListener,
    service: setup::Service,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let state = api::AppState::new(&service);
    let app = api::router(state);
    let ticker = tokio::spawn(api::run_ticker(service.monitors.clone(), TICK_INTERVAL));
    let server = &service.settings.server;
    let limits = server::ConnectionLimits {
        header_read_timeout: server.header_read_timeout,
        max_connections: server.max_connections,
        shutdown_grace: server.shutdown_grace,
    };
    server::serve(listener, app, limits, service.metrics.clone(), shutdown).await;
    ticker.abort();
}
