"""A backtest result -> everything the dashboard page shows, as JSON-ready Python data.

No HTML here (that is `page.py`): the keys of `dashboard_data` are what the page is built from.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from tsforecast.report.reading import (
    fold_index,
    forecasts_frame,
    frame_or_none,
    history_frame,
    levels_of,
    metrics_by,
    settings_of,
    unique,
)
from tsforecast.report.series import series_blobs
from tsforecast.report.tables import (
    coverage_table,
    fold_table,
    horizon_table,
    leaderboard,
    training_curves,
    worst_series,
)

__all__ = ["dashboard_data"]


def dashboard_data(result: Any, history_df: Any | None, max_history: int | None) -> dict[str, Any]:
    """The page's data: the run's settings, its summaries and one blob per series.

    Keys: settings, models, targets, levels, is_datetime, series_ids, blobs (see `series.py`),
    leaderboard (a frame or None), horizon, folds, coverage, training, worst (the worst-series
    ranking), failures (a frame or None), n_forecasts and n_cutoffs.
    """
    settings = settings_of(result)
    fc = forecasts_frame(result, settings)
    hist = history_frame(result, history_df, settings)
    models = unique(fc["model"])
    targets = unique(fc["target"])
    levels = levels_of(list(fc.columns))
    metrics = frame_or_none(getattr(result, "metrics", None))
    fold_of = fold_index(fc)
    by_series = metrics_by(result, "unique_id")

    series_ids, blobs = series_blobs(fc, hist, models, targets, levels, max_history, by_series)
    return {
        "settings": settings,
        "models": models,
        "targets": targets,
        "levels": levels,
        "is_datetime": bool(pd.api.types.is_datetime64_any_dtype(fc["ds"])),
        "series_ids": series_ids,
        "blobs": blobs,
        "leaderboard": leaderboard(result, metrics),
        "horizon": horizon_table(metrics_by(result, "horizon"), models),
        "folds": fold_table(result, fc, fold_of, hist, settings),
        "coverage": coverage_table(metrics, fc, levels, models),
        "training": training_curves(result),
        "worst": worst_series(by_series, models, series_ids),
        "failures": frame_or_none(getattr(result, "failures", None)),
        "n_forecasts": int(fc.groupby(["unique_id", "cutoff", "model", "target"]).ngroups),
        "n_cutoffs": int(fold_of.max()) + 1,
    }
