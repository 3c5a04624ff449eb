//! One monitor's window families: the series only `Metrics`' own methods change, in a registry
//! of their own so a scrape encodes again only the monitors changed since the last one (see
//! `render`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError};

use prometheus::{GaugeVec, HistogramVec, IntCounterVec, IntGaugeVec, Registry};

use super::{ColumnGauges, LATENCY_BUCKETS, Metrics, counter, gauge, histogram, int_gauge};
use crate::check::Role;

/// A monitor's window families (every series carries its `monitor` label) and when they last
/// changed.
#[derive(Debug)]
pub(super) struct WindowSeries {
    /// Holds every family below, and nothing else.
    pub(super) registry: Registry,
    /// Stamped by `Metrics::changed` after every change to the families.
    generation: AtomicU64,
    pub(super) feature: ColumnGauges,
    pub(super) prediction: ColumnGauges,
    pub(super) target: ColumnGauges,
    pub(super) latency: ColumnGauges,
    pub(super) prediction_latency: HistogramVec,
    pub(super) slow_predictions: IntCounterVec,
    pub(super) slow_prediction_threshold: GaugeVec,
    pub(super) slow_prediction_max_ratio: GaugeVec,
    pub(super) feature_missing_ratio: GaugeVec,
    pub(super) feature_invalid_ratio: GaugeVec,
    pub(super) feature_out_of_range_ratio: GaugeVec,
    pub(super) feature_new_category_ratio: GaugeVec,
    pub(super) dataset_share: GaugeVec,
    pub(super) dataset_detected: IntGaugeVec,
    pub(super) dataset_streak: IntGaugeVec,
    pub(super) drifted_features: IntGaugeVec,
    pub(super) window_rows: IntGaugeVec,
    pub(super) last_evaluation: GaugeVec,
    pub(super) reference_rows: IntGaugeVec,
    pub(super) concept_score: GaugeVec,
    pub(super) concept_p_value: GaugeVec,
    pub(super) concept_detected: IntGaugeVec,
    pub(super) concept_streak: IntGaugeVec,
    pub(super) concept_change_detected: IntGaugeVec,
    pub(super) concept_change_points: IntCounterVec,
    pub(super) model_quality: GaugeVec,
    pub(super) model_quality_degraded: IntGaugeVec,
    pub(super) model_quality_estimated_degraded: IntGaugeVec,
    pub(super) labelled_windows: IntCounterVec,
    /// Labels `monitor`, `severity`, `team` and the configured `alerting.labels` keys.
    pub(super) monitor_info: IntGaugeVec,
    pub(super) alert_for_windows: IntGaugeVec,
    pub(super) no_data_seconds: GaugeVec,
    pub(super) data_quality_threshold: GaugeVec,
    pub(super) reference_info: IntGaugeVec,
}

impl WindowSeries {
    /// Registers the window families; `extra_info_labels` as in `Metrics::new`.
    fn new(extra_info_labels: &[String]) -> Self {
        let w = Registry::new();
        let mf = &["monitor", "feature"];
        let m = &["monitor"];
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
            reference_info: int_gauge(
                &w,
                "driftscope_reference_info",
                "Always 1; the fingerprint label is the SHA-256 (first 16 hex digits) of the monitor's reference file. State coded against another file is not reused.",
                &["monitor", "fingerprint"],
            ),
            registry: w,
            generation: AtomicU64::new(0),
        }
    }

    /// The drift gauges of the columns in `role`.
    pub(super) fn gauges(&self, role: Role) -> &ColumnGauges {
        match role {
            Role::Feature => &self.feature,
            Role::Prediction => &self.prediction,
            Role::Target => &self.target,
            Role::Latency => &self.latency,
        }
    }

    /// The stamp of the last change; read it before gathering, so a change during the gather
    /// leaves a newer stamp behind.
    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
}

impl Metrics {
    /// The window families of `monitor`, created empty at its first use.
    pub(super) fn window(&self, monitor: &str) -> Arc<WindowSeries> {
        let monitors = self.monitors.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(series) = monitors.get(monitor) {
            return Arc::clone(series);
        }
        drop(monitors);
        let mut monitors = self
            .monitors
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        Arc::clone(
            monitors
                .entry(monitor.to_owned())
                .or_insert_with(|| Arc::new(WindowSeries::new(&self.info_extra_labels))),
        )
    }

    /// Marks `series` changed; called after every change to it. Stamps come from one counter
    /// for all monitors, so a monitor forgotten and registered again never repeats the stamp
    /// its cached text was encoded at.
    pub(super) fn changed(&self, series: &WindowSeries) {
        let stamp = self.changes.fetch_add(1, Ordering::AcqRel) + 1;
        series.generation.store(stamp, Ordering::Release);
    }
}
