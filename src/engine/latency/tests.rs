use super::*;
use serde::Deserialize;
use std::collections::HashMap;

use crate::check::Role;
use crate::reference::table::Cells;

#[derive(Deserialize)]
struct Case {
    name: String,
    unit: String,
    slow_seconds: f64,
    /// `null` entries are missing.
    values: Vec<Option<f64>>,
    expected: HashMap<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct Golden {
    buckets: Vec<f64>,
    cases: Vec<Case>,
}

fn golden() -> Golden {
    serde_json::from_str(include_str!("../../../tests/golden/latency.json")).unwrap()
}

fn model(units_per_second: f64, slow_seconds: f64, check: Option<ColumnCheck>) -> LatencyModel {
    LatencyModel {
        column: "latency".into(),
        units_per_second,
        slow_seconds,
        check,
    }
}

/// Relative tolerance 1e-12: numpy sums pairwise and interpolates with its own lerp, driftscope
/// sums in row order; both are exact up to rounding.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1e-300)
}

#[test]
fn histogram_bounds_are_the_golden_ones() {
    assert_eq!(LATENCY_BUCKETS, golden().buckets.as_slice());
}

#[test]
fn summaries_match_numpy_golden() {
    for case in golden().cases {
        let per_second = if case.unit == "ms" { 1000.0 } else { 1.0 };
        let values =
            ColumnData::Numeric(case.values.iter().map(|v| v.unwrap_or(f64::NAN)).collect());
        let report = model(per_second, case.slow_seconds, None).report(&values, case.values.len());
        let e = &case.expected;
        let int = |k: &str| e[k].as_u64().unwrap();
        assert_eq!(report.count, int("count"), "{}", case.name);
        assert_eq!(report.slow, int("slow"), "{}", case.name);
        assert_eq!(
            report.missing,
            case.values.iter().filter(|v| v.is_none()).count() as u64
        );
        let counts: Vec<u64> = report.buckets.iter().map(|b| b.count).collect();
        let expected: Vec<u64> = e["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_u64().unwrap())
            .collect();
        assert_eq!(counts, expected, "{}", case.name);
        assert!(
            close(report.sum_seconds, e["sum_seconds"].as_f64().unwrap()),
            "{}: sum {}",
            case.name,
            report.sum_seconds
        );
        for (key, got) in [
            ("p50", report.p50_seconds),
            ("p90", report.p90_seconds),
            ("p99", report.p99_seconds),
        ] {
            match (got, e.get(key).and_then(|v| v.as_f64())) {
                (Some(got), Some(want)) => {
                    assert!(close(got, want), "{} {key}: {got} vs {want}", case.name)
                }
                (None, None) => {}
                other => panic!("{} {key}: {other:?}", case.name),
            }
        }
    }
}

#[test]
fn invalid_values_are_counted_and_left_out() {
    let values = ColumnData::Numeric(vec![20.0, INVALID_NUMBER, f64::NAN, 30.0]);
    let report = model(1000.0, 10.0, None).report(&values, 4);
    assert_eq!((report.count, report.missing, report.invalid), (2, 1, 1));
    assert!(close(report.sum_seconds, 0.05));
    assert_eq!(report.p50_seconds, Some(0.025));
}

#[test]
fn the_drift_test_is_a_family_of_its_own() {
    let reference: Vec<f64> = (0..400).map(|i| 50.0 + f64::from(i % 40)).collect();
    let cells = Cells::numbers(reference);
    let check = ColumnCheck::new("latency", Role::Latency, cells, None, None, 10).unwrap();
    let latency = model(1000.0, 10.0, Some(check));
    let same = ColumnData::Numeric((0..200).map(|i| 50.0 + f64::from(i % 40)).collect());
    let slower = ColumnData::Numeric((0..200).map(|i| 150.0 + f64::from(i % 40)).collect());
    let calm = latency.report(&same, 200).drift.unwrap();
    let drifted = latency.report(&slower, 200).drift.unwrap();
    assert!(!calm.outcome.drifted);
    assert!(drifted.outcome.drifted);
    // Alone in its family, the adjusted p-value is the raw one.
    assert_eq!(drifted.outcome.p_value_adjusted, drifted.outcome.p_value);
}
