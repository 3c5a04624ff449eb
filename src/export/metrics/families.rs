//! The families anyone may change: names, help texts and label names, registered once at
//! start-up. Each monitor's window families are in `window`.

use prometheus::{IntGauge, Registry, exponential_buckets};

use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, RwLock};

use super::render::Cached;
use super::{CONNECTION_ERROR_KINDS, Metrics, counter, gauge, histogram, int_gauge};

impl Metrics {
    /// Registers the families anyone may change (and the process collector) in a fresh
    /// registry; a monitor's window families are registered at its first use. The label names
    /// of `driftscope_monitor_info` are `monitor`, `severity`, `team` and every key of any
    /// monitor's `alerting.labels` (`extra_info_labels`), empty where a monitor lacks one.
    pub fn new(extra_info_labels: &[String]) -> Self {
        let r = Registry::new();
        #[cfg(target_os = "linux")]
        r.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))
        .expect("process collector registers once");
        // The families with a `monitor` label anyone may change are collected directly, not
        // gathered (see `render`); registered here only so their names are checked.
        let p = Registry::new();
        let mf = &["monitor", "feature"];
        let m = &["monitor"];
        let seconds = exponential_buckets(0.0005, 2.0, 16).expect("valid buckets"); // 0.5 ms .. 16 s
        let bytes = exponential_buckets(64.0, 4.0, 12).expect("valid buckets"); // 64 B .. 268 MB
        let build_info = int_gauge(
            &r,
            "driftscope_build_info",
            "Always 1; labels carry the version.",
            &["version"],
        );
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        Self {
            info_extra_labels: extra_info_labels.to_vec(),
            last_ingest: gauge(
                &p,
                "driftscope_last_ingest_timestamp_seconds",
                "Unix time of the last accepted row (the service start time before the first).",
                m,
            ),
            windows_evaluated: counter(
                &p,
                "driftscope_windows_evaluated_total",
                "Windows evaluated and published.",
                m,
            ),
            windows_skipped: counter(
                &p,
                "driftscope_windows_skipped_total",
                "Windows closed without a verdict (reason=below_min_rows, labelled_below_min_rows).",
                &["monitor", "reason"],
            ),
            drift_windows: counter(
                &p,
                "driftscope_drift_windows_total",
                "Evaluated windows with dataset drift.",
                m,
            ),
            rows_ingested: counter(
                &p,
                "driftscope_rows_ingested_total",
                "Rows accepted by POST /v1/monitors/{monitor}/rows and kept by the window (dropped rows are counted in driftscope_rows_dropped_total instead).",
                m,
            ),
            rows_dropped: counter(
                &p,
                "driftscope_rows_dropped_total",
                "Rows received but dropped (reason=late: older than every open time window; window_full: the time window held max_rows; future: event time more than window.max_future_skew ahead of the server clock).",
                &["monitor", "reason"],
            ),
            values_invalid: counter(
                &p,
                "driftscope_values_invalid_total",
                "Values of the wrong type (e.g. text in a numeric feature), treated as missing.",
                mf,
            ),
            requests_rejected: counter(
                &p,
                "driftscope_requests_rejected_total",
                "Requests rejected as a whole, by error code (monitor=_unknown: a monitor that does not exist; _none: not addressed to a monitor).",
                &["monitor", "code"],
            ),
            labels_received: counter(
                &p,
                "driftscope_labels_received_total",
                "Label items received by POST /v1/monitors/{monitor}/labels.",
                m,
            ),
            labels_matched: counter(
                &p,
                "driftscope_labels_matched_total",
                "Label items joined to a waiting prediction.",
                m,
            ),
            labels_unmatched: counter(
                &p,
                "driftscope_labels_unmatched_total",
                "Label items not joined (reason=unknown_id, duplicate, invalid_id, invalid_target).",
                &["monitor", "reason"],
            ),
            predictions_expired: counter(
                &p,
                "driftscope_predictions_expired_unlabelled_total",
                "Predictions dropped from the label join buffer unlabelled (older than label_join.max_age or beyond label_join.max_pending).",
                m,
            ),
            labels_pending: int_gauge(
                &p,
                "driftscope_labels_pending_predictions",
                "Predictions waiting for a label.",
                m,
            ),
            http_requests: counter(
                &r,
                "driftscope_http_requests_total",
                "HTTP requests by route template and status code.",
                &["route", "status"],
            ),
            http_duration: histogram(
                &r,
                "driftscope_http_request_duration_seconds",
                "HTTP request latency by route template.",
                &["route"],
                seconds.clone(),
            ),
            http_request_size: histogram(
                &r,
                "driftscope_http_request_size_bytes",
                "HTTP request body size by route template.",
                &["route"],
                bytes.clone(),
            ),
            http_response_size: histogram(
                &r,
                "driftscope_http_response_size_bytes",
                "HTTP response body size by route template.",
                &["route"],
                bytes,
            ),
            evaluation_duration: histogram(
                &p,
                "driftscope_evaluation_duration_seconds",
                "Time to evaluate one window against the reference.",
                m,
                seconds,
            ),
            http_connections_open: {
                let g = IntGauge::new(
                    "driftscope_http_connections_open",
                    "Open HTTP connections (at most server.max_connections).",
                )
                .expect("valid metric definition");
                r.register(Box::new(g.clone()))
                    .expect("metric names are unique");
                g
            },
            http_connection_errors: {
                let c = counter(
                    &r,
                    "driftscope_http_connection_errors_total",
                    "Connections that ended in an error (kind=over_limit: closed on accept beyond server.max_connections; header_timeout: no complete request within server.header_read_timeout, idle keep-alive included; too_large / parse: request hyper refused before routing; incomplete, io, accept).",
                    &["kind"],
                );
                for kind in CONNECTION_ERROR_KINDS {
                    c.with_label_values(&[kind]);
                }
                c
            },
            reload_successful: {
                let g = IntGauge::new(
                    "driftscope_config_last_reload_successful",
                    "1 when the last config load or reload succeeded; 0 while the service runs on an older config because the new one was refused.",
                )
                .expect("valid metric definition");
                g.set(1);
                r.register(Box::new(g.clone()))
                    .expect("metric names are unique");
                g
            },
            reload_success_timestamp: {
                let g = prometheus::Gauge::new(
                    "driftscope_config_last_reload_success_timestamp_seconds",
                    "Unix time of the last successful config load or reload.",
                )
                .expect("valid metric definition");
                g.set(crate::check::report::unix_now());
                r.register(Box::new(g.clone()))
                    .expect("metric names are unique");
                g
            },
            registry: r,
            monitors: RwLock::default(),
            changes: AtomicU64::new(0),
            cache: Mutex::new(Cached::default()),
        }
    }
}
