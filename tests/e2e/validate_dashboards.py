#!/usr/bin/env python3
"""Offline checks of the Grafana dashboards and of the alert rules' dashboard links.

    validate_dashboards.py --schema grafana/dashboard.schema.json \
        --rules prometheus/rules/driftscope.rules.yml grafana/dashboards/*.json

1. Each dashboard validates against the JSON Schema generated from @grafana/schema
   (grafana/README.md says how it was made). Top-level `__inputs`/`__requires`/`__elements`
   (share-export artifacts) are not part of Grafana's type and are ignored.
2. What the schema cannot say: unique dashboard uids; unique panel ids; panels inside the 24
   column grid and not overlapping; every query panel has targets with a unique refId, a
   non-empty `expr` and the `${datasource}` variable as data source; every `$variable` used in
   a query is defined (or a Grafana built-in).
3. Every alert rule has a `dashboard` annotation whose URL names an existing dashboard uid and
   only `var-` parameters that dashboard defines.
Needs the `jsonschema` package (tests/e2e/run.sh installs it when missing). Exit 1 on any error.
"""

import argparse
import json
import re
import sys
import urllib.parse

try:
    import jsonschema
except ImportError:
    sys.exit("python module jsonschema missing: python3 -m pip install jsonschema")

BUILTIN_VARS = {"__rate_interval", "__interval", "__interval_ms", "__range", "__range_s",
                "__range_ms", "__from", "__to", "__name", "__org", "__user", "__dashboard",
                "__all", "__auto", "__data", "__field", "__series", "__value", "__url_time_range",
                "__timeFilter", "__timezone"}
VAR_RE = re.compile(r"\$\{(\w+)(?:[:.][^}]*)?\}|\[\[(\w+)(?::\w+)?\]\]|\$(\w+)")


def schema_errors(validator, doc):
    """Readable schema errors; for anyOf (panel or row) report the branch the item meant."""
    out = []

    def collect(error):
        if error.validator == "anyOf" and error.context:
            branches = {}
            for sub in error.context:
                branches.setdefault(sub.schema_path[0], []).append(sub)
            # The branch whose `type` const matched is the one the author meant.
            meant = [b for b in branches.values()
                     if not any(e.validator == "const" and list(e.relative_path) == ["type"] for e in b)]
            for sub in min(meant or branches.values(), key=len):
                collect(sub)
        else:
            path = "/" + "/".join(str(p) for p in error.absolute_path)
            out.append(f"{path}: {error.message}")

    for error in validator.iter_errors(doc):
        collect(error)
    return sorted(set(out))


def walk_panels(panels):
    for panel in panels:
        yield panel
        yield from walk_panels(panel.get("panels", []))


def lint(doc):
    errors = []
    defined = {v["name"] for v in doc.get("templating", {}).get("list", [])}
    ids = set()
    boxes = []
    for panel in walk_panels(doc.get("panels", [])):
        pid, title = panel.get("id"), panel.get("title", "")
        where = f"panel {pid} {title!r}"
        if pid in ids:
            errors.append(f"{where}: duplicate panel id")
        ids.add(pid)
        grid = panel.get("gridPos", {})
        # Geometry only for well-typed positions; the schema reports the others.
        if all(isinstance(grid.get(k), (int, float)) for k in "hwxy"):
            if grid["x"] + grid["w"] > 24:
                errors.append(f"{where}: gridPos x + w > 24")
            for other_where, other in boxes:
                if (grid["x"] < other["x"] + other["w"] and other["x"] < grid["x"] + grid["w"]
                        and grid["y"] < other["y"] + other["h"] and other["y"] < grid["y"] + grid["h"]):
                    errors.append(f"{where}: overlaps {other_where}")
            boxes.append((where, grid))
        if panel.get("type") == "row":
            continue
        targets = panel.get("targets", [])
        if not targets:
            errors.append(f"{where}: no targets")
        refs = [t.get("refId") for t in targets]
        if len(set(refs)) != len(refs):
            errors.append(f"{where}: duplicate refId")
        for t in targets:
            if not t.get("expr", "").strip():
                errors.append(f"{where} {t.get('refId')}: empty expr")
            if t.get("datasource", panel.get("datasource", {})).get("uid") != "${datasource}":
                errors.append(f"{where} {t.get('refId')}: data source must be ${{datasource}}")
            for m in VAR_RE.finditer(t.get("expr", "")):
                name = m.group(1) or m.group(2) or m.group(3)
                if name not in defined and name not in BUILTIN_VARS:
                    errors.append(f"{where} {t.get('refId')}: undefined variable ${name}")
    return errors


def rule_links(rules_path, dashboards):
    """Checks the `dashboard:` annotation of every alert (text scan: no YAML parser in stdlib)."""
    text = open(rules_path, encoding="utf-8").read()
    errors = []
    alerts = re.findall(r"^\s*- alert:\s*(\S+)", text, re.M)
    # Split the file at each rule so every link is checked against the alert it belongs to.
    chunks = re.split(r"^\s*- (?=alert:|record:)", text, flags=re.M)[1:]
    for chunk in chunks:
        if not chunk.startswith("alert:"):
            continue
        name = chunk.split()[1]
        links = re.findall(r"^\s*dashboard:\s*'([^']*)'", chunk, re.M)
        if len(links) != 1:
            errors.append(f"alert {name}: expected one dashboard annotation, found {len(links)}")
            continue
        url = urllib.parse.urlsplit(re.sub(r"\{\{.*?\}\}", "X", links[0]))
        m = re.match(r"/d/([^/]+)(?:/[^/]*)?$", url.path)
        if not m or m.group(1) not in dashboards:
            errors.append(f"alert {name}: link {links[0]} names no known dashboard uid "
                          f"({', '.join(sorted(dashboards))})")
            continue
        variables = dashboards[m.group(1)]
        for key in urllib.parse.parse_qs(url.query):
            if not key.startswith("var-") or key[4:] not in variables:
                errors.append(f"alert {name}: link parameter {key} is not a variable of "
                              f"dashboard {m.group(1)} ({', '.join(sorted(variables))})")
    if len(alerts) != len([c for c in chunks if c.startswith("alert:")]):
        errors.append("could not split the rule file into rules")
    return errors, len(alerts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schema", required=True)
    parser.add_argument("--rules", required=True)
    parser.add_argument("dashboards", nargs="+")
    args = parser.parse_args()

    schema = json.load(open(args.schema, encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    failed = False
    uids = {}
    for path in args.dashboards:
        try:
            doc = json.load(open(path, encoding="utf-8"))
        except ValueError as e:
            print(f"FAIL {path}: not JSON: {e}")
            failed = True
            continue
        doc = {k: v for k, v in doc.items() if not k.startswith("__")}
        errors = schema_errors(validator, doc) + lint(doc)
        uid = doc.get("uid")
        if not uid or uid in uids:
            errors.append(f"missing or duplicate uid {uid!r}")
        else:
            uids[uid] = {v["name"] for v in doc.get("templating", {}).get("list", [])}
        panels = sum(1 for p in walk_panels(doc.get("panels", [])) if p.get("type") != "row")
        if errors:
            failed = True
            print(f"FAIL {path}: {len(errors)} error(s)")
            for e in errors:
                print(f"  {e}")
        else:
            print(f"OK   {path}: valid, {panels} panels")
    errors, alerts = rule_links(args.rules, uids)
    for e in errors:
        print(f"FAIL {args.rules}: {e}")
    if not errors:
        print(f"OK   {args.rules}: {alerts} alerts link to existing dashboards and variables")
    return 1 if failed or errors else 0


if __name__ == "__main__":
    sys.exit(main())
