//! A running monitor: its checks, its window state and its published results.
//!
//! Ingest takes the state lock only to code new categories and append rows (no I/O, no tests),
//! then evaluates the windows those rows closed on a blocking thread with no lock held, and
//! publishes each result under the results lock. Two requests for the same monitor can therefore
//! evaluate at the same time; results are published by window sequence number, so a slower,
//! older window never overwrites a newer one.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;

use crate::batch::{ParsedBatch, ParsedColumn, Schema};
use crate::config::{MonitorSpec, Window};
use crate::drift::{ColumnCheck, MISSING_CODE, ReferenceProfile};
use crate::evaluation::{self, WindowReport};
use crate::metrics::Metrics;
use crate::window::{ClosedWindow, ColumnData, WindowEngine};

/// New categories a column may learn before further unseen values share one overflow code;
/// bounds memory when a client sends free text in a categorical column.
pub const MAX_NEW_CATEGORIES: u32 = 10_000;

/// One monitor, shared by all requests.
#[derive(Debug)]
pub struct Monitor {
    /// The monitor's config.
    pub spec: MonitorSpec,
    /// The validated window.
    pub window: Window,
    /// Column checks, shared with evaluation threads.
    pub checks: Arc<Vec<ColumnCheck>>,
    /// How request rows map to columns.
    pub schema: Schema,
    /// Rows in the reference file.
    pub reference_rows: usize,
    metrics: Arc<Metrics>,
    /// A `std` mutex: held only for in-memory appends, never across an `.await`.
    state: Mutex<IngestState>,
    /// Separate from `state` so reads of results never wait for ingest.
    results: Mutex<Results>,
}

#[derive(Debug)]
struct IngestState {
    engine: WindowEngine,
    /// Per column: codes of categories not in the reference (empty for numeric columns).
    new_categories: Vec<HashMap<String, u32>>,
}

#[derive(Debug, Default)]
struct Results {
    latest: Option<Arc<WindowReport>>,
    history: VecDeque<WindowSummary>,
}

/// A past window in brief, for `GET /v1/monitors/{monitor}`.
#[derive(Debug, Clone, Serialize)]
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
}

/// What ingesting one batch did.
#[derive(Debug)]
pub struct Ingested {
    /// Windows the batch closed, to be evaluated.
    pub closed: Vec<ClosedWindow>,
}

impl Monitor {
    /// A monitor with empty windows; registers its metric series.
    pub fn new(
        spec: MonitorSpec,
        window: Window,
        checks: Vec<ColumnCheck>,
        reference_rows: usize,
        metrics: Arc<Metrics>,
    ) -> Self {
        let schema = Schema::new(&checks, spec.timestamp.as_deref());
        let template: Vec<ColumnData> = checks
            .iter()
            .map(|c| match c.reference {
                ReferenceProfile::Numeric(_) => ColumnData::Numeric(Vec::new()),
                ReferenceProfile::Categorical(_) => ColumnData::Categorical(Vec::new()),
            })
            .collect();
        let engine = WindowEngine::new(window, spec.window.max_rows, &template);
        metrics.register_monitor(&spec.name, reference_rows, &checks);
        let state = IngestState {
            engine,
            new_categories: vec![HashMap::new(); checks.len()],
        };
        Self {
            spec,
            window,
            checks: Arc::new(checks),
            schema,
            reference_rows,
            metrics,
            state: Mutex::new(state),
            results: Mutex::new(Results::default()),
        }
    }

    /// The monitor's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// True when windows close on the server clock (time windows without a timestamp column),
    /// so the ticker must close them when traffic stops.
    pub fn runs_on_arrival_time(&self) -> bool {
        self.spec.timestamp.is_none()
            && matches!(
                self.window,
                Window::TimeTumbling { .. } | Window::TimeSliding { .. }
            )
    }

    /// Appends a parsed batch; `arrival` (unix seconds) is the time of rows without an event
    /// time. Returns the windows it closed.
    pub fn ingest(&self, batch: ParsedBatch, arrival: f64) -> Ingested {
        let name = self.name();
        let mut state = lock(&self.state);
        let mut columns = Vec::with_capacity(batch.columns.len());
        for (i, column) in batch.columns.into_iter().enumerate() {
            match column {
                ParsedColumn::Numeric { values, invalid } => {
                    self.count_invalid(i, invalid);
                    columns.push(ColumnData::Numeric(values));
                }
                ParsedColumn::Categorical {
                    mut codes,
                    novel,
                    invalid,
                } => {
                    self.count_invalid(i, invalid);
                    let first_new = self.reference_categories(i);
                    let known = &mut state.new_categories[i];
                    for (row, text) in novel {
                        codes[row] = code_new_category(known, first_new, text);
                    }
                    columns.push(ColumnData::Categorical(codes));
                }
            }
        }
        let times = batch
            .timestamps
            .unwrap_or_else(|| vec![arrival; batch.rows]);
        let outcome = state.engine.push(&columns, &times);
        drop(state);
        self.metrics
            .rows_ingested
            .with_label_values(&[name])
            .inc_by(batch.rows as u64);
        self.metrics
            .rows_dropped
            .with_label_values(&[name, "late"])
            .inc_by(outcome.late);
        self.metrics
            .rows_dropped
            .with_label_values(&[name, "window_full"])
            .inc_by(outcome.over_capacity);
        Ingested {
            closed: outcome.closed,
        }
    }

