#!/usr/bin/env bash
# End-to-end test of driftscope's alerting and dashboards (README: "Alerting, dashboards and the
# full stack"). Run from anywhere; .ci/run runs it after `cargo test` with CI=true.
#
#   1. static checks: promtool check config/rules, promtool test rules (+ every alert covered),
#      amtool check-config and routing tests, Grafana dashboards against the committed schema,
#      alert dashboard links, docker-compose file references (including the Prometheus
#      configs its services load, prometheus.yml and the kafka profile's prometheus.kafka.yml,
#      and their targets being compose services; the kafka profile itself never runs here);
#   2. a local stack on 127.0.0.1, free ports: driftscope (tests/e2e/monitors.yaml), Prometheus
#      (scraping every 1s, the shipped rule file unchanged), Alertmanager (the shipped config with
#      receivers pointed at a local recorder and 1s group timers) and the recorder (webhook.py);
#   3. the demo data (production rows + delayed labels), then synthetic drift: asserts which
#      alerts reach which receiver with which labels, that for_windows holds an alert back, that
#      inhibition suppresses per-feature alerts, that no-data fires for an idle monitor, that
#      late rows and predictions expiring unlabelled alert;
#   4. every dashboard panel query returns data from that Prometheus (while drift fires);
#   5. demo rows again: the drift alerts resolve;
#   6. a second driftscope with the same monitors, fed the same rows, scraped in the same job
#      (two engines exporting a monitor during a hand-over): one alert per monitor and feature,
#      without `instance`, and no per-monitor dashboard query returns a series twice.
# Ends with one line "E2E PASS ..." or "E2E FAIL ..."; exit status 0 only on PASS. Everything
# it starts is stopped by PID on exit. Needs root or sudo only to install missing packages.
#
# Environment: E2E_WORK (scratch dir, default a new mktemp dir, removed on success),
# E2E_TIMEOUT (seconds per wait, default 60), CARGO_TARGET_DIR (as .ci/run).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
E2E=$ROOT/tests/e2e
TIMEOUT=${E2E_TIMEOUT:-60}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/driftscope-target}
WORK=${E2E_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/driftscope-e2e.XXXXXX")}
mkdir -p "$WORK"
T_START=$(date +%s.%N)
PIDS=() NAMES=() TIMINGS=()
STEP=setup CHECKS=0

since() { awk -v a="$(date +%s.%N)" -v b="$1" 'BEGIN { printf "%.1f", a - b }'; }
log() { printf '[e2e %6ss] %s\n' "$(since "$T_START")" "$*"; }
fail() { log "FAIL ($STEP): $*"; exit 1; }
ok() { CHECKS=$((CHECKS + 1)); log "ok: $*"; }
phase() { # phase NAME: close the previous phase's timer, open the next
  [ -n "${T_PHASE:-}" ] && TIMINGS+=("$STEP $(since "$T_PHASE")s")
  STEP=$1 T_PHASE=$(date +%s.%N)
  log "==== $1"
}
py() { python3 "$@"; }

cleanup() {
  local rc=$? i
  set +e
  [ -n "${T_PHASE:-}" ] && TIMINGS+=("$STEP $(since "$T_PHASE")s")
  if [ "$rc" -ne 0 ]; then
    for f in "$WORK"/*.log; do [ -s "$f" ] && { echo "--- last lines of $f"; tail -n 20 "$f"; }; done
  fi
  for i in "${!PIDS[@]}"; do kill -TERM "${PIDS[$i]}" 2>/dev/null; done
  for i in "${!PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "${PIDS[$i]}" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "${PIDS[$i]}" 2>/dev/null; then
      log "${NAMES[$i]} (pid ${PIDS[$i]}) ignored SIGTERM; sending SIGKILL"
      kill -KILL "${PIDS[$i]}" 2>/dev/null
    fi
    wait "${PIDS[$i]}" 2>/dev/null
  done
  for i in "${!PIDS[@]}"; do
    kill -0 "${PIDS[$i]}" 2>/dev/null && { log "${NAMES[$i]} (pid ${PIDS[$i]}) still running"; rc=1; }
  done
  [ "${#PIDS[@]}" -gt 0 ] && log "stopped ${#PIDS[@]} processes (${NAMES[*]})"
  log "timings: ${TIMINGS[*]}"
  if [ "$rc" -eq 0 ]; then
    [ -z "${E2E_WORK:-}" ] && rm -rf "$WORK"
    echo "E2E PASS: $CHECKS checks in $(since "$T_START")s"
  else
    echo "E2E FAIL in step '$STEP' after $(since "$T_START")s (logs and configs kept in $WORK)"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME CMD...: background CMD itself (not a subshell) so $! is the server's own PID.
start() {
  local name=$1; shift
  "$@" >"$WORK/$name.log" 2>&1 &
  PIDS+=("$!") NAMES+=("$name")
  log "started $name (pid $!)"
}
alive() {
  local i
  for i in "${!PIDS[@]}"; do
    kill -0 "${PIDS[$i]}" 2>/dev/null || fail "${NAMES[$i]} exited (see $WORK/${NAMES[$i]}.log)"
  done
}
wait_http() { # URL NAME
  local deadline=$((SECONDS + TIMEOUT))
  until curl -fsS -o /dev/null "$1" 2>/dev/null; do
    alive
    [ "$SECONDS" -lt "$deadline" ] || fail "$2 not ready at $1 within ${TIMEOUT}s"
    sleep 0.1
  done
}

# ============================================================================ 1. tools
phase tools
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
apt_install() {
  log "installing $* (apt-get, --no-install-recommends)"
  $SUDO apt-get update -qq
  # In containers the packages' postinst cannot start services (no systemd); on a systemd host
  # it would start prometheus/alertmanager on their default ports. This test uses its own.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
missing=()
for tool in curl:curl python3:python3 promtool:prometheus prometheus:prometheus \
            prometheus-alertmanager:prometheus-alertmanager amtool:prometheus-alertmanager; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool#*:}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  # shellcheck disable=SC2046 # one word per package
  apt_install $(printf '%s\n' "${missing[@]}" | sort -u)
  for tool in curl python3 promtool prometheus prometheus-alertmanager amtool; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool still missing after installing packages"
  done
fi
# jsonschema validates the dashboards. pip --target needs no virtualenv and is not blocked by
# Debian's externally-managed Python; without pip, Debian's own package will do.
PYLIB=${XDG_CACHE_HOME:-$HOME/.cache}/driftscope-e2e/pylib
export PYTHONPATH="$PYLIB${PYTHONPATH:+:$PYTHONPATH}"
if ! python3 -c 'import jsonschema' 2>/dev/null; then
  if python3 -m pip --version >/dev/null 2>&1; then
    log "installing jsonschema into $PYLIB (pip --target)"
    python3 -m pip install --quiet --disable-pip-version-check --target "$PYLIB" 'jsonschema>=4.10,<5' \
      || fail "pip install jsonschema"
  else
    apt_install python3-jsonschema
  fi
  python3 -c 'import jsonschema' || fail "jsonschema not importable"
fi
log "$(prometheus --version 2>&1 | head -1)"
log "$(prometheus-alertmanager --version 2>&1 | head -1)"
log "python $(python3 -c 'import sys, jsonschema; from importlib.metadata import version; print(sys.version.split()[0], "jsonschema", version("jsonschema"))')"

# ============================================================================ 2. static checks
phase static
cd "$ROOT"
# The shipped config reads the scrape token from secrets/read_token beside it (compose mounts
# ../secrets there); promtool insists the file exists, so check a copy with a dummy token.
mkdir -p "$WORK/promcheck/secrets"
cp -r prometheus/. "$WORK/promcheck/"
echo "dummy-token-for-promtool-0123456789" >"$WORK/promcheck/secrets/read_token"
: >"$WORK/static.log"
# prometheus.yml (the default stack) and prometheus.kafka.yml (compose profile kafka).
for config in prometheus/prometheus*.yml; do
  promtool check config "$WORK/promcheck/${config#prometheus/}" >>"$WORK/static.log" 2>&1 \
    || { cat "$WORK/static.log"; fail "promtool check config $config"; }
  ok "promtool check config $config"
done
promtool check rules prometheus/rules/driftscope.rules.yml >>"$WORK/static.log" 2>&1 \
  || { cat "$WORK/static.log"; fail "promtool check rules"; }
ok "promtool check rules"
promtool test rules prometheus/rules/driftscope.rules.test.yml >"$WORK/rules-test.log" 2>&1 \
  || { cat "$WORK/rules-test.log"; fail "promtool test rules"; }
ok "promtool test rules prometheus/rules/driftscope.rules.test.yml"
py "$E2E/check_rule_coverage.py" prometheus/rules/driftscope.rules.yml \
  prometheus/rules/driftscope.rules.test.yml || fail "rule test coverage"
ok "every alert has firing and silent unit tests"
amtool check-config alertmanager/alertmanager.yml >>"$WORK/static.log" 2>&1 \
  || { cat "$WORK/static.log"; fail "amtool check-config"; }
ok "amtool check-config alertmanager/alertmanager.yml"
# Routing: labels -> receivers, in routing-tree order (amtool fails on any other set).
while IFS='|' read -r receivers labels; do
  # shellcheck disable=SC2086 # labels are separate arguments
  amtool config routes test --config.file=alertmanager/alertmanager.yml \
    --verify.receivers="$receivers" $labels >/dev/null 2>"$WORK/amtool.err" \
    || { cat "$WORK/amtool.err"; fail "route for {$labels}: expected $receivers"; }
done <<'EOF'
webhook,email-oncall,slack-ml-platform|alertname=DriftscopeDatasetDrift monitor=m severity=critical team=ml-platform
webhook,slack-ml-platform|alertname=DriftscopeFeatureDrift monitor=m feature=AGEP severity=warning team=ml-platform
webhook,email-oncall|alertname=DriftscopeModelQualityDegraded monitor=m metric=f1 severity=critical team=risk
webhook|alertname=DriftscopeNoData monitor=m severity=info team=ml-platform-staging
webhook|alertname=DriftscopeFeatureDrift monitor=m severity=warning team=default
webhook,email-oncall|alertname=DriftscopeDown job=driftscope instance=x:8000 severity=critical
webhook|alertname=DriftscopeIngestRejections monitor=_unknown severity=warning
webhook,email-oncall,slack-ml-platform|alertname=DriftscopeRowsDropped monitor=m reason=future severity=critical team=ml-platform
webhook|alertname=DriftscopePredictionsExpiredUnlabelled monitor=m severity=warning team=data-eng
EOF
ok "amtool config routes test: 9 label sets reach the expected receivers"
py "$E2E/validate_dashboards.py" --schema grafana/dashboard.schema.json \
  --rules prometheus/rules/driftscope.rules.yml grafana/dashboards/*.json \
  || fail "dashboard validation"
ok "dashboards valid against grafana/dashboard.schema.json; alert links resolve"
# Docker is not needed here: check that every local path docker-compose.yml mounts and every
# file the Dockerfile copies exists.
paths=$(grep -oE '^\s+- \./[^:]+' docker-compose.yml | sed 's/^[[:space:]]*- //'; \
        grep '^COPY ' Dockerfile | grep -v -- '--from=' | awk '{ for (i = 2; i < NF; i++) print $i }')
for path in $paths; do
  [ -e "$path" ] || fail "docker-compose.yml or Dockerfile refers to missing $path"
done
ok "docker-compose.yml and Dockerfile refer to existing files ($(wc -w <<<"$paths") paths)"
# The Prometheus configs the compose services load exist (./prometheus is /etc/prometheus), and
# every host they scrape or alert to is a compose service (profile kafka included). The kafka
# profile is never started here (no container engine): these references are what CI checks.
services=$(awk '/^services:/ { in_s = 1; next } /^[^[:space:]#]/ { in_s = 0 }
                in_s && /^  [A-Za-z0-9_.-]+:[[:space:]]*$/ { sub(/^  /, ""); sub(/:.*/, ""); print }' docker-compose.yml)
