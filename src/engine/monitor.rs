//! A running monitor: its checks, its window state and its published results.
//!
//! Ingest takes the state lock only to code new categories, append rows and join labels (no
//! I/O, no tests). Windows those rows close are queued, still under the lock, to the monitor's
//! evaluator thread, which evaluates them (each window's columns in parallel) and publishes
//! them strictly in window order; the request then waits for its windows without holding any
//! lock, so other requests keep ingesting meanwhile and other monitors evaluate in parallel.
//!
//! Two streams per monitor: the feature window (features and prediction columns) and, when a
//! target is configured, the labelled window (rows whose ground truth is known; see
//! [`crate::labelled`]).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak, mpsc};

use serde::Serialize;
use serde_json::Value;

use crate::config::{IngestLimits, MonitorSpec, Window};
use crate::engine::check::{ColumnCheck, Role};
use crate::engine::evaluate::{self, WindowReport};
use crate::export::metrics::Metrics;
use crate::ingest::category;
use crate::ingest::idempotency::{Dropped, IdempotencyCache, IngestAck};
use crate::ingest::labels::{self, Cell, JoinBuffer, Unmatched};
use crate::ingest::rows::{ParsedBatch, ParsedColumn, Schema};
use crate::labelled::concept::PageHinkley;
use crate::labelled::{LabelledModel, LabelledReport};
use crate::reference::profile::{INVALID_CODE, INVALID_NUMBER, MISSING_CODE, ReferenceProfile};
use crate::window::{ClosedWindow, ColumnData, WindowEngine};

/// New categories a column may learn before further unseen values share one overflow code;
/// bounds memory when a client sends free text in a categorical column.
pub const MAX_NEW_CATEGORIES: u32 = 10_000;

/// Where the prediction-related columns sit among the monitor's checks.
#[derive(Debug, Clone, Copy, Default)]
pub struct ColumnRoles {
    /// Index of the prediction column.
    pub prediction: Option<usize>,
    /// Index of the probability column.
    pub probability: Option<usize>,
    /// Index of the target column (always the last check).
    pub target: Option<usize>,
}

/// What a monitor is built from: everything derived from its reference file.
#[derive(Debug)]
pub struct MonitorProfile {
    /// Column checks (features, prediction, probability, target).
    pub checks: Vec<ColumnCheck>,
    /// Positions of prediction, probability and target among `checks`.
    pub roles: ColumnRoles,
    /// Target drift, concept drift and quality over labelled windows; `None` without a target.
    pub labelled: Option<LabelledModel>,
    /// Rows in the reference file.
    pub reference_rows: usize,
}

/// One monitor, shared by all requests.
#[derive(Debug)]
pub struct Monitor {
    /// The monitor's config.
    pub spec: MonitorSpec,
    /// The validated window.
    pub window: Window,
    /// Column checks (features, prediction, probability, target), shared with evaluation
    /// threads.
    pub checks: Arc<Vec<ColumnCheck>>,
    /// How request rows map to columns.
    pub schema: Schema,
    /// Rows in the reference file.
    pub reference_rows: usize,
    /// Positions of prediction, probability and target among `checks`.
    pub roles: ColumnRoles,
    /// Target drift, concept drift and quality over labelled windows; `None` without a target.
    pub labelled: Option<Arc<LabelledModel>>,
    metrics: Arc<Metrics>,
    /// Queue of the evaluator thread, which evaluates and publishes this monitor's windows one
    /// job at a time in window order (each window's columns in parallel), so streaks, gauges and
    /// history always advance in order.
    jobs: mpsc::Sender<Job>,
    /// Limits on what one request or one column can make the monitor hold.
    limits: IngestLimits,
    /// Closed windows queued for the evaluator and not yet published; ingest is refused while
    /// it is at `limits.max_queued_windows`, which bounds the queue.
    queued_windows: Arc<AtomicUsize>,
    /// A `std` mutex: held only for in-memory appends, never across an `.await`; callers run
    /// on blocking threads, never on the async workers.
    state: Mutex<IngestState>,
    /// Separate from `state` so reads of results never wait for ingest.
    results: Mutex<Results>,
}

