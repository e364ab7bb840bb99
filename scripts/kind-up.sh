#!/usr/bin/env bash
# microshop on a local kind cluster, in one command:
#
#   scripts/kind-up.sh
#
#  1. checks that docker (with a running daemon), kind, kubectl, curl and jq are installed;
#  2. creates the kind cluster from kind-config.yaml (reuses it when it already exists);
#  3. builds the images (Dockerfile targets, without provenance attestations) and loads them into
#     the cluster's node as single-platform archives (`docker image save` + `kind load
#     image-archive`: `kind load docker-image` fails on Docker's containerd image store, the
#     default since Docker 29, when an image carries attestations; kubernetes-sigs/kind#3795);
#  4. installs the Shop CRD and the operator (`kubectl apply` of a temporary kustomize overlay of
#     k8s/ that sets the operator image to $IMAGE_REGISTRY/microshop-operator:$IMAGE_TAG, or the
#     Helm chart with INSTALL_WITH=helm) and waits for the operator to be ready;
#  5. applies the full example Shop (k8s/examples/full.yaml) with the kind overrides below, and
#     waits for its Ready condition, printing progress;
#  6. runs a smoke purchase through the NodePorts (scripts/smoke-purchase.sh);
#  7. prints the URLs.
#
# Settings (environment variables):
#   KIND_CLUSTER_NAME  cluster name                          (default: microshop)
#   KIND_NODE_IMAGE    kindest/node image for a new cluster  (default: kind's own default)
#   SHOP_FILE          the Shop to apply                     (default: k8s/examples/full.yaml)
#   INSTALL_WITH       kustomize | helm                      (default: kustomize)
#   SKIP_BUILD=1       do not build images (load the ones already tagged locally)
#   SKIP_SMOKE=1       do not run the smoke purchase
#   READY_TIMEOUT      how long to wait for the Shop         (default: 600s)
#   IMAGE_REGISTRY, IMAGE_TAG  image names to build/load     (default: ghcr.io/microshop, 0.1.0:
#                      the defaults of the operator manifest and of the Shop CRD); used for the
#                      operator on both installation paths and for the Shop's images
#
# Kind overrides of the Shop (a merge patch, applied client-side with `kubectl patch --local`):
# the images are the ones just built and loaded into the node, so they come from
# $IMAGE_REGISTRY:$IMAGE_TAG with pullPolicy IfNotPresent (the example names a registry that
# does not exist); the payments failure rate is 0 so the smoke purchase is deterministic; the
# services are exposed on the NodePorts that kind-config.yaml maps; and every workload runs one
# replica with small requests, so the shop fits a 2-CPU / 4 GiB machine next to kind's control
# plane (which requests about 1 CPU itself). .ci/checks/shipping.sh checks that budget. The
# example's Ingress and autoscalers are switched off (kind has no ingress controller and no
# metrics-server by default); the storefront is reached on its NodePort. The e-mails go to a
# Mailpit in the namespace `mail` (k8s/kind/mailpit.yaml), which the script starts: the
# example's relay does not exist in kind.
#
# `--print-shop` prints that Shop; `--print-operator` prints the operator manifests of the
# kustomize path (both used by .ci/checks/shipping.sh; they need only kubectl and jq).
#
# Tear down: kind delete cluster --name microshop
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

CLUSTER="${KIND_CLUSTER_NAME:-microshop}"
SHOP_FILE="${SHOP_FILE:-k8s/examples/full.yaml}"
INSTALL_WITH="${INSTALL_WITH:-kustomize}"
READY_TIMEOUT="${READY_TIMEOUT:-600s}"
REGISTRY="${IMAGE_REGISTRY:-ghcr.io/microshop}"
TAG="${IMAGE_TAG:-0.1.0}"
OPERATOR_NAMESPACE="${OPERATOR_NAMESPACE:-microshop-system}"
# Host ports: kind-config.yaml maps each NodePort to the same port on 127.0.0.1.
NODE_PORT_PRODUCTS="${NODE_PORT_PRODUCTS:-30080}"
NODE_PORT_USERS="${NODE_PORT_USERS:-30081}"
NODE_PORT_ORDERS="${NODE_PORT_ORDERS:-30082}"
NODE_PORT_PAYMENTS="${NODE_PORT_PAYMENTS:-30083}"
NODE_PORT_JAEGER="${NODE_PORT_JAEGER:-30686}"
NODE_PORT_STOREFRONT="${NODE_PORT_STOREFRONT:-30000}"
# Images to build and load (loadgen runs only when a Shop enables spec.loadGenerator).
TARGETS=(products users orders payments notifications storefront loadgen operator)

