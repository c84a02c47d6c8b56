"""The scores of conformal calibration and the helpers that gather them (see `conformal`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from tsforecast.checks import level_tag
from tsforecast.data.frames import to_pandas
from tsforecast.data.panel import Panel
from tsforecast.errors import InputError
from tsforecast.estimators.output import _observations

__all__ = ["conformal_half_widths", "conformal_rank", "min_windows", "width_scores"]


def width_scores(
    actual: np.ndarray, point: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """The factor by which the interval [lo, hi] around `point` must be stretched on the side
    of `actual` to contain it: (y - point) / (hi - point) above the point, (point - y) /
    (point - lo) below, 0 at the point; NaN where that side has zero width and y is off the
    point (no factor would do), so the caller leaves it out."""
    above = actual >= point
    gap = np.where(above, actual - point, point - actual)  # >= 0
    side = np.where(above, hi - point, point - lo)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(side > 0, gap / np.where(side > 0, side, 1.0), np.nan)
    return np.where(gap == 0, 0.0, out)


def _order_statistics(scores: np.ndarray, levels: Sequence[float]) -> np.ndarray:
    """scores (n, ..., L) with NaN for left-out windows -> (..., L): at level i the
    conformal_rank(n_i, level)-th smallest of the n_i finite scores of level i (the largest
    when the rank exceeds n_i)."""
    ordered = np.sort(scores, axis=0)  # NaN last -> (n, ..., L)
    counts = np.isfinite(ordered).sum(axis=0)  # -> (..., L)
    out = np.ones(scores.shape[1:])  # no finite score at all: the model's own interval
    for i, level in enumerate(levels):
        n = counts[..., i]
        rank = np.array([min(conformal_rank(int(k), level), int(k)) for k in n.ravel()])
        rank = rank.reshape(n.shape)
        take = np.take_along_axis(ordered[..., i], np.maximum(rank - 1, 0)[None], axis=0)[0]
        out[..., i] = np.where(n > 0, take, 1.0)
    return out


def _bounds(
    frame: pd.DataFrame, target: str, level: float, model: str
) -> tuple[np.ndarray, np.ndarray]:
    """The model's own lower and upper bounds of `target` at `level` in a forecast frame."""
    tag = level_tag(level)
    lo, hi = f"{target}_lo_{tag}", f"{target}_hi_{tag}"
    if lo not in frame.columns or hi not in frame.columns:
        msg = (
            f"`score='width'` calibrates the model's own intervals, and {model!r} gave no "
            f"{level} % interval ({lo!r}, {hi!r}); use score='absolute' (intervals='conformal')."
        )
        raise InputError(msg)
    return frame[lo].to_numpy(dtype=np.float64), frame[hi].to_numpy(dtype=np.float64)


def _naive_scales(panel: Panel) -> np.ndarray:
    """(S, C) in-sample MAE of the one-step naive forecast per series and target.

    Where it is 0 or undefined the scale is still one in the series' own units, so that the
    intervals scale with the data (an absolute 1 gave a constant series at 0.005 an interval
    300 times its level): a constant series, which the data say does not move, 1e-6 of its
    largest |value|; a one-value series, whose spread nothing tells, its |value|; 1 only for
    zeros, which a change of units leaves as they are."""
    out = np.ones((panel.n_series, panel.n_targets))
    for s in range(panel.n_series):
        values = panel.observed_values(s)[:, : panel.n_targets]
        if len(values) == 0:
            continue
        size = np.nanmax(np.abs(values), axis=0)  # -> (C,)
        if len(values) > 1:
            mae = np.nanmean(np.abs(np.diff(values, axis=0)), axis=0)
            fallback = 1e-6 * size
        else:
            mae, fallback = np.zeros(panel.n_targets), size
        fallback = np.where(np.isfinite(fallback) & (fallback > 0), fallback, 1.0)
        out[s] = np.where(np.isfinite(mae) & (mae > 0), mae, fallback)
    return out