#[derive(Debug)]
struct IngestState {
    engine: WindowEngine,
    labelled_engine: Option<WindowEngine>,
    /// Per column: codes of categories not in the reference (empty for numeric columns).
    new_categories: Vec<NewCategories>,
    /// The monitor's clock: the latest arrival time seen. Requests stamp their arrival before
    /// they get the lock, so without this a request could carry an earlier time than one
    /// already applied (a window ending before it starts, a closed period reopened).
    clock: f64,
    /// Recently seen `Idempotency-Key`s.
    idempotency: IdempotencyCache,
    join: JoinBuffer,
    detector: PageHinkley,
    /// A change point was detected since the last labelled window closed.
    change_since_window: bool,
}

#[derive(Debug, Default)]
struct Results {
    latest: Option<Arc<WindowReport>>,
    history: VecDeque<WindowSummary>,
    labelled_latest: Option<Arc<LabelledReport>>,
    labelled_history: VecDeque<LabelledSummary>,
    /// Consecutive published feature windows with dataset drift.
    dataset_streak: u32,
    /// Per check: consecutive windows in which the column drifted.
    column_streaks: Vec<u32>,
    /// Consecutive labelled windows with concept drift.
    concept_streak: u32,
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

/// A past labelled window in brief.
#[derive(Debug, Clone, Serialize)]
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

/// Windows closed by one call, queued for evaluation.
#[derive(Debug, Default)]
struct Closed {
    /// Windows in this job, for the queue bound.
    count: usize,
    /// Feature windows.
    windows: Vec<ClosedWindow>,
    /// Labelled windows, each with whether the online detector fired during it.
    labelled: Vec<(ClosedWindow, bool)>,
}

/// A job for the monitor's evaluator thread.
#[derive(Debug)]
struct Job {
    closed: Closed,
    /// Receives (feature windows, labelled windows) published.
    done: tokio::sync::oneshot::Sender<(usize, usize)>,
}

/// The windows one call closed, being evaluated: await [`Published::wait`] to know they are
/// published. Dropping it does not stop the evaluation.
#[derive(Debug)]
pub struct Published(Option<tokio::sync::oneshot::Receiver<(usize, usize)>>);

impl Published {
    /// Resolves once the windows are published, with how many feature windows and labelled
    /// windows were (windows below `min_rows` are skipped, not published).
    pub async fn wait(self) -> (usize, usize) {
        match self.0 {
            Some(receiver) => receiver.await.unwrap_or((0, 0)),
            None => (0, 0),
        }
    }
}

/// The outcome of an ingest request.
#[derive(Debug)]
pub struct Ingested {
    /// Rows accepted and dropped.
    pub ack: IngestAck,
    /// The request's `Idempotency-Key` was seen before: nothing was applied again.
    pub replayed: bool,
    /// The windows the request closed.
    pub published: Published,
}

/// Ingest refused because the monitor's evaluator is behind (HTTP 429).
#[derive(Debug, Clone, Copy)]
pub struct Backlog {
    /// Windows waiting for evaluation.
    pub queued: usize,
}

/// Per-item result of a labels request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelOutcome {
    /// Joined to a waiting prediction.
    Matched,
    /// No waiting prediction has this id.
    UnknownId,
    /// The id was already labelled (earlier or in this request).
    Duplicate,
    /// The item is not an object or its `id` is missing or not a string/number.
    InvalidId,
    /// The `target` is missing or of the wrong type for the target column.
    InvalidTarget,
}

impl LabelOutcome {
    /// Label value of `driftscope_labels_unmatched_total{reason}`.
    pub fn as_str(self) -> &'static str {
        match self {
            LabelOutcome::Matched => "matched",
            LabelOutcome::UnknownId => "unknown_id",
            LabelOutcome::Duplicate => "duplicate",
            LabelOutcome::InvalidId => "invalid_id",
            LabelOutcome::InvalidTarget => "invalid_target",
        }
    }
}

/// Reasons a label can go unmatched, for metric initialisation.
pub const UNMATCHED_REASONS: &[LabelOutcome] = &[
    LabelOutcome::UnknownId,
    LabelOutcome::Duplicate,
    LabelOutcome::InvalidId,
    LabelOutcome::InvalidTarget,
];

