"""Calendar features from datetime time stamps (known in advance for every future step).

Each feature maps a time stamp to [-0.5, 0.5] (as GluonTS's time features): e.g. hour_of_day is
hour / 23 - 0.5. `default_features(freq)` picks the ones that vary at a frequency: an hourly
series gets hour of day, day of week, day of month and day of year; a monthly one gets month.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from tsforecast.errors import InputError

__all__ = ["FEATURES", "calendar_features", "default_features", "validate_features"]


def _scaled(values: Any, top: float) -> np.ndarray:
    return np.asarray(values, dtype=np.float32) / np.float32(top) - np.float32(0.5)


FEATURES: dict[str, Callable[[pd.DatetimeIndex], np.ndarray]] = {
    "minute_of_hour": lambda t: _scaled(t.minute, 59),
    "hour_of_day": lambda t: _scaled(t.hour, 23),
    "day_of_week": lambda t: _scaled(t.day_of_week, 6),
    "day_of_month": lambda t: _scaled(t.day - 1, 30),
    "day_of_year": lambda t: _scaled(t.day_of_year - 1, 365),
    "week_of_year": lambda t: _scaled(t.isocalendar().week.to_numpy() - 1, 52),
    "month_of_year": lambda t: _scaled(t.month - 1, 11),
}


def default_features(freq: str) -> list[str]:
    """The calendar features that vary within a few seasons at pandas frequency `freq`."""
    offset = pd.tseries.frequencies.to_offset(freq)
    if isinstance(offset, pd.offsets.Tick):
        seconds = pd.Timedelta(offset).total_seconds()
        if seconds < 3600:
            return ["minute_of_hour", "hour_of_day", "day_of_week", "day_of_month", "day_of_year"]
        if seconds < 86400:
            return ["hour_of_day", "day_of_week", "day_of_month", "day_of_year"]
        if seconds < 7 * 86400:
            return ["day_of_week", "day_of_month", "day_of_year"]
        return ["week_of_year", "month_of_year"]
    name = type(offset).__name__
    if "Business" in name or name in ("Day", "CustomBusinessDay"):
        return ["day_of_week", "day_of_month", "day_of_year"]
    if name == "Week":
        return ["week_of_year", "month_of_year"]
    if "Month" in name or "Quarter" in name:
        return ["month_of_year"]
    return []


def validate_features(names: Sequence[str]) -> list[str]:
    """Check feature names; raise `InputError` naming the unknown ones."""
    unknown = [n for n in names if n not in FEATURES]
    if unknown:
        msg = f"unknown calendar features {unknown}; choose from {list(FEATURES)}."
        raise InputError(msg)
    return list(names)


def calendar_features(times: pd.Index, names: Sequence[str]) -> np.ndarray:
    """The features `names` of each time stamp: [T, K] float32 in [-0.5, 0.5]."""
    index = pd.DatetimeIndex(times)
    if not names:
        return np.zeros((len(index), 0), dtype=np.float32)
    columns = [FEATURES[name](index) for name in validate_features(names)]
    return np.stack(columns, axis=1).astype(np.float32)
