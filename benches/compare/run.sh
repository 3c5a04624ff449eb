#!/usr/bin/env bash
# Side-by-side evaluation speed: driftscope vs Evidently vs bare scipy, same data, same run.
#
#   bash benches/compare/run.sh [--rows N] [--repeat N]
#
# Generates 100 000-row reference and current files of 20 features (15 numeric tested with KS,
# 5 categorical tested with chi-square; benches/compare/make_data.py), times Evidently's
# DataDriftPreset and scipy's tests on them (python_side.py), times driftscope's stages on the
# same files (driftscope_side.rs, via `cargo bench --bench compare`), and prints each figure with
# its ratio to driftscope's. Python packages go into a scratch venv (COMPARE_VENV, default
# target/compare-venv), pinned to the versions the README's numbers were measured with.
set -euo pipefail
cd "$(dirname "$0")/../.."
rows=100000
repeat=5
while [ $# -gt 0 ]; do
    case "$1" in
        --rows) rows="$2"; shift 2 ;;
        --repeat) repeat="$2"; shift 2 ;;
        *) echo "usage: $0 [--rows N] [--repeat N]" >&2; exit 2 ;;
    esac
done
venv="${COMPARE_VENV:-target/compare-venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q evidently==0.7.23 pandas==2.3.3 numpy==2.4.6 scipy==1.17.1 pyarrow==26.0.1
fi
data="$(mktemp -d)"
trap 'rm -rf "$data"' EXIT
"$venv/bin/python" benches/compare/make_data.py "$data" --rows "$rows"
echo "data: $rows rows x 20 features in $data" >&2
echo "timing Evidently and scipy ($repeat runs each) ..." >&2
"$venv/bin/python" benches/compare/python_side.py "$data" --repeat "$repeat" > "$data/python.json"
echo "timing driftscope ..." >&2
cargo bench --quiet --bench compare -- --config "$data/monitors.yaml" \
    --current "$data/current.parquet" --repeat "$repeat" > "$data/driftscope.json"
"$venv/bin/python" - "$data/python.json" "$data/driftscope.json" <<'PY'
import json, sys
py = json.load(open(sys.argv[1]))
ds = json.load(open(sys.argv[2]))
evaluate = ds["evaluate_seconds"]
rows = [
    ("driftscope: evaluate the window (per-window cost)", evaluate),
    ("driftscope: read + profile the reference (once per start)", ds["load_profile_seconds"]),
    ("driftscope: read + code the current file", ds["code_current_seconds"]),
    ("driftscope: end to end (files in, report out)", ds["end_to_end_seconds"]),
    ("driftscope binned: count the window over fine bins", ds["count_binned_seconds"]),
    ("driftscope binned: evaluate the counts", ds["evaluate_binned_seconds"]),
    ("scipy: 15 ks_2samp + 5 chi2_contingency", py["scipy_tests_seconds"]),
    ("Evidently: Report.run (DataFrames in memory)", py["evidently_report_seconds"]),
    ("Evidently: read parquet + Report.run", py["evidently_end_to_end_seconds"]),
]
print(f"{'stage':62} {'seconds':>10} {'x driftscope evaluate':>22}")
for name, seconds in rows:
    print(f"{name:62} {seconds:10.4f} {seconds / evaluate:22.1f}")
print()
print(f"Evidently Report.run / driftscope evaluate: {py['evidently_report_seconds'] / evaluate:.0f}x")
print(f"Evidently end to end / driftscope end to end: "
      f"{py['evidently_end_to_end_seconds'] / ds['end_to_end_seconds']:.1f}x")
print(f"Evidently Report.run / driftscope binned evaluate: "
      f"{py['evidently_report_seconds'] / ds['evaluate_binned_seconds']:.0f}x")
print(f"scipy tests / driftscope evaluate: {py['scipy_tests_seconds'] / evaluate:.0f}x")
print(f"drifted features: driftscope {ds['drifted_features']} "
      f"(binned {ds['drifted_features_binned']}), Evidently "
      f"{py['evidently_drifted_features']}, scipy {py['scipy_drifted_features']}")
PY
