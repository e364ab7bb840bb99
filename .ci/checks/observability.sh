#!/usr/bin/env bash
# Metrics for real: Debian's Prometheus scrapes `cargo xtask dev` (deploy/prometheus/dev.yml, the
# file docs/observability.md tells a developer to run) while loadgen shops for a minute, then a
# fault flag is switched on under load. PromQL then asserts (.ci/lib/promql_checks.py) that the
# HTTP server and client, database and business metrics have the series and attributes the
# semantic conventions give them, that exemplars lead to traces, that the fault flag shows in the
# error rate, and that every query of every dashboard in deploy/grafana/dashboards runs and names
# only metrics that exist; then draws every dashboard from its queries (target/observability/).
# Before all that, offline: every dashboard matches Grafana's own Dashboard type.
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$(date +%s)

if ! command -v prometheus >/dev/null 2>&1; then
  echo "installing Debian's prometheus"
  apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }
fi
prometheus --version | head -n 1
command -v jq >/dev/null 2>&1 || apt-get install -y -qq jq >/dev/null

echo "--- the dashboards against Grafana's Dashboard type (npm, pinned)"
command -v node >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null; }
types="$(mktemp -d)"
npm install --prefix "$types" --no-audit --no-fund --silent --no-save typescript@5.9.3 @grafana/schema@13.2.3
python3 .ci/lib/dashboards_typecheck.py "$types" deploy/grafana/dashboards/*.json
rm -rf "$types"

command -v go >/dev/null 2>&1 || { echo "observability: Go 1.26 is needed to build Jaeger (scripts/go-tools.sh)"; exit 1; }
jaeger_bin="$(scripts/go-tools.sh jaeger)/jaeger"

cargo build -q --locked -p xtask -p loadgen

# shellcheck source=../lib/xtask_dev.sh
source .ci/lib/xtask_dev.sh
log="$(mktemp)"
start_xtask_dev "$log" -u OTEL_EXPORTER_OTLP_ENDPOINT -u OTEL_EXPORTER_OTLP_TRACES_ENDPOINT -u OTEL_SDK_DISABLED \
  JAEGER_BIN="$jaeger_bin"
wait_xtask_ready
echo "xtask dev is up"

tsdb="$(mktemp -d)"
prometheus --config.file=deploy/prometheus/dev.yml --storage.tsdb.path="$tsdb" \
  --web.listen-address=127.0.0.1:9090 --enable-feature=exemplar-storage >"$tsdb.log" 2>&1 &
prometheus_pid=$!
trap 'kill "$prometheus_pid" 2>/dev/null || true; stop_xtask_dev; echo "--- xtask log (tail)"; tail -n 40 "$xtask_log"; echo "--- prometheus log (tail)"; tail -n 20 "$tsdb.log"' ERR
for _ in $(seq 1 60); do
  curl -fsS -o /dev/null http://127.0.0.1:9090/-/ready 2>/dev/null && break
  sleep 1
done
curl -fsS -o /dev/null http://127.0.0.1:9090/-/ready

echo "--- a minute of shoppers"
target/debug/xtask load --users-per-sec 3 --duration 60 --progress 30 --report target/loadgen/observability.md

echo "--- productsUnavailable on, under load"
faults=target/xtask-dev/faults.json
cp "$faults" "$faults.healthy"
jq '.flags.productsUnavailable.state = "ENABLED"' "$faults.healthy" >"$faults.new" && mv "$faults.new" "$faults"
sleep 2
target/debug/xtask load --users-per-sec 3 --duration 20 --report target/loadgen/observability-fault.md >/dev/null 2>&1 || true
# Two scrapes with the flag still on, then back to healthy.
sleep 12
mv "$faults.healthy" "$faults"
# The services re-read the file within a second; one more scrape sees it off.
sleep 8

python3 .ci/lib/promql_checks.py http://127.0.0.1:9090 deploy/grafana/dashboards

echo "--- Jaeger's Monitor tab: its metrics API reads the span metrics back from this Prometheus"
calls="$(curl -fsS "http://127.0.0.1:16686/api/metrics/calls?service=orders&endTs=$(date +%s)000&lookback=300000&step=15000&ratePer=60000")"
points="$(jq '[.metrics[]?.metricPoints[]?] | length' <<<"$calls")"
[ "$points" -gt 0 ] || { echo "Jaeger's /api/metrics/calls for orders has no points: $calls"; exit 1; }
echo "ok: Jaeger's Monitor tab has $points call-rate points for orders"

echo "--- every dashboard drawn from its queries (target/observability/*.png)"
python3 -m venv "$tsdb.venv"
"$tsdb.venv/bin/pip" install --quiet --disable-pip-version-check matplotlib==3.10.7
mkdir -p target/observability
for dashboard in deploy/grafana/dashboards/*.json; do
  "$tsdb.venv/bin/python" scripts/dashboard-snapshot.py http://127.0.0.1:9090 "$dashboard" \
    "target/observability/$(basename "$dashboard" .json).png" 3
done

kill "$prometheus_pid"
wait "$prometheus_pid" 2>/dev/null || true
trap - ERR
stop_xtask_dev_cleanly
rm -rf "$tsdb" "$tsdb.log" "$tsdb.venv"
echo "observability: Prometheus saw RED, database and business metrics and the fault; dashboards check out ($(($(date +%s) - started)) s)"
