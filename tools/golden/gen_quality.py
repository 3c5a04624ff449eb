#!/usr/bin/env python3
"""Generate tests/golden/quality.json: scikit-learn reference values for src/quality.rs.

Run from the repository root:

    python3 tools/golden/gen_quality.py            # writes tests/golden/quality.json
    python3 tools/golden/gen_quality.py --check    # regenerates in memory, diffs, exits 1 on change

Generated with Python 3.11, scikit-learn 1.9.1 and NumPy 2.4.6 (`pip install scikit-learn
numpy`). The output is deterministic: every sample comes from a seeded
`numpy.random.default_rng` or is written out by hand. The versions actually used are recorded
in the JSON.

Expected values come from the public sklearn.metrics functions applied to the stored rows:

* classification (`classification_cases`): `accuracy_score`; `precision_score`,
  `recall_score`, `f1_score` with the default `zero_division` (0.0 plus a warning), using
  `average="binary", pos_label=positive` when `positive` is set, or `average="macro"` when it
  is null. One case has a third class next to the positive one; sklearn's "binary" average
  refuses that, so it uses `labels=[positive], average="macro"`, which is the one-vs-rest
  score of the positive class that driftscope reports. With probabilities (binary only),
  rows whose probability is null (NaN) are dropped, then `roc_auc_score(actual == positive,
  p)` when both classes remain, and `log_loss(actual == positive, y_proba=p, labels=[0, 1])`
  when any row remains. The indicator keeps column 1 = the positive class even when the
  positive class has the smaller index (sklearn would otherwise order the labels).
* regression (`regression_cases`): `mean_absolute_error`, `sqrt(mean_squared_error)`,
  `r2_score` (default `force_finite=True`; only for two rows or more), and with numpy
  `mean(y - y_hat)` and MAPE = `mean(|y - y_hat| / |y|)` over the rows with `y != 0` (absent
  when every `y` is 0). Rows where either value is null (NaN) are dropped first, as
  driftscope drops non-finite rows.

A metric missing from `expected` must be missing from driftscope's output too.

Every input value is quantised to at most 15 significant digits and checked with
`check_exact_json_float`, so serde_json's fast float path (driftscope does not enable
`float_roundtrip`) parses it to the same f64 numpy used; ties in the probabilities therefore
stay ties.
"""

import math
import pathlib
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
)

from golden_io import check_exact_json_float, write_or_check

OUT = pathlib.Path(__file__).resolve().parents[2] / "tests" / "golden" / "quality.json"
SEED = 20260321
rng = np.random.default_rng(SEED)


def floats(values, decimals):
    """Round to `decimals` places (None: keep as written); NaN becomes JSON null."""
    values = np.asarray(values, dtype=np.float64)
    if decimals is not None:
        values = np.round(values, decimals)
    out = []
    for value in values:
        if math.isnan(value):
            out.append(None)
            continue
        value = float(value) + 0.0  # no "-0.0" in the file
        check_exact_json_float(value)
        out.append(value)
    return out


def as_array(values):
    return np.array([math.nan if v is None else v for v in values], dtype=np.float64)


# --- classification ---------------------------------------------------------------------


def classification_case(name, predicted, actual, positive=None, probability=None, decimals=4):
    predicted = [int(c) for c in predicted]
    actual = [int(c) for c in actual]
    assert len(predicted) == len(actual) > 0
    case = {"name": name, "positive": positive, "predicted": predicted, "actual": actual}
    case["probability"] = None if probability is None else floats(probability, decimals)

    if positive is None:
        average = {"average": "macro"}
    elif len(set(actual) | set(predicted) | {positive}) <= 2:
        average = {"average": "binary", "pos_label": positive}
    else:
        average = {"labels": [positive], "average": "macro"}  # one-vs-rest, see docstring

    expected = {"accuracy": float(accuracy_score(actual, predicted))}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        expected["precision"] = float(precision_score(actual, predicted, **average))
        expected["recall"] = float(recall_score(actual, predicted, **average))
        expected["f1"] = float(f1_score(actual, predicted, **average))

    if positive is not None and probability is not None:
        p = as_array(case["probability"])
        keep = ~np.isnan(p)
        y = (np.asarray(actual) == positive).astype(int)[keep]
        p = p[keep]
        if len(set(y.tolist())) == 2:
            expected["roc_auc"] = float(roc_auc_score(y, p))
        if len(y) > 0:
            expected["log_loss"] = float(log_loss(y, y_proba=p, labels=[0, 1]))
    case["expected"] = expected
    return case


