#!/usr/bin/env python3
"""Golden values for driftscope's statistics (src/stats/*.rs), from numpy/scipy.

Run from the repository root:

    python3 tools/golden/gen_stats.py > tests/golden/stats.json

The output is deterministic (seeded numpy Generator). The committed file was
produced with Python 3.11, numpy 2.4.6 and scipy 1.17.1; the versions used are
also recorded in the file's "generator" field.

What is computed, with numpy/scipy as the reference implementation:
  * numeric cases: numpy.quantile edges at i/bins (duplicates merged), bin
    counts for the bins (-inf, e1], (e1, e2], ..., (e_last, inf) via
    numpy.searchsorted(edges, x, side="left"), scipy.stats.wasserstein_distance,
    numpy.std (ddof=0) and Evidently's normed Wasserstein distance;
  * count cases (categorical counts, plus the binned numeric cases): PSI with
    the 0.0001 fill (numpy), scipy.spatial.distance.jensenshannon and
    scipy.stats.chi2_contingency(correction=False) on the 2 x k table with
    all-zero columns dropped;
  * z cases: the pooled two-proportion z-test with scipy.stats.norm.sf.

Exactness: the Rust tests compare edges bit for bit and counts exactly, so
every input sample value is quantised to at most 15 significant digits; such a
JSON number is parsed exactly by serde_json (significand < 2^53, |exponent| <=
22) even without its `float_roundtrip` feature, which driftscope does not
enable. `check_exact_json_float` enforces this. Expected edges are
additionally stored as `f64::to_bits` integers (`edges_bits`), which need no
float parsing at all.
"""

import json
import math
import sys

import numpy as np
import scipy
import scipy.spatial.distance
import scipy.stats

from golden_io import check_exact_json_float

SEED = 20240611
rng = np.random.default_rng(SEED)


def quantised(values, decimals=6):
    """Round to `decimals` places so the JSON text round-trips exactly."""
    values = np.round(np.asarray(values, dtype=np.float64), decimals)
    values[values == 0.0] = 0.0  # no "-0.0" in the file
    for value in values:
        check_exact_json_float(value)
    return values


def bits(value):
    """The IEEE-754 bit pattern of a float, as Rust's f64::to_bits gives it."""
    return int(np.float64(value).view(np.uint64))


def quantile_edges(reference, bins):
    """numpy.quantile inner edges at i/bins with consecutive duplicates merged."""
    if len(reference) == 0 or bins < 2:
        return np.array([], dtype=np.float64)
    raw = np.quantile(reference, np.arange(1, bins) / bins)
    edges = [raw[0]]
    for edge in raw[1:]:
        if edge != edges[-1]:
            edges.append(edge)
    return np.array(edges, dtype=np.float64)


def bin_counts(edges, values):
    """Counts for (-inf, e1], (e1, e2], ...: searchsorted side="left"."""
    index = np.searchsorted(edges, values, side="left")
    counts = np.bincount(index, minlength=len(edges) + 1)
    # Cross-check the bin scheme directly: x is in bin k iff e_{k-1} < x <= e_k.
    lower = np.concatenate(([-np.inf], edges))
    upper = np.concatenate((edges, [np.inf]))
    for x, k in zip(values, index):
        assert lower[k] < x <= upper[k], (x, k)
    assert counts.sum() == len(values)
    return [int(c) for c in counts]


def psi(reference_counts, current_counts):
    ref = np.asarray(reference_counts, dtype=np.float64)
    cur = np.asarray(current_counts, dtype=np.float64)
    if ref.sum() == 0 or cur.sum() == 0:
        return 0.0
    p_ref = ref / ref.sum()
    p_cur = cur / cur.sum()
    p_ref[p_ref == 0] = 0.0001
    p_cur[p_cur == 0] = 0.0001
    return float(np.sum((p_cur - p_ref) * np.log(p_cur / p_ref)))


def chi_square(reference_counts, current_counts):
    table = np.array([reference_counts, current_counts], dtype=np.int64)
    table = table[:, table.sum(axis=0) > 0]
    if (table.sum(axis=1) == 0).any():
        return 0.0, 1.0, 0  # driftscope's convention; scipy raises
    result = scipy.stats.chi2_contingency(table, correction=False)
    dof = int(result.dof)
    assert dof == table.shape[1] - 1
    # No Yates correction even for dof 1: recompute the plain Pearson sum.
    observed = table.astype(np.float64)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    pearson = ((observed - expected) ** 2 / expected).sum()
    assert math.isclose(result.statistic, pearson, rel_tol=1e-12, abs_tol=1e-12)
    return float(result.statistic), float(result.pvalue), dof


