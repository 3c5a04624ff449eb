use super::isotonic::{Isotonic, improves_calibration};
use super::*;
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Deserialize)]
struct IsotonicCase {
    name: String,
    scores: Vec<f64>,
    outcomes: Vec<f64>,
    at: Vec<f64>,
    expected: Vec<f64>,
}

#[derive(Deserialize)]
struct DecisionCase {
    name: String,
    scores: Vec<f64>,
    outcomes: Vec<f64>,
    expected: bool,
}

#[derive(Deserialize)]
struct MetricCase {
    name: String,
    predicted_positive: Vec<bool>,
    probability: Vec<f64>,
    scores: Vec<f64>,
    expected: HashMap<String, f64>,
}

#[derive(Deserialize)]
struct Golden {
    tolerance: f64,
    metric_roc_auc_tolerance: f64,
    isotonic_cases: Vec<IsotonicCase>,
    decision_cases: Vec<DecisionCase>,
    metric_cases: Vec<MetricCase>,
}

fn golden() -> Golden {
    serde_json::from_str(include_str!("../../../tests/golden/cbpe.json")).unwrap()
}

#[test]
fn isotonic_matches_sklearn() {
    for case in golden().isotonic_cases {
        let map = Isotonic::fit(&case.scores, &case.outcomes).unwrap();
        for (&at, &expected) in case.at.iter().zip(&case.expected) {
            let got = map.calibrate(at);
            assert!(
                (got - expected).abs() <= 1e-12,
                "{}: at {at}: {got} vs sklearn {expected}",
                case.name
            );
        }
    }
}

#[test]
fn calibration_decision_matches_the_emulated_rule() {
    for case in golden().decision_cases {
        let classes: Vec<u32> = case.outcomes.iter().map(|&o| o as u32).collect();
        let auc = quality::roc_auc(&classes, 1, &case.scores);
        assert_eq!(
            improves_calibration(&case.scores, &case.outcomes, auc),
            case.expected,
            "{}",
            case.name
        );
    }
}

#[test]
fn expected_quality_matches_nannyml() {
    let golden = golden();
    for case in golden.metric_cases {
        let got = expected_quality(&case.predicted_positive, &case.probability, &case.scores);
        assert_eq!(got.len(), case.expected.len(), "{}: {got:?}", case.name);
        for (metric, value) in got {
            let expected = case.expected[metric.as_str()];
            let tolerance = if metric == QualityMetric::RocAuc {
                golden.metric_roc_auc_tolerance
            } else {
                golden.tolerance
            };
            assert!(
                (value - expected).abs() <= tolerance,
                "{} {}: {value} vs NannyML {expected}",
                case.name,
                metric.as_str()
            );
        }
    }
}

#[test]
fn expected_matrix_of_certain_rows_is_the_realised_one() {
    // Probabilities of exactly 0 or 1: the expectation is the realised confusion matrix.
    let predicted = [true, true, false, false, true];
    let probability = [1.0, 0.0, 0.0, 1.0, 1.0];
    let scores = [0.9, 0.8, 0.1, 0.7, 0.6];
    let got: HashMap<_, _> = expected_quality(&predicted, &probability, &scores)
        .into_iter()
        .collect();
    // tp 2, fp 1, fn 1, tn 1
    assert_eq!(got[&QualityMetric::Accuracy], 3.0 / 5.0);
    assert_eq!(got[&QualityMetric::Precision], 2.0 / 3.0);
    assert_eq!(got[&QualityMetric::Recall], 2.0 / 3.0);
    assert_eq!(got[&QualityMetric::F1], 2.0 / 3.0);
    // positives score 0.9, 0.7, 0.6; negatives 0.8, 0.1: 4 of 6 pairs ranked right.
    assert_eq!(got[&QualityMetric::RocAuc], 4.0 / 6.0);
}

#[test]
fn tied_scores_count_half_like_sklearn() {
    // One positive and one negative at the same score: AUC 0.5 whatever their order.
    for probability in [[1.0, 0.0], [0.0, 1.0]] {
        let got = expected_quality(&[true, true], &probability, &[0.5, 0.5]);
        assert_eq!(got.last().unwrap(), &(QualityMetric::RocAuc, 0.5));
    }
}

#[test]
fn undefined_metrics_are_omitted_and_empty_input_gives_nothing() {
    assert!(expected_quality(&[], &[], &[]).is_empty());
    let got = expected_quality(&[false, false], &[0.0, 0.0], &[0.2, 0.3]);
    assert!(
        got.iter()
            .all(|(m, v)| *m != QualityMetric::RocAuc && !v.is_nan())
    );
    assert_eq!(got[1], (QualityMetric::Precision, 0.0));
}

#[test]
fn uncalibrated_scores_are_clipped_and_nan_rows_skipped() {
    let identity = Cbpe { calibrator: None };
    assert_eq!(identity.probability(1.5), 1.0);
    assert_eq!(identity.probability(-0.5), 0.0);
    let got = identity.estimate(&[true, true, false], &[0.8, f64::NAN, f64::NEG_INFINITY]);
    assert_eq!(got[0], (QualityMetric::Accuracy, 0.8));
}

#[test]
fn fit_calibrates_timid_scores_and_leaves_a_perfect_ranking_alone() {
    // Scores that rank right but are far too close to 0.5: calibration spreads them out.
    let n = 4000;
    let scores: Vec<f64> = (0..n)
        .map(|i| 0.4 + 0.2 * (i as f64 + 0.5) / n as f64)
        .collect();
    let positive: Vec<bool> = (0..n).map(|i| (i * 7919 % n) < i).collect();
    let cbpe = Cbpe::fit(&scores, &positive);
    assert!(cbpe.calibrator.is_some());
    assert!(cbpe.probability(0.41) < 0.2 && cbpe.probability(0.59) > 0.8);

    let perfect: Vec<bool> = scores.iter().map(|&s| s > 0.5).collect();
    assert_eq!(Cbpe::fit(&scores, &perfect).calibrator, None);
}
