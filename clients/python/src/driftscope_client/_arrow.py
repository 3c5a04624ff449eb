"""Rows batches as Arrow IPC streams (``body_format="arrow"``).

pyarrow is imported only here, and only by a client constructed with that format.

The service feeds every Arrow value to the same per-value code as the JSON value it stands for
(an Int64 is a JSON integer, a Float64 a JSON number, Utf8 a string, ...), but an Arrow column has
one type while a JSON field may hold a number in one row and a string in the next. What the
service makes of a value depends on the monitor's column, which the client does not know:

- categorical column: ``21``, ``21.0`` and ``"21"`` are one category, ``true`` is ``"true"``;
- numerical column (and the latency column): numbers are values, strings and booleans invalid;
- id column: ``21`` and ``"21"`` are one id, a boolean is an invalid id;
- timestamp column: numbers are unix seconds, strings RFC 3339, anything else fails the batch.

So no single Arrow type carries a column that mixes numbers with strings, or booleans with
anything else, the way JSON does: turning its numbers into text keeps a categorical column's
meaning but makes a numerical column's valid numbers invalid (and fails a timestamp column),
turning its strings into nulls loses categories, and a boolean as text becomes a valid id. Such a
batch is sent as JSON row objects instead (``{"rows": [...]}``, which the service reads by
definition the same way) and counted in ``stats()["arrow_fallback_batches"]``. The same holds for
lists and dicts (the service counts them invalid in JSON; Arrow list/struct columns are refused),
integers outside int64/uint64 (or mixing negatives with values over 2**63 - 1), and integers
mixed with floats when an integer's magnitude is 2**53 or more (a float64 would round it, and
the service writes such a float's category as float text, not the integer's digits).
"""

from typing import Any, Dict, List, Optional, Tuple

ARROW_STREAM = "application/vnd.apache.arrow.stream"

INSTALL_HINT = (
    "body_format='arrow' needs pyarrow, which is not installed: "
    "pip install 'driftscope-client[arrow]'"
)

_INT64_MIN = -(2**63)
_INT64_END = 2**63
_UINT64_END = 2**64
# Below 2**53 an integer is exact as a float64 and the service's category text of that float
# is the integer's digits (`21.0` -> "21"), so int and float values can share a Float64 column.
_FLOAT_EXACT = 2**53


def import_pyarrow() -> Any:
    """pyarrow (with its ipc module), or ImportError telling how to install it."""
    try:
        import pyarrow
        import pyarrow.ipc  # noqa: F401  (pa.ipc.new_stream)
    except ImportError as e:
        raise ImportError(f"{INSTALL_HINT} ({e})") from e
    return pyarrow


def column_type(pa: Any, values: List[Any]) -> Tuple[Optional[Any], str]:
    """The Arrow type that carries every value of one column as the service reads the same JSON
    value, whatever the monitor's column is; ``(None, why)`` when no type does.

    ``values`` are JSON-ready (``to_json_value``): None, bool, int, float, str, list or dict."""
    kinds = set()
    low = high = 0  # integer range
    for v in values:
        if v is None:
            continue
        if isinstance(v, bool):
            kinds.add("boolean")
        elif isinstance(v, int):
            kinds.add("integer")
            low, high = min(low, v), max(high, v)
        elif isinstance(v, float):
            kinds.add("float")
        elif isinstance(v, str):
            kinds.add("string")
        else:
            return None, f"a {type(v).__name__} value"
    if not kinds:
        return pa.null(), ""
    if kinds == {"boolean"}:
        return pa.bool_(), ""
    if kinds == {"string"}:
        return pa.string(), ""
    if kinds == {"integer"}:
        if low >= _INT64_MIN and high < _INT64_END:
            return pa.int64(), ""
        if low >= 0 and high < _UINT64_END:
            return pa.uint64(), ""
        return None, "integers outside int64 and uint64"
    if kinds == {"float"}:
        return pa.float64(), ""
    if kinds == {"integer", "float"}:
        if -_FLOAT_EXACT < low and high < _FLOAT_EXACT:
            return pa.float64(), ""
        return None, "floats and integers of magnitude 2**53 or more"
    return None, " and ".join(sorted(kinds)) + " values"


def arrow_stream(pa: Any, rows: List[Dict[str, Any]]) -> Tuple[Optional[bytes], str]:
    """The batch as one Arrow IPC stream (a schema, one record batch, the end marker): one column
    per field of any row, None where a row lacks it (missing, as an absent JSON field is).
    ``(None, why)`` when a column has no faithful Arrow type, or the batch has no rows or no
    fields (a record batch cannot carry rows without columns)."""
    if not rows:
        return None, "no rows"
    names: Dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    if not names:
        return None, "no fields"
    arrays = []
    for name in names:
        values = [row.get(name) for row in rows]
        arrow_type, why = column_type(pa, values)
        if arrow_type is None:
            return None, f"column {name!r} has {why}"
        arrays.append(pa.array(values, type=arrow_type))
    batch = pa.RecordBatch.from_arrays(arrays, names=list(names))
    sink = pa.BufferOutputStream()
    # No IPC buffer compression (the service refuses it): compress="gzip" gzips the whole body.
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return sink.getvalue().to_pybytes(), ""