configs=$(grep -oE -- '--config\.file=/etc/prometheus/[^[:space:]"]+' docker-compose.yml | sed 's|.*/etc/prometheus/||')
[ -n "$configs" ] || fail "docker-compose.yml loads no prometheus config"
for config in $configs; do
  [ -f "prometheus/$config" ] || fail "docker-compose.yml loads missing prometheus/$config"
  # Quoted host:port items outside comments: scrape targets and the Alertmanager.
  hosts=$(grep -v '^[[:space:]]*#' "prometheus/$config" | grep -oE "'[A-Za-z0-9_.-]+:[0-9]+'" | tr -d "'" | cut -d: -f1 || true)
  [ -n "$hosts" ] || fail "prometheus/$config: no targets found"
  for host in $hosts; do
    grep -qxF "$host" <<<"$services" || fail "prometheus/$config targets $host, not a docker-compose.yml service"
  done
done
ok "docker-compose.yml's Prometheus configs ($(wc -w <<<"$configs")) exist and target its services"

# ============================================================================ 3. build, start
phase build
# With an example, dev-dependencies count in feature resolution as in `cargo test`, so this reuses
# the test build's dependencies instead of compiling polars again with other features.
cargo build --locked --quiet --bin driftscope --example soak || fail "cargo build"
BIN=$CARGO_TARGET_DIR/debug/driftscope
# The demo rows in an order a live service would see (shuffled within each survey year, seeded:
# the same windows every run), as the README's demo commands send them.
replay() { "$BIN" replay demo/production_2016_2018.parquet --shuffle-seed 1 --url "http://127.0.0.1:$DS" "$@"; }
ok "built driftscope"

