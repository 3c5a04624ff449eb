//! Every Prometheus metric the service exports, in one place.
//!
//! Names are fixed here and nowhere else. Label values come only from the config (monitor,
//! feature, test names) or from fixed sets (HTTP route templates, status codes, error codes,
//! drop reasons), never from request bodies, so series cardinality is bounded by the config.
//! Per-monitor series are created at start-up with zero values so `rate()` and absence alerts
//! work from the first scrape.

use prometheus::{
    GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};

use std::collections::BTreeMap;
use std::sync::Arc;

mod cluster;
mod families;
mod forget;
mod publish;
mod render;
#[cfg(test)]
mod tests;
mod window;

pub use cluster::{ClusterMetrics, EVENT_KINDS, SKIP_REASONS, TRANSACTION_OUTCOMES};
pub use forget::KeepSeries;
use window::WindowSeries;

/// `detector` label of the online concept-change detector.
pub const DETECTOR: &str = "page_hinkley";

/// Error codes a rejected request is counted under (the `code` label); every error response
/// carries one of these.
pub const REJECTION_CODES: &[&str] = &[
    "unknown_monitor",
    "unsupported_media_type",
    "payload_too_large",
    "too_many_rows",
    "malformed_json",
    "body_read_failed",
    "invalid_body",
    "empty_batch",
    "row_not_object",
    "invalid_timestamp",
    "invalid_idempotency_key",
    "invalid_path",
    "no_target",
    "not_found",
    "method_not_allowed",
    "request_timeout",
    "uri_too_long",
    "headers_too_large",
    "unauthorized",
    "forbidden",
    "too_many_requests",
    "evaluation_backlog",
    "state_write_failed",
    "reloading",
    "invalid_config",
    "wrong_role",
    "not_owned",
    "broker_unavailable",
    "internal",
];

/// Upper bounds (seconds) of `driftscope_prediction_latency_seconds`: 5 ms to 60 s, the
/// range of online models from a lookup to a large generative call; 10 s is a bound so the
/// default slow threshold reads exactly off the histogram.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// Reasons an accepted row is dropped (the `reason` label of `driftscope_rows_dropped_total`).
pub const DROP_REASONS: &[&str] = &["late", "window_full", "future"];

/// `monitor` label value for rejected requests not addressed to a monitor (unknown routes,
/// `/metrics` without a token, oversized headers).
pub const NO_MONITOR_LABEL: &str = "_none";

/// `kind` label values of `driftscope_http_connection_errors_total`.
pub const CONNECTION_ERROR_KINDS: &[&str] = &[
    "accept",
    "over_limit",
    "header_timeout",
    "too_large",
    "parse",
    "incomplete",
    "io",
];

/// `monitor` label value for requests naming a monitor that does not exist: the raw name from
/// the URL must not become a label value.
pub const UNKNOWN_MONITOR_LABEL: &str = "_unknown";

/// Handles to all metrics, registered in private registries: one for the families anyone may
/// change, one per monitor for its window families (see `render`).
#[derive(Debug)]
pub struct Metrics {
    /// Families anyone may change: gathered at every scrape.
    registry: Registry,
    /// Each monitor's window families, by monitor name (see `render`).
    monitors: std::sync::RwLock<BTreeMap<String, Arc<WindowSeries>>>,
    /// Source of the window series' generations, so no two changes share one (see `changed`).
    changes: std::sync::atomic::AtomicU64,
    /// The window series' text, per monitor as of a generation.
    cache: std::sync::Mutex<render::Cached>,
    /// `alerting.labels` keys that are label names of `driftscope_monitor_info`, in order.
    info_extra_labels: Vec<String>,
    /// Unix time of the last accepted row (the start time before any).
    pub last_ingest: GaugeVec,
    /// Windows whose results were published.
    pub windows_evaluated: IntCounterVec,
    /// Windows closed without a verdict, by reason.
    pub windows_skipped: IntCounterVec,
    /// Published windows with dataset drift.
    pub drift_windows: IntCounterVec,
    /// Rows accepted by ingest.
    pub rows_ingested: IntCounterVec,
    /// Accepted rows that no window kept, by reason.
    pub rows_dropped: IntCounterVec,
    /// Values of the wrong type, by column.
    pub values_invalid: IntCounterVec,
    /// Rejected requests, by error code.
    pub requests_rejected: IntCounterVec,
    /// Label items received.
    pub labels_received: IntCounterVec,
    /// Label items joined to a waiting prediction.
    pub labels_matched: IntCounterVec,
    /// Label items not joined, by reason.
    pub labels_unmatched: IntCounterVec,
    /// Predictions that waited too long (or were pushed out) without a label.
    pub predictions_expired: IntCounterVec,
    /// Predictions waiting for a label now.
    pub labels_pending: IntGaugeVec,
    /// HTTP requests by route template and status.
    pub http_requests: IntCounterVec,
    /// HTTP latency by route template.
    pub http_duration: HistogramVec,
    /// Request body sizes by route template.
    pub http_request_size: HistogramVec,
    /// Response body sizes by route template.
    pub http_response_size: HistogramVec,
    /// Time to evaluate one window.
    pub evaluation_duration: HistogramVec,
    /// Open HTTP connections.
    pub http_connections_open: IntGauge,
    http_connection_errors: IntCounterVec,
    reload_successful: IntGauge,
    reload_success_timestamp: prometheus::Gauge,
}

