#!/usr/bin/env python3
"""Runs every panel query of the Grafana dashboards against a live Prometheus.

    check_panel_queries.py --prometheus http://127.0.0.1:9090 \
        [--var driftscope-monitor:monitor=m] grafana/dashboards/*.json

For each dashboard the template variables are resolved the way Grafana does: a
`label_values(selector, label)` variable is queried from Prometheus (earlier variables
substituted into its selector) and must return at least one value; its value is the one given
with --var [DASHBOARD_UID:]NAME=VALUE, else "All" when that is the default (the variable's
allValue, or the regex alternation of every value, like Grafana's Prometheus data source),
else the first value.
Built-ins: $__rate_interval (--rate-interval, 1m), $__interval (15s), $__range (--range, 10m).
Then every target's `expr`, variables substituted, goes to /api/v1/query and must succeed
with at least one series holding a finite value (an empty result or only NaN is a panel that
would show "No data"). Prints one OK/FAIL line per query; exit 1 when any query fails.

With --distinct-without LABEL (e.g. instance, while two driftscope processes export the same
monitors), a query also fails when two series of its result differ only in LABEL: the panel
would show a line twice or count it twice. --except UID:PANEL_ID exempts a panel that shows
LABEL on purpose.
Python standard library only.
"""

import argparse
import json
import math
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

VAR_RE = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)(?::\w+)?\]\]|\$(\w+)")
LABEL_VALUES_RE = re.compile(r"^\s*label_values\(\s*(?:(.*),\s*)?(\w+)\s*\)\s*$", re.S)


def api(base, path, params):
    url = f"{base}{path}?" + urllib.parse.urlencode(params, doseq=True)
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as e:
        try:
            return json.load(e)
        except ValueError:
            return {"status": "error", "error": f"HTTP {e.code}"}


def regex_escape(value):
    """What Grafana's Prometheus data source does to each value of a multi-value variable:
    escape regex metacharacters with a backslash that is itself escaped for the PromQL string
    literal (`a.b` becomes `a\\\\.b` in the query text)."""
    return re.sub(r"([\\^$*+?.()|\[\]{}])", r"\\\\\1", value)


def substitute(expr, values, builtins):
    def repl(m):
        name = m.group(1) or m.group(3) or m.group(4)
        if name in builtins:
            return builtins[name]
        if name in values:
            return values[name]
        return m.group(0)  # unknown: left as is, so Prometheus reports it
    return VAR_RE.sub(repl, expr)


def resolve_variables(base, dashboard, overrides, builtins):
    """Variable name -> the text substituted for it in queries; plus problems found."""
    values, problems = {}, []
    for var in dashboard.get("templating", {}).get("list", []):
        name, kind = var["name"], var.get("type")
        if kind == "datasource":
            continue  # only used as the panels' data source, never inside a query
        if kind != "query":
            problems.append(f"variable {name}: type {kind} not supported by this checker")
            continue
        query = var.get("query")
        query = query.get("query", "") if isinstance(query, dict) else query
        m = LABEL_VALUES_RE.match(query or "")
        if not m:
            problems.append(f"variable {name}: only label_values(...) queries are supported: {query!r}")
            continue
        selector, label = m.group(1), m.group(2)
        params = {}
        if selector:
            params["match[]"] = substitute(selector, values, builtins)
        reply = api(base, f"/api/v1/label/{label}/values", params)
        options = sorted(reply.get("data") or [])
        if reply.get("status") != "success" or not options:
            problems.append(f"variable {name}: {query} (as {params or 'no selector'}) returned no values"
                            f" ({reply.get('error', 'empty')})")
            continue
        if name in overrides:
            if overrides[name] not in options:
                problems.append(f"variable {name}: --var value {overrides[name]!r} not among {options}")
            values[name] = overrides[name]
        elif var.get("includeAll") and var.get("current", {}).get("value") in ("$__all", ["$__all"]):
            values[name] = var.get("allValue") or "(" + "|".join(regex_escape(o) for o in options) + ")"
        else:
            values[name] = options[0]
        print(f"     variable {name} = {values[name]}  ({len(options)} option(s): "
              f"{', '.join(options[:8])}{' ...' if len(options) > 8 else ''})")
    return values, problems


