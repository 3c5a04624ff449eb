//! `render` (cached window families merged with live ones) against prometheus' own encoder.

use super::Metrics;
use crate::check::report::{ColumnReport, DatasetDrift};
use crate::check::{ColumnCheck, Role};
use crate::column::ColumnData;
use crate::config::MonitorSpec;
use crate::reference::table::Cells;

fn spec(name: &str) -> MonitorSpec {
    serde_json::from_value(serde_json::json!({
        "name": name,
        "reference": "reference.csv",
        "features": {"numerical": ["x"], "categorical": ["c \"quoted\" \\ back"]},
        "id": "id",
        "window": {"rows": 100},
        "alerting": {"severity": "page", "team": "ml", "labels": {"runbook": "line\nbreak"}},
    }))
    .expect("valid spec")
}

fn checks() -> Vec<ColumnCheck> {
    let numbers = Cells::numbers((0..200).map(|i| f64::from(i) / 7.0).collect());
    let texts = Cells::texts((0..200).map(|i| format!("c{}", i % 5)).collect());
    vec![
        ColumnCheck::new("x", Role::Feature, numbers, None, None, 10).expect("valid"),
        ColumnCheck::new("c \"quoted\" \\ back", Role::Feature, texts, None, None, 10)
            .expect("valid"),
    ]
}

fn publish(metrics: &Metrics, monitor: &str, checks: &[ColumnCheck], shift: f64) {
    let columns = [
        ColumnData::Numeric((0..100).map(|i| f64::from(i) / 5.0 + shift).collect()),
        ColumnData::Categorical((0..100).map(|i| i % 3).collect()),
    ];
    for (check, data) in checks.iter().zip(&columns) {
        let mut report = ColumnReport::new(&check.name, check.evaluate(data), 100);
        if check.name == "x" {
            report.outcome.effect_size = Some(f64::INFINITY);
            report.missing_ratio = f64::NAN;
        }
        metrics.publish_column(monitor, check, &report, 2);
    }
    let dataset = DatasetDrift {
        drift_share: 0.5,
        drifted: true,
        drifted_features: 1,
        features_evaluated: 2,
        threshold: 0.5,
    };
    metrics.publish_dataset(monitor, &dataset, 100, 3, 1.7e9 + shift);
}

/// A text's families, each as its `#` lines and its sample lines sorted (series order within a
/// family is free), without the process collector's samples (CPU time and memory move between
/// two calls). A family whose lines were not contiguous, or written twice, would show up as an
/// extra family.
fn families(text: &str) -> Vec<(Vec<&str>, Vec<&str>)> {
    let mut families: Vec<(Vec<&str>, Vec<&str>)> = Vec::new();
    for line in text.lines().filter(|line| !line.starts_with("process_")) {
        if line.starts_with("# HELP ") {
            families.push((Vec::new(), Vec::new()));
        }
        let (headers, samples) = families.last_mut().expect("a family starts with HELP");
        if line.starts_with('#') {
            headers.push(line);
        } else {
            samples.push(line);
        }
    }
    for (_, samples) in &mut families {
        samples.sort_unstable();
    }
    families
}

/// `render`, after checking it holds the same families, HELP, TYPE and sample lines as the
/// `TextEncoder` writes.
fn assert_matches_reference(metrics: &Metrics) -> String {
    let ours = metrics.render();
    let reference = metrics.render_with_text_encoder();
    assert!(
        families(&ours) == families(&reference),
        "render differs:\n{ours}\n---\n{reference}"
    );
    ours
}

/// The sample lines of `monitor`, sorted.
fn lines_of<'a>(text: &'a str, monitor: &str) -> Vec<&'a str> {
    let label = format!("monitor=\"{monitor}\"");
    let mut lines: Vec<&str> = text.lines().filter(|l| l.contains(&label)).collect();
    lines.sort_unstable();
    lines
}

