#!/usr/bin/env bash
# Creates one login role and one database per microshop service, each database owned by its role
# (docs/deployment-contract.md, "Databases": migrations create tables, indexes and pg_trgm).
#
# Run by the official postgres image from /docker-entrypoint-initdb.d/ on the FIRST start only
# (empty data directory), as the postgres OS user, against the temporary socket-only server.
# Passwords come from <SERVICE>_DB_PASSWORD (docker-compose.yml passes them from .env).
# Idempotent: an existing role gets its password reset, an existing database is left alone, so it
# can also be run by hand against a server that already has some of them:
#   PGHOST=... PGUSER=postgres PRODUCTS_DB_PASSWORD=... ... deploy/postgres/init.sh
set -euo pipefail

services=(products users orders payments storefront notifications)

for service in "${services[@]}"; do
  var="${service^^}_DB_PASSWORD"
  password="${!var:-}"
  if [ -z "$password" ]; then
    echo "init.sh: $var is not set; refusing to create role '$service' without a password" >&2
    exit 1
  fi

  # psql variables (:"name" quotes an identifier, :'pw' a literal) keep values out of the SQL text.
  # \gexec runs the generated statement only when the SELECT returns a row.
  psql --no-psqlrc -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    --set=role="$service" --set=password="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" WITH LOGIN PASSWORD :'password';
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', :'role', :'role', 'UTF8')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'role') \gexec
-- Only the owner (and superusers) may connect: one service cannot read another's data.
REVOKE ALL ON DATABASE :"role" FROM PUBLIC;
GRANT ALL ON DATABASE :"role" TO :"role";
SQL

  # No schema grants needed: since PostgreSQL 15 `public` belongs to pg_database_owner, i.e. to
  # whoever owns the database, which is this role.
  echo "init.sh: database '$service' owned by role '$service' is ready"
done