phase start
mkdir -p "$WORK/prom-data" "$WORK/am-data"
: >"$WORK/notifications.jsonl"
# Free loopback ports: bind port 0, read what the kernel chose, release.
read -r DS PROM AM HOOK SMTP DS2 < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(6)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
for s in socks:
    s.close()')
log "ports: driftscope $DS (second: $DS2), prometheus $PROM, alertmanager $AM, recorder $HOOK (http) $SMTP (smtp)"

cat >"$WORK/prometheus.yml" <<EOF
# Generated by tests/e2e/run.sh: the shipped rule file, 1s scrapes of the test driftscope and
# of the second one that the replicas phase starts (down until then).
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $ROOT/prometheus/rules/driftscope.rules.yml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:$AM']
scrape_configs:
  - job_name: driftscope
    static_configs:
      - targets: ['127.0.0.1:$DS', '127.0.0.1:$DS2']
EOF
promtool check config "$WORK/prometheus.yml" >>"$WORK/static.log" 2>&1 || fail "generated prometheus.yml"
py "$E2E/am_test_config.py" alertmanager/alertmanager.yml "$WORK/alertmanager.yml" \
  --receiver-base "http://127.0.0.1:$HOOK" --smarthost "127.0.0.1:$SMTP" || fail "deriving alertmanager.yml"
