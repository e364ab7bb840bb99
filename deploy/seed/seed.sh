#!/bin/sh
# Seeds the demo catalogue (deploy/seed/products.json) into a running microshop.
#
#  1. waits until every service given below answers GET /health/ready (the compose images have no
#     shell, so this is also how `docker compose up` learns that the shop is up);
#  2. logs in as the bootstrap admin: POST $USERS_URL/auth/login {email, password} -> access_token;
#  3. POSTs each product to $PRODUCTS_URL/products with `Authorization: Bearer <token>`.
#     201 = created, 409 = that sku exists already (seeded before): both count as success.
#
# POSIX sh + curl only (it runs in the curlimages/curl image, which has no jq). The catalogue is a
# JSON array with exactly one product object per line; this script sends each line as it is.
#
# Environment (defaults match `cargo xtask dev` on the host):
#   USERS_URL, PRODUCTS_URL        base URLs (default http://localhost:8082, http://localhost:8081)
#   ORDERS_URL, PAYMENTS_URL       optional: also waited for when set
#   ADMIN_EMAIL, ADMIN_PASSWORD    the bootstrap admin (required)
#   CATALOGUE                      path of products.json (default: next to this script)
#   WAIT_SECONDS                   how long to wait for readiness (default 180)
set -eu

USERS_URL="${USERS_URL:-http://localhost:8082}"
PRODUCTS_URL="${PRODUCTS_URL:-http://localhost:8081}"
ORDERS_URL="${ORDERS_URL:-}"
PAYMENTS_URL="${PAYMENTS_URL:-}"
CATALOGUE="${CATALOGUE:-$(dirname "$0")/products.json}"
WAIT_SECONDS="${WAIT_SECONDS:-180}"
: "${ADMIN_EMAIL:?set ADMIN_EMAIL (BOOTSTRAP_ADMIN_EMAIL of the users service)}"
: "${ADMIN_PASSWORD:?set ADMIN_PASSWORD (BOOTSTRAP_ADMIN_PASSWORD of the users service)}"

log() { printf 'seed: %s\n' "$*"; }
die() { printf 'seed: error: %s\n' "$*" >&2; exit 1; }

[ -r "$CATALOGUE" ] || die "catalogue $CATALOGUE not found"

wait_ready() {
  name="$1"; url="$2"
  [ -n "$url" ] || return 0
  waited=0
  until curl -fsS -o /dev/null --max-time 3 "$url/health/ready" 2>/dev/null; do
    if [ "$waited" -ge "$WAIT_SECONDS" ]; then
      die "$name ($url/health/ready) not ready after ${WAIT_SECONDS}s; see its logs"
    fi
    [ $((waited % 10)) -eq 0 ] && log "waiting for $name at $url ..."
    sleep 2
    waited=$((waited + 2))
  done
  log "$name is ready"
}

wait_ready users "$USERS_URL"
wait_ready products "$PRODUCTS_URL"
wait_ready orders "$ORDERS_URL"
wait_ready payments "$PAYMENTS_URL"

case "$ADMIN_EMAIL$ADMIN_PASSWORD" in
  *'"'* | *\\*) die "ADMIN_EMAIL/ADMIN_PASSWORD must not contain double quotes or backslashes" ;;
esac

# Log in. Retry only on transport errors and 5xx: repeated 401s would trip the login rate limit.
token=""
attempt=0
while [ -z "$token" ]; do
  attempt=$((attempt + 1))
  body="$(curl -sS --max-time 10 -X POST "$USERS_URL/auth/login" \
    -H 'Content-Type: application/json' -H 'Accept: application/json' \
    --data "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" \
    -w '\n%{http_code}' 2>&1)" || body="$(printf '%s\n000' "$body")"
  status="$(printf '%s\n' "$body" | tail -n 1)"
  case "$status" in
    200)
      token="$(printf '%s\n' "$body" | sed -n 's/.*"access_token"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' | head -n 1)"
      [ -n "$token" ] || die "login answered 200 without an access_token"
      ;;
    000 | 5??)
      [ "$attempt" -lt 10 ] || die "login keeps failing (HTTP $status)"
      log "login answered HTTP $status, retrying"
      sleep 3
      ;;
    *)
      die "login as $ADMIN_EMAIL failed with HTTP $status: $(printf '%s\n' "$body" | sed '$d')
  (is BOOTSTRAP_ADMIN_EMAIL/BOOTSTRAP_ADMIN_PASSWORD set on the users service to the same values?)"
      ;;
  esac
done
log "logged in as $ADMIN_EMAIL"

created=0
existing=0
failed=0
# One product object per line; drop the array brackets and the separating commas.
products="$(grep '^[[:space:]]*{' "$CATALOGUE" | sed 's/[[:space:]]*,[[:space:]]*$//')"
[ -n "$products" ] || die "no products found in $CATALOGUE"
while IFS= read -r product; do
  sku="$(printf '%s\n' "$product" | sed -n 's/.*"sku"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p')"
  answer="$(curl -sS --max-time 10 -X POST "$PRODUCTS_URL/products" \
    -H 'Content-Type: application/json' -H 'Accept: application/json' \
    -H "Authorization: Bearer $token" \
    --data "$product" -w '\n%{http_code}' 2>&1)" || answer="$(printf '%s\n000' "$answer")"
  status="$(printf '%s\n' "$answer" | tail -n 1)"
  case "$status" in
    201 | 200) created=$((created + 1)); log "created $sku" ;;
    409) existing=$((existing + 1)) ;;
    *) failed=$((failed + 1)); log "FAILED $sku: HTTP $status $(printf '%s\n' "$answer" | sed '$d')" ;;
  esac
done <<EOF
$products
EOF

log "catalogue: $created created, $existing already present, $failed failed"
[ "$failed" -eq 0 ] || exit 1
