//! A monitor's whole mutable ingest state as one value, changed only by [`MonitorState::apply`].
//!
//! `apply` is deterministic: the time of every event is stamped once, when the event is
//! accepted, and never read from the clock here, so replaying the same events from the same
//! state gives the same state and the same closed windows. That is what the write-ahead log,
//! snapshots and hot reload build on. Metrics, HTTP, threads and files stay outside.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::category;
use crate::column::ColumnData;
use crate::config::Summary;
use crate::engine::model::MonitorModel;
use crate::ingest::idempotency::{Dropped, IdempotencyCache, IngestAck};
use crate::ingest::labels;
use crate::ingest::rows::ParsedBatch;
use crate::labelled::concept::PageHinkley;
use crate::labelled::join::{Cell, JoinBuffer, LabelOutcome, Unmatched};
use crate::reference::profile::ReferenceProfile;
use crate::window::{ClosedWindow, WindowEngine};
pub use partial::{Merging, PartialColumn, PartialWindow};
use rows::{align, cell, drop_future_rows, number, push_labelled_row};

mod partial;
mod rows;
#[cfg(test)]
mod tests;

/// New categories a column may learn before further unseen values share one overflow code;
/// bounds memory when a client sends free text in a categorical column.
pub const MAX_NEW_CATEGORIES: u32 = 10_000;

/// Something that happened to a monitor, as logged and replayed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Event {
    /// An ingest request's rows.
    Rows {
        /// Arrival time (unix seconds).
        time: f64,
        /// The request's `Idempotency-Key`.
        key: Option<String>,
        /// Names of `batch.columns`, so a batch logged under another config still lines up.
        columns: Vec<String>,
        /// The parsed rows.
        batch: ParsedBatch,
    },
    /// A labels request's items (`{"id", "target"}` objects).
    Labels {
        /// Arrival time (unix seconds).
        time: f64,
        /// The items as sent.
        items: Vec<Value>,
    },
    /// The clock moved: closes arrival-time windows and expires waiting predictions.
    Tick {
        /// Clock reading (unix seconds).
        time: f64,
    },
    /// Windows closed by shard `shard` of a monitor split over `shards` (scale-out roles),
    /// for its owner to merge (see `state/partial.rs`).
    Partial {
        /// Which shard, `0..shards`.
        shard: u32,
        /// How many shards the monitor had when the shard closed the windows.
        shards: u32,
        /// The shard's parts of the windows it closed, in order.
        windows: Vec<PartialWindow>,
        /// The shard closed every window ending at or before this (unix seconds).
        through: f64,
    },
}

/// Windows closed by one event, to evaluate in order.
#[derive(Debug, Default)]
pub struct Closed {
    /// Feature windows.
    pub windows: Vec<ClosedWindow>,
    /// Labelled windows, each with whether the online detector fired during it.
    pub labelled: Vec<(ClosedWindow, bool)>,
}

impl Closed {
    /// Windows of both kinds.
    pub fn count(&self) -> usize {
        self.windows.len() + self.labelled.len()
    }
}

/// What applying one event did, for the response, metrics and evaluation.
#[derive(Debug, Default)]
pub struct Outputs {
    /// Rows: accepted and dropped rows (the first acknowledgement when `replayed`).
    pub ack: IngestAck,
    /// Rows: the `Idempotency-Key` was seen before; nothing changed.
    pub replayed: bool,
    /// Labels: each item's outcome.
    pub labels: Vec<LabelOutcome>,
    /// Windows closed.
    pub closed: Closed,
    /// Waiting predictions expired (age or count).
    pub expired: u64,
    /// Predictions waiting after the event.
    pub pending: usize,
    /// Change points the online detector found.
    pub change_points: u64,
}

