//! What a latency column adds to a window's publication, per 100 000-row window (latencies
//! log-normal around 80 ms, against a 100 000-row reference of the same shape):
//! - `summary`: buckets, slow count and quantiles (one sort);
//! - `summary_and_ks_drift`: the same plus the latency drift test (KS);
//! - `observe_histogram`: feeding the Prometheus histogram at publication.
//!
//! Baseline, measured in the same run: `baseline_one_ks_feature`, the KS test of one numeric
//! feature of the same size, so each case reads as "a latency column costs about N features".
//!
//! Run: `cargo bench --bench latency`

#![allow(missing_docs)] // criterion_group! generates an undocumented function.

mod common;

use common::Rng;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use driftscope::check::{ColumnCheck, Role};
use driftscope::column::ColumnData;
use driftscope::config::TestKind;
use driftscope::engine::latency::LatencyModel;
use driftscope::export::metrics::Metrics;
use driftscope::reference::table::Cells;

const ROWS: usize = 100_000;

/// Latencies in ms: exp(normal) around 80 ms.
fn latencies(rng: &mut Rng) -> Vec<f64> {
    (0..ROWS)
        .map(|_| (80.0 * (0.6 * rng.normal(0.0)).exp() * 10.0).round() / 10.0)
        .collect()
}

fn bench_latency(c: &mut Criterion) {
    let mut rng = Rng(0x1A7E);
    let reference = latencies(&mut rng);
    let window = ColumnData::Numeric(latencies(&mut rng));
    let check = |role| {
        let cells = Cells::numbers(reference.clone());
        ColumnCheck::new("latency_ms", role, cells, Some(TestKind::Ks), None, 10).unwrap()
    };
    let model = |check| LatencyModel {
        column: "latency_ms".into(),
        units_per_second: 1000.0,
        slow_seconds: 10.0,
        check,
    };
    let summary_only = model(None);
    let with_drift = model(Some(check(Role::Latency)));
    let feature = check(Role::Feature);
    let metrics = Metrics::new(&[]);

    let mut group = c.benchmark_group("latency_100k_rows");
    group.throughput(Throughput::Elements(ROWS as u64));
    group.sample_size(20);
    group.bench_function("baseline_one_ks_feature", |b| {
        b.iter(|| feature.evaluate(&window));
    });
    group.bench_function("summary", |b| {
        b.iter(|| summary_only.report(&window, ROWS));
    });
    group.bench_function("summary_and_ks_drift", |b| {
        b.iter(|| with_drift.report(&window, ROWS));
    });
    group.bench_function("observe_histogram", |b| {
        b.iter(|| metrics.observe_latency("m", summary_only.seconds(&window), 0));
    });
    group.finish();
}

criterion_group!(benches, bench_latency);
criterion_main!(benches);
