#!/usr/bin/env python3
"""Generate tests/golden/cbpe.json: NannyML reference values for src/labelled/estimate/.

Run from the repository root, with NannyML installed (the CI needs no Python):

    python3 -m venv /root/venv-cbpe && /root/venv-cbpe/bin/pip install nannyml==0.13.1
    /root/venv-cbpe/bin/python tools/golden/gen_cbpe.py          # writes tests/golden/cbpe.json
    /root/venv-cbpe/bin/python tools/golden/gen_cbpe.py --check  # diffs, exits 1 on change

Generated with Python 3.11, NannyML 0.13.1, scikit-learn 1.9.1, NumPy 2.4.6 and pandas 3.1.1;
the versions used are recorded in the JSON. Deterministic: samples come from a seeded
`numpy.random.default_rng`, NannyML's calibration check uses its fixed `random_state=42`.

* `isotonic_cases`: sklearn `IsotonicRegression(out_of_bounds="clip")` fitted on the rows
  (scores rounded to 2-6 decimals, so many ties) and evaluated at `at` (inside, between and
  outside the fitted range). driftscope's `Isotonic` must agree to 1e-12.
* `decision_cases`: driftscope's calibration rule (NannyML's `needs_calibration` with folds
  `i mod 10` instead of stratified shuffles, emulated below in `driftscope_needs_calibration`)
  next to NannyML's own answer; driftscope must return `expected`.
* `metric_cases`: NannyML's `estimate_accuracy`, `estimate_precision`, `estimate_recall`,
  `estimate_f1` and `estimate_roc_auc` on given predictions, calibrated probabilities and
  untied model scores; driftscope's `expected_quality` must agree to 1e-9, ROC AUC to 1e-7:
  NannyML rounds the cumulative expected counts of its ROC curve to 5 decimals, which moves
  the area by up to about 1e-8 here (7e-9 seen).
* `demo`: NannyML's `CBPE` fitted on `reference_data/employment_ma_2015.parquet` (target
  `employed`, `prediction`, `predicted_probability`) and estimated on
  `demo/production_2016_2018.parquet` in file order, chunked per survey year and in 2 000-row
  chunks (`chunk_size=2000`, what a 2 000-row count window sees), with the realised values
  from `demo/labels_2016_2018.parquet`. Each chunk is a row range of the analysis file.
  Tolerance: 1e-9 for accuracy, precision, recall and F1 (the same calibrator, sums in
  another order); 1e-7 for ROC AUC (NannyML's rounding, above). The demo's scores have many
  ties (15 645 distinct values in 30 000 rows), but tied scores get the same calibrated
  probability, so the curve is straight through a tie whichever order NannyML's `argsort`
  walks it in, and treating the tie as one step (driftscope) gives the same area.

Also prints the per-year table of estimated vs realised quality that README shows.
"""

import os
import pathlib
import warnings

os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"

import nannyml  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import sklearn  # noqa: E402
from nannyml.calibration import IsotonicCalibrator, needs_calibration  # noqa: E402
from nannyml.performance_estimation.confidence_based.metrics import (  # noqa: E402
    estimate_accuracy,
    estimate_f1,
    estimate_precision,
    estimate_recall,
    estimate_roc_auc,
)
from sklearn.isotonic import IsotonicRegression  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from golden_io import check_exact_json_float, write_or_check  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "golden" / "cbpe.json"
REFERENCE = "reference_data/employment_ma_2015.parquet"
ANALYSIS = "demo/production_2016_2018.parquet"
LABELS = "demo/labels_2016_2018.parquet"
METRICS = ["accuracy", "precision", "recall", "f1", "roc_auc"]
ROC_AUC_TOLERANCE = 1e-7
rng = np.random.default_rng(20261129)


def floats(values, decimals):
    out = []
    for value in np.round(np.asarray(values, dtype=np.float64), decimals):
        value = float(value) + 0.0
        check_exact_json_float(value)
        out.append(value)
    return out


