#!/usr/bin/env python3
"""Bounded waits on Prometheus and Alertmanager state for the e2e test (standard library only).

    query.py prom URL 'EXPR' [--timeout 60]
        Waits until the instant query EXPR returns at least one sample; prints them.
    query.py prom URL 'EXPR' --empty [--timeout 0]
        Waits until EXPR returns nothing (--timeout 0: checks once, now).
    query.py suppressed URL --label alertname=X --label monitor=m [--timeout 60]
        Waits until Alertmanager holds at least one such alert and every one of them is
        suppressed by an inhibition rule (state "suppressed", inhibitedBy not empty).
Exit status 0 when the condition holds in time, 1 otherwise (with the last answer).
"""

import argparse
import json
import sys
import time
import urllib.parse
import urllib.request


def get(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def describe(sample):
    labels = ",".join(f"{k}={v}" for k, v in sorted(sample["metric"].items()))
    return f"{{{labels}}} {sample['value'][1]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["prom", "suppressed"])
    parser.add_argument("url")
    parser.add_argument("expr", nargs="?")
    parser.add_argument("--empty", action="store_true")
    parser.add_argument("--label", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    base = args.url.rstrip("/")
    deadline = time.time() + args.timeout
    last = None
    while True:
        try:
            if args.mode == "prom":
                reply = get(f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": args.expr}))
                result = reply["data"]["result"] if reply.get("status") == "success" else None
                last = reply if result is None else [describe(s) for s in result]
                if result is not None and bool(result) != args.empty:
                    print("; ".join(last) if last else "(empty)")
                    return 0
            else:
                filters = [("filter", f'{k}="{v}"') for k, v in (x.split("=", 1) for x in args.label)]
                alerts = get(f"{base}/api/v2/alerts?" + urllib.parse.urlencode(filters))
                last = [(a["labels"].get("alertname"), a["labels"].get("feature"), a["status"]) for a in alerts]
                if alerts and all(a["status"]["state"] == "suppressed" and a["status"]["inhibitedBy"]
                                  for a in alerts):
                    print(f"{len(alerts)} alert(s) suppressed by inhibition: "
                          + ", ".join(sorted(f"{n}{'/' + f if f else ''}" for n, f, _ in last)))
                    return 0
        except (OSError, ValueError, KeyError) as e:
            last = f"error: {e}"
        if time.time() >= deadline:
            print(f"condition not met within {args.timeout:.0f}s; last answer: {last}")
            return 1
        time.sleep(0.25)


if __name__ == "__main__":
    sys.exit(main())
