#!/usr/bin/env bash
# Offline checks of everything the operator puts into a cluster (issue 5):
#  1. k8s/crd.yaml is what `operator crd` prints (also a cargo test; repeated for a clear message);
#  2. `operator render` of every k8s/examples/*.yaml, the operator's own manifests in k8s/operator/
#     and the CRD pass strict schema validation for Kubernetes 1.33 (unknown fields are errors);
#  3. every example Shop validates against the CRD's openAPIV3Schema, strictly (unknown fields
#     are errors, as with `kubectl apply --validate=strict`);
#  4. the CloudNativePG Clusters, the Gateway API HTTPRoute and the prometheus-operator monitors
#     rendered for the examples match
#     their projects' API types (.ci/lib/third_party_kinds_check.py: unknown fields, types, schema);
#  5. the kit's TLS test (sqlx sslmode/sslrootcert against a local PostgreSQL with a CA made by
#     `openssl`), which needs the `localdb` feature.
# Runs on a fresh machine: installs its Python tools, pinned, into a throwaway virtualenv.
set -euo pipefail
cd "$(dirname "$0")/../.."

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "-- installing kubernetes-validate 1.37.0, jsonschema 4.26.0 (pinned)"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check \
  kubernetes-validate==1.37.0 jsonschema==4.26.0 PyYAML==6.0.3

echo "-- building the operator"
cargo build -q --locked -p operator

echo "-- k8s/crd.yaml is up to date"
cargo run -q --locked -p operator -- crd > "$work/crd.yaml"
if ! diff -u k8s/crd.yaml "$work/crd.yaml"; then
  echo "k8s/crd.yaml is stale: run 'cargo run -q -p operator -- crd > k8s/crd.yaml'" >&2
  exit 1
fi

echo "-- rendering k8s/examples/*.yaml"
mkdir -p "$work/rendered"
for shop in k8s/examples/*.yaml; do
  cargo run -q --locked -p operator -- render "$shop" > "$work/rendered/$(basename "$shop")"
  echo "rendered $shop: $(grep -c '^kind:' "$work/rendered/$(basename "$shop")") objects"
done

echo "-- kubernetes-validate -k 1.33.0 --strict"
"$work/venv/bin/kubernetes-validate" -k 1.33.0 --strict --quiet \
  "$work"/rendered/*.yaml k8s/operator/*.yaml k8s/crd.yaml
echo "rendered objects, k8s/operator/*.yaml and k8s/crd.yaml are valid for Kubernetes 1.33"

echo "-- CloudNativePG Clusters, Gateway API HTTPRoutes, PodMonitors and ServiceMonitors against their projects' API types (npm, pinned)"
command -v node >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null; }
mkdir -p "$work/cnpg"
npm install --prefix "$work/cnpg" --no-audit --no-fund --silent --no-save \
  typescript@5.9.3 @kubernetes-models/cloudnative-pg@2.0.0 @kubernetes-models/gateway-api@2.0.0 \
  @kubernetes-models/prometheus-operator@6.0.0
"$work/venv/bin/python" .ci/lib/third_party_kinds_check.py "$work/cnpg" "$work"/rendered/*.yaml

echo "-- TLS to PostgreSQL (sslmode, sslrootcert) against a local server with a throwaway CA"
command -v openssl >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq openssl >/dev/null; }
cargo test -q --locked -p shopkit --features localdb db::tls_tests

echo "-- example Shops against the CRD schema"
"$work/venv/bin/python" .ci/lib/shops_against_crd.py k8s/crd.yaml k8s/examples/*.yaml --require
echo "operator checks passed"