def isotonic_case(name, scores, outcomes, at):
    fitted = IsotonicRegression(out_of_bounds="clip").fit(scores, outcomes)
    return {
        "name": name,
        "scores": list(map(float, scores)),
        "outcomes": list(map(float, outcomes)),
        "at": list(map(float, at)),
        "expected": [float(v) for v in fitted.predict(np.asarray(at))],
    }


def isotonic_cases():
    cases = []
    for name, n, decimals in [("continuous_300", 300, 6), ("ties_1000", 1000, 2), ("tiny_5", 5, 1)]:
        scores = np.asarray(floats(rng.random(n), decimals))
        outcomes = (rng.random(n) < scores ** 1.5).astype(float)
        at = floats(np.concatenate([rng.random(40) * 1.2 - 0.1, scores[:10], [0.0, 1.0]]), 6)
        cases.append(isotonic_case(name, scores, outcomes, at))
    cases.append(isotonic_case("decreasing_pools_to_one_block", [0.1, 0.2, 0.3, 0.4], [1, 1, 0, 0], [0.0, 0.25, 0.5]))
    cases.append(isotonic_case("one_score", [0.5, 0.5, 0.5], [1, 0, 0], [0.2, 0.5, 0.9]))
    return cases


def ece(probability, outcome, bin_count=10):
    """NannyML's expected calibration error, ties kept in input order (stable sort)."""
    n = len(probability)
    if n <= 2 * bin_count:
        bin_count = n // 2
    width = n // bin_count
    edges = list(range(0, n + 1, width))
    edges[-1] = n
    order = np.argsort(probability, kind="stable")
    probability, outcome = probability[order], outcome[order]
    return sum((r - l) / n * abs(probability[l:r].mean() - outcome[l:r].mean()) for l, r in zip(edges, edges[1:]))


def driftscope_needs_calibration(scores, outcomes):
    """NannyML's rule with row i held out in fold i mod 10 (see the module docstring)."""
    scores, outcomes = np.asarray(scores, dtype=float), np.asarray(outcomes, dtype=float)
    if len(set(outcomes.tolist())) < 2 or roc_auc_score(outcomes, scores) > 0.999:
        return False
    index = np.arange(len(scores))
    before, after, truth = [], [], []
    for fold in range(10):
        held = index % 10 == fold
        fitted = IsotonicRegression(out_of_bounds="clip").fit(scores[~held], outcomes[~held])
        before.append(scores[held])
        after.append(fitted.predict(scores[held]))
        truth.append(outcomes[held])
    truth = np.concatenate(truth)
    return bool(ece(np.concatenate(after), truth) < ece(np.concatenate(before), truth))


def decision_case(name, scores, outcomes):
    scores = np.asarray(floats(scores, 6))
    outcomes = np.asarray(outcomes, dtype=float)
    return {
        "name": name,
        "scores": scores.tolist(),
        "outcomes": outcomes.tolist(),
        "nannyml": bool(needs_calibration(outcomes.astype(int), scores, IsotonicCalibrator())),
        "expected": driftscope_needs_calibration(scores, outcomes),
    }


def decision_cases():
    p = rng.random(2000)
    calibrated = (rng.random(2000) < p).astype(float)
    squashed = 0.5 + (p - 0.5) * 0.4  # right ranking, far too timid probabilities
    return [
        decision_case("calibrated_2000", p, calibrated),
        decision_case("underconfident_2000", squashed, calibrated),
        decision_case("perfect_ranking", p, (p > 0.5).astype(float)),
        decision_case("one_class", p[:100], np.ones(100)),
    ]


