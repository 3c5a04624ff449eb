#!/usr/bin/env python3
"""Generate tests/golden/ks.json: SciPy reference values for src/stats/ks.rs.

Run from the repository root:

    python3 tools/golden/gen_ks.py            # writes tests/golden/ks.json
    python3 tools/golden/gen_ks.py --check    # regenerates in memory, diffs, exits 1 on change

Generated with Python 3.11, SciPy 1.17.1 and NumPy 2.4.6 (`pip install scipy numpy`). The
output is deterministic: every sample comes from a seeded `numpy.random.default_rng`
or is a fixed grid. The versions actually used are recorded in the JSON.

Every expected value comes from the public `scipy.stats.ks_2samp(x, y, method="auto",
alternative="two-sided")` applied to real samples; nothing is recomputed here except
the `region` label, which names the branch SciPy takes so that coverage is visible.

Two kinds of cases:

* `sample_cases`: small and medium samples stored in full (sorted ascending) with the
  statistic and p-value, exercising `statistic`, `p_value` and `ks_2samp` end to end.
* `p_value_cases`: large samples (up to 2.5 million values) kept out of the file; only the
  sizes `n`, `m`, SciPy's statistic `d` and p-value are stored, for `p_value(d, n, m)`.
  The samples are evenly spaced grids, `(arange(n) + 0.5) / n` against
  `(arange(m) + 0.5) / m + shift`, so `d` lands close to `shift` in the region wanted
  (one case uses integer grids to hit an exact lattice value of `d`).
"""

import math
import pathlib
import warnings

import numpy as np
import scipy
from scipy import stats
from scipy.stats._stats_py import _compute_prob_outside_square

from golden_io import write_or_check

OUT = pathlib.Path(__file__).resolve().parents[2] / "tests" / "golden" / "ks.json"
MAX_EXACT_N = 10_000  # SciPy's MAX_AUTO_N


def scipy_ks(x, y):
    """Run ks_2samp; also report whether SciPy fell back from the exact method."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = stats.ks_2samp(x, y, method="auto", alternative="two-sided")
    fallback = any("Exact calculation unsuccessful" in str(w.message) for w in caught)
    return float(res.statistic), float(res.pvalue), fallback


def kolmogorov_region(d, big_n):
    """Name the branch of scipy.stats._ksstats._kolmogn (survival function) used."""
    t = big_n * d
    if d >= 1.0:
        return "d>=1"
    if t <= 0.5:
        return "t<=0.5"
    if t <= 1.0:
        return "ruben-gambino-low"
    if t >= big_n - 1:
        return "ruben-gambino-high"
    if d >= 0.5:
        return "smirnov(d>=0.5)"
    nx2 = t * d
    if big_n <= 140:
        if nx2 <= 0.754693:
            return "durbin(n<=140)"
        if nx2 <= 4:
            return "pomeranz"
        return "smirnov(n<=140)"
    if nx2 >= 370:
        return "zero(nx2>=370)"
    if nx2 >= 2.2:
        return "smirnov" + ("-approx" if big_n > 1_000_000 else "")
    if big_n <= 100_000 and big_n * d**1.5 <= 1.4:
        return "durbin"
    return "pelz-good"


def region(d, n, m):
    """Label which algorithm SciPy's ks_2samp uses for (d, n, m)."""
    if max(n, m) <= MAX_EXACT_N:
        lcm = n // math.gcd(n, m) * m
        h = int(np.round(d * lcm))
        if h == 0:
            return "exact:h=0"
        if n != m:
            return "exact:band"
        if 0 <= _compute_prob_outside_square(n, h) <= 1:
            return "exact:square"
        d = h / lcm
        prefix = "exact-fallback:"
    else:
        prefix = ""
    big, small = sorted([float(n), float(m)], reverse=True)
    big_n = int(np.round(big * small / (big + small)))
    return f"{prefix}kolmogorov(N={big_n}):{kolmogorov_region(d, big_n)}"


def sample_case(name, x, y, decimals=None):
    x = np.sort(np.asarray(x, dtype=float))
    y = np.sort(np.asarray(y, dtype=float))
    if decimals is not None:
        # Short decimal text keeps the file small; the rounded values are the inputs.
        x, y = np.round(x, decimals), np.round(y, decimals)
    d, p, fallback = scipy_ks(x, y)
    return {
        "name": name,
        "region": region(d, len(x), len(y)),
        "fallback": fallback,
        "statistic": d,
        "p_value": p,
        "reference": x.tolist(),
        "current": y.tolist(),
    }


def grid_pair(n, m, shift, step):
    """Evenly spaced samples on [0, 1] (or integers when `step` is 1), the second shifted."""
    if step is None:
        return (np.arange(n) + 0.5) / n, (np.arange(m) + 0.5) / m + shift
    return np.arange(n) * step, np.arange(m) * step + shift


def p_value_case(name, n, m, shift, step=None):
    d, p, fallback = scipy_ks(*grid_pair(n, m, shift, step))
    return {
        "name": name,
        "region": region(d, n, m),
        "fallback": fallback,
        "n": n,
        "m": m,
        "d": d,
        "p_value": p,
    }


