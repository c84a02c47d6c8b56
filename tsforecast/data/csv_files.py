"""CSV files read so that every float is the number that was written, on pandas 2 and 3 alike.

pandas 2 parses floats with a fast converter that can be one unit in the last place off (a CSV
written by `to_csv` reads back as slightly different numbers); pandas 3 parses them exactly and
deprecates the `float_precision` option that asks pandas 2 for the exact parser.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["read_csv"]

_EXACT_FLOATS: dict[str, Any] = (
    {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}
)


def read_csv(path: str | Path, **options: Any) -> pd.DataFrame:
    """`pd.read_csv(path, **options)` with floats parsed exactly."""
    return pd.read_csv(path, **_EXACT_FLOATS, **options)
