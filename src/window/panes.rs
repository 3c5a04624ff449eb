//! Binned time windows (`window.summary: binned`): rows are counted, not kept.
//!
//! Time is cut into panes of one `step` (pane `p` holds rows with time in
//! `[p·step, (p+1)·step)`); the window ending at `k·step` is panes `k − n … k − 1`, with
//! `n = length / step`. A pane holds, per column, counts over the reference-anchored fine bins
//! ([`FineBins`]) and the coarse PSI / Jensen–Shannon bins for numeric columns, or counts per
//! category code. A running total over every held pane makes a step cost O(bins): the window is
//! the total minus the few panes after its end (rows already early for the next window), and
//! a pane leaving the window is subtracted from the total. Memory is
//! `(n + 1 + lateness/step) × bins × 4` bytes per numeric column, whatever the rows per second.

use std::collections::VecDeque;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::column::{ColumnData, INVALID_CODE, MISSING_CODE};
use crate::stats::binning;
use crate::stats::finebins::FineBins;

/// How a binned window counts one column; fixed when the window is made, from the reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ColumnBins {
    /// Numeric: fine bins, coarse bins and the reference's range.
    Numeric {
        /// Fine bins (KS, charts, chi-square over values).
        fine: Arc<FineBins>,
        /// Inner edges of the reference-quantile bins of PSI / Jensen–Shannon.
        coarse_edges: Vec<f64>,
        /// Smallest reference value.
        min: f64,
        /// Largest reference value.
        max: f64,
    },
    /// Categorical: counts per code.
    Categorical,
}

/// One column of a closed binned window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BinnedColumn {
    /// Numeric: the fine bins `counts` are over (the evaluation counts the reference in them).
    pub fine: Option<Arc<FineBins>>,
    /// Numeric: counts per fine bin; categorical: counts per category code.
    pub counts: Vec<u64>,
    /// Numeric: counts per coarse bin.
    pub coarse: Vec<u64>,
    /// Missing values.
    pub missing: u64,
    /// Values of the wrong type.
    pub invalid: u64,
    /// Numeric values outside the reference's range.
    pub out_of_range: u64,
}

/// Per-column counts of a pane (u32: a pane is one step of one monitor) or of all held
/// panes (u64).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Counts<T> {
    counts: Vec<T>,
    coarse: Vec<T>,
    missing: T,
    invalid: T,
    out_of_range: T,
}

impl<T> Counts<T> {
    /// Counters held.
    fn len(&self) -> usize {
        self.counts.len() + self.coarse.len() + 3
    }
}

impl Counts<u64> {
    /// Takes a pane's counts out of this total.
    fn remove(&mut self, pane: &Counts<u32>) {
        for (total, pane) in [
            (&mut self.counts, &pane.counts),
            (&mut self.coarse, &pane.coarse),
        ] {
            for (t, &c) in total.iter_mut().zip(pane) {
                *t -= u64::from(c);
            }
        }
        self.missing -= u64::from(pane.missing);
        self.invalid -= u64::from(pane.invalid);
        self.out_of_range -= u64::from(pane.out_of_range);
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Pane {
    index: i64,
    rows: u32,
    columns: Vec<Counts<u32>>,
}

/// The panes of a binned time window and their running total: plain data, in snapshots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Panes {
    bins: Vec<ColumnBins>,
    /// Panes per window (`length / step`).
    per_window: i64,
    /// Held panes, ascending by index.
    panes: VecDeque<Pane>,
    total: Vec<Counts<u64>>,
    total_rows: u64,
}

impl Panes {
    /// No panes yet, for columns counted as `bins` say, `per_window` panes per window.
    pub fn new(bins: Vec<ColumnBins>, per_window: i64) -> Self {
        let total = bins.iter().map(empty).collect();
        Self {
            bins,
            per_window: per_window.max(1),
            panes: VecDeque::new(),
            total,
            total_rows: 0,
        }
    }

    /// How columns are counted (a reload compares them: other bins cannot continue counts).
    pub fn bins(&self) -> &[ColumnBins] {
        &self.bins
    }

    /// Rows counted in the held panes.
    pub fn rows(&self) -> u64 {
        self.total_rows
    }

    /// Bytes of counters held (for the memory bound in the README and its test).
    pub fn counter_bytes(&self) -> usize {
        let held: usize = self
            .panes
            .iter()
            .flat_map(|p| &p.columns)
            .map(Counts::len)
            .sum();
        let total: usize = self.total.iter().map(Counts::len).sum();
        held * size_of::<u32>() + total * size_of::<u64>()
    }

    /// Counts row `row` of `columns` into pane `index`. False when a counter of the pane is
    /// full (the row is then not counted anywhere, and the caller counts it as dropped).
    pub fn add(&mut self, columns: &[ColumnData], row: usize, index: i64) -> bool {
        let at = self.panes.partition_point(|p| p.index < index);
        if self.panes.get(at).is_none_or(|p| p.index != index) {
            let columns = self.bins.iter().map(empty).collect();
            self.panes.insert(
                at,
                Pane {
                    index,
                    rows: 0,
                    columns,
                },
            );
        }
        let pane = &mut self.panes[at];
        if pane.rows == u32::MAX {
            return false;
        }
        pane.rows += 1;
        self.total_rows += 1;
        for ((bins, data), (counts, total)) in self
            .bins
            .iter()
            .zip(columns)
            .zip(pane.columns.iter_mut().zip(&mut self.total))
        {
            let slot = slot(bins, data, row);
            counts.record(slot);
            total.record(slot);
        }
        true
    }

