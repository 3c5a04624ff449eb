//! An exact window's row buffers: appending, dropping and copying rows out as a window.

use std::collections::VecDeque;

use super::{Buffer, ClosedWindow, WindowEngine};
use crate::column::ColumnData;

impl WindowEngine {
    /// Drops buffered rows older than `time`. Rows are buffered in arrival order, and on event
    /// time an earlier row may arrive later, so old rows are not only at the front.
    pub(super) fn forget_before(&mut self, time: f64) {
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

    pub(super) fn append(&mut self, columns: &[ColumnData], row: usize, t: f64) {
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

    pub(super) fn pop_front(&mut self) {
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

    pub(super) fn row_time_range(&self) -> (f64, f64) {
        (
            self.times.front().copied().unwrap_or(0.0),
            self.times.back().copied().unwrap_or(0.0),
        )
    }

    /// Moves every buffered row into a window (tumbling windows).
    pub(super) fn take_all(&mut self, start: f64, end: f64) -> ClosedWindow {
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
            binned: None,
        }
    }

    /// Copies the buffered rows with time in `[from, to)` into a window (sliding windows keep
    /// their buffer).
    pub(super) fn copy_range(&mut self, start: f64, end: f64, from: f64, to: f64) -> ClosedWindow {
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
            binned: None,
        }
    }
}

fn select<T: Copy>(values: &VecDeque<T>, keep: &[bool]) -> Vec<T> {
    values
        .iter()
        .zip(keep)
        .filter(|(_, k)| **k)
        .map(|(v, _)| *v)
        .collect()
}
