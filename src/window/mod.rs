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

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::config::Window;

/// Values of one column for a run of rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ColumnData {
    /// NaN = missing, [`crate::reference::profile::INVALID_NUMBER`] = invalid.
    Numeric(Vec<f64>),
    /// Category codes; [`crate::reference::profile::MISSING_CODE`] = missing, [`crate::reference::profile::INVALID_CODE`] =
    /// invalid.
    Categorical(Vec<u32>),
}

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
    /// The window's values, one entry per monitored column.
    pub columns: Vec<ColumnData>,
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
        }
    }

    /// Rows currently buffered.
    pub fn buffered_rows(&self) -> usize {
        self.times.len()
    }

    /// Carries this engine's rows over to a new config when the window definition and the
    /// column types are unchanged: `keep[i]` is the old column at new position `i`. Otherwise
    /// `fresh` starts empty but continues the sequence numbers, so a window number is never
    /// reused. Limits (`max_rows`, `lateness`) come from `fresh`.
    pub fn carry_over(self, mut fresh: WindowEngine, keep: &[usize]) -> (WindowEngine, bool) {
        let same_types = keep.len() == fresh.columns.len()
            && keep.iter().zip(&fresh.columns).all(|(&old, new)| {
                self.columns
                    .get(old)
                    .is_some_and(|b| std::mem::discriminant(b) == std::mem::discriminant(new))
            });
        if self.window != fresh.window || !same_types {
            fresh.next_seq = self.next_seq;
            return (fresh, false);
        }
        let mut columns: Vec<Option<Buffer>> = self.columns.into_iter().map(Some).collect();
        fresh.columns = keep
            .iter()
            .map(|&i| columns[i].take().expect("distinct"))
            .collect();
        fresh.times = self.times;
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
            if self.times.iter().any(|&x| x >= start && x < end) {
                closed.push(self.copy_range(start, end, start, end));
            }
            let next = k.saturating_add(1);
            self.forget_before(end_time(next, step) - length);
            // With nothing buffered, the next end is set by the next row's time, so a long
            // quiet gap (or a jump of the clock) costs nothing.
            self.next_end = (!self.times.is_empty() && next > k).then_some(next);
        }
    }

    /// Drops buffered rows older than `time`. Rows are buffered in arrival order, and on event
    /// time an earlier row may arrive later, so old rows are not only at the front.
    fn forget_before(&mut self, time: f64) {
        while self.times.front().is_some_and(|&x| x < time) {
            self.pop_front();
        }
        if self.times.iter().any(|&x| x < time) {
            let keep: Vec<bool> = self.times.iter().map(|&x| x >= time).collect();
            for buffer in &mut self.columns {
                match buffer {
                    Buffer::Numeric(b) => *b = select(b, &keep).into(),
                    Buffer::Categorical(b) => *b = select(b, &keep).into(),
                }
            }
            self.times = select(&self.times, &keep).into();
        }
    }

    fn append_bounded(
        &mut self,
        columns: &[ColumnData],
        row: usize,
        t: f64,
        out: &mut PushOutcome,
    ) {
        if self.times.len() >= self.max_rows {
            out.over_capacity += 1;
        } else {
            self.append(columns, row, t);
        }
    }

    fn append(&mut self, columns: &[ColumnData], row: usize, t: f64) {
        for (buffer, data) in self.columns.iter_mut().zip(columns) {
            match (buffer, data) {
                (Buffer::Numeric(b), ColumnData::Numeric(d)) => b.push_back(d[row]),
                (Buffer::Categorical(b), ColumnData::Categorical(d)) => b.push_back(d[row]),
                // The batch parser builds columns from the same schema as the engine.
                _ => unreachable!("batch column type differs from the window's"),
            }
        }
        self.times.push_back(t);
    }

    fn pop_front(&mut self) {
        for buffer in &mut self.columns {
            match buffer {
                Buffer::Numeric(b) => {
                    b.pop_front();
                }
                Buffer::Categorical(b) => {
                    b.pop_front();
                }
            }
        }
        self.times.pop_front();
    }

    fn row_time_range(&self) -> (f64, f64) {
        (
            self.times.front().copied().unwrap_or(0.0),
            self.times.back().copied().unwrap_or(0.0),
        )
    }

    fn next_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// Moves every buffered row into a window (tumbling windows).
    fn take_all(&mut self, start: f64, end: f64) -> ClosedWindow {
        let rows = self.times.len();
        let columns = self
            .columns
            .iter_mut()
            .map(|b| match b {
                Buffer::Numeric(b) => ColumnData::Numeric(b.drain(..).collect()),
                Buffer::Categorical(b) => ColumnData::Categorical(b.drain(..).collect()),
            })
            .collect();
        self.times.clear();
        ClosedWindow {
            seq: self.next_seq(),
            start,
            end,
            rows,
            columns,
        }
    }

    /// Copies the buffered rows with time in `[from, to)` into a window (sliding windows keep
    /// their buffer).
    fn copy_range(&mut self, start: f64, end: f64, from: f64, to: f64) -> ClosedWindow {
        let keep: Vec<bool> = self.times.iter().map(|&x| x >= from && x < to).collect();
        let all = keep.iter().all(|&k| k);
        let columns = self
            .columns
            .iter()
            .map(|b| match b {
                Buffer::Numeric(b) if all => ColumnData::Numeric(b.iter().copied().collect()),
                Buffer::Numeric(b) => ColumnData::Numeric(select(b, &keep)),
                Buffer::Categorical(b) if all => {
                    ColumnData::Categorical(b.iter().copied().collect())
                }
                Buffer::Categorical(b) => ColumnData::Categorical(select(b, &keep)),
            })
            .collect();
        let rows = keep.iter().filter(|&&k| k).count();
        ClosedWindow {
            seq: self.next_seq(),
            start,
            end,
            rows,
            columns,
        }
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

fn select<T: Copy>(values: &VecDeque<T>, keep: &[bool]) -> Vec<T> {
    values
        .iter()
        .zip(keep)
        .filter(|(_, k)| **k)
        .map(|(v, _)| *v)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn numbers(values: &[f64]) -> Vec<ColumnData> {
        vec![
            ColumnData::Numeric(values.to_vec()),
            ColumnData::Categorical(vec![0; values.len()]),
        ]
    }

    fn values(window: &ClosedWindow) -> Vec<f64> {
        match &window.columns[0] {
            ColumnData::Numeric(v) => v.clone(),
            ColumnData::Categorical(_) => panic!("first column is numeric"),
        }
    }

    fn engine(window: Window) -> WindowEngine {
        WindowEngine::new(window, 1000, 0.0, &numbers(&[]))
    }

    fn range(from: u32, to: u32) -> Vec<f64> {
        (from..to).map(f64::from).collect()
    }

    #[test]
    fn count_tumbling_closes_every_size_rows_even_mid_batch() {
        let mut e = engine(Window::CountTumbling { size: 4 });
        let xs = range(0, 10);
        let out = e.push(&numbers(&xs), &xs);
        assert_eq!(out.closed.len(), 2);
        assert_eq!(values(&out.closed[0]), range(0, 4));
        assert_eq!(values(&out.closed[1]), range(4, 8));
        assert_eq!(
            (out.closed[1].seq, out.closed[1].start, out.closed[1].end),
            (2, 4.0, 7.0)
        );
        assert_eq!(e.buffered_rows(), 2);
    }

    #[test]
    fn count_sliding_first_at_size_then_every_step() {
        let mut e = engine(Window::CountSliding { size: 4, step: 2 });
        let xs = range(0, 9);
        let out = e.push(&numbers(&xs), &xs);
        let windows: Vec<Vec<f64>> = out.closed.iter().map(values).collect();
        assert_eq!(windows, vec![range(0, 4), range(2, 6), range(4, 8)]);
        assert_eq!(e.buffered_rows(), 4);
    }

    #[test]
    fn time_tumbling_closes_on_a_later_row_or_the_clock_and_drops_late_rows() {
        let mut e = engine(Window::TimeTumbling {
            length: Duration::from_secs(10),
        });
        let t = [100.0, 105.0, 109.9, 112.0, 95.0, 131.0];
        let out = e.push(&numbers(&t), &t);
        assert_eq!(out.late, 1, "95 belongs to an already closed period");
        let spans: Vec<(f64, f64, usize)> = out
            .closed
            .iter()
            .map(|w| (w.start, w.end, w.rows))
            .collect();
        // [120, 130) had no rows, so no window is published for it.
        assert_eq!(spans, vec![(100.0, 110.0, 3), (110.0, 120.0, 1)]);
        assert!(e.advance_clock(139.0).is_empty());
        let closed = e.advance_clock(140.0);
        assert_eq!(
            (closed[0].start, closed[0].rows, values(&closed[0])),
            (130.0, 1, vec![131.0])
        );
    }

    #[test]
    fn time_sliding_evaluates_each_step_over_the_last_length() {
        let mut e = engine(Window::TimeSliding {
            length: Duration::from_secs(10),
            step: Duration::from_secs(5),
        });
        let t = [1.0, 4.0, 6.0, 9.0, 11.0, 16.0];
        let out = e.push(&numbers(&t), &t);
        let spans: Vec<(f64, f64, Vec<f64>)> = out
            .closed
            .iter()
            .map(|w| (w.start, w.end, values(w)))
            .collect();
        assert_eq!(
            spans,
            vec![
                (-5.0, 5.0, vec![1.0, 4.0]),
                (0.0, 10.0, vec![1.0, 4.0, 6.0, 9.0]),
                (5.0, 15.0, vec![6.0, 9.0, 11.0]),
            ]
        );
        let late = e.push(&numbers(&[2.0]), &[2.0]);
        assert_eq!(late.late, 1);
        let closed = e.advance_clock(20.0);
        assert_eq!(values(&closed[0]), vec![11.0, 16.0]);
    }

    #[test]
    fn time_windows_cap_rows_and_count_the_rest() {
        let mut e = WindowEngine::new(
            Window::TimeTumbling {
                length: Duration::from_secs(60),
            },
            3,
            0.0,
            &numbers(&[]),
        );
        let t = [1.0, 2.0, 3.0, 4.0, 5.0];
        let out = e.push(&numbers(&t), &t);
        assert_eq!((out.over_capacity, e.buffered_rows()), (2, 3));
    }

    #[test]
    fn huge_times_close_windows_without_spinning() {
        // 1.7644e18 (a nanosecond epoch read as seconds): in f64, end + step == end there, which
        // once made this loop spin forever.
        let t = [1.7644e18, 1.7644e18 + 1e6, 1e300, 1.7e308];
        let mut sliding = engine(Window::TimeSliding {
            length: Duration::from_secs(60),
            step: Duration::from_secs(10),
        });
        let out = sliding.push(&numbers(&t), &t);
        assert!(out.closed.len() <= 4 * 7, "{} windows", out.closed.len());
        let mut tumbling = engine(Window::TimeTumbling {
            length: Duration::from_secs(60),
        });
        // At these magnitudes f64 cannot tell a window's start from its end, so where rows land
        // is meaningless (the service drops them earlier as `future`); what matters is that
        // every call returns.
        let out = tumbling.push(&numbers(&t), &t);
        assert!(out.closed.len() <= t.len());
        assert!(tumbling.advance_clock(f64::MAX).len() <= 1);
    }

    #[test]
    fn allowed_lateness_keeps_a_window_open_for_late_rows() {
        let mut e = WindowEngine::new(
            Window::TimeTumbling {
                length: Duration::from_secs(10),
            },
            1000,
            5.0,
            &numbers(&[]),
        );
        let t = [100.0, 112.0, 104.0, 114.0, 115.0, 103.0];
        let out = e.push(&numbers(&t), &t);
        // 104 arrives after 112 but within 5 s of lateness: it joins [100, 110), which closes
        // when the watermark reaches 115; 103 then is late.
        assert_eq!(out.closed.len(), 1);
        assert_eq!(values(&out.closed[0]), vec![100.0, 104.0]);
        assert_eq!(out.late, 1);
        assert_eq!(e.buffered_rows(), 3);
    }
}
