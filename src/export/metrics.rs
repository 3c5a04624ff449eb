//! Every Prometheus metric the service exports, in one place.
//!
//! Names are fixed here and nowhere else. Label values come only from the config (monitor,
//! feature, test names) or from fixed sets (HTTP route templates, status codes, error codes,
//! drop reasons), never from request bodies, so series cardinality is bounded by the config.
//! Per-monitor series are created at start-up with zero values so `rate()` and absence alerts
//! work from the first scrape.

use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder, exponential_buckets,
};

use crate::check::report::{ColumnReport, DatasetDrift};
use crate::check::{ColumnCheck, Role};
use crate::config::MonitorSpec;
use crate::labelled::join::UNMATCHED_REASONS;
use crate::labelled::{LabelledModel, LabelledReport};

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
    "internal",
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

/// Handles to all metrics, registered in a private registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    feature: ColumnGauges,
    prediction: ColumnGauges,
    target: ColumnGauges,
    feature_missing_ratio: GaugeVec,
    feature_invalid_ratio: GaugeVec,
    feature_out_of_range_ratio: GaugeVec,
    feature_new_category_ratio: GaugeVec,
    dataset_share: GaugeVec,
    dataset_detected: IntGaugeVec,
    dataset_streak: IntGaugeVec,
    drifted_features: IntGaugeVec,
    window_rows: IntGaugeVec,
    last_evaluation: GaugeVec,
    reference_rows: IntGaugeVec,
    concept_score: GaugeVec,
    concept_p_value: GaugeVec,
    concept_detected: IntGaugeVec,
    concept_streak: IntGaugeVec,
    concept_change_detected: IntGaugeVec,
    concept_change_points: IntCounterVec,
    model_quality: GaugeVec,
    model_quality_degraded: IntGaugeVec,
    labelled_windows: IntCounterVec,
    monitor_info: IntGaugeVec,
    /// `alerting.labels` keys that are label names of `driftscope_monitor_info`, in order.
    info_extra_labels: Vec<String>,
    alert_for_windows: IntGaugeVec,
    no_data_seconds: GaugeVec,
    data_quality_threshold: GaugeVec,
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
    reference_info: IntGaugeVec,
    reload_successful: IntGauge,
    reload_success_timestamp: prometheus::Gauge,
}

