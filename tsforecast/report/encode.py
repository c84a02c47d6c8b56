"""How the dashboard's numbers, times and JSON are written into the page.

- Numbers the page shows (tables, summary plots) are rounded to 6 significant digits: the
  dashboard is for reading, and a shorter decimal is a smaller file.
- Bulk arrays (the explorer's history and forecasts) are base64 of little-endian float32 (or
  int32 / float64), about 5.3 characters a number against 15-20 for JSON decimals.
- Time stamps become float64 numbers for the plots (epoch milliseconds, the unit plotly's date
  axes read) and short labels for the selectors.
- JSON placed inside a `<script>` element has no `<`, `>` or `&` (so no `</script>` in data).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import os
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "b64",
    "encode_axis",
    "json_safe",
    "json_scalar",
    "natural_key",
    "script_json",
    "time_key",
    "time_label",
    "time_numbers",
    "to_float",
    "to_floats",
]


def json_scalar(value: Any) -> Any:
    """A value JSON can hold: numpy scalars unwrapped, times as labels, NaN/inf as None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        return time_label(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_float(value: Any, digits: int = 6) -> float | None:
    """`value` as a float rounded to `digits` significant digits; None when not a finite number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number):
        return None
    return float(f"{number:.{digits}g}")


def to_floats(values: Any) -> list[float | None]:
    return [to_float(v) for v in values]


def json_safe(value: Any) -> Any:
    """`value` made of JSON types only (settings hold paths, dataclasses, numpy numbers ...)."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [json_safe(v) for v in value]
    if isinstance(value, float):
        return to_float(value, digits=12)
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, (np.generic, pd.Timestamp, dt.datetime, dt.date)):
        return json_safe(json_scalar(value))
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


def script_json(value: Any) -> str:
    """Compact JSON that is safe inside a <script> element (no '<', '>' or '&' characters)."""
    text = json.dumps(json_safe(value), separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def b64(values: Any, dtype: Any) -> str:
    """`values` as base64 of little-endian `dtype` (the byte order JS typed arrays read)."""
    array = np.ascontiguousarray(np.asarray(values, dtype=np.float64), dtype=np.dtype(dtype))
    return base64.b64encode(array.astype(array.dtype.newbyteorder("<")).tobytes()).decode()


def encode_axis(axis: np.ndarray) -> dict[str, Any]:
    """A time axis as start/step/length when regular (most series), else base64 float64."""
    if len(axis) >= 2:
        steps = np.diff(axis)
        if np.all(steps == steps[0]):
            return {"start": float(axis[0]), "step": float(steps[0]), "n": len(axis)}
    if len(axis) == 1:
        return {"start": float(axis[0]), "step": 1.0, "n": 1}
    return {"b64": b64(axis, np.float64)}


def time_numbers(values: Any) -> np.ndarray:
    """Time stamps as float64: epoch milliseconds (wall clock) for datetimes, else the number."""
    series = pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(series):
        if getattr(series.dt, "tz", None) is not None:
            series = series.dt.tz_localize(None)
        return series.to_numpy(dtype="datetime64[ms]").astype(np.int64).astype(np.float64)
    return pd.to_numeric(series).to_numpy(dtype=np.float64)


def time_key(value: Any) -> Any:
    """A key under which equal time stamps of different types (Timestamp, datetime64) match."""
    return float(time_numbers([value])[0]) if not isinstance(value, str) else value


def time_label(value: Any) -> str:
    """A time stamp as the page writes it: ISO date, with the time only when not midnight."""
    if isinstance(value, (pd.Timestamp, dt.datetime, np.datetime64)):
        stamp = pd.Timestamp(value)
        text = stamp.isoformat(sep=" ")
        return text.removesuffix(" 00:00:00").removesuffix("T00:00:00")
    return str(json_scalar(value))


def natural_key(value: Any) -> tuple[Any, ...]:
    """Sort key that puts 'H2' before 'H10' (numbers inside ids compare as numbers)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value)
    parts = re.split(r"(\d+)", str(value))
    return (1, *((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts))
