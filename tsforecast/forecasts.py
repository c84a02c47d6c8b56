"""Arrays or estimator outputs -> the long forecasts frame every model returns in a backtest.

Schema (pandas inside; converted to the user's frame type at the boundary):
    <id_col>, <time_col>, cutoff, model, target, y, y_hat, y_lo_<level>, y_hi_<level>, ...
where `cutoff` is the time stamp of the last observation the forecast could use and `level` is
written as `f"{level:g}"` (80, 95, 99.5), the same tag the estimators use in their own frames.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from tsforecast.checks import level_tag
from tsforecast.errors import InputError

__all__ = [
    "FORECAST_COLUMNS",
    "estimator_to_long",
    "forecasts_frame",
]

FORECAST_COLUMNS: tuple[str, ...] = ("cutoff", "model", "target", "y", "y_hat")


def forecasts_frame(
    *,
    ids: np.ndarray,
    times: np.ndarray,
    cutoffs: np.ndarray,
    model: str,
    target: str,
    y: np.ndarray,
    y_hat: np.ndarray,
    lo: np.ndarray | None = None,
    hi: np.ndarray | None = None,
    levels: Sequence[float] = (),
    id_col: str = "unique_id",
    time_col: str = "ds",
) -> pd.DataFrame:
    """Long forecasts frame from flat arrays of N forecast points.

    ids, times, cutoffs, y, y_hat: (N,); lo, hi: (n_levels, N) in the order of `levels`.
    """
    frame: dict[str, Any] = {
        id_col: ids,
        time_col: times,
        "cutoff": cutoffs,
        "model": np.full(len(ids), model, dtype=object),
        "target": np.full(len(ids), target, dtype=object),
        "y": np.asarray(y, dtype=np.float64),
        "y_hat": np.asarray(y_hat, dtype=np.float64),
    }
    for i, level in enumerate(levels):
        tag = level_tag(level)
        frame[f"y_lo_{tag}"] = np.asarray(lo[i], dtype=np.float64) if lo is not None else np.nan
        frame[f"y_hi_{tag}"] = np.asarray(hi[i], dtype=np.float64) if hi is not None else np.nan
    return pd.DataFrame(frame)


def estimator_to_long(
    predicted: pd.DataFrame,
    *,
    model: str,
    target_cols: Sequence[str],
    levels: Sequence[float],
    id_col: str,
    time_col: str,
) -> pd.DataFrame:
    """An estimator's `predict` frame (id, time, one column per target, `<target>_lo_<tag>`...)
    -> long rows (id, time, model, target, y_hat, y_lo_<tag>...) without actuals or cutoff.

    Interval columns the estimator did not produce are NaN.
    """
    missing = [c for c in (id_col, time_col, *target_cols) if c not in predicted.columns]
    if missing:
        msg = (
            f"the forecasts of model {model!r} lack the columns {missing} (found: "
            f"{list(predicted.columns)}); `predict` must return the id, time and target columns."
        )
        raise InputError(msg)
    parts = []
    for target in target_cols:
        part = pd.DataFrame(
            {
                id_col: predicted[id_col].to_numpy(),
                time_col: predicted[time_col].to_numpy(),
                "model": model,
                "target": target,
                "y_hat": predicted[target].to_numpy(dtype=np.float64),
            }
        )
        for level in levels:
            tag = level_tag(level)
            for side in ("lo", "hi"):
                col = f"{target}_{side}_{tag}"
                part[f"y_{side}_{tag}"] = (
                    predicted[col].to_numpy(dtype=np.float64) if col in predicted else np.nan
                )
        parts.append(part)
    return pd.concat(parts, ignore_index=True)
