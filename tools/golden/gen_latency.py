#!/usr/bin/env python3
"""Generate tests/golden/latency.json: numpy reference values for src/engine/latency.rs.

Run from the repository root:

    python3 tools/golden/gen_latency.py            # writes tests/golden/latency.json
    python3 tools/golden/gen_latency.py --check    # regenerates in memory, diffs, exits 1 on change

Generated with Python 3.11 and NumPy 2.4.6. Deterministic: samples come from a seeded
`numpy.random.default_rng` or are written out by hand.

Each case is a window's latency column in its unit (`ms` or `s`; `null` = missing) and a slow
threshold in seconds. Expected values, over the non-missing values converted to seconds by
dividing by 1000 (ms) or 1 (s):

* `count`, `sum_seconds` (`numpy.sum`);
* `p50`, `p90`, `p99`: `numpy.quantile(seconds, q)` with numpy's default `method="linear"`
  (absent when no value is present);
* `buckets`: for every upper bound `le` of the histogram, `numpy.sum(seconds <= le)`, i.e.
  Prometheus' cumulative `_bucket{le=...}` counts;
* `slow`: `numpy.sum(seconds > slow_seconds)`.

The bucket bounds are stored once (`buckets`); the Rust test also checks that they equal the
exported histogram's bounds, so changing one without the other fails.
"""

import pathlib

import numpy as np

from golden_io import check_exact_json_float, write_or_check

OUT = pathlib.Path(__file__).resolve().parents[2] / "tests" / "golden" / "latency.json"
SEED = 20261129
BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0]
rng = np.random.default_rng(SEED)


def quantised(values, decimals):
    out = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        v = float(np.round(v, decimals)) + 0.0
        check_exact_json_float(v)
        out.append(v)
    return out


def case(name, unit, values, slow_seconds):
    present = np.array([v for v in values if v is not None], dtype=np.float64)
    seconds = present / (1000.0 if unit == "ms" else 1.0)
    expected = {
        "count": int(seconds.size),
        "sum_seconds": float(np.sum(seconds)),
        "buckets": [int(np.sum(seconds <= le)) for le in BUCKETS],
        "slow": int(np.sum(seconds > slow_seconds)),
    }
    if seconds.size:
        for key, q in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)]:
            expected[key] = float(np.quantile(seconds, q))
    return {
        "name": name,
        "unit": unit,
        "slow_seconds": slow_seconds,
        "values": values,
        "expected": expected,
    }


def build():
    lognormal_ms = quantised(rng.lognormal(np.log(80.0), 0.9, 500), 3)
    heavy_tail_s = quantised(np.concatenate([rng.lognormal(np.log(0.2), 0.5, 190),
                                             rng.uniform(8.0, 90.0, 10)]), 4)
    with_missing = quantised(rng.gamma(2.0, 30.0, 60), 2)
    for i in range(0, 60, 7):
        with_missing[i] = None
    cases = [
        case("lognormal_ms", "ms", lognormal_ms, 0.25),
        case("heavy_tail_seconds", "s", heavy_tail_s, 10.0),
        case("missing_values_ms", "ms", with_missing, 0.1),
        # Values exactly on bucket bounds and on the slow threshold: le is inclusive, slow is
        # strictly greater.
        case("on_bounds_ms", "ms", [5.0, 10.0, 25.0, 250.0, 1000.0, 10000.0, 10000.5, 60000.0,
                                    61000.0, 0.0], 10.0),
        case("ties_ms", "ms", [40.0] * 9 + [400.0], 10.0),
        case("single_value_s", "s", [3.5], 10.0),
        case("all_missing", "ms", [None, None, None], 10.0),
    ]
    return {
        "generator": f"numpy {np.__version__}",
        "buckets": BUCKETS,
        "cases": cases,
    }


if __name__ == "__main__":
    write_or_check(OUT, build, __doc__.splitlines()[0])
