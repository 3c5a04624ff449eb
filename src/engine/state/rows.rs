//! Rows into the state's shape: a logged batch aligned to the model's columns, rows from the
//! future dropped, and labelled rows (prediction, target, probability) built cell by cell.

use crate::column::{ColumnData, INVALID_CODE, INVALID_NUMBER, MISSING_CODE};
use crate::engine::model::MonitorModel;
use crate::ingest::rows::{ParsedBatch, ParsedExtras};
use crate::labelled::join::Cell;
use crate::reference::profile::ReferenceProfile;

/// Removes rows whose event time is after `limit` (`window.max_future_skew` ahead of the
/// clock), so a row in milliseconds or from the year 2100 cannot move the window; returns how
/// many.
pub(super) fn drop_future_rows(batch: &mut ParsedBatch, limit: f64) -> u64 {
    let Some(times) = &batch.timestamps else {
        return 0;
    };
    let keep: Vec<bool> = times.iter().map(|&t| t <= limit).collect();
    let dropped = keep.iter().filter(|&&k| !k).count();
    if dropped > 0 {
        batch.retain_rows(&keep);
    }
    dropped as u64
}

/// Re-orders the columns of a batch logged under another column list into the model's order;
/// a column the batch lacks (or had with another type) is missing in every row.
pub(super) fn align(mut batch: ParsedBatch, names: &[String], model: &MonitorModel) -> ParsedBatch {
    let mut logged: Vec<Option<(ColumnData, ParsedExtras)>> = batch
        .columns
        .drain(..)
        .zip(batch.extras.drain(..))
        .map(Some)
        .collect();
    let rows = batch.rows;
    (batch.columns, batch.extras) = model
        .checks
        .iter()
        .enumerate()
        .map(|(i, check)| {
            let found = names
                .iter()
                .position(|n| *n == model.columns[i])
                .and_then(|at| logged.get_mut(at).and_then(Option::take));
            match (found, &*check.reference) {
                (Some(c @ (ColumnData::Numeric(_), _)), ReferenceProfile::Numeric(_))
                | (Some(c @ (ColumnData::Categorical(_), _)), ReferenceProfile::Categorical(_)) => {
                    c
                }
                (_, ReferenceProfile::Numeric(_)) => (
                    ColumnData::Numeric(vec![f64::NAN; rows]),
                    ParsedExtras::default(),
                ),
                (_, ReferenceProfile::Categorical(_)) => (
                    ColumnData::Categorical(vec![MISSING_CODE; rows]),
                    ParsedExtras::default(),
                ),
            }
        })
        .unzip();
    batch
}

pub(super) fn push_labelled_row(
    rows: &mut [ColumnData],
    prediction: Cell,
    target: Cell,
    probability: f64,
) {
    for (column, value) in rows
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
pub(super) fn cell(column: &ColumnData, row: usize) -> Option<Cell> {
    match column {
        ColumnData::Numeric(v) => v[row].is_finite().then_some(Cell::Number(v[row])),
        ColumnData::Categorical(v) => {
            (v[row] != MISSING_CODE && v[row] != INVALID_CODE).then_some(Cell::Code(v[row]))
        }
    }
}

pub(super) fn number(column: &ColumnData, row: usize) -> f64 {
    match column {
        ColumnData::Numeric(v) if v[row] != INVALID_NUMBER => v[row],
        _ => f64::NAN,
    }
}
