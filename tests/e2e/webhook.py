#!/usr/bin/env python3
"""Records Alertmanager notifications: every POST becomes one JSON line.

    webhook.py --port 9095 --out notifications.jsonl      # the e2e test (binds 127.0.0.1)
    webhook.py --host 0.0.0.0 --port 9095 --out -         # docker-compose: print to stdout

Each line is the POSTed JSON body plus `_path` (the request path, so one receiver can stand in
for several Alertmanager receivers: /webhook, /slack, ...) and `_received_at` (unix time). The
body is stored as-is, so webhook payloads keep their `alerts[].labels`; Slack payloads keep
their rendered text. GET answers 200 (readiness probe). Python standard library only.
"""

import argparse
import http.server
import json
import sys
import threading
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True, help="JSON-lines file to append to, or - for stdout")
    args = parser.parse_args()

    lock = threading.Lock()
    out = sys.stdout if args.out == "-" else open(args.out, "a", encoding="utf-8")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server naming)
            self._reply(200)

        def do_POST(self) -> None:  # noqa: N802
            received = time.time()
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {"_unparsed": raw.decode("utf-8", "replace")}
            if not isinstance(body, dict):
                body = {"_body": body}
            body["_path"] = self.path
            body["_received_at"] = received
            with lock:
                out.write(json.dumps(body, sort_keys=True) + "\n")
                out.flush()
            self._reply(200)

        def _reply(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:  # keep the log for notifications only
            pass

    server = http.server.ThreadingHTTPServer((args.host, args.port), Handler)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
