#!/usr/bin/env python3
"""Generate tests/golden/multipletests.json: statsmodels reference values for
src/stats/multipletests.rs (family-wise / false-discovery-rate p-value adjustment).

Run from the repository root:

    python3 tools/golden/gen_multipletests.py            # writes tests/golden/multipletests.json
    python3 tools/golden/gen_multipletests.py --check    # regenerates in memory, exits 1 on change

Every expected value is `statsmodels.stats.multitest.multipletests(p, alpha=0.05,
method=m)[1]` (the adjusted p-values) for m in holm, bonferroni and fdr_bh, applied to
seeded p-value vectors (uniform, with small p-values mixed in, ties, exact 0 and 1, one
element). The versions used are recorded in the JSON. Inputs are rounded to 12 significant
digits so serde_json parses them exactly (`check_exact_json_float`).
"""

import pathlib
import sys

import numpy as np
import statsmodels
from statsmodels.stats.multitest import multipletests

from golden_io import check_exact_json_float, write_or_check

OUT = pathlib.Path(__file__).resolve().parents[2] / "tests" / "golden" / "multipletests.json"
SEED = 20261129
METHODS = {"holm": "holm", "bonferroni": "bonferroni", "bh": "fdr_bh"}


def exact(values):
    out = []
    for v in values:
        v = float(f"{float(v):.12g}")
        check_exact_json_float(v)
        out.append(v)
    return out


def vectors():
    rng = np.random.default_rng(SEED)
    cases = [
        [0.03],
        [0.01, 0.04],
        [0.2, 0.01, 0.01, 0.5, 1.0],
        [0.0, 0.001, 0.049, 0.05, 0.051],
        [0.02] * 7,
    ]
    for m in (2, 3, 5, 7, 7, 12, 20, 20, 20, 50):
        p = rng.uniform(size=m)
        # Some strong signals, as in a drifted window.
        strong = rng.uniform(size=m) < 0.3
        p[strong] = p[strong] * 10.0 ** -rng.integers(1, 8, size=strong.sum())
        cases.append(list(p))
    return [exact(c) for c in cases]


def build():
    cases = []
    for p in vectors():
        case = {"p": p}
        for key, method in METHODS.items():
            adjusted = multipletests(np.array(p), alpha=0.05, method=method)[1]
            case[key] = [float(a) for a in adjusted]
        cases.append(case)
    return {
        "generator": "tools/golden/gen_multipletests.py",
        "versions": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "statsmodels": statsmodels.__version__,
        },
        "cases": cases,
    }


if __name__ == "__main__":
    write_or_check(OUT, build, __doc__.splitlines()[0])