def sample_cases():
    rng = np.random.default_rng(20240611)
    cases = [
        sample_case("equal_50_shifted", rng.normal(0, 1, 50), rng.normal(0.5, 1, 50), 4),
        sample_case("equal_200_same_dist", rng.normal(0, 1, 200), rng.normal(0, 1, 200), 4),
        sample_case("unequal_gcd1_37_53", rng.normal(0, 1, 37), rng.normal(0.3, 1.2, 53), 4),
        sample_case(
            "unequal_gcd60_120_180", rng.exponential(1, 120), rng.exponential(1.3, 180), 4
        ),
        sample_case("n1_m1_distinct", [0.5], [1.5]),
        sample_case("n1_m1_equal", [1.0], [1.0]),
        sample_case("n1_m500", [0.25], rng.uniform(0, 1, 500), 4),
        sample_case("discrete_poisson_300_400", rng.poisson(3, 300), rng.poisson(3.4, 400)),
        # Heavy ties inside and across samples, including -0.0 against 0.0 (equal).
        sample_case(
            "ties_rounded_250_250",
            np.append(np.round(rng.normal(0, 1, 249), 1), -0.0),
            np.append(np.round(rng.normal(0.1, 1, 249), 1), 0.0),
        ),
        sample_case("identical_100", *(2 * [np.round(rng.normal(0, 1, 100), 4)])),
        sample_case("disjoint_30_40", rng.uniform(0, 1, 30), rng.uniform(2, 3, 40), 4),
        sample_case("disjoint_100_100", rng.uniform(0, 1, 100), rng.uniform(2, 3, 100), 4),
        sample_case("tiny_p_500_600", rng.normal(0, 1, 500), rng.normal(1.5, 1, 600), 4),
        sample_case("tiny_p_3000_2000", rng.normal(0, 1, 3000), rng.normal(0.6, 1, 2000), 4),
        # Interleaved samples: D = 1/n, where the exact equal-size sum overshoots 1.
        sample_case("fallback_interleaved_5_5", np.arange(5) * 2.0, np.arange(5) * 2.0 + 1),
        sample_case(
            "fallback_interleaved_1000_1000", np.arange(1000) * 2.0, np.arange(1000) * 2.0 + 1
        ),
        # Asymptotic branch end to end: max(n, m) > 10_000, N = round(10001*20/10021) = 20.
        sample_case("asymptotic_10001_20", rng.normal(0, 1, 10001), rng.normal(0.4, 1, 20), 4),
    ]
    # A p-value near 0.05: the first seeded draw that lands in [0.045, 0.055].
    for seed in range(1000):
        r = np.random.default_rng(seed)
        case = sample_case("p_near_0.05_80_120", r.normal(0, 1, 80), r.normal(0.3, 1, 120), 4)
        if 0.045 <= case["p_value"] <= 0.055:
            cases.append(case)
            break
    return cases


def p_value_cases():
    cases = []
    # Exact branch at and near the 10_000 limit.
    for shift in [0.0192, 0.05, 0.1]:
        cases.append(p_value_case(f"exact_10000_10000_shift{shift}", 10000, 10000, shift))
    for shift in [0.0192, 0.05, 0.1]:
        cases.append(p_value_case(f"exact_10000_9999_shift{shift}", 10000, 9999, shift))
    cases.append(p_value_case("exact_5000_7500_shift0.03", 5000, 7500, 0.03))
    cases.append(p_value_case("exact_2_10000_shift0.4", 2, 10000, 0.4))
    # Integer grids offset by 24.5 give D = 25/10_000 exactly; at h = 25 the exact
    # equal-size sum overshoots 1 and SciPy falls back to the asymptotic branch.
    cases.append(p_value_case("fallback_10000_10000_h25", 10000, 10000, 24.5, step=1.0))
    # Asymptotic branch. N = round(n m / (n + m)); 10001/10001 gives 5000.5 -> 5000.
    plan = {
        (10001, 10001): [0.00005, 0.00013, 0.0019, 0.01, 0.03, 0.1, 0.25, 0.3, 0.6, 1.5],
        (50000, 50000): [0.0005, 0.005, 0.0099, 0.02],
        (100000, 100000): [0.0002, 0.0008, 0.003, 0.00608, 0.02, 0.08, 0.1],
        (250000, 250000): [0.001, 0.004, 0.01],
        (2500000, 2500000): [0.0005, 0.0015, 0.002],
        # Small N through very unequal sizes: the n <= 140 algorithms.
        (1, 20000): [0.1, 0.25],
        (20, 20000): [0.0, 0.03, 0.045, 0.15, 0.3, 0.445, 0.48, 0.6, 0.96],
        (100, 20000): [0.05, 0.1, 0.15, 0.3],
        (142, 20000): [0.05, 0.15, 0.3],
    }
    for (n, m), shifts in plan.items():
        for shift in shifts:
            cases.append(p_value_case(f"asymptotic_{n}_{m}_shift{shift}", n, m, shift))
    return cases


def build():
    return {
        "generator": "tools/golden/gen_ks.py",
        "scipy_version": scipy.__version__,
        "numpy_version": np.__version__,
        "sample_cases": sample_cases(),
        "p_value_cases": p_value_cases(),
    }


def main():
    write_or_check(OUT, build, __doc__.splitlines()[0])


if __name__ == "__main__":
    main()
