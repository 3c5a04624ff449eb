//! A running monitor: its model, its state behind one lock, its write-ahead log and its
//! published results.
//!
//! Every request becomes an [`Event`]: under the state lock it is numbered, appended to the
//! log (synced per `server.fsync`), then applied to the [`MonitorState`]. Windows it closes
//! go to the monitor's evaluator thread; the request then waits for them without holding any
//! lock, so other requests keep ingesting and other monitors evaluate in parallel. Metrics are
//! recorded here, from what `apply` returned, never inside it.

use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;

use crate::check::report::unix_now;
use crate::config::Fsync;
use crate::engine::evaluator::{Evaluate, Evaluator, Published};
use crate::engine::histogram;
use crate::engine::model::MonitorModel;
use crate::engine::results::Results;
use crate::engine::state::{Closed, Event, MonitorState, Outputs};
use crate::export::metrics::Metrics;
use crate::ingest::idempotency::IngestAck;
use crate::ingest::rows::ParsedBatch;
use crate::labelled::join::LabelOutcome;
use crate::state::wal::{Syncer, Wal};
use crate::window::ClosedWindow;

mod publish;

/// Where and how a monitor persists its events.
#[derive(Debug, Clone)]
pub struct Storage {
    /// The monitor's directory under `server.state_dir`.
    pub dir: PathBuf,
    /// When appended events reach the disk.
    pub fsync: Fsync,
}

/// Where an event went in the log: the segment's syncer and the event's number (`None`
/// without a state directory).
type Logged = Option<(Arc<Syncer>, u64)>;

/// Why a request changed nothing.
#[derive(Debug)]
pub enum Refused {
    /// The evaluator is `max_queued_windows` behind (HTTP 429).
    Backlog {
        /// Windows waiting for evaluation.
        queued: usize,
    },
    /// The event could not be written to the log (HTTP 503).
    Storage(io::Error),
    /// A reload replaced this monitor while the request waited: send it to the new one.
    Retired,
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

/// Whether an event may be refused while the evaluator is behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    /// A request: refused with 429 while `max_queued_windows` wait.
    Backlog,
    /// An event from the log, which cannot be refused.
    Unbounded,
}

/// One monitor, shared by all requests.
#[derive(Debug)]
pub struct Monitor {
    /// What the monitor is: config, checks, reference statistics.
    pub model: Arc<MonitorModel>,
    metrics: Arc<Metrics>,
    evaluator: Evaluator,
    storage: Option<Storage>,
    /// A `std` mutex: held for in-memory work and the log append, never across an `.await`;
    /// callers run on blocking threads, never on the async workers.
    core: Mutex<Core>,
    /// Separate from `core` so reads of results never wait for ingest.
    results: Mutex<Results>,
}

/// What the state lock guards.
#[derive(Debug)]
struct Core {
    /// The monitor's state.
    state: MonitorState,
    /// The log being appended to, when the service has a state directory.
    wal: Option<Wal>,
    /// Replaced by a reload: requests still holding this monitor must go to the new one.
    retired: bool,
}

impl Monitor {
    /// Starts a monitor from `state` and `results` (fresh, restored or carried over by a
    /// reload), registers its metric series and starts its evaluator thread. With `log` (a
    /// segment starting at `state.applied + 1`), every event is logged.
    pub fn start(
        model: Arc<MonitorModel>,
        state: MonitorState,
        results: Results,
        metrics: Arc<Metrics>,
        log: Option<(Storage, Wal)>,
    ) -> Arc<Self> {
        let (storage, wal) = log.unzip();
        metrics.register_monitor(
            &model.spec,
            &model.checks,
            model.labelled.as_deref(),
            model.reference_rows,
            &model.fingerprint,
        );
        publish::register_latency(&metrics, &model);
        let monitor = Arc::new_cyclic(|me| Self {
            evaluator: Evaluator::start(me.clone(), model.name()),
            model,
            metrics,
            storage,
            core: Mutex::new(Core {
                state,
                wal,
                retired: false,
            }),
            results: Mutex::new(results),
        });
        monitor.republish();
        monitor
    }

    /// The monitor's name.
    pub fn name(&self) -> &str {
        self.model.name()
    }

    /// Appends a parsed batch; `now` (unix seconds) is the arrival time, used as the time of
    /// rows without an event time and of labelled rows. A request carrying an
    /// `Idempotency-Key` seen before gets the first acknowledgement back and changes nothing.
    pub fn ingest(
        &self,
        batch: ParsedBatch,
        now: f64,
        key: Option<String>,
    ) -> Result<Ingested, Refused> {
        let event = Event::Rows {
            time: now,
            key,
            columns: self.model.columns.clone(),
            batch,
        };
        self.ingest_rows(event, Bound::Backlog)
    }

