"""The client against the real driftscope binary."""

import datetime as dt
import logging
import socket
import threading
import time
import uuid

import pytest

from conftest import make_rows, wait_for
from driftscope_client import Client, DriftscopeError


def test_background_rows_and_labels_arrive_in_batches(service):
    client = Client(service.url, batch_size=50, flush_interval=30)
    try:
        for start in range(0, 250, 25):  # ten calls of 25 rows: five batches of 50
            assert client.log_rows("m", make_rows(25, start_id=start, seed=start)) == 25
        assert client.flush(timeout=10)
        results = client.results("m")
        assert len(results["history"]) == 2  # two 100-row windows evaluated
        assert results["latest"]["rows"] == 100
        assert results["buffered_rows"] == 50
        assert results["labelled"]["pending_predictions"] == 250

        assert client.log_labels("m", list(range(120)), [i % 2 for i in range(120)]) == 120
        assert client.flush(timeout=10)
        labelled = client.results("m")["labelled"]
        assert labelled["pending_predictions"] == 130
        assert len(labelled["history"]) == 1  # one 100-row labelled window
        assert labelled["buffered_rows"] == 20

        stats = client.stats()
        assert stats["rows_sent"] == 250 and stats["labels_sent"] == 120
        assert stats["batches_sent"] == 5 + 3  # 120 labels: 50 + 50 + 20 at the flush
        assert stats["rows_failed"] == stats["labels_failed"] == stats["batches_failed"] == 0
        assert stats["labels_unmatched"] == 0 and stats["queued"] == 0
    finally:
        client.close()


def test_flush_interval_sends_without_flush(service):
    client = Client(service.url, batch_size=1000, flush_interval=0.2)
    try:
        client.log_rows("m", make_rows(10))
        assert wait_for(lambda: client.results("m")["buffered_rows"] == 10, timeout=5)
        assert client.stats()["batches_sent"] == 1
    finally:
        client.close()


def test_context_manager_flushes_and_stops_the_sender(service):
    with Client(service.url, flush_interval=30) as client:
        client.log_rows("m", make_rows(30))
        client.log_labels("m", [0, 1, 999], [1, 0, 1])
    assert client.stats()["rows_sent"] == 30
    assert client.stats()["labels_unmatched"] == 1  # id 999 was never predicted
    assert not any(t.name == "driftscope-client-sender" and t.is_alive() for t in threading.enumerate())
    # After close rows are dropped and counted, never raised into the caller.
    assert client.log_rows("m", make_rows(5)) == 0
    assert client.stats()["rows_dropped"] == 5
    with Client(service.url) as reader:
        assert reader.results("m")["buffered_rows"] == 30


def test_dataframe_rows_with_missing_values_numpy_types_and_datetimes(service):
    pd = pytest.importorskip("pandas")
    np = pytest.importorskip("numpy")
    rows = make_rows(100)
    frame = pd.DataFrame(rows)
    frame["x"] = frame["x"].astype("float64")
    frame.loc[[3, 7], "x"] = np.nan  # missing in driftscope
    frame["c"] = frame["c"].astype(object)
    frame.loc[5, "c"] = None
    frame["b"] = frame["b"].astype("int32")
    frame["seen_at"] = pd.date_range("2024-05-01", periods=100, freq="min", tz="UTC")
    frame.loc[9, "seen_at"] = pd.NaT
    with Client(service.url, batch_size=40, flush_interval=30) as client:
        assert client.log_rows("m", frame) == 100
        assert client.flush(timeout=10)
        latest = client.results("m")["latest"]
        assert client.stats()["batches_sent"] == 3
    features = {f["name"]: f for f in latest["features"]}
    assert latest["rows"] == 100
    assert features["x"]["missing"] == 2 and features["x"]["values"] == 98
    assert features["c"]["missing"] == 1
    assert features["b"]["missing"] == 0 and features["b"]["invalid"] == 0


def test_same_idempotency_key_twice_is_replayed_not_applied_twice(service):
    client = Client(service.url)
    rows = make_rows(20)
    key = str(uuid.uuid4())
    first = client.send_rows("m", rows, idempotency_key=key)
    second = client.send_rows("m", rows, idempotency_key=key)
    assert first["accepted"] == 20 and first["replayed"] is False
    assert second["accepted"] == 20 and second["replayed"] is True
    assert client.results("m")["buffered_rows"] == 20


