#!/usr/bin/env bash
# The live report page in a real browser: starts the debug binary on the bundled monitors.yaml
# (fresh state directory, free 127.0.0.1 port), replays the demo rows with `driftscope replay` (shuffled within each year)
# (15 windows of 2 000 rows), then loads GET /ui/monitors/employment in headless Chromium and
# checks the rendered DOM (every feature of the monitor, one chart per column, sparklines)
# and that the console logged no error. Writes a screenshot; `--screenshot PATH` keeps it
# there (docs/ui-employment.png was made so). .ci/run runs it; needs chromium, curl, python3.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/driftscope-target}"

keep=""
if [[ "${1:-}" == "--screenshot" ]]; then keep="$2"; fi

fail() { echo "chromium.sh: FAIL: $*" >&2; exit 1; }
browser=$(command -v chromium || command -v chromium-browser || true)
[[ -n "$browser" ]] || fail "chromium not installed (apt-get install chromium)"

cargo build --locked --tests --examples -q
bin="$CARGO_TARGET_DIR/debug/driftscope"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
work=$(mktemp -d)
"$bin" serve --config monitors.yaml --listen "127.0.0.1:$port" --state-dir "$work/state" \
  >"$work/server.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "$base/readyz" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/server.log" >&2; fail "the service exited"; }
  sleep 0.1
done
curl -fsS -o /dev/null "$base/readyz" || fail "the service did not become ready"

"$bin" replay demo/production_2016_2018.parquet --monitor employment --url "$base" --shuffle-seed 1 \
  >"$work/replay.log" 2>&1 || { cat "$work/replay.log" >&2; fail "replay failed"; }
evaluated=$(curl -fsS "$base/metrics" | awk '/^driftscope_windows_evaluated_total\{monitor="employment"\}/ {print $2}')
[[ "${evaluated:-0}" -ge 2 ]] || fail "expected evaluated windows, got ${evaluated:-none}"

url="$base/ui/monitors/employment"
chrome=("$browser" --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0
  --no-first-run --user-data-dir="$work/profile")
"${chrome[@]}" --dump-dom "$url" >"$work/dom.html" 2>"$work/console.log" || {
  cat "$work/console.log" >&2; fail "chromium --dump-dom failed"; }
"${chrome[@]}" --window-size=1280,2200 --hide-scrollbars --screenshot="$work/ui.png" "$url" \
  >/dev/null 2>>"$work/console.log" || { cat "$work/console.log" >&2; fail "chromium --screenshot failed"; }

grep -q "Dataset drift:" "$work/dom.html" || fail "no verdict in the DOM"
for feature in AGEP SCHL MAR RELP DIS ESP CIT MIG MIL ANC NATIVITY DEAR DEYE DREM SEX RAC1P prediction predicted_probability; do
  grep -q "<td>$feature</td>" "$work/dom.html" || fail "feature $feature missing from the DOM"
done
charts=$(grep -o '<svg class="chart"' "$work/dom.html" | wc -l)
[[ "$charts" -eq 18 ]] || fail "expected 18 charts (16 features, 2 prediction columns), got $charts"
sparks=$(grep -o '<svg class="spark"' "$work/dom.html" | wc -l)
[[ "$sparks" -ge 16 ]] || fail "expected score sparklines, got $sparks"
if grep -E 'CONSOLE|Uncaught' "$work/console.log" | grep -qiE 'error|uncaught'; then
  grep -E 'CONSOLE|Uncaught' "$work/console.log" >&2
  fail "the console logged errors"
fi
[[ -s "$work/ui.png" ]] || fail "no screenshot"
[[ -n "$keep" ]] && cp "$work/ui.png" "$keep"
echo "chromium.sh: ok: $evaluated windows, $charts charts, $sparks sparklines, no console errors${keep:+, screenshot $keep}"