/// Everything about a monitor that changes as events arrive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitorState {
    /// Sequence number of the last event applied (0: none).
    pub applied: u64,
    /// SHA-256 of the reference file the codes in this state refer to.
    pub fingerprint: String,
    /// Names of the monitor's columns (features, prediction, probability, target) when this
    /// state was made: what the window buffers hold, in order.
    pub columns: Vec<String>,
    /// The latest event time seen. Requests stamp their arrival before they are ordered, so
    /// without this an event could carry an earlier time than one already applied (a window
    /// ending before it starts, a closed period reopened).
    pub clock: f64,
    /// The feature window.
    pub windows: WindowEngine,
    /// The latency column whose values the feature window holds after the checks' columns
    /// (absent in snapshots of older versions).
    #[serde(default)]
    pub latency: Option<String>,
    /// The labelled window, when the monitor has a target.
    pub labelled: Option<WindowEngine>,
    /// Per column name: categories not in the reference, with their codes.
    pub categories: BTreeMap<String, NewCategories>,
    /// Recently seen `Idempotency-Key`s.
    pub idempotency: IdempotencyCache,
    /// Predictions waiting for labels.
    pub join: JoinBuffer,
    /// The online error-stream detector.
    pub detector: PageHinkley,
    /// A change point was detected since the last labelled window closed.
    pub change_since_window: bool,
    /// A split monitor's owner: windows being merged from the shards' parts (absent in
    /// snapshots of older versions).
    #[serde(default)]
    pub merging: Merging,
}

impl MonitorState {
    /// The state of a monitor that has seen nothing.
    pub fn new(model: &MonitorModel) -> Self {
        let spec = &model.spec;
        let limits = &model.limits;
        Self {
            applied: 0,
            fingerprint: model.fingerprint.clone(),
            columns: model.columns.clone(),
            clock: f64::NEG_INFINITY,
            windows: match spec.window.summary {
                Summary::Exact => WindowEngine::new(
                    model.window,
                    spec.window.max_rows(),
                    spec.window.allowed_lateness(),
                    &model.feature_template(),
                ),
                Summary::Binned => WindowEngine::binned(
                    model.window,
                    spec.window.allowed_lateness(),
                    model.feature_bins(),
                ),
            },
            latency: model.latency.as_ref().map(|l| l.column.clone()),
            // Labelled rows are timed by arrival, so they are never late.
            labelled: model.labelled_template().map(|template| {
                WindowEngine::new(model.window, spec.window.max_rows(), 0.0, &template)
            }),
            categories: BTreeMap::new(),
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
            merging: Merging::default(),
        }
    }

    /// Applies event number `seq`.
    pub fn apply(&mut self, model: &MonitorModel, seq: u64, event: Event) -> Outputs {
        self.applied = seq;
        match event {
            Event::Rows {
                time,
                key,
                columns,
                batch,
            } => {
                let batch = if columns == model.columns {
                    batch
                } else {
                    align(batch, &columns, model)
                };
                self.rows(model, time, key, batch)
            }
            Event::Labels { time, items } => self.labels(model, time, &items),
            Event::Tick { time } => self.tick(model, time),
            Event::Partial {
                shard,
                shards,
                windows,
                through,
            } => Outputs {
                closed: Closed {
                    windows: self.merge(model, shard, shards, windows, through),
                    labelled: Vec::new(),
                },
                pending: self.join.len(),
                ..Outputs::default()
            },
        }
    }

    /// Whether `key` would be answered from the idempotency cache at `time`.
    pub fn is_replay(&self, key: &str, time: f64) -> bool {
        self.idempotency.contains(key, self.clock.max(time))
    }

    fn advance_clock(&mut self, time: f64) -> f64 {
        self.clock = self.clock.max(time);
        self.clock
    }