def count_case(name, reference_counts, current_counts):
    reference_counts = [int(c) for c in reference_counts]
    current_counts = [int(c) for c in current_counts]
    statistic, p_value, dof = chi_square(reference_counts, current_counts)
    return {
        "name": name,
        "reference_counts": reference_counts,
        "current_counts": current_counts,
        "psi": psi(reference_counts, current_counts),
        "jensenshannon": float(scipy.spatial.distance.jensenshannon(reference_counts, current_counts)),
        "chi2_statistic": statistic,
        "chi2_p_value": p_value,
        "chi2_dof": dof,
    }


def numeric_case(name, reference, current, bins):
    reference = quantised(reference)
    current = quantised(current)
    edges = quantile_edges(np.sort(reference), bins)
    distance = float(scipy.stats.wasserstein_distance(reference, current))
    reference_std = float(np.std(reference))
    return {
        "name": name,
        "bins": bins,
        "reference": reference.tolist(),
        "current": current.tolist(),
        "edges": edges.tolist(),
        "edges_bits": [bits(e) for e in edges],
        "reference_counts": bin_counts(edges, reference),
        "current_counts": bin_counts(edges, current),
        "wasserstein": distance,
        "reference_std": reference_std,
        "current_std": float(np.std(current)),
        "normed_wasserstein": distance / max(reference_std, 0.001),
    }


def z_case(name, ref_successes, ref_n, cur_successes, cur_n):
    if ref_n == 0 or cur_n == 0:
        statistic, p_value = 0.0, 1.0
    else:
        pooled = (ref_successes + cur_successes) / (ref_n + cur_n)
        if pooled in (0.0, 1.0):
            statistic, p_value = 0.0, 1.0
        else:
            se = math.sqrt(pooled * (1 - pooled) * (1 / ref_n + 1 / cur_n))
            statistic = (cur_successes / cur_n - ref_successes / ref_n) / se
            p_value = float(2 * scipy.stats.norm.sf(abs(statistic)))
    return {
        "name": name,
        "ref_successes": ref_successes,
        "ref_n": ref_n,
        "cur_successes": cur_successes,
        "cur_n": cur_n,
        "statistic": statistic,
        "p_value": p_value,
    }


def numeric_cases():
    normal = rng.normal(0.0, 1.0, 4000)
    heavy_ref = rng.poisson(3.0, 3000).astype(np.float64)
    discrete_ref = rng.choice([1.0, 2.0, 3.0], size=2000, p=[0.8, 0.15, 0.05])
    return [
        numeric_case("normal_vs_shifted_normal", normal, rng.normal(0.3, 1.0, 1500), 10),
        numeric_case("normal_vs_same_normal", normal, rng.normal(0.0, 1.0, 1500), 10),
        numeric_case("normal_vs_wider_normal_20_bins", normal, rng.normal(0.0, 2.0, 1000), 20),
        numeric_case("uniform_vs_shifted_uniform", rng.uniform(0, 1, 3000), rng.uniform(0.1, 1.1, 1000), 10),
        numeric_case("lognormal_heavy_tail", rng.lognormal(0, 1, 3000), 1.5 * rng.lognormal(0, 1, 1000), 10),
        numeric_case("heavy_ties_poisson", heavy_ref, rng.poisson(3.5, 1200).astype(np.float64), 10),
        numeric_case("discrete_three_values", discrete_ref, rng.choice([1.0, 2.0, 3.0, 4.0], size=500), 10),
        numeric_case("constant_reference", np.full(1000, 7.0), rng.normal(7.0, 1.0, 500), 10),
        numeric_case("constant_reference_constant_current", np.full(200, 7.0), np.full(50, 7.0), 10),
        numeric_case("single_current_value", rng.normal(0.0, 1.0, 1000), [0.5], 10),
        numeric_case("single_reference_value", [2.5], rng.normal(2.5, 1.0, 100), 10),
        numeric_case("tiny_reference_more_bins_than_values", [1.0, 4.0, 10.0], [0.0, 1.0, 2.0, 4.0, 7.0, 10.0, 11.0], 10),
        numeric_case("values_on_edges", np.arange(11.0), np.concatenate((np.arange(0.0, 11.0, 0.5), [-1.0, 12.0])), 10),
        numeric_case("two_bins_median_split", rng.normal(5.0, 2.0, 501), rng.normal(5.5, 2.0, 300), 2),
        numeric_case("three_bins_even_count", rng.exponential(1.0, 600), rng.exponential(1.3, 400), 3),
        numeric_case("large_offset_small_spread", rng.normal(1e6, 0.01, 2000), rng.normal(1e6 + 0.002, 0.01, 800), 10),
        numeric_case("tiny_spread_below_std_floor", rng.normal(0.0, 0.0002, 500), rng.normal(0.0001, 0.0002, 300), 10),
        numeric_case("negative_and_mixed_scale", -rng.gamma(2.0, 50.0, 1500), rng.normal(-80.0, 60.0, 700), 15),
        numeric_case("disjoint_supports", rng.uniform(0, 1, 300), rng.uniform(5, 6, 200), 5),
        numeric_case("scipy_doc_example", [0.0, 1.0, 3.0], [5.0, 6.0, 8.0], 2),
        numeric_case("large_window", rng.normal(10.0, 3.0, 5000), rng.normal(10.5, 3.3, 5000), 10),
    ]


