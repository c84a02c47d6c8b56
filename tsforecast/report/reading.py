"""Reading the parts of a backtest result, tolerant of result-like objects.

`report` takes what `tsforecast.backtest` returns, but also any object with the same attributes
(a stand-in in a notebook, a result read back from disk): each part is optional except the
forecasts, and a part may be a frame (pandas or polars), a list of records or a method.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from tsforecast.data.frames import to_pandas
from tsforecast.errors import InputError
from tsforecast.report.encode import json_scalar

__all__ = [
    "fold_index",
    "forecasts_frame",
    "frame_or_none",
    "history_frame",
    "levels_of",
    "metrics_by",
    "settings_of",
    "unique",
]

_INTERVAL = re.compile(r"^y_(lo|hi)_(\d+(?:\.\d+)?)$")
_REQUIRED = ("unique_id", "ds", "cutoff", "model", "target", "y", "y_hat")
# where a result may keep the frame the backtest ran on
_HISTORY_ATTRIBUTES = ("history", "history_df", "df", "data")


def settings_of(result: Any) -> dict[str, Any]:
    settings = getattr(result, "settings", None)
    if settings is None:
        return {}
    if dataclasses.is_dataclass(settings) and not isinstance(settings, type):
        return dataclasses.asdict(settings)
    if isinstance(settings, Mapping):
        return dict(settings)
    return {"settings": str(settings)}


def forecasts_frame(result: Any, settings: dict[str, Any]) -> pd.DataFrame:
    """The result's forecasts as pandas, with the id and time columns named unique_id and ds."""
    raw = getattr(result, "forecasts", None)
    if raw is None:
        msg = (
            f"`result` must be a backtest result with a `forecasts` frame, got "
            f"{type(result).__name__}; pass what `tsforecast.backtest(...)` returns."
        )
        raise InputError(msg)
    fc, _ = to_pandas(raw, "result.forecasts")
    id_col = str(settings.get("id_col", "unique_id"))
    time_col = str(settings.get("time_col", "ds"))
    fc = fc.rename(columns={id_col: "unique_id", time_col: "ds"})
    missing = [c for c in _REQUIRED if c not in fc.columns]
    if missing:
        msg = (
            f"`result.forecasts` lacks the columns {missing} (found: {list(fc.columns)}); "
            "pass the result of `tsforecast.backtest`."
        )
        raise InputError(msg)
    if fc.empty:
        msg = "`result.forecasts` is empty: the backtest produced no forecast to show."
        raise InputError(msg)
    return fc


def history_frame(
    result: Any, history_df: Any | None, settings: dict[str, Any]
) -> pd.DataFrame | None:
    """`history_df`, else the result's own copy of its data, renamed like the forecasts; or None."""
    history = history_df
    if history is None:
        for name in _HISTORY_ATTRIBUTES:
            candidate = getattr(result, name, None)
            if candidate is not None and not callable(candidate):
                history = candidate
                break
    if history is None:
        return None
    id_col = str(settings.get("id_col", "unique_id"))
    time_col = str(settings.get("time_col", "ds"))
    hist, _ = to_pandas(history, "history_df")
    hist = hist.rename(columns={id_col: "unique_id", time_col: "ds"})
    if not {"unique_id", "ds"} <= set(hist.columns):
        msg = (
            f"`history_df` must hold the columns {id_col!r} and {time_col!r} "
            f"(found: {list(hist.columns)}); pass the frame the backtest ran on."
        )
        raise InputError(msg)
    return hist


def frame_or_none(value: Any) -> pd.DataFrame | None:
    """A part of the result as a pandas frame (called first if a method), or None if unusable."""
    if value is None:
        return None
    if callable(value):
        value = value()
    if isinstance(value, list):
        return pd.DataFrame(value) if value else None
    try:
        frame, _ = to_pandas(value)
    except InputError:
        return None
    return frame


def metrics_by(result: Any, by: str) -> pd.DataFrame | None:
    """`result.metrics_by(by)` as pandas, or None when the result has no such breakdown."""
    method = getattr(result, "metrics_by", None)
    if method is None:
        return None
    frame = frame_or_none(method(by))
    if frame is None or frame.empty:
        return None
    # metrics_by keeps the user's id column name; the report speaks unique_id.
    if by == "unique_id" and "unique_id" not in frame.columns:
        extra = [c for c in frame.columns if c not in ("model", "target", "metric", "value")]
        if extra:
            frame = frame.rename(columns={extra[0]: "unique_id"})
    return frame


def unique(values: pd.Series) -> list[Any]:
    """The distinct values in order of appearance, as JSON scalars."""
    return [json_scalar(v) for v in pd.unique(values)]


def levels_of(columns: Sequence[Any]) -> list[float | int]:
    """The interval levels of a forecasts frame: those with both a y_lo_L and a y_hi_L column."""
    found: dict[str, set[str]] = {}
    for column in columns:
        match = _INTERVAL.match(str(column))
        if match:
            found.setdefault(match.group(2), set()).add(match.group(1))
    levels = [float(k) for k, sides in found.items() if sides == {"lo", "hi"}]
    return [int(v) if v.is_integer() else v for v in sorted(levels)]


def fold_index(fc: pd.DataFrame) -> pd.Series:
    """Fold k (0-based) of each row: the k-th cutoff of its series (series may end apart)."""
    ranks = fc.groupby("unique_id", sort=False)["cutoff"].rank(method="dense")
    return ranks.astype(np.int64) - 1
