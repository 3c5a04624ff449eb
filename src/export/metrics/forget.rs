//! Removing a monitor's series (a reload drops removed monitors and columns).

use std::sync::PoisonError;

use prometheus::core::Collector;

use super::Metrics;
use super::window::WindowSeries;

impl Metrics {
    /// Removes every series of `monitor` for which `keep(labels)` is false, where `labels`
    /// are the series' label pairs: a reload drops removed monitors and columns this way. A
    /// monitor left without window series loses its window registry too.
    pub fn forget(&self, monitor: &str, keep: &KeepSeries<'_>) {
        for vec in self.live_per_monitor() {
            vec.forget(monitor, keep);
        }
        let mut monitors = self
            .monitors
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(series) = monitors.get(monitor) else {
            return;
        };
        for vec in window_families(series) {
            vec.forget(monitor, keep);
        }
        if series.registry.gather().is_empty() {
            monitors.remove(monitor);
        } else {
            self.changed(series);
        }
    }

    /// Every family with a `monitor` label that anyone may change.
    pub(super) fn live_per_monitor(&self) -> [&dyn Forget; 14] {
        [
            &self.last_ingest as &dyn Forget,
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
        ]
    }
}

/// Every family of a monitor's window registry.
fn window_families(w: &WindowSeries) -> Vec<&dyn Forget> {
    let mut all: Vec<&dyn Forget> = Vec::new();
    for gauges in [&w.feature, &w.prediction, &w.target, &w.latency] {
        all.extend([
            &gauges.score as &dyn Forget,
            &gauges.p_value,
            &gauges.p_value_adjusted,
            &gauges.p_value_lower_bound,
            &gauges.threshold,
            &gauges.effect_size,
            &gauges.min_effect,
            &gauges.detected,
            &gauges.streak,
        ]);
    }
    all.extend([
        &w.feature_missing_ratio as &dyn Forget,
        &w.feature_invalid_ratio,
        &w.feature_out_of_range_ratio,
        &w.feature_new_category_ratio,
        &w.dataset_share,
        &w.dataset_detected,
        &w.dataset_streak,
        &w.drifted_features,
        &w.window_rows,
        &w.last_evaluation,
        &w.reference_rows,
        &w.concept_score,
        &w.concept_p_value,
        &w.concept_detected,
        &w.concept_streak,
        &w.concept_change_detected,
        &w.concept_change_points,
        &w.model_quality,
        &w.model_quality_degraded,
        &w.model_quality_estimated_degraded,
        &w.labelled_windows,
        &w.monitor_info,
        &w.alert_for_windows,
        &w.no_data_seconds,
        &w.data_quality_threshold,
        &w.reference_info,
        &w.prediction_latency,
        &w.slow_predictions,
        &w.slow_prediction_threshold,
        &w.slow_prediction_max_ratio,
    ]);
    all
}

/// Decides, from a series' label pairs, whether it stays.
pub type KeepSeries<'a> = dyn Fn(&[(&str, &str)]) -> bool + 'a;

/// A metric family with a `monitor` label, whose series can be removed by label values.
pub(super) trait Forget: Collector {
    fn forget(&self, monitor: &str, keep: &KeepSeries<'_>);
}

impl<T: prometheus::core::MetricVecBuilder> Forget for prometheus::core::MetricVec<T> {
    fn forget(&self, monitor: &str, keep: &KeepSeries<'_>) {
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
