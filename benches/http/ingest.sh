#!/usr/bin/env bash
# HTTP ingest throughput per body format, over loopback, with wrk as the load generator.
#
#   [BENCH_PYTHON=python-with-pyarrow] bash benches/http/ingest.sh [--rows 5000] [--seconds 10] [--connections 4] [--state-dir DIR]
#
# Builds the release binary, writes one monitor of 20 features (15 numeric, 5 categorical; a
# 100 000-row count window, so windows are evaluated while the load runs) and one batch of
# --rows rows in each format (benches/http/make_bodies.py), starts the service on a free
# 127.0.0.1 port, and runs wrk (2 threads, --connections connections) against
# POST /v1/monitors/bench/rows with each body in turn. wrk and the service share the machine's
# cores. Prints accepted rows/s and latency percentiles per format, with the ratio to row-object
# JSON measured in the same run, and Python's json.loads on the same rows as a baseline. Any
# non-2xx response fails the run. The service is stopped by PID at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
rows=5000
seconds=10
connections=4
state_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --rows) rows="$2"; shift 2 ;;
        --seconds) seconds="$2"; shift 2 ;;
        --connections) connections="$2"; shift 2 ;;
        --state-dir) state_args=(--state-dir "$2"); shift 2 ;;
        *) echo "usage: $0 [--rows N] [--seconds S] [--connections C] [--state-dir DIR]" >&2; exit 2 ;;
    esac
done
command -v wrk >/dev/null || { echo "wrk is needed (Debian: apt-get install wrk)" >&2; exit 2; }
target="${CARGO_TARGET_DIR:-target}"
# With `--example soak` the build has the same features as `cargo bench` (dev-dependencies
# unify features), so one release build of the dependencies serves both.
cargo build --quiet --release --bin driftscope --example soak
data="$(mktemp -d)"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$data"; }
trap cleanup EXIT
# The Arrow body needs pyarrow: BENCH_PYTHON names a Python that has it (else that case is
# skipped, like the compressed ones without the gzip / zstd commands).
"${BENCH_PYTHON:-python3}" benches/http/make_bodies.py "$data" --rows "$rows" > "$data/python.json"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$target/release/driftscope" serve --config "$data/monitors.yaml" --listen "127.0.0.1:$port" \
    "${state_args[@]}" > "$data/service.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
    sleep 0.1
done
url="http://127.0.0.1:$port/v1/monitors/bench/rows"
printf '%-26s %12s %9s %9s %9s %8s\n' format rows/s p50 p90 p99 "x rows"
baseline=""
for spec in \
    "rows.json application/json" \
    "rows.ndjson application/x-ndjson" \
    "columns.json application/json" \
    "rows.json.gz application/json gzip" \
    "columns.json.zst application/json zstd" \
    "columns.json.gz application/json gzip" \
    "rows.arrow application/vnd.apache.arrow.stream" \
    "rows.arrow.zst application/vnd.apache.arrow.stream zstd"; do
    read -r file type encoding <<< "$spec"
    [ -f "$data/$file" ] || continue
    out="$(BODY="$data/$file" CONTENT_TYPE="$type" CONTENT_ENCODING="${encoding:-}" \
        wrk -t2 -c"$connections" -d"${seconds}s" --latency -s benches/http/post.lua "$url")"
    if grep -q "Non-2xx" <<< "$out"; then
        echo "$out" >&2
        echo "error: non-2xx responses for $file" >&2
        exit 1
    fi
    rps="$(awk '/^Requests\/sec:/ {print $2}' <<< "$out")"
    p50="$(awk '$1 == "50%" {print $2}' <<< "$out")"
    p90="$(awk '$1 == "90%" {print $2}' <<< "$out")"
    p99="$(awk '$1 == "99%" {print $2}' <<< "$out")"
    rate="$(python3 -c "print(round($rps * $rows))")"
    baseline="${baseline:-$rate}"
    ratio="$(python3 -c "print(f'{$rate / $baseline:.2f}')")"
    printf '%-26s %12s %9s %9s %9s %8s\n' "$file${encoding:+ ($encoding)}" "$rate" "$p50" "$p90" "$p99" "$ratio"
done
python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['python_json_loads_rows_per_second']; print(f'baseline: Python json.loads of rows.json, same rows: {r:,.0f} rows/s')" "$data/python.json"
