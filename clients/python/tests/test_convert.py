"""Rows and labels into JSON values; the examples compile."""

import datetime as dt
import decimal
import json
import py_compile
from pathlib import Path

import pytest

from driftscope_client._client import _labels
from driftscope_client._convert import to_json_value, to_rows

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_plain_values():
    utc = dt.timezone.utc
    assert to_json_value(float("nan")) is None
    assert to_json_value(float("inf")) is None
    assert to_json_value(1.5) == 1.5 and to_json_value(True) is True and to_json_value("a") == "a"
    assert to_json_value(decimal.Decimal("2.5")) == 2.5
    assert to_json_value(dt.datetime(2024, 5, 1, 12, 0, 1, tzinfo=utc)) == "2024-05-01T12:00:01Z"
    assert to_json_value(dt.datetime(2024, 5, 1, 12, 0, 1)) == "2024-05-01T12:00:01Z"  # naive = UTC
    plus2 = dt.timezone(dt.timedelta(hours=2))
    assert to_json_value(dt.datetime(2024, 5, 1, 14, 0, tzinfo=plus2)) == "2024-05-01T14:00:00+02:00"
    assert to_json_value(dt.date(2024, 5, 1)) == "2024-05-01T00:00:00Z"
    assert to_rows({"a": 1}) == [{"a": 1}]  # one dict is one row
    with pytest.raises(TypeError):
        to_rows([1, 2])
    with pytest.raises(TypeError):
        to_rows("rows")
    with pytest.raises(TypeError, match="cannot send a object value"):
        to_rows([{"x": object()}])  # raised in the caller, not later in the sender


def test_dataframe_to_rows():
    pd = pytest.importorskip("pandas")
    np = pytest.importorskip("numpy")
    frame = pd.DataFrame(
        {
            "i": np.array([1, 2], dtype="int64"),
            "f": [0.5, np.nan],
            "s": ["a", None],
            "nullable": pd.array([3, None], dtype="Int64"),
            "flag": np.array([True, False]),
            "t": [pd.Timestamp("2024-05-01T12:00:00Z"), pd.NaT],
            "cat": pd.Categorical(["x", "y"]),
        }
    )
    rows = to_rows(frame)
    assert rows == [
        {"i": 1, "f": 0.5, "s": "a", "nullable": 3, "flag": True, "t": "2024-05-01T12:00:00Z", "cat": "x"},
        {"i": 2, "f": None, "s": None, "nullable": None, "flag": False, "t": None, "cat": "y"},
    ]
    assert all(type(v) in (int, float, str, bool, type(None)) for row in rows for v in row.values())
    json.dumps(rows, allow_nan=False)
    assert to_json_value(np.float32(0.25)) == 0.25 and type(to_json_value(np.int8(3))) is int
    assert to_json_value(np.datetime64("2024-05-01T12:00:00")) == "2024-05-01T12:00:00Z"
    assert to_json_value(np.datetime64("NaT")) is None


def test_labels_from_series_and_arrays():
    pd = pytest.importorskip("pandas")
    np = pytest.importorskip("numpy")
    labels = _labels(pd.Series(["a", "b"]), np.array([1, 0]))
    assert labels == [{"id": "a", "target": 1}, {"id": "b", "target": 0}]
    with pytest.raises(ValueError):
        _labels([1, 2], [1])


@pytest.mark.parametrize("name", ["fastapi_service.py", "flask_service.py"])
def test_examples_compile(name, tmp_path):
    py_compile.compile(str(EXAMPLES / name), cfile=str(tmp_path / "out.pyc"), doraise=True)
