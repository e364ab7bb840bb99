#!/usr/bin/env bash
# The committed offline query data (services/<name>/.sqlx) matches the migrations and the
# static statements: regenerated against freshly migrated databases and compared, so a changed
# column type or a statement edited without `scripts/sqlx-prepare.sh` fails here, not in a
# build elsewhere.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/sqlx-prepare.sh --check
echo "sqlx: offline query data is current"
