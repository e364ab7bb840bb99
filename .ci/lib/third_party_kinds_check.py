#!/usr/bin/env python3
"""Checks the objects of other projects' APIs that the operator renders against those projects'
own API types: CloudNativePG's Cluster, the Gateway API's HTTPRoute, prometheus-operator's
PodMonitor and ServiceMonitor.

The types come from npm packages of kubernetes-models, generated from each project's Go API
(github.com/cloudnative-pg/cloudnative-pg/api/v1, sigs.k8s.io/gateway-api/apis/v1), the same
source their CRDs are generated from. Two checks per object, both must pass:
  1. TypeScript (`tsc --strict --noEmit`): each object becomes a literal of the kind's interface,
     so an unknown field anywhere is an error (excess property check, like
     `kubectl apply --validate=strict`), as is a wrong type or a missing required field;
  2. the package's JSON-schema validator (`new Kind(obj).validate()`): formats, enums, bounds.

Usage: third_party_kinds_check.py <dir holding node_modules> <rendered.yaml>...
Fails when none of the kinds appears: a check that checked nothing must not pass.
"""
import json
import pathlib
import subprocess
import sys

import yaml

# (apiVersion, kind) -> module of the kubernetes-models package that defines it.
KINDS = {
    ("postgresql.cnpg.io/v1", "Cluster"): "@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/Cluster",
    ("gateway.networking.k8s.io/v1", "HTTPRoute"): "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute",
    ("monitoring.coreos.com/v1", "PodMonitor"): "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor",
    ("monitoring.coreos.com/v1", "ServiceMonitor"):
        "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor",
}


def rendered(paths):
    for path in paths:
        for doc in yaml.safe_load_all(pathlib.Path(path).read_text()):
            if doc and (doc.get("apiVersion"), doc.get("kind")) in KINDS:
                yield path, doc


def run(cmd, root, failure):
    if subprocess.run(cmd, cwd=root).returncode:
        sys.exit(failure)


def main():
    root = pathlib.Path(sys.argv[1])
    found = list(rendered(sys.argv[2:]))
    seen = {(doc["apiVersion"], doc["kind"]) for _, doc in found}
    missing = [f"{kind} ({api})" for (api, kind) in KINDS if (api, kind) not in seen]
    if missing:
        sys.exit(f"no rendered object of {', '.join(missing)}: nothing to check them with")

    lines, checks = [], ['import { readFileSync } from "node:fs";']
    for (api, kind), module in KINDS.items():
        lines.append(f'import type {{ I{kind} }} from "{module}";')
        checks.append(f'import {{ {kind} }} from "{module}";')
    checks.append('const objects = JSON.parse(readFileSync(process.argv[2], "utf8"));')
    checks.append("const kinds = { " + ", ".join(kind for _, kind in KINDS) + " };")
    checks.append("for (const obj of objects) new kinds[obj.kind](obj).validate();")
    for i, (path, doc) in enumerate(found):
        lines.append(f"// {path}: {doc['kind']} {doc['metadata']['name']}")
        lines.append(f"export const object{i}: I{doc['kind']} = {json.dumps(doc, indent=2)};")
    (root / "objects.ts").write_text("\n".join(lines) + "\n")
    (root / "tsconfig.json").write_text(json.dumps({
        "compilerOptions": {"strict": True, "noEmit": True, "module": "nodenext",
                            "moduleResolution": "nodenext", "target": "es2022", "skipLibCheck": True},
        "files": ["objects.ts"],
    }))
    run([str(root / "node_modules/.bin/tsc"), "-p", "tsconfig.json"], root,
        "a rendered object does not match its project's API types (tsc output above)")
    (root / "objects.json").write_text(json.dumps([doc for _, doc in found]))
    (root / "validate.mjs").write_text("\n".join(checks) + "\n")
    run(["node", "validate.mjs", "objects.json"], root,
        "a rendered object fails its project's JSON schema (validator output above)")
    counts = ", ".join(f"{sum(1 for _, d in found if d['kind'] == kind)} {kind}" for _, kind in KINDS)
    print(f"{counts}: match their projects' API types (TypeScript, strict) and JSON schemas")


if __name__ == "__main__":
    main()