/// The gauges of one kind of column drift (feature, prediction or target).
#[derive(Debug)]
struct ColumnGauges {
    score: GaugeVec,
    p_value: GaugeVec,
    p_value_adjusted: GaugeVec,
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
    /// Registers every metric (and the process collector) in a fresh registry. The label names
    /// of `driftscope_monitor_info` are `monitor`, `severity`, `team` and every key of any
    /// monitor's `alerting.labels` (`extra_info_labels`), empty where a monitor lacks one.
    pub fn new(extra_info_labels: &[String]) -> Self {
        let r = Registry::new();
        #[cfg(target_os = "linux")]
        r.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))
        .expect("process collector registers once");
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
        let mut info_labels = vec!["monitor", "severity", "team"];
        info_labels.extend(extra_info_labels.iter().map(String::as_str));
        Self {
            feature: ColumnGauges::new(&r, "feature", "feature", "feature"),
            prediction: ColumnGauges::new(&r, "prediction", "column", "prediction column"),
            target: ColumnGauges::new(&r, "target", "column", "target column"),
            feature_missing_ratio: gauge(
                &r,
                "driftscope_feature_missing_ratio",
                "Share of the last window's rows where the feature was absent or null.",
                mf,
            ),
            feature_invalid_ratio: gauge(
                &r,
                "driftscope_feature_invalid_ratio",
                "Share of the last window's rows where the feature had the wrong type.",
                mf,
            ),
            feature_out_of_range_ratio: gauge(
                &r,
                "driftscope_feature_out_of_range_ratio",
                "Share of the last window's rows where the numeric feature was outside the reference min-max.",
                mf,
            ),
            feature_new_category_ratio: gauge(
                &r,
                "driftscope_feature_new_category_ratio",
                "Share of the last window's rows where the categorical feature had a category never seen in the reference.",
                mf,
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
            dataset_streak: int_gauge(
                &r,
                "driftscope_dataset_drift_streak_windows",
                "Consecutive evaluated windows with dataset drift (0 after one without).",
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
                "Unix time of the last window evaluation (the service start time before the first).",
                m,
            ),
            reference_rows: int_gauge(
                &r,
                "driftscope_reference_rows",
                "Rows in the monitor's reference file.",
                m,
            ),
            concept_score: gauge(
                &r,
                "driftscope_concept_drift_score",
                "Concept-drift statistic of the last labelled window (test: label_given_prediction = summed chi-square, error_rate = error-rate change, residual_ks = KS D).",
                &["monitor", "test"],
            ),
            concept_p_value: gauge(
                &r,
                "driftscope_concept_drift_p_value",
                "p-value of the concept-drift test in the last labelled window.",
                &["monitor", "test"],
            ),
            concept_detected: int_gauge(
                &r,
                "driftscope_concept_drift_detected",
                "1 if the last labelled window showed concept drift, else 0.",
                m,
            ),
            concept_streak: int_gauge(
                &r,
                "driftscope_concept_drift_streak_windows",
                "Consecutive labelled windows with concept drift.",
                m,
            ),
            concept_change_detected: int_gauge(
                &r,
                "driftscope_concept_change_detected",
                "1 from an online change point of the error stream until a labelled window closes without one.",
                &["monitor", "detector"],
            ),
            concept_change_points: counter(
                &r,
                "driftscope_concept_change_points_total",
                "Change points of the error stream found by the online detector.",
                &["monitor", "detector"],
            ),
            model_quality: gauge(
                &r,
                "driftscope_model_quality",
                "Model quality on the reference (dataset=reference) and on the last labelled window (dataset=current).",
                &["monitor", "metric", "dataset"],
            ),
            model_quality_degraded: int_gauge(
                &r,
                "driftscope_model_quality_degraded",
                "1 if the metric in the last labelled window is worse than the reference by more than alerting.quality_tolerance.",
                &["monitor", "metric"],
            ),
            labelled_windows: counter(
                &r,
                "driftscope_labelled_windows_evaluated_total",
                "Labelled windows evaluated and published.",
                m,
            ),
            info_extra_labels: extra_info_labels.to_vec(),
            monitor_info: int_gauge(
                &r,
                "driftscope_monitor_info",
                "Always 1; labels carry the monitor's alert routing metadata from monitors.yaml.",
                &info_labels,
            ),
            alert_for_windows: int_gauge(
                &r,
                "driftscope_monitor_alert_for_windows",
                "Consecutive evaluated windows a drift condition must hold before alerting (alerting.for_windows).",
                m,
            ),
            no_data_seconds: gauge(
                &r,
                "driftscope_monitor_no_data_seconds",
                "Alert when no row arrived or no window was evaluated for this long (alerting.no_data_after).",
                m,
            ),
            data_quality_threshold: gauge(
                &r,
                "driftscope_monitor_data_quality_threshold",
                "Data-quality alert thresholds (check=missing: alerting.max_missing_ratio, check=new_category: alerting.max_new_category_ratio).",
                &["monitor", "check"],
            ),
            last_ingest: gauge(
                &r,
                "driftscope_last_ingest_timestamp_seconds",
                "Unix time of the last accepted row (the service start time before the first).",
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
                "Windows closed without a verdict (reason=below_min_rows, labelled_below_min_rows).",
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
                "Rows accepted by POST /v1/monitors/{monitor}/rows and kept by the window (dropped rows are counted in driftscope_rows_dropped_total instead).",
                m,
            ),
            rows_dropped: counter(
                &r,
                "driftscope_rows_dropped_total",
                "Rows received but dropped (reason=late: older than every open time window; window_full: the time window held max_rows; future: event time more than window.max_future_skew ahead of the server clock).",
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
                "Requests rejected as a whole, by error code (monitor=_unknown: a monitor that does not exist; _none: not addressed to a monitor).",
                &["monitor", "code"],
            ),
            labels_received: counter(
                &r,
                "driftscope_labels_received_total",
                "Label items received by POST /v1/monitors/{monitor}/labels.",
                m,
            ),
            labels_matched: counter(
                &r,
                "driftscope_labels_matched_total",
                "Label items joined to a waiting prediction.",
                m,
            ),
            labels_unmatched: counter(
                &r,
                "driftscope_labels_unmatched_total",
                "Label items not joined (reason=unknown_id, duplicate, invalid_id, invalid_target).",
                &["monitor", "reason"],
            ),
            predictions_expired: counter(
                &r,
                "driftscope_predictions_expired_unlabelled_total",
                "Predictions dropped from the label join buffer unlabelled (older than label_join.max_age or beyond label_join.max_pending).",
                m,
            ),
            labels_pending: int_gauge(
                &r,
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
                &r,
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
            reference_info: int_gauge(
                &r,
                "driftscope_reference_info",
                "Always 1; the fingerprint label is the SHA-256 (first 16 hex digits) of the monitor's reference file. State coded against another file is not reused.",
                &["monitor", "fingerprint"],
            ),
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
        }
    }

    /// Records the outcome of a config reload.
    pub fn reload_outcome(&self, success: bool) {
        self.reload_successful.set(i64::from(success));
        if success {
            self.reload_success_timestamp
                .set(crate::check::report::unix_now());
        }
    }

    /// Removes every series of `monitor` for which `keep(labels)` is false, where `labels`
    /// are the series' label pairs: a reload drops removed monitors and columns this way.
    pub fn forget(&self, monitor: &str, keep: &KeepSeries<'_>) {
        for vec in self.per_monitor() {
            vec.forget(monitor, keep);
        }
    }

    /// Every metric family with a `monitor` label.
    fn per_monitor(&self) -> Vec<&dyn Forget> {
        let mut all: Vec<&dyn Forget> = Vec::new();
        for gauges in [&self.feature, &self.prediction, &self.target] {
            all.extend([
                &gauges.score as &dyn Forget,
                &gauges.p_value,
                &gauges.p_value_adjusted,
                &gauges.threshold,
                &gauges.effect_size,
                &gauges.min_effect,
                &gauges.detected,
                &gauges.streak,
            ]);
        }
        all.extend([
            &self.feature_missing_ratio as &dyn Forget,
            &self.feature_invalid_ratio,
            &self.feature_out_of_range_ratio,
            &self.feature_new_category_ratio,
            &self.dataset_share,
            &self.dataset_detected,
            &self.dataset_streak,
            &self.drifted_features,
            &self.window_rows,
            &self.last_evaluation,
            &self.reference_rows,
            &self.concept_score,
            &self.concept_p_value,
            &self.concept_detected,
            &self.concept_streak,
            &self.concept_change_detected,
            &self.concept_change_points,
            &self.model_quality,
            &self.model_quality_degraded,
            &self.labelled_windows,
            &self.monitor_info,
            &self.alert_for_windows,
            &self.no_data_seconds,
            &self.data_quality_threshold,
            &self.last_ingest,
            &self.windows_evaluated,
            &self.windows_skipped,
            &self.drift_windows,
            &self.rows_ingested,
            &self.rows_dropped,
            &self.values_invalid,
            &self.requests_rejected,
            &self.labels_received,
            &self.labels_matched,
            &self.labels_unmatched,
            &self.predictions_expired,
            &self.labels_pending,
            &self.evaluation_duration,
            &self.reference_info,
        ]);
        all
    }

    /// Counts a connection that ended in an error of `kind` (one of [`CONNECTION_ERROR_KINDS`]).
    pub fn connection_error(&self, kind: &str) {
        self.http_connection_errors.with_label_values(&[kind]).inc();
    }

    /// Creates the monitor's series with initial values so they exist before the first window:
    /// counters at 0, thresholds, alerting metadata, reference quality, and "last seen"
    /// timestamps at the start time (so no-data alerts fire even if nothing ever arrives).
    /// Takes the parts of the monitor's model it reads (the engine calls it with its model).
    pub fn register_monitor(
        &self,
        spec: &MonitorSpec,
        checks: &[ColumnCheck],
        labelled: Option<&LabelledModel>,
        reference_rows: usize,
        fingerprint: &str,
    ) {
        let monitor = spec.name.as_str();
        self.reference_rows
            .with_label_values(&[monitor])
            .set(reference_rows as i64);
        let fingerprint = fingerprint.get(..16).unwrap_or(fingerprint);
        self.reference_info
            .with_label_values(&[monitor, fingerprint])
            .set(1);
        for counter in [
            &self.windows_evaluated,
            &self.drift_windows,
            &self.rows_ingested,
            &self.labelled_windows,
            &self.labels_received,
            &self.labels_matched,
            &self.predictions_expired,
        ] {
            counter.with_label_values(&[monitor]);
        }
        self.labels_pending.with_label_values(&[monitor]).set(0);
        for reason in ["below_min_rows", "labelled_below_min_rows"] {
            self.windows_skipped.with_label_values(&[monitor, reason]);
        }
        for reason in DROP_REASONS {
            self.rows_dropped.with_label_values(&[monitor, reason]);
        }
        for code in REJECTION_CODES {
            self.requests_rejected.with_label_values(&[monitor, code]);
        }
        for reason in UNMATCHED_REASONS {
            self.labels_unmatched
                .with_label_values(&[monitor, reason.as_str()]);
        }
        for check in checks {
            self.values_invalid
                .with_label_values(&[monitor, &check.name]);
            let gauges = self.gauges(check.role);
            let labels = [monitor, check.name.as_str(), check.test.as_str()];
            gauges
                .threshold
                .with_label_values(&labels)
                .set(check.threshold);
            gauges
                .min_effect
                .with_label_values(&labels)
                .set(check.rule.min_effect);
        }
        if let Some(id) = &spec.id {
            self.values_invalid.with_label_values(&[monitor, id]);
        }
        let now = crate::check::report::unix_now();
        self.last_ingest.with_label_values(&[monitor]).set(now);
        self.last_evaluation.with_label_values(&[monitor]).set(now);
        let alerting = &spec.alerting;
        let mut info: Vec<&str> = vec![monitor, &alerting.severity, &alerting.team];
        for name in &self.info_extra_labels {
            info.push(alerting.labels.get(name).map_or("", String::as_str));
        }
        self.monitor_info.with_label_values(&info).set(1);
        self.alert_for_windows
            .with_label_values(&[monitor])
            .set(i64::from(alerting.for_windows));
        self.no_data_seconds
            .with_label_values(&[monitor])
            .set(alerting.no_data_after.as_secs_f64());
        self.data_quality_threshold
            .with_label_values(&[monitor, "missing"])
            .set(alerting.max_missing_ratio);
        self.data_quality_threshold
            .with_label_values(&[monitor, "new_category"])
            .set(alerting.max_new_category_ratio);
        if let Some(model) = labelled {
            for (metric, value) in &model.reference_quality {
                self.model_quality
                    .with_label_values(&[monitor, metric.as_str(), "reference"])
                    .set(*value);
            }
            if model.task.is_some() {
                self.concept_change_detected
                    .with_label_values(&[monitor, DETECTOR])
                    .set(0);
                self.concept_change_points
                    .with_label_values(&[monitor, DETECTOR]);
            }
        }
    }

    fn gauges(&self, role: Role) -> &ColumnGauges {
        match role {
            Role::Feature => &self.feature,
            Role::Prediction => &self.prediction,
            Role::Target => &self.target,
        }
    }

    /// Publishes one column's latest result. A column without a score (no usable value in the
    /// window) has its score and p-value series removed rather than set to NaN or left stale.
    pub fn publish_column(
        &self,
        monitor: &str,
        check: &ColumnCheck,
        report: &ColumnReport,
        streak: u32,
    ) {
        let g = self.gauges(check.role);
        let outcome = &report.outcome;
        let labels = [monitor, check.name.as_str(), check.test.as_str()];
        g.threshold
            .with_label_values(&labels)
            .set(outcome.threshold);
        set_or_remove(&g.score, &labels, outcome.score);
        set_or_remove(&g.p_value, &labels, outcome.p_value);
        set_or_remove(&g.p_value_adjusted, &labels, outcome.p_value_adjusted);
        set_or_remove(&g.effect_size, &labels, outcome.effect_size);
        let column = [monitor, check.name.as_str()];
        g.detected
            .with_label_values(&column)
            .set(i64::from(outcome.drifted));
        g.streak.with_label_values(&column).set(i64::from(streak));
        if check.role == Role::Feature {
            self.feature_missing_ratio
                .with_label_values(&column)
                .set(report.missing_ratio);
            self.feature_invalid_ratio
                .with_label_values(&column)
                .set(report.invalid_ratio);
            self.feature_out_of_range_ratio
                .with_label_values(&column)
                .set(report.out_of_range_ratio);
            self.feature_new_category_ratio
                .with_label_values(&column)
                .set(report.new_category_ratio);
        }
    }

    /// Publishes the dataset-level result of a window.
    pub fn publish_dataset(
        &self,
        monitor: &str,
        d: &DatasetDrift,
        rows: usize,
        streak: u32,
        at: f64,
    ) {
        self.dataset_share
            .with_label_values(&[monitor])
            .set(d.drift_share);
        self.dataset_detected
            .with_label_values(&[monitor])
            .set(i64::from(d.drifted));
        self.dataset_streak
            .with_label_values(&[monitor])
            .set(i64::from(streak));
        self.drifted_features
            .with_label_values(&[monitor])
            .set(d.drifted_features as i64);
        self.window_rows
            .with_label_values(&[monitor])
            .set(rows as i64);
        self.last_evaluation.with_label_values(&[monitor]).set(at);
        self.windows_evaluated.with_label_values(&[monitor]).inc();
        if d.drifted {
            self.drift_windows.with_label_values(&[monitor]).inc();
        }
    }

    /// Publishes a labelled window's concept drift, quality and detector state.
    pub fn publish_labelled(
        &self,
        monitor: &str,
        report: &LabelledReport,
        concept_streak: u32,
        change_detected: bool,
    ) {
        if let Some(concept) = &report.concept {
            for t in &concept.tests {
                self.concept_score
                    .with_label_values(&[monitor, t.test.as_str()])
                    .set(t.result.score);
                self.concept_p_value
                    .with_label_values(&[monitor, t.test.as_str()])
                    .set(t.result.p_value);
            }
            self.concept_detected
                .with_label_values(&[monitor])
                .set(i64::from(concept.drifted));
            self.concept_streak
                .with_label_values(&[monitor])
                .set(i64::from(concept_streak));
            self.concept_change_detected
                .with_label_values(&[monitor, DETECTOR])
                .set(i64::from(change_detected));
        }
        for q in &report.quality {
            self.model_quality
                .with_label_values(&[monitor, q.metric.as_str(), "current"])
                .set(q.current);
            if q.reference.is_some() {
                self.model_quality_degraded
                    .with_label_values(&[monitor, q.metric.as_str()])
                    .set(i64::from(q.degraded));
            }
        }
        self.last_evaluation
            .with_label_values(&[monitor])
            .set(crate::check::report::unix_now());
        self.labelled_windows.with_label_values(&[monitor]).inc();
    }

    /// Records a change point of the online detector.
    pub fn concept_change(&self, monitor: &str) {
        self.concept_change_points
            .with_label_values(&[monitor, DETECTOR])
            .inc();
        self.concept_change_detected
            .with_label_values(&[monitor, DETECTOR])
            .set(1);
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        // Encoding into a Vec only fails on invalid metric data, which `new` rules out.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buffer);
        String::from_utf8(buffer).unwrap_or_default()
    }
}

