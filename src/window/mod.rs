//! The windowed engine: decides which rows form a window and when it closes.
//!
//! Rows arrive column-wise (one [`ColumnData`] per monitored column plus one time per row) and
//! are appended to ring buffers. Four kinds of window (see [`Window`]):
//! - count tumbling: every `size` rows close a window and the buffer empties;
//! - count sliding: once `size` rows have arrived, the last `size` rows are evaluated and then
//!   again after every `step` further rows;
//! - time tumbling: windows are the aligned periods `[k·length, (k+1)·length)`; a window closes
//!   when a row from a later period arrives or when [`WindowEngine::advance_clock`] passes its end;
//! - time sliding: at every multiple `b` of `step` the rows with time in `[b − length, b)` are
//!   evaluated; rows are dropped once no future window can include them.
//!
//! A tumbling time window is a sliding one whose step is its length. Window ends are kept as an
//! integer index (end = k · step), so closing windows always terminates. On event time a window
//! closes once the latest row time (the watermark) passes its end by `lateness`; rows too old
//! for any open time window are counted as late and dropped. Time windows hold at most
//! `max_rows` rows, further rows are counted and dropped, so memory stays bounded.
//!
//! A binned window (`summary: binned`, any of the four kinds) keeps no rows: it counts them into
//! panes of one step ([`panes`]). The exact windows' row buffers are handled in `rows.rs`.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::column::ColumnData;
use crate::config::Window;
use panes::{BinnedColumn, ColumnBins, Panes};

pub mod panes;
mod rows;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_binned;

/// A window ready to evaluate.
#[derive(Debug, Clone, PartialEq)]
pub struct ClosedWindow {
    /// Sequence number per monitor, increasing in closing order.
    pub seq: u64,
    /// Start time (unix seconds): the period start for time windows, the first row's time for
    /// count windows.
    pub start: f64,
    /// End time (unix seconds): the period end for time windows, the last row's time for count
    /// windows.
    pub end: f64,
    /// Rows in the window.
    pub rows: usize,
    /// The window's values, one entry per monitored column (empty for binned windows).
    pub columns: Vec<ColumnData>,
    /// A binned window's counts, one entry per monitored column (`window.summary: binned`).
    pub binned: Option<Vec<BinnedColumn>>,
}

/// What pushing rows did besides closing windows.
#[derive(Debug, Default, PartialEq)]
pub struct PushOutcome {
    /// Windows closed by these rows, in order.
    pub closed: Vec<ClosedWindow>,
    /// Rows older than every open time window (dropped).
    pub late: u64,
    /// Rows dropped because the time window already held `max_rows`.
    pub over_capacity: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Buffer {
    Numeric(VecDeque<f64>),
    Categorical(VecDeque<u32>),
}

/// Per-monitor window state: plain data, serialised in snapshots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowEngine {
    window: Window,
    max_rows: usize,
    /// Event time: a time window closes once the watermark passes its end by this much, so rows
    /// up to this late still count. Zero on arrival time.
    lateness: f64,
    columns: Vec<Buffer>,
    times: VecDeque<f64>,
    next_seq: u64,
    rows_since_evaluation: usize,
    evaluated_once: bool,
    /// Time windows: index `k` of the next window end `k · step`. An integer, so stepping from
    /// one end to the next always makes progress (in f64, `end + step == end` once `end` is
    /// large enough, and a loop over ends would never finish).
    next_end: Option<i64>,
    /// Latest row time seen (event time) or clock reading (arrival time).
    watermark: f64,
    /// Binned windows count rows into panes instead of keeping them (`columns` stay empty;
    /// a binned count window keeps in `times` the first row time of each pane it holds).
    #[serde(default)]
    panes: Option<Panes>,
    /// Binned count windows: rows counted so far, whose quotient by the step is the pane index.
    #[serde(default)]
    counted: u64,
}

