#!/usr/bin/env python3
"""Driver of benches/kafka/run.sh (stdlib only): engine throughput and failover time.

1. Starts the mock broker with the events topic and one state/results topic pair per run.
2. For 1, 2 and 3 engines (a fresh consumer group and fresh state/results topics each, one
   ingest process, --clients threads posting --batches columnar batches of --rows rows to each of
   --monitors monitors), times from the first request to the moment every 10 000-row window is
   published: end-to-end rows/s, and the ratio to one engine.
3. Failover: two engines under a steady trickle of rows; one is SIGKILLed; prints the time
   until the survivor owns every partition, and until the moved monitors take rows again.
"""

import argparse
import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

PARTITIONS = 6
# Topic names are new each run, so an external broker can be reused.
PREFIX = f"bench{os.getpid()}"
# The mock cluster has three brokers; --brokers is taken to be one.
REPLICATION = 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metric_sum(port: int, name: str) -> float:
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    except OSError:
        return 0.0
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def windows_published(ports: list[int], monitors: int) -> int:
    total = 0
    for m in range(monitors):
        for port in ports:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/monitors/m{m:02}", timeout=5) as r:
                    total += len(json.load(r)["history"])
                    break
            except OSError:
                continue
    return total


def metric_by_monitor(port: int, name: str) -> dict[str, float]:
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        found = re.match(name + r'\{.*monitor="([^"]+)".*\} (\S+)$', line)
        if found:
            out[found.group(1)] = out.get(found.group(1), 0.0) + float(found.group(2))
    return out


class Processes:
    def __init__(self, workdir: pathlib.Path):
        self.workdir = workdir
        self.children: list[subprocess.Popen] = []

    def start(self, args: list[str], log: str, env: dict | None = None) -> subprocess.Popen:
        out = open(self.workdir / log, "w")
        child = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)
        self.children.append(child)
        return child

    def serve(self, binary: str, path: pathlib.Path, role: str, log: str) -> tuple[subprocess.Popen, int]:
        """Starts `driftscope serve` in `role` on a free port; returns the process and port."""
        port = free_port()
        args = [binary, "serve", "--config", str(path), "--role", role, "--listen", f"127.0.0.1:{port}"]
        return self.start(args, log), port

    def stop(self, child: subprocess.Popen, sig=signal.SIGTERM) -> None:
        if child.poll() is None:
            child.send_signal(sig)
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

    def stop_all(self) -> None:
        for child in self.children:
            self.stop(child)


def wait_ready(port: int, timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2)
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"error: nothing answers on port {port}")


def config(workdir: pathlib.Path, monitors: int, brokers: str, run: str, session: str) -> pathlib.Path:
    base = (workdir / "monitors.yaml").read_text()
    head, block = base.split("monitors:\n", 1)
    # 10 000-row windows (two batches each), all kept in history: the windows published are
    # counted from the owners' GET /v1/monitors/{m}, which survives a monitor moving between
    # engines (counters of a process start again when a monitor moves to it).
    block = block.replace("window: {rows: 100000}", "window: {rows: 10000}\n    history: 1000")
    blocks = "".join(block.replace("name: bench", f"name: m{i:02}") for i in range(monitors))
    kafka = (
        f"kafka:\n  brokers: \"{brokers}\"\n  partitions: {PARTITIONS}\n  replication_factor: {REPLICATION}\n"
        f"  group: {PREFIX}-{run}\n  session_timeout: {session}\n"
        f"  topics: {{events: {PREFIX}.events.{run}, state: {PREFIX}.state.{run}, results: {PREFIX}.results.{run}}}\n"
    )
    path = workdir / f"{run}.yaml"
    path.write_text(head + kafka + "monitors:\n" + blocks)
    return path


