#!/usr/bin/env bash
# Writes (or, with --check, verifies) the offline query data of every service: the
# `services/<name>/.sqlx/` directories that let `sqlx::query!`/`query_as!` check each statement
# against the schema at compile time without a database (SQLX_OFFLINE=true, set for every
# cargo command in .cargo/config.toml).
#
#   scripts/sqlx-prepare.sh           # after changing a migration or a static statement
#   scripts/sqlx-prepare.sh --check   # CI: fails when the committed data is stale
#
# Each service has its own database, so each crate is compiled against its own: a throwaway
# PostgreSQL cluster (the same binaries the tests use), one database per service with that
# service's migrations applied in order, then `cargo check -p <service>` online with
# SQLX_OFFLINE_DIR pointing where sqlx's macros write one JSON file per statement. This is what
# `cargo sqlx prepare` does, without installing sqlx-cli (a long build on 2 cores).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
services=(products users orders payments storefront notifications)
mode="${1:-write}"
case "$mode" in write | --check) ;; *)
  echo "usage: scripts/sqlx-prepare.sh [--check]" >&2
  exit 2
  ;;
esac

pg_bin=""
if command -v initdb >/dev/null 2>&1; then
  pg_bin="$(dirname "$(command -v initdb)")"
else
  pg_bin="$(find /usr/lib/postgresql -path '*/bin/initdb' 2>/dev/null | sort -V | tail -n 1 | xargs -r dirname)"
fi
[ -n "$pg_bin" ] || { echo "sqlx-prepare: no PostgreSQL (install Debian's postgresql)" >&2; exit 2; }
psql_bin="$(command -v psql || echo "$pg_bin/psql")"

work="$(mktemp -d)"
as_postgres=()
if [ "$(id -u)" = 0 ]; then
  chown postgres:postgres "$work"
  as_postgres=(runuser -u postgres --)
fi
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# shellcheck disable=SC2329 # run by the EXIT trap below
stop() {
  "${as_postgres[@]}" "$pg_bin/pg_ctl" -D "$work/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap stop EXIT
"${as_postgres[@]}" "$pg_bin/initdb" -D "$work/data" -A trust -U postgres --no-sync -E UTF8 --locale=C >/dev/null
"${as_postgres[@]}" "$pg_bin/pg_ctl" -D "$work/data" -l "$work/postgres.log" -w \
  -o "-p $port -k $work -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null

failed=0
for service in "${services[@]}"; do
  crate="services/$service"
  url="postgres://postgres@127.0.0.1:$port/$service"
  "$psql_bin" -q -v ON_ERROR_STOP=1 "postgres://postgres@127.0.0.1:$port/postgres" -c "CREATE DATABASE $service"
  for migration in "$crate"/migrations/*.sql; do
    "$psql_bin" -q -v ON_ERROR_STOP=1 -1 -f "$migration" "$url" >/dev/null
  done
  out="$work/out-$service"
  mkdir -p "$out"
  # A crate is recompiled only when a source file is newer than its last build.
  find "$crate/src" -name '*.rs' -exec touch {} +
  echo "sqlx-prepare: $service"
  DATABASE_URL="$url" SQLX_OFFLINE=false SQLX_OFFLINE_DIR="$out" \
    cargo check --quiet --locked -p "$service" --lib
  if [ "$mode" = --check ]; then
    if ! diff -r "$out" "$crate/.sqlx" >"$work/diff-$service" 2>&1; then
      echo "sqlx-prepare: $crate/.sqlx is stale (run scripts/sqlx-prepare.sh and commit it):" >&2
      head -n 40 "$work/diff-$service" >&2
      failed=1
    fi
  else
    rm -rf "$crate/.sqlx"
    cp -r "$out" "$crate/.sqlx"
    echo "sqlx-prepare: $(find "$crate/.sqlx" -name 'query-*.json' | wc -l) statements in $crate/.sqlx"
  fi
done
exit "$failed"
