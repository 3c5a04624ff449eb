#!/bin/sh
# The catalogue's costs, driftscope vs scipy on the same data in the same run (README, "The
# drift-test catalogue"): runs `cargo bench --bench catalogue`, then
# tools/bench_scipy_catalogue.py, and prints a Markdown table of both medians and their ratio.
#
#   PYTHON=~/venv-golden/bin/python tools/bench_catalogue.sh
set -eu
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
TARGET=${CARGO_TARGET_DIR:-target}
cargo bench --bench catalogue
"$PYTHON" tools/bench_scipy_catalogue.py > "$TARGET/scipy_catalogue.jsonl"
"$PYTHON" - "$TARGET" <<'PY'
import json, pathlib, sys
target = pathlib.Path(sys.argv[1])
print("| test | driftscope (median) | scipy (median) | scipy / driftscope |")
print("|---|---|---|---|")
for line in (target / "scipy_catalogue.jsonl").read_text().splitlines():
    row = json.loads(line)
    estimates = target / "criterion" / "catalogue_100k_vs_100k" / row["test"] / "new" / "estimates.json"
    ours = json.loads(estimates.read_text())["median"]["point_estimate"] / 1e9
    def fmt(s):
        return f"{s * 1e3:.2f} ms" if s >= 1e-4 else f"{s * 1e6:.2f} µs"
    print(f"| `{row['test']}` | {fmt(ours)} | {fmt(row['seconds'])} | {row['seconds'] / ours:.1f} |")
PY
