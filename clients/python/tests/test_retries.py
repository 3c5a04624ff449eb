"""Retries, Retry-After, non-retried errors and the bounded queue, against scripted stub servers."""

import email.utils
import json
import socket
import time

import pytest

from conftest import ROWS_OK, make_rows, wait_for
from driftscope_client import Client, DriftscopeError
from driftscope_client._transport import retry_after_seconds


def error(code, message="m"):
    return {"error": {"code": code, "message": message}}


def test_429_waits_for_retry_after_then_succeeds_with_the_same_key(stub_server):
    stub = stub_server([(429, {"Retry-After": "1"}, error("too_many_requests")), (200, {}, ROWS_OK)])
    client = Client(stub.url, backoff=0.01)  # backoff alone would retry after ~10 ms
    answer = client.send_rows("m", make_rows(1))
    assert answer == ROWS_OK
    assert len(stub.requests) == 2
    (t0, _, path, h0, body0), (t1, _, _, h1, body1) = stub.requests
    assert path == "/v1/monitors/m/rows"
    assert t1 - t0 >= 0.95, "Retry-After: 1 was not honoured"
    assert h0["Idempotency-Key"] == h1["Idempotency-Key"] and body0 == body1
    assert json.loads(body0) == {"rows": make_rows(1)}


def test_background_503_retry_after_is_honoured_and_counted(stub_server):
    stub = stub_server([(503, {"Retry-After": "1"}, error("reloading")), (200, {}, ROWS_OK)])
    with Client(stub.url, backoff=0.01, flush_interval=30) as client:
        client.log_rows("m", make_rows(4))
        assert client.flush(timeout=10)
        stats = client.stats()
    assert stats["retries"] == 1 and stats["rows_sent"] == 4 and stats["batches_failed"] == 0
    assert stub.requests[1][0] - stub.requests[0][0] >= 0.95
    assert stub.requests[0][3]["Idempotency-Key"] == stub.requests[1][3]["Idempotency-Key"]


def test_backoff_grows_without_retry_after_and_gives_up_after_max_retries(stub_server):
    stub = stub_server([(503, {}, error("state_write_failed"))])
    client = Client(stub.url, backoff=0.1, max_retries=3)
    with pytest.raises(DriftscopeError) as failed:
        client.send_rows("m", make_rows(1))
    assert (failed.value.status, failed.value.code) == (503, "state_write_failed")
    times = [r[0] for r in stub.requests]
    assert len(times) == 4  # one try and three retries
    gaps = [b - a for a, b in zip(times, times[1:])]
    # Equal jitter: retry k waits between half and all of 0.1 * 2**k seconds.
    for k, gap in enumerate(gaps):
        assert 0.1 * 2**k / 2 - 0.01 <= gap <= 0.1 * 2**k + 0.1, gaps


@pytest.mark.parametrize("status, code", [(400, "malformed_json"), (422, "invalid_body"), (500, "internal")])
def test_other_errors_are_not_retried(stub_server, status, code):
    stub = stub_server([(status, {}, error(code, "nope")), (200, {}, ROWS_OK)])
    with pytest.raises(DriftscopeError) as failed:
        Client(stub.url, backoff=0.01).send_rows("m", make_rows(1))
    assert (failed.value.status, failed.value.code, failed.value.message) == (status, code, "nope")
    assert len(stub.requests) == 1


def test_connection_refused_is_retried_then_raised():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = Client(f"http://127.0.0.1:{port}", backoff=0.02, max_retries=2)
    start = time.monotonic()
    with pytest.raises(DriftscopeError) as failed:
        client.results("m")
    assert failed.value.status is None and failed.value.code == "connection_failed"
    assert time.monotonic() - start >= 0.02 / 2 + 0.04 / 2


def test_retry_after_http_date():
    now = time.time()
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(email.utils.formatdate(now + 20, usegmt=True), now=now) == pytest.approx(20, abs=1)
    assert retry_after_seconds(email.utils.formatdate(now - 20, usegmt=True), now=now) == 0.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_a_kept_alive_connection_closed_by_the_server_is_reopened_without_a_retry(stub_server):
    stub = stub_server([(200, {}, ROWS_OK)], close_after=True)
    with Client(stub.url, max_retries=0, flush_interval=30) as client:
        for i in range(3):
            assert client.send_rows("m", make_rows(1, start_id=i)) == ROWS_OK
            time.sleep(0.05)  # let the close arrive before the next request
        client.log_rows("m", make_rows(4))
        client.flush()
        time.sleep(0.05)
        client.log_rows("m", make_rows(2))  # the second batch on the sender's closed connection
    assert client.stats()["rows_sent"] == 6 and client.stats()["batches_sent"] == 2
    assert client.stats()["retries"] == 0
    assert len(stub.requests) == 5


def test_bearer_header_and_url_prefix(stub_server):
    stub = stub_server([(200, {}, {"monitors": [{"name": "m"}]})])
    client = Client(stub.url + "/driftscope/", token="t" * 20)
    assert client.monitors() == [{"name": "m"}]
    client.results("a b/c")
    assert stub.requests[0][2] == "/driftscope/v1/monitors"
    assert stub.requests[1][2] == "/driftscope/v1/monitors/a%20b%2Fc"
    assert stub.requests[0][3]["Authorization"] == "Bearer " + "t" * 20


def test_full_queue_drops_and_counts_without_blocking(stub_server):
    stub = stub_server([(200, {}, ROWS_OK)], delay=2.0)  # a service that answers slowly
    client = Client(stub.url, max_queue=100, batch_size=50, flush_interval=0.05, timeout=5)
    start = time.monotonic()
    queued = [client.log_rows("m", make_rows(100, start_id=100 * i)) for i in range(10)]
    queued.append(client.log_labels("m", [1, 2], [0, 1]))
    elapsed = time.monotonic() - start
    assert elapsed < 0.5, f"log_rows blocked for {elapsed:.2f}s"
    assert queued == [100] + [0] * 10
    stats = client.stats()
    assert stats["rows_queued"] == 100 and stats["rows_dropped"] == 900
    assert stats["labels_dropped"] == 2 and stats["queued"] == 100
    # The first batch is in flight; once answered, room opens again.
    assert wait_for(lambda: client.stats()["rows_sent"] >= 50, timeout=6)
    assert client.log_rows("m", make_rows(10)) == 10
    start = time.monotonic()
    assert client.close(timeout=0.5) is False  # cannot send the rest in 0.5 s
    assert time.monotonic() - start < 1.5
    assert wait_for(
        lambda: (lambda s: s["rows_sent"] + s["rows_failed"] == 110 and s["queued"] == 0)(client.stats()),
        timeout=6,
    )
