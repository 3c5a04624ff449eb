#!/usr/bin/env python3
"""Golden values for the rest of Evidently's drift-test catalogue (src/stats/anderson.rs,
cramer_von_mises.rs, mannw.rs, t_test.rs, energy.rs, epps_singleton.rs, g_test.rs,
fisher_exact.rs, hellinger.rs, kl_div.rs, tvd.rs), from scipy/numpy.

Run from the repository root (`--check` fails if the committed file is stale):

    ~/venv-golden/bin/python tools/golden/gen_catalogue.py

Deterministic (seeded numpy Generator); the versions used are recorded in "generator". The
committed file was produced with Python 3.11, numpy 2.4.6 and scipy 1.17.1.

Reference implementations:
  * anderson: scipy.stats.anderson_ksamp([ref, cur], variant="midrank") (p-value capped to
    [0.001, 0.25] by scipy);
  * cramer_von_mises: scipy.stats.cramervonmises_2samp(ref, cur) (method="auto");
  * mannw: scipy.stats.mannwhitneyu(ref, cur, alternative="two-sided") (method="auto");
  * t_test: scipy.stats.ttest_ind(ref, cur, equal_var=False);
  * ed: scipy.stats.energy_distance(ref, cur);
  * es: scipy.stats.epps_singleton_2samp(ref, cur);
  * g_test: scipy.stats.chi2_contingency(table, correction=False, lambda_="log-likelihood") on
    the 2 x k table with all-zero columns dropped (numeric columns: one column per distinct
    value, as driftscope's count tests on numbers);
  * fisher_exact: scipy.stats.fisher_exact(table) two-sided;
  * hellinger, kl_div, tvd: numpy on the counts (numeric columns: the reference's quantile bins,
    as gen_stats.py); kl_div fills a zero share with 0.0001 on each side, then
    scipy.stats.entropy renormalises.

Where scipy raises or returns NaN, the case records {"not_computable": "<what scipy did>"} and
driftscope must report the test as not computable. Non-finite values (the "nonfinite" list of a
case) are dropped before scipy sees the sample, as driftscope's window path does; the Rust test
feeds them to ColumnCheck::evaluate and expects the same result.
"""

import math
import pathlib
import platform
import sys
import warnings

import numpy as np
import scipy
import scipy.stats

from golden_io import check_exact_json_float, write_or_check

SEED = 20261129
BINS = 10
OUT = pathlib.Path(__file__).resolve().parents[2] / "tests" / "golden" / "catalogue.json"


def quantised(values, decimals=6):
    """Round to `decimals` places so the JSON text round-trips exactly."""
    values = np.round(np.asarray(values, dtype=np.float64), decimals)
    values[values == 0.0] = 0.0
    for value in values:
        check_exact_json_float(value)
    return values


