#!/usr/bin/env bash
# The operator against a real Kubernetes control plane (issue 23): etcd, kube-apiserver with RBAC,
# kube-controller-manager (garbage collector, workload controllers), kube-scheduler, and KWOK in
# place of kubelets, all started by scripts/cluster.sh on loopback. What only a real API server
# shows is asserted here: the CRD's CEL rules compile and refuse bad Shops, the operator's RBAC is
# enough (it runs with its ServiceAccount's token, not an admin certificate), Shops become Ready
# only once the workloads have rolled out, leader election hands over, and deletion goes through
# the real garbage collector. Pods never run (no container runtime): kind shows the rest.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$(pwd)"

work="$root/target/cluster-check"
rm -rf "$work" && mkdir -p "$work"
export CLUSTER_DIR="$root/target/cluster"
# Loopback ports besides scripts/cluster.sh's own (CLUSTER_API_PORT and the rest).
proxy_port="${CLUSTER_PROXY_PORT:-16444}"
operator_a_port="${CLUSTER_OPERATOR_PORT:-19281}"
operator_b_port=$((operator_a_port + 1))

for tool in jq curl openssl; do
  command -v "$tool" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "$tool" >/dev/null; }
done
# shellcheck source=../lib/cluster_helpers.sh
source .ci/lib/cluster_helpers.sh

cleanup() {
  local status=$?
  for replica in operator-a operator-b; do stop_operator "$replica" -KILL; done
  [ -f "$work/proxy.pid" ] && { kill -CONT "$(cat "$work/proxy.pid")" 2>/dev/null; kill "$(cat "$work/proxy.pid")" 2>/dev/null; }
  if [ "$status" -ne 0 ]; then
    for replica in operator-a operator-b; do
      [ -f "$work/$replica.log" ] && { echo "--- $replica log (tail)"; tail -n 25 "$work/$replica.log"; }
    done
    echo "--- logs of the control plane: $CLUSTER_DIR/logs, of the operators: $work"
  fi
  scripts/cluster.sh down || true
}
trap cleanup EXIT

step "building the operator"
cargo build -q --locked -p operator
scripts/cluster.sh down >/dev/null 2>&1 || true
step "starting the control plane (first run builds Kubernetes, etcd and KWOK from the Go module proxy)"
start_time=$SECONDS
scripts/cluster.sh up --nodes 2 --node-cpu 4 --node-memory 12Gi
eval "$(scripts/cluster.sh env)"
echo "control plane up in $((SECONDS - start_time)) s"

step "the CRD: the API server compiles its schema and CEL rules"
kubectl apply --server-side -f k8s/crd.yaml 2>&1 | tee "$work/crd-apply.txt"
# A warning names something the server ignores (e.g. an unknown format): the CRD must be clean.
if grep -i warning "$work/crd-apply.txt"; then fail "the API server warned about k8s/crd.yaml"; fi
kubectl wait --for condition=Established --timeout 30s crd/shops.microshop.dev

step "the operator's RBAC, and a kubeconfig with its ServiceAccount's token"
for file in namespace serviceaccount clusterrole clusterrolebinding role rolebinding; do
  kubectl apply -f "k8s/operator/$file.yaml"
done
server="$(kubectl config view -o jsonpath='{.clusters[0].cluster.server}')"
service_account_kubeconfig "$server" microshop-system microshop-operator "$work/operator.kubeconfig"
service_account_kubeconfig "https://127.0.0.1:$proxy_port" microshop-system microshop-operator "$work/operator-via-proxy.kubeconfig"
as_operator() { kubectl --kubeconfig "$work/operator.kubeconfig" "$@"; }
[ "$(as_operator auth can-i patch deployments.apps -n any 2>/dev/null)" = yes ] || fail "the operator's token cannot patch Deployments"
[ "$(as_operator auth can-i get pods -n any 2>/dev/null || true)" = no ] || fail "the token is not confined by RBAC (it may read Pods)"
echo "the token is the ServiceAccount's: it may patch Deployments and may not read Pods"

step "PersistentVolumes for the database claims (nothing provisions storage here)"
# Claims of the examples ask for no class or for `standard` (full.yaml, kind's default class).
for class in "" standard; do
  for i in $(seq 1 30); do
    cat <<EOF
