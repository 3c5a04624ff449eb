//! Publishing a monitor's metrics: what each event did (invalid values, expiries, change
//! points), the gauges of the latest windows, and all of them again after a restart or reload.

use super::{Monitor, lock};
use crate::check::report::unix_now;
use crate::engine::evaluate::WindowReport;
use crate::engine::model::MonitorModel;
use crate::engine::results::Results;
use crate::engine::state::Outputs;
use crate::export::metrics::Metrics;
use crate::window::ClosedWindow;

/// Creates the series of the monitor's latency column, when it has one.
pub(super) fn register_latency(metrics: &Metrics, model: &MonitorModel) {
    if let Some(latency) = &model.latency {
        metrics.register_latency(
            model.name(),
            &latency.column,
            latency.check.as_ref(),
            &model.spec.alerting,
        );
    }
}

impl Monitor {
    /// Records the join buffer's expiries and size and the detector's change points.
    pub(super) fn record(&self, out: &Outputs) {
        let name = [self.name()];
        let m = &self.metrics;
        m.predictions_expired
            .with_label_values(&name)
            .inc_by(out.expired);
        m.labels_pending
            .with_label_values(&name)
            .set(out.pending as i64);
        for _ in 0..out.change_points {
            m.concept_change(self.name());
            tracing::warn!(
                monitor = self.name(),
                "Concept change point detected (Page-Hinkley)."
            );
        }
    }

    pub(super) fn count_invalid(&self, invalid: &[u64], invalid_ids: u64) {
        let name = self.name();
        for (check, &count) in self.model.checks.iter().zip(invalid) {
            if count > 0 {
                self.metrics
                    .values_invalid
                    .with_label_values(&[name, &check.name])
                    .inc_by(count);
            }
        }
        if invalid_ids > 0
            && let Some(id) = &self.model.spec.id
        {
            self.metrics
                .values_invalid
                .with_label_values(&[name, id])
                .inc_by(invalid_ids);
        }
    }

    /// Observes a published window's latencies: here, once per published window, never on
    /// replay or republish (see `engine::latency`).
    pub(super) fn observe_latency(&self, window: &ClosedWindow, report: &WindowReport) {
        let model = &self.model;
        if let (Some(latency), Some(values), Some(summary)) = (
            &model.latency,
            model.latency_values(window),
            &report.latency,
        ) {
            self.metrics
                .observe_latency(self.name(), latency.seconds(values), summary.slow);
        }
    }

    /// Counts a request's latencies that were not a number ≥ 0.
    pub(super) fn count_invalid_latency(&self, invalid: u64) {
        if let Some(latency) = self.model.latency.as_ref().filter(|_| invalid > 0) {
            self.metrics
                .values_invalid
                .with_label_values(&[self.name(), &latency.column])
                .inc_by(invalid);
        }
    }

    /// Sets the gauges of the latest feature window.
    pub(super) fn publish_window(&self, results: &Results, evaluated_at: f64) {
        let Some(report) = &results.latest else {
            return;
        };
        let name = self.name();
        for check in self.model.checks.iter() {
            let column = report
                .features
                .iter()
                .chain(&report.predictions)
                .find(|c| c.name == check.name);
            if let Some(c) = column {
                let streak = results.column_streak(&check.name);
                self.metrics.publish_column(name, check, c, streak);
            }
        }
        self.metrics.publish_estimated(name, &report.estimated);
        if let (Some(check), Some(drift)) = (
            self.model.latency.as_ref().and_then(|l| l.check.as_ref()),
            report.latency.as_ref().and_then(|l| l.drift.as_ref()),
        ) {
            let streak = results.column_streak(&check.name);
            self.metrics.publish_column(name, check, drift, streak);
        }
        self.metrics.publish_dataset(
            name,
            &report.dataset,
            report.rows,
            results.dataset_streak,
            evaluated_at,
        );
    }

    /// Sets the gauges of the latest labelled window.
    pub(super) fn publish_labelled(&self, results: &Results, change_detected: bool) {
        let (Some(report), Some(target)) = (&results.labelled_latest, self.model.roles.target)
        else {
            return;
        };
        let name = self.name();
        let check = &self.model.checks[target];
        let streak = results.column_streak(&check.name);
        self.metrics
            .publish_column(name, check, &report.target, streak);
        self.metrics
            .publish_labelled(name, report, results.concept_streak, change_detected);
    }

    /// Restores the gauges from results carried over a restart or reload.
    pub(super) fn republish(&self) {
        // State before results, the order `checkpoint` takes them in.
        let pending = self.lock_core().state.join.len();
        self.metrics
            .labels_pending
            .with_label_values(&[self.name()])
            .set(pending as i64);
        let results = lock(&self.results);
        if results.latest.is_some() {
            self.publish_window(&results, unix_now());
        }
        self.publish_labelled(&results, false);
    }
}