# Whether the Dockerfile has a target (storefront and loadgen arrive with their own branches).
has_target() { grep -Eq "^FROM runtime AS $1\$" Dockerfile; }

# The Shop to apply: $SHOP_FILE with the kind overrides merged in, as JSON (needs kubectl, jq).
render_shop() {
  local overlay storefront=true
  has_target storefront || storefront=false
  overlay="$(jq -nc --arg registry "$REGISTRY" --arg tag "$TAG" \
    --argjson products "$NODE_PORT_PRODUCTS" --argjson users "$NODE_PORT_USERS" \
    --argjson orders "$NODE_PORT_ORDERS" --argjson payments "$NODE_PORT_PAYMENTS" \
    --argjson jaeger "$NODE_PORT_JAEGER" --argjson storefront_port "$NODE_PORT_STOREFRONT" \
    --argjson storefront "$storefront" '
    {replicas: 1, resources: {cpuRequest: "25m", memoryRequest: "64Mi", memoryLimit: "256Mi"}} as $small
    | {spec: {
      image: {registry: $registry, tag: $tag, pullPolicy: "IfNotPresent"},
      payments: {failureRate: 0},
      storefront: {enabled: $storefront},
      autoscaling: {enabled: false},
      services: {products: $small, users: $small, orders: $small, payments: $small, storefront: $small,
        notifications: $small},
      notifications: {smtp: {host: "mailpit.mail.svc", port: 1025, tls: "none"}},
      database: {managed: {resources: {cpuRequest: "50m", memoryRequest: "128Mi", memoryLimit: "512Mi"}}},
      exposure: {type: "NodePort", ingress: {enabled: false}, nodePorts: {products: $products, users: $users,
        orders: $orders, payments: $payments, jaeger: $jaeger, storefront: $storefront_port}}}}')"
  kubectl patch --local -f "$SHOP_FILE" --type merge -p "$overlay" -o json
}

# The operator manifests of the kustomize path: k8s/ with the operator image set to
# $REGISTRY/microshop-operator:$TAG by a temporary overlay (k8s/ itself names the release image).
render_operator() {
  # kustomize takes only relative paths to other kustomizations: the overlay lives under target/.
  local overlay_dir=target/kind-operator-overlay
  mkdir -p "$overlay_dir"
  cat >"$overlay_dir/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../k8s
images:
  - name: ghcr.io/microshop/microshop-operator
    newName: $REGISTRY/microshop-operator
    newTag: "$TAG"
EOF
  kubectl kustomize "$overlay_dir"
}

case "${1:-}" in
  --print-shop) render_shop; exit ;;
  --print-operator) render_operator; exit ;;
esac

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
die() { printf '\nkind-up: error: %s\n' "$*" >&2; exit 1; }

# -- 1. prerequisites ------------------------------------------------------------------------
missing=()
for tool in docker kind kubectl curl jq; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "$INSTALL_WITH" = helm ]; then command -v helm >/dev/null 2>&1 || missing+=(helm); fi
if [ "${#missing[@]}" -gt 0 ]; then
  die "missing: ${missing[*]}
  docker:  https://docs.docker.com/engine/install/
  kind:    https://kind.sigs.k8s.io/docs/user/quick-start/#installation
  kubectl: https://kubernetes.io/docs/tasks/tools/
  helm:    https://helm.sh/docs/intro/install/ (only with INSTALL_WITH=helm)
  curl, jq: your package manager"
fi
docker info >/dev/null 2>&1 || die "docker is installed but its daemon does not answer (is Docker running? may this user use it?)"
[ -f "$SHOP_FILE" ] || die "Shop file $SHOP_FILE not found (set SHOP_FILE)"
case "$INSTALL_WITH" in kustomize | helm) ;; *) die "INSTALL_WITH must be kustomize or helm" ;; esac