def _positions(
    panel: Panel, cutoff_idx: np.ndarray, predicted: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(series, cutoff position, calibration window, horizon step) of every row of a
    `predict_cutoffs` frame."""
    obs = _observations(panel)[["_id", "_time", "_series", "_position"]]
    keys = pd.DataFrame(
        {
            "_id": predicted[panel.id_col].to_numpy(dtype=object),
            "_time": predicted["cutoff"].to_numpy(),
        }
    )
    keys["_time"] = keys["_time"].astype(obs["_time"].dtype)
    found = keys.merge(obs, on=["_id", "_time"], how="left", validate="many_to_one")
    series_idx = found["_series"].to_numpy(dtype=np.int64)
    cutoff_pos = found["_position"].to_numpy(dtype=np.int64)
    # window k of series s is the one whose cutoff position is cutoff_idx[s, k]
    fold_idx = (cutoff_idx[series_idx] < cutoff_pos[:, None]).sum(axis=1)
    step_idx = (
        predicted.groupby([panel.id_col, "cutoff"], sort=False, observed=True)[panel.time_col]
        .rank(method="first")
        .to_numpy(dtype=np.int64)
        - 1
    )
    return series_idx, cutoff_pos, fold_idx, step_idx


def _fold_future(
    panel: Panel, cutoff_idx: np.ndarray, horizon: int, future_df: Any | None
) -> Any | None:
    """The known-future covariates of the `horizon` steps after each series' fold cutoff, read
    from the panel itself (they are known in advance); None when the call has no `future_df`."""
    if future_df is None:
        return None
    pdf, _ = to_pandas(future_df, "future_df")
    id_col, time_col = panel.id_col, panel.time_col
    cols = [c for c in pdf.columns if c not in (id_col, time_col)]
    history = panel.to_pandas()
    missing = [c for c in cols if c not in history.columns]
    if missing:
        msg = (
            f"known-future covariates {missing} of `future_df` are missing from `df`; their "
            "history is needed to calibrate conformal intervals."
        )
        raise InputError(msg)
    lengths = panel.lengths.to("cpu").numpy()
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    take = np.concatenate(
        [
            start + int(c) + 1 + np.arange(horizon)
            for start, c in zip(starts, cutoff_idx, strict=True)
        ]
    )
    return history.iloc[take][[id_col, time_col, *cols]].reset_index(drop=True)


def conformal_rank(n_scores: int, level: float) -> int:
    """ceil((n + 1) * level / 100): the rank (1-based) of the score that bounds the interval.
    Exact rational arithmetic: 0.95 * 20 must be 19, not 19.000000000000004."""
    return math.ceil(Fraction(n_scores + 1) * Fraction(str(level)) / 100)


def conformal_half_widths(scores: np.ndarray, levels: Sequence[float]) -> np.ndarray:
    """scores: (n, ...) absolute errors, the calibration windows first -> (..., L) half-widths.

    The half-width at level l is the conformal_rank(n_c, l)-th smallest of the n_c finite
    scores of its cell (a NaN score is a window left out: an actual that `fill` made up);
    when that rank exceeds n_c, the largest (see the module docstring; the caller warns).
    """
    n = scores.shape[0]
    ordered = np.sort(scores, axis=0)  # NaN last -> (n, ...)
    counts = np.isfinite(ordered).sum(axis=0)  # -> (...)
    out = []
    for level in levels:
        rank_of = np.array([min(conformal_rank(k, level), k) for k in range(n + 1)])
        index = np.maximum(rank_of[counts] - 1, 0)[None]  # -> (1, ...)
        out.append(np.take_along_axis(ordered, index, axis=0)[0])
    return np.stack(out, axis=-1)  # -> (..., L)


def min_windows(level: float) -> int:
    """The fewest scores whose order statistic covers `level`: ceil((n + 1) l) <= n."""
    n = 1
    while conformal_rank(n, level) > n:
        n += 1
    return n
