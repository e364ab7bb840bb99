"""Validates the Shop objects in YAML files against the CRD's openAPIV3Schema, strictly.

Usage: python shops_against_crd.py CRD FILE... [--require]

Unknown fields are errors (as with `kubectl apply --validate=strict`): every object schema
with properties gets `additionalProperties: false`. Structural checks only (types, enums,
ranges, patterns, required fields); CEL rules need an API server and are tested in Rust.
With --require, every FILE must contain at least one Shop. Exits 1 on any error.
Used by .ci/checks/operator.sh (the examples) and .ci/checks/shipping.sh (chart output).
"""
import sys

import jsonschema
import yaml


def strict(node):
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            strict(value)
    elif isinstance(node, list):
        for value in node:
            strict(value)


def main(argv):
    require = "--require" in argv
    args = [a for a in argv if a != "--require"]
    crd_path, files = args[0], args[1:]
    with open(crd_path) as f:
        crd = yaml.safe_load(f)
    version = next(v for v in crd["spec"]["versions"] if v.get("storage"))
    schema = version["schema"]["openAPIV3Schema"]
    for name in ("spec", "status"):
        if name in schema.get("properties", {}):
            strict(schema["properties"][name])
    validator = jsonschema.Draft7Validator(schema)
    kind = crd["spec"]["names"]["kind"]
    api_version = crd["spec"]["group"] + "/" + version["name"]
    failures = 0
    for path in files:
        with open(path) as f:
            shops = [d for d in yaml.safe_load_all(f) if d and d.get("kind") == kind]
        if require and not shops:
            print(f"{path}: no {kind} in it")
            failures += 1
        for shop in shops:
            if shop.get("apiVersion") != api_version:
                print(f"{path}: apiVersion {shop.get('apiVersion')!r}, expected {api_version!r}")
                failures += 1
            errors = sorted(validator.iter_errors(shop), key=lambda e: list(e.path))
            for error in errors:
                print(f"{path}: {'.'.join(map(str, error.path))}: {error.message}")
            failures += len(errors)
        print(f"{path}: {len(shops)} {kind} object(s), {'valid' if not failures else 'INVALID'} against {crd_path}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