def counts_cases():
    cases = [
        count_case("equal_proportions", [100, 200, 300], [50, 100, 150]),
        count_case("mild_shift", [500, 300, 200], [230, 160, 110]),
        count_case("unseen_in_reference", [500, 300, 200, 0], [40, 30, 20, 10]),
        count_case("missing_from_window", [500, 300, 200, 100], [60, 40, 0, 0]),
        count_case("seen_on_neither_side", [10, 0, 5, 0], [3, 0, 7, 0]),
        count_case("two_categories_dof1", [30, 70], [45, 55]),
        count_case("two_categories_small", [3, 7], [6, 2]),
        count_case("single_category", [10, 0], [5, 0]),
        count_case("disjoint_categories", [10, 0], [0, 10]),
        count_case("small_counts", [1, 0, 2], [0, 3, 1]),
        count_case("all_in_one_category", [40, 30, 30], [100, 0, 0]),
        count_case("tiny_p_value", [1000, 1000], [1500, 500]),
        count_case("p_value_underflows", [1000000, 1000000], [2000000, 1]),
        count_case("large_counts_equal", [10**12, 2 * 10**12, 3 * 10**12], [2 * 10**12, 4 * 10**12, 6 * 10**12]),
        count_case("large_counts_tiny_shift", [10**12, 2 * 10**12, 3 * 10**12], [10**12 + 10**6, 2 * 10**12, 3 * 10**12 - 10**6]),
        count_case("large_counts_near_2_53", [2**52, 2**51 + 12345, 2**50], [2**50, 2**51, 2**52 - 999]),
    ]
    # Same-distribution and shifted multinomials over many categories, to
    # exercise the chi-square survival function across dof and p.
    for k in (3, 5, 10, 50, 200, 1000, 3000):
        weights = rng.dirichlet(np.full(k, 2.0))
        reference = rng.multinomial(20 * k, weights)
        cases.append(count_case(f"multinomial_k{k}_same", reference, rng.multinomial(10 * k, weights)))
        shifted = rng.dirichlet(200 * weights + 0.5)
        cases.append(count_case(f"multinomial_k{k}_shifted", reference, rng.multinomial(10 * k, shifted)))
    return cases


def z_cases():
    return [
        z_case("moderate_difference", 30, 100, 45, 100),
        z_case("equal_proportions", 25, 100, 50, 200),
        z_case("both_all_zero", 0, 100, 0, 50),
        z_case("both_all_one", 100, 100, 50, 50),
        z_case("reference_all_zero", 0, 1000, 5, 1000),
        z_case("current_all_one", 900, 1000, 300, 300),
        z_case("single_observations", 1, 1, 0, 1),
        z_case("unequal_sizes", 123, 4567, 45, 891),
        z_case("large_n_small_shift", 500000, 1000000, 502000, 1000000),
        z_case("tiny_p_value", 100, 1000, 300, 1000),
        z_case("very_tiny_p_value", 1000, 10000, 2000, 10000),
        z_case("p_value_underflows", 0, 100000, 50000, 100000),
        z_case("huge_counts", 4 * 10**14, 10**15, 4 * 10**14 + 3 * 10**7, 10**15),
        z_case("empty_reference", 0, 0, 5, 10),
    ]


def main():
    numeric = numeric_cases()
    counts = counts_cases()
    counts += [count_case(f"binned/{case['name']}", case["reference_counts"], case["current_counts"]) for case in numeric]
    golden = {
        "generator": {
            "script": "tools/golden/gen_stats.py",
            "seed": SEED,
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "scipy": scipy.__version__,
        },
        "numeric": numeric,
        "counts": counts,
        "z": z_cases(),
    }
    for case in counts:
        assert all(math.isfinite(case[key]) for key in ("psi", "jensenshannon", "chi2_statistic", "chi2_p_value")), case["name"]
    json.dump(golden, sys.stdout, allow_nan=False, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
