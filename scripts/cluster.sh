#!/usr/bin/env bash
# A real Kubernetes control plane on this machine's loopback, with fake Nodes, for testing the
# operator against the real API server, admission (CEL), RBAC, garbage collector, scheduler and
# workload controllers. No container runtime: KWOK plays the kubelets (Pods turn Running and Ready
# without running anything), so only what needs real containers, DNS and storage is left to kind.
#
#   scripts/cluster.sh up [--nodes N] [--node-cpu C] [--node-memory M]   start; prints how to use it
#   scripts/cluster.sh env                                              the KUBECONFIG/PATH exports
#   scripts/cluster.sh down                                             stop everything, remove state
#
# Binaries: etcd 3.6, kube-apiserver, kube-controller-manager, kube-scheduler and kubectl 1.36, and
# KWOK 0.8, built from the Go module proxy by scripts/go-tools.sh (cached; the first build takes
# a long while). State, certificates and logs live in $CLUSTER_DIR (default target/cluster).
# Ports (loopback only): CLUSTER_API_PORT (16443), CLUSTER_ETCD_PORT (23790, and +10 for peers).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${CLUSTER_DIR:-$root/target/cluster}"
api_port="${CLUSTER_API_PORT:-16443}"
etcd_port="${CLUSTER_ETCD_PORT:-23790}"
etcd_peer_port=$((etcd_port + 10))
kwok_port="${CLUSTER_KWOK_PORT:-10247}"

log() { echo "cluster: $*" >&2; }
die() { echo "cluster: $*" >&2; exit 1; }

binaries() {
  k8s_bin="$("$root/scripts/go-tools.sh" kubernetes)"
  etcd_bin="$("$root/scripts/go-tools.sh" etcd)"
  kwok_bin="$("$root/scripts/go-tools.sh" kwok)"
}

# A CA, serving and client certificates, and the service-account signing key, made with openssl.
make_pki() {
  local pki="$dir/pki"
  mkdir -p "$pki"
  command -v openssl >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq openssl >/dev/null; }
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=microshop-test-ca" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
  cert apiserver "/CN=kube-apiserver" \
    "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.96.0.1\nextendedKeyUsage=serverAuth"
  # The control-plane components and KWOK (which stands in for every kubelet) act as admins.
  cert admin "/O=system:masters/CN=cluster-admin" "extendedKeyUsage=clientAuth"
  cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "extendedKeyUsage=clientAuth"
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
}

cert() {
  local pki="$dir/pki" name="$1" subject="$2" extensions="$3"
  openssl req -newkey rsa:2048 -nodes -subj "$subject" -keyout "$pki/$name.key" -out "$pki/$name.csr" 2>/dev/null
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 2 \
    -extfile <(printf '%b\n' "$extensions") -out "$pki/$name.crt" 2>/dev/null
}

admin_kubeconfig() {
  local pki="$dir/pki"
  cat >"$dir/admin.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: microshop-test
    cluster:
      server: https://127.0.0.1:$api_port
      certificate-authority: $pki/ca.crt
users:
  - name: admin
    user:
      client-certificate: $pki/admin.crt
      client-key: $pki/admin.key
contexts:
  - name: microshop-test
    context: {cluster: microshop-test, user: admin}
current-context: microshop-test
EOF
}

# Starts a component in the background, its output in logs/<name>.log and its pid in pids/<name>.
start() {
  local name="$1"
  shift
  mkdir -p "$dir/logs" "$dir/pids"
  setsid "$@" >"$dir/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$dir/pids/$name"
}

alive() { kill -0 "$(cat "$dir/pids/$1")" 2>/dev/null; }

