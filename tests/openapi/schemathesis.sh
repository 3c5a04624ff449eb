#!/usr/bin/env bash
# Fuzzes the live service against docs/openapi.json with schemathesis: no 5xx, every status,
# content type and body as documented, no request hanging past --request-timeout.
#
# Makes a venv ($DRIFTSCOPE_ST_VENV, default tests/openapi/.venv) with schemathesis 4, starts the
# debug binary ($DRIFTSCOPE_BIN, default $CARGO_TARGET_DIR/debug/driftscope, which `cargo test`
# builds) on a temp config over tests/fixtures/reference.csv with a temp --state-dir and bearer
# authentication on a free 127.0.0.1 port, runs schemathesis, and stops the server by PID.
# Exit code: schemathesis's. Examples per operation: $SCHEMATHESIS_MAX_EXAMPLES (30); the seed is
# fixed ($SCHEMATHESIS_SEED) so CI runs are reproducible.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${DRIFTSCOPE_ST_VENV:-$here/.venv}"
python="${PYTHON:-python3}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/driftscope-target}"
binary="${DRIFTSCOPE_BIN:-$CARGO_TARGET_DIR/debug/driftscope}"
max_examples="${SCHEMATHESIS_MAX_EXAMPLES:-30}"
seed="${SCHEMATHESIS_SEED:-20251129}"

if [ ! -x "$binary" ]; then
  echo "driftscope binary not found at $binary: run cargo test (or set DRIFTSCOPE_BIN)" >&2
  exit 1
fi
if [ ! -x "$venv/bin/schemathesis" ]; then
  echo "--- creating venv $venv with schemathesis"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'schemathesis>=4.3,<5'
fi

work="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# One token with every scope, so every operation can answer 200.
export DRIFTSCOPE_SCHEMATHESIS_TOKEN="schemathesis-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
reference="$repo/tests/fixtures/reference.csv"
# Monitor m is tests/common/mod.rs's config_text (arrival time, 20-row windows, labels by id);
# monitor t takes event times in column ts, in 1-minute windows.
cat > "$work/monitors.yaml" <<YAML
server:
  listen: 127.0.0.1:0
  request_timeout: 10s
  auth:
    tokens:
      - {name: schemathesis, scopes: [ingest, read, admin], from_env: DRIFTSCOPE_SCHEMATHESIS_TOKEN}
monitors:
  - name: m
    reference: $reference
    features:
      numerical: [x, y]
      categorical: [c, b]
    prediction: {column: prediction, type: categorical}
    target: {column: target, type: categorical}
    id: id
    window: {rows: 20}
  - name: t
    reference: $reference
    features:
      numerical: [x, y]
      categorical: [c, b]
    prediction: {column: prediction, type: categorical}
    id: id
    timestamp: ts
    window: {duration: 1m}
YAML

url=""
for _ in 1 2 3; do  # another process may take the free port before the server binds it
  port="$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  "$binary" serve --config "$work/monitors.yaml" --listen "127.0.0.1:$port" --state-dir "$work/state" \
    >"$work/driftscope.log" 2>&1 </dev/null &
  pid=$!
  for _ in $(seq 300); do
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null; then url="http://127.0.0.1:$port"; break; fi
    sleep 0.1
  done
  [ -n "$url" ] && break
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
done
if [ -z "$url" ]; then
  echo "driftscope did not become ready; its log:" >&2
  cat "$work/driftscope.log" >&2
  exit 1
fi
echo "--- schemathesis against $url (driftscope $binary, $max_examples examples per operation, seed $seed)"

# Two passes: valid requests first (so windows close and the full result bodies are checked; in
# the mixed mode most ingest cases were negative and answered before reaching a window), then
# invalid ones (every rejection must be a documented status and Error body).
status=0
for mode in positive negative; do
  echo "--- schemathesis --mode $mode"
  # hooks.py: schemathesis has no serializer for application/x-ndjson bodies.
  (cd "$here" && PYTHONPATH="$here" SCHEMATHESIS_HOOKS=hooks timeout 600 "$venv/bin/schemathesis" \
    --config-file "$here/schemathesis.toml" --no-color \
    run "$repo/docs/openapi.json" \
    --url "$url" \
    -H "Authorization: Bearer $DRIFTSCOPE_SCHEMATHESIS_TOKEN" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
    --mode "$mode" \
    --phases examples,coverage,fuzzing \
    --max-examples "$max_examples" \
    --seed "$seed" \
    --request-timeout 15 \
    --workers 2 ${SCHEMATHESIS_EXTRA:-} \
    --report junit --report-dir "$work/report-$mode") || status=$?
done

# What the run reached, from the service's own counters: requests by route and status, windows.
echo "--- driftscope after the run: requests by route and status, windows evaluated"
curl -fsS -H "Authorization: Bearer $DRIFTSCOPE_SCHEMATHESIS_TOKEN" "$url/metrics" 2>/dev/null \
  | grep -E '^driftscope_(http_requests_total|windows_evaluated_total|labelled_windows_evaluated_total)\{' || true

if ! kill -0 "$pid" 2>/dev/null; then
  echo "driftscope exited during the run; its log:" >&2
  tail -50 "$work/driftscope.log" >&2
  status=1
fi
if [ "$status" -ne 0 ]; then
  echo "--- last lines of the driftscope log"
  tail -20 "$work/driftscope.log"
fi
exit "$status"