def noisy_labels(actual, classes, error_rate):
    """Copy `actual`, replacing a share of rows by a uniformly drawn class."""
    predicted = np.array(actual)
    flip = rng.random(len(predicted)) < error_rate
    predicted[flip] = rng.choice(classes, size=int(flip.sum()))
    return predicted


def scores_for(actual_positive, separation):
    """Probabilities of the positive class: a logistic of a shifted normal score."""
    z = rng.normal(size=len(actual_positive)) + separation * (2 * actual_positive - 1)
    return 1.0 / (1.0 + np.exp(-z))


def classification_cases():
    cases = []

    actual = rng.integers(0, 2, size=500)
    p = scores_for(actual, 1.0)
    cases.append(
        classification_case(
            "binary_balanced_500", (p >= 0.5).astype(int), actual, positive=1, probability=p
        )
    )

    actual = (rng.random(2000) < 0.05).astype(int)
    p = scores_for(actual, 1.2)
    # Two decimals: many tied probabilities across both classes.
    cases.append(
        classification_case(
            "binary_imbalanced_2000_ties",
            (p >= 0.3).astype(int),
            actual,
            positive=1,
            probability=p,
            decimals=2,
        )
    )

    actual = rng.integers(0, 2, size=300)
    p = rng.choice([0.0, 0.25, 0.5, 0.75, 1.0], size=300, p=[0.2, 0.2, 0.2, 0.2, 0.2])
    p = np.where(actual == 1, np.maximum(p, rng.choice([0.0, 0.5], size=300)), p)
    cases.append(
        classification_case(
            "binary_coarse_probabilities_with_0_and_1",
            (p > 0.5).astype(int),
            actual,
            positive=1,
            probability=p,
        )
    )

    # Clipping at both ends: 0, 1e-20, 1e-16, 5e-17 (below eps = 2.2e-16, clipped) and
    # 3e-16 (above eps, kept) for positives; 1, 1 - 1e-17 (== 1.0) for negatives.
    actual = [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    p = [0.0, 1e-20, 1e-16, 5e-17, 3e-16, 1.0, 1.0, 0.0, 1e-17, 0.3, 0.999, 1e-05, 0.999, 0.5]
    cases.append(
        classification_case(
            "binary_clipping_extremes",
            [int(x >= 0.5) for x in p],
            actual,
            positive=1,
            probability=p,
            decimals=None,
        )
    )

    actual = rng.integers(0, 2, size=400)
    p0 = scores_for((actual == 0).astype(int), 0.8)  # probability of class 0
    cases.append(
        classification_case(
            "binary_positive_is_class_0",
            np.where(p0 >= 0.5, 0, 1),
            actual,
            positive=0,
            probability=p0,
        )
    )

    actual = np.where(rng.random(250) < 0.4, 3, 7)
    p3 = scores_for((actual == 3).astype(int), 0.7)
    cases.append(
        classification_case(
            "binary_sparse_indexes_3_and_7_positive_3",
            np.where(p3 >= 0.45, 3, 7),
            actual,
            positive=3,
            probability=p3,
        )
    )

    actual = rng.integers(0, 3, size=300)
    p = scores_for((actual == 2).astype(int), 1.0)
    cases.append(
        classification_case(
            "binary_positive_vs_rest_three_classes",
            noisy_labels(actual, [0, 1, 2], 0.3),
            actual,
            positive=2,
            probability=p,
        )
    )

    actual = np.zeros(120, dtype=int)
    p = scores_for(actual, 1.0)
    cases.append(
        classification_case(
            "binary_only_negatives_in_actual",
            (p >= 0.5).astype(int),
            actual,
            positive=1,
            probability=p,
        )
    )

    actual = np.ones(80, dtype=int)
    p = scores_for(actual, 0.5)
    cases.append(
        classification_case(
            "binary_only_positives_in_actual",
            (p >= 0.5).astype(int),
            actual,
            positive=1,
            probability=p,
        )
    )

    actual = rng.integers(0, 2, size=200)
    p = scores_for(actual, 0.4) * 0.45  # every probability < 0.5: positive never predicted
    cases.append(
        classification_case(
            "binary_positive_never_predicted",
            np.zeros(200, dtype=int),
            actual,
            positive=1,
            probability=p,
        )
    )

    cases.append(
        classification_case(
            "binary_positive_absent_everywhere",
            np.zeros(50, dtype=int),
            np.zeros(50, dtype=int),
            positive=1,
            probability=rng.random(50) * 0.2,
        )
    )

    actual = rng.integers(0, 2, size=300)
    p = scores_for(actual, 1.0)
    p[rng.random(300) < 0.15] = np.nan
    cases.append(
        classification_case(
            "binary_nan_probabilities_skipped",
            (np.nan_to_num(p, nan=0.6) >= 0.5).astype(int),
            actual,
            positive=1,
            probability=p,
        )
    )

    actual = rng.integers(0, 2, size=40)
    cases.append(
        classification_case(
            "binary_all_probabilities_nan",
            noisy_labels(actual, [0, 1], 0.2),
            actual,
            positive=1,
            probability=np.full(40, np.nan),
        )
    )

    actual = rng.integers(0, 2, size=60)
    p = np.where(actual == 1, 1.0, 0.0)
    cases.append(
        classification_case("binary_perfect", actual, actual, positive=1, probability=p)
    )

    actual = rng.integers(0, 2, size=150)
    p = scores_for(1 - actual, 1.0)  # anti-correlated: AUC < 0.5
    cases.append(
        classification_case(
            "binary_inverted_scores",
            (p >= 0.5).astype(int),
            actual,
            positive=1,
            probability=p,
        )
    )

    actual = rng.integers(0, 2, size=220)
    cases.append(
        classification_case(
            "binary_without_probabilities", noisy_labels(actual, [0, 1], 0.25), actual, positive=1
        )
    )

    cases.append(
        classification_case("binary_single_row", [1], [1], positive=1, probability=[0.9])
    )

    actual = rng.integers(0, 3, size=600)
    cases.append(
        classification_case("multiclass_3", noisy_labels(actual, [0, 1, 2], 0.35), actual)
    )

    actual = rng.choice([0, 1, 2, 3], size=800, p=[0.5, 0.3, 0.15, 0.05])
    predicted = noisy_labels(actual, [0, 1, 2, 3, 4], 0.3)  # class 4 only in predictions
    cases.append(classification_case("multiclass_5_class_only_predicted", predicted, actual))

    actual = rng.integers(0, 4, size=500)
    predicted = noisy_labels(actual, [0, 1, 2], 0.2)
    predicted[predicted == 3] = 0  # class 3 never predicted
    cases.append(classification_case("multiclass_4_class_never_predicted", predicted, actual))

    actual = rng.integers(0, 5, size=250)
    cases.append(classification_case("multiclass_5_perfect", actual, actual))

    actual = rng.choice([2, 10, 11, 40], size=400)
    cases.append(
        classification_case(
            "multiclass_sparse_indexes", noisy_labels(actual, [2, 10, 11, 40], 0.4), actual
        )
    )

    actual = rng.integers(0, 2, size=300)
    cases.append(
        classification_case(
            "multiclass_two_classes_macro_probability_ignored",
            noisy_labels(actual, [0, 1], 0.3),
            actual,
            probability=scores_for(actual, 1.0),
        )
    )
    return cases


# --- regression -------------------------------------------------------------------------


def regression_case(name, predicted, actual, decimals=4):
    case = {
        "name": name,
        "predicted": floats(predicted, decimals),
        "actual": floats(actual, decimals),
    }
    y_hat, y = as_array(case["predicted"]), as_array(case["actual"])
    assert len(y) == len(y_hat) > 0
    keep = np.isfinite(y) & np.isfinite(y_hat)
    y, y_hat = y[keep], y_hat[keep]

    expected = {
        "mae": float(mean_absolute_error(y, y_hat)),
        "rmse": math.sqrt(float(mean_squared_error(y, y_hat))),
    }
    nonzero = y != 0
    if nonzero.any():
        expected["mape"] = float(np.mean(np.abs(y[nonzero] - y_hat[nonzero]) / np.abs(y[nonzero])))
    expected["mean_error"] = float(np.mean(y - y_hat))
    if len(y) >= 2:
        expected["r2"] = float(r2_score(y, y_hat))
    case["expected"] = expected
    return case


def regression_cases():
    cases = []

    y = rng.normal(50.0, 10.0, size=1000)
    cases.append(regression_case("normal_noise_1000", y + rng.normal(0.0, 3.0, size=1000), y))

    y = rng.normal(20.0, 5.0, size=500)
    cases.append(
        regression_case("under_predicting_bias", y - 2.0 + rng.normal(0.0, 1.0, size=500), y)
    )

    y = rng.poisson(2.0, size=600).astype(float)  # many zeros
    cases.append(
        regression_case("counts_with_zeros_in_y", y + rng.normal(0.0, 1.0, size=600), y)
    )

    y = np.zeros(100)
    cases.append(regression_case("all_zero_y_no_mape", rng.normal(0.0, 0.5, size=100), y))

    y = np.full(200, 3.5)
    cases.append(regression_case("constant_y_imperfect", y + rng.normal(0.0, 0.2, size=200), y))
    cases.append(regression_case("constant_y_perfect", y, y))

    y = rng.normal(0.0, 100.0, size=300)
    cases.append(regression_case("perfect_predictions", y, y))

    cases.append(regression_case("single_row", [2.5], [3.0]))
    cases.append(regression_case("two_rows", [1.0, 4.0], [2.0, 3.5]))

    y = 1e9 + rng.normal(0.0, 5e3, size=400)
    cases.append(
        regression_case("large_values_1e9", y + rng.normal(0.0, 1e3, size=400), y, decimals=2)
    )

    y = rng.normal(0.0, 1e-6, size=300)
    cases.append(
        regression_case(
            "tiny_values_1e-6", y + rng.normal(0.0, 2e-7, size=300), y, decimals=12
        )
    )

    y = rng.normal(-5.0, 3.0, size=400)
    cases.append(
        regression_case("negative_targets", y + rng.standard_t(2.0, size=400) * 2.0, y)
    )

    y = rng.normal(10.0, 2.0, size=300)
    cases.append(
        regression_case("anti_correlated_negative_r2", 20.0 - y + rng.normal(0.0, 1.0, size=300), y)
    )

    y = rng.normal(5.0, 1.0, size=200)
    y_hat = y + rng.normal(0.0, 0.5, size=200)
    y[rng.random(200) < 0.1] = np.nan
    y_hat[rng.random(200) < 0.1] = np.nan
    cases.append(regression_case("nan_rows_skipped", y_hat, y))
    return cases


def build():
    return {
        "generator": "tools/golden/gen_quality.py",
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "classification_cases": classification_cases(),
        "regression_cases": regression_cases(),
    }


def main():
    write_or_check(OUT, build, __doc__.splitlines()[0])


if __name__ == "__main__":
    main()
