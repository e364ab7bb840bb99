# Helpers of .ci/checks/cluster.sh (sourced): bounded waits, assertions, and the operator
# replicas it runs as processes against the control plane of scripts/cluster.sh.
# Expects: $work (scratch directory), kubectl on PATH, KUBECONFIG set to the admin kubeconfig.

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

step() { echo "-- $*"; }

# wait_until SECONDS WHAT COMMAND...: polls COMMAND every half second until it succeeds.
wait_until() {
  local seconds="$1" what="$2"
  shift 2
  local deadline=$((SECONDS + seconds))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  echo "timed out after ${seconds}s waiting for: $what" >&2
  return 1
}

# A Shop's field as JSON path, e.g. shop_field NS NAME '{.status.phase}'.
shop_field() { kubectl get shop "$2" -n "$1" -o "jsonpath=$3"; }

# Ready: condition Ready=True and observedGeneration equal to the current generation, read from
# one snapshot of the Shop (separate reads could mix a new generation with an old condition).
shop_ready() {
  kubectl get shop "$2" -n "$1" -o json | jq -e '
    (.status.conditions // [] | map(select(.type == "Ready"))[0].status) == "True"
    and .status.observedGeneration == .metadata.generation' >/dev/null
}

# Explains why a Shop is not Ready: its status, and the scheduler's word on Pods still Pending.
explain_shop() {
  local ns="$1" name="$2"
  echo "Shop $ns/$name:" >&2
  kubectl get shop "$name" -n "$ns" -o jsonpath='{range .status.conditions[*]}  {.type}={.status} {.reason}: {.message}{"\n"}{end}' >&2 || true
  kubectl get pods -n "$ns" --field-selector=status.phase=Pending --no-headers 2>/dev/null | sed 's/^/  pending pod: /' >&2 || true
  kubectl get events -n "$ns" --field-selector reason=FailedScheduling \
    -o jsonpath='{range .items[*]}  {.involvedObject.name}: {.message}{"\n"}{end}' 2>/dev/null | sort -u | head -n 5 >&2 || true
}

# wait_shop_ready SECONDS NS NAME: fails with the explanation above when the Shop is not Ready in time.
wait_shop_ready() {
  local seconds="$1" ns="$2" name="$3"
  if ! wait_until "$seconds" "Shop $ns/$name Ready at its current generation" shop_ready "$ns" "$name"; then
    explain_shop "$ns" "$name"
    return 1
  fi
}

# Every workload of a namespace has rolled out: its controller saw the latest spec and all
# replicas of the current template are ready and no Pod of an older one remains (what
# `kubectl rollout status` checks). Prints the workloads that have not, to stderr.
workloads_rolled_out() {
  local ns="$1" pending
  pending="$(kubectl get deployments,statefulsets -n "$ns" -o json | jq -r '
    .items[] | (.spec.replicas // 1) as $want
      | select(((.status.observedGeneration // 0) >= .metadata.generation
        and (.status.replicas // 0) == $want
        and (.status.readyReplicas // 0) == $want
        and (.status.updatedReplicas // 0) == $want) | not)
      | "\(.kind)/\(.metadata.name): want \($want), status \(.status | tojson)"')"
  [ -z "$pending" ] && return 0
  echo "$pending" >&2
  return 1
}

# The Shop's Ready condition turned True no earlier than the last of its Pods turned Ready (KWOK
# delays each Pod 3-8 s after binding), i.e. the operator waited for the rollouts. $1 NS, $2 NAME.
ready_after_every_pod() {
  local shop_ready_at pods_ready_at
  shop_ready_at="$(shop_field "$1" "$2" '{.status.conditions[?(@.type=="Ready")].lastTransitionTime}')"
  pods_ready_at="$(kubectl get pods -n "$1" -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].lastTransitionTime}{"\n"}{end}' | sort | tail -n 1)"
  echo "last Pod Ready at $pods_ready_at, Shop Ready at $shop_ready_at"
  [ -n "$pods_ready_at" ] && [[ ! "$shop_ready_at" < "$pods_ready_at" ]]
}

# Writes a kubeconfig that authenticates with a ServiceAccount token (TokenRequest API), so the
# API server applies that account's RBAC. $1 SERVER, $2 NAMESPACE, $3 ACCOUNT, $4 OUTPUT.
service_account_kubeconfig() {
  local server="$1" ns="$2" account="$3" out="$4" token ca
  token="$(kubectl create token "$account" -n "$ns" --duration 3h)"
  ca="$(kubectl config view --raw -o jsonpath='{.clusters[0].cluster.certificate-authority}')"
  cat >"$out" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: test
    cluster: {server: "$server", certificate-authority: "$ca"}
users:
  - name: $account
    user: {token: "$token"}
contexts:
  - name: test
    context: {cluster: test, user: $account}
current-context: test
EOF
}

# start_operator NAME KUBECONFIG METRICS_PORT: one replica, as the Deployment runs it (leader
# election on: POD_NAMESPACE and POD_NAME), logging JSON to $work/NAME.log.
start_operator() {
  local name="$1" kubeconfig="$2" port="$3"
  KUBECONFIG="$kubeconfig" POD_NAMESPACE=microshop-system POD_NAME="$name" \
    LISTEN_ADDR="127.0.0.1:$port" RUST_LOG=info,operator=debug \
    target/debug/operator run >"$work/$name.log" 2>&1 &
  echo $! >"$work/$name.pid"
}

operator_alive() { kill -0 "$(cat "$work/$1.pid")" 2>/dev/null; }

stop_operator() {
  local pid
  pid="$(cat "$work/$1.pid" 2>/dev/null)" || return 0
  kill "${2:--TERM}" "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

lease_holder() {
  kubectl get lease microshop-operator -n microshop-system -o jsonpath='{.spec.holderIdentity}'
}

lease_held_by() { [ "$(lease_holder)" = "$1" ]; }

has_status() { [ -n "$(shop_field "$1" "$2" '{.status.phase}')" ]; }

# The objects `operator render` lists for a Shop, checked on the server: each exists, and each
# carries a controller owner reference to the Shop except the data the Shop's deletion must not
# take (docs/operator.md, Deletion): the database credential Secrets and the admin password,
# which must carry none. $1 NS, $2 NAME, $3 RENDERED YAML.
assert_owned_objects() {
  local ns="$1" name="$2" rendered="$3" uid listed missing wrong
  uid="$(shop_field "$ns" "$name" '{.metadata.uid}')"
  listed="$(kubectl get -f "$rendered" --ignore-not-found \
    -o jsonpath='{range .items[*]}{.kind}/{.metadata.name} {.metadata.ownerReferences[?(@.controller==true)].uid}{"\n"}{end}')"
  missing="$(comm -23 <(rendered_names "$rendered") <(echo "$listed" | awk 'NF {print $1}' | sort))"
  [ -z "$missing" ] || fail "objects the operator should have made are missing in $ns: $missing"
  wrong="$(echo "$listed" | awk -v uid="$uid" -v shop="$name" '
    NF { kept = ($1 == "Secret/" shop "-admin" || $1 ~ ("^Secret/" shop "-[a-z]+-db$"))
         if (kept && $2 != "") print $1 " (owned, so deleted with the Shop)"
         if (!kept && $2 != uid) print $1 " (no controller reference to the Shop)" }')"
  [ -z "$wrong" ] || fail "ownership of Shop $ns/$name's objects: $wrong"
  echo "$(echo "$listed" | grep -c .) objects of Shop $ns/$name exist; all but its data Secrets are owned by it"
}

# kind/name of every document of a rendered YAML stream, sorted.
rendered_names() {
  awk '/^---/ {kind=""; name=""; inmeta=0}
       /^kind: / {kind=$2}
       /^metadata:/ {inmeta=1; next}
       inmeta && /^  name: / && name=="" {name=$2}
       /^[a-z]/ && !/^metadata:/ {inmeta=0}
       kind != "" && name != "" {print kind "/" name; kind=""; name=""}' "$1" | sort -u
}

# Objects of a rendered YAML that are still there, but for the data Secrets a deletion keeps.
# $1 RENDERED YAML, $2 SHOP NAME.
owned_left() {
  kubectl get -f "$1" --ignore-not-found -o name 2>/dev/null \
    | grep -Ev "^secret/$2-(admin|[a-z]+-db)$" || true
}

no_owned_left() { [ -z "$(owned_left "$1" "$2")" ]; }
