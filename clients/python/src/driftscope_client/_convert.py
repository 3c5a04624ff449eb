"""Rows from dicts or pandas DataFrames into JSON-ready Python values.

pandas and numpy are never imported here unless the caller already passed their objects, so the
client has no required dependencies.
"""

import datetime as _dt
import decimal
import math
from typing import Any, Dict, Iterable, List, Mapping

_UTC = _dt.timezone.utc


def is_dataframe(obj: Any) -> bool:
    """A pandas DataFrame, recognised without importing pandas."""
    module = type(obj).__module__ or ""
    return module.startswith("pandas") and hasattr(obj, "to_dict") and hasattr(obj, "columns")


def to_rows(rows: Any) -> List[Dict[str, Any]]:
    """A list of JSON-ready row dicts from a list (any iterable) of mappings, one mapping, or a
    pandas DataFrame (its index is ignored: ``reset_index()`` first to send it as a column)."""
    if is_dataframe(rows):
        records: Iterable[Any] = rows.to_dict(orient="records")
    elif isinstance(rows, Mapping):
        records = [rows]
    elif isinstance(rows, (str, bytes)):
        raise TypeError("rows must be a list of dicts or a pandas DataFrame, not a string")
    else:
        records = rows
    out = []
    for i, row in enumerate(records):
        if not isinstance(row, Mapping):
            raise TypeError(f"rows[{i}] is a {type(row).__name__}, not a dict")
        out.append({str(k): to_json_value(v) for k, v in row.items()})
    return out


def to_json_value(value: Any) -> Any:
    """One cell as a JSON value: NaN, infinities, None, pandas NA/NaT -> None; numpy scalars ->
    Python numbers; datetimes -> RFC 3339 text (naive ones taken as UTC); dates -> midnight UTC;
    dicts and lists element-wise. Any other type raises TypeError."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    kind = type(value).__name__
    if kind in ("NAType", "NaTType"):
        return None
    if isinstance(value, _dt.datetime):
        return rfc3339(value)
    if isinstance(value, _dt.date):
        return rfc3339(_dt.datetime(value.year, value.month, value.day, tzinfo=_UTC))
    if isinstance(value, decimal.Decimal):
        return to_json_value(float(value))
    module = type(value).__module__ or ""
    if module == "numpy":
        return _numpy_value(value)
    if isinstance(value, Mapping):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_value(v) for v in value]
    # Fail in the caller's thread, where the mistake is, not later in a batch with other rows.
    raise TypeError(f"cannot send a {type(value).__name__} value to driftscope: {value!r:.80}")


def _numpy_value(value: Any) -> Any:
    import numpy as np  # only reached when the caller passed numpy objects

    if isinstance(value, np.datetime64):
        if np.isnat(value):
            return None
        return str(np.datetime_as_string(value, timezone="UTC"))
    if isinstance(value, np.timedelta64):
        return None if np.isnat(value) else value.astype("timedelta64[ns]").astype(np.int64) / 1e9
    if isinstance(value, np.ndarray):
        return [to_json_value(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return to_json_value(value.item())
    raise TypeError(f"cannot send a numpy {type(value).__name__} value to driftscope")


def rfc3339(value: _dt.datetime) -> str:
    """RFC 3339 text with an explicit offset (``Z`` for UTC); naive datetimes are taken as UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=_UTC)
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