amtool check-config "$WORK/alertmanager.yml" >>"$WORK/static.log" 2>&1 || fail "derived alertmanager.yml"

start webhook python3 "$E2E/webhook.py" --port "$HOOK" --smtp-port "$SMTP" --out "$WORK/notifications.jsonl"
# --cluster.listen-address= turns off HA gossip, which would otherwise listen on 0.0.0.0:9094.
start alertmanager prometheus-alertmanager --config.file="$WORK/alertmanager.yml" \
  --storage.path="$WORK/am-data" --web.listen-address="127.0.0.1:$AM" \
  --cluster.listen-address= --web.external-url="http://127.0.0.1:$AM/"
start driftscope env NO_COLOR=1 "$BIN" --config tests/e2e/monitors.yaml --listen "127.0.0.1:$DS"
T_DS=$(date +%s.%N)
start prometheus prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom-data" \
  --web.listen-address="127.0.0.1:$PROM" --web.external-url="http://127.0.0.1:$PROM/"
wait_http "http://127.0.0.1:$HOOK/" webhook
wait_http "http://127.0.0.1:$AM/-/ready" alertmanager
wait_http "http://127.0.0.1:$DS/readyz" driftscope
wait_http "http://127.0.0.1:$PROM/-/ready" prometheus
# Every listening socket of every started process is on 127.0.0.1 (ss shows other processes'
# sockets only to root).
if command -v ss >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  for i in "${!PIDS[@]}"; do
    socks=$(ss -Hltunp 2>/dev/null | grep "pid=${PIDS[$i]}," | awk '{print $5}' || true)
    [ -n "$socks" ] || fail "${NAMES[$i]} (pid ${PIDS[$i]}) has no listening socket"
    bad=$(grep -v '^127\.0\.0\.1:' <<<"$socks" || true)
    [ -z "$bad" ] || fail "${NAMES[$i]} listens off loopback: $bad"
  done
  ok "all ${#PIDS[@]} processes listen on 127.0.0.1 only"
