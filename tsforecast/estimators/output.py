"""Forecast positions and frames shared by every forecaster.

A forecast is named by a series (its position in the panel) and a cutoff (the position of the
last observation it may use). `cutoff_positions` turns a user's `cutoffs` into those pairs;
`forecast_frame` turns arrays of forecasts into the wide output frame of the input's type:
    id, time, [cutoff], and per target T: T, T_lo_<level>, T_hi_<level> ...
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from tsforecast.checks import level_tag
from tsforecast.data.frames import from_pandas
from tsforecast.data.panel import Panel
from tsforecast.errors import InputError

__all__ = ["cutoff_positions", "forecast_frame", "times_after"]


def times_after(panel: Panel, series: int, cutoff: int, horizon: int) -> np.ndarray:
    """The `horizon` time stamps after position `cutoff` of series `series`."""
    last = panel.times[series][cutoff]
    if panel.is_datetime:
        return np.asarray(pd.date_range(last, periods=horizon + 1, freq=str(panel.freq))[1:])
    return int(last) + int(panel.freq) * np.arange(1, horizon + 1, dtype=np.int64)


def cutoff_positions(panel: Panel, cutoffs: Any) -> tuple[np.ndarray, np.ndarray]:
    """(series positions, cutoff positions) of the forecasts asked for by `cutoffs`.

    `cutoffs` is either a sequence of time stamps (each series is forecast after every one of
    them it holds) or a frame with the id column and a `cutoff` column (exact pairs).
    """
    from tsforecast.data.frames import to_pandas

    series_list: list[np.ndarray] = []
    cutoff_list: list[np.ndarray] = []
    if hasattr(cutoffs, "columns"):
        pairs, _ = to_pandas(cutoffs, "cutoffs")
        if panel.id_col not in pairs.columns or "cutoff" not in pairs.columns:
            msg = (
                f"a `cutoffs` frame needs the columns {panel.id_col!r} and 'cutoff', got "
                f"{list(pairs.columns)}."
            )
            raise InputError(msg)
        position = {i: s for s, i in enumerate(panel.ids)}
        for series_id, group in pairs.groupby(panel.id_col, sort=False, observed=True):
            s = position.get(series_id)
            if s is None:
                continue
            found = panel.times[s].get_indexer(pd.Index(group["cutoff"].tolist()))
            found = np.unique(found[found >= 0])
            series_list.append(np.full(len(found), s))
            cutoff_list.append(found)
    else:
        if isinstance(cutoffs, (str, bytes)) or not isinstance(cutoffs, (Sequence, np.ndarray)):
            cutoffs = [cutoffs]
        wanted = pd.Index(list(cutoffs))
        for s, stamps in enumerate(panel.times):
            found = stamps.get_indexer(wanted)
            found = np.unique(found[found >= 0])
            series_list.append(np.full(len(found), s))
            cutoff_list.append(found)
    series_idx = np.concatenate(series_list or [np.zeros(0)]).astype(np.int64)
    cutoff_idx = np.concatenate(cutoff_list or [np.zeros(0)]).astype(np.int64)
    if len(series_idx) == 0:
        msg = "no series of `df` holds any of the `cutoffs`; pass time stamps found in `df`."
        raise InputError(msg)
    return series_idx, cutoff_idx


def forecast_frame(
    panel: Panel,
    series_idx: np.ndarray,
    cutoff_idx: np.ndarray,
    point: np.ndarray,
    lo: np.ndarray | None,
    hi: np.ndarray | None,
    levels: Sequence[float],
    with_cutoff: bool,
) -> Any:
    """The wide forecasts frame, of the panel's frame type.

    series_idx, cutoff_idx: (N,); point: (N, H, C); lo, hi: (N, H, C, L) in the order of
    `levels` (None without levels). One block of H rows per (series, cutoff), in the given order.
    """
    n, horizon, _ = point.shape
    ids = np.empty(len(panel.ids), dtype=object)
    ids[:] = panel.ids
    frame: dict[str, Any] = {
        panel.id_col: np.repeat(ids[series_idx], horizon),
        panel.time_col: (
            np.concatenate(
                [
                    times_after(panel, int(s), int(c), horizon)
                    for s, c in zip(series_idx, cutoff_idx, strict=True)
                ]
            )
            if n
            else np.zeros(0)
        ),
    }
    if with_cutoff:
        frame["cutoff"] = np.repeat(
            np.asarray(
                [panel.times[int(s)][int(c)] for s, c in zip(series_idx, cutoff_idx, strict=True)]
            ),
            horizon,
        )
    for c, target in enumerate(panel.target_cols):
        frame[target] = point[:, :, c].reshape(-1)
        for i, level in enumerate(levels):
            tag = level_tag(level)
            assert lo is not None and hi is not None
            frame[f"{target}_lo_{tag}"] = lo[:, :, c, i].reshape(-1)
            frame[f"{target}_hi_{tag}"] = hi[:, :, c, i].reshape(-1)
    pdf = pd.DataFrame(frame)
    id_values = pd.Series(panel.ids)
    if len(id_values) and id_values.map(type).nunique() == 1:
        pdf[panel.id_col] = pdf[panel.id_col].astype(id_values.dtype)
    return from_pandas(pdf, panel.frame_kind)