/// The gauges of one kind of column drift (feature, prediction, target or latency).
#[derive(Debug)]
struct ColumnGauges {
    score: GaugeVec,
    p_value: GaugeVec,
    p_value_adjusted: GaugeVec,
    p_value_lower_bound: GaugeVec,
    threshold: GaugeVec,
    effect_size: GaugeVec,
    min_effect: GaugeVec,
    detected: IntGaugeVec,
    streak: IntGaugeVec,
}

impl ColumnGauges {
    fn new(r: &Registry, kind: &str, column_label: &'static str, what: &str) -> Self {
        let with_test = &["monitor", column_label, "test"];
        let plain = &["monitor", column_label];
        Self {
            score: gauge(
                r,
                &format!("driftscope_{kind}_drift_score"),
                &format!("Drift statistic or distance of the {what} in the last evaluated window."),
                with_test,
            ),
            p_value: gauge(
                r,
                &format!("driftscope_{kind}_drift_p_value"),
                &format!(
                    "p-value of the {what}'s drift test in the last evaluated window (p-value tests only)."
                ),
                with_test,
            ),
            p_value_adjusted: gauge(
                r,
                &format!("driftscope_{kind}_drift_p_value_adjusted"),
                &format!(
                    "p-value of the {what}'s drift test after the window's multiple-testing correction (equals the p-value outside a family)."
                ),
                with_test,
            ),
            p_value_lower_bound: gauge(
                r,
                &format!("driftscope_{kind}_drift_p_value_lower_bound"),
                &format!(
                    "Binned windows only (window.summary: binned), when their counts bracket the {what}'s KS statistic: the smallest p-value the counts allow; the reported p-value is the largest, so the true one lies between."
                ),
                with_test,
            ),
            threshold: gauge(
                r,
                &format!("driftscope_{kind}_drift_threshold"),
                &format!(
                    "Threshold of the {what}'s drift test: drift when the adjusted p-value < threshold, or score >= threshold for distances (and effect size >= min effect)."
                ),
                with_test,
            ),
            effect_size: gauge(
                r,
                &format!("driftscope_{kind}_drift_effect_size"),
                &format!(
                    "Effect size of the {what} in the last evaluated window (KS D, Cohen's w, Cohen's h, or the distance)."
                ),
                with_test,
            ),
            min_effect: gauge(
                r,
                &format!("driftscope_{kind}_drift_min_effect"),
                &format!("Smallest effect size of the {what} that counts as drift."),
                with_test,
            ),
            detected: int_gauge(
                r,
                &format!("driftscope_{kind}_drift_detected"),
                &format!("1 if the {what} drifted in the last evaluated window, else 0."),
                plain,
            ),
            streak: int_gauge(
                r,
                &format!("driftscope_{kind}_drift_streak_windows"),
                &format!(
                    "Consecutive evaluated windows in which the {what} drifted (0 after one without drift)."
                ),
                plain,
            ),
        }
    }
}

fn gauge(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> GaugeVec {
    let metric = GaugeVec::new(Opts::new(name, help), labels).expect("valid metric definition");
    registry
        .register(Box::new(metric.clone()))
        .expect("metric names are unique");
    metric
}

fn int_gauge(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let metric = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric definition");
    registry
        .register(Box::new(metric.clone()))
        .expect("metric names are unique");
    metric
}

fn counter(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let metric =
        IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric definition");
    registry
        .register(Box::new(metric.clone()))
        .expect("metric names are unique");
    metric
}

fn histogram(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
    buckets: Vec<f64>,
) -> HistogramVec {
    let metric = HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets), labels)
        .expect("valid metric definition");
    registry
        .register(Box::new(metric.clone()))
        .expect("metric names are unique");
    metric
}

impl Metrics {
    /// Records the outcome of a config reload.
    pub fn reload_outcome(&self, success: bool) {
        self.reload_successful.set(i64::from(success));
        if success {
            self.reload_success_timestamp
                .set(crate::check::report::unix_now());
        }
    }

    /// Counts a connection that ended in an error of `kind` (one of [`CONNECTION_ERROR_KINDS`]).
    pub fn connection_error(&self, kind: &str) {
        self.http_connection_errors.with_label_values(&[kind]).inc();
    }
}