    fn rows(
        &mut self,
        model: &MonitorModel,
        time: f64,
        key: Option<String>,
        mut batch: ParsedBatch,
    ) -> Outputs {
        let now = self.advance_clock(time);
        let mut out = Outputs::default();
        if let Some(ack) = key.as_deref().and_then(|k| self.idempotency.get(k, now)) {
            out.ack = ack;
            out.replayed = true;
            out.pending = self.join.len();
            return out;
        }
        let received = batch.rows;
        let future = drop_future_rows(&mut batch, now + model.spec.window.max_future_skew());
        let mut columns = batch.columns;
        for (i, (column, extras)) in columns.iter_mut().zip(batch.extras).enumerate() {
            if let ColumnData::Categorical(codes) = column {
                let first_new = model.reference_categories(i);
                let table = self.categories.entry(model.columns[i].clone()).or_default();
                for (row, text) in extras.novel {
                    codes[row] = table.code(first_new, text, model.limits.max_new_category_bytes);
                }
            }
        }
        out.expired = self.join.expire(now);
        if let (Some(_), Some(labelled)) = (model.roles.target, &model.labelled) {
            let target_column = columns.pop().expect("the target is the last column");
            let mut rows = model.labelled_template().expect("a target has a template");
            let mut labelled_rows = 0;
            for row in 0..batch.rows {
                if cell(&target_column, row).is_some() {
                    let prediction = model
                        .roles
                        .prediction
                        .and_then(|p| cell(&columns[p], row))
                        .unwrap_or(Cell::Number(f64::NAN));
                    let probability = model
                        .roles
                        .probability
                        .map_or(f64::NAN, |q| number(&columns[q], row));
                    let target = cell(&target_column, row).unwrap_or(Cell::Number(f64::NAN));
                    push_labelled_row(&mut rows, prediction, target, probability);
                    if let Some(error) = labelled.error(&rows[0], &rows[1], labelled_rows) {
                        out.change_points += self.record_error(error);
                    }
                    labelled_rows += 1;
                } else if let (Some(ids), Some(p)) = (&batch.ids, model.roles.prediction)
                    && let (Some(id), Some(prediction)) = (&ids[row], cell(&columns[p], row))
                {
                    let probability = model
                        .roles
                        .probability
                        .map_or(f64::NAN, |q| number(&columns[q], row));
                    out.expired += self.join.insert(id.clone(), prediction, probability, now);
                }
            }
            if labelled_rows > 0 {
                out.closed.labelled = self.push_labelled(&rows, now);
            }
        }
        if model.latency.is_some() {
            // A batch logged before the monitor had a latency column has none: missing.
            let latency = batch.latency.unwrap_or_else(|| vec![f64::NAN; batch.rows]);
            columns.push(ColumnData::Numeric(latency));
        }
        let times = batch.timestamps.unwrap_or_else(|| vec![now; batch.rows]);
        let pushed = self.windows.push(&columns, &times);
        out.closed.windows = pushed.closed;
        let dropped = Dropped {
            late: pushed.late,
            window_full: pushed.over_capacity,
            future,
        };
        out.ack = IngestAck {
            accepted: received as u64 - dropped.total(),
            dropped,
        };
        if let Some(key) = key {
            self.idempotency.insert(key, out.ack, now);
        }
        out.pending = self.join.len();
        out
    }

    fn labels(&mut self, model: &MonitorModel, time: f64, items: &[Value]) -> Outputs {
        let mut out = Outputs::default();
        let (Some(target), Some(labelled)) = (model.roles.target, &model.labelled) else {
            // The HTTP layer refuses labels for monitors without a target.
            out.labels = vec![LabelOutcome::InvalidTarget; items.len()];
            return out;
        };
        let now = self.advance_clock(time);
        out.expired = self.join.expire(now);
        let mut rows = model.labelled_template().expect("a target has a template");
        let mut joined = 0;
        for item in items {
            let outcome = self.join_label(model, target, item, &mut rows);
            if outcome == LabelOutcome::Matched {
                if let Some(error) = labelled.error(&rows[0], &rows[1], joined) {
                    out.change_points += self.record_error(error);
                }
                joined += 1;
            }
            out.labels.push(outcome);
        }
        if joined > 0 {
            out.closed.labelled = self.push_labelled(&rows, now);
        }
        out.pending = self.join.len();
        out
    }

