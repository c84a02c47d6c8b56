"""Python values -> values `json.dumps` writes as they are (dicts, lists, str, int, float, bool,
None), for what leaves the library as JSON: a forecast frame's `attrs`, which pandas writes into a
parquet file with a bare `json.dumps` (pyarrow drops them with a warning when that fails).

Numpy scalars become Python numbers, time stamps ISO 8601 strings, paths strings, dataclasses and
other mappings dicts with string keys, tuples and sets lists. Floats stay as they are, non-finite
ones included (Python's json writes and reads back NaN and Infinity): an inner MASE of `inf` means
"no score", and None would lose that.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["json_values"]


def json_values(value: Any) -> Any:
    """`value` made of the types `json.dumps` writes without a `default` (see the module doc)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if isinstance(value, Mapping):
        return {str(k): json_values(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_values(v) for v in value]
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    if value is pd.NaT:
        return None
    if isinstance(value, np.datetime64):  # `.item()` of a nanosecond one is an int
        return None if np.isnat(value) else pd.Timestamp(value).isoformat()
    if isinstance(value, np.timedelta64):
        return None if np.isnat(value) else str(pd.Timedelta(value))
    if isinstance(value, np.generic):
        return json_values(value.item())
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (pd.Timedelta, dt.timedelta)):
        return str(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)
