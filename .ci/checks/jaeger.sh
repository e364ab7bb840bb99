#!/usr/bin/env bash
# Jaeger v2 for real: builds Jaeger from the Go module proxy (scripts/go-tools.sh, cached by
# version), runs `cargo xtask dev` with it (deploy/jaeger/config.yaml, listeners moved to
# 127.0.0.1), makes ONE purchase in headless Chromium through the storefront, and asserts through
# Jaeger's query API that the purchase is one trace holding server spans of storefront, orders,
# products, users and payments, and the notifications span that e-mailed its confirmation
# (services/storefront/tests/web/traced.rs). Then it stops xtask
# with SIGINT and checks that Jaeger went with it.
# Screenshots: target/browser-screenshots/jaeger-trace/. A Jaeger built from the module proxy has no
# web UI (docs/tracing.md); with JAEGER_UI_ASSETS=<a built jaeger-ui> the last screenshot is the
# trace in Jaeger's UI, without it the trace is checked through the API only and the check says so.
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$(date +%s)

# shellcheck source=../lib/chromium.sh
source .ci/lib/chromium.sh
install_chromium

command -v go >/dev/null 2>&1 || { echo "jaeger: Go 1.26 is needed to build Jaeger (scripts/go-tools.sh)"; exit 1; }
jaeger_bin="$(scripts/go-tools.sh jaeger)/jaeger"
[ -x "$jaeger_bin" ] || { echo "jaeger: scripts/go-tools.sh built no $jaeger_bin"; exit 1; }
echo "jaeger binary: $jaeger_bin"

# Build first, so nothing compiles while the shop runs.
cargo build -q --locked -p xtask
cargo test -q --locked -p storefront --test web --no-run

# Ports of their own (unless given), so this check can run beside another `cargo xtask dev`
# (dev.sh's, a developer's) on the same machine.
export XTASK_STOREFRONT_PORT="${XTASK_STOREFRONT_PORT:-18080}" XTASK_PRODUCTS_PORT="${XTASK_PRODUCTS_PORT:-18081}" \
  XTASK_USERS_PORT="${XTASK_USERS_PORT:-18082}" XTASK_ORDERS_PORT="${XTASK_ORDERS_PORT:-18083}" \
  XTASK_PAYMENTS_PORT="${XTASK_PAYMENTS_PORT:-18084}" XTASK_POSTGRES_PORT="${XTASK_POSTGRES_PORT:-55442}" \
  XTASK_JAEGER_PORT="${XTASK_JAEGER_PORT:-26686}" XTASK_JAEGER_OTLP_PORT="${XTASK_JAEGER_OTLP_PORT:-24317}" \
  XTASK_NOTIFICATIONS_PORT="${XTASK_NOTIFICATIONS_PORT:-18085}" XTASK_NATS_PORT="${XTASK_NATS_PORT:-14222}" \
  XTASK_SMTP_PORT="${XTASK_SMTP_PORT:-12525}"

# shellcheck source=../lib/xtask_dev.sh
source .ci/lib/xtask_dev.sh
log="$(mktemp)"
# The developer's own collector would win over Jaeger (see xtask/src/dev/jaeger.rs): not here.
start_xtask_dev "$log" -u OTEL_EXPORTER_OTLP_ENDPOINT -u OTEL_EXPORTER_OTLP_TRACES_ENDPOINT -u OTEL_SDK_DISABLED \
  JAEGER_BIN="$jaeger_bin"
trap 'stop_xtask_dev; echo "--- xtask log (tail)"; tail -n 40 "$log"; tail -n 20 "target/xtask-dev/jaeger-$XTASK_JAEGER_PORT.log" 2>/dev/null || true' ERR
wait_xtask_ready
# The URLs as the banner prints them (ports may have been moved with XTASK_*_PORT).
shop_url="$(awk '$1 == "shop" {print $2; exit}' "$log")"
jaeger_url="$(awk '$1 == "traces" && $2 == "Jaeger" && $3 == "UI" {print $4; exit}' "$log")"
[ -n "$jaeger_url" ] || { echo "xtask dev did not start Jaeger:"; grep "traces" "$log"; exit 1; }
echo "shop at $shop_url, Jaeger at $jaeger_url"

echo "--- one purchase in the browser, then its trace in Jaeger"
STOREFRONT_URL="$shop_url" JAEGER_URL="$jaeger_url" RUST_BACKTRACE=0 \
  cargo test -q --locked -p storefront --test web traced:: -- --ignored --nocapture

stop_xtask_dev_cleanly
grep -q "jaeger stopped" "$log" || { echo "Jaeger was not stopped"; tail -n 20 "$log"; exit 1; }
if curl -s -o /dev/null --max-time 2 "$jaeger_url"; then
  echo "Jaeger still answers on $jaeger_url"; exit 1
fi
target_dir="${CARGO_TARGET_DIR:-target}"
echo "screenshots:"
find "$target_dir/browser-screenshots/jaeger-trace" -name '*.png' | sort
echo "jaeger: one browser purchase is one trace across six services ($(( $(date +%s) - started )) s)"
