"""The interval modes of `forecast()`, `backtest()`, the configs and the CLI, and what "auto"
means for a model (see `conformal` for the intervals themselves)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from tsforecast.errors import InputError
from tsforecast.estimators.base import Forecaster

__all__ = [
    "AUTO_CALIBRATED",
    "CALIBRATED_WINDOWS",
    "INTERVAL_MODES",
    "check_intervals",
    "resolve_intervals",
]

# `intervals=`: the model's own, conformal around the point forecast, or the model's own
# conformalised (calibrated).
INTERVAL_MODES = ("auto", "model", "conformal", "calibrated")
# intervals="auto": "calibrated" for the model classes whose calibrated intervals
# were nearer nominal than their own on the M4 Hourly and Weekly backtests
# (experiments/benchmarks/coverage.py, README "Conformal intervals"), the model's own otherwise
AUTO_CALIBRATED = frozenset({"naive", "seasonal_naive", "naive2", "theta", "ets", "arima"})
# intervals="calibrated": windows one horizon apart, pooled over series (see with_intervals)
CALIBRATED_WINDOWS = 5


def check_intervals(intervals: Any, what: str = "intervals") -> str:
    """`intervals` as one of INTERVAL_MODES, or `InputError` naming the closest one."""
    if isinstance(intervals, str) and intervals in INTERVAL_MODES:
        return intervals
    close = difflib.get_close_matches(str(intervals), INTERVAL_MODES, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else "."
    msg = f"`{what}` must be one of {list(INTERVAL_MODES)}, got {intervals!r}{hint}"
    raise InputError(msg)


def resolve_intervals(model: Any, mode: str, levels: Sequence[float]) -> str:
    """The mode that `mode` means for `model`: "auto" -> "calibrated" for the classes of
    AUTO_CALIBRATED when levels are asked for, else "model"."""
    if mode != "auto":
        return mode
    name = str(getattr(model, "model_name", ""))
    calibrate = bool(levels) and isinstance(model, Forecaster) and name in AUTO_CALIBRATED
    return "calibrated" if calibrate else "model"
