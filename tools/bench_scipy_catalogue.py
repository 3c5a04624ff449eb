#!/usr/bin/env python3
"""scipy's side of benches/catalogue.rs: the same 100 000 vs 100 000 values (the bench's
xorshift64* generator, ported), each test's scipy call timed (median of repeats, one call per
repeat), printed as JSON lines {"test", "seconds"}. Run by tools/bench_catalogue.sh.

    ~/venv-golden/bin/python tools/bench_scipy_catalogue.py
"""

import json
import math
import statistics
import sys
import time
import warnings

import numpy as np
import scipy.stats

ROWS = 100_000
CATEGORIES = 12
SEED = 0xCA7A_1065
MASK = (1 << 64) - 1


class Rng:
    """benches/common/mod.rs's generator."""

    def __init__(self, state):
        self.state = state

    def uniform(self):
        x = self.state
        x ^= x >> 12
        x ^= (x << 25) & MASK
        x ^= x >> 27
        self.state = x
        return (((x * 0x2545F4914F6CDD1D) & MASK) >> 11) / float(1 << 53)

    def normal(self, shift):
        u1, u2 = max(self.uniform(), 1e-300), self.uniform()
        return shift + math.sqrt(-2.0 * math.log(u1)) * math.cos(math.tau * u2)


def data():
    rng = Rng(SEED)
    reference = np.array([rng.normal(0.0) for _ in range(ROWS)])
    current = np.array([rng.normal(0.05) for _ in range(ROWS)])

    def counts():
        out = [0] * CATEGORIES
        for _ in range(ROWS):
            out[int(rng.uniform() * CATEGORIES)] += 1
        return np.array(out)

    reference_counts, current_counts = counts(), counts()
    print(
        f"data checksum: reference sum {reference.sum():.6f}, current sum {current.sum():.6f}, "
        f"counts {reference_counts.tolist()} / {current_counts.tolist()}",
        file=sys.stderr,
    )
    return reference, current, reference_counts, current_counts


def shares(counts):
    return counts / counts.sum()


def kl_div(r, c):
    p, q = shares(r), shares(c)
    p[p == 0] = 0.0001
    q[q == 0] = 0.0001
    return scipy.stats.entropy(p, q)


def main():
    x, y, r, c = data()
    table = np.array([r, c])
    fisher = [[r[0], ROWS - r[0]], [c[0], ROWS - c[0]]]
    calls = {
        "ks": lambda: scipy.stats.ks_2samp(x, y),
        "anderson": lambda: scipy.stats.anderson_ksamp([x, y], variant="midrank"),
        "cramer_von_mises": lambda: scipy.stats.cramervonmises_2samp(x, y),
        "mannw": lambda: scipy.stats.mannwhitneyu(x, y, alternative="two-sided"),
        "t_test": lambda: scipy.stats.ttest_ind(x, y, equal_var=False),
        "ed": lambda: scipy.stats.energy_distance(x, y),
        "es": lambda: scipy.stats.epps_singleton_2samp(x, y),
        "g_test": lambda: scipy.stats.chi2_contingency(table, correction=False, lambda_="log-likelihood"),
        "hellinger": lambda: np.sqrt(np.sum((np.sqrt(shares(r)) - np.sqrt(shares(c))) ** 2)) / np.sqrt(2),
        "kl_div": lambda: kl_div(r, c),
        "tvd": lambda: 0.5 * np.sum(np.abs(shares(r) - shares(c))),
        "fisher_exact": lambda: scipy.stats.fisher_exact(fisher),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for test, call in calls.items():
            call()  # warm-up
            times = []
            budget = time.perf_counter() + 3.0
            while len(times) < 5 or (len(times) < 200 and time.perf_counter() < budget):
                start = time.perf_counter()
                call()
                times.append(time.perf_counter() - start)
            print(json.dumps({"test": test, "seconds": statistics.median(times), "repeats": len(times)}))


if __name__ == "__main__":
    main()