impl Monitor {
    /// A monitor with empty windows and its evaluator thread; registers its metric series.
    /// The thread holds only a weak reference and ends once the monitor is dropped and the
    /// queued jobs are done.
    pub fn new(
        spec: MonitorSpec,
        window: Window,
        profile: MonitorProfile,
        metrics: Arc<Metrics>,
        limits: IngestLimits,
    ) -> Arc<Self> {
        let MonitorProfile {
            checks,
            roles,
            labelled,
            reference_rows,
        } = profile;
        let schema =
            Schema::new(&checks, spec.timestamp.as_deref(), spec.id.as_deref()).with_limits(limits);
        let feature_template: Vec<ColumnData> = checks
            .iter()
            .filter(|c| c.role != Role::Target)
            .map(empty_column)
            .collect();
        let lateness = spec.window.allowed_lateness();
        let engine = WindowEngine::new(window, spec.window.max_rows(), lateness, &feature_template);
        // Labelled rows are timed by arrival, so they are never late.
        let labelled_engine = roles.target.map(|target| {
            WindowEngine::new(
                window,
                spec.window.max_rows(),
                0.0,
                &labelled_template(&checks, roles, target),
            )
        });
        metrics.register_monitor(&spec, reference_rows, &checks, labelled.as_ref());
        let state = IngestState {
            engine,
            labelled_engine,
            new_categories: vec![NewCategories::default(); checks.len()],
            clock: f64::NEG_INFINITY,
            idempotency: IdempotencyCache::new(
                limits.idempotency_keys,
                limits.idempotency_horizon.as_secs_f64(),
            ),
            join: JoinBuffer::new(
                spec.label_join.max_pending,
                spec.label_join.max_age.as_secs_f64(),
            ),
            detector: PageHinkley::new(spec.concept.page_hinkley),
            change_since_window: false,
        };
        let results = Results {
            column_streaks: vec![0; checks.len()],
            ..Results::default()
        };
        let (jobs, queue) = mpsc::channel();
        let name = spec.name.clone();
        Arc::new_cyclic(|monitor: &Weak<Self>| {
            let monitor = monitor.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("eval-{name}"))
                .spawn(move || run_evaluator(&monitor, &queue));
            if let Err(e) = spawned {
                tracing::error!(monitor = %name, error = %e, "Cannot start the evaluator thread.");
            }
            Self {
                spec,
                window,
                checks: Arc::new(checks),
                schema,
                reference_rows,
                roles,
                labelled: labelled.map(Arc::new),
                metrics,
                jobs,
                limits,
                queued_windows: Arc::new(AtomicUsize::new(0)),
                state: Mutex::new(state),
                results: Mutex::new(results),
            }
        })
    }

    /// The monitor's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The limits this monitor enforces.
    pub fn limits(&self) -> &IngestLimits {
        &self.limits
    }

    /// Appends a parsed batch; `now` (unix seconds) is the arrival time, used as the time of
    /// rows without an event time and of labelled rows. A request carrying an
    /// `Idempotency-Key` seen before gets the first acknowledgement back and changes nothing.
    /// Refused, changing nothing, while the evaluator is `max_queued_windows` behind.
    pub fn ingest(
        &self,
        mut batch: ParsedBatch,
        now: f64,
        idempotency_key: Option<String>,
    ) -> Result<Ingested, Backlog> {
        let name = self.name();
        let mut state = lock(&self.state);
        let now = state.advance_clock(now);
        if let Some(ack) = idempotency_key
            .as_deref()
            .and_then(|key| state.idempotency.get(key, now))
        {
            return Ok(Ingested {
                ack,
                replayed: true,
                published: Published(None),
            });
        }
        self.check_backlog()?;
        let received = batch.rows;
        let future = self.drop_future_rows(&mut batch, now);
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
                    for (row, text) in novel {
                        codes[row] = state.new_categories[i].code(
                            first_new,
                            text,
                            self.limits.max_new_category_bytes,
                        );
                    }
                    columns.push(ColumnData::Categorical(codes));
                }
            }
        }
        if batch.invalid_ids > 0
            && let Some(id) = &self.spec.id
        {
            self.metrics
                .values_invalid
                .with_label_values(&[name, id])
                .inc_by(batch.invalid_ids);
        }
        let mut closed = Closed::default();
        let mut expired = state.join.expire(now);
        if let (Some(target), Some(model)) = (self.roles.target, &self.labelled) {
            let target_column = columns.pop().expect("the target is the last column");
            let mut labelled = labelled_template(&self.checks, self.roles, target);
            let mut labelled_rows = 0;
            for row in 0..batch.rows {
                if cell(&target_column, row).is_some() {
                    self.append_labelled(&mut labelled, &columns, &target_column, row);
                    if let Some(error) = model.error(&labelled[0], &labelled[1], labelled_rows) {
                        state.record_error(error, &self.metrics, name);
                    }
                    labelled_rows += 1;
                } else if let (Some(ids), Some(p)) = (&batch.ids, self.roles.prediction)
                    && let (Some(id), Some(prediction)) = (&ids[row], cell(&columns[p], row))
                {
                    let probability = self
                        .roles
                        .probability
                        .map_or(f64::NAN, |q| number(&columns[q], row));
                    expired += state.join.insert(id.clone(), prediction, probability, now);
                }
            }
            if labelled_rows > 0 {
                closed.labelled = state.push_labelled(&labelled, now);
            }
        }
        let times = batch.timestamps.unwrap_or_else(|| vec![now; batch.rows]);
        let outcome = state.engine.push(&columns, &times);
        closed.windows = outcome.closed;
        let dropped = Dropped {
            late: outcome.late,
            window_full: outcome.over_capacity,
            future,
        };
        let ack = IngestAck {
            accepted: received as u64 - dropped.total(),
            dropped,
        };
        if let Some(key) = idempotency_key {
            state.idempotency.insert(key, ack, now);
        }
        let pending = state.join.len();
        let published = self.submit(closed);
        drop(state);
        let m = &self.metrics;
        m.rows_ingested
            .with_label_values(&[name])
            .inc_by(ack.accepted);
        for (reason, n) in [
            ("late", dropped.late),
            ("window_full", dropped.window_full),
            ("future", dropped.future),
        ] {
            m.rows_dropped.with_label_values(&[name, reason]).inc_by(n);
        }
        m.last_ingest.with_label_values(&[name]).set(now);
        self.record_join(expired, pending);
        Ok(Ingested {
            ack,
            replayed: false,
            published,
        })
    }

    /// Refuses work while the evaluator is `max_queued_windows` windows behind.
    fn check_backlog(&self) -> Result<(), Backlog> {
        let queued = self.queued_windows.load(Ordering::Acquire);
        if queued >= self.limits.max_queued_windows {
            Err(Backlog { queued })
        } else {
            Ok(())
        }
    }

    /// Removes rows whose event time is more than `window.max_future_skew` ahead of `now`, so
    /// a row in milliseconds or from the year 2100 cannot move the window; returns how many.
    fn drop_future_rows(&self, batch: &mut ParsedBatch, now: f64) -> u64 {
        let Some(times) = &batch.timestamps else {
            return 0;
        };
        let limit = now + self.spec.window.max_future_skew();
        let keep: Vec<bool> = times.iter().map(|&t| t <= limit).collect();
        let dropped = keep.iter().filter(|&&k| !k).count();
        if dropped > 0 {
            batch.retain_rows(&keep);
        }
        dropped as u64
    }

    /// Joins labels (`{"id", "target"}` items) to waiting predictions. Returns each item's
    /// outcome and the labelled windows the joined rows closed.
    /// Refused, changing nothing, while the evaluator is `max_queued_windows` behind.
    pub fn add_labels(
        &self,
        items: &[Value],
        now: f64,
    ) -> Result<(Vec<LabelOutcome>, Published), Backlog> {
        let name = self.name();
        let mut outcomes = Vec::with_capacity(items.len());
        let (Some(target), Some(model)) = (self.roles.target, &self.labelled) else {
            // The HTTP layer refuses labels for monitors without a target.
            return Ok((
                vec![LabelOutcome::InvalidTarget; items.len()],
                Published(None),
            ));
        };
        let mut state = lock(&self.state);
        self.check_backlog()?;
        let now = state.advance_clock(now);
        let expired = state.join.expire(now);
        let mut labelled = labelled_template(&self.checks, self.roles, target);
        let mut rows = 0;
        for item in items {
            let Some(id) = item
                .get("id")
                .and_then(labels::id_text)
                .filter(|id| id.len() <= self.limits.max_id_bytes)
            else {
                outcomes.push(LabelOutcome::InvalidId);
                continue;
            };
            // Only a label that joins is coded: the target of an unknown id is never stored.
            if !state.join.is_pending(&id) {
                outcomes.push(match state.join.take(&id) {
                    Err(Unmatched::Duplicate) => LabelOutcome::Duplicate,
                    _ => LabelOutcome::UnknownId,
                });
                continue;
            }
            let Some(value) = item
                .get("target")
                .and_then(|v| self.target_value(&mut state, target, v))
            else {
                outcomes.push(LabelOutcome::InvalidTarget);
                continue;
            };
            match state.join.take(&id) {
                Ok(pending) => {
                    push_labelled_row(
                        &mut labelled,
                        pending.prediction,
                        value,
                        pending.probability,
                    );
                    if let Some(error) = model.error(&labelled[0], &labelled[1], rows) {
                        state.record_error(error, &self.metrics, name);
                    }
                    rows += 1;
                    outcomes.push(LabelOutcome::Matched);
                }
                Err(Unmatched::UnknownId) => outcomes.push(LabelOutcome::UnknownId),
                Err(Unmatched::Duplicate) => outcomes.push(LabelOutcome::Duplicate),
            }
        }
        let mut closed = Closed::default();
        if rows > 0 {
            closed.labelled = state.push_labelled(&labelled, now);
        }
        let pending = state.join.len();
        let published = self.submit(closed);
        drop(state);
        let m = &self.metrics;
        m.labels_received
            .with_label_values(&[name])
            .inc_by(items.len() as u64);
        for outcome in &outcomes {
            match outcome {
                LabelOutcome::Matched => m.labels_matched.with_label_values(&[name]).inc(),
                other => m
                    .labels_unmatched
                    .with_label_values(&[name, other.as_str()])
                    .inc(),
            }
        }
        self.record_join(expired, pending);
        Ok((outcomes, published))
    }

    /// Clock work for the ticker: closes time windows that ended by `now` (feature windows
    /// only when they run on arrival time; labelled windows always do) and expires waiting
    /// predictions.
    pub fn tick(&self, now: f64) -> Published {
        let mut state = lock(&self.state);
        let now = state.advance_clock(now);
        let mut closed = Closed::default();
        if self.spec.timestamp.is_none() {
            closed.windows = state.engine.advance_clock(now);
        }
        if let Some(engine) = &mut state.labelled_engine {
            let windows = engine.advance_clock(now);
            let changed = std::mem::take(&mut state.change_since_window);
            closed.labelled = windows.into_iter().map(|w| (w, changed)).collect();
            if closed.labelled.is_empty() {
                state.change_since_window = changed;
            }
        }
        let expired = state.join.expire(now);
        let pending = state.join.len();
        let published = self.submit(closed);
        drop(state);
        self.record_join(expired, pending);
        published
    }

    /// Publishes the join buffer's expiries and current size.
    fn record_join(&self, expired: u64, pending: usize) {
        let name = [self.name()];
        self.metrics
            .predictions_expired
            .with_label_values(&name)
            .inc_by(expired);
        self.metrics
            .labels_pending
            .with_label_values(&name)
            .set(pending as i64);
    }

    /// Queues closed windows for the monitor's evaluator thread. Called while the state lock
    /// is held, so jobs are queued in window order and published in that order.
    fn submit(&self, mut closed: Closed) -> Published {
        closed.count = closed.windows.len() + closed.labelled.len();
        if closed.count == 0 {
            return Published(None);
        }
        self.queued_windows
            .fetch_add(closed.count, Ordering::AcqRel);
        let (done, receiver) = tokio::sync::oneshot::channel();
        match self.jobs.send(Job { closed, done }) {
            Ok(()) => Published(Some(receiver)),
            Err(_) => {
                tracing::error!(
                    monitor = self.name(),
                    "Evaluator thread is gone; windows dropped."
                );
                Published(None)
            }
        }
    }

    /// Evaluates and publishes one job's windows; returns how many feature windows and
    /// labelled windows were published (windows below `min_rows` are skipped and counted).
    fn evaluate_closed(&self, closed: &Closed) -> (usize, usize) {
        let features = closed
            .windows
            .iter()
            .filter(|w| self.evaluate_window(w))
            .count();
        let labelled = closed
            .labelled
            .iter()
            .filter(|(w, c)| self.evaluate_labelled(w, *c))
            .count();
        (features, labelled)
    }

    /// Windows below `min_rows` publish no verdict; they are counted under `reason`.
    fn skip_below_min_rows(&self, window: &ClosedWindow, reason: &str) -> bool {
        let skip = window.rows < self.spec.window.min_rows;
        if skip {
            self.metrics
                .windows_skipped
                .with_label_values(&[self.name(), reason])
                .inc();
        }
        skip
    }

    fn evaluate_window(&self, window: &ClosedWindow) -> bool {
        if self.skip_below_min_rows(window, "below_min_rows") {
            return false;
        }
        let name = self.name();
        let report = evaluate::evaluate(&self.checks, self.spec.drift_share, window);
        self.metrics
            .evaluation_duration
            .with_label_values(&[name])
            .observe(report.evaluation_seconds);
        self.publish(report);
        true
    }

    fn evaluate_labelled(&self, window: &ClosedWindow, change_detected: bool) -> bool {
        let (Some(model), Some(target)) = (&self.labelled, self.roles.target) else {
            return false;
        };
        if self.skip_below_min_rows(window, "labelled_below_min_rows") {
            return false;
        }
        let name = self.name();
        let started = std::time::Instant::now();
        let report = model.evaluate(window);
        self.metrics
            .evaluation_duration
            .with_label_values(&[name])
            .observe(started.elapsed().as_secs_f64());
        let mut results = lock(&self.results);
        results.labelled_history.push_back(LabelledSummary {
            seq: report.seq,
            end: report.end.clone(),
            rows: report.rows,
            target_drifted: report.target.outcome.drifted,
            concept_drifted: report.concept.as_ref().is_some_and(|c| c.drifted),
        });
        while results.labelled_history.len() > self.spec.history {
            results.labelled_history.pop_front();
        }
        let target_check = &self.checks[target];
        let streak = &mut results.column_streaks[target];
        *streak = if report.target.outcome.drifted {
            *streak + 1
        } else {
            0
        };
        let target_streak = *streak;
        let concept_drifted = report.concept.as_ref().is_some_and(|c| c.drifted);
        results.concept_streak = if concept_drifted {
            results.concept_streak + 1
        } else {
            0
        };
        let m = &self.metrics;
        m.publish_column(name, target_check, &report.target, target_streak);
        m.publish_labelled(name, &report, results.concept_streak, change_detected);
        tracing::info!(
            monitor = name,
            seq = report.seq,
            rows = report.rows,
            concept_drifted,
            "Labelled window evaluated."
        );
        results.labelled_latest = Some(Arc::new(report));
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
        results.history.push_back(summary);
        while results.history.len() > self.spec.history {
            results.history.pop_front();
        }
        for (i, check) in self.checks.iter().enumerate() {
            let column = report
                .features
                .iter()
                .chain(&report.predictions)
                .find(|c| c.name == check.name);
            if let Some(c) = column {
                let streak = &mut results.column_streaks[i];
                *streak = if c.outcome.drifted { *streak + 1 } else { 0 };
                self.metrics.publish_column(name, check, c, *streak);
            }
        }
        let d = report.dataset;
        results.dataset_streak = if d.drifted {
            results.dataset_streak + 1
        } else {
            0
        };
        self.metrics.publish_dataset(
            name,
            &d,
            report.rows,
            results.dataset_streak,
            evaluate::unix_now(),
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

    /// The latest published results and recent summaries, as JSON.
    pub fn results_json(&self) -> Value {
        let (buffered, pending, detector_rows) = {
            let state = lock(&self.state);
            (
                state.engine.buffered_rows(),
                state.join.len(),
                state
                    .labelled_engine
                    .as_ref()
                    .map(WindowEngine::buffered_rows),
            )
        };
        let results = lock(&self.results);
        serde_json::json!({
            "monitor": self.name(),
            "buffered_rows": buffered,
            "latest": results.latest.as_deref(),
            "history": results.history,
            "labelled": {
                "buffered_rows": detector_rows,
                "pending_predictions": pending,
                "latest": results.labelled_latest.as_deref(),
                "history": results.labelled_history,
            },
        })
    }

    fn target_value(&self, state: &mut IngestState, target: usize, value: &Value) -> Option<Cell> {
        match &self.checks[target].reference {
            ReferenceProfile::Numeric(_) => {
                value.as_f64().filter(|x| x.is_finite()).map(Cell::Number)
            }
            ReferenceProfile::Categorical(profile) => {
                let text = category::json_text(value)
                    .filter(|t| t.len() <= self.limits.max_category_bytes)?;
                let code = match profile.index.get(&text) {
                    Some(&code) => code,
                    None => state.new_categories[target].code(
                        profile.categories.len() as u32,
                        text,
                        self.limits.max_new_category_bytes,
                    ),
                };
                Some(Cell::Code(code))
            }
        }
    }

    fn append_labelled(
        &self,
        labelled: &mut [ColumnData],
        columns: &[ColumnData],
        target: &ColumnData,
        row: usize,
    ) {
        let prediction = self
            .roles
            .prediction
            .and_then(|p| cell(&columns[p], row))
            .unwrap_or(Cell::Number(f64::NAN));
        let probability = self
            .roles
            .probability
            .map_or(f64::NAN, |q| number(&columns[q], row));
        let target = cell(target, row).unwrap_or(Cell::Number(f64::NAN));
        push_labelled_row(labelled, prediction, target, probability);
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

impl IngestState {
    /// Moves the monitor's clock to `now` unless it is already later; returns the clock.
    fn advance_clock(&mut self, now: f64) -> f64 {
        self.clock = self.clock.max(now);
        self.clock
    }

    /// Feeds the online detector one labelled row's error.
    fn record_error(&mut self, error: f64, metrics: &Metrics, monitor: &str) {
        if self.detector.update(error) {
            self.change_since_window = true;
            metrics.concept_change(monitor);
            tracing::warn!(monitor, "Concept change point detected (Page-Hinkley).");
        }
    }

    /// Appends labelled rows (all timed `now`) and returns the labelled windows they closed.
    fn push_labelled(&mut self, labelled: &[ColumnData], now: f64) -> Vec<(ClosedWindow, bool)> {
        let Some(engine) = &mut self.labelled_engine else {
            return Vec::new();
        };
        let rows = match &labelled[1] {
            ColumnData::Numeric(v) => v.len(),
            ColumnData::Categorical(v) => v.len(),
        };
        let closed = engine.push(labelled, &vec![now; rows]).closed;
        if closed.is_empty() {
            return Vec::new();
        }
        let changed = std::mem::take(&mut self.change_since_window);
        closed.into_iter().map(|w| (w, changed)).collect()
    }
}

fn empty_column(check: &ColumnCheck) -> ColumnData {
    match check.reference {
        ReferenceProfile::Numeric(_) => ColumnData::Numeric(Vec::new()),
        ReferenceProfile::Categorical(_) => ColumnData::Categorical(Vec::new()),
    }
}

/// The evaluator thread: evaluates jobs in queue (= window) order until the monitor is gone.
/// A panic in one evaluation is logged and the thread carries on, so one bad window never
/// stops a monitor.
fn run_evaluator(monitor: &Weak<Monitor>, queue: &mpsc::Receiver<Job>) {
    while let Ok(job) = queue.recv() {
        let Some(monitor) = monitor.upgrade() else {
            break;
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            monitor.evaluate_closed(&job.closed)
        }));
        monitor
            .queued_windows
            .fetch_sub(job.closed.count, Ordering::AcqRel);
        let counts = result.unwrap_or_else(|_| {
            tracing::error!(
                monitor = monitor.name(),
                "Window evaluation panicked; windows dropped."
            );
            (0, 0)
        });
        // The requester may have gone away; the windows are published regardless.
        let _ = job.done.send(counts);
    }
}

/// Labelled-window columns: prediction (a NaN placeholder column when none is configured),
/// target, and probability when configured.
fn labelled_template(checks: &[ColumnCheck], roles: ColumnRoles, target: usize) -> Vec<ColumnData> {
    let mut columns = vec![
        roles
            .prediction
            .map_or(ColumnData::Numeric(Vec::new()), |p| {
                empty_column(&checks[p])
            }),
        empty_column(&checks[target]),
    ];
    if roles.probability.is_some() {
        columns.push(ColumnData::Numeric(Vec::new()));
    }
    columns
}

fn push_labelled_row(
    labelled: &mut [ColumnData],
    prediction: Cell,
    target: Cell,
    probability: f64,
) {
    for (column, value) in labelled
        .iter_mut()
        .zip([prediction, target, Cell::Number(probability)])
    {
        match (column, value) {
            (ColumnData::Numeric(v), Cell::Number(x)) => v.push(x),
            (ColumnData::Categorical(v), Cell::Code(c)) => v.push(c),
            (ColumnData::Numeric(v), Cell::Code(_)) => v.push(f64::NAN),
            (ColumnData::Categorical(v), Cell::Number(_)) => v.push(MISSING_CODE),
        }
    }
}

/// A present (neither missing nor invalid) value of `column` at `row`.
fn cell(column: &ColumnData, row: usize) -> Option<Cell> {
    match column {
        ColumnData::Numeric(v) => v[row].is_finite().then_some(Cell::Number(v[row])),
        ColumnData::Categorical(v) => {
            (v[row] != MISSING_CODE && v[row] != INVALID_CODE).then_some(Cell::Code(v[row]))
        }
    }
}

fn number(column: &ColumnData, row: usize) -> f64 {
    match column {
        ColumnData::Numeric(v) if v[row] != INVALID_NUMBER => v[row],
        _ => f64::NAN,
    }
}

/// Categories a column learned that the reference does not have, bounded in count and bytes.
#[derive(Debug, Clone, Default)]
struct NewCategories {
    codes: HashMap<String, u32>,
    /// Text bytes held in `codes`.
    bytes: usize,
}

impl NewCategories {
    /// The code of a category absent from the reference: a stable code per text while the
    /// column holds fewer than [`MAX_NEW_CATEGORIES`] new categories and `max_bytes` of their
    /// text; after that, one shared overflow code.
    fn code(&mut self, first_new: u32, text: String, max_bytes: usize) -> u32 {
        if let Some(&code) = self.codes.get(&text) {
            return code;
        }
        let count = self.codes.len() as u32;
        if count < MAX_NEW_CATEGORIES && self.bytes + text.len() <= max_bytes {
            self.bytes += text.len();
            self.codes.insert(text, first_new + count);
            first_new + count
        } else {
            first_new + MAX_NEW_CATEGORIES
        }
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
        let mut known = NewCategories::default();
        assert_eq!(known.code(5, "x".into(), usize::MAX), 5);
        assert_eq!(known.code(5, "y".into(), usize::MAX), 6);
        assert_eq!(known.code(5, "x".into(), usize::MAX), 5);
        for i in 0..MAX_NEW_CATEGORIES {
            known.code(5, format!("v{i}"), usize::MAX);
        }
        assert_eq!(known.codes.len() as u32, MAX_NEW_CATEGORIES);
        assert_eq!(
            known.code(5, "late".into(), usize::MAX),
            5 + MAX_NEW_CATEGORIES
        );
        const { assert!(5 + MAX_NEW_CATEGORIES < crate::labelled::NO_CLASS) };
    }

    #[test]
    fn new_category_text_is_bounded_in_bytes() {
        let mut known = NewCategories::default();
        assert_eq!(known.code(0, "a".repeat(600), 1000), 0);
        assert_eq!(known.code(0, "b".repeat(600), 1000), MAX_NEW_CATEGORIES);
        assert_eq!(known.code(0, "c".repeat(400), 1000), 1);
        assert_eq!(known.bytes, 1000);
    }
}
