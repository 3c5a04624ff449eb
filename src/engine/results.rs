//! A monitor's published results: the latest reports, recent summaries and alert streaks.
//!
//! Folded from evaluated windows in window order by [`Results::record_window`] and
//! [`Results::record_labelled`], both pure; the evaluator thread applies them, snapshots carry
//! the value, and replay rebuilds it.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::engine::evaluate::WindowReport;
use crate::engine::histogram::Histogram;
use crate::labelled::LabelledReport;

/// Published results of one monitor.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Results {
    /// The latest feature window's report.
    pub latest: Option<Arc<WindowReport>>,
    /// Recent feature windows, oldest first.
    pub history: VecDeque<WindowSummary>,
    /// The latest labelled window's report.
    pub labelled_latest: Option<Arc<LabelledReport>>,
    /// Recent labelled windows, oldest first.
    pub labelled_history: VecDeque<LabelledSummary>,
    /// Consecutive published feature windows with dataset drift.
    pub dataset_streak: u32,
    /// Per column name: consecutive windows in which the column drifted.
    pub column_streaks: BTreeMap<String, u32>,
    /// Consecutive labelled windows with concept drift.
    pub concept_streak: u32,
    /// The latest feature window's distributions against the reference, for the live page
    /// (its values are gone after evaluation); absent in snapshots of older versions.
    #[serde(default)]
    pub latest_histograms: Option<Arc<Vec<Histogram>>>,
}

/// A past window in brief, for `GET /v1/monitors/{monitor}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowSummary {
    /// Window sequence number.
    pub seq: u64,
    /// Window start (RFC 3339).
    pub start: String,
    /// Window end (RFC 3339).
    pub end: String,
    /// Rows in the window.
    pub rows: usize,
    /// Share of drifted features.
    pub drift_share: f64,
    /// Dataset drift verdict.
    pub drifted: bool,
    /// Names of the drifted features.
    pub drifted_features: Vec<String>,
    /// Per column (features, prediction, probability): the test's score (`null` when the
    /// window held no usable value).
    pub scores: BTreeMap<String, Option<f64>>,
}

/// A past labelled window in brief.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelledSummary {
    /// Labelled-window sequence number.
    pub seq: u64,
    /// Window end (RFC 3339).
    pub end: String,
    /// Labelled rows.
    pub rows: usize,
    /// Target drift verdict.
    pub target_drifted: bool,
    /// Concept drift verdict.
    pub concept_drifted: bool,
}

impl Results {
    /// Records a feature window's report, keeping at most `history` summaries; returns the
    /// dataset streak.
    pub fn record_window(&mut self, report: WindowReport, history: usize) -> u32 {
        let columns = report.features.iter().chain(&report.predictions);
        let summary = WindowSummary {
            seq: report.seq,
            start: report.start.clone(),
            end: report.end.clone(),
            rows: report.rows,
            drift_share: report.dataset.drift_share,
            drifted: report.dataset.drifted,
            drifted_features: report
                .features
                .iter()
                .filter(|f| f.outcome.drifted)
                .map(|f| f.name.clone())
                .collect(),
            scores: columns
                .clone()
                .map(|c| (c.name.clone(), c.outcome.score))
                .collect(),
        };
        push_bounded(&mut self.history, summary, history);
        let latency = report.latency.as_ref().and_then(|l| l.drift.as_ref());
        for column in columns.chain(latency) {
            self.bump(&column.name, column.outcome.drifted);
        }
        self.dataset_streak = streak(self.dataset_streak, report.dataset.drifted);
        self.latest = Some(Arc::new(report));
        self.dataset_streak
    }

    /// Records a labelled window's report, keeping at most `history` summaries.
    pub fn record_labelled(&mut self, report: LabelledReport, history: usize) {
        let concept_drifted = report.concept.as_ref().is_some_and(|c| c.drifted);
        let summary = LabelledSummary {
            seq: report.seq,
            end: report.end.clone(),
            rows: report.rows,
            target_drifted: report.target.outcome.drifted,
            concept_drifted,
        };
        push_bounded(&mut self.labelled_history, summary, history);
        self.bump(&report.target.name, report.target.outcome.drifted);
        self.concept_streak = streak(self.concept_streak, concept_drifted);
        self.labelled_latest = Some(Arc::new(report));
    }

    /// Column `name`'s streak.
    pub fn column_streak(&self, name: &str) -> u32 {
        self.column_streaks.get(name).copied().unwrap_or(0)
    }

    /// Keeps only what concerns `columns`, so a reload drops removed columns' streaks.
    pub fn retain_columns(&mut self, columns: &[String]) {
        self.column_streaks.retain(|name, _| columns.contains(name));
    }

    fn bump(&mut self, name: &str, drifted: bool) {
        let entry = self.column_streaks.entry(name.to_owned()).or_default();
        *entry = streak(*entry, drifted);
    }
}

fn streak(current: u32, drifted: bool) -> u32 {
    if drifted { current + 1 } else { 0 }
}

fn push_bounded<T>(queue: &mut VecDeque<T>, item: T, limit: usize) {
    queue.push_back(item);
    while queue.len() > limit {
        queue.pop_front();
    }
}
