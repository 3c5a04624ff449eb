//! A monitor's state across restarts and reloads: the snapshot value, recovery from the
//! state directory, and carrying state over to a changed config.

use std::io;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::engine::histogram;
use crate::engine::model::MonitorModel;
use crate::engine::results::Results;
use crate::engine::state::{Closed, Event, MonitorState};
use crate::state::{snapshot, wal};

/// What a snapshot file holds.
#[derive(Debug, Serialize, Deserialize)]
pub struct Snapshot {
    /// The monitor's name (a directory holds one monitor; checked on read).
    pub monitor: String,
    /// The ingest state.
    pub state: MonitorState,
    /// The published results, consistent with `state`.
    pub results: Results,
}

/// What recovery did, for the start-up log.
#[derive(Debug, Default)]
pub struct Recovery {
    /// Event number of the snapshot restored (0: none).
    pub snapshot: u64,
    /// Events replayed from the log after it.
    pub replayed: usize,
    /// Bytes cut from torn log tails.
    pub truncated_bytes: u64,
    /// What the config or reference change restarted.
    pub restarted: Vec<&'static str>,
}

/// Rebuilds a monitor's state from `dir`: the newest intact snapshot, carried over to `model`,
/// then every logged event after it, with the windows they close evaluated as they were the
/// first time. Writes a snapshot of the result, so the log starts empty.
pub fn recover(dir: &Path, model: &MonitorModel) -> io::Result<(MonitorState, Results, Recovery)> {
    let mut recovery = Recovery::default();
    let (mut state, mut results) = match snapshot::read_newest::<Snapshot>(dir)? {
        Some((seq, snap)) if snap.monitor == model.name() => {
            recovery.snapshot = seq;
            let (state, results, restarted) = carry_over(model, snap.state, snap.results);
            recovery.restarted = restarted;
            (state, results)
        }
        _ => (MonitorState::new(model), Results::default()),
    };
    let replay = wal::replay::<Event>(dir, state.applied)?;
    recovery.truncated_bytes = replay.truncated_bytes;
    recovery.replayed = replay.events.len();
    let same_reference = recovery.restarted.iter().all(|r| *r != "reference");
    for (seq, event) in replay.events {
        if !same_reference {
            // Coded against the old reference; the windows they belonged to restarted.
            state.applied = seq;
            continue;
        }
        let mut out = state.apply(model, seq, event);
        fold(model, &mut results, std::mem::take(&mut out.closed));
    }
    snapshot::write(
        dir,
        state.applied,
        &Snapshot {
            monitor: model.name().to_owned(),
            state: state.clone(),
            results: results.clone(),
        },
    )?;
    wal::remove_segments_through(dir, state.applied)?;
    Ok((state, results, recovery))
}

/// Writes `state` and `results` as the monitor's snapshot and drops the log it covers.
pub fn save(
    dir: &Path,
    model: &MonitorModel,
    state: MonitorState,
    results: Results,
) -> io::Result<()> {
    let applied = state.applied;
    let snap = Snapshot {
        monitor: model.name().to_owned(),
        state,
        results,
    };
    snapshot::write(dir, applied, &snap)?;
    wal::remove_segments_through(dir, applied)
}

/// Evaluates replayed windows into `results`, as the evaluator thread did (windows below
/// `min_rows` publish nothing).
fn fold(model: &MonitorModel, results: &mut Results, closed: Closed) {
    let min_rows = model.spec.window.min_rows;
    let history = model.spec.history;
    for window in closed.windows.iter().filter(|w| w.rows >= min_rows) {
        let report = model.evaluate(window);
        results.record_window(report, history);
        results.latest_histograms = Some(Arc::new(histogram::of_window(&model.checks, window)));
    }
    if let Some(labelled) = &model.labelled {
        for (window, _) in closed.labelled.iter().filter(|(w, _)| w.rows >= min_rows) {
            results.record_labelled(labelled.evaluate(window), history);
        }
    }
}

/// Moves a monitor's state to a new model (a reload, or a restart with a changed config):
/// what still means the same thing is kept, the rest starts empty. Returns what restarted:
/// - `reference`: another reference file (fingerprint) — windows, new categories, join buffer,
///   detector and streaks restart, since their codes and verdicts refer to the old one;
/// - `window`: another window definition or column set — the feature window (and a split
///   monitor's windows being merged from its shards) restarts;
/// - `labelled`: the labelled window and the join buffer restart when the columns changed;
/// - `detector`: other Page-Hinkley parameters.
///
/// Sequence numbers, the clock, idempotency keys and history always continue.
pub fn carry_over(
    model: &MonitorModel,
    old: MonitorState,
    mut results: Results,
) -> (MonitorState, Results, Vec<&'static str>) {
    let mut state = MonitorState::new(model);
    let mut restarted = Vec::new();
    state.applied = old.applied;
    state.clock = old.clock;
    let limits = &model.limits;
    state.idempotency = old.idempotency.with_bounds(
        limits.idempotency_keys,
        limits.idempotency_horizon.as_secs_f64(),
    );
    let mut names = model.columns.clone();
    names.extend(model.latency.iter().map(|l| l.column.clone()));
    results.retain_columns(&names);
    let same_reference = old.fingerprint == model.fingerprint;
    let same_columns = old.columns == model.columns;
    let keep: Option<Vec<usize>> = if same_reference {
        let old_features = features(&old.columns, old.labelled.is_some());
        let mut keep: Option<Vec<usize>> = features(&model.columns, model.roles.target.is_some())
            .iter()
            .map(|name| old_features.iter().position(|o| o == name))
            .collect();
        // The latency buffer comes last; it is kept only for the same column.
        if let (Some(keep), Some(_)) = (&mut keep, &state.latency) {
            if old.latency == state.latency {
                keep.push(old_features.len());
            } else {
                keep.push(usize::MAX);
            }
        }
        keep
    } else {
        None
    };
    let (windows, kept) = old
        .windows
        .carry_over(state.windows, keep.as_deref().unwrap_or(&[]));
    state.windows = windows;
    if !same_reference {
        restarted.push("reference");
        results.column_streaks.clear();
        results.dataset_streak = 0;
        results.concept_streak = 0;
    } else if !kept {
        restarted.push("window");
    }
    if let (Some(old_labelled), Some(fresh)) = (old.labelled, state.labelled.take()) {
        let identity: Vec<usize> = (0..model.labelled_template().map_or(0, |t| t.len())).collect();
        let keep = if same_reference && same_columns {
            &identity[..]
        } else {
            &[]
        };
        let (labelled, kept) = old_labelled.carry_over(fresh, keep);
        state.labelled = Some(labelled);
        if same_reference && !kept {
            restarted.push("labelled");
        }
    }
    if same_reference {
        state.categories = old.categories;
        state
            .categories
            .retain(|name, _| model.columns.contains(name));
        // A split monitor's windows in the making are counts like the feature window's.
        if kept {
            state.merging = old.merging;
        }
        if same_columns {
            state.join = old.join.with_bounds(
                model.spec.label_join.max_pending,
                model.spec.label_join.max_age.as_secs_f64(),
            );
        }
        if old.detector.spec() == model.spec.concept.page_hinkley {
            state.detector = old.detector;
            state.change_since_window = old.change_since_window;
        } else {
            restarted.push("detector");
        }
    }
    (state, results, restarted)
}

/// Names of the feature-window columns: every column but the target (always last).
fn features(columns: &[String], has_target: bool) -> &[String] {
    if has_target {
        &columns[..columns.len().saturating_sub(1)]
    } else {
        columns
    }
}
