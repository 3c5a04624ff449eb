//! Every metric family: names, help texts and label names, registered once at start-up.

use prometheus::{IntGauge, Registry, exponential_buckets};

use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use super::render::Cached;
use super::{
    CONNECTION_ERROR_KINDS, ColumnGauges, LATENCY_BUCKETS, Metrics, counter, gauge, histogram,
    int_gauge,
};

impl Metrics {
    /// Registers every metric (and the process collector) in a fresh registry. The label names
    /// of `driftscope_monitor_info` are `monitor`, `severity`, `team` and every key of any
    /// monitor's `alerting.labels` (`extra_info_labels`), empty where a monitor lacks one.
    pub fn new(extra_info_labels: &[String]) -> Self {
        let r = Registry::new();
        // Families only `Metrics`' own methods change (see `render`).
        let w = Registry::new();
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
            feature: ColumnGauges::new(&w, "feature", "feature", "feature"),
            prediction: ColumnGauges::new(&w, "prediction", "column", "prediction column"),
            target: ColumnGauges::new(&w, "target", "column", "target column"),
            latency: ColumnGauges::new(&w, "latency", "column", "latency column"),
            prediction_latency: histogram(
                &w,
                "driftscope_prediction_latency_seconds",
                "Prediction latencies from the monitor's latency column, observed when their window is published.",
                m,
                LATENCY_BUCKETS.to_vec(),
            ),
            slow_predictions: counter(
                &w,
                "driftscope_slow_predictions_total",
                "Predictions slower than alerting.slow_prediction_seconds, counted when their window is published.",
                m,
            ),
            slow_prediction_threshold: gauge(
                &w,
                "driftscope_slow_prediction_threshold_seconds",
                "The monitor's alerting.slow_prediction_seconds.",
                m,
            ),
            slow_prediction_max_ratio: gauge(
                &w,
                "driftscope_slow_prediction_max_ratio",
                "The monitor's alerting.max_slow_prediction_ratio: the slow share DriftscopeSlowPredictions tolerates.",
                m,
            ),
            feature_missing_ratio: gauge(
                &w,
                "driftscope_feature_missing_ratio",
                "Share of the last window's rows where the feature was absent or null.",
                mf,
            ),
            feature_invalid_ratio: gauge(
                &w,
                "driftscope_feature_invalid_ratio",
                "Share of the last window's rows where the feature had the wrong type.",
                mf,
            ),
            feature_out_of_range_ratio: gauge(
                &w,
                "driftscope_feature_out_of_range_ratio",
                "Share of the last window's rows where the numeric feature was outside the reference min-max.",
                mf,
            ),
            feature_new_category_ratio: gauge(
                &w,
                "driftscope_feature_new_category_ratio",
                "Share of the last window's rows where the categorical feature had a category never seen in the reference.",
                mf,
            ),
            dataset_share: gauge(
                &w,
                "driftscope_dataset_drift_share",
                "Share of evaluated features that drifted in the last evaluated window.",
                m,
            ),
            dataset_detected: int_gauge(
                &w,
                "driftscope_dataset_drift_detected",
                "1 if the drifted share reached the monitor's drift_share in the last evaluated window.",
                m,
            ),
            dataset_streak: int_gauge(
                &w,
                "driftscope_dataset_drift_streak_windows",
                "Consecutive evaluated windows with dataset drift (0 after one without).",
                m,
            ),
            drifted_features: int_gauge(
                &w,
                "driftscope_drifted_features",
                "Number of features that drifted in the last evaluated window.",
                m,
            ),
            window_rows: int_gauge(
                &w,
                "driftscope_window_rows",
                "Rows in the last evaluated window.",
                m,
            ),
            last_evaluation: gauge(
                &w,
                "driftscope_last_evaluation_timestamp_seconds",
                "Unix time of the last window evaluation (the service start time before the first).",
                m,
            ),
            reference_rows: int_gauge(
                &w,
                "driftscope_reference_rows",
                "Rows in the monitor's reference file.",
                m,
            ),
            concept_score: gauge(
                &w,
                "driftscope_concept_drift_score",
                "Concept-drift statistic of the last labelled window (test: label_given_prediction = summed chi-square, error_rate = error-rate change, residual_ks = KS D).",
                &["monitor", "test"],
            ),
            concept_p_value: gauge(
                &w,
                "driftscope_concept_drift_p_value",
                "p-value of the concept-drift test in the last labelled window.",
                &["monitor", "test"],
            ),
            concept_detected: int_gauge(
                &w,
                "driftscope_concept_drift_detected",
                "1 if the last labelled window showed concept drift, else 0.",
                m,
            ),
            concept_streak: int_gauge(
                &w,
                "driftscope_concept_drift_streak_windows",
                "Consecutive labelled windows with concept drift.",
                m,
            ),
            concept_change_detected: int_gauge(
                &w,
                "driftscope_concept_change_detected",
                "1 from an online change point of the error stream until a labelled window closes without one.",
                &["monitor", "detector"],
            ),
            concept_change_points: counter(
                &w,
                "driftscope_concept_change_points_total",
                "Change points of the error stream found by the online detector.",
                &["monitor", "detector"],
            ),
            model_quality: gauge(
                &w,
                "driftscope_model_quality",
                "Model quality on the reference (dataset=reference), on the last labelled window (dataset=current) and estimated without labels on the last feature window (dataset=estimated).",
                &["monitor", "metric", "dataset"],
            ),
            model_quality_degraded: int_gauge(
                &w,
                "driftscope_model_quality_degraded",
                "1 if the metric in the last labelled window is worse than the reference by more than alerting.quality_tolerance.",
                &["monitor", "metric"],
            ),
            model_quality_estimated_degraded: int_gauge(
                &w,
                "driftscope_model_quality_estimated_degraded",
                "1 if the metric estimated without labels (CBPE) in the last feature window is worse than the reference by more than alerting.quality_tolerance.",
                &["monitor", "metric"],
            ),
            labelled_windows: counter(
                &w,
                "driftscope_labelled_windows_evaluated_total",
                "Labelled windows evaluated and published.",
                m,
            ),
            info_extra_labels: extra_info_labels.to_vec(),
            monitor_info: int_gauge(
                &w,
                "driftscope_monitor_info",
                "Always 1; labels carry the monitor's alert routing metadata from monitors.yaml.",
                &info_labels,
            ),
            alert_for_windows: int_gauge(
                &w,
                "driftscope_monitor_alert_for_windows",
                "Consecutive evaluated windows a drift condition must hold before alerting (alerting.for_windows).",
                m,
            ),
            no_data_seconds: gauge(
                &w,
                "driftscope_monitor_no_data_seconds",
                "Alert when no row arrived or no window was evaluated for this long (alerting.no_data_after).",
                m,
            ),
            data_quality_threshold: gauge(
                &w,
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
                &w,
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
            window_registry: w,
            generation: AtomicU64::new(0),
            cache: Mutex::new(Cached::default()),
        }
    }
}
