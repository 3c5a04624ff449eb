//! Every Prometheus metric the service exports, in one place.
//!
//! Names are fixed here and nowhere else. Label values come only from the config (monitor,
//! feature, test names) or from fixed sets (HTTP route templates, status codes, error codes,
//! drop reasons), never from request bodies, so series cardinality is bounded by the config.
//! Per-monitor series are created at start-up with zero values so `rate()` and absence alerts
//! work from the first scrape.

use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder, exponential_buckets,
};

use crate::drift::{ColumnCheck, ColumnOutcome, Role};

/// Error codes a rejected ingest request is counted under (the `code` label).
pub const REJECTION_CODES: &[&str] = &[
    "unknown_monitor",
    "unsupported_media_type",
    "payload_too_large",
    "malformed_json",
    "invalid_body",
    "empty_batch",
    "row_not_object",
    "invalid_timestamp",
    "internal",
];

/// `monitor` label value for requests naming a monitor that does not exist: the raw name from
/// the URL must not become a label value.
pub const UNKNOWN_MONITOR_LABEL: &str = "_unknown";

/// Handles to all metrics, registered in a private registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    feature_score: GaugeVec,
    feature_p_value: GaugeVec,
    feature_threshold: GaugeVec,
    feature_detected: IntGaugeVec,
    feature_missing_ratio: GaugeVec,
    prediction_score: GaugeVec,
    prediction_p_value: GaugeVec,
    prediction_threshold: GaugeVec,
    prediction_detected: IntGaugeVec,
    target_score: GaugeVec,
    target_p_value: GaugeVec,
    target_threshold: GaugeVec,
    target_detected: IntGaugeVec,
    dataset_share: GaugeVec,
    dataset_detected: IntGaugeVec,
    drifted_features: IntGaugeVec,
    window_rows: IntGaugeVec,
    last_evaluation: GaugeVec,
    reference_rows: IntGaugeVec,
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
    /// Rejected ingest requests, by error code.
    pub requests_rejected: IntCounterVec,
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
    /// Registers every metric (and the process collector) in a fresh registry.
    pub fn new() -> Self {
        let r = Registry::new();
        #[cfg(target_os = "linux")]
        r.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))
        .expect("process collector registers once");
        let mcf = &["monitor", "column", "test"];
        let mf = &["monitor", "feature"];
        let mft = &["monitor", "feature", "test"];
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
            feature_score: gauge(
                &r,
                "driftscope_feature_drift_score",
                "Drift statistic or distance of the feature in the last evaluated window.",
                mft,
            ),
            feature_p_value: gauge(
                &r,
                "driftscope_feature_drift_p_value",
                "p-value of the feature's drift test in the last evaluated window (p-value tests only).",
                mft,
            ),
            feature_threshold: gauge(
                &r,
                "driftscope_feature_drift_threshold",
                "Threshold of the feature's drift test: drift when p < threshold, or score >= threshold for distances.",
                mft,
            ),
            feature_detected: int_gauge(
                &r,
                "driftscope_feature_drift_detected",
                "1 if the feature drifted in the last evaluated window, else 0.",
                mf,
            ),
            feature_missing_ratio: gauge(
                &r,
                "driftscope_feature_missing_ratio",
                "Share of missing or invalid values of the feature in the last evaluated window.",
                mf,
            ),
            prediction_score: gauge(
                &r,
                "driftscope_prediction_drift_score",
                "Drift statistic or distance of the prediction column in the last evaluated window.",
                mcf,
            ),
            prediction_p_value: gauge(
                &r,
                "driftscope_prediction_drift_p_value",
                "p-value of the prediction drift test (p-value tests only).",
                mcf,
            ),
            prediction_threshold: gauge(
                &r,
                "driftscope_prediction_drift_threshold",
                "Threshold of the prediction drift test.",
                mcf,
            ),
            prediction_detected: int_gauge(
                &r,
                "driftscope_prediction_drift_detected",
                "1 if the prediction column drifted in the last evaluated window, else 0.",
                &["monitor", "column"],
            ),
            target_score: gauge(
                &r,
                "driftscope_target_drift_score",
                "Drift statistic or distance of the target column in the last evaluated window.",
                mcf,
            ),
            target_p_value: gauge(
                &r,
                "driftscope_target_drift_p_value",
                "p-value of the target drift test (p-value tests only).",
                mcf,
            ),
            target_threshold: gauge(
                &r,
                "driftscope_target_drift_threshold",
                "Threshold of the target drift test.",
                mcf,
            ),
            target_detected: int_gauge(
                &r,
                "driftscope_target_drift_detected",
                "1 if the target column drifted in the last evaluated window, else 0.",
                &["monitor", "column"],
            ),
            dataset_share: gauge(
                &r,
                "driftscope_dataset_drift_share",
                "Share of evaluated features that drifted in the last evaluated window.",
                m,
            ),
            dataset_detected: int_gauge(
                &r,
                "driftscope_dataset_drift_detected",
                "1 if the drifted share reached the monitor's drift_share in the last evaluated window.",
                m,
            ),
            drifted_features: int_gauge(
                &r,
                "driftscope_drifted_features",
                "Number of features that drifted in the last evaluated window.",
                m,
            ),
            window_rows: int_gauge(
                &r,
                "driftscope_window_rows",
                "Rows in the last evaluated window.",
                m,
            ),
            last_evaluation: gauge(
                &r,
                "driftscope_last_evaluation_timestamp_seconds",
                "Unix time at which the last window was evaluated.",
                m,
            ),
            reference_rows: int_gauge(
                &r,
                "driftscope_reference_rows",
                "Rows in the monitor's reference file.",
                m,
            ),
            windows_evaluated: counter(
                &r,
                "driftscope_windows_evaluated_total",
                "Windows evaluated and published.",
                m,
            ),
            windows_skipped: counter(
                &r,
                "driftscope_windows_skipped_total",
                "Windows closed without a verdict (reason=below_min_rows).",
                &["monitor", "reason"],
            ),
            drift_windows: counter(
                &r,
                "driftscope_drift_windows_total",
                "Evaluated windows with dataset drift.",
                m,
            ),
            rows_ingested: counter(
                &r,
                "driftscope_rows_ingested_total",
                "Rows accepted by POST /v1/monitors/{monitor}/rows.",
                m,
            ),
            rows_dropped: counter(
                &r,
                "driftscope_rows_dropped_total",
                "Accepted rows no window kept (reason=late: older than every open time window; window_full: the time window held max_rows).",
                &["monitor", "reason"],
            ),
            values_invalid: counter(
                &r,
                "driftscope_values_invalid_total",
                "Values of the wrong type (e.g. text in a numeric feature), treated as missing.",
                mf,
            ),
            requests_rejected: counter(
                &r,
                "driftscope_requests_rejected_total",
                "Ingest requests rejected as a whole, by error code.",
                &["monitor", "code"],
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
                &r,
                "driftscope_evaluation_duration_seconds",
                "Time to evaluate one window against the reference.",
                m,
                seconds,
            ),
            registry: r,
        }
    }

    /// Creates the monitor's series with initial values so they exist before the first window.
    pub fn register_monitor(&self, monitor: &str, reference_rows: usize, checks: &[ColumnCheck]) {
        self.reference_rows
            .with_label_values(&[monitor])
            .set(reference_rows as i64);
        for counter in [
            &self.windows_evaluated,
            &self.drift_windows,
            &self.rows_ingested,
        ] {
            counter.with_label_values(&[monitor]);
        }
        self.windows_skipped
            .with_label_values(&[monitor, "below_min_rows"]);
        for reason in ["late", "window_full"] {
            self.rows_dropped.with_label_values(&[monitor, reason]);
        }
        for code in REJECTION_CODES {
            self.requests_rejected.with_label_values(&[monitor, code]);
        }
        for check in checks {
            self.values_invalid
                .with_label_values(&[monitor, &check.name]);
            let (threshold, _, _, _) = self.column_gauges(check.role);
            threshold
                .with_label_values(&[monitor, &check.name, check.test.as_str()])
                .set(check.threshold);
        }
    }

    fn column_gauges(&self, role: Role) -> (&GaugeVec, &GaugeVec, &GaugeVec, &IntGaugeVec) {
        match role {
            Role::Feature => (
                &self.feature_threshold,
                &self.feature_score,
                &self.feature_p_value,
                &self.feature_detected,
            ),
            Role::Prediction => (
                &self.prediction_threshold,
                &self.prediction_score,
                &self.prediction_p_value,
                &self.prediction_detected,
            ),
            Role::Target => (
                &self.target_threshold,
                &self.target_score,
                &self.target_p_value,
                &self.target_detected,
            ),
        }
    }

    /// Publishes one column's latest result. A column without a score (no usable value in the
    /// window) has its score and p-value series removed rather than set to NaN or left stale.
    pub fn publish_column(
        &self,
        monitor: &str,
        check: &ColumnCheck,
        outcome: &ColumnOutcome,
        missing_ratio: f64,
    ) {
        let (threshold, score, p_value, detected) = self.column_gauges(check.role);
        let labels = [monitor, check.name.as_str(), check.test.as_str()];
        threshold.with_label_values(&labels).set(outcome.threshold);
        match outcome.score {
            Some(s) => score.with_label_values(&labels).set(s),
            None => {
                let _ = score.remove_label_values(&labels);
            }
        }
        match outcome.p_value {
            Some(p) => p_value.with_label_values(&labels).set(p),
            None => {
                let _ = p_value.remove_label_values(&labels);
            }
        }
        detected
            .with_label_values(&[monitor, &check.name])
            .set(i64::from(outcome.drifted));
        if check.role == Role::Feature {
            self.feature_missing_ratio
                .with_label_values(&[monitor, &check.name])
                .set(missing_ratio);
        }
    }

    /// Publishes the dataset-level result of a window.
    pub fn publish_dataset(
        &self,
        monitor: &str,
        share: f64,
        detected: bool,
        drifted: usize,
        rows: usize,
        at: f64,
    ) {
        self.dataset_share.with_label_values(&[monitor]).set(share);
        self.dataset_detected
            .with_label_values(&[monitor])
            .set(i64::from(detected));
        self.drifted_features
            .with_label_values(&[monitor])
            .set(drifted as i64);
        self.window_rows
            .with_label_values(&[monitor])
            .set(rows as i64);
        self.last_evaluation.with_label_values(&[monitor]).set(at);
        self.windows_evaluated.with_label_values(&[monitor]).inc();
        if detected {
            self.drift_windows.with_label_values(&[monitor]).inc();
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        // Encoding into a Vec only fails on invalid metric data, which `new` rules out.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buffer);
        String::from_utf8(buffer).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
