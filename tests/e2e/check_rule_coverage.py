#!/usr/bin/env python3
"""Checks that the promtool unit tests cover every alert of the rule file.

    check_rule_coverage.py prometheus/rules/driftscope.rules.yml prometheus/rules/driftscope.rules.test.yml

`promtool test rules` only runs the tests that exist; this fails when an alert has no test
case expecting it to fire (with a `severity` label and all three annotations: summary,
description, dashboard) or no test case expecting it to stay silent (`exp_alerts: []`), and
when a test names an alert the rule file does not have. Text scan of the two files (the
standard library has no YAML parser), tied to the layout promtool documents:
`alertname:` followed by `exp_alerts:`.
"""

import re
import sys


def main() -> int:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    rules = open(sys.argv[1], encoding="utf-8").read()
    tests = open(sys.argv[2], encoding="utf-8").read()
    alerts = re.findall(r"^\s*- alert:\s*(\S+)", rules, re.M)

    fires, silent = set(), set()
    # Each alert_rule_test item: "alertname: X" then "exp_alerts:" and its block.
    for m in re.finditer(r"alertname:\s*(\S+)\s*\n\s*exp_alerts:(.*?)(?=\n\s*- eval_time:|\n\s*- name:|\n\s*\w+:\s*\n\s*- (?:expr|series):|\Z)",
                         tests, re.S):
        name, body = m.group(1), m.group(2)
        if body.strip().startswith("[]"):
            silent.add(name)
        elif ("exp_labels:" in body and "severity:" in body and "summary:" in body
              and "description:" in body and "dashboard:" in body):
            fires.add(name)

    problems = []
    for name in alerts:
        if name not in fires:
            problems.append(f"{name}: no test expects it to fire with severity and all annotations")
        if name not in silent:
            problems.append(f"{name}: no test expects it to stay silent")
    for name in sorted((fires | silent) - set(alerts)):
        problems.append(f"{name}: tested but not in {sys.argv[1]}")
    for p in problems:
        print(f"FAIL {p}")
    if not problems:
        print(f"OK   all {len(alerts)} alerts have firing and silent test cases")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
