//! The drift-test catalogue on 100 000 reference vs 100 000 window values, like-for-like with
//! scipy (`tools/bench_scipy_catalogue.py` times scipy's call on the same data in the same run;
//! `tools/bench_catalogue.sh` runs both and prints the ratios).
//!
//! Numerical tests start from the unsorted samples and sort copies inside the measurement, as
//! scipy's functions do (the service sorts only the window: the reference is sorted once at
//! start-up); Welch's t takes them unsorted, as the service does. `ks` is the in-run baseline of the existing tests. Count tests start from the
//! 12-category counts (Fisher: the 2 × 2 table of category 0 vs the rest), as scipy's
//! functions take a table.
//!
//! Run: `cargo bench --bench catalogue`

#![allow(missing_docs)] // criterion_group! generates an undocumented function.

mod common;

use common::Rng;
use criterion::{Criterion, criterion_group, criterion_main};
use driftscope::stats::{
    anderson, cramer_von_mises, energy, epps_singleton, fisher_exact, g_test, hellinger, kl_div,
    ks, mannw, t_test, tvd,
};

const ROWS: usize = 100_000;
const CATEGORIES: usize = 12;
/// Seed shared with `tools/bench_scipy_catalogue.py`, which ports the same generator.
const SEED: u64 = 0xCA7A_1065;

/// N(0, 1) reference, N(0.05, 1) window, then 12-category codes for each.
struct Data {
    reference: Vec<f64>,
    current: Vec<f64>,
    reference_counts: Vec<u64>,
    current_counts: Vec<u64>,
}

fn data() -> Data {
    let mut rng = Rng(SEED);
    let reference: Vec<f64> = (0..ROWS).map(|_| rng.normal(0.0)).collect();
    let current: Vec<f64> = (0..ROWS).map(|_| rng.normal(0.05)).collect();
    let mut counts = || {
        let mut counts = vec![0u64; CATEGORIES];
        for _ in 0..ROWS {
            counts[(rng.uniform() * CATEGORIES as f64) as usize] += 1;
        }
        counts
    };
    let (reference_counts, current_counts) = (counts(), counts());
    // Printed by the scipy script too: the same data on both sides.
    eprintln!(
        "data checksum: reference sum {:.6}, current sum {:.6}, counts {:?} / {:?}",
        reference.iter().sum::<f64>(),
        current.iter().sum::<f64>(),
        reference_counts,
        current_counts
    );
    Data {
        reference,
        current,
        reference_counts,
        current_counts,
    }
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut copy = values.to_vec();
    copy.sort_unstable_by(f64::total_cmp);
    copy
}

fn bench_catalogue(c: &mut Criterion) {
    let data = data();
    let mut group = c.benchmark_group("catalogue_100k_vs_100k");
    group.sample_size(20);
    type Numeric = fn(&[f64], &[f64]) -> f64;
    let numeric: [(&str, Numeric); 7] = [
        ("ks", |x, y| ks::ks_2samp(x, y).p_value),
        ("anderson", |x, y| {
            anderson::anderson_ksamp(x, y).map_or(f64::NAN, |r| r.p_value)
        }),
        ("cramer_von_mises", |x, y| {
            cramer_von_mises::cramervonmises_2samp(x, y).map_or(f64::NAN, |r| r.p_value)
        }),
        ("mannw", |x, y| {
            mannw::mannwhitneyu(x, y).map_or(f64::NAN, |r| r.p_value)
        }),
        ("t_test", |x, y| {
            t_test::welch(x, y).map_or(f64::NAN, |r| r.p_value)
        }),
        ("ed", energy::distance),
        ("es", |x, y| {
            epps_singleton::epps_singleton_2samp(x, y).map_or(f64::NAN, |r| r.p_value)
        }),
    ];
    for (name, test) in numeric {
        group.bench_function(name, |b| {
            if name == "t_test" {
                // Welch's t only sums the values: the service does not sort for it either.
                b.iter(|| test(&data.reference, &data.current));
            } else {
                b.iter(|| test(&sorted(&data.reference), &sorted(&data.current)));
            }
        });
    }
    let (r, w) = (&data.reference_counts, &data.current_counts);
    group.bench_function("g_test", |b| b.iter(|| g_test::g_test(r, w).p_value));
    group.bench_function("hellinger", |b| b.iter(|| hellinger::distance(r, w)));
    group.bench_function("kl_div", |b| b.iter(|| kl_div::divergence(r, w)));
    group.bench_function("tvd", |b| b.iter(|| tvd::distance(r, w)));
    let (n_ref, n_cur) = (ROWS as u64, ROWS as u64);
    group.bench_function("fisher_exact", |b| {
        b.iter(|| fisher_exact::fisher_exact(r[0], n_ref - r[0], w[0], n_cur - w[0]));
    });
    group.finish();
}

criterion_group!(benches, bench_catalogue);
criterion_main!(benches);