def outcome(call, p_only=False):
    """{"statistic", "p_value"} of a scipy test, or {"not_computable"} when it raises or gives a
    non-finite number; `p_only`: only the p-value counts (Fisher's odds ratio may be inf)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = call()
        except Exception as error:  # noqa: BLE001 - the golden records what scipy did
            return {"not_computable": f"{type(error).__name__}: {error}"}
    statistic, p_value = float(result.statistic), float(result.pvalue)
    if p_only:
        return {"p_value": p_value} if math.isfinite(p_value) else {"not_computable": f"p-value {p_value}"}
    if not (math.isfinite(statistic) and math.isfinite(p_value)):
        return {"not_computable": f"scipy returned statistic {statistic}, p-value {p_value}"}
    return {"statistic": statistic, "p_value": p_value}


def quantile_edges(reference, bins):
    """numpy.quantile inner edges at i/bins with consecutive duplicates merged (gen_stats.py)."""
    raw = np.quantile(reference, np.arange(1, bins) / bins)
    edges = [raw[0]]
    for edge in raw[1:]:
        if edge != edges[-1]:
            edges.append(edge)
    return np.array(edges)


def bin_counts(edges, values):
    """Counts for (-inf, e1], (e1, e2], ..., (e_last, inf)."""
    index = np.searchsorted(edges, values, side="left")
    return [int(c) for c in np.bincount(index, minlength=len(edges) + 1)]


def shares(counts):
    counts = np.asarray(counts, dtype=np.float64)
    return counts / counts.sum()


def hellinger(ref, cur):
    return float(np.sqrt(np.sum((np.sqrt(shares(ref)) - np.sqrt(shares(cur))) ** 2)) / np.sqrt(2))


def kl_div(ref, cur):
    p, q = shares(ref), shares(cur)
    p[p == 0] = 0.0001
    q[q == 0] = 0.0001
    return float(scipy.stats.entropy(p, q))


def tvd(ref, cur):
    return float(0.5 * np.sum(np.abs(shares(ref) - shares(cur))))


def g_test(ref, cur):
    table = np.array([ref, cur], dtype=np.int64)
    table = table[:, table.sum(axis=0) > 0]
    result = outcome(lambda: scipy.stats.chi2_contingency(table, correction=False, lambda_="log-likelihood"))
    if table.shape[1] >= 2:
        dof = int(scipy.stats.chi2_contingency(table, correction=False, lambda_="log-likelihood").dof)
        assert dof == table.shape[1] - 1
    return result


def epps_singleton(reference, current):
    """scipy's Epps-Singleton, except when each side is constant: the covariance is then 0 up to
    rounding, and scipy inverts the noise into W ~ 1e33; driftscope reports "not computable"
    (a deliberate difference, recorded here as such)."""
    if len(reference) >= 5 and len(current) >= 5 and np.ptp(reference) == 0 and np.ptp(current) == 0:
        if reference[0] != current[0]:
            return {"not_computable": "each side constant: zero covariance (scipy: W from rounding noise)"}
    return outcome(lambda: scipy.stats.epps_singleton_2samp(reference, current))


def count_tests(ref, cur):
    ref, cur = [int(c) for c in ref], [int(c) for c in cur]
    return {
        "reference_counts": ref,
        "current_counts": cur,
        "g_test": g_test(ref, cur),
        "hellinger": hellinger(ref, cur),
        "kl_div": kl_div(ref, cur),
        "tvd": tvd(ref, cur),
    }


def fisher(table):
    return {"table": table, **outcome(lambda: scipy.stats.fisher_exact(table), p_only=True)}


def numeric_case(name, reference, current, nonfinite=()):
    reference, current = quantised(reference), quantised(current)
    values = np.unique(np.concatenate((reference, current)))
    distinct = {
        "reference": [int(np.sum(reference == v)) for v in values],
        "current": [int(np.sum(current == v)) for v in values],
    }
    case = {
        "name": name,
        "reference": reference.tolist(),
        "current": current.tolist(),
        "nonfinite": list(nonfinite),
        "anderson": outcome(lambda: scipy.stats.anderson_ksamp([reference, current], variant="midrank")),
        "cramer_von_mises": outcome(lambda: scipy.stats.cramervonmises_2samp(reference, current)),
        "mannw": outcome(lambda: scipy.stats.mannwhitneyu(reference, current, alternative="two-sided")),
        "t_test": outcome(lambda: scipy.stats.ttest_ind(reference, current, equal_var=False)),
        "ed": float(scipy.stats.energy_distance(reference, current)),
        "es": epps_singleton(reference, current),
        "g_test": g_test(distinct["reference"], distinct["current"]),
    }
    edges = quantile_edges(reference, BINS)
    case["binned"] = count_tests(bin_counts(edges, reference), bin_counts(edges, current))
    if len(np.unique(reference)) <= 2:
        # The two-proportion tests compare the share of the reference's smallest value.
        low = reference.min()
        a, c = int(np.sum(reference == low)), int(np.sum(current == low))
        case["fisher_exact"] = fisher([[a, len(reference) - a], [c, len(current) - c]])
    return case


def numeric_cases(rng):
    normal = rng.normal(0.0, 1.0, 1000)
    return [
        numeric_case("normal_vs_shifted", normal, rng.normal(0.4, 1.0, 600)),
        numeric_case("normal_vs_same", normal, rng.normal(0.0, 1.0, 800)),
        numeric_case("normal_vs_wider", normal, rng.normal(0.0, 1.6, 500)),
        numeric_case("heavy_tail_t2", rng.standard_t(2, 700), rng.standard_t(2, 400) + 0.2),
        numeric_case("integer_ties", rng.integers(0, 5, 300), rng.integers(0, 6, 200)),
        numeric_case("binary_numbers", rng.integers(0, 2, 400), (rng.uniform(size=300) < 0.6).astype(float)),
        numeric_case("constant_both", np.full(50, 3.0), np.full(40, 3.0)),
        numeric_case("constant_reference", np.full(60, 3.0), rng.normal(3.0, 1.0, 30)),
        numeric_case("constant_sides_apart", np.full(20, 1.0), np.full(30, 2.0)),
        numeric_case("zero_iqr_not_constant", np.concatenate((np.zeros(90), np.ones(5))), np.concatenate((np.zeros(45), [1.0, 2.0]))),
        numeric_case("tiny_1_vs_1", [0.5], [1.5]),
        numeric_case("tiny_1_vs_2", [0.5], [1.5, 2.5]),
        numeric_case("tiny_2_vs_2", [0.5, 0.7], [1.5, 1.1]),
        numeric_case("tiny_1_vs_6", [0.5], rng.normal(0.0, 1.0, 6)),
        numeric_case("tiny_2_vs_3_tied", [1.0, 2.0], [2.0, 2.0, 3.0]),
        numeric_case("exact_3_vs_4", [0.1, 0.9, 0.35], [1.2, 0.5, 2.0, 0.8]),
        numeric_case("exact_5_vs_6", rng.normal(0, 1, 5), rng.normal(1, 1, 6)),
        numeric_case("exact_10_vs_15", rng.normal(0, 1, 10), rng.normal(0.8, 1, 15)),
        numeric_case("exact_20_vs_20", rng.normal(0, 1, 20), rng.normal(0.5, 1.5, 20)),
        numeric_case("exact_ties_8_vs_12", rng.integers(0, 4, 8), rng.integers(1, 5, 12)),
        numeric_case("asymptotic_21_vs_20", rng.normal(0, 1, 21), rng.normal(0.7, 1, 20)),
        numeric_case("small_24_vs_30", rng.normal(0, 1, 24), rng.normal(0.5, 1, 30)),
        numeric_case("mannw_exact_8_vs_300", rng.normal(0, 1, 8), rng.normal(0.5, 1, 300)),
        numeric_case("sizes_5_vs_5000", rng.normal(0, 1, 5), rng.normal(0.3, 1, 5000)),
        numeric_case("sizes_5000_vs_5", rng.normal(0, 1, 5000), rng.normal(1.5, 1, 5)),
        numeric_case("far_apart", rng.normal(0, 1, 300), rng.normal(8, 1, 200)),
        numeric_case(
            "nan_and_inf_dropped", normal[:400], rng.normal(0.2, 1.0, 300), nonfinite=["nan", "inf", "-inf", "nan"]
        ),
    ]


def categorical_cases():
    return [
        {"name": name, **count_tests(ref, cur)}
        for name, ref, cur in [
            ("equal_shares", [100, 200, 300], [50, 100, 150]),
            ("mild_shift", [500, 300, 200], [230, 160, 110]),
            ("unseen_in_reference", [500, 300, 200, 0], [40, 30, 20, 10]),
            ("missing_from_window", [500, 300, 200, 100], [60, 40, 0, 0]),
            ("seen_on_neither_side", [10, 0, 5, 0], [3, 0, 7, 0]),
            ("two_categories", [30, 70], [45, 55]),
            ("single_category", [10, 0], [5, 0]),
            ("disjoint", [10, 0], [0, 10]),
            ("tiny_counts", [1, 0, 2], [0, 3, 1]),
            ("different_sizes", [5000, 3000, 2000], [3, 1, 1]),
            ("large_100k", [40000, 35000, 25000], [40500, 34000, 25500]),
        ]
    ]


def fisher_tables():
    return [
        fisher(table)
        for table in [
            [[3, 1], [1, 3]],
            [[8, 2], [1, 5]],
            [[0, 10], [10, 0]],
            [[0, 5], [0, 7]],
            [[5, 0], [3, 0]],
            [[1, 0], [0, 1]],
            [[500, 500], [450, 550]],
            [[2, 998], [10, 990]],
            [[50000, 50000], [50400, 49600]],
            [[50000, 50000], [51000, 49000]],
            [[99990, 10], [99970, 30]],
            [[1, 99999], [0, 100000]],
        ]
    ]


def build():
    rng = np.random.default_rng(SEED)
    return {
        "generator": {
            "script": "tools/golden/gen_catalogue.py",
            "seed": SEED,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
        },
        "bins": BINS,
        "numeric": numeric_cases(rng),
        "categorical": categorical_cases(),
        "fisher": fisher_tables(),
    }


if __name__ == "__main__":
    sys.path.insert(0, str(pathlib.Path(__file__).parent))
    write_or_check(OUT, build, __doc__.splitlines()[0])