apiVersion: v1
kind: PersistentVolume
metadata: {name: "fake-pv${class:+-$class}-$i", labels: {microshop.dev/test-volume: "true"}}
spec:
  storageClassName: "$class"
  capacity: {storage: 100Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  hostPath: {path: /nonexistent/fake-pv-$i}
---
EOF
  done
done | kubectl apply -f - >/dev/null
echo "60 PersistentVolumes of 100Gi: 30 without a class, 30 of class standard"

step "two operator replicas: operator-a through a freezable proxy, operator-b direct"
python3 tools/cluster/freezable_proxy.py "$proxy_port" "${server##*:}" &
echo $! >"$work/proxy.pid"
wait_until 10 "the proxy to listen" bash -c "echo > /dev/tcp/127.0.0.1/$proxy_port" || fail "the proxy did not start"
start_operator operator-a "$work/operator-via-proxy.kubeconfig" "$operator_a_port"
wait_until 60 "operator-a holds the leader Lease" lease_held_by operator-a \
  || fail "operator-a did not become leader"
start_operator operator-b "$work/operator.kubeconfig" "$operator_b_port"
wait_until 30 "operator-b serving health" curl -sf "http://127.0.0.1:$operator_b_port/readyz" || fail "operator-b not ready"
sleep 6
[ "$(lease_holder)" = operator-a ] || fail "the Lease moved to $(lease_holder) while operator-a was healthy"
grep -q "controller started" "$work/operator-b.log" && fail "operator-b started its controller while standing by"
echo "operator-a leads, operator-b stands by"

# ---------------------------------------------------------------------------------------------
step "minimal Shop: Ready only after the rollouts"
kubectl create namespace microshop
kubectl apply -f k8s/examples/minimal.yaml
wait_until 30 "a first status" has_status microshop shop \
  || fail "the operator wrote no status for Shop microshop/shop"
echo "first status: phase $(shop_field microshop shop '{.status.phase}'), ready $(shop_field microshop shop '{.status.readyComponents}')"
wait_shop_ready 180 microshop shop || fail "minimal Shop not Ready"
workloads_rolled_out microshop || fail "Shop Ready while a workload has not rolled out"
ready_after_every_pod microshop shop || fail "the Shop turned Ready before every Pod did"
echo "Ready at generation $(shop_field microshop shop '{.metadata.generation}') with every workload rolled out"

cargo run -q --locked -p operator -- render k8s/examples/minimal.yaml >"$work/minimal.yaml"
assert_owned_objects microshop shop "$work/minimal.yaml"

step "kubectl get shop shows the printer columns"
kubectl get shop -n microshop | tee "$work/get-shop.txt"
head -1 "$work/get-shop.txt" | grep -Eq '^NAME +PHASE +READY +AGE' || fail "printer columns missing"
grep -Eq '^shop +Ready +([0-9]+)/\1 ' "$work/get-shop.txt" || fail "the row does not read Ready n/n"

step "invalid Shops are refused by the API server with the CEL rule's message"
refused() {
  local message="$1" manifest="$2"
  if echo "$manifest" | kubectl apply -f - 2>"$work/refusal.txt"; then
    fail "the API server accepted an invalid Shop (expected: $message)"
  fi
  grep -qF "$message" "$work/refusal.txt" || { cat "$work/refusal.txt"; fail "refusal without the message: $message"; }
  echo "refused: $message"
}
refused "database.external (a Secret reference per service) is required when mode is external" \
  '{"apiVersion":"microshop.dev/v1alpha1","kind":"Shop","metadata":{"name":"bad","namespace":"microshop"},"spec":{"database":{"mode":"external"}}}'
refused "cpuRequest must not exceed cpuLimit" \
  '{"apiVersion":"microshop.dev/v1alpha1","kind":"Shop","metadata":{"name":"bad","namespace":"microshop"},"spec":{"services":{"products":{"resources":{"cpuRequest":"2","cpuLimit":"500m","memoryRequest":"64Mi","memoryLimit":"128Mi"}}}}}'
refused "events.external (the NATS URL) is required when mode is external" \
  '{"apiVersion":"microshop.dev/v1alpha1","kind":"Shop","metadata":{"name":"bad","namespace":"microshop"},"spec":{"events":{"mode":"external"}}}'
refused "events.external needs one of url and urlSecret" \
  '{"apiVersion":"microshop.dev/v1alpha1","kind":"Shop","metadata":{"name":"bad","namespace":"microshop"},"spec":{"events":{"mode":"external","external":{"url":"nats://a:4222","urlSecret":{"name":"nats-login"}}}}}'
refused "smtp.credentialsSecret needs tls starttls or tls" \
  '{"apiVersion":"microshop.dev/v1alpha1","kind":"Shop","metadata":{"name":"bad","namespace":"microshop"},"spec":{"notifications":{"smtp":{"host":"mail","credentialsSecret":"login"}}}}'
refused "storageSize cannot change" \
  '{"apiVersion":"microshop.dev/v1alpha1","kind":"Shop","metadata":{"name":"shop","namespace":"microshop"},"spec":{"database":{"managed":{"storageSize":"99Gi"}}}}'

step "a spec change rolls out and the status follows"
before="$(shop_field microshop shop '{.metadata.generation}')"
kubectl patch shop shop -n microshop --type merge -p '{"spec":{"services":{"products":{"replicas":3}}}}'
wait_until 20 "a new generation" bash -c "[ \"\$(kubectl get shop shop -n microshop -o jsonpath={.metadata.generation})\" -gt $before ]"
wait_shop_ready 120 microshop shop || fail "Shop not Ready after the change"
[ "$(kubectl get deployment shop-products -n microshop -o jsonpath='{.status.readyReplicas}')" = 3 ] \
  || fail "products does not have 3 ready replicas"
shop_field microshop shop '{.status.components[?(@.name=="products")].readyReplicas}' | grep -qx 3 \
  || fail "the Shop's status does not show products 3/3"
echo "generation $(shop_field microshop shop '{.metadata.generation}'): products 3/3 in the Deployment and in the Shop's status"

# ---------------------------------------------------------------------------------------------
step "leader hand-over: operator-a's API connection hangs; it must stop before its Lease expires"
kill -STOP "$(cat "$work/proxy.pid")"
frozen_at=$(date +%s.%N)
# Polled ten times a second without kubectl, so the exit time is taken within 0.1 s.
for _ in $(seq 1 300); do operator_alive operator-a || break; sleep 0.1; done
operator_alive operator-a && fail "operator-a kept running 30 s with a hung API connection"
exited_at=$(date +%s.%N)
wait_until 40 "operator-b to take the Lease" lease_held_by operator-b \
  || fail "operator-b did not take over"
lease="$(kubectl get lease microshop-operator -n microshop-system -o json)"
acquired_b="$(echo "$lease" | jq -r .spec.acquireTime)"
python3 - "$frozen_at" "$exited_at" "$acquired_b" <<'EOF'
import sys, datetime
frozen, exited = float(sys.argv[1]), float(sys.argv[2])
acquired = datetime.datetime.fromisoformat(sys.argv[3].replace("Z", "+00:00")).timestamp()
print(f"operator-a exited {exited - frozen:.1f} s after its connection froze; "
      f"operator-b acquired the Lease {acquired - frozen:.1f} s after it")
# The renew deadline (10 s) is below the lease duration (15 s): a leader cut off must be gone
# before a standby can take the Lease.
assert exited < acquired, "operator-b led while operator-a was still running"
assert exited - frozen < 15, "operator-a outlived its lease duration"
EOF
grep -q "lost the leader Lease" "$work/operator-a.log" || fail "operator-a exited without saying it lost the Lease"
kill -CONT "$(cat "$work/proxy.pid")"

step "operator-b now reconciles: a change made after the hand-over rolls out"
kubectl patch shop shop -n microshop --type merge -p '{"spec":{"services":{"products":{"replicas":1}}}}'
wait_shop_ready 120 microshop shop || fail "Shop not Ready under operator-b"
[ "$(kubectl get deployment shop-products -n microshop -o jsonpath='{.spec.replicas}')" = 1 ] \
  || fail "operator-b did not apply the change"
echo "operator-b applied generation $(shop_field microshop shop '{.metadata.generation}')"

# ---------------------------------------------------------------------------------------------
step "prometheus-operator's PodMonitor and ServiceMonitor CRDs (full and traffic ask for monitors)"
# The project's own CRDs, read from its Go module (pinned; not copied into the repo).
prometheus_operator_version=v0.85.0
prometheus_operator_dir="$(go mod download -json "github.com/prometheus-operator/prometheus-operator@$prometheus_operator_version" | jq -r .Dir)"
for kind in podmonitors servicemonitors; do
  kubectl apply --server-side -f "$prometheus_operator_dir/example/prometheus-operator-crd/monitoring.coreos.com_$kind.yaml" >/dev/null
done
kubectl wait --for condition=Established --timeout 30s crd/podmonitors.monitoring.coreos.com crd/servicemonitors.monitoring.coreos.com

step "the other examples: full, external (with its Secrets), traffic"
example_ready() {
  local file="$1" ns="$2"
  local name
  name="$(awk '/^kind: Shop/ {shop=1} shop && /^  name:/ {print $2; exit}' "k8s/examples/$file")"
  kubectl create namespace "$ns" >/dev/null
  if [ "$file" = external.yaml ]; then
    # The Secrets a database administrator would have made: one URI per service.
    for service in products users orders payments storefront notifications; do
      kubectl create secret generic "$service-db-app" -n "$ns" \
        --from-literal "uri=postgres://$service:secret@db.example.internal:5432/$service" >/dev/null
    done
    # The login at the provider's relay.
    kubectl create secret generic smtp-login -n "$ns" --type kubernetes.io/basic-auth \
      --from-literal username=shop --from-literal password=relay-password >/dev/null
  fi
  sed "s/^  namespace: microshop$/  namespace: $ns/" "k8s/examples/$file" >"$work/$file"
  kubectl apply -f "$work/$file" >/dev/null
  wait_shop_ready 240 "$ns" "$name" || fail "example $file not Ready"
  workloads_rolled_out "$ns" || fail "example $file Ready before its workloads rolled out"
  cargo run -q --locked -p operator -- render "$work/$file" >"$work/rendered-$file"
  assert_owned_objects "$ns" "$name" "$work/rendered-$file"
  echo "$file: Shop $ns/$name Ready ($(shop_field "$ns" "$name" '{.status.readyComponents}') components)"
}
example_ready full.yaml example-full
example_ready external.yaml example-external
example_ready traffic.yaml example-traffic
# Order events: full runs the operator's NATS (a StatefulSet in the Shop's status, counted in
# Ready), external hands the user's NATS URL to orders and notifications.
shop_field example-full demo '{.status.components[?(@.name=="nats")].readyReplicas}' | grep -qx 1 \
  || fail "full's NATS is not ready in the Shop's status"
shop_field example-full demo '{.status.conditions[?(@.type=="EventsReady")].status}' | grep -qx True \
  || fail "full's EventsReady condition is not True"
for deployment in prod-orders prod-notifications; do
  kubectl get deployment "$deployment" -n example-external \
    -o jsonpath='{.spec.template.spec.containers[0].env[?(@.name=="NATS_URL")].value}' | grep -qx 'nats://nats.infra:4222' \
    || fail "$deployment does not get the external NATS URL"
done
echo "full's NATS is ready and counted; external's orders and notifications use nats://nats.infra:4222"
# External's relay wants STARTTLS and a login: the operator read the user's Secret (its RBAC
# allows it) and hands it over by reference, never by value.
notifications_env() {
  kubectl get deployment prod-notifications -n example-external -o jsonpath="{.spec.template.spec.containers[0].env[?(@.name==\"$1\")]$2}"
}
[ "$(notifications_env SMTP_TLS .value)" = starttls ] || fail "external's notifications has no SMTP_TLS=starttls"
[ "$(notifications_env SMTP_PASSWORD .valueFrom.secretKeyRef.name)" = smtp-login ] \
  || fail "external's notifications does not take SMTP_PASSWORD from the Secret smtp-login"
[ -z "$(kubectl get secret smtp-login -n example-external -o jsonpath='{.metadata.ownerReferences}')" ] \
  || fail "the operator took ownership of the user's SMTP Secret"
echo "external's notifications logs in to its relay over STARTTLS with the Secret smtp-login"
kubectl get podmonitor demo-metrics -n example-full -o jsonpath='{.spec.jobLabel}' | grep -qx app.kubernetes.io/name \
  || fail "full's PodMonitor is missing or has no job label"
# Switching the monitor off prunes it.
kubectl patch shop busy -n example-traffic --type merge -p '{"spec":{"observability":{"prometheus":{"monitor":"None"}}}}' >/dev/null
no_service_monitor() { [ -z "$(kubectl get servicemonitor busy-metrics -n example-traffic --ignore-not-found -o name)" ]; }
wait_until 60 "traffic's ServiceMonitor to be pruned" no_service_monitor || fail "the ServiceMonitor stayed after monitor: None"
echo "full's PodMonitor accepted by its CRD; traffic's ServiceMonitor pruned once switched off"

# ---------------------------------------------------------------------------------------------
step "CloudNativePG Clusters and a Gateway API HTTPRoute, applied through their CRDs"
# The Gateway API's own HTTPRoute CRD, read from its Go module (pinned; not copied into the repo).
gateway_api_version=v1.3.0
gateway_dir="$(go mod download -json "sigs.k8s.io/gateway-api@$gateway_api_version" | jq -r .Dir)"
kubectl apply --server-side -f "$gateway_dir/config/crd/standard/gateway.networking.k8s.io_httproutes.yaml" >/dev/null
# CloudNativePG's Cluster CRD, generated from the type operator.sh checks the Clusters against
# (kubernetes-models, generated from CloudNativePG's Go API; pinned): TypeScript declarations ->
# JSON Schema (ts-json-schema-generator) -> structural openAPIV3Schema (.ci/lib/crd_from_models.py).
command -v node >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null; }
npm install --prefix "$work/cnpg" --no-audit --no-fund --silent --no-save \
  typescript@5.9.3 @kubernetes-models/cloudnative-pg@2.0.0 ts-json-schema-generator@2.10.0
