"""Fixtures: the real driftscope binary on a temp config, scripted stub servers, test rows."""

import http.server
import json
import os
import random
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
REFERENCE = REPO / "tests" / "fixtures" / "reference.csv"


def binary_path() -> Path:
    explicit = os.environ.get("DRIFTSCOPE_BIN")
    if explicit:
        return Path(explicit)
    target = os.environ.get("CARGO_TARGET_DIR") or str(Path.home() / ".cache" / "driftscope-target")
    return Path(target) / "debug" / "driftscope"


def config_text(monitor_extra="    window: {rows: 100}\n", server_extra=""):
    """The Rust tests' config (tests/common/mod.rs): one monitor `m` over the fixture."""
    return (
        f"server:\n  listen: 127.0.0.1:0\n{server_extra}monitors:\n  - name: m\n"
        f"    reference: {REFERENCE}\n"
        "    features:\n      numerical: [x, y]\n      categorical: [c, b]\n"
        "    prediction: {column: prediction, type: categorical}\n"
        "    target: {column: target, type: categorical}\n"
        f"    id: id\n{monitor_extra}"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    """A driftscope process serving `config` on a free port; stop() ends it by PID."""

    def __init__(self, binary: Path, directory: Path, config: str):
        self.config_path = directory / "monitors.yaml"
        self.config_path.write_text(config)
        self.log_path = directory / "driftscope.log"
        for _ in range(3):  # another process may take the free port before we bind it
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            with open(self.log_path, "wb") as log:
                self.proc = subprocess.Popen(
                    [str(binary), "serve", "--config", str(self.config_path),
                     "--listen", f"127.0.0.1:{self.port}"],
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                )
            if self._wait_ready(timeout=30):
                return
            self.stop()
        raise RuntimeError(f"driftscope did not become ready; log:\n{self.log_path.read_text()}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(self.url + "/readyz", timeout=1) as r:
                    if r.status == 200:
                        return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@pytest.fixture(scope="session")
def driftscope_bin() -> Path:
    path = binary_path()
    if not path.is_file():
        pytest.fail(
            f"driftscope binary not found at {path}: build it (cargo build --locked) "
            "or set DRIFTSCOPE_BIN"
        )
    return path


@pytest.fixture
def start_service(driftscope_bin, tmp_path):
    """start_service(monitor_extra=..., server_extra=...) -> Service, stopped after the test."""
    started = []

    def start(monitor_extra="    window: {rows: 100}\n", server_extra=""):
        directory = tmp_path / f"service{len(started)}"
        directory.mkdir()
        service = Service(driftscope_bin, directory, config_text(monitor_extra, server_extra))
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()


@pytest.fixture
def service(start_service):
    """A fresh service: monitor `m`, 100-row tumbling windows, no authentication."""
    return start_service()


def make_rows(n, start_id=0, seed=1):
    """Rows like the fixture reference (x ~ N(50, 10), y ~ U(0, 1), c in a-d, b in 0/1)."""
    rng = random.Random(seed)
    return [
        {
            "id": start_id + i,
            "x": round(rng.gauss(50, 10), 2),
            "y": rng.random(),
            "c": rng.choice("abcd"),
            "b": int(rng.random() < 0.3),
            "prediction": int(rng.random() < 0.5),
        }
        for i in range(n)
    ]


def wait_for(predicate, timeout=10.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


class StubServer:
    """A scripted HTTP server: answers requests with `responses` in order (status, headers,
    body; the last one repeats), records (monotonic time, method, path, headers, body)."""

    def __init__(self, responses, delay=0.0, close_after=False):
        self.responses = list(responses)
        self.delay = delay
        self.close_after = close_after  # close each connection after answering, unannounced
        self.requests = []
        self._lock = threading.Lock()
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with stub._lock:
                    stub.requests.append(
                        (time.monotonic(), self.command, self.path, dict(self.headers), body)
                    )
                    index = min(len(stub.requests), len(stub.responses)) - 1
                    status, headers, answer = stub.responses[index]
                if stub.delay:
                    time.sleep(stub.delay)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
                if stub.close_after:
                    self.close_connection = True

            do_GET = do_POST = _handle

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub_server():
    servers = []

    def make(responses, delay=0.0, close_after=False):
        server = StubServer(responses, delay, close_after)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


ROWS_OK = {
    "accepted": 1,
    "dropped": {"future": 0, "late": 0, "window_full": 0},
    "labelled_windows_evaluated": 0,
    "replayed": False,
    "windows_evaluated": 0,
}