# -- 2. cluster ------------------------------------------------------------------------------
if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  say "Using the existing kind cluster '$CLUSTER'"
else
  say "Creating the kind cluster '$CLUSTER' from kind-config.yaml"
  create_args=(--name "$CLUSTER" --config kind-config.yaml --wait 120s)
  [ -n "${KIND_NODE_IMAGE:-}" ] && create_args+=(--image "$KIND_NODE_IMAGE")
  kind create cluster "${create_args[@]}"
fi
kubectl config use-context "kind-$CLUSTER" >/dev/null
KUBECTL=(kubectl --context "kind-$CLUSTER")

# -- 3. images -------------------------------------------------------------------------------
built=()
for target in "${TARGETS[@]}"; do
  if has_target "$target"; then built+=("$target"); else echo "note: the Dockerfile has no '$target' target: not built"; fi
done
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  say "Building images (the first build compiles the workspace once, then every target reuses it)"
  revision="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  for target in "${built[@]}"; do
    echo "--- $target"
    # No provenance/SBOM attestations: an image index with attestation manifests is what
    # `ctr images import` in the kind node cannot import (kubernetes-sigs/kind#3795).
    DOCKER_BUILDKIT=1 docker build --target "$target" --provenance=false --sbom=false \
      --build-arg VERSION="$TAG" --build-arg REVISION="$revision" \
      -t "$REGISTRY/microshop-$target:$TAG" .
  done
fi
say "Loading images into the cluster (docker image save + kind load image-archive)"
platform="$(docker version --format '{{.Server.Os}}/{{.Server.Arch}}')"
archive_dir="$(mktemp -d)"
trap 'rm -rf "$archive_dir"' EXIT
save_args=()
# `docker image save --platform` (Docker 28+) writes only this platform's image, so the archive
# never references content it does not hold (the workaround kind documents for #3795).
if docker image save --help 2>/dev/null | grep -q -- '--platform'; then save_args=(--platform "$platform"); fi
for target in "${built[@]}"; do
  docker image save "${save_args[@]}" -o "$archive_dir/$target.tar" "$REGISTRY/microshop-$target:$TAG"
  kind load image-archive --name "$CLUSTER" "$archive_dir/$target.tar"
  rm -f "$archive_dir/$target.tar"
done

# -- 4. operator -----------------------------------------------------------------------------
if [ "$INSTALL_WITH" = helm ]; then
  say "Installing the operator with Helm (charts/microshop-operator)"
  helm upgrade --install microshop-operator charts/microshop-operator \
    --kube-context "kind-$CLUSTER" --namespace "$OPERATOR_NAMESPACE" --create-namespace \
    --set image.registry="$REGISTRY" --set image.tag="$TAG" --wait --timeout 5m
else
  say "Installing the CRD and the operator (k8s/ with the operator image $REGISTRY/microshop-operator:$TAG)"
  render_operator | "${KUBECTL[@]}" apply -f -
fi
"${KUBECTL[@]}" wait --for=condition=Established crd/shops.microshop.dev --timeout=60s
# Both installation paths name it microshop-operator (kustomize: k8s/operator/deployment.yaml;
# Helm: the release name, which contains the chart name).
deployment=deployment/microshop-operator
"${KUBECTL[@]}" -n "$OPERATOR_NAMESPACE" rollout status "$deployment" --timeout=180s

# -- 4b. the SMTP relay ----------------------------------------------------------------------
say "Starting Mailpit, the shop's SMTP relay in kind (k8s/kind/mailpit.yaml)"
"${KUBECTL[@]}" apply -f k8s/kind/mailpit.yaml
"${KUBECTL[@]}" -n mail rollout status deployment/mailpit --timeout=180s

# -- 5. the Shop -----------------------------------------------------------------------------
say "Applying $SHOP_FILE (with the kind overrides)"
shop_json="$(render_shop)" || die "could not read a Shop from $SHOP_FILE"
shop_name="$(jq -r '.metadata.name' <<<"$shop_json")"
shop_ns="$(jq -r '.metadata.namespace // "default"' <<<"$shop_json")"
"${KUBECTL[@]}" create namespace "$shop_ns" --dry-run=client -o yaml | "${KUBECTL[@]}" apply -f -
"${KUBECTL[@]}" apply -f - <<<"$shop_json"
KS=("${KUBECTL[@]}" -n "$shop_ns")