echo '{"compilerOptions": {"module": "nodenext", "moduleResolution": "nodenext", "strict": true}}' >"$work/cnpg/tsconfig.json"
# --expose none inlines every type: the package declares some names twice (IConfigMapKeySelector).
"$work/cnpg/node_modules/.bin/ts-json-schema-generator" --tsconfig "$work/cnpg/tsconfig.json" \
  --path "$work/cnpg/node_modules/@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/Cluster.d.ts" \
  --type ICluster --expose none --no-top-ref --no-type-check --out "$work/cnpg/cluster-schema.json"
python3 .ci/lib/crd_from_models.py "$work/cnpg/cluster-schema.json" postgresql.cnpg.io v1 Cluster clusters \
  >"$work/cnpg/cluster-crd.json"
kubectl apply --server-side -f "$work/cnpg/cluster-crd.json" 2>&1 | tee "$work/cnpg-crd-apply.txt"
if grep -i warning "$work/cnpg-crd-apply.txt"; then fail "the API server warned about the generated Cluster CRD"; fi
kubectl wait --for condition=Established --timeout 30s crd/httproutes.gateway.networking.k8s.io crd/clusters.postgresql.cnpg.io
kubectl get crd clusters.postgresql.cnpg.io -o json \
  | jq -e '[.status.conditions[]? | select(.type == "NonStructuralSchema")] == []' >/dev/null \
  || fail "the generated Cluster CRD's schema is not structural"
