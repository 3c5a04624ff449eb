//! The connection loop: HTTP/1.1 with a header-read timeout, a connection limit and a bounded
//! graceful shutdown — what `axum::serve` does not offer.
//!
//! hyper starts its header-read timer whenever a connection waits for the next request, so
//! `server.header_read_timeout` bounds both a slow client's headers and the idle time of a
//! keep-alive connection. A connection beyond `server.max_connections` is closed as soon as it
//! is accepted (counted), so idle sockets cannot use up the process's file descriptors. On
//! shutdown the listener closes, every connection finishes its current request, and whatever is
//! still open after `server.shutdown_grace` is abandoned.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use crate::export::metrics::Metrics;

/// Connection settings, from `server.*`.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// `server.header_read_timeout`.
    pub header_read_timeout: Duration,
    /// `server.max_connections`.
    pub max_connections: usize,
    /// `server.shutdown_grace`.
    pub shutdown_grace: Duration,
}

/// A connection's read buffer at most: room for the request line and headers (the API's own
/// limits are smaller, see [`crate::api::guard`]); bodies stream through it. Bounds memory per
/// connection.
pub const READ_BUFFER_BYTES: usize = 64 * 1024;

/// Pause after a failed `accept` (e.g. out of file descriptors), so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves `app` on `listener` until `shutdown` resolves, then drains connections for at most
/// `shutdown_grace`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (stop, stopping) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(connection) => connection,
                Err(e) => {
                    metrics.connection_error("accept");
                    tracing::warn!(error = %e, "Accept failed.");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            metrics.connection_error("over_limit");
            drop(stream);
            continue;
        };
        let service = TowerToHyperService::new(app.clone());
        let mut stopping = stopping.clone();
        let metrics = Arc::clone(&metrics);
        metrics.http_connections_open.inc();
        tokio::spawn(async move {
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .max_buf_size(READ_BUFFER_BYTES)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                _ = stopping.changed() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = result {
                metrics.connection_error(error_kind(&e));
            }
            metrics.http_connections_open.dec();
            drop(slot);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let drained = tokio::time::timeout(limits.shutdown_grace, slots.acquire_many(all)).await;
    if drained.is_err() {
        tracing::warn!(
            open = limits.max_connections - slots.available_permits(),
            "Connections still open after server.shutdown_grace; exiting anyway."
        );
    }
}

/// The `kind` label of a failed connection.
fn error_kind(e: &hyper::Error) -> &'static str {
    if e.is_timeout() {
        "header_timeout"
    } else if e.is_parse_too_large() {
        "too_large"
    } else if e.is_parse() || e.is_parse_status() {
        "parse"
    } else if e.is_incomplete_message() {
        "incomplete"
    } else {
        "io"
    }
}
