//! A sliding time window at steady state (full), binned (`window.summary: binned`) against
//! exact, 1 h and 24 h long, 5 min steps, 2 000 rows per pane, same run:
//! - `step_*`: the next pane's rows pushed and the window closed — what a binned window keeps
//!   independent of its length, and an exact one copies in full;
//! - `evaluate_*`: one closed window evaluated (binned: O(bins) per column plus the KS p-value,
//!   whose exact computation grows with the window's rows; exact: sorting every row).
//!
//! 20 features (15 numeric on KS, 5 categorical on chi-square; reference 100 000 rows). The
//! bench also prints the bytes of pane counters a full 24 h binned window holds.
//!
//! Run: `cargo bench --bench panes`

#![allow(missing_docs)] // criterion_group! generates an undocumented function.

mod common;

use std::time::Duration;

use common::Rng;
use criterion::{Criterion, criterion_group, criterion_main};
use driftscope::check::{ColumnCheck, Role};
use driftscope::column::ColumnData;
use driftscope::config::{TestKind, Window};
use driftscope::engine::evaluate::evaluate;
use driftscope::engine::model::column_bins;
use driftscope::reference::profile::ReferenceProfile;
use driftscope::reference::table::Cells;
use driftscope::stats::finebins::DEFAULT_FINE_BINS;
use driftscope::window::{ClosedWindow, WindowEngine};

const NUMERIC: usize = 15;
const CATEGORICAL: usize = 5;
const PANE_ROWS: usize = 2000;
const STEP: f64 = 300.0;

fn checks(rng: &mut Rng) -> Vec<ColumnCheck> {
    (0..NUMERIC + CATEGORICAL)
        .map(|i| {
            let (cells, test) = if i < NUMERIC {
                (
                    Cells::numbers((0..100_000).map(|_| rng.normal(0.0)).collect()),
                    TestKind::Ks,
                )
            } else {
                let texts = (0..100_000)
                    .map(|_| format!("cat{:02}", (rng.uniform() * 12.0) as u32))
                    .collect();
                (Cells::texts(texts), TestKind::Chisquare)
            };
            ColumnCheck::new(&format!("f{i}"), Role::Feature, cells, Some(test), None, 10)
                .expect("valid check")
        })
        .collect()
}

/// One pane of rows, numeric ones shifted by 0.02 sd.
fn pane(rng: &mut Rng, index: i64) -> (Vec<ColumnData>, Vec<f64>) {
    let mut columns = Vec::new();
    for i in 0..NUMERIC + CATEGORICAL {
        columns.push(if i < NUMERIC {
            ColumnData::Numeric((0..PANE_ROWS).map(|_| rng.normal(0.02)).collect())
        } else {
            ColumnData::Categorical(
                (0..PANE_ROWS)
                    .map(|_| (rng.uniform() * 12.0) as u32)
                    .collect(),
            )
        });
    }
    let start = index as f64 * STEP;
    let times = (0..PANE_ROWS)
        .map(|r| start + r as f64 * STEP / PANE_ROWS as f64)
        .collect();
    (columns, times)
}

/// Pushes pane `k` (its first row closes the window ending at its start).
fn step(
    engine: &mut WindowEngine,
    columns: &[ColumnData],
    times: &[f64],
    k: &mut i64,
) -> Vec<ClosedWindow> {
    let shifted: Vec<f64> = times.iter().map(|t| t + *k as f64 * STEP).collect();
    *k += 1;
    engine.push(columns, &shifted).closed
}

fn bench_panes(c: &mut Criterion) {
    let mut rng = Rng(0x5EED);
    let checks = checks(&mut rng);
    let template: Vec<ColumnData> = checks
        .iter()
        .map(|c| match &*c.reference {
            ReferenceProfile::Numeric(_) => ColumnData::Numeric(Vec::new()),
            ReferenceProfile::Categorical(_) => ColumnData::Categorical(Vec::new()),
        })
        .collect();
    let mut group = c.benchmark_group("sliding_step_5min_2000_rows_per_pane");
    group.sample_size(10);
    for hours in [1u64, 24] {
        let window = Window::TimeSliding {
            length: Duration::from_secs(hours * 3600),
            step: Duration::from_secs(STEP as u64),
        };
        let panes = (hours * 3600) as i64 / STEP as i64;
        for binned in [true, false] {
            let mut engine = if binned {
                WindowEngine::binned(
                    window,
                    0.0,
                    checks
                        .iter()
                        .map(|c| column_bins(c, DEFAULT_FINE_BINS))
                        .collect(),
                )
            } else {
                WindowEngine::new(window, 100_000_000, 0.0, &template)
            };
            let mut k = 0;
            // Fill the window, so every measured step is a steady-state one.
            let mut last = Vec::new();
            for _ in 0..panes + 2 {
                let (columns, times) = pane(&mut rng, k);
                last = engine.push(&columns, &times).closed;
                k += 1;
            }
            let window = last.pop().expect("a full window closed");
            if binned && hours == 24 {
                eprintln!(
                    "24 h binned window, {} panes full: {} bytes of pane counters ({} per numeric column)",
                    panes,
                    engine.counter_bytes(),
                    engine.counter_bytes() / NUMERIC
                );
            }
            let kind = if binned { "binned" } else { "exact" };
            // One pane of rows at times 0..STEP, shifted to each step's pane.
            let (columns, times) = pane(&mut rng, 0);
            group.bench_function(format!("step_{kind}_{hours}h"), |b| {
                b.iter(|| step(&mut engine, &columns, &times, &mut k));
            });
            group.bench_function(format!("evaluate_{kind}_{hours}h"), |b| {
                b.iter(|| evaluate(&checks, 0.5, &window));
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_panes);
criterion_main!(benches);
