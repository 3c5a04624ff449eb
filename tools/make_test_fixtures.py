"""Writes tests/fixtures/reference.csv, the small reference the integration tests load.

800 rows (<= 1000, so Evidently's matrix picks KS / chi-square / z tests):
  x ~ Normal(50, 10) (2 decimals), y ~ Uniform(0, 1), c in {a, b, c, d} with p = .4/.3/.2/.1,
  b in {0, 1} with p(1) = .3, prediction/target in {0, 1}, id 1..800.
The tests draw "no drift" batches from the same distributions with their own seeded generator.
Usage: python3 tools/make_test_fixtures.py
"""

from pathlib import Path

import numpy as np

rng = np.random.default_rng(7)
n = 800
rows = {
    "id": np.arange(1, n + 1),
    "x": np.round(rng.normal(50, 10, n), 2),
    "y": np.round(rng.uniform(0, 1, n), 4),
    "c": rng.choice(["a", "b", "c", "d"], n, p=[0.4, 0.3, 0.2, 0.1]),
    "b": (rng.uniform(size=n) < 0.3).astype(int),
    "prediction": (rng.uniform(size=n) < 0.5).astype(int),
    "target": (rng.uniform(size=n) < 0.5).astype(int),
}
out = Path(__file__).resolve().parent.parent / "tests/fixtures/reference.csv"
with out.open("w") as f:
    f.write(",".join(rows) + "\n")
    for i in range(n):
        f.write(",".join(str(rows[k][i]) for k in rows) + "\n")
print(f"wrote {out}")

# tests/fixtures/labelled_reference.csv: a model whose labels depend on its predictions, for the
# concept-drift tests. 1000 rows: x ~ Normal(0, 1), c in {a, b}, prediction = 1 if x > 0,
# probability = 1 / (1 + exp(-2x)), target = prediction except in 10 % of rows (flipped).
rng = np.random.default_rng(11)
n = 1000
x = np.round(rng.normal(0, 1, n), 4)
c = rng.choice(["a", "b"], n)
prediction = (x > 0).astype(int)
probability = np.round(1 / (1 + np.exp(-2 * x)), 6)
flip = rng.uniform(size=n) < 0.1
target = np.where(flip, 1 - prediction, prediction)
out = Path(__file__).resolve().parent.parent / "tests/fixtures/labelled_reference.csv"
with out.open("w") as f:
    f.write("id,x,c,prediction,probability,target\n")
    for i in range(n):
        f.write(f"{i},{x[i]},{c[i]},{prediction[i]},{probability[i]},{target[i]}\n")
print(f"wrote {out}")

# tests/fixtures/regression_reference.csv: a regressor for the residual-KS concept test.
# 800 rows: x ~ Uniform(0, 10), prediction = 2x, target = 2x + Normal(0, 1).
rng = np.random.default_rng(13)
n = 800
x = np.round(rng.uniform(0, 10, n), 4)
prediction = np.round(2 * x, 4)
target = np.round(2 * x + rng.normal(0, 1, n), 4)
out = Path(__file__).resolve().parent.parent / "tests/fixtures/regression_reference.csv"
with out.open("w") as f:
    f.write("id,x,prediction,target\n")
    for i in range(n):
        f.write(f"{i},{x[i]},{prediction[i]},{target[i]}\n")
print(f"wrote {out}")
