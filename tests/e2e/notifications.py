#!/usr/bin/env python3
"""Assertions on the notifications recorded by webhook.py (one JSON object per line).

    notifications.py wait FILE --path /webhook --status firing --label alertname=X \
        --label monitor=m [--since UNIX_TIME] [--timeout 60]
        Waits until a notification POSTed to PATH after SINCE contains an alert with that
        status and at least those labels; prints the seconds from SINCE and the alert's labels.
    notifications.py wait FILE --path /slack --contains '[FIRING] DriftscopeX on m'
        Same for payloads without structured alerts (Slack): match text in the raw payload.
    notifications.py none FILE --path /webhook --label alertname=X --label monitor=m
        Fails if any notification so far contains such an alert (e.g. an inhibited one).

Exit status 0 when the assertion holds, 1 otherwise (with what was received, for the log).
"""

import argparse
import json
import sys
import time


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def matching_alerts(note, labels, status):
    """Alerts of one webhook notification with all `labels` (and `status` when given)."""
    for alert in note.get("alerts", []):
        if status and alert.get("status") != status:
            continue
        if all(alert.get("labels", {}).get(k) == v for k, v in labels.items()):
            yield alert


def summary(notes):
    lines = []
    for n in notes[-20:]:
        alerts = [
            f"{a.get('status')} {a.get('labels', {}).get('alertname')}"
            f" {{{', '.join(f'{k}={v}' for k, v in sorted(a.get('labels', {}).items()) if k != 'alertname')}}}"
            for a in n.get("alerts", [])
        ]
        lines.append(f"  {n.get('_path')} at {n.get('_received_at', 0):.2f}: "
                     + ("; ".join(alerts) if alerts else json.dumps(n)[:300]))
    return "\n".join(lines) or "  (nothing received)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["wait", "none"])
    parser.add_argument("file")
    parser.add_argument("--path", required=True, help="request path the receiver was configured with")
    parser.add_argument("--status", choices=["firing", "resolved"])
    parser.add_argument("--label", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--contains", help="substring of the raw payload (payloads without labels)")
    parser.add_argument("--since", type=float, default=0.0)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    labels = dict(item.split("=", 1) for item in args.label)

    def find(notes):
        for note in notes:
            if note.get("_path") != args.path or note.get("_received_at", 0) < args.since:
                continue
            if args.contains is not None:  # --status does not apply: put it in the text
                if args.contains in json.dumps(note, ensure_ascii=False):
                    return note, None
                continue
            for alert in matching_alerts(note, labels, args.status):
                return note, alert
        return None, None

    if args.mode == "none":
        note, alert = find(load(args.file))
        if note is None:
            return 0
        print(f"unexpected notification on {args.path}: {json.dumps(alert or note)[:600]}")
        return 1

    deadline = time.time() + args.timeout
    while True:
        notes = load(args.file)
        note, alert = find(notes)
        if note is not None:
            got = alert["labels"] if alert else {"payload": args.contains}
            print(f"{note['_received_at'] - args.since:.1f}s "
                  + " ".join(f"{k}={v}" for k, v in sorted(got.items())))
            return 0
        if time.time() >= deadline:
            print(f"no {args.status or ''} notification on {args.path} with "
                  f"{labels or args.contains} within {args.timeout:.0f}s; received:\n{summary(notes)}")
            return 1
        time.sleep(0.2)


if __name__ == "__main__":
    sys.exit(main())
