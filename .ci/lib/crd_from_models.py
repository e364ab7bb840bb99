#!/usr/bin/env python3
"""Turns the JSON Schema of a kubernetes-models kind (generated from its TypeScript declarations by
ts-json-schema-generator) into a CustomResourceDefinition the API server accepts: a structural
openAPIV3Schema (every node typed, no $ref, no unions but int-or-string and nullable).

The cluster check (.ci/checks/cluster.sh) uses it for CloudNativePG's Cluster: the npm package
@kubernetes-models/cloudnative-pg declares the type generated from CloudNativePG's Go API, whose
real CRD is on no registry this project reaches.

Usage: crd_from_models.py <schema.json> <group> <version> <Kind> <plural> > crd.json
Rewrites, each checked (anything else fails instead of being let through):
  - `$ref` inlined; a type that contains itself is cut there with
    `x-kubernetes-preserve-unknown-fields` (structural schemas cannot recurse);
  - `type: [X, "null"]` and anyOf/oneOf with a `null` member become X with `nullable: true`;
  - `number | string` (IntOrString, Quantity) becomes `x-kubernetes-int-or-string: true`;
  - `const` becomes a one-value `enum`; `additionalProperties: false` is dropped (the API server
    prunes unknown fields and refuses them under strict field validation), a map's value schema
    stays `additionalProperties`; an object or value of any shape (`{}`, an object with neither
    properties nor a value schema, e.g. FieldsV1) preserves unknown fields;
  - at the root: apiVersion and kind plain strings, metadata `type: object` (the API server
    supplies its schema), and only the kind's own fields (spec) left required.
"""
import json
import sys

# Keywords the API server's JSONSchemaProps know and that carry over as they are.
KEPT = {"description", "enum", "format", "pattern", "minimum", "maximum", "exclusiveMinimum",
        "exclusiveMaximum", "minLength", "maxLength", "minItems", "maxItems", "uniqueItems",
        "minProperties", "maxProperties", "multipleOf", "default", "title"}
# Keywords dropped on purpose; any other one is an error.
DROPPED = {"$schema", "definitions", "$defs", "$id", "$comment", "examples", "markdownDescription"}
NUMERIC = {"number", "integer"}


class Converter:
    def __init__(self, root):
        self.definitions = {**root.get("definitions", {}), **root.get("$defs", {})}

    def resolve(self, ref):
        for prefix in ("#/definitions/", "#/$defs/"):
            if ref.startswith(prefix):
                name = ref[len(prefix):].replace("~1", "/").replace("~0", "~")
                if name in self.definitions:
                    return name, self.definitions[name]
        raise SystemExit(f"unresolvable $ref {ref}")

    def convert(self, node, path, stack=()):
        if node is True or node == {}:
            return {"x-kubernetes-preserve-unknown-fields": True}
        if not isinstance(node, dict):
            raise SystemExit(f"{path}: not a schema: {node!r}")
        if "$ref" in node:
            name, target = self.resolve(node["$ref"])
            rest = {k: v for k, v in node.items() if k != "$ref"}
            if name in stack:  # the type contains itself: cut the recursion here
                cut = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                if "description" in rest or "description" in target:
                    cut["description"] = rest.get("description", target.get("description"))
                return cut
            return self.convert({**target, **rest}, path, stack + (name,))

        node = dict(node)
        nullable = False
        for key in ("anyOf", "oneOf"):
            if key in node:
                union = node.pop(key)
                members = [m for m in union if not (isinstance(m, dict) and m.get("type") == "null")]
                nullable |= len(members) < len(union)
                node = self.merge_union(node, members, path)
        if "$ref" in node:  # a union of a named type and null
            return {**self.convert(node, path, stack), "nullable": True}
        types = node.get("type")
        if isinstance(types, list):
            if "null" in types:
                nullable = True
                types = [t for t in types if t != "null"]
            if len(types) == 1:
                node["type"] = types[0]
            elif set(types) <= NUMERIC | {"string"} and "string" in types and set(types) & NUMERIC:
                node.pop("type")
                node["x-kubernetes-int-or-string"] = True
            else:
                raise SystemExit(f"{path}: union of types {types} has no structural form")

        out = {}
        if "const" in node:
            out["enum"] = [node["const"]]
            if "type" not in node:
                node["type"] = {str: "string", bool: "boolean", int: "integer", float: "number"}[type(node["const"])]
        for key, value in node.items():
            if key in KEPT:
                out[key] = value
            elif key in ("type", "x-kubernetes-int-or-string", "const", "properties", "items",
                         "additionalProperties", "required") or key in DROPPED:
                pass
            else:
                raise SystemExit(f"{path}: keyword {key!r} is not carried over")
        if node.get("x-kubernetes-int-or-string"):
            out["x-kubernetes-int-or-string"] = True
        kind = node.get("type")
        if kind is None and not out.get("x-kubernetes-int-or-string"):
            if set(node) & {"properties", "additionalProperties"}:
                kind = "object"
            elif "items" in node:
                kind = "array"
            elif "enum" in out:
                kind = "string" if all(isinstance(v, str) for v in out["enum"]) else None
            if kind is None:  # any value at all
                out["x-kubernetes-preserve-unknown-fields"] = True
        if kind:
            out["type"] = kind
        if kind == "object":
            properties = node.get("properties", {})
            extra = node.get("additionalProperties")
            if properties:
                out["properties"] = {name: self.convert(sub, f"{path}.{name}", stack)
                                     for name, sub in properties.items()}
                if extra not in (None, False):
                    raise SystemExit(f"{path}: both properties and additionalProperties")
            elif isinstance(extra, dict) and extra:
                out["additionalProperties"] = self.convert(extra, f"{path}[*]", stack)
            else:  # `true`, `{}`, or nothing known about the fields: keep them as they come
                out["x-kubernetes-preserve-unknown-fields"] = True
            required = [name for name in node.get("required", []) if name in properties]
            if required:
                out["required"] = required
        elif kind == "array":
            if "items" not in node or not isinstance(node["items"], dict):
                raise SystemExit(f"{path}: an array without one item schema")
            out["items"] = self.convert(node["items"], f"{path}[]", stack)
        if nullable:
            out["nullable"] = True
        return out

    def merge_union(self, node, members, path):
        """A union left after removing null: one member, or scalars that int-or-string covers."""
        if len(members) == 1:
            member = members[0]
            if "$ref" in member:
                return {**node, **member}
            return {**member, **node}
        types = set()
        for member in members:
            if not isinstance(member, dict) or set(member) - {"type", "description", "format", "pattern"}:
                raise SystemExit(f"{path}: union {members} has no structural form")
            types |= set(member["type"] if isinstance(member["type"], list) else [member["type"]])
        return {**node, "type": sorted(types)}


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    path, group, version, kind, plural = sys.argv[1:]
    root = json.load(open(path))
    schema = Converter(root).convert(root, kind)
    properties = schema.get("properties", {})
    for name in ("apiVersion", "kind"):
        if name in properties:
            properties[name] = {k: v for k, v in properties[name].items() if k == "description"} | {"type": "string"}
    if "metadata" in properties:
        properties["metadata"] = {"type": "object"}
    schema["required"] = [n for n in schema.get("required", []) if n not in ("apiVersion", "kind", "metadata")]
    if not schema["required"]:
        del schema["required"]
    for name in ("spec", "status"):
        if name not in properties:
            sys.exit(f"{kind} has no {name} in its schema")
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower()},
            "versions": [{
                "name": version,
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": schema},
            }],
        },
    }
    json.dump(crd, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