fi
curl -fsS "http://127.0.0.1:$DS/metrics" | promtool check metrics >"$WORK/check-metrics.log" 2>&1 \
  || { cat "$WORK/check-metrics.log"; fail "promtool check metrics"; }
ok "driftscope's /metrics passes promtool check metrics"
# Prometheus hands discovered targets over in 5s batches: wait for the first scrape and for the
# Alertmanager to be known, not just for /-/ready.
P="http://127.0.0.1:$PROM"
py "$E2E/query.py" prom "$P" 'up{job="driftscope"} == 1' --timeout "$TIMEOUT" >/dev/null \
  || fail "Prometheus never scraped driftscope"
deadline=$((SECONDS + TIMEOUT))
until curl -fsS "$P/api/v1/alertmanagers" | grep -q "127.0.0.1:$AM"; do
  alive; [ "$SECONDS" -lt "$deadline" ] || fail "Prometheus did not discover Alertmanager"; sleep 0.2
done
ok "stack up: driftscope scraped, Alertmanager discovered"

# wait_note STATUS LABEL... : a webhook notification with these labels since $SINCE.
note() { py "$E2E/notifications.py" "$@"; }
wait_note() {
  local status=$1 out; shift
  out=$(note wait "$WORK/notifications.jsonl" --path /webhook --status "$status" --since "$SINCE" \
        --timeout "$TIMEOUT" "${@/#/--label=}") || { echo "$out"; fail "no $status notification {$*}"; }
  ok "$status on webhook after ${out%% *}: ${out#* }"
}
prom_wait() { # EXPR DESCRIPTION
  py "$E2E/query.py" prom "$P" "$1" --timeout "$TIMEOUT" >"$WORK/query.out" \
    || { cat "$WORK/query.out"; fail "$2: $1"; }
  ok "$2"
}

# ============================================================================ 4. scenario
phase demo-data
SINCE=$T_DS
# e2e-idle never gets a row: DriftscopeNoData fires once no_data_after (5s) has passed since
# driftscope started, with the monitor's severity and team; NoWindowEvaluated is inhibited.
wait_note firing alertname=DriftscopeNoData monitor=e2e-idle severity=info team=data-eng
py "$E2E/query.py" suppressed "http://127.0.0.1:$AM" --label alertname=DriftscopeNoWindowEvaluated \
  --label monitor=e2e-idle --timeout "$TIMEOUT" >"$WORK/query.out" || { cat "$WORK/query.out"; fail "inhibition"; }
ok "DriftscopeNoWindowEvaluated{monitor=e2e-idle} suppressed by DriftscopeNoData"

replay --monitor e2e-drift --labels demo/labels_2016_2018.parquet >>"$WORK/replay.log" 2>&1 \
  || fail "replay of demo rows and labels into e2e-drift"
