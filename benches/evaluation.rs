//! Evaluating one window against a profiled reference: the hot path of the service.
//!
//! Shape from the design target: a 100 000-row window of 20 features (15 numeric, 5
//! categorical) against a 100 000-row reference. The same window is evaluated with every numeric
//! feature on KS (merge pass over the pre-sorted reference), on Wasserstein, and on PSI, so the
//! tests can be compared with each other in one run. Setup (profiling the reference, building the
//! window) is outside the measurement.
//!
//! Run: `cargo bench --bench evaluation`

#![allow(missing_docs)] // criterion_group! generates an undocumented function.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use driftscope::config::TestKind;
use driftscope::drift::{ColumnCheck, Role};
use driftscope::evaluation::evaluate;
use driftscope::reference::RawColumn;
use driftscope::window::{ClosedWindow, ColumnData};

const ROWS: usize = 100_000;
const NUMERIC: usize = 15;
const CATEGORICAL: usize = 5;

/// xorshift64*: reproducible data without a dependency.
struct Rng(u64);
impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self, shift: f64) -> f64 {
        let (u1, u2) = (self.uniform().max(1e-300), self.uniform());
        shift + (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

fn checks(numeric_test: TestKind, rng: &mut Rng) -> Vec<ColumnCheck> {
    let mut checks = Vec::new();
    for i in 0..NUMERIC {
        let values = (0..ROWS).map(|_| rng.normal(0.0)).collect();
        let raw = RawColumn::Numeric { values, missing: 0 };
        checks.push(
            ColumnCheck::new(
                &format!("n{i}"),
                Role::Feature,
                raw,
                Some(numeric_test),
                None,
                10,
            )
            .unwrap(),
        );
    }
    for i in 0..CATEGORICAL {
        let values = (0..ROWS)
            .map(|_| format!("cat{}", (rng.uniform() * 12.0) as u32))
            .collect();
        let raw = RawColumn::Categorical { values, missing: 0 };
        checks.push(
            ColumnCheck::new(
                &format!("c{i}"),
                Role::Feature,
                raw,
                Some(TestKind::Chisquare),
                None,
                10,
            )
            .unwrap(),
        );
    }
    checks
}

fn window(rng: &mut Rng) -> ClosedWindow {
    let mut columns = Vec::new();
    for _ in 0..NUMERIC {
        columns.push(ColumnData::Numeric(
            (0..ROWS).map(|_| rng.normal(0.02)).collect(),
        ));
    }
    for _ in 0..CATEGORICAL {
        columns.push(ColumnData::Categorical(
            (0..ROWS).map(|_| (rng.uniform() * 12.0) as u32).collect(),
        ));
    }
    ClosedWindow {
        seq: 1,
        start: 0.0,
        end: 1.0,
        rows: ROWS,
        columns,
    }
}

fn bench_evaluation(c: &mut Criterion) {
    let mut rng = Rng(0x5EED);
    let window = window(&mut rng);
    let mut group = c.benchmark_group("evaluate_100k_rows_20_features");
    group.throughput(Throughput::Elements(
        (ROWS * (NUMERIC + CATEGORICAL)) as u64,
    ));
    group.sample_size(20);
    for test in [TestKind::Ks, TestKind::Wasserstein, TestKind::Psi] {
        let checks = checks(test, &mut rng);
        group.bench_function(format!("numeric_{}", test.as_str()), |b| {
            b.iter(|| evaluate(&checks, 0.5, &window));
        });
    }
    group.finish();
}

criterion_group!(benches, bench_evaluation);
criterion_main!(benches);
