"""PromQL assertions over a Prometheus that scraped `cargo xtask dev` under load (observability.sh).

Usage: promql_checks.py PROMETHEUS_URL DASHBOARD_DIR

Checks, each failure listed before exiting 1:
- every service has the semantic conventions' HTTP server histogram with its stable attributes;
- the four API services and the storefront their database histogram, orders and the storefront
  the HTTP client one;
- the business counters counted what loadgen did (orders placed, paid, cancelled, declines);
- the resource (target_info) carries service.version and deployment.environment.name;
- exemplars on the server histogram carry trace ids;
- the fault flag switched on shows as on, and as 503s in products' error rate;
- every query of every dashboard runs, and every metric it names has series.
"""

import json
import pathlib
import re
import sys
import urllib.parse
import urllib.request

PROM = sys.argv[1].rstrip("/")
DASHBOARDS = pathlib.Path(sys.argv[2])
SERVICES = ["storefront", "products", "users", "orders", "payments"]
failures = []


def api(path, **params):
    url = f"{PROM}/api/v1/{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=30) as response:
        body = json.load(response)
    if body.get("status") != "success":
        raise RuntimeError(f"{path} {params}: {body}")
    return body["data"]


def query(expr):
    return api("query", query=expr)["result"]


def value(expr):
    """The single value of an instant query, or None when it has no series."""
    result = query(expr)
    return float(result[0]["value"][1]) if result else None


def check(condition, message):
    print(("ok   " if condition else "FAIL ") + message)
    if not condition:
        failures.append(message)


# HTTP server: every service, stable attributes as labels.
for job in SERVICES:
    series = query(f'count by (http_request_method, http_route, http_response_status_code, url_scheme) '
                   f'(http_server_request_duration_seconds_count{{job="{job}"}})')
    check(len(series) > 0, f"{job}: http_server_request_duration_seconds has series")
    labelled = [s["metric"] for s in series if all(s["metric"].get(k) for k in
                ("http_request_method", "http_route", "http_response_status_code", "url_scheme"))]
    check(len(labelled) > 0, f"{job}: server series carry method, route, status code and scheme")
    buckets = value(f'count(http_server_request_duration_seconds_bucket{{job="{job}", le="+Inf"}})')
    check(bool(buckets), f"{job}: the server histogram has buckets")
    check(value(f'count(target_info{{job="{job}", service_version!="", deployment_environment_name="development"}})') == 1,
          f"{job}: target_info has service_version and deployment_environment_name")

# Database: semconv attributes, for every service that owns a database.
for job in SERVICES:
    n = value(f'count(db_client_operation_duration_seconds_count{{job="{job}", db_system_name="postgresql", '
              f'db_operation_name!="", db_query_summary!="", db_namespace!="", server_address!="", server_port!=""}})')
    check(bool(n), f"{job}: db_client_operation_duration_seconds with system, operation, summary, namespace, server")

# HTTP client: the services that call others.
for job in ["orders", "storefront"]:
    n = value(f'count(http_client_request_duration_seconds_count{{job="{job}", http_request_method!="", '
              f'server_address!="", server_port!=""}})')
    check(bool(n), f"{job}: http_client_request_duration_seconds with method, server address and port")

# Business counters: loadgen places, pays, cancels, and pays once with a declined card.
for metric in ["microshop_orders_placed_total", "microshop_orders_paid_total", "microshop_orders_cancelled_total",
               "microshop_payments_declined_total"]:
    check((value(f"sum({metric})") or 0) > 0, f"{metric} counted loadgen's purchases")
for metric in ["microshop_stock_outs_total", "microshop_reservations_expired_total", "microshop_logins_throttled_total"]:
    check(value(f"sum({metric})") is not None, f"{metric} is exported (even at 0)")
declines = query('microshop_payments_declined_total{microshop_reason!=""}')
check(declines and all(s["metric"]["microshop_reason"] in ("card_declined", "insufficient_funds", "expired_card")
                       for s in declines),
      f"declines carry their decline code ({[s['metric'] for s in declines]})")

# Exemplars: a server latency bucket leads to a trace.
exemplars = api("query_exemplars", query='http_server_request_duration_seconds_bucket{job="orders"}',
                start="0", end="9999999999")
trace_ids = [e["labels"].get("trace_id", "") for s in exemplars for e in s.get("exemplars", [])]
check(any(re.fullmatch(r"[0-9a-f]{32}", t) for t in trace_ids), f"orders' server histogram has exemplars with trace ids ({len(trace_ids)})")

# The fault: the flag shows as on, and products answered 503s while it was.
check(value('max_over_time(max(microshop_fault_flag_active{job="products", feature_flag_key="productsUnavailable"})[5m:5s])') == 1,
      "productsUnavailable showed as on")
check(value('max(microshop_fault_flag_active{job="products", feature_flag_key="productsUnavailable"})') == 0,
      "productsUnavailable shows as off again")
errors = value('sum(increase(http_server_request_duration_seconds_count{job="products", http_response_status_code="503", error_type="503"}[5m]))')
check((errors or 0) > 0, f"the fault shows in products' server errors ({errors})")

# Jaeger's spanmetrics connector, which the Monitor tab reads.
check(bool(value('count(traces_span_metrics_calls_total{service_name="orders"})')),
      "Jaeger's span metrics reach Prometheus (the Monitor tab's source)")

# Dashboards: every query runs, every metric it names exists.
SUBSTITUTIONS = {"$__rate_interval": "1m", "$__range": "5m", "$service": ".*"}
known = set(api("label/__name__/values"))
NOT_METRICS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
               "offset", "inf", "nan"}


def metric_names(expr):
    """The metric names of a PromQL expression: identifiers left once label matchers, label
    lists, ranges and strings are removed, that are neither functions nor keywords."""
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    bare = re.sub(r"\{[^}]*\}", " ", bare)
    bare = re.sub(r"\[[^\]]*\]", " ", bare)
    bare = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", bare)
    names = set()
    for match in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", bare):
        following = bare[match.end():].lstrip()
        if following.startswith("(") or match.group(0).lower() in NOT_METRICS:
            continue
        names.add(match.group(0))
    return names


for path in sorted(DASHBOARDS.glob("*.json")):
    dashboard = json.loads(path.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    exprs += [v["query"]["query"] for v in dashboard.get("templating", {}).get("list", [])]
    for expr in exprs:
        if expr.startswith("label_values"):
            names = set(re.findall(r"label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)", expr))
        else:
            names = metric_names(expr)
        missing = sorted(n for n in names if n not in known)
        check(not missing and names, f"{path.name}: {expr[:70]}... names existing metrics {sorted(names)}"
              + (f", missing {missing}" if missing else ""))
        if expr.startswith("label_values"):
            continue
        concrete = expr
        for placeholder, replacement in SUBSTITUTIONS.items():
            concrete = concrete.replace(placeholder, replacement)
        try:
            query(concrete)
        except Exception as error:  # a PromQL error names the query that broke
            check(False, f"{path.name}: query fails: {concrete}: {error}")

if failures:
    print(f"\n{len(failures)} check(s) failed")
    sys.exit(1)
print("\nall PromQL checks passed")
