//! Background work of a serving process: the clock, log syncs and snapshots. Each runs on a
//! blocking thread, since it takes monitor locks and does file I/O.

use std::sync::Arc;
use std::time::Duration;

use crate::check::report::unix_now;
use crate::config::Fsync;
use crate::service::Service;

/// Clock work for every monitor: closes time windows on the server clock (feature windows of
/// arrival-time monitors, all labelled windows) and expires predictions waiting for labels, so
/// a window is published within `interval` of its end even when no further rows arrive.
pub async fn run_ticker(service: Arc<Service>, interval: Duration) {
    every(interval, move || {
        let now = unix_now();
        for monitor in &service.monitors().ordered {
            // Published by the monitor's evaluator; nobody waits for it here.
            drop(monitor.tick(now));
        }
    })
    .await;
}

/// With a state directory: syncs logs every `server.fsync_interval` (with `fsync: interval`)
/// and snapshots every monitor every `server.snapshot_interval`.
pub async fn run_persistence(service: Arc<Service>) {
    if service.state.is_none() {
        return;
    }
    let server = &service.settings.server;
    let snapshots = {
        let service = Arc::clone(&service);
        every(server.snapshot_interval, move || service.snapshot_all())
    };
    if server.fsync == Fsync::Interval {
        let syncs = {
            let service = Arc::clone(&service);
            every(server.fsync_interval, move || {
                for monitor in &service.monitors().ordered {
                    if let Err(e) = monitor.sync_log() {
                        tracing::error!(monitor = monitor.name(), error = %e, "Log sync failed.");
                    }
                }
            })
        };
        tokio::join!(snapshots, syncs);
    } else {
        snapshots.await;
    }
}

/// Runs `work` on a blocking thread every `interval` (the first run after one interval).
async fn every(interval: Duration, work: impl Fn() + Send + Sync + 'static) {
    let work = Arc::new(work);
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let work = Arc::clone(&work);
        if let Err(e) = tokio::task::spawn_blocking(move || work()).await {
            tracing::error!(error = %e, "Background task failed.");
        }
    }
}
