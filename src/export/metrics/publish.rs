//! A monitor's series: created with initial values at start-up, then set from each window's
//! results.

use prometheus::GaugeVec;

use super::window::WindowSeries;
use super::{DETECTOR, DROP_REASONS, Metrics, REJECTION_CODES};
use crate::check::report::{ColumnReport, DatasetDrift};
use crate::check::{ColumnCheck, Role};
use crate::config::{AlertingSpec, MonitorSpec};
use crate::labelled::join::UNMATCHED_REASONS;
use crate::labelled::{EstimatedQuality, LabelledModel, LabelledReport, estimate};

impl Metrics {
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
        let w = self.window(monitor);
        w.reference_rows
            .with_label_values(&[monitor])
            .set(reference_rows as i64);
        let fingerprint = fingerprint.get(..16).unwrap_or(fingerprint);
        w.reference_info
            .with_label_values(&[monitor, fingerprint])
            .set(1);
        for counter in [
            &self.windows_evaluated,
            &self.drift_windows,
            &self.rows_ingested,
            &w.labelled_windows,
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
            register_test(&w, monitor, check);
        }
        if let Some(id) = &spec.id {
            self.values_invalid.with_label_values(&[monitor, id]);
        }
        let now = crate::check::report::unix_now();
        self.last_ingest.with_label_values(&[monitor]).set(now);
        w.last_evaluation.with_label_values(&[monitor]).set(now);
        let alerting = &spec.alerting;
        let mut info: Vec<&str> = vec![monitor, &alerting.severity, &alerting.team];
        for name in &self.info_extra_labels {
            info.push(alerting.labels.get(name).map_or("", String::as_str));
        }
        w.monitor_info.with_label_values(&info).set(1);
        w.alert_for_windows
            .with_label_values(&[monitor])
            .set(i64::from(alerting.for_windows));
        w.no_data_seconds
            .with_label_values(&[monitor])
            .set(alerting.no_data_after.as_secs_f64());
        w.data_quality_threshold
            .with_label_values(&[monitor, "missing"])
            .set(alerting.max_missing_ratio);
        w.data_quality_threshold
            .with_label_values(&[monitor, "new_category"])
            .set(alerting.max_new_category_ratio);
        if let Some(model) = labelled {
            for (metric, value) in &model.reference_quality {
                w.model_quality
                    .with_label_values(&[monitor, metric.as_str(), "reference"])
                    .set(*value);
            }
            if model.task.is_some() {
                w.concept_change_detected
                    .with_label_values(&[monitor, DETECTOR])
                    .set(0);
                w.concept_change_points
                    .with_label_values(&[monitor, DETECTOR]);
            }
        }
        self.changed(&w);
    }

    /// Creates the series of a monitor's latency column: the histogram and slow counter at 0,
    /// the slow threshold and share and, with a reference latency column, its drift test's
    /// threshold.
    pub fn register_latency(
        &self,
        monitor: &str,
        column: &str,
        check: Option<&ColumnCheck>,
        alerting: &AlertingSpec,
    ) {
        let w = self.window(monitor);
        w.prediction_latency.with_label_values(&[monitor]);
        w.slow_predictions.with_label_values(&[monitor]);
        w.slow_prediction_threshold
            .with_label_values(&[monitor])
            .set(alerting.slow_prediction_seconds);
        w.slow_prediction_max_ratio
            .with_label_values(&[monitor])
            .set(alerting.max_slow_prediction_ratio);
        self.values_invalid.with_label_values(&[monitor, column]);
        if let Some(check) = check {
            register_test(&w, monitor, check);
        }
        self.changed(&w);
    }

    /// Observes a published window's latencies (seconds) and its `slow` predictions.
    pub fn observe_latency(&self, monitor: &str, seconds: impl Iterator<Item = f64>, slow: u64) {
        let w = self.window(monitor);
        let histogram = w.prediction_latency.with_label_values(&[monitor]).local();
        for s in seconds {
            histogram.observe(s);
        }
        histogram.flush();
        w.slow_predictions
            .with_label_values(&[monitor])
            .inc_by(slow);
        self.changed(&w);
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
        let w = self.window(monitor);
        let g = w.gauges(check.role);
        let outcome = &report.outcome;
        let labels = [monitor, check.name.as_str(), check.test.as_str()];
        g.threshold
            .with_label_values(&labels)
            .set(outcome.threshold);
        set_or_remove(&g.score, &labels, outcome.score);
        set_or_remove(&g.p_value, &labels, outcome.p_value);
        set_or_remove(&g.p_value_adjusted, &labels, outcome.p_value_adjusted);
        set_or_remove(
            &g.p_value_lower_bound,
            &labels,
            outcome.approximation.map(|a| a.p_value_lower),
        );
        set_or_remove(&g.effect_size, &labels, outcome.effect_size);
        let column = [monitor, check.name.as_str()];
        g.detected
            .with_label_values(&column)
            .set(i64::from(outcome.drifted));
        g.streak.with_label_values(&column).set(i64::from(streak));
        if check.role == Role::Feature {
            w.feature_missing_ratio
                .with_label_values(&column)
                .set(report.missing_ratio);
            w.feature_invalid_ratio
                .with_label_values(&column)
                .set(report.invalid_ratio);
            w.feature_out_of_range_ratio
                .with_label_values(&column)
                .set(report.out_of_range_ratio);
            w.feature_new_category_ratio
                .with_label_values(&column)
                .set(report.new_category_ratio);
        }
        self.changed(&w);
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
        let w = self.window(monitor);
        w.dataset_share
            .with_label_values(&[monitor])
            .set(d.drift_share);
        w.dataset_detected
            .with_label_values(&[monitor])
            .set(i64::from(d.drifted));
        w.dataset_streak
            .with_label_values(&[monitor])
            .set(i64::from(streak));
        w.drifted_features
            .with_label_values(&[monitor])
            .set(d.drifted_features as i64);
        w.window_rows.with_label_values(&[monitor]).set(rows as i64);
        w.last_evaluation.with_label_values(&[monitor]).set(at);
        self.windows_evaluated.with_label_values(&[monitor]).inc();
        if d.drifted {
            self.drift_windows.with_label_values(&[monitor]).inc();
        }
        self.changed(&w);
    }

    /// Publishes a labelled window's concept drift, quality and detector state.
    pub fn publish_labelled(
        &self,
        monitor: &str,
        report: &LabelledReport,
        concept_streak: u32,
        change_detected: bool,
    ) {
        let w = self.window(monitor);
        if let Some(concept) = &report.concept {
            for t in &concept.tests {
                w.concept_score
                    .with_label_values(&[monitor, t.test.as_str()])
                    .set(t.result.score);
                w.concept_p_value
                    .with_label_values(&[monitor, t.test.as_str()])
                    .set(t.result.p_value);
            }
            w.concept_detected
                .with_label_values(&[monitor])
                .set(i64::from(concept.drifted));
            w.concept_streak
                .with_label_values(&[monitor])
                .set(i64::from(concept_streak));
            w.concept_change_detected
                .with_label_values(&[monitor, DETECTOR])
                .set(i64::from(change_detected));
        }
        for q in &report.quality {
            w.model_quality
                .with_label_values(&[monitor, q.metric.as_str(), "current"])
                .set(q.current);
            if q.reference.is_some() {
                w.model_quality_degraded
                    .with_label_values(&[monitor, q.metric.as_str()])
                    .set(i64::from(q.degraded));
            }
        }
        w.last_evaluation
            .with_label_values(&[monitor])
            .set(crate::check::report::unix_now());
        w.labelled_windows.with_label_values(&[monitor]).inc();
        self.changed(&w);
    }

    /// Publishes a feature window's quality estimated without labels (CBPE). A metric the
    /// window has no estimate for (no usable probability, or ROC AUC undefined) loses its
    /// series rather than keeping an older window's value.
    pub fn publish_estimated(&self, monitor: &str, estimated: &[EstimatedQuality]) {
        let w = self.window(monitor);
        for metric in estimate::METRICS {
            let name = metric.as_str();
            match estimated.iter().find(|q| q.metric == metric) {
                Some(q) => {
                    w.model_quality
                        .with_label_values(&[monitor, name, "estimated"])
                        .set(q.estimated);
                    if q.reference.is_some() {
                        w.model_quality_estimated_degraded
                            .with_label_values(&[monitor, name])
                            .set(i64::from(q.degraded));
                    }
                }
                None => {
                    // Absent already is fine: there is nothing stale to remove.
                    let _ = w
                        .model_quality
                        .remove_label_values(&[monitor, name, "estimated"]);
                    let _ = w
                        .model_quality_estimated_degraded
                        .remove_label_values(&[monitor, name]);
                }
            }
        }
        self.changed(&w);
    }

    /// Records a change point of the online detector.
    pub fn concept_change(&self, monitor: &str) {
        let w = self.window(monitor);
        w.concept_change_points
            .with_label_values(&[monitor, DETECTOR])
            .inc();
        w.concept_change_detected
            .with_label_values(&[monitor, DETECTOR])
            .set(1);
        self.changed(&w);
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

/// A column's test settings, set once: its threshold and effect floor.
fn register_test(w: &WindowSeries, monitor: &str, check: &ColumnCheck) {
    let gauges = w.gauges(check.role);
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
