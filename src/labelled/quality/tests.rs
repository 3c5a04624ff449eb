use super::*;
use serde::Deserialize;
use std::collections::HashMap;

const ALL: [QualityMetric; 11] = [
    QualityMetric::Accuracy,
    QualityMetric::Precision,
    QualityMetric::Recall,
    QualityMetric::F1,
    QualityMetric::RocAuc,
    QualityMetric::LogLoss,
    QualityMetric::Mae,
    QualityMetric::Rmse,
    QualityMetric::Mape,
    QualityMetric::MeanError,
    QualityMetric::R2,
];

#[derive(Deserialize)]
struct ClassificationCase {
    name: String,
    positive: Option<u32>,
    predicted: Vec<u32>,
    actual: Vec<u32>,
    /// `null` entries are NaN.
    probability: Option<Vec<Option<f64>>>,
    expected: HashMap<String, f64>,
}

#[derive(Deserialize)]
struct RegressionCase {
    name: String,
    /// `null` entries are NaN.
    predicted: Vec<Option<f64>>,
    actual: Vec<Option<f64>>,
    expected: HashMap<String, f64>,
}

#[derive(Deserialize)]
struct Golden {
    classification_cases: Vec<ClassificationCase>,
    regression_cases: Vec<RegressionCase>,
}

fn golden() -> Golden {
    serde_json::from_str(include_str!("../../../tests/golden/quality.json")).unwrap()
}

fn with_nan(values: &[Option<f64>]) -> Vec<f64> {
    values.iter().map(|v| v.unwrap_or(f64::NAN)).collect()
}

/// Largest deviations seen, for the report printed by the golden test.
#[derive(Default)]
struct Deviation {
    absolute: f64,
    relative: f64,
}

/// Tolerance: 1e-12 relative, even for tiny values (the 1e-6-scale regression case would
/// pass any absolute 1e-12 test); 1e-12 absolute only for an expected 0, where relative
/// error is undefined. Counting metrics are correctly rounded divisions of integers on
/// both sides; ROC AUC is an exact integer ratio here and a trapezoid sum in sklearn; the
/// float metrics differ only in summation order (numpy pairwise, here compensated) and in
/// `ln` by at most an ulp. Observed deviations are printed (`cargo test -- --nocapture`)
/// and are all below 1e-15 relative.
fn check(
    name: &str,
    got: &[(QualityMetric, f64)],
    expected: &HashMap<String, f64>,
    deviation: &mut Deviation,
) {
    let mut got_names: Vec<&str> = got.iter().map(|(m, _)| m.as_str()).collect();
    let mut expected_names: Vec<&str> = expected.keys().map(String::as_str).collect();
    got_names.sort_unstable();
    expected_names.sort_unstable();
    assert_eq!(got_names, expected_names, "{name}: metric set");
    let position = |metric| ALL.iter().position(|&m| m == metric).unwrap();
    assert!(
        got.windows(2).all(|w| position(w[0].0) < position(w[1].0)),
        "{name}: metrics out of order: {got:?}"
    );
    for &(metric, value) in got {
        let want = expected[metric.as_str()];
        let error = (value - want).abs();
        assert!(
            error
                <= if want == 0.0 {
                    1e-12
                } else {
                    1e-12 * want.abs()
                },
            "{name}: {} = {value}, sklearn {want}",
            metric.as_str()
        );
        deviation.absolute = deviation.absolute.max(error);
        if want != 0.0 {
            deviation.relative = deviation.relative.max(error / want.abs());
        }
    }
}

#[test]
fn classification_matches_sklearn_golden() {
    let cases = golden().classification_cases;
    assert!(cases.len() >= 20);
    let mut deviation = Deviation::default();
    for case in &cases {
        let probability = case.probability.as_deref().map(with_nan);
        let got = classification(
            &case.predicted,
            &case.actual,
            case.positive,
            probability.as_deref(),
        );
        check(&case.name, &got, &case.expected, &mut deviation);
    }
    eprintln!(
        "classification: max deviation {:e} absolute, {:e} relative",
        deviation.absolute, deviation.relative
    );
}

#[test]
fn regression_matches_sklearn_golden() {
    let cases = golden().regression_cases;
    assert!(cases.len() >= 12);
    let mut deviation = Deviation::default();
    for case in &cases {
        let got = regression(&with_nan(&case.predicted), &with_nan(&case.actual));
        check(&case.name, &got, &case.expected, &mut deviation);
    }
    eprintln!(
        "regression: max deviation {:e} absolute, {:e} relative",
        deviation.absolute, deviation.relative
    );
}

#[test]
fn labels_match_serde_names() {
    for metric in ALL {
        assert_eq!(
            serde_json::to_value(metric).unwrap(),
            serde_json::json!(metric.as_str())
        );
    }
    let higher: Vec<&str> = ALL
        .into_iter()
        .filter(|m| m.higher_is_better())
        .map(QualityMetric::as_str)
        .collect();
    assert_eq!(
        higher,
        ["accuracy", "precision", "recall", "f1", "roc_auc", "r2"]
    );
}

