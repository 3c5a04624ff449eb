//! Estimating a window's quality without labels (CBPE, `driftscope::labelled::estimate`).
//!
//! Shape: a 100 000-row reference (the calibration is fitted on it) and a 100 000-row window
//! of a binary classifier whose scores are too timid (so the reference gets calibrated), with
//! scores rounded to 4 decimals (ties, as real probabilities have).
//!
//! Baseline, measured in the same run: `baseline_fit_and_estimate` fits the calibration on the
//! reference for every window, as a batch tool run per window does; its ratio to `estimate`
//! is what fitting once at start-up buys. `fit` alone is the start-up cost (ten cross-fitted
//! isotonic maps for the calibration decision, then the final map).
//!
//! Run: `cargo bench --bench cbpe`

#![allow(missing_docs)] // criterion_group! generates an undocumented function.

mod common;

use common::Rng;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use driftscope::labelled::estimate::Cbpe;

const ROWS: usize = 100_000;

/// Rows of a model whose true probability is `p` (a logistic of a normal score) but which
/// reports `0.5 + (p − 0.5) / 2`: (predicted positive, score, actually positive).
fn rows(rng: &mut Rng) -> (Vec<bool>, Vec<f64>, Vec<bool>) {
    let (mut predicted, mut scores, mut actual) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROWS {
        let p = 1.0 / (1.0 + (-1.5 * rng.normal(0.0)).exp());
        let score = ((0.5 + (p - 0.5) / 2.0) * 1e4).round() / 1e4;
        predicted.push(score >= 0.5);
        scores.push(score);
        actual.push(rng.uniform() < p);
    }
    (predicted, scores, actual)
}

fn bench(c: &mut Criterion) {
    let mut rng = Rng(0x5eed_cb9e);
    let (_, reference_scores, reference_actual) = rows(&mut rng);
    let (predicted, scores, _) = rows(&mut rng);
    let cbpe = Cbpe::fit(&reference_scores, &reference_actual);
    assert!(
        cbpe.calibrator.is_some(),
        "the bench should measure the calibrated path"
    );

    let mut group = c.benchmark_group("cbpe_100k_rows");
    group.sample_size(20);
    group.throughput(Throughput::Elements(ROWS as u64));
    group.bench_function("estimate", |b| {
        b.iter(|| cbpe.estimate(&predicted, &scores))
    });
    group.bench_function("baseline_fit_and_estimate", |b| {
        b.iter(|| Cbpe::fit(&reference_scores, &reference_actual).estimate(&predicted, &scores))
    });
    group.bench_function("fit", |b| {
        b.iter(|| Cbpe::fit(&reference_scores, &reference_actual))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
