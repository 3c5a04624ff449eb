//! driftscope: a streaming drift-detection service.
//!
//! A model service POSTs live rows; each monitor keeps a window of them and compares it with
//! reference data using KS, PSI, chi-square and friends; results are exported as Prometheus
//! metrics and JSON.
//!
//! # Layout (follows the data)
//! Listed from the bottom up: a module imports only modules above it in this list, never one
//! below (`tests/layout.rs` checks there is no import cycle, and no file over 500 lines).
//! - [`category`]: one canonical text per category value, shared by config, reference and ingest.
//! - [`column`](mod@column): `ColumnData`, the one column type from ingest to the checks, and its
//!   missing/invalid sentinels.
//! - [`stats`]: the statistical tests, pure functions checked against scipy golden values.
//! - [`config`]: `monitors.yaml`, environment overrides, validation reporting every problem.
//! - [`reference`](mod@reference): reads reference CSV/Parquet with polars (the only polars user).
//! - [`ingest`]: request bodies → columns (rows, labels, idempotency keys).
//! - [`window`]: the windowing engine (count/time, tumbling/sliding).
//! - [`check`]: one column vs its reference, the alarm policy, learned nulls, column reports.
//! - [`labelled`]: labelled windows: target drift, concept drift and model quality.
//! - [`state`]: the write-ahead log and snapshots on disk (generic frames and files).
//! - [`export`]: every Prometheus metric.
//! - [`engine`]: window evaluation; the monitor model, its state with the pure `apply`,
//!   results, the evaluator thread, persistence.
//! - [`service`]: config → running monitors and bearer tokens (shared by `serve`, `check` and
//!   `calibrate`).
//! - [`report`]: `driftscope report` (two files, one window) and the report page, also served
//!   live by the API.
//! - [`api`]: routes, JSON errors, middleware (authentication), the connection loop.
//! - [`calibrate`]: `driftscope calibrate`, false-alarm rate and power on the reference.
//! - [`init`]: `driftscope init`, a commented `monitors.yaml` for a reference file.
//! - [`replay`]: `driftscope replay`, a file's rows posted at a rate, with injected drift.

pub mod api;
pub mod calibrate;
pub mod category;
pub mod check;
pub mod column;
pub mod config;
pub mod engine;
pub mod export;
pub mod ingest;
pub mod init;
pub mod labelled;
pub mod reference;
pub mod replay;
pub mod report;
pub mod service;
pub mod state;
pub mod stats;
pub mod window;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

/// How often arrival-time windows are checked for closing.
pub const TICK_INTERVAL: Duration = Duration::from_millis(250);

/// Serves `service` on `listener` until `shutdown` completes, then lets in-flight requests
/// finish for at most `server.shutdown_grace` and snapshots every monitor. SIGHUP reloads the
/// config. Tests call this with a listener on port 0 and their own shutdown future.
pub async fn run(
    listener: TcpListener,
    service: service::Service,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let service = Arc::new(service);
    let state = api::AppState::new(&service);
    let app = api::router(state);
    let background = [
        tokio::spawn(service::tasks::run_ticker(
            Arc::clone(&service),
            TICK_INTERVAL,
        )),
        tokio::spawn(service::tasks::run_persistence(Arc::clone(&service))),
        tokio::spawn(reload_on_hangup(Arc::clone(&service))),
    ];
    let server = &service.settings.server;
    let limits = api::server::ConnectionLimits {
        header_read_timeout: server.header_read_timeout,
        max_connections: server.max_connections,
        shutdown_grace: server.shutdown_grace,
    };
    api::server::serve(listener, app, limits, service.metrics.clone(), shutdown).await;
    for task in background {
        task.abort();
    }
    if service.state.is_some() {
        let saving = Arc::clone(&service);
        if let Err(e) = tokio::task::spawn_blocking(move || saving.snapshot_all()).await {
            tracing::error!(error = %e, "Final snapshot failed.");
        }
    }
}

/// Reloads the config on every SIGHUP, like Prometheus.
async fn reload_on_hangup(service: Arc<service::Service>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hangup) = signal(SignalKind::hangup()) else {
            tracing::error!("Cannot install the SIGHUP handler; reload with POST /-/reload.");
            return;
        };
        while hangup.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading the config.");
            let service = Arc::clone(&service);
            // The outcome is logged and exported by `reload` itself.
            let _ = tokio::task::spawn_blocking(move || service.reload()).await;
        }
    }
    #[cfg(not(unix))]
    drop(service);
}