    /// Joins one label item, appending the labelled row to `rows` when it matches.
    fn join_label(
        &mut self,
        model: &MonitorModel,
        target: usize,
        item: &Value,
        rows: &mut [ColumnData],
    ) -> LabelOutcome {
        let Some(id) = item
            .get("id")
            .and_then(labels::id_text)
            .filter(|id| id.len() <= model.limits.max_id_bytes)
        else {
            return LabelOutcome::InvalidId;
        };
        // Only a label that joins is coded: the target of an unknown id is never stored.
        if !self.join.is_pending(&id) {
            return match self.join.take(&id) {
                Err(Unmatched::Duplicate) => LabelOutcome::Duplicate,
                _ => LabelOutcome::UnknownId,
            };
        }
        let Some(value) = item
            .get("target")
            .and_then(|v| self.target_value(model, target, v))
        else {
            return LabelOutcome::InvalidTarget;
        };
        match self.join.take(&id) {
            Ok(pending) => {
                push_labelled_row(rows, pending.prediction, value, pending.probability);
                LabelOutcome::Matched
            }
            Err(Unmatched::UnknownId) => LabelOutcome::UnknownId,
            Err(Unmatched::Duplicate) => LabelOutcome::Duplicate,
        }
    }

    /// Closes time windows that ended by `time` (feature windows only when they run on
    /// arrival time; labelled windows always do) and expires waiting predictions.
    fn tick(&mut self, model: &MonitorModel, time: f64) -> Outputs {
        let now = self.advance_clock(time);
        let mut out = Outputs::default();
        if model.spec.timestamp.is_none() {
            out.closed.windows = self.windows.advance_clock(now);
        }
        if let Some(engine) = &mut self.labelled {
            let windows = engine.advance_clock(now);
            if !windows.is_empty() {
                let changed = std::mem::take(&mut self.change_since_window);
                out.closed.labelled = windows.into_iter().map(|w| (w, changed)).collect();
            }
        }
        out.expired = self.join.expire(now);
        out.pending = self.join.len();
        out
    }

    fn target_value(&mut self, model: &MonitorModel, target: usize, value: &Value) -> Option<Cell> {
        match &*model.checks[target].reference {
            ReferenceProfile::Numeric(_) => {
                value.as_f64().filter(|x| x.is_finite()).map(Cell::Number)
            }
            ReferenceProfile::Categorical(profile) => {
                let text = category::json_text(value)
                    .filter(|t| t.len() <= model.limits.max_category_bytes)?;
                let code = match profile.index.get(&text) {
                    Some(&code) => code,
                    None => self
                        .categories
                        .entry(model.columns[target].clone())
                        .or_default()
                        .code(
                            profile.categories.len() as u32,
                            text,
                            model.limits.max_new_category_bytes,
                        ),
                };
                Some(Cell::Code(code))
            }
        }
    }

    /// Feeds the online detector one labelled row's error; 1 when it found a change point.
    fn record_error(&mut self, error: f64) -> u64 {
        let change = self.detector.update(error);
        self.change_since_window |= change;
        u64::from(change)
    }

    /// Appends labelled rows (all timed `now`) and returns the labelled windows they closed.
    fn push_labelled(&mut self, rows: &[ColumnData], now: f64) -> Vec<(ClosedWindow, bool)> {
        let Some(engine) = &mut self.labelled else {
            return Vec::new();
        };
        let count = rows[1].len();
        let closed = engine.push(rows, &vec![now; count]).closed;
        if closed.is_empty() {
            return Vec::new();
        }
        let changed = std::mem::take(&mut self.change_since_window);
        closed.into_iter().map(|w| (w, changed)).collect()
    }
}

/// Categories a column learned that the reference does not have, bounded in count and bytes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewCategories {
    codes: BTreeMap<String, u32>,
    /// Text bytes held in `codes`.
    bytes: usize,
}

impl NewCategories {
    /// Every `(code, text)` learned (a split monitor's shard sends the texts of its codes).
    pub fn texts(&self) -> impl Iterator<Item = (u32, &str)> {
        self.codes.iter().map(|(text, &code)| (code, text.as_str()))
    }

    /// The code of a category absent from the reference: a stable code per text while the
    /// column holds fewer than [`MAX_NEW_CATEGORIES`] new categories and `max_bytes` of their
    /// text; after that, one shared overflow code.
    pub fn code(&mut self, first_new: u32, text: String, max_bytes: usize) -> u32 {
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