    /// Applies an event read from the events topic (the `engine` role); returns how many
    /// windows it closed. Never refused for backlog: the log cannot take an event back, and the
    /// engine drains the evaluator at every checkpoint.
    pub fn apply_from_log(&self, event: Event) -> Result<usize, Refused> {
        let published = match event {
            Event::Rows { .. } => self.ingest_rows(event, Bound::Unbounded)?.published,
            Event::Labels { time, items } => self.labels_event(items, time, Bound::Unbounded)?.1,
            Event::Tick { time } => self.tick(time),
            // A split monitor's windows, merged from its shards' parts.
            Event::Partial { .. } => self.submit(event, Bound::Unbounded)?.1,
        };
        Ok(published.closed())
    }

    /// Applies an [`Event::Rows`] and counts what it did.
    fn ingest_rows(&self, event: Event, bound: Bound) -> Result<Ingested, Refused> {
        let name = self.name();
        let Event::Rows {
            time: now, batch, ..
        } = &event
        else {
            unreachable!("ingest_rows takes row events");
        };
        let now = *now;
        let invalid: Vec<u64> = batch.extras.iter().map(|e| e.invalid).collect();
        let invalid_ids = batch.invalid_ids;
        let invalid_latency = batch.invalid_latency;
        let (out, published) = self.submit(event, bound)?;
        // Counted once the request is applied: a refused request is retried and counted then.
        self.count_invalid(&invalid, invalid_ids);
        self.count_invalid_latency(invalid_latency);
        if !out.replayed {
            let m = &self.metrics;
            m.rows_ingested
                .with_label_values(&[name])
                .inc_by(out.ack.accepted);
            let dropped = out.ack.dropped;
            for (reason, n) in [
                ("late", dropped.late),
                ("window_full", dropped.window_full),
                ("future", dropped.future),
            ] {
                m.rows_dropped.with_label_values(&[name, reason]).inc_by(n);
            }
            m.last_ingest.with_label_values(&[name]).set(now);
        }
        Ok(Ingested {
            ack: out.ack,
            replayed: out.replayed,
            published,
        })
    }

    /// Joins labels (`{"id", "target"}` items) to waiting predictions. Returns each item's
    /// outcome and the labelled windows the joined rows closed.
    pub fn add_labels(
        &self,
        items: Vec<Value>,
        now: f64,
    ) -> Result<(Vec<LabelOutcome>, Published), Refused> {
        self.labels_event(items, now, Bound::Backlog)
    }

    fn labels_event(
        &self,
        items: Vec<Value>,
        now: f64,
        bound: Bound,
    ) -> Result<(Vec<LabelOutcome>, Published), Refused> {
        let received = items.len() as u64;
        let (out, published) = self.submit(Event::Labels { time: now, items }, bound)?;
        let m = &self.metrics;
        let name = self.name();
        m.labels_received
            .with_label_values(&[name])
            .inc_by(received);
        for outcome in &out.labels {
            match outcome {
                LabelOutcome::Matched => m.labels_matched.with_label_values(&[name]).inc(),
                other => m
                    .labels_unmatched
                    .with_label_values(&[name, other.as_str()])
                    .inc(),
            }
        }
        Ok((out.labels, published))
    }

    /// Clock work for the ticker: closes arrival-time windows that ended by `now` and expires
    /// waiting predictions. Logged only when the clock moves; never refused for backlog (a
    /// tick adds no rows).
    pub fn tick(&self, now: f64) -> Published {
        let mut core = self.lock_core();
        if core.retired || now <= core.state.clock {
            return Published::none();
        }
        match self.log_and_apply(&mut core, Event::Tick { time: now }) {
            // Ticks are not synced on their own: nothing waits for them.
            Ok((out, published, _)) => {
                drop(core);
                self.record(&out);
                published
            }
            Err(e) => {
                tracing::error!(monitor = self.name(), error = %e, "Cannot log a clock tick.");
                Published::none()
            }
        }
    }

    /// Logs and applies `event` unless the evaluator is too far behind.
    fn submit(&self, event: Event, bound: Bound) -> Result<(Outputs, Published), Refused> {
        let mut core = self.lock_core();
        if core.retired {
            return Err(Refused::Retired);
        }
        let replay = match &event {
            Event::Rows {
                time,
                key: Some(key),
                ..
            } => core.state.is_replay(key, *time),
            _ => false,
        };
        let queued = self.evaluator.queued();
        if bound == Bound::Backlog && !replay && queued >= self.model.limits.max_queued_windows {
            return Err(Refused::Backlog { queued });
        }
        let (out, published, logged) = self
            .log_and_apply(&mut core, event)
            .map_err(Refused::Storage)?;
        drop(core);
        // Group commit: the fsync runs outside the lock, so requests that appended meanwhile
        // share it. The response waits for it; a crash before it loses only unanswered events.
        if let (Some((syncer, seq)), Some(storage)) = (logged, &self.storage)
            && storage.fsync == Fsync::Always
        {
            syncer.sync_through(seq).map_err(Refused::Storage)?;
        }
        self.record(&out);
        Ok((out, published))
    }

