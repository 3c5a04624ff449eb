#!/usr/bin/env python3
"""Records Alertmanager notifications: every POST (and every email) becomes one JSON line.

    webhook.py --port 9095 --out notifications.jsonl [--smtp-port 2525]   # the e2e test
    webhook.py --host 0.0.0.0 --port 9095 --out -                         # docker-compose

HTTP: each line is the POSTed JSON body plus `_path` (the request path, so one recorder stands
in for several receivers: /webhook, /slack, ...) and `_received_at` (unix time). Webhook
payloads keep their `alerts[].labels`; Slack payloads their rendered text. GET answers 200
(readiness probe).
SMTP (--smtp-port): a minimal plain-text SMTP sink (no TLS, no AUTH advertised) for
Alertmanager's email receiver; each message is recorded as {"_path": "smtp", "from", "to",
"data", "_received_at"}. Loopback test use only. Python standard library only.
"""

import argparse
import http.server
import json
import socketserver
import sys
import threading
import time


class Recorder:
    """Appends one JSON object per line, from any thread."""

    def __init__(self, path):
        self.lock = threading.Lock()
        self.out = sys.stdout if path == "-" else open(path, "a", encoding="utf-8")

    def write(self, record):
        with self.lock:
            self.out.write(json.dumps(record, sort_keys=True) + "\n")
            self.out.flush()


def http_handler(recorder):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server naming)
            self._reply(200)

        def do_POST(self):  # noqa: N802
            received = time.time()
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {"_unparsed": raw.decode("utf-8", "replace")}
            if not isinstance(body, dict):
                body = {"_body": body}
            recorder.write(dict(body, _path=self.path, _received_at=received))
            self._reply(200)

        def _reply(self, status):
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):  # the recording is the log
            pass

    return Handler


def smtp_handler(recorder):
    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line):
            self.wfile.write(line.encode() + b"\r\n")

        def handle(self):
            self.reply("220 localhost e2e SMTP sink")
            sender, recipients = None, []
            while True:
                line = self.rfile.readline()
                if not line:
                    return
                command = line.decode("utf-8", "replace").strip()
                verb = command[:4].upper()
                if verb in ("EHLO", "HELO"):
                    self.reply("250 localhost")
                elif verb == "MAIL":
                    sender, recipients = command.split(":", 1)[-1].strip(), []
                    self.reply("250 OK")
                elif verb == "RCPT":
                    recipients.append(command.split(":", 1)[-1].strip())
                    self.reply("250 OK")
                elif verb == "DATA":
                    self.reply("354 end with <CRLF>.<CRLF>")
                    lines = []
                    while True:
                        data = self.rfile.readline()
                        if not data or data in (b".\r\n", b".\n"):
                            break
                        lines.append(data[1:] if data.startswith(b"..") else data)
                    recorder.write({"_path": "smtp", "_received_at": time.time(), "from": sender,
                                    "to": recipients, "data": b"".join(lines).decode("utf-8", "replace")})
                    self.reply("250 OK")
                elif verb in ("RSET", "NOOP"):
                    self.reply("250 OK")
                elif verb == "QUIT":
                    self.reply("221 bye")
                    return
                else:
                    self.reply("502 not implemented")

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--smtp-port", type=int)
    parser.add_argument("--out", required=True, help="JSON-lines file to append to, or - for stdout")
    args = parser.parse_args()
    recorder = Recorder(args.out)
    if args.smtp_port:
        class SMTPServer(socketserver.ThreadingTCPServer):
            daemon_threads = True
        smtp = SMTPServer((args.host, args.smtp_port), smtp_handler(recorder))
        threading.Thread(target=smtp.serve_forever, daemon=True).start()
    server = http.server.ThreadingHTTPServer((args.host, args.port), http_handler(recorder))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