    /// Whether a pane in `from..to` holds a row.
    pub fn any_in(&self, from: i64, to: i64) -> bool {
        self.panes
            .iter()
            .any(|p| p.index >= from && p.index < to && p.rows > 0)
    }

    /// The window of panes `end − per_window … end − 1`: the total minus the panes at or after
    /// `end` (every pane before the window was forgotten already). Returns its rows and columns.
    pub fn window(&self, end: i64) -> (u64, Vec<BinnedColumn>) {
        let (mut rows, mut totals) = (self.total_rows, self.total.clone());
        for pane in self.panes.iter().rev().take_while(|p| p.index >= end) {
            rows -= u64::from(pane.rows);
            for (total, counts) in totals.iter_mut().zip(&pane.columns) {
                total.remove(counts);
            }
        }
        let columns = totals
            .into_iter()
            .zip(&self.bins)
            .map(|(t, bins)| BinnedColumn {
                fine: match bins {
                    ColumnBins::Numeric { fine, .. } => Some(Arc::clone(fine)),
                    ColumnBins::Categorical => None,
                },
                counts: t.counts,
                coarse: t.coarse,
                missing: t.missing,
                invalid: t.invalid,
                out_of_range: t.out_of_range,
            })
            .collect();
        (rows, columns)
    }

    /// Forgets panes before `first`, taking them out of the total.
    pub fn forget_before(&mut self, first: i64) {
        while self.panes.front().is_some_and(|p| p.index < first) {
            let pane = self.panes.pop_front().expect("checked");
            self.total_rows -= u64::from(pane.rows);
            for (total, counts) in self.total.iter_mut().zip(&pane.columns) {
                total.remove(counts);
            }
        }
    }

    /// Panes per window.
    pub fn per_window(&self) -> i64 {
        self.per_window
    }

    /// Whether no pane is held.
    pub fn is_empty(&self) -> bool {
        self.panes.is_empty()
    }
}

fn empty<T: Default + Clone>(bins: &ColumnBins) -> Counts<T> {
    match bins {
        ColumnBins::Numeric {
            fine, coarse_edges, ..
        } => Counts {
            counts: vec![T::default(); fine.len()],
            coarse: vec![T::default(); coarse_edges.len() + 1],
            ..Counts::default()
        },
        ColumnBins::Categorical => Counts::default(),
    }
}

/// Where one value is counted.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Missing,
    Invalid,
    /// A fine bin (numeric) or a category code, with the coarse bin of a numeric value.
    Bin {
        bin: usize,
        coarse: Option<usize>,
        out_of_range: bool,
    },
}

impl<T: Copy + Default + std::ops::AddAssign + From<u8>> Counts<T> {
    /// Counts one value where `slot` says.
    fn record(&mut self, slot: Slot) {
        let one = T::from(1);
        match slot {
            Slot::Missing => self.missing += one,
            Slot::Invalid => self.invalid += one,
            Slot::Bin {
                bin,
                coarse,
                out_of_range,
            } => {
                // Numeric counts are sized to the bins; category codes grow as they arrive.
                if self.counts.len() <= bin {
                    self.counts.resize(bin + 1, T::default());
                }
                self.counts[bin] += one;
                if let Some(c) = coarse {
                    self.coarse[c] += one;
                }
                if out_of_range {
                    self.out_of_range += one;
                }
            }
        }
    }
}

/// Where row `row` of `data` is counted, as `bins` say.
fn slot(bins: &ColumnBins, data: &ColumnData, row: usize) -> Slot {
    match (bins, data) {
        (
            ColumnBins::Numeric {
                fine,
                coarse_edges,
                min,
                max,
            },
            ColumnData::Numeric(values),
        ) => {
            let v = values[row];
            if v.is_nan() {
                Slot::Missing
            } else if v.is_infinite() {
                // Like the exact check: `INVALID_NUMBER` is -inf, and +inf is invalid too.
                Slot::Invalid
            } else {
                Slot::Bin {
                    bin: fine.bin_of(v),
                    coarse: Some(binning::bin_index(coarse_edges, v)),
                    out_of_range: v < *min || v > *max,
                }
            }
        }
        (ColumnBins::Categorical, ColumnData::Categorical(codes)) => match codes[row] {
            MISSING_CODE => Slot::Missing,
            INVALID_CODE => Slot::Invalid,
            code => Slot::Bin {
                bin: code as usize,
                coarse: None,
                out_of_range: false,
            },
        },
        // The batch parser builds columns from the same schema as the engine.
        _ => unreachable!("batch column type differs from the window's"),
    }
}
