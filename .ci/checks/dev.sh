#!/usr/bin/env bash
# Runs `cargo xtask dev` as a developer would, then the README's curl walkthrough (extracted
# from README.md, so the documented commands are the tested ones) and a smoke purchase
# against it, then stops it with SIGINT and checks that nothing it started is left running.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v jq >/dev/null 2>&1; then
  echo "installing jq (the walkthrough uses it)"
  apt-get install -y -qq jq >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq jq >/dev/null; }
fi

cargo build -q --locked -p xtask
# shellcheck source=../lib/xtask_dev.sh
source .ci/lib/xtask_dev.sh
log="$(mktemp)"
start_xtask_dev "$log"
wait_xtask_ready
echo "xtask dev is up"

echo "--- README walkthrough"
walkthrough="$(mktemp)"
awk '/<!-- walkthrough:start -->/{on=1; next} /<!-- walkthrough:end -->/{on=0} on && !/^```/' README.md >"$walkthrough"
[ -s "$walkthrough" ] || { echo "no walkthrough found in README.md"; exit 1; }
bash -euo pipefail -x "$walkthrough"

echo "--- smoke purchase"
smoke="$(mktemp)"
ADMIN_EMAIL=admin@microshop.local ADMIN_PASSWORD=microshop-dev-admin bash scripts/smoke-purchase.sh | tee "$smoke"

echo "--- its confirmation e-mail: orders' outbox -> NATS -> notifications -> the SMTP catcher's Maildir"
grep -q "e-mails   .*/mail-2525/new" "$log" || { echo "xtask dev did not start the event bus and mail catcher"; grep "e-mails" "$log"; exit 1; }
order_id="$(sed -n 's/^order \([0-9a-f-]*\) is paid$/\1/p' "$smoke" | tail -n 1)"
[ -n "$order_id" ] || { echo "no paid order in the smoke output"; exit 1; }
number="$(echo "${order_id//-/}" | tail -c 9 | tr a-f A-F)"
for _ in $(seq 1 30); do
  grep -lqs "^Subject: Order #$number confirmed" target/xtask-dev/mail-2525/new/* && break
  sleep 1
done
grep -lqs "^Subject: Order #$number confirmed" target/xtask-dev/mail-2525/new/* \
  || { echo "no confirmation e-mail for order $order_id (#$number) within 30 s"; ls target/xtask-dev/mail-2525/new; exit 1; }
echo "the confirmation of order #$number is in the catcher's Maildir"

echo "--- load: simulated shoppers for 20 s, no unexpected answer allowed"
cargo build -q --locked -p loadgen
report=target/loadgen/report.md
target/debug/xtask load --users-per-sec 2 --duration 20 --progress 10 --report "$report" --fail-on-errors
for operation in browse search view_product register login place_order pay my_orders; do
  grep -Eq "^\| $operation \| [1-9]" "$report" || { echo "load report has no $operation requests"; cat "$report"; exit 1; }
done

echo "--- load with a fault flag on: the errors show in the report"
faults=target/xtask-dev/faults.json
cp "$faults" "$faults.healthy"
jq '.flags.productsUnavailable.state = "ENABLED"' "$faults.healthy" >"$faults.new" && mv "$faults.new" "$faults"
sleep 2
if target/debug/xtask load --users-per-sec 2 --duration 6 --report target/loadgen/fault.md --fail-on-errors >/dev/null 2>&1; then
  echo "productsUnavailable was on but loadgen saw no unexpected answer"; cat target/loadgen/fault.md; exit 1
fi
# A visit ends at its first error page: the storefront's home (which calls products) or browsing.
grep -Eq '^\| (storefront_home|browse) \| [0-9]+ \| [1-9][0-9]* \|.*503 x[1-9]' target/loadgen/fault.md \
  || { echo "expected 503s on the first page of each visit in the fault report"; cat target/loadgen/fault.md; exit 1; }
mv "$faults.healthy" "$faults"
echo "fault report:"; cat target/loadgen/fault.md

stop_xtask_dev_cleanly
grep -q "PostgreSQL stopped" "$log" || { echo "PostgreSQL was not stopped"; tail -n 20 "$log"; exit 1; }
for port in 8080 8081 8082 8083 8084 8085; do
  if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/health/live"; then
    echo "something still answers on $port"; exit 1
  fi
done
for port in 4222 2525; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "nats-server or the SMTP catcher still listens on $port"; exit 1; fi
done
echo "dev: xtask dev started, served the walkthrough and a purchase (its e-mail caught), and stopped cleanly"