say "Waiting up to $READY_TIMEOUT for shop/$shop_name to be Ready"
"${KS[@]}" wait --for=condition=Ready "shop/$shop_name" --timeout="$READY_TIMEOUT" &
wait_pid=$!
while kill -0 "$wait_pid" 2>/dev/null; do
  printf '%s  phase=%s ready=%s  pods: %s\n' "$(date +%H:%M:%S)" \
    "$("${KS[@]}" get shop "$shop_name" -o jsonpath='{.status.phase}' 2>/dev/null || echo '?')" \
    "$("${KS[@]}" get shop "$shop_name" -o jsonpath='{.status.readyComponents}' 2>/dev/null || echo '?')" \
    "$("${KS[@]}" get pods -l app.kubernetes.io/instance="$shop_name" --no-headers 2>/dev/null \
        | awk '{print $1"="$3}' | tr '\n' ' ')"
  sleep 10
done
if ! wait "$wait_pid"; then
  "${KS[@]}" get shop "$shop_name" -o yaml || true
  die "shop/$shop_name did not become Ready within $READY_TIMEOUT (see the status above; logs: kubectl -n $OPERATOR_NAMESPACE logs $deployment)"
fi
"${KS[@]}" get shop "$shop_name"

# -- 6. smoke purchase -----------------------------------------------------------------------
admin_email="$("${KS[@]}" get shop "$shop_name" -o jsonpath='{.spec.auth.bootstrapAdminEmail}')"
admin_email="${admin_email:-admin@microshop.local}"
admin_password="$("${KS[@]}" get secret "$shop_name-admin" -o jsonpath='{.data.password}' | base64 -d)"
if [ "${SKIP_SMOKE:-0}" != 1 ]; then
  if [ "$("${KS[@]}" get shop "$shop_name" -o jsonpath='{.spec.storefront.enabled}')" != false ]; then
    say "Storefront through its NodePort"
    curl -fsS --retry 5 --retry-delay 2 --retry-all-errors "http://localhost:$NODE_PORT_STOREFRONT/health/ready" >/dev/null \
      || die "the storefront does not answer on http://localhost:$NODE_PORT_STOREFRONT/health/ready"
    echo "ok: http://localhost:$NODE_PORT_STOREFRONT/ is ready"
  fi
  say "Smoke purchase through the NodePorts"
  PRODUCTS_URL="http://localhost:$NODE_PORT_PRODUCTS" USERS_URL="http://localhost:$NODE_PORT_USERS" \
  ORDERS_URL="http://localhost:$NODE_PORT_ORDERS" PAYMENTS_URL="http://localhost:$NODE_PORT_PAYMENTS" \
  ADMIN_EMAIL="$admin_email" ADMIN_PASSWORD="$admin_password" \
    scripts/smoke-purchase.sh
fi

# -- 7. URLs ---------------------------------------------------------------------------------
say "microshop is running on kind cluster '$CLUSTER'"
cat <<EOF
  storefront         http://localhost:$NODE_PORT_STOREFRONT/
  products API docs  http://localhost:$NODE_PORT_PRODUCTS/docs
  users API docs     http://localhost:$NODE_PORT_USERS/docs
  orders API docs    http://localhost:$NODE_PORT_ORDERS/docs
  payments API docs  http://localhost:$NODE_PORT_PAYMENTS/docs
  Jaeger UI          http://localhost:$NODE_PORT_JAEGER   (when spec.tracing.jaeger.enabled)
  e-mails (Mailpit)  kubectl -n mail port-forward svc/mailpit 8025:8025, then http://localhost:8025

  admin login        $admin_email
                     password: kubectl -n $shop_ns get secret $shop_name-admin -o jsonpath='{.data.password}' | base64 -d
  status             kubectl -n $shop_ns get shop $shop_name
  tear down          kind delete cluster --name $CLUSTER
EOF