    /// Closes time windows that ended by `now` (arrival-time monitors only).
    pub fn advance_clock(&self, now: f64) -> Vec<ClosedWindow> {
        lock(&self.state).engine.advance_clock(now)
    }

    /// Evaluates closed windows on a blocking thread and publishes them; returns how many were
    /// published (windows below `min_rows` are skipped and counted). Publishing happens on that
    /// thread, so it completes even if the caller stops waiting.
    pub async fn evaluate(self: &Arc<Self>, closed: Vec<ClosedWindow>) -> usize {
        if closed.is_empty() {
            return 0;
        }
        let monitor = Arc::clone(self);
        let task = tokio::task::spawn_blocking(move || {
            closed
                .into_iter()
                .filter(|window| monitor.evaluate_and_publish(window))
                .count()
        });
        match task.await {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(monitor = self.name(), error = %e, "Window evaluation failed.");
                0
            }
        }
    }

    fn evaluate_and_publish(&self, window: &ClosedWindow) -> bool {
        let name = self.name();
        if window.rows < self.spec.window.min_rows {
            self.metrics
                .windows_skipped
                .with_label_values(&[name, "below_min_rows"])
                .inc();
            tracing::debug!(
                monitor = name,
                rows = window.rows,
                "Window below min_rows skipped."
            );
            return false;
        }
        let report = evaluation::evaluate(&self.checks, self.spec.drift_share, window);
        self.metrics
            .evaluation_duration
            .with_label_values(&[name])
            .observe(report.evaluation_seconds);
        self.publish(report);
        true
    }

    fn publish(&self, report: WindowReport) {
        let name = self.name();
        let mut results = lock(&self.results);
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
        };
        let position = results
            .history
            .iter()
            .position(|s| s.seq > summary.seq)
            .unwrap_or(results.history.len());
        results.history.insert(position, summary);
        while results.history.len() > self.spec.history {
            results.history.pop_front();
        }
        if results.latest.as_ref().is_some_and(|l| l.seq > report.seq) {
            // An older window finished after a newer one: keep it in history only.
            return;
        }
        for check in self.checks.iter() {
            let column = report
                .features
                .iter()
                .chain(&report.prediction)
                .chain(&report.target)
                .find(|c| c.name == check.name);
            if let Some(c) = column {
                self.metrics
                    .publish_column(name, check, &c.outcome, c.missing_ratio);
            }
        }
        let d = report.dataset;
        let at = evaluation::unix_now();
        self.metrics.publish_dataset(
            name,
            d.drift_share,
            d.drifted,
            d.drifted_features,
            report.rows,
            at,
        );
        tracing::info!(
            monitor = name,
            seq = report.seq,
            rows = report.rows,
            drift_share = d.drift_share,
            drifted = d.drifted,
            "Window evaluated."
        );
        results.latest = Some(Arc::new(report));
    }

    /// The latest published window and recent summaries (oldest first).
    pub fn results(&self) -> (Option<Arc<WindowReport>>, Vec<WindowSummary>) {
        let results = lock(&self.results);
        (
            results.latest.clone(),
            results.history.iter().cloned().collect(),
        )
    }

    /// Rows waiting in the current window.
    pub fn buffered_rows(&self) -> usize {
        lock(&self.state).engine.buffered_rows()
    }

    fn count_invalid(&self, column: usize, invalid: u64) {
        if invalid > 0 {
            let labels = [self.name(), self.checks[column].name.as_str()];
            self.metrics
                .values_invalid
                .with_label_values(&labels)
                .inc_by(invalid);
        }
    }

    fn reference_categories(&self, column: usize) -> u32 {
        match &self.checks[column].reference {
            ReferenceProfile::Categorical(c) => c.categories.len() as u32,
            ReferenceProfile::Numeric(_) => 0,
        }
    }
}

/// The code of a category absent from the reference: a stable code per text, up to
/// [`MAX_NEW_CATEGORIES`], then one shared overflow code.
fn code_new_category(known: &mut HashMap<String, u32>, first_new: u32, text: String) -> u32 {
    if let Some(&code) = known.get(&text) {
        return code;
    }
    let overflow = first_new + MAX_NEW_CATEGORIES;
    if (known.len() as u32) < MAX_NEW_CATEGORIES {
        let code = first_new + known.len() as u32;
        known.insert(text, code);
        code
    } else {
        debug_assert!(overflow < MISSING_CODE);
        overflow
    }
}

/// Locks a mutex, recovering the data if a previous holder panicked: every critical section
/// leaves the state consistent, so poisoning must not take the monitor down.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_categories_get_stable_codes_then_share_an_overflow_code() {
        let mut known = HashMap::new();
        assert_eq!(code_new_category(&mut known, 5, "x".into()), 5);
        assert_eq!(code_new_category(&mut known, 5, "y".into()), 6);
        assert_eq!(code_new_category(&mut known, 5, "x".into()), 5);
        for i in 0..MAX_NEW_CATEGORIES {
            code_new_category(&mut known, 5, format!("v{i}"));
        }
        assert_eq!(known.len() as u32, MAX_NEW_CATEGORIES);
        assert_eq!(
            code_new_category(&mut known, 5, "late".into()),
            5 + MAX_NEW_CATEGORIES
        );
    }
}