replay --monitor e2e-feature >>"$WORK/replay.log" 2>&1 || fail "replay of demo rows into e2e-feature"
log "$(grep -E '^(rows|labels|service):' "$WORK/replay.log" | tr '\n' ' ')"
prom_wait 'driftscope_windows_evaluated_total{monitor="e2e-drift"} >= 30 and on() driftscope_labelled_windows_evaluated_total{monitor="e2e-drift"} > 0' \
  "Prometheus sees the demo windows and labelled windows of e2e-drift"

phase drift
# Window 1 of synthetic drift for both monitors (e2e-drift first: see the for_windows check).
SINCE=$(date +%s.%N)
py "$E2E/drift_rows.py" drifted --url "http://127.0.0.1:$DS" --monitor e2e-drift --kind dataset \
  --rows 1000 --id-start 50000000 --seed 1 || fail "posting drifted rows"
py "$E2E/drift_rows.py" drifted --url "http://127.0.0.1:$DS" --monitor e2e-feature --kind feature \
  --rows 1000 --id-start 60000000 --seed 2 || fail "posting drifted rows"
# e2e-feature (for_windows 1): feature drift on AGEP only, with severity/team from monitors.yaml.
wait_note firing alertname=DriftscopeFeatureDrift monitor=e2e-feature feature=AGEP \
  severity=warning team=fraud job=driftscope
note none "$WORK/notifications.jsonl" --path /webhook --since "$SINCE" \
  --label alertname=DriftscopeDatasetDrift --label monitor=e2e-feature || fail "e2e-feature must not have dataset drift"
# The rule evaluation that fired it saw e2e-drift's first drifted window too (posted before):
# one drifted window of two (for_windows) must not alert.
prom_wait 'driftscope_dataset_drift_streak_windows{monitor="e2e-drift"} == 1' "e2e-drift: 1 drifted window"
py "$E2E/query.py" prom "$P" 'ALERTS{alertname="DriftscopeDatasetDrift", monitor="e2e-drift"}' \
  --empty --timeout 0 >"$WORK/query.out" || { cat "$WORK/query.out"; fail "alerted before for_windows"; }
ok "e2e-drift: no DriftscopeDatasetDrift (pending or firing) after 1 of for_windows=2 windows"

# Window 2 for e2e-drift: now dataset drift alerts. Critical, team ml-platform: webhook, on-call
# email (severity route) and Slack (team route).
SINCE=$(date +%s.%N)
py "$E2E/drift_rows.py" drifted --url "http://127.0.0.1:$DS" --monitor e2e-drift --kind dataset \
  --rows 1000 --id-start 50001000 --seed 3 || fail "posting drifted rows"
wait_note firing alertname=DriftscopeDatasetDrift monitor=e2e-drift severity=critical team=ml-platform
out=$(note wait "$WORK/notifications.jsonl" --path /slack --since "$SINCE" --timeout "$TIMEOUT" \
      --contains "[FIRING] DriftscopeDatasetDrift on e2e-drift") || { echo "$out"; fail "Slack route"; }
ok "Slack receiver (team=ml-platform) got DriftscopeDatasetDrift after ${out%% *}"
out=$(note wait "$WORK/notifications.jsonl" --path smtp --since "$SINCE" --timeout "$TIMEOUT" \
      --contains "DriftscopeDatasetDrift") || { echo "$out"; fail "email route"; }
ok "email receiver (severity=critical) got DriftscopeDatasetDrift after ${out%% *}"
# e2e-feature (warning, team fraud) reached neither Slack nor email.
for path in /slack smtp; do
  note none "$WORK/notifications.jsonl" --path "$path" --contains e2e-feature \
    || fail "e2e-feature was routed to $path"
done
ok "e2e-feature (warning, team without a route) went to the webhook only"
# Its per-feature alerts fire in Prometheus but Alertmanager suppresses them (inhibition).
prom_wait 'ALERTS{alertname="DriftscopeFeatureDrift", alertstate="firing", monitor="e2e-drift", feature="AGEP"}' \
  "Prometheus fires DriftscopeFeatureDrift for e2e-drift/AGEP"
