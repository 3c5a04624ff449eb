//! Removing a monitor's series (a reload drops removed monitors and columns).

use super::Metrics;

impl Metrics {
    /// Removes every series of `monitor` for which `keep(labels)` is false, where `labels`
    /// are the series' label pairs: a reload drops removed monitors and columns this way.
    pub fn forget(&self, monitor: &str, keep: &KeepSeries<'_>) {
        for vec in self.per_monitor() {
            vec.forget(monitor, keep);
        }
        self.changed();
    }

    /// Every metric family with a `monitor` label.
    fn per_monitor(&self) -> Vec<&dyn Forget> {
        let mut all: Vec<&dyn Forget> = Vec::new();
        for gauges in [&self.feature, &self.prediction, &self.target, &self.latency] {
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
            &self.model_quality_estimated_degraded,
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
            &self.prediction_latency,
            &self.slow_predictions,
            &self.slow_prediction_threshold,
            &self.slow_prediction_max_ratio,
        ]);
        all
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
