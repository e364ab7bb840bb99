#!/usr/bin/env python3
"""Checks every Grafana dashboard of deploy/grafana/dashboards against Grafana's own dashboard
type (`Dashboard` of the `@grafana/schema` npm package, generated from Grafana's CUE schema):
each JSON becomes a TypeScript literal of that type, and `tsc --strict` fails on an unknown
field anywhere (excess property check), a wrong type or a missing required field.

Usage: dashboards_typecheck.py <dir holding node_modules> <dashboard.json>...
"""
import json
import pathlib
import subprocess
import sys


def main():
    root = pathlib.Path(sys.argv[1])
    paths = sys.argv[2:]
    if not paths:
        sys.exit("no dashboard to check")
    lines = ['import type { Dashboard } from "@grafana/schema";']
    for index, path in enumerate(paths):
        dashboard = json.loads(pathlib.Path(path).read_text())
        lines.append(f"// {path}")
        lines.append(f"export const dashboard{index}: Dashboard = {json.dumps(dashboard, indent=2)};")
    (root / "dashboards.ts").write_text("\n".join(lines) + "\n")
    command = ["npx", "--no-install", "tsc", "--strict", "--noEmit", "--skipLibCheck", "--moduleResolution", "bundler",
               "--module", "esnext", "--target", "es2022", "dashboards.ts"]
    if subprocess.run(command, cwd=root).returncode:
        sys.exit("a dashboard does not match Grafana's Dashboard type (errors above)")
    print(f"{len(paths)} dashboards match Grafana's Dashboard type (@grafana/schema, tsc --strict)")


main()
