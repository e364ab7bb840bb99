#!/usr/bin/env python3
"""Draws one Grafana dashboard of deploy/grafana/dashboards as a PNG, from its own queries
against a live Prometheus: every panel at its grid position, every target as a line (or, for
stat and bar-gauge panels, its current value).

Grafana itself needs its container image (docker compose's `observability` profile runs it);
this is how the docs get a picture of a dashboard with real data on a machine without one,
and how CI checks that every panel draws.

Usage: dashboard-snapshot.py PROMETHEUS_URL DASHBOARD_JSON OUT_PNG [MINUTES]
Needs matplotlib (pinned in .ci/checks/observability.sh).
"""

import json
import sys
import time
import urllib.parse
import urllib.request

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (the backend is chosen first)

PROM, DASHBOARD, OUT = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
MINUTES = int(sys.argv[4]) if len(sys.argv) > 4 else 10
END = time.time()
START = END - MINUTES * 60
STEP = max(5, MINUTES * 60 // 120)
SUBSTITUTIONS = {"$__rate_interval": "1m", "$__range": f"{MINUTES}m", "$service": ".*"}


def prom(path, **params):
    url = f"{PROM}/api/v1/{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=30) as response:
        body = json.load(response)
    if body.get("status") != "success":
        raise RuntimeError(body)
    return body["data"]["result"]


def concrete(expr):
    for placeholder, value in SUBSTITUTIONS.items():
        expr = expr.replace(placeholder, value)
    return expr


def legend(template, labels):
    text = template
    for key, value in labels.items():
        text = text.replace("{{" + key + "}}", value)
    while "{{" in text and "}}" in text:
        start, end = text.index("{{"), text.index("}}") + 2
        text = text[:start] + text[end:]
    return text.strip() or json.dumps(labels)


def scale(unit, values):
    """Values in the panel's unit, and the axis label."""
    if unit == "s":
        return [v * 1000 for v in values], "ms"
    if unit == "percentunit":
        return [v * 100 for v in values], "%"
    return values, {"reqps": "req/s", "ops": "ops/s"}.get(unit, "")


def main():
    dashboard = json.load(open(DASHBOARD))
    panels = dashboard["panels"]
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    height = rows * 0.42 + 0.8
    figure = plt.figure(figsize=(18, height))
    figure.suptitle(f"{dashboard['title']}  (last {MINUTES} min, from Prometheus at {PROM})", fontsize=13,
                    y=1 - 0.15 / height)
    # Grafana's grid: 24 columns, rows of equal height; each panel keeps room for its title
    # above and its tick labels below (inches turned into figure fractions).
    top, row = 1 - 0.6 / height, (1 - 0.6 / height) / rows
    drawn = 0
    for panel in panels:
        pos = panel["gridPos"]
        left, width = pos["x"] / 24 + 0.035, pos["w"] / 24 - 0.045
        bottom = top - (pos["y"] + pos["h"]) * row + 0.55 / height
        axis = figure.add_axes([left, bottom, width, pos["h"] * row - 0.85 / height])
        axis.set_title(panel["title"], fontsize=9, loc="left")
        unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
        if panel["type"] in ("stat", "bargauge"):
            names, values = [], []
            for target in panel["targets"]:
                for series in prom("query", query=concrete(target["expr"])):
                    names.append(legend(target.get("legendFormat", ""), series["metric"]))
                    values.append(float(series["value"][1]))
            shown, label = scale(unit, values)
            axis.barh(names, shown, color="#5794f2")
            for index, value in enumerate(shown):
                axis.text(value, index, f" {value:.3g}{label}", va="center", fontsize=8)
            axis.tick_params(labelsize=7)
            drawn += bool(values)
            continue
        lines = 0
        for target in panel["targets"]:
            result = prom("query_range", query=concrete(target["expr"]), start=START, end=END, step=STEP)
            for series in result[:12]:
                times = [(float(t) - END) / 60 for t, _ in series["values"]]
                values, label = scale(unit, [float(v) if v not in ("NaN", "+Inf", "-Inf") else float("nan")
                                             for _, v in series["values"]])
                axis.plot(times, values, linewidth=1, label=legend(target.get("legendFormat", ""), series["metric"]))
                axis.set_ylabel(label, fontsize=7)
                lines += 1
        axis.tick_params(labelsize=7)
        axis.set_xlabel("minutes ago", fontsize=7)
        axis.grid(alpha=0.3)
        if lines:
            axis.legend(fontsize=6, loc="upper left", ncol=2 if lines > 6 else 1, framealpha=0.6)
            drawn += 1
        else:
            axis.text(0.5, 0.5, "no data", transform=axis.transAxes, ha="center", color="grey")
    figure.savefig(OUT, dpi=80, bbox_inches="tight")
    print(f"{OUT}: {drawn} of {len(panels)} panels with data")
    if drawn == 0:
        sys.exit("no panel drew any data")


main()
