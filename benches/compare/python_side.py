#!/usr/bin/env python3
"""Evidently's and scipy's side of the comparison (`benches/compare/run.sh`).

    python benches/compare/python_side.py DIR [--repeat N]

Prints one JSON object with the median of N runs of each stage:
  * evidently_report_seconds: Evidently's `Report([DataDriftPreset(num_method="ks",
    cat_method="chisquare")])` on the two in-memory DataFrames (the same 15 KS + 5 chi-square
    tests driftscope runs), `Report.run` only;
  * evidently_end_to_end_seconds: reading both Parquet files with pandas plus the report;
  * scipy_tests_seconds: the bare tests with scipy on numpy arrays (`ks_2samp` per numeric
    column, `chi2_contingency` on the 2 x k table per categorical one): a lower bound for any
    Python tool, and the fairest "same work" baseline.
"""

import argparse
import json
import pathlib
import statistics
import time

import numpy as np
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset
from scipy import stats


def median_time(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dir", type=pathlib.Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    reference = pd.read_parquet(args.dir / "reference.parquet")
    current = pd.read_parquet(args.dir / "current.parquet")
    numeric = [c for c in reference.columns if c.startswith("f")]
    categorical = [c for c in reference.columns if c.startswith("c")]
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    drifted = {}

    def evidently_report(ref: pd.DataFrame, cur: pd.DataFrame) -> None:
        report = Report([DataDriftPreset(num_method="ks", cat_method="chisquare")])
        snapshot = report.run(
            Dataset.from_pandas(cur, data_definition=definition),
            Dataset.from_pandas(ref, data_definition=definition),
        )
        count = snapshot.dict()["metrics"][0]["value"]["count"]
        drifted["evidently"] = int(count)

    def evidently_end_to_end() -> None:
        evidently_report(
            pd.read_parquet(args.dir / "reference.parquet"),
            pd.read_parquet(args.dir / "current.parquet"),
        )

    ref_num = {c: reference[c].to_numpy() for c in numeric}
    cur_num = {c: current[c].to_numpy() for c in numeric}

    def scipy_tests() -> None:
        p_values = [stats.ks_2samp(ref_num[c], cur_num[c]).pvalue for c in numeric]
        for c in categorical:
            table = pd.crosstab(
                np.r_[np.zeros(len(reference)), np.ones(len(current))],
                np.r_[reference[c].to_numpy(), current[c].to_numpy()],
            ).to_numpy()
            p_values.append(stats.chi2_contingency(table, correction=False).pvalue)
        drifted["scipy"] = int(sum(p < 0.05 for p in p_values))

    result = {
        "evidently_report_seconds": median_time(
            lambda: evidently_report(reference, current), args.repeat
        ),
        "evidently_end_to_end_seconds": median_time(evidently_end_to_end, args.repeat),
        "scipy_tests_seconds": median_time(scipy_tests, max(args.repeat, 5)),
        "evidently_drifted_features": drifted["evidently"],
        "scipy_drifted_features": drifted["scipy"],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