py "$E2E/query.py" suppressed "http://127.0.0.1:$AM" --label alertname=DriftscopeFeatureDrift \
  --label monitor=e2e-drift --timeout "$TIMEOUT" >"$WORK/query.out" || { cat "$WORK/query.out"; fail "inhibition"; }
ok "$(cat "$WORK/query.out")"
# Other alert kinds of the same windows: prediction drift and both data-quality checks.
prom_wait 'ALERTS{alertname="DriftscopePredictionDrift", alertstate="firing", monitor="e2e-drift", severity="critical"}' \
  "DriftscopePredictionDrift fires for e2e-drift"
prom_wait 'ALERTS{alertname="DriftscopeFeatureNewCategories", alertstate="firing", monitor="e2e-drift", feature="SCHL"}' \
  "DriftscopeFeatureNewCategories fires for e2e-drift/SCHL"
prom_wait 'ALERTS{alertname="DriftscopeFeatureMissingValues", alertstate="firing", monitor="e2e-drift", feature="DEAR"}' \
  "DriftscopeFeatureMissingValues fires for e2e-drift/DEAR"
# A few rejected requests for the service dashboard's rejection panels.
py "$E2E/drift_rows.py" rejected --url "http://127.0.0.1:$DS" --monitor e2e-drift --count 3 >/dev/null \
  || fail "rejected requests were not rejected as expected"
prom_wait 'driftscope_requests_rejected_total{monitor="_unknown", code="unknown_monitor"} >= 3' \
  "rejected requests counted"

phase drops
# Rows accepted but lost: hour-old rows for an event-time monitor (late) and more predictions
# than its join buffer holds (expired unlabelled). Both alerts carry the monitor's routing.
SINCE=$(date +%s.%N)
py "$E2E/drift_rows.py" dropped --url "http://127.0.0.1:$DS" --monitor e2e-late --rows 100 \
  --id-start 70000000 || fail "posting late rows"
wait_note firing alertname=DriftscopeRowsDropped monitor=e2e-late reason=late severity=warning team=data-eng
wait_note firing alertname=DriftscopePredictionsExpiredUnlabelled monitor=e2e-late severity=warning team=data-eng

