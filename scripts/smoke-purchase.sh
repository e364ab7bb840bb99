#!/usr/bin/env bash
# One real purchase through a running microshop, from the outside, with curl:
#   seed the demo catalogue (as the bootstrap admin) -> register a customer -> log in ->
#   pick a product in stock -> POST /orders -> POST /orders/{id}/pay (test card 4242...) ->
#   GET /orders/{id} says "paid".
# Exits non-zero, with the failing request and its answer, at the first step that fails.
#
# Used by scripts/kind-up.sh (NodePorts) and usable against docker compose (the defaults) or
# `cargo xtask dev` (same ports):
#   ADMIN_EMAIL=admin@microshop.example ADMIN_PASSWORD=demo-admin-password-change-me \
#     scripts/smoke-purchase.sh
#
# Environment: PRODUCTS_URL USERS_URL ORDERS_URL PAYMENTS_URL (default http://localhost:8081..8084),
# ADMIN_EMAIL, ADMIN_PASSWORD (required, for seeding), WAIT_SECONDS (default 180).
# Needs: bash, curl, jq.
set -euo pipefail

PRODUCTS_URL="${PRODUCTS_URL:-http://localhost:8081}"
USERS_URL="${USERS_URL:-http://localhost:8082}"
ORDERS_URL="${ORDERS_URL:-http://localhost:8083}"
PAYMENTS_URL="${PAYMENTS_URL:-http://localhost:8084}"
export PRODUCTS_URL USERS_URL ORDERS_URL PAYMENTS_URL
: "${ADMIN_EMAIL:?set ADMIN_EMAIL to the bootstrap admin e-mail}"
: "${ADMIN_PASSWORD:?set ADMIN_PASSWORD to the bootstrap admin password}"
export ADMIN_EMAIL ADMIN_PASSWORD

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

for tool in curl jq; do
  command -v "$tool" >/dev/null 2>&1 || { echo "smoke: '$tool' is required but not installed" >&2; exit 1; }
done

step() { printf '\n== smoke: %s\n' "$*"; }
fail() { printf 'smoke: FAILED: %s\n' "$*" >&2; exit 1; }

# call METHOD URL [BODY [extra curl args...]]: sets $status and $body.
call() {
  local method="$1" url="$2" data="${3:-}"
  shift 3 2>/dev/null || shift $#
  local args=(-sS --max-time 15 -X "$method" -H 'Accept: application/json' -w '\n%{http_code}')
  if [ -n "$data" ]; then args+=(-H 'Content-Type: application/json' --data "$data"); fi
  local out
  out="$(curl "${args[@]}" "$@" "$url" 2>&1)" || true
  status="$(printf '%s\n' "$out" | tail -n 1)"
  body="$(printf '%s\n' "$out" | sed '$d')"
}

expect() { # expect CODE... : fails unless $status is one of them
  local code
  for code in "$@"; do [ "$status" = "$code" ] && return 0; done
  fail "expected HTTP $* but got $status: $body"
}

step "seeding the demo catalogue (waits for every service to be ready)"
sh "$root/deploy/seed/seed.sh"

step "registering a customer"
email="smoke-$(date +%s)-$RANDOM@microshop.example"
password="smoke-Passw0rd-$RANDOM-long-enough"
call POST "$USERS_URL/users" "$(jq -nc --arg e "$email" --arg p "$password" '{email: $e, password: $p, name: "Smoke Test"}')"
expect 201
echo "registered $email"

step "logging in"
call POST "$USERS_URL/auth/login" "$(jq -nc --arg e "$email" --arg p "$password" '{email: $e, password: $p}')"
expect 200
token="$(jq -er '.access_token' <<<"$body")" || fail "no access_token in: $body"
auth=(-H "Authorization: Bearer $token")

step "choosing a product in stock"
call GET "$PRODUCTS_URL/products?in_stock=true&limit=5" ""
expect 200
# The list is an object with an array of products (`items`), or a bare array.
product_id="$(jq -er '(if type == "array" then . else (.items // .products // .data) end)
  | map(select((.stock // 1) > 0)) | .[0].id' <<<"$body")" || fail "no product in stock in: $body"
echo "product $product_id"

step "placing an order"
call POST "$ORDERS_URL/orders" "$(jq -nc --arg id "$product_id" '{items: [{product_id: $id, quantity: 1}]}')" \
  "${auth[@]}" -H "Idempotency-Key: smoke-order-$email"
expect 201
order_id="$(jq -er '.id' <<<"$body")" || fail "no order id in: $body"
order_status="$(jq -r '.status' <<<"$body")"
[ "$order_status" = "pending" ] || fail "new order has status '$order_status', expected pending"
echo "order $order_id is pending, total $(jq -r '.total // .total_amount // "?"' <<<"$body")"

step "paying it with the test card 4242 4242 4242 4242"
card='{"card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2035, "cvc": "123"}}'
# A simulated processor error (PAYMENTS_FAILURE_RATE > 0) is a 5xx; retry it with a new key (a replay of
# the same key would return the same failure). A decline (402) is not retried.
for attempt in 1 2 3; do
  call POST "$ORDERS_URL/orders/$order_id/pay" "$card" "${auth[@]}" -H "Idempotency-Key: smoke-pay-$order_id-$attempt"
  case "$status" in 5??) echo "attempt $attempt: HTTP $status, retrying"; sleep 1 ;; *) break ;; esac
done
expect 200 201
echo "payment accepted"

step "checking the order"
call GET "$ORDERS_URL/orders/$order_id" "" "${auth[@]}"
expect 200
order_status="$(jq -r '.status' <<<"$body")"
[ "$order_status" = "paid" ] || fail "order has status '$order_status' after payment, expected paid"
trace_id="$(jq -r '.trace_id // empty' <<<"$body")"
echo "order $order_id is paid${trace_id:+ (trace $trace_id)}"

printf '\nsmoke: purchase OK\n'