kubectl create namespace example-cnpg >/dev/null
sed "s/^  namespace: microshop$/  namespace: example-cnpg/" k8s/examples/cloudnativepg.yaml >"$work/cloudnativepg.yaml"
# Every field the operator sets must be in CloudNativePG's schema: strict field validation refuses
# an unknown one (pruning would drop it silently).
cargo run -q --locked -p operator -- render "$work/cloudnativepg.yaml" \
  | awk 'BEGIN { RS = "\n---\n" } /(^|\n)apiVersion: postgresql\.cnpg\.io\/v1\n/ && /(^|\n)kind: Cluster\n/ { printf "%s\n---\n", $0 }' \
  >"$work/cnpg-clusters.yaml"
kubectl apply --server-side --dry-run=server --validate=strict -f "$work/cnpg-clusters.yaml" | tee "$work/cnpg-dry-run.txt"
[ "$(grep -c 'serverside-applied (server dry run)' "$work/cnpg-dry-run.txt")" -eq 5 ] \
  || fail "the five rendered Clusters did not all pass strict validation against the generated CRD"
kubectl apply -f "$work/cloudnativepg.yaml" >/dev/null
cnpg_clusters() { kubectl get clusters.postgresql.cnpg.io -n example-cnpg -o name 2>/dev/null; }
cnpg_cluster_count_is() { [ "$(cnpg_clusters | wc -l)" -eq "$1" ]; }
wait_until 60 "five CloudNativePG Clusters" cnpg_cluster_count_is 5 \
  || fail "the operator's Clusters were not accepted"
