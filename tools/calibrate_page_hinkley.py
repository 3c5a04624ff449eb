"""Measures the Page-Hinkley detector's false alarms and detection delay on Bernoulli error
streams, to choose and document the defaults of `concept.page_hinkley` in monitors.yaml.

Same update rule as src/concept.rs. Prints, per (delta, lambda): false alarms per 100 000 rows at
a stable error rate of 0.17 and 0.40, and the rows needed to flag a rise from 0.17 to 0.27.
Usage: python3 tools/calibrate_page_hinkley.py   (numpy; about a minute)
"""

import numpy as np

rng = np.random.default_rng(1)


def alarms(errors, delta, lam, min_instances=30):
    """Indexes where the detector alarms (it restarts after each)."""
    out, seen, mean, cum, low = [], 0, 0.0, 0.0, 0.0
    for i, e in enumerate(errors):
        seen += 1
        mean += (e - mean) / seen
        cum += e - mean - delta
        low = min(low, cum)
        if seen >= min_instances and cum - low > lam:
            out.append(i)
            seen, mean, cum, low = 0, 0.0, 0.0, 0.0
    return out


for delta, lam in [(0.005, 50), (0.005, 100), (0.01, 100)]:
    false_alarms = {}
    for p in (0.17, 0.40):
        runs = [len(alarms(rng.uniform(size=100_000) < p, delta, lam)) for _ in range(5)]
        false_alarms[p] = sum(runs) / len(runs)
    delays = []
    for _ in range(5):
        stream = np.concatenate([rng.uniform(size=5_000) < 0.17, rng.uniform(size=20_000) < 0.27])
        after = [i - 5_000 for i in alarms(stream, delta, lam) if i >= 5_000]
        delays.append(after[0] if after else None)
    print(
        f"delta={delta} lambda={lam}: false alarms/100k rows "
        f"p=0.17: {false_alarms[0.17]:.1f}, p=0.40: {false_alarms[0.40]:.1f}; "
        f"rows to flag 0.17->0.27: {delays}"
    )
