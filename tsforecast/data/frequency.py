"""Frequency inference, regular time grids and the seasonal period of a panel."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch

from tsforecast.data.panel import Panel
from tsforecast.errors import InputError

if TYPE_CHECKING:
    from tsforecast.data.validation import FillPolicy

__all__ = ["infer_season_length", "infer_step", "on_fixed_grid", "regularise"]

# the seasonal period of calendar frequencies (by pandas rule code, anchors dropped)
_SEASONS = {"D": 7, "B": 5, "W": 52, "MS": 12, "ME": 12, "M": 12, "QS": 4, "QE": 4, "Q": 4}


def infer_season_length(panel: Panel) -> int:
    """The seasonal period: from the frequency for datetimes, else from the autocorrelation.

    For integer time stamps the candidate periods (4, 7, 12, 24, 52) are scored by the mean
    autocorrelation of the differenced series at that lag; the best wins if it is clearly
    positive (> 0.2), otherwise 1 (no season).
    """
    if isinstance(panel.freq, str):
        offset = pd.tseries.frequencies.to_offset(panel.freq)
        if isinstance(offset, pd.offsets.Tick):
            seconds = pd.Timedelta(offset).total_seconds()
            if seconds < 86400:
                return max(1, int(86400 // seconds))  # the daily cycle
            return max(1, int(7 * 86400 // seconds))  # the weekly cycle (1 beyond a week)
        return _SEASONS.get(offset.rule_code.split("-")[0], 1)
    values = panel.values[..., 0].detach().to("cpu", torch.float64).numpy()
    lengths = panel.lengths.to("cpu").numpy()
    best, best_acf = 1, 0.2
    for lag in (4, 7, 12, 24, 52):
        scores = []
        for s in range(min(panel.n_series, 200)):
            x = np.diff(values[s, : lengths[s]])
            if len(x) < 3 * lag:
                continue
            x = x - x.mean()
            denominator = float(np.dot(x, x))
            if denominator > 0:
                scores.append(float(np.dot(x[lag:], x[:-lag])) / denominator)
        if scores and float(np.mean(scores)) > best_acf:
            best, best_acf = lag, float(np.mean(scores))
    return best


def infer_step(
    times: pd.Series,
    bounds: np.ndarray,
    ids: list[Any],
    is_datetime: bool,
    freq: str | int | None,
    time_col: str,
) -> str | int:
    """The common frequency of all series: a pandas alias, or an int step for integer time."""
    if not is_datetime:
        if freq is not None:
            if isinstance(freq, str) or int(freq) <= 0:
                msg = (
                    f"`freq` must be a positive integer step for integer time stamps, got {freq!r}."
                )
                raise InputError(msg)
            return int(freq)
        ticks = times.to_numpy(dtype=np.int64)
        diffs = np.diff(ticks)
        inside = np.ones(len(diffs), dtype=bool)
        inside[bounds[1:-1] - 1] = False  # a diff across two series is not a step
        steps = diffs[inside]
        if len(steps) == 0:
            return 1
        # the gcd of all steps is the grid; larger steps are gaps, found by regularise.
        return int(np.gcd.reduce(steps))
    if freq is not None:
        try:
            offset = pd.tseries.frequencies.to_offset(str(freq))
        except ValueError as error:
            msg = f"`freq` {freq!r} is not a pandas frequency (e.g. 'h', 'D', 'MS', '15min')."
            raise InputError(msg) from error
        return str(offset.freqstr)
    inferred: dict[str, list[Any]] = {}
    for s, series_id in enumerate(ids):
        lo, hi = bounds[s], bounds[s + 1]
        if hi - lo < 3:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # pandas 3 announces an offset return type
                found = pd.infer_freq(pd.DatetimeIndex(times.iloc[lo:hi]))
        except (ValueError, TypeError):
            found = None
        if found is not None:
            alias = str(getattr(found, "freqstr", found))
            inferred.setdefault(alias, []).append(series_id)
    if len(inferred) > 1:
        described = {alias: members[:3] for alias, members in inferred.items()}
        msg = (
            f"series have different frequencies: {described}; split them into separate frames "
            "or resample them to one frequency."
        )
        raise InputError(msg)
    if not inferred:
        # every series has gaps: the frequency of its gap-free stretches (short runs of stamps)
        for s, series_id in enumerate(ids[:50]):
            lo, hi = bounds[s], bounds[s + 1]
            for start in range(lo, max(lo + 1, hi - 4), 5):
                run = pd.DatetimeIndex(times.iloc[start : start + 5])
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    found = pd.infer_freq(run) if len(run) >= 3 else None
                if found is not None:
                    alias = str(getattr(found, "freqstr", found))
                    inferred.setdefault(alias, []).append(series_id)
        if inferred:
            return max(inferred, key=lambda alias: len(inferred[alias]))
        # no regular stretch at all: the most common step inside a series is the frequency.
        ticks = pd.DatetimeIndex(times).as_unit("ns").asi8
        diffs = np.diff(ticks)
        inside = np.ones(len(diffs), dtype=bool)
        inside[bounds[1:-1] - 1] = False
        steps, counts = np.unique(diffs[inside], return_counts=True)
        if len(steps) and steps[np.argmax(counts)] > 0:
            offset = pd.tseries.frequencies.to_offset(pd.Timedelta(int(steps[np.argmax(counts)])))
            return str(offset.freqstr)
        msg = (
            f"cannot infer the frequency of column {time_col!r} (no series has three evenly "
            "spaced time stamps); pass `freq`, e.g. freq='h'."
        )
        raise InputError(msg)
    return next(iter(inferred))


def on_fixed_grid(times: pd.Series, bounds: np.ndarray, step: str | int) -> bool:
    """Fast path: True when every step inside every series is exactly one fixed period.

    Calendar frequencies ("MS", "B", ...) have no fixed duration and take the slow check.
    """
    if isinstance(step, str):
        offset = pd.tseries.frequencies.to_offset(step)
        if not isinstance(offset, pd.offsets.Tick):
            return False
        ticks = pd.DatetimeIndex(times).as_unit("ns").asi8
        period = int(pd.Timedelta(offset).value)
    else:
        ticks = times.to_numpy(dtype=np.int64)
        period = step
    diffs = np.diff(ticks)
    inside = np.ones(len(diffs), dtype=bool)
    inside[bounds[1:-1] - 1] = False
    return bool(np.all(diffs[inside] == period))


def regularise(
    times: pd.Index,
    values: np.ndarray,
    step: str | int,
    series_id: Any,
    fill: FillPolicy | None,
    time_col: str,
) -> tuple[pd.Index, np.ndarray]:
    """Check that a series sits on the regular grid; insert missing stamps when filling."""
    if len(times) <= 1:
        return times, values
    if isinstance(step, str):
        expected: pd.Index = pd.date_range(times[0], times[-1], freq=step)
    else:
        expected = pd.Index(np.arange(int(times[0]), int(times[-1]) + 1, step, dtype=np.int64))
    if len(expected) == len(times) and expected.equals(times):
        return times, values
    off_grid = times.difference(expected)
    if len(off_grid):
        msg = (
            f"series {series_id!r} has {len(off_grid)} time stamps off the {step!r} grid "
            f"(first: {off_grid[0]}); resample it or pass the right `freq`."
        )
        raise InputError(msg)
    missing = expected.difference(times)
    if fill is None:
        msg = (
            f"series {series_id!r} has {len(missing)} missing time stamps in column "
            f"{time_col!r} (first: {missing[0]}); pass `fill='ffill'|'interpolate'|'zero'` to "
            "fill them or fill the gaps yourself."
        )
        raise InputError(msg)
    position = expected.get_indexer(times)
    full = np.full((len(expected), values.shape[1]), np.nan)
    full[position] = values
    return expected, full
