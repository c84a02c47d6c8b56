"""What a backtest scores forecasts against: the actuals, the per-fold MASE/RMSSE scales, and
the failures frame."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from tsforecast.backtest.folds import FoldPlan
from tsforecast.data.panel import Panel
from tsforecast.errors import InputError, TsforecastWarning
from tsforecast.metrics import mase_scale, rmsse_scale

__all__ = [
    "actuals_frame",
    "failures_frame",
    "failures_in_series_order",
    "fold_scales",
    "with_actuals",
]


def actuals_frame(panel: Panel) -> pd.DataFrame:
    """id, time, target, y: every observation, long (what forecasts are scored against).

    A value `fill` made up (`panel.filled`) is no actual: its y is NaN, and the metrics skip it
    (scored against a filled 0 or a carried-forward value, a forecast's error was made up too).
    """
    pdf = panel.to_pandas()
    parts = []
    for t, target in enumerate(panel.target_cols):
        y = pdf[target].to_numpy(dtype=np.float64)
        if panel.filled is not None:
            y = np.where(panel.filled[:, t], np.nan, y)
        parts.append(
            pd.DataFrame(
                {
                    panel.id_col: pdf[panel.id_col].to_numpy(),
                    panel.time_col: pdf[panel.time_col].to_numpy(),
                    "target": target,
                    "y": y,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def with_actuals(long: pd.DataFrame, actuals: pd.DataFrame, panel: Panel) -> pd.DataFrame:
    keys = [panel.id_col, panel.time_col, "target"]
    merged = long.merge(actuals, on=keys, how="left")
    if merged["y_hat"].isna().any() or len(merged) != len(long):
        model = long["model"].iloc[0] if len(long) else "?"
        msg = (
            f"model {model!r} returned {int(merged['y_hat'].isna().sum())} missing forecasts; "
            "its `predict` must forecast `horizon` steps after every series' end."
        )
        raise InputError(msg)
    cols = [panel.id_col, panel.time_col, "cutoff", "model", "target", "y", "y_hat"]
    return merged[cols + [c for c in merged.columns if c not in cols]]


def failures_frame(failures: list[dict[str, Any]], id_col: str) -> pd.DataFrame:
    columns = [id_col, "model", "target", "cutoff", "reason"]
    frame = pd.DataFrame(failures, columns=columns)
    if failures:
        shown = [(f[id_col], f["model"], str(f["cutoff"])) for f in failures[:5]]
        warnings.warn(
            f"{len(failures)} fits fell back to seasonal naive (or naive); first: {shown}. "
            "See `result.failures` for every series, model, cutoff and reason.",
            TsforecastWarning,
            stacklevel=3,
        )
    return frame


def failures_in_series_order(
    failures: list[dict[str, Any]], panel: Panel, labels: list[str]
) -> list[dict[str, Any]]:
    """Failures by model, then series (panel order), cutoff and target: the same list whether
    the work ran locally or in chunks (a stable sort: rows of the same fit keep their order)."""
    series = {series_id: s for s, series_id in enumerate(panel.ids)}
    models = {label: m for m, label in enumerate(labels)}
    targets = {target: t for t, target in enumerate(panel.target_cols)}

    def key(row: dict[str, Any]) -> tuple[int, int, Any, int]:
        return (
            models.get(row["model"], len(models)),
            series.get(row[panel.id_col], len(series)),
            row["cutoff"],
            targets.get(row["target"], len(targets)),
        )

    return sorted(failures, key=key)


def fold_scales(panel: Panel, plan: FoldPlan, season_length: int) -> pd.DataFrame:
    """MASE / RMSSE scales per (series, target, cutoff) from each fold's training part: the
    seasonal differences of its observed values (none that `fill` made up)."""
    rows = []
    for s in range(panel.n_series):
        values = panel.observed_values(s)
        for k in range(plan.n_windows):
            a, c = int(plan.start_idx[s, k]), int(plan.cutoff_idx[s, k])
            for t, target in enumerate(panel.target_cols):
                past = values[a : c + 1, t]
                rows.append(
                    (
                        panel.ids[s],
                        target,
                        panel.times[s][c],
                        mase_scale(past, season_length),
                        rmsse_scale(past, season_length),
                    )
                )
    return pd.DataFrame(
        rows, columns=["unique_id", "target", "cutoff", "_mase_scale", "_rmsse_scale"]
    )
