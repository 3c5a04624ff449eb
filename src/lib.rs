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
//! - [`cluster`]: the scale-out roles on Kafka: the ingest producer, the engine's consumer
//!   group member, checkpoints in the state topic.
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
pub mod cluster;
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
    let background = [
        tokio::spawn(service::tasks::run_ticker(
            Arc::clone(&service),
            TICK_INTERVAL,
        )),
        tokio::spawn(service::tasks::run_persistence(Arc::clone(&service))),
        tokio::spawn(reload_on_hangup(Arc::clone(&service))),
    ];
    serve_api(listener, &service, api::AppState::new(&service), shutdown).await;
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

/// The `ingest` role: the HTTP API writes every accepted request to the events topic, and
/// every `kafka.tick_interval` a clock tick per monitor. Fails when the topics cannot be
/// reached or created.
pub async fn run_ingest(
    listener: TcpListener,
    service: service::Service,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let service = Arc::new(service);
    let settings = service.settings.kafka.clone();
    let partitions = cluster::client::ensure_topics(&settings).await?;
    let metrics = service.metrics.register_cluster("ingest");
    let sink = Arc::new(cluster::ingest::EventSink::new(
        &settings, partitions, metrics,
    )?);
    let ticks = tokio::spawn(cluster::ingest::run_ticks(
        Arc::clone(&sink),
        Arc::clone(&service.catalog),
        settings.tick_interval,
    ));
    tracing::info!(partitions, topic = %settings.topics.events, "Ingest role: writing to Kafka.");
    serve_api(
        listener,
        &service,
        api::AppState::with_sink(&service, sink),
        shutdown,
    )
    .await;
    ticks.abort();
    Ok(())
}

/// The `engine` role: a member of the engines' consumer group, serving `/metrics` and the
/// results of the monitors it owns. On shutdown it commits and leaves the group, so its
/// partitions move at once.
pub async fn run_engine(
    listener: TcpListener,
    service: service::Service,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let service = Arc::new(service);
    let settings = service.settings.kafka.clone();
    let partitions = cluster::client::ensure_topics(&settings).await?;
    let setup = cluster::engine::EngineSetup {
        cluster_metrics: service.metrics.register_cluster("engine"),
        settings,
        partitions,
        models: Arc::clone(&service.catalog),
    };
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let engine = {
        let (service, stop) = (Arc::clone(&service), Arc::clone(&stop));
        tokio::task::spawn_blocking(move || cluster::engine::run(service, setup, stop))
    };
    tracing::info!(partitions, "Engine role: joining the consumer group.");
    let app = api::AppState::new(&service);
    let stopped = tokio::spawn({
        let stop = Arc::clone(&stop);
        async move {
            shutdown.await;
            stop.store(true, std::sync::atomic::Ordering::Release);
        }
    });
    // The API serves until the engine has committed and left the group.
    let (engine_done, engine_stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = serve_api(listener, &service, app, async move {
        let _ = engine_stopped.await;
    });
    let running = async move {
        let joined = engine.await;
        let _ = engine_done.send(());
        joined.map_err(|e| e.to_string()).and_then(|r| r)
    };
    let ((), outcome) = tokio::join!(serving, running);
    stopped.abort();
    outcome
}

/// Serves the API on `listener` until `shutdown`.
async fn serve_api(
    listener: TcpListener,
    service: &Arc<service::Service>,
    state: api::AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let app = api::router(state);
    let server = &service.settings.server;
    let limits = api::server::ConnectionLimits {
        header_read_timeout: server.header_read_timeout,
        max_connections: server.max_connections,
        shutdown_grace: server.shutdown_grace,
    };
    api::server::serve(listener, app, limits, service.metrics.clone(), shutdown).await;
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