impl WindowEngine {
    /// An empty engine for columns shaped like `template` (only the variants matter).
    /// `lateness` (seconds) is how long a time window waits past its end for late rows.
    pub fn new(window: Window, max_rows: usize, lateness: f64, template: &[ColumnData]) -> Self {
        let columns = template
            .iter()
            .map(|c| match c {
                ColumnData::Numeric(_) => Buffer::Numeric(VecDeque::new()),
                ColumnData::Categorical(_) => Buffer::Categorical(VecDeque::new()),
            })
            .collect();
        Self {
            window,
            max_rows,
            lateness,
            columns,
            times: VecDeque::new(),
            next_seq: 1,
            rows_since_evaluation: 0,
            evaluated_once: false,
            next_end: None,
            watermark: f64::NEG_INFINITY,
            panes: None,
            counted: 0,
        }
    }

    /// An empty binned window (`window.summary: binned`): rows are counted into panes of one
    /// step (a duration, or a number of rows) as `bins` say, so memory does not grow with rows
    /// (see [`panes`]).
    pub fn binned(window: Window, lateness: f64, bins: Vec<ColumnBins>) -> Self {
        let mut engine = Self::new(window, usize::MAX, lateness, &[]);
        let per_window = match window {
            Window::CountTumbling { .. } => 1,
            // The config makes `size` a whole number of steps.
            Window::CountSliding { size, step } => (size / step) as i64,
            Window::TimeTumbling { .. } | Window::TimeSliding { .. } => {
                let (length, step) = engine.length_and_step();
                (length / step).round() as i64
            }
        };
        engine.panes = Some(Panes::new(bins, per_window));
        engine
    }

    /// Rows currently buffered (counted, for binned windows).
    pub fn buffered_rows(&self) -> usize {
        match &self.panes {
            Some(panes) => panes.rows() as usize,
            None => self.times.len(),
        }
    }

    /// How a binned window counts its columns (`None` for windows that keep rows).
    pub fn bins(&self) -> Option<&[ColumnBins]> {
        self.panes.as_ref().map(Panes::bins)
    }

    /// Time windows: every window ending at or before this time has been closed, and no row
    /// can reopen it (the watermark less the allowed lateness). A split monitor's shard sends
    /// it to the owner, which then knows the shard will never send a part of those windows.
    pub fn closed_through(&self) -> f64 {
        self.watermark - self.lateness
    }

    /// Bytes of pane counters a binned window holds (0 for windows that keep rows).
    pub fn counter_bytes(&self) -> usize {
        self.panes.as_ref().map_or(0, Panes::counter_bytes)
    }

    /// Carries this engine's rows over to a new config when the window definition and the
    /// column types are unchanged: `keep[i]` is the old column at new position `i`. Otherwise
    /// `fresh` starts empty but continues the sequence numbers, so a window number is never
    /// reused. Limits (`max_rows`, `lateness`) come from `fresh`.
    pub fn carry_over(self, mut fresh: WindowEngine, keep: &[usize]) -> (WindowEngine, bool) {
        // Binned windows keep no row buffers: their columns are the panes' bins, compared next.
        let binned = self.panes.is_some() && fresh.panes.is_some();
        let same_types = binned
            || keep.len() == fresh.columns.len()
                && keep.iter().zip(&fresh.columns).all(|(&old, new)| {
                    self.columns
                        .get(old)
                        .is_some_and(|b| std::mem::discriminant(b) == std::mem::discriminant(new))
                });
        let same_panes = match (&self.panes, &fresh.panes) {
            (None, None) => true,
            // Counts continue only over the same bins, columns in the same order.
            (Some(old), Some(new)) => {
                old.bins() == new.bins() && keep.iter().enumerate().all(|(i, &k)| i == k)
            }
            _ => false,
        };
        if self.window != fresh.window || !same_types || !same_panes {
            fresh.next_seq = self.next_seq;
            return (fresh, false);
        }
        fresh.panes = self.panes;
        if !binned {
            let mut columns: Vec<Option<Buffer>> = self.columns.into_iter().map(Some).collect();
            fresh.columns = keep
                .iter()
                .map(|&i| columns[i].take().expect("distinct"))
                .collect();
        }
        fresh.times = self.times;
        fresh.counted = self.counted;
        fresh.next_seq = self.next_seq;
        fresh.rows_since_evaluation = self.rows_since_evaluation;
        fresh.evaluated_once = self.evaluated_once;
        fresh.next_end = self.next_end;
        fresh.watermark = self.watermark;
        (fresh, true)
    }