#[test]
fn render_equals_the_text_encoder_through_publishes_counters_and_forget() {
    let metrics = Metrics::new(&["runbook".to_owned()]);
    let checks = checks();
    assert_matches_reference(&metrics);
    for monitor in ["a", "b"] {
        metrics.register_monitor(&spec(monitor), &checks, None, 200, "0123456789abcdef99");
    }
    assert!(assert_matches_reference(&metrics).contains("driftscope_feature_drift_threshold{"));
    publish(&metrics, "a", &checks, 0.0);
    publish(&metrics, "b", &checks, 3.0);
    let text = assert_matches_reference(&metrics);
    assert!(text.contains(r#"feature="c \"quoted\" \\ back""#), "{text}");
    // Non-finite values as the TextEncoder writes them (`inf`, which Prometheus parses).
    assert!(text.contains(" inf\n") && text.contains(" NaN\n"), "{text}");
    // Unchanged window families come from the cache; live families still move.
    metrics.rows_ingested.with_label_values(&["a"]).inc_by(7);
    metrics
        .http_duration
        .with_label_values(&["/metrics"])
        .observe(0.01);
    metrics.connection_error("io");
    let text = assert_matches_reference(&metrics);
    assert!(
        text.contains("driftscope_rows_ingested_total{monitor=\"a\"} 7\n"),
        "{text}"
    );
    // A publish after a cached render is visible at once.
    publish(&metrics, "a", &checks, 9.0);
    assert!(assert_matches_reference(&metrics).contains("1700000009"));
    metrics.forget("b", &|_| false);
    let text = assert_matches_reference(&metrics);
    assert!(!text.contains("monitor=\"b\""), "{text}");
}

/// Monitors `a` and `b`, registered, with one window published each.
fn two_monitors() -> (Metrics, Vec<ColumnCheck>) {
    let metrics = Metrics::new(&["runbook".to_owned()]);
    let checks = checks();
    for monitor in ["a", "b"] {
        metrics.register_monitor(&spec(monitor), &checks, None, 200, "0123456789abcdef99");
        publish(&metrics, monitor, &checks, 1.0);
    }
    (metrics, checks)
}

#[test]
fn a_publish_changes_only_the_lines_of_its_monitor() {
    let (metrics, checks) = two_monitors();
    let before = assert_matches_reference(&metrics);
    publish(&metrics, "a", &checks, 9.0);
    let after = assert_matches_reference(&metrics);
    let mut changed: std::collections::HashMap<&str, i32> = std::collections::HashMap::new();
    for line in before.lines().filter(|l| !l.starts_with("process_")) {
        *changed.entry(line).or_default() -= 1;
    }
    for line in after.lines().filter(|l| !l.starts_with("process_")) {
        *changed.entry(line).or_default() += 1;
    }
    changed.retain(|_, count| *count != 0);
    assert!(!changed.is_empty(), "{after}");
    for line in changed.keys() {
        assert!(line.contains("monitor=\"a\""), "{line} changed");
    }
    assert!(
        after.contains("driftscope_last_evaluation_timestamp_seconds{monitor=\"a\"} 1700000009\n")
    );
    assert_eq!(lines_of(&before, "b"), lines_of(&after, "b"));
}

#[test]
fn forget_removes_the_lines_of_its_monitor() {
    let (metrics, checks) = two_monitors();
    let before = assert_matches_reference(&metrics);
    // A reload dropping column x of a.
    metrics.forget("a", &|labels| !labels.contains(&("feature", "x")));
    metrics.forget("b", &|_| false);
    let text = assert_matches_reference(&metrics);
    assert!(lines_of(&text, "b").is_empty(), "{text}");
    let a: Vec<&str> = lines_of(&before, "a")
        .into_iter()
        .filter(|l| !l.contains("feature=\"x\""))
        .collect();
    assert_eq!(lines_of(&text, "a"), a);
    // Registered again before any scrape: its new series, not the cached text of the old.
    metrics.forget("a", &|_| false);
    metrics.register_monitor(&spec("a"), &checks, None, 200, "0123456789abcdef99");
    let text = assert_matches_reference(&metrics);
    assert!(!text.contains("driftscope_feature_drift_score{"), "{text}");
    assert!(text.contains("driftscope_feature_drift_threshold{feature=\"x\",monitor=\"a\""));
}