class LosingProxy:
    """Forwards each HTTP request to the service; for the first `lose` requests it closes the
    client's connection after the service answered, so the client never sees the answer."""

    def __init__(self, target_port, lose=1):
        self.target_port = target_port
        self.lose = lose
        self.keys = []
        self.answers = []
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @staticmethod
    def _read_message(sock):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(body) < length:
            body += sock.recv(65536)
        return head, body

    def _serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                message = self._read_message(conn)
                if message is None:
                    continue
                head, body = message
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"idempotency-key:"):
                        self.keys.append(line.split(b":", 1)[1].strip().decode())
                with socket.create_connection(("127.0.0.1", self.target_port)) as upstream:
                    upstream.sendall(head + b"\r\n\r\n" + body)
                    answer = self._read_message(upstream)
                self.answers.append(answer[1])
                if len(self.answers) <= self.lose:
                    continue  # the service applied it; the client gets a closed connection
                conn.sendall(answer[0] + b"\r\n\r\n" + answer[1])

    def close(self):
        self.listener.close()


def test_retry_after_a_lost_answer_is_applied_once(service):
    proxy = LosingProxy(service.port, lose=1)
    try:
        client = Client(proxy.url, backoff=0.05, max_retries=3)
        answer = client.send_rows("m", make_rows(30))
    finally:
        proxy.close()
    assert len(proxy.keys) == 2 and proxy.keys[0] == proxy.keys[1]
    assert b'"replayed":false' in proxy.answers[0]
    assert answer["replayed"] is True and answer["accepted"] == 30
    with Client(service.url) as reader:
        assert reader.results("m")["buffered_rows"] == 30


def test_background_retry_after_a_lost_answer_is_applied_once(service):
    proxy = LosingProxy(service.port, lose=1)
    try:
        with Client(proxy.url, backoff=0.05, batch_size=25, flush_interval=30) as client:
            client.log_rows("m", make_rows(25))
            assert client.flush(timeout=10)
            stats = client.stats()
    finally:
        proxy.close()
    assert stats["rows_sent"] == 25 and stats["retries"] == 1 and stats["batches_failed"] == 0
    assert proxy.keys[0] == proxy.keys[1]
    with Client(service.url) as reader:
        assert reader.results("m")["buffered_rows"] == 25


def test_unknown_monitor_and_empty_batch_raise_driftscope_error(service):
    client = Client(service.url)
    with pytest.raises(DriftscopeError) as unknown:
        client.send_rows("nope", make_rows(1))
    assert unknown.value.status == 404
    assert unknown.value.code == "unknown_monitor"
    assert "known monitors: m" in unknown.value.message
    with pytest.raises(DriftscopeError) as missing:
        client.results("nope")
    assert (missing.value.status, missing.value.code) == (404, "unknown_monitor")
    with pytest.raises(DriftscopeError) as empty:
        client.send_rows("m", [])
    assert (empty.value.status, empty.value.code) == (422, "empty_batch")
    with pytest.raises(DriftscopeError) as not_rows:
        client._transport.request("POST", "/v1/monitors/m/rows", {"rows": {"x": 1}})
    assert (not_rows.value.status, not_rows.value.code) == (422, "invalid_body")


def test_background_refusal_is_counted_logged_and_kept(service, caplog):
    caplog.set_level(logging.WARNING, logger="driftscope_client")
    with Client(service.url, flush_interval=30, backoff=0.01) as client:
        client.log_rows("nope", make_rows(7))
        client.log_rows("m", make_rows(3))
        assert client.flush(timeout=10)
        stats = client.stats()
    assert stats["rows_failed"] == 7 and stats["rows_sent"] == 3
    assert stats["batches_failed"] == 1 and stats["retries"] == 0  # 404 is not retried
    assert isinstance(stats["last_error"], DriftscopeError)
    assert stats["last_error"].code == "unknown_monitor"
    assert any("unknown_monitor" in r.getMessage() for r in caplog.records)


def test_monitors_lists_columns(service):
    monitors = Client(service.url).monitors()
    assert [m["name"] for m in monitors] == ["m"]
    assert {c["name"] for c in monitors[0]["columns"]} == {"x", "y", "c", "b", "prediction", "target"}


def test_bearer_token_authentication(start_service, tmp_path):
    tokens = {}
    for name in ("ingest", "read"):
        value = f"{name}-{uuid.uuid4().hex}"
        (tmp_path / f"{name}_token").write_text(value + "\n")
        tokens[name] = value
    auth = (
        "  auth:\n    tokens:\n"
        f"      - {{name: svc, scopes: [ingest], from_file: {tmp_path / 'ingest_token'}}}\n"
        f"      - {{name: prom, scopes: [read], from_file: {tmp_path / 'read_token'}}}\n"
    )
    service = start_service(server_extra=auth)

    with pytest.raises(DriftscopeError) as anonymous:
        Client(service.url).send_rows("m", make_rows(1))
    assert (anonymous.value.status, anonymous.value.code) == (401, "unauthorized")

    ingest = Client(service.url, token=tokens["ingest"])
    assert ingest.send_rows("m", make_rows(5))["accepted"] == 5
    with pytest.raises(DriftscopeError) as forbidden:
        ingest.results("m")
    assert (forbidden.value.status, forbidden.value.code) == (403, "forbidden")

    with Client(service.url, token=tokens["ingest"], flush_interval=30) as background:
        background.log_rows("m", make_rows(5, start_id=5))
    assert background.stats()["rows_sent"] == 5

    with Client(service.url, token="wrong-" + "0" * 20, flush_interval=30) as wrong:
        wrong.log_rows("m", make_rows(5))
    assert wrong.stats()["rows_failed"] == 5
    assert wrong.stats()["last_error"].status == 401 and wrong.stats()["retries"] == 0

    assert Client(service.url, token=tokens["read"]).results("m")["buffered_rows"] == 10