/// Decides, from a series' label pairs, whether it stays.
pub type KeepSeries<'a> = dyn Fn(&[(&str, &str)]) -> bool + 'a;

/// A metric family whose series can be removed by label values.
trait Forget {
    fn forget(&self, monitor: &str, keep: &KeepSeries<'_>);
}

impl<T: prometheus::core::MetricVecBuilder> Forget for prometheus::core::MetricVec<T> {
    fn forget(&self, monitor: &str, keep: &KeepSeries<'_>) {
        use prometheus::core::Collector;
        for family in self.collect() {
            for metric in family.get_metric() {
                let labels: Vec<(&str, &str)> = metric
                    .get_label()
                    .iter()
                    .map(|l| (l.name(), l.value()))
                    .collect();
                let ours = labels.iter().any(|&(n, v)| n == "monitor" && v == monitor);
                if ours && !keep(&labels) {
                    let by_name: std::collections::HashMap<&str, &str> =
                        labels.iter().copied().collect();
                    let _ = self.remove(&by_name);
                }
            }
        }
    }
}

fn set_or_remove(gauge: &GaugeVec, labels: &[&str], value: Option<f64>) {
    match value {
        Some(v) => gauge.with_label_values(labels).set(v),
        None => {
            // Absent already is fine: there is nothing stale to remove.
            let _ = gauge.remove_label_values(labels);
        }
    }
}
