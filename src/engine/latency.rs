//! A window's prediction latencies: the summary its report carries (Prometheus-style bucket
//! counts, slow predictions, quantiles) and the latency drift test.
//!
//! **When latencies are observed.** The `driftscope_prediction_latency_seconds` histogram and
//! `driftscope_slow_predictions_total` are fed when a window is *published*, from the same
//! values this summary is computed from, never at ingest: the monitor's state stays one value
//! changed by a pure `apply`, and the metrics move by exactly what the window's JSON reports.
//! Restart recovery replays the log and re-evaluates windows without touching metrics, and
//! re-publishing restored results sets gauges only, so nothing is counted twice. The cost is
//! timeliness: a latency shows up when its window closes. With sliding windows a row is in
//! `length / step` windows and counted in each (shares and quantiles are unaffected).

use serde::{Deserialize, Serialize};

use crate::check::report::ColumnReport;
use crate::check::{self, ColumnCheck};
use crate::column::{ColumnData, INVALID_NUMBER};
use crate::export::metrics::LATENCY_BUCKETS;

/// A monitor's latency column, fixed at start-up.
#[derive(Debug, Clone)]
pub struct LatencyModel {
    /// Column name in rows (and reference).
    pub column: String,
    /// Column units per second (1 for `s`, 1000 for `ms`).
    pub units_per_second: f64,
    /// Predictions slower than this many seconds are slow.
    pub slow_seconds: f64,
    /// The drift test against the reference's latency column; `None` when the reference has
    /// no such column.
    pub check: Option<ColumnCheck>,
}

/// The latency summary of one window.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LatencyReport {
    /// The latency column.
    pub column: String,
    /// Latencies observed (rows with a valid latency).
    pub count: u64,
    /// Rows without a latency (absent or `null`).
    pub missing: u64,
    /// Rows whose latency was not a number ≥ 0.
    pub invalid: u64,
    /// Sum of the observed latencies, in seconds.
    pub sum_seconds: f64,
    /// Median latency in seconds (linear interpolation, numpy's default); `null` without any.
    pub p50_seconds: Option<f64>,
    /// 90th percentile in seconds.
    pub p90_seconds: Option<f64>,
    /// 99th percentile in seconds.
    pub p99_seconds: Option<f64>,
    /// Latencies above `slow_threshold_seconds`.
    pub slow: u64,
    /// `alerting.slow_prediction_seconds`.
    pub slow_threshold_seconds: f64,
    /// Cumulative counts as in the Prometheus histogram: latencies ≤ `le` seconds (the
    /// `+Inf` bucket is `count`).
    pub buckets: Vec<LatencyBucket>,
    /// The latency column's drift test; `null` when the reference has no latency column.
    pub drift: Option<ColumnReport>,
}

/// One cumulative histogram bucket.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatencyBucket {
    /// Upper bound in seconds (inclusive).
    pub le: f64,
    /// Latencies ≤ `le`.
    pub count: u64,
}

impl LatencyModel {
    /// The observed latencies of `values` in seconds, in row order (missing and invalid
    /// values left out): what the histogram observes at publication.
    pub fn seconds<'a>(&self, values: &'a ColumnData) -> impl Iterator<Item = f64> + 'a {
        let per_second = self.units_per_second;
        let numbers = match values {
            ColumnData::Numeric(v) => v.as_slice(),
            ColumnData::Categorical(_) => &[],
        };
        numbers
            .iter()
            .filter(|v| v.is_finite())
            .map(move |v| v / per_second)
    }

    /// Summarises a window's latency column (`rows` rows) and runs its drift test.
    pub fn report(&self, values: &ColumnData, rows: usize) -> LatencyReport {
        let mut seconds: Vec<f64> = self.seconds(values).collect();
        let (mut missing, mut invalid) = (0, 0);
        if let ColumnData::Numeric(v) = values {
            invalid = v.iter().filter(|&&x| x == INVALID_NUMBER).count() as u64;
            missing = v.iter().filter(|x| x.is_nan()).count() as u64;
        }
        let sum_seconds = seconds.iter().sum();
        let buckets = LATENCY_BUCKETS
            .iter()
            .map(|&le| LatencyBucket {
                le,
                count: seconds.iter().filter(|&&s| s <= le).count() as u64,
            })
            .collect();
        let slow = seconds.iter().filter(|&&s| s > self.slow_seconds).count() as u64;
        seconds.sort_unstable_by(f64::total_cmp);
        let drift = self.check.as_ref().map(|check| {
            let mut outcome = check.evaluate(values);
            check::decide_families(&mut [(check, &mut outcome)]);
            ColumnReport::new(&check.name, outcome, rows)
        });
        LatencyReport {
            column: self.column.clone(),
            count: seconds.len() as u64,
            missing,
            invalid,
            sum_seconds,
            p50_seconds: quantile(&seconds, 0.5),
            p90_seconds: quantile(&seconds, 0.9),
            p99_seconds: quantile(&seconds, 0.99),
            slow,
            slow_threshold_seconds: self.slow_seconds,
            buckets,
            drift,
        }
    }
}

/// The `q` quantile of ascending `sorted` by linear interpolation between the closest ranks
/// (numpy's default `method="linear"`); `None` when empty.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let h = q * last as f64;
    let below = h.floor() as usize;
    let above = (below + 1).min(last);
    let t = h - below as f64;
    let (a, b) = (sorted[below], sorted[above]);
    Some(a + (b - a) * t)
}

#[cfg(test)]
mod tests;