def test_naive_and_aware_datetimes_become_rfc3339_the_service_reads(start_service):
    service = start_service(monitor_extra="    timestamp: ts\n    window: {duration: 1h}\n")
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    rows = make_rows(3)
    rows[0]["ts"] = now - dt.timedelta(seconds=5)
    rows[1]["ts"] = (now - dt.timedelta(seconds=5)).astimezone(dt.timezone(dt.timedelta(hours=2)))
    rows[2]["ts"] = (now - dt.timedelta(seconds=5)).replace(tzinfo=None)  # naive: taken as UTC
    answer = Client(service.url).send_rows("m", rows)
    assert answer["accepted"] == 3
    assert answer["dropped"] == {"future": 0, "late": 0, "window_full": 0}


def test_columnar_and_arrow_batches_give_the_same_windows_as_row_objects(start_service):
    rows = make_rows(300, seed=5)
    for row in rows[::7]:
        del row["y"]  # absent in some rows: null in the columnar body, missing either way
    histories = []
    for options in (
        {},
        {"body_format": "columns", "compress": "gzip"},
        {"body_format": "arrow"},
        {"body_format": "arrow", "compress": "gzip"},
    ):
        service = start_service()
        with Client(service.url, batch_size=60, flush_interval=30, **options) as client:
            client.log_rows("m", rows)
            assert client.flush(timeout=10)
            assert client.stats()["rows_sent"] == 300
            answer = client.send_rows("m", make_rows(10, start_id=1000))
            assert answer["accepted"] == 10
            history = client.results("m")["history"]
        assert len(history) == 3
        histories.append([(w["rows"], w["scores"], w["drifted_features"]) for w in history])
        if options.get("body_format") == "arrow":
            assert client.stats()["arrow_fallback_batches"] == 0
    assert all(h == histories[0] for h in histories[1:])


def test_arrow_batches_with_mixed_columns_give_the_same_windows_as_row_objects(start_service):
    # Values whose meaning depends on the column: ints among floats (one Float64 column), a
    # number among the categories of c, text in numerical y, booleans in b, text ids among ints.
    rows = make_rows(300, seed=9)
    for row in rows[::5]:
        row["x"] = int(row["x"])
    for row in rows[:60]:
        row["b"] = bool(row["b"])  # an Arrow Boolean column: categories "true" and "false"
    for i in range(60, 120, 4):
        rows[i]["c"] = 7 if i % 8 else "7"
    for i in range(130, 180, 10):
        rows[i]["y"] = "oops"
        rows[i + 1]["b"] = True
    for i in range(200, 240, 3):
        rows[i]["id"] = str(rows[i]["id"])
    rows[245]["x"] = [1, 2]  # a list: invalid in JSON, no Arrow column type for it
    answers = []
    for body_format in ("rows", "arrow"):
        service = start_service()
        client = Client(service.url, batch_size=60, flush_interval=30, body_format=body_format)
        with client:
            client.log_rows("m", rows)
            assert client.flush(timeout=10)
            stats = client.stats()
            assert stats["rows_sent"] == 300 and stats["batches_failed"] == 0
            labelled = client.send_labels("m", list(range(300)), [i % 2 for i in range(300)])
            results = client.results("m")
        if body_format == "arrow":
            # Rows 0-59 (ints among the floats of x, booleans in b) go as Arrow; 60-119 (c),
            # 120-179 (y, b), 180-239 (text and integer ids) and 240-299 (the list) as JSON rows.
            assert stats["arrow_fallback_batches"] == 4
        features = [
            {k: f.get(k) for k in ("name", "values", "missing", "invalid", "new_category", "score")}
            for f in results["latest"]["features"]
        ]
        history = [(w["rows"], w["scores"], w["drifted_features"]) for w in results["history"]]
        answers.append((history, features, labelled["matched"], labelled["unmatched"]))
    assert answers[0] == answers[1]
    assert answers[0][2] == 300


def test_unknown_body_format_or_compression_is_refused_at_construction():
    with pytest.raises(ValueError, match="body_format"):
        Client("http://127.0.0.1:1", body_format="parquet")
    with pytest.raises(ValueError, match="compress"):
        Client("http://127.0.0.1:1", compress="brotli")