kubectl get httproute big-storefront -n example-cnpg >/dev/null || fail "the HTTPRoute was not accepted"
sleep 5
shop_ready example-cnpg big && fail "Shop Ready while no Cluster has a ready instance"
# Play CloudNativePG's part: report every instance ready, as its status does.
for cluster in $(cnpg_clusters); do
  instances="$(kubectl get "$cluster" -n example-cnpg -o jsonpath='{.spec.instances}')"
  kubectl patch "$cluster" -n example-cnpg --subresource status --type merge \
    -p "{\"status\":{\"readyInstances\":$instances}}" >/dev/null
done
# Clusters are not watched (their CRD may be absent): the operator re-checks a waiting Shop every 30 s.
wait_shop_ready 90 example-cnpg big || fail "Shop not Ready once its Clusters report ready instances"
echo "5 Clusters and the HTTPRoute accepted; Shop Ready once CloudNativePG's part reported the instances ready"

# ---------------------------------------------------------------------------------------------
step "deleting a Shop: the garbage collector removes what it owns; claims and credentials stay (Retain)"
kubectl delete shop shop -n microshop --wait=true --timeout 60s
wait_until 120 "the garbage collector to remove the owned objects" no_owned_left "$work/minimal.yaml" shop \
  || { owned_left "$work/minimal.yaml" shop; fail "owned objects left after deleting the Shop"; }
