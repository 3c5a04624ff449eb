#!/usr/bin/env python3
"""Writes the synthetic benchmark of README "Alarm policy" into a directory: 12 000-row
reference CSVs with 7 features (5 numerical + 2 categorical) and 20 features (15 + 5), and for
each three configs over the same reference and 1 000-row windows: the default policy
(`calibrated`), `policy: evidently`, and uncorrected p-values: the default tests (KS,
chi-square) with `correction: none` and `min_effect: 0` on every feature, i.e. each feature
flagged at p < 0.05. Then run, for each config:

    python3 tools/calibration_benchmark.py /tmp/bench
    driftscope calibrate --config /tmp/bench/f20-calibrated.yaml --windows 1000 --seed 1 --format json

Numerical features are normal, log-normal and uniform in turn; categorical features have 12
categories with Zipf(1.1) shares. Seeded (random.Random(2026)); standard library only.

12 000 rows, not 10 000: `calibrate` compares each window with the reference without its rows,
so the comparison reference has 11 000 rows and KS takes scipy's asymptotic branch (> 10 000),
which runs 1 000 windows in about a minute even in the dev profile; with 9 000 rows the exact
branch needs an optimised build. The windows are 1 000 rows either way.
"""

import random
import sys
from pathlib import Path

ROWS = 12_000
SHARES = [1 / k**1.1 for k in range(1, 13)]
POLICIES = {
    "calibrated": "",
    "evidently": "    policy: evidently\n",
    "uncorrected": "    correction: none\n",
}


def feature_list(names, policy):
    """Column names, or tables switching the effect floor off for uncorrected p-values."""
    if policy == "uncorrected":
        return ", ".join(f"{{name: {n}, min_effect: 0}}" for n in names)
    return ", ".join(names)


def write(out: Path, numeric: int, categorical: int, rng: random.Random) -> None:
    name = f"f{numeric + categorical}"
    columns = [f"x{j}" for j in range(numeric)] + [f"c{j}" for j in range(categorical)]
    lines = [",".join(columns)]
    categories = [f"k{k}" for k in range(12)]
    for _ in range(ROWS):
        row = []
        for j in range(numeric):
            if j % 3 == 0:
                row.append(f"{rng.gauss(10.0, 2.0):.6f}")
            elif j % 3 == 1:
                row.append(f"{rng.lognormvariate(0.0, 0.5):.6f}")
            else:
                row.append(f"{rng.uniform(0.0, 100.0):.6f}")
        row += rng.choices(categories, weights=SHARES, k=categorical)
        lines.append(",".join(row))
    (out / f"{name}.csv").write_text("\n".join(lines) + "\n")
    for policy, extra in POLICIES.items():
        (out / f"{name}-{policy}.yaml").write_text(
            "monitors:\n"
            f"  - name: {name}-{policy}\n"
            f"    reference: {name}.csv\n"
            "    features:\n"
            f"      numerical: [{feature_list(columns[:numeric], policy)}]\n"
            f"      categorical: [{feature_list(columns[numeric:], policy)}]\n"
            "    window: {rows: 1000}\n" + extra
        )


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "calibration-benchmark")
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(2026)
    write(out, 5, 2, rng)
    write(out, 15, 5, rng)
    print(f"wrote {out}/f7*.yaml and {out}/f20*.yaml")


if __name__ == "__main__":
    main()