def metric_case(name, n, positive_rate):
    calibrated = np.asarray(floats(rng.beta(2, 2, n) if positive_rate is None else np.full(n, positive_rate), 6))
    scores = np.asarray(floats(rng.permutation(n) / n + 1e-7, 7))  # distinct: no ties
    predicted = (rng.random(n) < 0.5).astype(int)
    expected = {
        "accuracy": estimate_accuracy(predicted, calibrated),
        "precision": estimate_precision(predicted, calibrated),
        "recall": estimate_recall(predicted, calibrated),
        "f1": estimate_f1(predicted, calibrated),
    }
    if 0 < calibrated.sum() < n:
        expected["roc_auc"] = estimate_roc_auc(calibrated, scores)
    return {
        "name": name,
        "predicted_positive": [bool(v) for v in predicted],
        "probability": calibrated.tolist(),
        "scores": scores.tolist(),
        "expected": {k: float(v) for k, v in expected.items()},
    }


def metric_cases():
    return [
        metric_case("beta_500", 500, None),
        metric_case("beta_20", 20, None),
        metric_case("all_negative", 50, 0.0),
    ]


def demo():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = pd.read_parquet(ROOT / REFERENCE)
        analysis = pd.read_parquet(ROOT / ANALYSIS).merge(pd.read_parquet(ROOT / LABELS), on="id", how="left")
        assert analysis["year"].is_monotonic_increasing
        chunkings = {
            "year": dict(timestamp_column_name="timestamp", chunk_period="Y"),
            "rows_2000": dict(chunk_size=2000),
        }
        for frame in (reference, analysis):
            frame["timestamp"] = pd.to_datetime(frame["year"].astype(str) + "-07-01")
        out = {"reference": REFERENCE, "analysis": ANALYSIS, "labels": LABELS, "chunks": []}
        for chunking, kwargs in chunkings.items():
            cbpe = nannyml.CBPE(
                y_pred_proba="predicted_probability",
                y_pred="prediction",
                y_true="employed",
                problem_type="classification_binary",
                metrics=METRICS,
                **kwargs,
            )
            cbpe.fit(reference.copy())
            out["nannyml_calibrates"] = bool(cbpe.needs_calibration)
            result = cbpe.estimate(analysis.copy()).filter(period="analysis").to_df()
            for _, row in result.iterrows():
                out["chunks"].append(
                    {
                        "chunking": chunking,
                        "key": str(row[("chunk", "key")]),
                        "start": int(row[("chunk", "start_index")]),
                        "end": int(row[("chunk", "end_index")]) + 1,
                        "estimated": {m: float(row[(m, "value")]) for m in METRICS},
                        "realised": {m: float(row[(m, "realized")]) for m in METRICS},
                    }
                )
    out["driftscope_calibrates"] = driftscope_needs_calibration(
        reference["predicted_probability"], reference["employed"]
    )
    assert out["driftscope_calibrates"] == out["nannyml_calibrates"]
    return out


def build():
    return {
        "generator": "tools/golden/gen_cbpe.py",
        "nannyml_version": nannyml.__version__,
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "pandas_version": pd.__version__,
        "tolerance": 1e-9,
        "metric_roc_auc_tolerance": 1e-7,
        "roc_auc_tolerance": ROC_AUC_TOLERANCE,
        "isotonic_cases": isotonic_cases(),
        "decision_cases": decision_cases(),
        "metric_cases": metric_cases(),
        "demo": demo(),
    }


def print_years(doc):
    print("| year | rows | estimated accuracy | realised accuracy | estimated ROC AUC | realised ROC AUC |")
    print("|---|---|---|---|---|---|")
    for chunk in doc["demo"]["chunks"]:
        if chunk["chunking"] == "year":
            e, r = chunk["estimated"], chunk["realised"]
            print(
                f"| {chunk['key']} | {chunk['end'] - chunk['start']} | {e['accuracy']:.3f} | {r['accuracy']:.3f}"
                f" | {e['roc_auc']:.3f} | {r['roc_auc']:.3f} |"
            )


def main():
    cache = {}

    def built():
        cache["doc"] = cache.get("doc") or build()
        return cache["doc"]

    write_or_check(OUT, built, __doc__.splitlines()[0])
    print_years(built())


if __name__ == "__main__":
    main()