claims="$(kubectl get pvc -n microshop --no-headers 2>/dev/null | wc -l)"
[ "$claims" -ge 5 ] || fail "expected the 5 database claims to stay, found $claims"
kubectl get secret shop-admin -n microshop >/dev/null || fail "the admin Secret was deleted under Retain"
for service in products users orders payments storefront; do
  kubectl get secret "shop-$service-db" -n microshop >/dev/null || fail "shop-$service-db was deleted under Retain"
done
echo "owned objects gone; $claims claims, shop-admin and the database Secrets kept"

step "a cluster too small for the Shop: the check fails clearly instead of waiting forever"
# New Pods fit only on one 2-CPU node (the others are cordoned); this Shop requests 2.2 CPU.
kubectl cordon kwok-node-1 kwok-node-2 >/dev/null
sed -e "s/NODE_NAME/kwok-small/g" -e "s/NODE_CPU/2/g" -e "s/NODE_MEMORY/4Gi/g" tools/cluster/nodes.yaml | kubectl apply -f - >/dev/null
wait_until 30 "kwok-small Ready" bash -c 'kubectl get node kwok-small --no-headers | grep -q " Ready "'
kubectl create namespace small >/dev/null
kubectl apply -f - >/dev/null <<'EOF'
apiVersion: microshop.dev/v1alpha1
kind: Shop
metadata: {name: heavy, namespace: small}
spec:
  services:
    products: {replicas: 3, resources: {cpuRequest: 500m, memoryRequest: 128Mi, memoryLimit: 256Mi}}
EOF
if wait_shop_ready 45 small heavy 2>"$work/small.txt"; then
  fail "2.2 CPU of requests fit on a 2-CPU node"
fi
grep -q "Insufficient cpu" "$work/small.txt" || { cat "$work/small.txt"; fail "no clear reason given for the Shop not being Ready"; }
{ grep "Ready=False" "$work/small.txt" | head -n 1; grep -m 1 "Insufficient cpu" "$work/small.txt"; }
echo "on one 2-CPU node the Shop stays not Ready within a bounded wait, and the reason is plain: Insufficient cpu"

step "the operators logged no authorization failure and no conflict"
if grep -Ei '"(status|code)":\s*40[39]|forbidden|conflict' "$work"/operator-*.log | grep -v "lost the leader" >"$work/denied.txt"; then
  head -n 5 "$work/denied.txt"
  fail "the operator's log has 403s or conflicts"
fi
echo "no 403 and no 409 in $(cat "$work"/operator-*.log | wc -l) log lines"

echo "cluster checks passed"
