"""A `forecast()` output -> everything the forecast page shows, as JSON-ready Python data.

The forecast frame is wide (id, time, each target as its point forecast, `T_lo_80` / `T_hi_80`
...); its `attrs` (see `tsforecast.api`) say which columns are which and how it was made. A
frame without them (read back from a CSV) is read with the default names `unique_id` / `ds`,
every other column without a `_lo_` / `_hi_` suffix being a target.

The per-series blobs are those of the backtest explorer (`series.py`): the forecast is put in
its long form with one "cutoff" per series, the series' last observed time (its first forecast
time when there is no history), so the page decodes and plots it with the same code.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from tsforecast.checks import level_tag
from tsforecast.data.frames import to_pandas
from tsforecast.data.timestamps import time_stamps
from tsforecast.errors import InputError
from tsforecast.report.encode import json_safe, json_scalar, natural_key
from tsforecast.report.reading import frame_or_none
from tsforecast.report.series import series_blobs

__all__ = ["FORECAST_PAGE_NUMBERS", "forecast_data", "is_forecast_frame"]

# The page's data budget in numbers (base64 float32: ~5.3 characters each, so ~15 MB beside
# plotly.js's ~4.8 MB): with many series, the history kept per series shrinks to fit it. A
# series also costs ~300 characters of JSON and markup, counted as numbers (measured: 10,000
# series of 24 steps with two levels and 100 steps of history make a 19.6 MB page).
FORECAST_PAGE_NUMBERS = 2_800_000
_SERIES_OVERHEAD_NUMBERS = 60
_MAX_HISTORY = 5000  # steps of history per series at most (as the backtest dashboard)
_BOUND = re.compile(r"^(?P<target>.+)_(?P<side>lo|hi)_(?P<level>\d+(?:\.\d+)?)$")


def is_forecast_frame(value: Any) -> bool:
    """Whether `value` is a pandas or polars frame (what `forecast()` returns)."""
    if isinstance(value, pd.DataFrame):
        return True
    kind = type(value)
    return kind.__module__.startswith("polars") and kind.__name__ == "DataFrame"


def forecast_data(
    fc_frame: Any, history_df: Any | None, max_history: int | str | None
) -> dict[str, Any]:
    """The forecast page's data.

    Keys: settings (from attrs, with what was inferred), model (its label; "auto (theta)" for
    auto), targets, levels, is_datetime, series_ids, blobs, has_history, selection (a dict or
    None), failures (a frame or None), horizon (steps per series, the longest), max_history
    (the history kept per series).
    """
    attrs = dict(getattr(fc_frame, "attrs", None) or {})
    settings = dict(attrs.get("settings") or {})
    fc, _ = to_pandas(fc_frame, "fc")
    id_col = str(settings.get("id_col", "unique_id"))
    time_col = str(settings.get("time_col", "ds"))
    missing = [c for c in (id_col, time_col) if c not in fc.columns]
    if missing:
        msg = (
            f"the forecast frame lacks the columns {missing} (found: {list(fc.columns)}); pass "
            "what `tsforecast.forecast(...)` returns, or name its id and time columns "
            "`unique_id` and `ds`."
        )
        raise InputError(msg)
    if fc.empty:
        msg = "the forecast frame is empty: there is no forecast to show."
        raise InputError(msg)
    fc = fc.rename(columns={id_col: "unique_id", time_col: "ds"})
    targets, levels = _targets_and_levels(fc, settings.get("target_cols"))
    hist = _history(history_df, fc, id_col, time_col, targets)
    is_datetime = bool(pd.api.types.is_datetime64_any_dtype(fc["ds"]))
    selection = _selection(attrs.get("auto_selection"))
    model = str(settings.get("model") or "forecast")
    if selection and selection.get("chosen"):
        from tsforecast.estimators.auto_selection import option_name

        chosen = [str(m) for m in selection["chosen"]]
        weights = [float(w) for w in selection.get("weights") or []]
        model += f" ({option_name(chosen, weights)})"  # auto (median(theta, ets))
    horizon = int(fc.groupby("unique_id", sort=False, observed=True).size().max())
    n_series = int(fc["unique_id"].nunique())
    kept = _history_kept(max_history, n_series, len(targets), horizon, len(levels))
    long = _long_form(fc, hist, model, targets, levels)
    series_ids, blobs = series_blobs(long, hist, [model], targets, levels, kept, None)
    return {
        "settings": {**settings, "id_col": id_col, "time_col": time_col, "target_cols": targets},
        "model": model,
        "targets": targets,
        "levels": levels,
        "is_datetime": is_datetime,
        "series_ids": series_ids,
        "blobs": blobs,
        "has_history": hist is not None,
        "selection": selection,
        "failures": frame_or_none(attrs.get("failures")),
        "horizon": horizon,
        "max_history": kept,
    }


def _targets_and_levels(fc: pd.DataFrame, named: Any) -> tuple[list[str], list[float | int]]:
    """The target columns (from attrs, else every column that is not a bound) and the levels
    whose lower and upper bounds every target has."""
    columns = [str(c) for c in fc.columns if c not in ("unique_id", "ds")]
    bounds: dict[str, dict[str, set[str]]] = {}  # target -> level -> sides
    for column in columns:
        match = _BOUND.match(column)
        if match:
            sides = bounds.setdefault(match["target"], {}).setdefault(match["level"], set())
            sides.add(match["side"])
    if named:
        targets = [str(t) for t in named]
        absent = [t for t in targets if t not in columns]
        if absent:
            msg = (
                f"the forecast frame lacks its target columns {absent} (found: {columns}); "
                "pass the frame `tsforecast.forecast(...)` returned."
            )
            raise InputError(msg)
    else:
        is_bound = {c for c in columns if (m := _BOUND.match(c)) and m["target"] in columns}
        targets = [c for c in columns if c not in is_bound]
    if {"cutoff", "model", "y_hat"} <= set(columns):
        msg = (
            "this frame is a backtest's `forecasts` (it has cutoff, model and y_hat columns); "
            "pass the backtest result itself: tsf.report(res, path)."
        )
        raise InputError(msg)
    not_numeric = [t for t in targets if not pd.api.types.is_numeric_dtype(fc[t])]
    if not targets or not_numeric:
        msg = (
            f"the forecast frame's targets must be numeric columns, got {not_numeric or 'none'} "
            f"(found: {columns}); pass what `tsforecast.forecast(...)` returns."
        )
        raise InputError(msg)
    per_target = [
        {level for level, sides in bounds.get(t, {}).items() if sides == {"lo", "hi"}}
        for t in targets
    ]
    shared = set.intersection(*per_target)
    levels = sorted(float(v) for v in shared)
    return targets, [int(v) if v.is_integer() else v for v in levels]


def _history(
    history_df: Any | None, fc: pd.DataFrame, id_col: str, time_col: str, targets: list[str]
) -> pd.DataFrame | None:
    """`history_df` renamed like the forecast, checked to hold the forecast's series and
    targets; None when not given."""
    if history_df is None:
        return None
    if not is_forecast_frame(history_df):
        msg = (
            f"`history_df` must be a pandas or polars DataFrame, got {type(history_df).__name__}; "
            "pass the frame the forecast was made from."
        )
        raise InputError(msg)
    hist, _ = to_pandas(history_df, "history_df")
    missing = [c for c in (id_col, time_col, *targets) if c not in hist.columns]
    if missing:
        msg = (
            f"`history_df` lacks the forecast's columns {missing} (found: {list(hist.columns)}); "
            "pass the frame the forecast was made from."
        )
        raise InputError(msg)
    hist = hist.rename(columns={id_col: "unique_id", time_col: "ds"})
    # times as `forecast()` read them (a CSV's ISO strings become datetimes)
    hist["ds"] = time_stamps(hist["ds"], time_col)
    fc_ids = {json_scalar(u) for u in pd.unique(fc["unique_id"])}
    hist_ids = {json_scalar(u) for u in pd.unique(hist["unique_id"])}
    for what, ids in (
        ("has no rows for {n} series of the forecast", fc_ids - hist_ids),
        ("holds {n} series the forecast does not have", hist_ids - fc_ids),
    ):
        if ids:
            shown = sorted(ids, key=natural_key)[:10]
            msg = (
                f"`history_df` {what.format(n=len(ids))} ({id_col!r}): {shown}"
                f"{' ...' if len(ids) > 10 else ''}; pass the frame the forecast was made from, "
                f"with the same series (e.g. df[df[{id_col!r}].isin(fc[{id_col!r}])])."
            )
            raise InputError(msg)
    fc_dates = pd.api.types.is_datetime64_any_dtype(fc["ds"])
    if fc_dates != pd.api.types.is_datetime64_any_dtype(hist["ds"]):
        msg = (
            f"`history_df[{time_col!r}]` is {hist['ds'].dtype} but the forecast's is "
            f"{fc['ds'].dtype}; pass the frame the forecast was made from."
        )
        raise InputError(msg)
    _check_forecast_follows_history(fc, hist, id_col, time_col)
    return hist


def _check_forecast_follows_history(
    fc: pd.DataFrame, hist: pd.DataFrame, id_col: str, time_col: str
) -> None:
    """Refuse a "forecast" that does not start after its series' history: `forecast()` starts
    every series the step after its last row, so such a frame is the history itself or another
    table, and drawn as a forecast it would be a wrong picture."""
    first = fc.groupby("unique_id", sort=False, observed=True)["ds"].min()
    last = hist.groupby("unique_id", sort=False, observed=True)["ds"].max()
    try:
        inside = first[first <= last.reindex(first.index)]
    except TypeError:  # time zones that differ: the stamps cannot be compared
        msg = (
            f"`history_df[{time_col!r}]` ({hist['ds'].dtype}) and the forecast's "
            f"({fc['ds'].dtype}) cannot be compared; pass the frame the forecast was made from."
        )
        raise InputError(msg) from None
    if len(inside):
        series = inside.index[0]
        msg = (
            f"the frame does not start after its history: series {json_scalar(series)!r} "
            f"({id_col!r}) starts at {inside.iloc[0]} but `history_df` runs to "
            f"{last[series]} ({len(inside)} of {len(first)} series so); a forecast starts "
            "the step after its series' last row. Pass what `tsforecast.forecast(...)` returns."
        )
        raise InputError(msg)


def _history_kept(
    max_history: int | str | None, n_series: int, n_targets: int, horizon: int, n_levels: int
) -> int | None:
    """The history steps kept per series: `max_history`, or for "auto" as many as the page's
    data budget leaves once the forecasts are in (5000 at most, 2 x horizon at least)."""
    if max_history != "auto":
        return max_history  # type: ignore[return-value]
    fixed = n_series * (n_targets * horizon * (1 + 2 * n_levels) + _SERIES_OVERHEAD_NUMBERS)
    left = (FORECAST_PAGE_NUMBERS - fixed) // max(1, n_series * n_targets)
    return int(min(_MAX_HISTORY, max(2 * horizon, left)))


def _long_form(
    fc: pd.DataFrame,
    hist: pd.DataFrame | None,
    model: str,
    targets: list[str],
    levels: list[float | int],
) -> pd.DataFrame:
    """The wide forecast as the explorer's long frame: unique_id, ds, cutoff, model, target,
    y (unknown: NaN), y_hat and y_lo_L / y_hi_L, one block of rows per target."""
    first = fc.groupby("unique_id", sort=False, observed=True)["ds"].transform("min")
    origin = first
    if hist is not None:
        # the series' last observed time before its forecast starts
        before = hist.merge(
            fc.groupby("unique_id", sort=False, observed=True)["ds"].min().rename("first"),
            left_on="unique_id",
            right_index=True,
        )
        past = before[before["ds"] < before["first"]]
        last = past.groupby("unique_id", observed=True)["ds"].max()
        origin = fc["unique_id"].map(last).fillna(first).astype(first.dtype)
    parts = []
    for target in targets:
        part = pd.DataFrame(
            {
                "unique_id": fc["unique_id"].to_numpy(),
                "ds": fc["ds"].to_numpy(),
                "cutoff": origin.to_numpy(),
                "model": model,
                "target": target,
                "y": np.nan,
                "y_hat": fc[target].to_numpy(),
            }
        )
        for level in levels:
            for side in ("lo", "hi"):
                bound = fc[f"{target}_{side}_{level_tag(level)}"]
                part[f"y_{side}_{level_tag(level)}"] = bound.to_numpy()
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _selection(value: Any) -> dict[str, Any] | None:
    """What `auto` chose (an `AutoSelection`, or its dict after a round trip) as JSON data."""
    if value is None:
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if not isinstance(value, Mapping):
        return {"reason": str(value)}
    return dict(json_safe(value))