    /// Appends rows (`times[i]` is row i's time in unix seconds, finite) and returns the
    /// windows they closed. `columns` must have the shape given to [`WindowEngine::new`].
    pub fn push(&mut self, columns: &[ColumnData], times: &[f64]) -> PushOutcome {
        let mut out = PushOutcome::default();
        for (row, &t) in times.iter().enumerate() {
            match self.window {
                // A binned tumbling count window is one pane of `size` rows.
                Window::CountTumbling { size: step } | Window::CountSliding { step, .. }
                    if self.panes.is_some() =>
                {
                    self.count_into_panes(columns, row, t, step as u64, &mut out);
                }
                Window::CountTumbling { size } => {
                    self.append(columns, row, t);
                    if self.times.len() >= size {
                        let (start, end) = self.row_time_range();
                        out.closed.push(self.take_all(start, end));
                    }
                }
                Window::CountSliding { size, step } => {
                    self.append(columns, row, t);
                    if self.times.len() > size {
                        self.pop_front();
                    }
                    self.rows_since_evaluation += 1;
                    let due = !self.evaluated_once || self.rows_since_evaluation >= step;
                    if self.times.len() == size && due {
                        let (start, end) = self.row_time_range();
                        out.closed.push(self.copy_range(
                            start,
                            end,
                            f64::NEG_INFINITY,
                            f64::INFINITY,
                        ));
                        self.rows_since_evaluation = 0;
                        self.evaluated_once = true;
                    }
                }
                Window::TimeTumbling { .. } | Window::TimeSliding { .. } => {
                    let (length, step) = self.length_and_step();
                    self.watermark = self.watermark.max(t);
                    self.close_time_windows(self.watermark - self.lateness, &mut out.closed);
                    // The first window still open: the first to end after watermark − lateness.
                    let open_from = self.watermark - self.lateness;
                    let k = *self
                        .next_end
                        .get_or_insert_with(|| end_index_after(open_from, step));
                    if t < end_time(k, step) - length {
                        out.late += 1;
                        continue;
                    }
                    self.append_bounded(columns, row, t, &mut out);
                }
            }
        }
        out
    }

    /// Closes time windows whose end is at or before `now` (unix seconds). Called by a ticker
    /// for monitors whose windows run on arrival time, so a window closes even when traffic
    /// stops; count windows never close on time.
    pub fn advance_clock(&mut self, now: f64) -> Vec<ClosedWindow> {
        let mut closed = Vec::new();
        if matches!(
            self.window,
            Window::TimeTumbling { .. } | Window::TimeSliding { .. }
        ) {
            self.watermark = self.watermark.max(now);
            self.close_time_windows(self.watermark - self.lateness, &mut closed);
        }
        closed
    }

    /// (length, step) in seconds of a time window; a tumbling window steps by its length.
    fn length_and_step(&self) -> (f64, f64) {
        match self.window {
            Window::TimeTumbling { length } => (length.as_secs_f64(), length.as_secs_f64()),
            Window::TimeSliding { length, step } => (length.as_secs_f64(), step.as_secs_f64()),
            Window::CountTumbling { .. } | Window::CountSliding { .. } => (0.0, 1.0),
        }
    }