#[test]
fn empty_input_gives_no_metrics() {
    assert!(classification(&[], &[], None, None).is_empty());
    assert!(classification(&[1, 0], &[], Some(1), None).is_empty());
    assert!(classification(&[1, 0], &[1, 0], Some(1), Some(&[])).is_empty());
    assert!(regression(&[], &[]).is_empty());
    assert!(regression(&[1.0], &[]).is_empty());
    assert!(regression(&[f64::NAN, 1.0], &[2.0, f64::INFINITY]).is_empty());
}

#[test]
fn unequal_lengths_use_the_common_prefix() {
    let predicted = [1, 0, 1, 1, 0, 2, 2];
    let actual = [1, 0, 0, 1, 1];
    let probability = [0.9, 0.2, 0.6, 0.7, 0.4, 0.5];
    assert_eq!(
        classification(&predicted, &actual, Some(1), Some(&probability)),
        classification(&predicted[..5], &actual, Some(1), Some(&probability[..5]))
    );
    // A shorter probability slice cuts every metric to its rows.
    assert_eq!(
        classification(&predicted, &actual, Some(1), Some(&probability[..3])),
        classification(
            &predicted[..3],
            &actual[..3],
            Some(1),
            Some(&probability[..3])
        )
    );
    // Without a positive class the probabilities are ignored, their length too.
    assert_eq!(
        classification(&predicted, &actual, None, Some(&probability[..1])),
        classification(&predicted[..5], &actual, None, None)
    );
    assert_eq!(
        regression(&[1.0, 2.0, 3.0], &[1.5, 2.0]),
        regression(&[1.0, 2.0], &[1.5, 2.0])
    );
    assert_eq!(regression(&[1.0], &[1.5, 2.0]), regression(&[1.0], &[1.5]));
}

fn value(metrics: &[(QualityMetric, f64)], metric: QualityMetric) -> Option<f64> {
    metrics.iter().find(|(m, _)| *m == metric).map(|&(_, v)| v)
}

#[test]
fn never_nan_on_hostile_input() {
    let probability = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.5,
        1.5,
        -0.0,
        0.0,
        1.0,
    ];
    let actual = [1, 1, 0, 1, 0, 1, 0, 1];
    let predicted = [0, 1, 0, 3, 1, 1, 0, 0];
    for positive in [None, Some(0), Some(1), Some(3), Some(9)] {
        let metrics = classification(&predicted, &actual, positive, Some(&probability));
        assert!(metrics.iter().all(|(_, v)| !v.is_nan()), "{metrics:?}");
    }
    let extreme = [f64::MAX, -f64::MAX, f64::MAX, 1.0, f64::NAN];
    let metrics = regression(&extreme, &[-f64::MAX, f64::MAX, f64::MAX, 0.0, 1.0]);
    assert!(metrics.iter().all(|(_, v)| !v.is_nan()), "{metrics:?}");
    // ∞ − ∞ in the signed sum: the mean error is omitted; the MAE saturates.
    assert_eq!(value(&metrics, QualityMetric::MeanError), None);
    assert_eq!(value(&metrics, QualityMetric::Mae), Some(f64::MAX));
    assert!(
        regression(&[0.0; 4], &[0.0; 4])
            .iter()
            .all(|(_, v)| !v.is_nan())
    );
}

#[test]
fn out_of_range_probabilities_are_clipped() {
    let metrics = classification(&[1, 0], &[1, 0], Some(1), Some(&[1.5, -0.5]));
    let loss = value(&metrics, QualityMetric::LogLoss).unwrap();
    assert_eq!(loss, -(1.0 - f64::EPSILON).ln());
    assert_eq!(value(&metrics, QualityMetric::RocAuc), Some(1.0));
}

#[test]
fn negative_zero_ties_with_zero_in_roc_auc() {
    let metrics = classification(&[0, 0], &[1, 0], Some(1), Some(&[0.0, -0.0]));
    assert_eq!(value(&metrics, QualityMetric::RocAuc), Some(0.5));
}

#[test]
fn positive_class_is_one_vs_rest() {
    // Class 2 is the positive one; classes 0 and 1 are both negative.
    let metrics = classification(&[2, 2, 0, 1, 2], &[2, 0, 2, 1, 1], Some(2), None);
    assert_eq!(value(&metrics, QualityMetric::Accuracy), Some(0.4));
    assert_eq!(value(&metrics, QualityMetric::Precision), Some(1.0 / 3.0));
    assert_eq!(value(&metrics, QualityMetric::Recall), Some(0.5));
    assert_eq!(value(&metrics, QualityMetric::F1), Some(0.4));
}

#[test]
fn constant_target_r2_uses_an_exact_constant_test() {
    // The mean of three 0.1s is an ulp off 0.1: sklearn returns -1.7e31 for the second.
    let actual = [0.1; 3];
    let mut predicted = actual;
    assert_eq!(
        value(&regression(&predicted, &actual), QualityMetric::R2),
        Some(1.0)
    );
    predicted[1] = 0.2;
    assert_eq!(
        value(&regression(&predicted, &actual), QualityMetric::R2),
        Some(0.0)
    );
}