    /// Numbers, logs and applies one event; queues the windows it closed. Returns the log's
    /// syncer and the event's number when it was logged.
    fn log_and_apply(
        &self,
        core: &mut Core,
        event: Event,
    ) -> io::Result<(Outputs, Published, Logged)> {
        let seq = core.state.applied + 1;
        let logged = match &mut core.wal {
            Some(wal) => Some((wal.append(seq, &event)?, seq)),
            None => None,
        };
        let mut out = core.state.apply(&self.model, seq, event);
        let closed = std::mem::take(&mut out.closed);
        let published = self.evaluator.submit(closed, self.name());
        Ok((out, published, logged))
    }

    /// Flushes logged events to disk (`fsync: interval`).
    pub fn sync_log(&self) -> io::Result<()> {
        let syncer = self.lock_core().wal.as_ref().map(Wal::syncer);
        syncer.map_or(Ok(()), |s| s.sync_all_written())
    }

    /// A consistent copy of state and results: taken under the state lock once every queued
    /// window is published. With a log, a new segment starts after it, so the segments
    /// before hold only events the copy already contains.
    pub fn checkpoint(&self) -> io::Result<(MonitorState, Results)> {
        let mut core = self.lock_core();
        self.evaluator.drain();
        let state = core.state.clone();
        let results = lock(&self.results).clone();
        if let Some(wal) = &mut core.wal {
            wal.rotate(state.applied + 1)?;
        }
        Ok((state, results))
    }

    /// Takes state and results out for a reload, and retires this monitor: requests still
    /// holding it are sent to its successor.
    pub fn retire(&self) -> (MonitorState, Results) {
        let mut core = self.lock_core();
        self.evaluator.drain();
        core.retired = true;
        let results = lock(&self.results).clone();
        (core.state.clone(), results)
    }

    /// The monitor's storage, when it has one.
    pub fn storage(&self) -> Option<&Storage> {
        self.storage.as_ref()
    }

    /// Evaluates and publishes one job's windows; returns how many feature windows and
    /// labelled windows were published (windows below `min_rows` are skipped and counted).
    pub fn evaluate_closed(&self, closed: &Closed) -> (usize, usize) {
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
        let skip = window.rows < self.model.spec.window.min_rows;
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
        let model = &self.model;
        let report = model.evaluate(window);
        self.observe_latency(window, &report);
        self.metrics
            .evaluation_duration
            .with_label_values(&[self.name()])
            .observe(report.evaluation_seconds);
        tracing::info!(
            monitor = self.name(),
            seq = report.seq,
            rows = report.rows,
            drift_share = report.dataset.drift_share,
            drifted = report.dataset.drifted,
            "Window evaluated."
        );
        let histograms = histogram::of_window(&model.checks, window);
        let mut results = lock(&self.results);
        results.record_window(report, model.spec.history);
        results.latest_histograms = Some(Arc::new(histograms));
        self.publish_window(&results, unix_now());
        true
    }

    fn evaluate_labelled(&self, window: &ClosedWindow, change_detected: bool) -> bool {
        let Some(model) = &self.model.labelled else {
            return false;
        };
        if self.skip_below_min_rows(window, "labelled_below_min_rows") {
            return false;
        }
        let started = std::time::Instant::now();
        let report = model.evaluate(window);
        self.metrics
            .evaluation_duration
            .with_label_values(&[self.name()])
            .observe(started.elapsed().as_secs_f64());
        tracing::info!(
            monitor = self.name(),
            seq = report.seq,
            rows = report.rows,
            concept_drifted = report.concept.as_ref().is_some_and(|c| c.drifted),
            "Labelled window evaluated."
        );
        let mut results = lock(&self.results);
        results.record_labelled(report, self.model.spec.history);
        self.publish_labelled(&results, change_detected);
        true
    }

    /// A copy of the published results (reports and histograms are shared, not copied).
    pub fn results(&self) -> Results {
        lock(&self.results).clone()
    }

    /// The latest published results and recent summaries, as JSON.
    pub fn results_json(&self) -> Value {
        let (buffered, pending, labelled_rows) = {
            let core = self.lock_core();
            let state = &core.state;
            (
                state.windows.buffered_rows(),
                state.join.len(),
                state.labelled.as_ref().map(|w| w.buffered_rows()),
            )
        };
        let results = lock(&self.results);
        serde_json::json!({
            "monitor": self.name(),
            "buffered_rows": buffered,
            "latest": results.latest.as_deref(),
            "history": results.history,
            "labelled": {
                "buffered_rows": labelled_rows,
                "pending_predictions": pending,
                "latest": results.labelled_latest.as_deref(),
                "history": results.labelled_history,
            },
        })
    }

    fn lock_core(&self) -> MutexGuard<'_, Core> {
        lock(&self.core)
    }
}

/// Locks a mutex, recovering the data if a previous holder panicked: every critical section
/// leaves the state consistent, so poisoning must not take the monitor down.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Evaluate for Monitor {
    fn name(&self) -> &str {
        Monitor::name(self)
    }

    fn evaluate_closed(&self, closed: &Closed) -> (usize, usize) {
        Monitor::evaluate_closed(self, closed)
    }
}