def walk(panels):
    for panel in panels:
        yield panel
        yield from walk(panel.get("panels", []))


def finite_series(result_type, result):
    if result_type == "scalar":
        return 1 if math.isfinite(float(result[1])) else 0
    if result_type == "vector":
        return sum(1 for s in result if math.isfinite(float(s["value"][1])))
    if result_type == "matrix":
        return sum(1 for s in result if any(math.isfinite(float(v)) for _, v in s["values"]))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prometheus", required=True)
    parser.add_argument("--var", action="append", default=[], metavar="[UID:]NAME=VALUE")
    parser.add_argument("--rate-interval", default="1m")
    parser.add_argument("--range", default="10m")
    parser.add_argument("--distinct-without", metavar="LABEL",
                        help="fail when two result series differ only in this label")
    parser.add_argument("--except", dest="exempt", action="append", default=[], metavar="UID:PANEL_ID",
                        help="panel exempt from --distinct-without")
    parser.add_argument("dashboards", nargs="+")
    args = parser.parse_args()
    base = args.prometheus.rstrip("/")
    scoped = []  # (dashboard uid or None for all, variable, value)
    for v in args.var:
        key, value = v.split("=", 1)
        uid, _, name = key.rpartition(":")
        scoped.append((uid or None, name, value))
    seconds = {"s": 1, "m": 60, "h": 3600}
    range_s = int(args.range[:-1]) * seconds[args.range[-1]]
    builtins = {"__rate_interval": args.rate_interval, "__interval": "15s", "__interval_ms": "15000",
                "__range": args.range, "__range_s": str(range_s), "__range_ms": str(1000 * range_s)}

    checked = failed = 0
    for path in args.dashboards:
        dashboard = json.load(open(path, encoding="utf-8"))
        print(f"---- {path} ({dashboard.get('title')})")
        overrides = {n: v for uid, n, v in scoped if uid in (None, dashboard.get("uid"))}
        values, problems = resolve_variables(base, dashboard, overrides, builtins)
        for p in problems:
            print(f"FAIL {p}")
        failed += len(problems)
        for panel in walk(dashboard.get("panels", [])):
            for t in panel.get("targets", []):
                if "expr" not in t:
                    continue
                checked += 1
                expr = substitute(t["expr"], values, builtins)
                reply = api(base, "/api/v1/query", {"query": expr})
                where = f"panel {panel.get('id')} {panel.get('title')!r} {t.get('refId')}"
                if reply.get("status") != "success":
                    print(f"FAIL {where}: {expr}\n       -> {reply.get('errorType')}: {reply.get('error')}")
                    failed += 1
                    continue
                data = reply["data"]
                n = finite_series(data["resultType"], data["result"])
                twice = []
                if (args.distinct_without and data["resultType"] in ("vector", "matrix")
                        and f"{dashboard.get('uid')}:{panel.get('id')}" not in args.exempt):
                    seen = {}
                    for series in data["result"]:
                        key = tuple(sorted((k, v) for k, v in series["metric"].items()
                                           if k != args.distinct_without))
                        seen[key] = seen.get(key, 0) + 1
                    twice = [dict(k) for k, c in seen.items() if c > 1]
                if twice:
                    print(f"FAIL {where}: {expr}\n       -> {len(twice)} series differ only in"
                          f" {args.distinct_without}, e.g. {twice[0]}")
                    failed += 1
                elif n == 0:
                    print(f"FAIL {where}: {expr}\n       -> no series with a finite value"
                          f" ({len(data['result'])} series)")
                    failed += 1
                else:
                    print(f"OK   {where}: {n} series")
    print(f"{checked} queries checked, {failed} problem(s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
