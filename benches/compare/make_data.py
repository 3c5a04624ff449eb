#!/usr/bin/env python3
"""Writes the comparison's data and driftscope config into DIR (seeded, deterministic).

    python3 benches/compare/make_data.py DIR [--rows 100000]

reference.parquet and current.parquet: ROWS rows of 20 features, f00..f14 numeric (standard
normal; the current file's are shifted by 0.02 standard deviations) and c15..c19 categorical
(12 equally likely string categories). monitors.yaml tests every numeric column with KS and
every categorical one with chi-square, with `policy: evidently` (no correction), so both tools
run the same 15 KS + 5 chi-square tests.
"""

import argparse
import pathlib

import numpy as np
import pandas as pd

NUMERIC, CATEGORICAL, CATEGORIES = 15, 5, 12


def frame(rng: np.random.Generator, rows: int, shift: float) -> pd.DataFrame:
    columns = {f"f{i:02}": rng.normal(shift, 1.0, rows) for i in range(NUMERIC)}
    for i in range(NUMERIC, NUMERIC + CATEGORICAL):
        codes = rng.integers(0, CATEGORIES, rows)
        columns[f"c{i:02}"] = np.array([f"cat{c:02}" for c in range(CATEGORIES)])[codes]
    return pd.DataFrame(columns)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dir", type=pathlib.Path)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261129)
    frame(rng, args.rows, 0.0).to_parquet(args.dir / "reference.parquet", index=False)
    frame(rng, args.rows, 0.02).to_parquet(args.dir / "current.parquet", index=False)
    numerical = "\n".join(f"        - {{name: f{i:02}, test: ks}}" for i in range(NUMERIC))
    categorical = "\n".join(
        f"        - {{name: c{i:02}, test: chisquare}}"
        for i in range(NUMERIC, NUMERIC + CATEGORICAL)
    )
    (args.dir / "monitors.yaml").write_text(
        f"""monitors:
  - name: compare
    reference: reference.parquet
    policy: evidently
    window: {{rows: {args.rows}}}
    features:
      numerical:
{numerical}
      categorical:
{categorical}
"""
    )


if __name__ == "__main__":
    main()
