"""body_format="arrow": column types, the JSON fallback for mixed columns, the request the
transport sends, and the error without pyarrow."""

import gzip
import json
import sys

import pytest

from conftest import ROWS_OK, make_rows
from driftscope_client import Client
from driftscope_client._arrow import ARROW_STREAM, arrow_stream, column_type

pa = pytest.importorskip("pyarrow")


def read_stream(data):
    return pa.ipc.open_stream(data).read_all()


def test_column_types_carry_each_value_as_the_same_json_value_would():
    cases = [
        ([None, None], pa.null()),
        ([True, None, False], pa.bool_()),
        (["a", None, "21"], pa.string()),
        ([1, -2, None], pa.int64()),
        ([2**63, 0], pa.uint64()),  # JSON sends it as a u64 too
        ([1.5, None], pa.float64()),
        ([21, 2.5], pa.float64()),  # 21 -> 21.0: the same number, the same category "21"
        ([-(2**53) + 1, 0.5], pa.float64()),
    ]
    for values, expected in cases:
        assert column_type(pa, values) == (expected, ""), values
    # No single Arrow type means what these JSON values mean in every kind of column.
    for values in (
        [21, "21"],  # one category, but "21" is invalid in a numerical column
        [1.5, "x"],
        [True, 1],  # category "true" vs "1"; invalid vs 1 in a numerical column
        [True, "true"],  # one category, but a boolean id is invalid and "true" is an id
        [2**53, 0.5],  # a float64 would round the integer / change its category text
        [-1, 2**63],  # neither int64 nor uint64
        [2**64],
        [[1, 2]],  # lists and objects: invalid in JSON, refused as Arrow list/struct columns
        [{"a": 1}],
    ):
        arrow_type, why = column_type(pa, values)
        assert arrow_type is None and why, values


def test_a_batch_is_one_stream_with_nulls_for_absent_fields():
    rows = [{"id": "r1", "x": 1.5, "c": "a", "b": 1}, {"id": "r2", "x": 2, "flag": True}]
    data, why = arrow_stream(pa, rows)
    assert why == ""
    table = read_stream(data)
    assert table.num_rows == 2
    assert [f.name for f in table.schema] == ["id", "x", "c", "b", "flag"]
    assert [f.type for f in table.schema] == [pa.string(), pa.float64(), pa.string(), pa.int64(), pa.bool_()]
    assert table.to_pylist() == [
        {"id": "r1", "x": 1.5, "c": "a", "b": 1, "flag": None},
        {"id": "r2", "x": 2.0, "c": None, "b": None, "flag": True},
    ]
    assert arrow_stream(pa, []) == (None, "no rows")
    assert arrow_stream(pa, [{}, {}]) == (None, "no fields")


def test_arrow_body_is_sent_raw_with_its_content_type_and_gzip(stub_server):
    rows = make_rows(5)
    for compress in (None, "gzip"):
        stub = stub_server([(200, {}, ROWS_OK)])
        client = Client(stub.url, body_format="arrow", compress=compress)
        assert client.send_rows("m", rows) == ROWS_OK
        (_, method, path, headers, body), = stub.requests
        assert (method, path) == ("POST", "/v1/monitors/m/rows")
        assert headers["Content-Type"] == ARROW_STREAM
        if compress:
            assert headers["Content-Encoding"] == "gzip"
            body = gzip.decompress(body)
        else:
            assert "Content-Encoding" not in headers
        assert read_stream(body).to_pylist() == rows
        assert client.stats()["arrow_fallback_batches"] == 0
        # Labels stay JSON.
        client.send_labels("m", [0], [1])
        assert stub.requests[1][3]["Content-Type"] == "application/json"


def test_a_mixed_column_sends_that_batch_as_json_rows(stub_server):
    stub = stub_server([(200, {}, ROWS_OK)])
    rows = make_rows(6)
    rows[2]["c"] = 7  # a number among the strings of column c
    with Client(stub.url, body_format="arrow", batch_size=3, flush_interval=30) as client:
        client.log_rows("m", rows)  # two batches: rows 0-2 (mixed), rows 3-5 (Arrow)
        assert client.flush(timeout=10)
        stats = client.stats()
    assert stats["rows_sent"] == 6 and stats["batches_failed"] == 0
    assert stats["arrow_fallback_batches"] == 1
    (_, _, _, h0, b0), (_, _, _, h1, b1) = stub.requests
    assert h0["Content-Type"] == "application/json"
    assert json.loads(b0) == {"rows": rows[:3]}  # 7 stays a number, as with body_format="rows"
    assert h1["Content-Type"] == ARROW_STREAM
    assert read_stream(b1).to_pylist() == rows[3:]
    assert h0["Idempotency-Key"] != h1["Idempotency-Key"]


def test_without_pyarrow_the_constructor_says_how_to_install_it(monkeypatch):
    # None in sys.modules makes `import pyarrow` raise ImportError, as if it were not installed.
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.ipc", None)
    with pytest.raises(ImportError, match=r"pip install 'driftscope-client\[arrow\]'"):
        Client("http://127.0.0.1:1", body_format="arrow")
    # The other formats never import it.
    for body_format in ("rows", "columns"):
        Client("http://127.0.0.1:1", body_format=body_format).close()