wait_for() {
  local what="$1" seconds="$2" component="$3"
  shift 3
  for _ in $(seq 1 "$seconds"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    alive "$component" || { tail -n 30 "$dir/logs/$component.log" >&2; die "$component exited while waiting for $what"; }
    sleep 1
  done
  tail -n 30 "$dir/logs/$component.log" >&2
  die "no $what after $seconds s"
}

admin_kubectl() { "$k8s_bin/kubectl" --kubeconfig "$dir/admin.kubeconfig" "$@"; }

# Whether exactly N Nodes report Ready.
nodes_ready() { [ "$(admin_kubectl get nodes --no-headers 2>/dev/null | grep -c ' Ready ')" -eq "$1" ]; }

up() {
  local nodes=2 node_cpu=4 node_memory=12Gi
  while [ $# -gt 0 ]; do
    case "$1" in
      --nodes) nodes="$2"; shift 2 ;;
      --node-cpu) node_cpu="$2"; shift 2 ;;
      --node-memory) node_memory="$2"; shift 2 ;;
      *) die "unknown option $1" ;;
    esac
  done
  [ ! -d "$dir/pids" ] || die "a cluster is already up in $dir (scripts/cluster.sh down first)"
  binaries
  rm -rf "$dir" && mkdir -p "$dir"
  make_pki
  admin_kubeconfig
  local pki="$dir/pki"

  start etcd "$etcd_bin/etcd" --name microshop-test --data-dir "$dir/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-cluster "microshop-test=http://127.0.0.1:$etcd_peer_port" \
    --listen-metrics-urls "" --unsafe-no-fsync --quota-backend-bytes 2147483648 --log-level warn
  wait_for "etcd health" 30 etcd curl -sf "http://127.0.0.1:$etcd_port/health"

  # RBAC on, as in any real cluster; Node authorization too, as kubeadm and kind set it.
  start kube-apiserver "$k8s_bin/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --client-ca-file "$pki/ca.crt" \
    --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$pki/apiserver-kubelet-client.key" \
    --authorization-mode Node,RBAC \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --service-cluster-ip-range 10.96.0.0/16 --endpoint-reconciler-type none \
    --allow-privileged=true --profiling=false --v 1
  wait_for "API server readiness" 90 kube-apiserver admin_kubectl get --raw /readyz

  start kube-controller-manager "$k8s_bin/kube-controller-manager" \
    --kubeconfig "$dir/admin.kubeconfig" --authentication-kubeconfig "$dir/admin.kubeconfig" \
    --authorization-kubeconfig "$dir/admin.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false \
    --root-ca-file "$pki/ca.crt" --service-account-private-key-file "$pki/sa.key" \
    --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
    --use-service-account-credentials=false --concurrent-gc-syncs 5 --profiling=false --v 1
  start kube-scheduler "$k8s_bin/kube-scheduler" \
    --kubeconfig "$dir/admin.kubeconfig" --authentication-kubeconfig "$dir/admin.kubeconfig" \
    --authorization-kubeconfig "$dir/admin.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false --profiling=false --v 1
  start kwok "$kwok_bin/kwok" --kubeconfig "$dir/admin.kubeconfig" \
    --config "$root/tools/cluster/kwok-stages.yaml" \
    --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --node-lease-duration-seconds 40 --server-address "127.0.0.1:$kwok_port" --node-ip 10.244.0.1 --cidr 10.244.0.0/16

  # The default ServiceAccount in `default` shows the controller manager is working.
  wait_for "the controller manager (default ServiceAccount)" 60 kube-controller-manager \
    admin_kubectl get serviceaccount default -n default
  for i in $(seq 1 "$nodes"); do
    sed -e "s/NODE_NAME/kwok-node-$i/g" -e "s/NODE_CPU/$node_cpu/g" -e "s/NODE_MEMORY/$node_memory/g" \
      "$root/tools/cluster/nodes.yaml" | admin_kubectl apply -f - >/dev/null
  done
  wait_for "$nodes Ready Node(s)" 60 kwok nodes_ready "$nodes"
  log "up: Kubernetes $(admin_kubectl version -o json | sed -n 's/.*"gitVersion": "\(v[^"]*\)".*/\1/p' | tail -1)," \
    "$nodes node(s) of $node_cpu CPU and $node_memory"
  env_exports
}

env_exports() {
  [ -f "$dir/admin.kubeconfig" ] || die "no cluster in $dir (scripts/cluster.sh up)"
  [ -n "${k8s_bin:-}" ] || k8s_bin="$("$root/scripts/go-tools.sh" kubernetes)"
  echo "export KUBECONFIG=$dir/admin.kubeconfig"
  echo "export PATH=$k8s_bin:\$PATH"
}

down() {
  [ -d "$dir/pids" ] || { log "nothing to stop in $dir"; return 0; }
  # Stop in reverse order so nothing logs errors about a component already gone.
  for name in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
    [ -f "$dir/pids/$name" ] || continue
    local pid
    pid="$(cat "$dir/pids/$name")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$dir/pids" "$dir/etcd"
  log "down (logs kept in $dir/logs)"
}

case "${1:-}" in
  up) shift; up "$@" ;;
  env) env_exports ;;
  down) down ;;
  *) die "usage: scripts/cluster.sh up [--nodes N] [--node-cpu C] [--node-memory M] | env | down" ;;
esac
