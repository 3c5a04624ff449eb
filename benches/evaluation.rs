//! Evaluating one window against a profiled reference: the hot path of the service.
//!
//! Shape from the design target: a 100 000-row window of 20 features (15 numeric, 5
//! categorical) against a 100 000-row reference. The same window is evaluated with every numeric
//! feature on KS (merge pass over the pre-sorted reference), on Wasserstein, and on PSI, so the
//! tests can be compared with each other in one run. Setup (profiling the reference, building the
//! window) is outside the measurement.
//!
//! Baseline, measured in the same run: `baseline_reprofile_reference_ks` re-profiles the
//! reference (copy + sort + bins + counts) before every KS evaluation, as a tool without a
//! reference sketch must; its ratio to `numeric_ks` is what profiling once at start-up buys.
//!
//! Run: `cargo bench --bench evaluation`

#![allow(missing_docs)] // criterion_group! generates an undocumented function.

mod common;

use common::Rng;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use driftscope::check::{ColumnCheck, Role};
use driftscope::column::ColumnData;
use driftscope::config::TestKind;
use driftscope::engine::evaluate::evaluate;
use driftscope::reference::table::Cells;
use driftscope::window::ClosedWindow;

const ROWS: usize = 100_000;
const NUMERIC: usize = 15;
const CATEGORICAL: usize = 5;
const CATEGORIES: f64 = 12.0;

/// The raw reference columns: 15 standard normal, 5 with 12 categories.
fn reference(rng: &mut Rng) -> Vec<Cells> {
    let numeric =
        (0..NUMERIC).map(|_| Cells::numbers((0..ROWS).map(|_| rng.normal(0.0)).collect()));
    let numeric: Vec<Cells> = numeric.collect();
    let categorical = (0..CATEGORICAL).map(|_| {
        Cells::texts(
            (0..ROWS)
                .map(|_| format!("cat{:02}", (rng.uniform() * CATEGORIES) as u32))
                .collect(),
        )
    });
    numeric
        .into_iter()
        .chain(categorical.collect::<Vec<_>>())
        .collect()
}

/// Profiles the reference with `numeric_test` on numeric columns, chi-square on categorical.
fn checks(numeric_test: TestKind, reference: &[Cells]) -> Vec<ColumnCheck> {
    reference
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            let test = match raw {
                Cells::Numeric(_) => numeric_test,
                Cells::Categorical(_) => TestKind::Chisquare,
            };
            ColumnCheck::new(
                &format!("f{i}"),
                Role::Feature,
                raw.clone(),
                Some(test),
                None,
                10,
            )
            .expect("valid check")
        })
        .collect()
}

/// A window whose numeric columns are shifted by 0.02 standard deviations.
fn window(rng: &mut Rng) -> ClosedWindow {
    let numeric =
        (0..NUMERIC).map(|_| ColumnData::Numeric((0..ROWS).map(|_| rng.normal(0.02)).collect()));
    let mut columns: Vec<ColumnData> = numeric.collect();
    for _ in 0..CATEGORICAL {
        columns.push(ColumnData::Categorical(
            (0..ROWS)
                .map(|_| (rng.uniform() * CATEGORIES) as u32)
                .collect(),
        ));
    }
    ClosedWindow {
        seq: 1,
        start: 0.0,
        end: 1.0,
        rows: ROWS,
        columns,
        binned: None,
    }
}

fn bench_evaluation(c: &mut Criterion) {
    let mut rng = Rng(0x5EED);
    let reference = reference(&mut rng);
    let window = window(&mut rng);
    let mut group = c.benchmark_group("evaluate_100k_rows_20_features");
    group.throughput(Throughput::Elements(
        (ROWS * (NUMERIC + CATEGORICAL)) as u64,
    ));
    group.sample_size(20);
    for test in [TestKind::Ks, TestKind::Wasserstein, TestKind::Psi] {
        let checks = checks(test, &reference);
        group.bench_function(format!("numeric_{}", test.as_str()), |b| {
            b.iter(|| evaluate(&checks, 0.5, &window));
        });
    }
    group.bench_function("baseline_reprofile_reference_ks", |b| {
        b.iter(|| evaluate(&checks(TestKind::Ks, &reference), 0.5, &window));
    });
    group.finish();
}

criterion_group!(benches, bench_evaluation);
criterion_main!(benches);