def post(port: int, monitor: str, body: bytes) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/monitors/{monitor}/rows",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        if response.status != 202:
            sys.exit(f"error: ingest answered {response.status}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--broker", required=True)
    parser.add_argument("--monitors", type=int, default=12)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument(
        "--brokers",
        help="a Kafka-protocol broker to use instead of the mock cluster (which keeps only 5 MB "
        "per partition, so engines that fall behind lose records); topics are created by driftscope",
    )
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="driftscope-kafka-bench."))
    subprocess.run(
        [sys.executable, "benches/http/make_bodies.py", str(workdir), "--rows", str(args.rows)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    body = (workdir / "columns.json").read_bytes()
    procs = Processes(workdir)
    runs = ["e1", "e2", "e3", "failover"]
    topics = ",".join(f"{PREFIX}.{k}.{r}" for r in runs for k in ("events", "state", "results"))
    try:
        if args.brokers:
            global REPLICATION
            REPLICATION = 1
            brokers = args.brokers
        else:
            procs.start([args.broker, "--partitions", str(PARTITIONS), "--topics", topics], "broker.log")
            deadline = time.time() + 30
            brokers = ""
            while not brokers and time.time() < deadline:
                time.sleep(0.1)
                lines = (workdir / "broker.log").read_text().splitlines()
                brokers = lines[0] if lines and ":" in lines[0] else ""
            if not brokers:
                sys.exit("error: the mock broker did not start")
        # librdkafka's mock broker keeps only 5 MB of each partition, so the events are not
        # written ahead: rows are posted while the engines run, in rounds of one batch per
        # monitor, each round once the engines have applied the previous one (with --brokers,
        # without waiting). A window lost to that retention fails the run.
        if args.skip_throughput:
            failover(procs, workdir, args, brokers, body)
            return
        print(f"{'engines':>8} {'rows/s':>12} {'seconds':>8} {'x one engine':>13}")
        total_rows = args.monitors * args.batches * args.rows
        # Windows close per monitor: the rows one monitor gets, in whole 10 000-row windows.
        expected = args.monitors * (args.batches * args.rows // 10_000)
        baseline = None
        for n, run in zip((1, 2, 3), ("e1", "e2", "e3")):
            path = config(workdir, args.monitors, brokers, run, "10s")
            ingest, ingest_port = procs.serve(args.bin, path, "ingest", f"{run}-ingest.log")
            engines, ports = zip(*(procs.serve(args.bin, path, "engine", f"{run}-{i}.log") for i in range(n)))
            wait_ready(ingest_port)
            deadline = time.time() + 120
            while sum(metric_sum(p, "driftscope_kafka_partitions_owned") for p in ports) != PARTITIONS:
                if time.time() > deadline:
                    sys.exit(f"error: {n} engines did not take every partition")
                time.sleep(0.1)
            started = time.perf_counter()
            clients = args.clients
            for _ in range(args.batches):
                # One batch per monitor, from --clients threads; then wait until the engines
                # have applied everything the ingest process wrote (ticks included), so the
                # engines never lag more than one round behind the mock broker's 5 MB.
                with ThreadPoolExecutor(clients) as pool:
                    def send(monitors):
                        for m in monitors:
                            post(ingest_port, f"m{m:02}", body)
                    list(pool.map(send, [range(i, args.monitors, clients) for i in range(clients)]))
                if not args.brokers:
                    produced = metric_sum(ingest_port, "driftscope_kafka_events_produced_total")
                    waited = time.time() + 60
                    while sum(metric_sum(p, "driftscope_kafka_events_consumed_total") for p in ports) < produced:
                        if time.time() > waited:
                            sys.exit("error: the engines did not catch up with a round in 60 s")
                        time.sleep(0.005)
            posted = time.perf_counter() - started
            deadline = time.time() + 600
            while windows_published(ports, args.monitors) < expected:
                if time.time() > deadline:
                    sys.exit(f"error: {n} engines did not publish {expected} windows in 600 s")
                time.sleep(0.05)
            seconds = time.perf_counter() - started
            rate = total_rows / seconds
            baseline = baseline or rate
            print(
                f"{n:>8} {rate:>12,.0f} {seconds:>8.2f} {rate / baseline:>13.2f}"
                f"   (posting took {posted:.2f} s)"
            )
            for engine in engines:
                procs.stop(engine)
            procs.stop(ingest)
        failover(procs, workdir, args, brokers, body)
    finally:
        procs.stop_all()
    print(f"logs: {workdir}")


def failover(procs, workdir, args, brokers, body) -> None:
    for session in ("10s", "6s"):
        run = "failover"
        path = config(workdir, args.monitors, brokers, run, session)
        # A new group per session length; state and results topics are shared, so the second
        # group starts from the first one's checkpoints: same monitors, same partitions.
        path.write_text(path.read_text().replace(f"group: {PREFIX}-{run}", f"group: {PREFIX}-{run}-{session}"))
        ingest, ingest_port = procs.serve(args.bin, path, "ingest", f"failover-ingest-{session}.log")
        engines, ports = zip(*(procs.serve(args.bin, path, "engine", f"failover-{session}-{i}.log") for i in range(2)))
        wait_ready(ingest_port)
        deadline = time.time() + 120
        while time.time() < deadline:
            owned = [metric_sum(p, "driftscope_kafka_partitions_owned") for p in ports]
            if sum(owned) == PARTITIONS and min(owned) > 0:
                break
            time.sleep(0.2)
        else:
            sys.exit("error: the two engines did not share the partitions")
        small = json.dumps({"rows": json.loads((workdir / "rows.json").read_text())["rows"][:50]}).encode()
        victim, survivor = engines[0], ports[1]
        moved = metric_sum(ports[0], "driftscope_kafka_monitors_owned")
        killed = time.perf_counter()
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        owned_at = resumed_at = None
        baseline = {}
        while time.perf_counter() - killed < 120 and resumed_at is None:
            for m in range(args.monitors):
                post(ingest_port, f"m{m:02}", small)
            now = time.perf_counter()
            if owned_at is None and metric_sum(survivor, "driftscope_kafka_partitions_owned") == PARTITIONS:
                owned_at = now
                baseline = metric_by_monitor(survivor, "driftscope_rows_ingested_total")
            elif owned_at is not None:
                counts = metric_by_monitor(survivor, "driftscope_rows_ingested_total")
                if len(counts) == args.monitors and all(
                    counts[m] > baseline.get(m, 0.0) for m in counts
                ):
                    resumed_at = now
            time.sleep(0.1)
        if resumed_at is None:
            sys.exit("error: the survivor did not take over within 120 s")
        print(
            f"failover (session_timeout {session}, {moved:.0f} monitors moved): survivor owns every "
            f"partition {owned_at - killed:.1f} s after SIGKILL; the moved monitors take rows again "
            f"{resumed_at - killed:.1f} s after it"
        )
        procs.stop(engines[1])
        procs.stop(ingest)


if __name__ == "__main__":
    main()