phase dashboards
# Every panel query, variables substituted as Grafana would, returns data while drift fires.
py "$E2E/check_panel_queries.py" --prometheus "$P" --var driftscope-monitor:monitor=e2e-drift \
  --rate-interval 1m --range 10m grafana/dashboards/*.json >"$WORK/panel-queries.log" 2>&1 \
  || { grep -v '^OK' "$WORK/panel-queries.log"; fail "dashboard queries without data"; }
ok "dashboard queries: $(tail -n 1 "$WORK/panel-queries.log")"
# Inhibition held for the whole drift phase: no e2e-drift feature alert reached a receiver.
note none "$WORK/notifications.jsonl" --path /webhook --since "$SINCE" \
  --label alertname=DriftscopeFeatureDrift --label monitor=e2e-drift || fail "inhibited alert was notified"
ok "no DriftscopeFeatureDrift{monitor=e2e-drift} notification while its dataset drifts"

phase resolve
# The demo rows again: windows without (dataset / AGEP) drift resolve both alerts.
SINCE=$(date +%s.%N)
for monitor in e2e-drift e2e-feature; do
  replay --monitor "$monitor" >>"$WORK/replay.log" 2>&1 || fail "replay of demo rows into $monitor"
done
wait_note resolved alertname=DriftscopeDatasetDrift monitor=e2e-drift severity=critical team=ml-platform
wait_note resolved alertname=DriftscopeFeatureDrift monitor=e2e-feature feature=AGEP severity=warning team=fraud
# Demo windows may drift now and then (see README), but the last ones do not: nothing is left.
for selector in 'alertname="DriftscopeDatasetDrift", monitor="e2e-drift"' \
                'alertname="DriftscopeFeatureDrift", monitor="e2e-feature"'; do
  py "$E2E/query.py" prom "$P" "ALERTS{$selector}" --empty --timeout "$TIMEOUT" >"$WORK/query.out" \
    || { cat "$WORK/query.out"; fail "alert still active: {$selector}"; }
done
ok "no DatasetDrift alert left for e2e-drift, no FeatureDrift alert for e2e-feature"

phase replicas
# Two processes export the same monitors at once, as two engines do for up to a scrape
# interval during a hand-over (scale-out mode). The second one is in Prometheus' scrape config
# from the start and comes up now; both get the demo rows and labels of e2e-drift, then two
# drifted windows of e2e-drift (dataset drift fires) and one of e2e-feature (feature drift).
start driftscope-2 env NO_COLOR=1 "$BIN" --config tests/e2e/monitors.yaml --listen "127.0.0.1:$DS2"
wait_http "http://127.0.0.1:$DS2/readyz" driftscope-2
prom_wait "up{job=\"driftscope\", instance=\"127.0.0.1:$DS2\"} == 1" "Prometheus scrapes the second driftscope"
"$BIN" replay demo/production_2016_2018.parquet --shuffle-seed 1 --url "http://127.0.0.1:$DS2" \
  --monitor e2e-drift --labels demo/labels_2016_2018.parquet >>"$WORK/replay.log" 2>&1 \
  || fail "replay of demo rows and labels into the second driftscope"
for port in "$DS" "$DS2"; do
  for seed in 5 6; do
    py "$E2E/drift_rows.py" drifted --url "http://127.0.0.1:$port" --monitor e2e-drift --kind dataset \
      --rows 1000 --id-start $((52000000 + 1000 * seed)) --seed "$seed" \
      || fail "posting drifted rows to 127.0.0.1:$port"
  done
  py "$E2E/drift_rows.py" drifted --url "http://127.0.0.1:$port" --monitor e2e-feature --kind feature \
    --rows 1000 --id-start 61000000 --seed 4 || fail "posting drifted rows to 127.0.0.1:$port"
done
prom_wait 'count(driftscope_dataset_drift_streak_windows{monitor="e2e-drift"} >= 2) == 2
           and on() count(driftscope_feature_drift_detected{monitor="e2e-feature", feature="AGEP"} == 1) == 2
           and on() count(driftscope_labelled_windows_evaluated_total{monitor="e2e-drift"} > 0) == 2' \
  "both instances export e2e-drift's dataset drift and labelled windows, e2e-feature's AGEP drift"
prom_wait 'ALERTS{alertname="DriftscopeDatasetDrift", alertstate="firing", monitor="e2e-drift"}
           and on() ALERTS{alertname="DriftscopeFeatureDrift", alertstate="firing", monitor="e2e-feature", feature="AGEP"}' \
  "DriftscopeDatasetDrift fires for e2e-drift, DriftscopeFeatureDrift for e2e-feature/AGEP"
# One alert per label set without instance, and no per-monitor alert with an instance label.
for expr in 'count without(instance) (ALERTS{alertname=~"Driftscope.*"}) > 1' \
            'ALERTS{alertname=~"Driftscope.*", alertname!="DriftscopeDown", instance!=""}'; do
  py "$E2E/query.py" prom "$P" "$expr" --empty --timeout 0 >"$WORK/query.out" \
    || { cat "$WORK/query.out"; fail "alerts of two instances: $expr"; }
done
ok "one alert per monitor and feature while two instances export them, none with instance"
# The Overview's "Monitors" table (panel 17) shows the serving instance on purpose.
py "$E2E/check_panel_queries.py" --prometheus "$P" --var driftscope-monitor:monitor=e2e-drift \
  --rate-interval 1m --range 10m --distinct-without instance --except driftscope-overview:17 \
  grafana/dashboards/driftscope-monitor.json grafana/dashboards/driftscope-overview.json \
  >"$WORK/panel-queries-replicas.log" 2>&1 \
  || { grep -v '^OK' "$WORK/panel-queries-replicas.log"; fail "per-monitor dashboard queries with two instances"; }
ok "per-monitor dashboards, two instances: $(tail -n 1 "$WORK/panel-queries-replicas.log"), none returns a series twice"
