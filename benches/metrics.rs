//! `GET /metrics` at scale: rendering the exposition of 100 monitors × 50 features.
//!
//! Shape from the performance issue: 100 monitors of 50 features each (40 numeric on KS, 10
//! categorical on chi-square), every monitor registered and one window published, so every
//! per-feature series exists (about 51 000 lines, 3.7 MB). Setup is outside the measurement.
//!
//! Baseline, measured in the same run: `baseline_text_encoder` is the previous scrape path
//! (`Metrics::render_with_text_encoder`: gather every family, prometheus' `TextEncoder`);
//! `render` is `Metrics::render`, what `/metrics` serves, measured on an unchanged registry (a
//! scrape between two window publications); `render_after_publish` publishes one monitor's
//! dataset result first, so that monitor's cached families are encoded again (a window closing
//! before each scrape). The cache's size is printed with the exposition's.
//!
//! Run: `cargo bench --bench metrics`

#![allow(missing_docs)] // criterion_group! generates an undocumented function.

mod common;

use common::Rng;
use criterion::{Criterion, criterion_group, criterion_main};
use driftscope::check::{ColumnCheck, Role};
use driftscope::column::ColumnData;
use driftscope::config::{MonitorSpec, TestKind};
use driftscope::engine::evaluate::evaluate;
use driftscope::export::metrics::Metrics;
use driftscope::reference::table::Cells;
use driftscope::window::ClosedWindow;

const MONITORS: usize = 100;
const NUMERIC: usize = 40;
const CATEGORICAL: usize = 10;
const REFERENCE_ROWS: usize = 2_000;
const WINDOW_ROWS: usize = 1_000;

fn feature_names() -> Vec<String> {
    (0..NUMERIC + CATEGORICAL)
        .map(|i| format!("feature_{i:02}"))
        .collect()
}

fn spec(name: &str, features: &[String]) -> MonitorSpec {
    let value = serde_json::json!({
        "name": name,
        "reference": "reference.parquet",
        "features": {
            "numerical": features[..NUMERIC],
            "categorical": features[NUMERIC..],
        },
        "id": "id",
        "window": {"rows": WINDOW_ROWS},
        "alerting": {"severity": "page", "team": "ml-platform"},
    });
    serde_json::from_value(value).expect("valid monitor spec")
}

fn checks(rng: &mut Rng, features: &[String]) -> Vec<ColumnCheck> {
    features
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let (cells, test) = if i < NUMERIC {
                let values = (0..REFERENCE_ROWS).map(|_| rng.normal(0.0)).collect();
                (Cells::numbers(values), TestKind::Ks)
            } else {
                let values = (0..REFERENCE_ROWS)
                    .map(|_| format!("cat{:02}", (rng.uniform() * 12.0) as u32))
                    .collect();
                (Cells::texts(values), TestKind::Chisquare)
            };
            ColumnCheck::new(name, Role::Feature, cells, Some(test), None, 10).expect("valid check")
        })
        .collect()
}

/// A window whose numeric columns are shifted by `shift` standard deviations.
fn window(rng: &mut Rng, shift: f64) -> ClosedWindow {
    let mut columns: Vec<ColumnData> = (0..NUMERIC)
        .map(|_| ColumnData::Numeric((0..WINDOW_ROWS).map(|_| rng.normal(shift)).collect()))
        .collect();
    for _ in 0..CATEGORICAL {
        columns.push(ColumnData::Categorical(
            (0..WINDOW_ROWS)
                .map(|_| (rng.uniform() * 12.0) as u32)
                .collect(),
        ));
    }
    ClosedWindow {
        seq: 1,
        start: 0.0,
        end: 1.0,
        rows: WINDOW_ROWS,
        columns,
        binned: None,
    }
}

/// 100 monitors × 50 features, registered and with one published window each.
fn populated() -> Metrics {
    let mut rng = Rng(0x5EED);
    let features = feature_names();
    let checks = checks(&mut rng, &features);
    let metrics = Metrics::new(&[]);
    for m in 0..MONITORS {
        let name = format!("monitor_{m:03}");
        metrics.register_monitor(
            &spec(&name, &features),
            &checks,
            None,
            REFERENCE_ROWS,
            "0123456789abcdef0123",
        );
        let report = evaluate(&checks, 0.5, &window(&mut rng, 0.1 * (m % 4) as f64));
        for (check, column) in checks.iter().zip(&report.features) {
            metrics.publish_column(&name, check, column, u32::from(column.outcome.drifted));
        }
        metrics.publish_dataset(&name, &report.dataset, report.rows, 1, 1.7e9 + m as f64);
        metrics
            .rows_ingested
            .with_label_values(&[&name])
            .inc_by(WINDOW_ROWS as u64);
    }
    metrics
}

fn bench_render(c: &mut Criterion) {
    let metrics = populated();
    let dataset = driftscope::check::report::DatasetDrift {
        drift_share: 0.1,
        drifted: false,
        drifted_features: 5,
        features_evaluated: 50,
        threshold: 0.5,
    };
    let text = metrics.render();
    eprintln!(
        "exposition: {} bytes, {} lines; cache: {} bytes",
        text.len(),
        text.lines().count(),
        metrics.cached_bytes()
    );
    let mut group = c.benchmark_group("metrics_100_monitors_50_features");
    group.sample_size(20);
    group.bench_function("baseline_text_encoder", |b| {
        b.iter(|| metrics.render_with_text_encoder());
    });
    group.bench_function("render", |b| b.iter(|| metrics.render()));
    group.bench_function("render_after_publish", |b| {
        b.iter(|| {
            metrics.publish_dataset("monitor_000", &dataset, 1000, 1, 1.7e9);
            metrics.render()
        });
    });
    group.finish();
}

criterion_group!(benches, bench_render);
criterion_main!(benches);