    /// Evaluates every window ending at or before `until`, then forgets rows no later window
    /// can contain. Each turn advances the integer end index and either publishes a window
    /// holding buffered rows or empties the buffer, so the loop runs at most about
    /// `(length + lateness) / step + 2` times, however far `until` jumps (config bounds that
    /// ratio).
    fn close_time_windows(&mut self, until: f64, closed: &mut Vec<ClosedWindow>) {
        let (length, step) = self.length_and_step();
        while let Some(k) = self.next_end {
            let end = end_time(k, step);
            if until < end {
                break;
            }
            let start = end - length;
            let next = k.saturating_add(1);
            if let Some(panes) = &mut self.panes {
                let first = k.saturating_sub(panes.per_window());
                let window = panes.any_in(first, k).then(|| panes.window(k));
                panes.forget_before(next.saturating_sub(panes.per_window()));
                self.next_end = (!panes.is_empty() && next > k).then_some(next);
                if let Some((rows, columns)) = window {
                    closed.push(ClosedWindow {
                        seq: self.next_seq(),
                        start,
                        end,
                        rows: rows as usize,
                        columns: Vec::new(),
                        binned: Some(columns),
                    });
                }
                continue;
            }
            if self.times.iter().any(|&x| x >= start && x < end) {
                closed.push(self.copy_range(start, end, start, end));
            }
            self.forget_before(end_time(next, step) - length);
            // With nothing buffered, the next end is set by the next row's time, so a long
            // quiet gap (or a jump of the clock) costs nothing.
            self.next_end = (!self.times.is_empty() && next > k).then_some(next);
        }
    }

    /// A binned count window: counts the row into pane `counted / step` and closes the window
    /// of the last `per_window` panes when this row completes a pane.
    fn count_into_panes(
        &mut self,
        columns: &[ColumnData],
        row: usize,
        t: f64,
        step: u64,
        out: &mut PushOutcome,
    ) {
        let Some(panes) = &mut self.panes else {
            return;
        };
        let index = (self.counted / step) as i64;
        if !panes.add(columns, row, index) {
            out.over_capacity += 1;
            return;
        }
        if self.counted.is_multiple_of(step) {
            self.times.push_back(t);
            if self.times.len() as i64 > panes.per_window() {
                self.times.pop_front();
            }
        }
        self.counted += 1;
        if !self.counted.is_multiple_of(step) || index + 1 < panes.per_window() {
            return;
        }
        let (rows, binned) = panes.window(index + 1);
        panes.forget_before(index + 2 - panes.per_window());
        let start = self.times.front().copied().unwrap_or(t);
        out.closed.push(ClosedWindow {
            seq: self.next_seq(),
            start,
            end: t,
            rows: rows as usize,
            columns: Vec::new(),
            binned: Some(binned),
        });
    }

    fn append_bounded(
        &mut self,
        columns: &[ColumnData],
        row: usize,
        t: f64,
        out: &mut PushOutcome,
    ) {
        let (_, step) = self.length_and_step();
        if let Some(panes) = &mut self.panes {
            // `as` saturates; rows that far out were dropped as future or late before.
            if !panes.add(columns, row, (t / step).floor() as i64) {
                out.over_capacity += 1;
            }
        } else if self.times.len() >= self.max_rows {
            out.over_capacity += 1;
        } else {
            self.append(columns, row, t);
        }
    }

    /// Takes the next window sequence number (a split monitor's owner numbers the windows it
    /// merges from its shards' parts with it, so they continue the monitor's sequence).
    pub fn next_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }
}

/// Index of the first window end strictly after `t`: ends are the multiples of `step`.
fn end_index_after(t: f64, step: f64) -> i64 {
    // `as` saturates for times beyond ±9.2e18 steps; callers reject such rows before.
    ((t / step).floor() as i64).saturating_add(1)
}

/// The time of window end `k`.
fn end_time(k: i64, step: f64) -> f64 {
    k as f64 * step
}
