"""Backtest result -> one self-contained, offline plotly HTML dashboard.

`report(result, path)` writes a single HTML file with plotly.js inlined (no CDN, no request
to any network: it opens from a USB stick on a plane) holding:

- the leaderboard table (one row per model, from `result.leaderboard()`), the run's settings and
  the fallbacks (`result.failures`);
- the error by horizon step of each model (`result.metrics_by("horizon")`), metric selectable;
- a per-series explorer: the history and actuals of one series, each model's forecast and its
  prediction intervals, with selectors over series (with a filter box), cutoffs and targets;
- a fold x model heat map (fold k = the k-th cutoff of every series, so that series with
  different ends still line up);
- the empirical coverage of each interval level against its nominal level;
- the neural models' training curves (train and validation loss per evaluation step), when the
  result carries them.

How it stays usable for a whole M4 Hourly backtest (414 series x several models x cutoffs):
the summary plots are small and built from one JSON blob; the explorer's data is NOT a set of
hidden traces. Each series is one `<script type="application/json">` element holding its time
axis (start/step/length when regular, else float64), its values and every forecast as base64
float32 arrays (4 bytes a number, about 5.3 characters, instead of 15-20 for JSON decimals), so
the browser parses only the series being looked at, when it is selected, and plots it with
`Plotly.react` (a few dozen traces at a time). History is cut to `max_history` steps before a
series' first cutoff. Size: plotly.js (~4.8 MB) + the history (~2 MB for M4 Hourly) + about
1.6 MB per model for M4 Hourly with three 48-step folds and two interval levels; the
`experiments/m4_hourly.toml` dashboard (6 models) measured 16.8 MB, under the 25 MB budget
(`render` warns past it). Switching series re-plots in about 0.1 s in Chromium.

Every file is written atomically (`tsforecast.atomic`): to a temporary file in the same folder,
then `os.replace`d, so a reader never sees half a dashboard.

Layout: `collect` turns a result into the page's data (`reading`, `tables`, `series` do the
parts, `encode` writes numbers and JSON), `page` fills the HTML template of `assets/`.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

# `atomic_path` moved to tsforecast.atomic and is re-exported here (the `as` says so) because
# tsforecast.cli still imports it from this module.
from tsforecast.atomic import atomic_path as atomic_path
from tsforecast.atomic import write_atomic
from tsforecast.errors import InputError, TsforecastWarning
from tsforecast.report.collect import dashboard_data
from tsforecast.report.page import build_page, default_title

__all__ = ["SIZE_BUDGET_MB", "render", "report"]

# Past this size a warning says how to make the page smaller (it is still written).
SIZE_BUDGET_MB = 25


def report(
    result: Any,
    path: str | os.PathLike[str],
    *,
    history_df: Any | None = None,
    title: str | None = None,
    max_history: int | None = 5000,
) -> Path:
    """Write the dashboard of a backtest `result` to `path` (HTML) and return the path.

    `result` is what `tsforecast.backtest` returns (forecasts, metrics, metrics_by, leaderboard,
    failures, settings). The past of each series is drawn from `history_df` (the frame the
    backtest ran on) or, when not given, from the result's own copy of it; without either only
    the actuals of the forecast windows are drawn. `max_history` bounds the history kept per
    series (steps before its first cutoff; None keeps all).
    """
    target = Path(path)
    if target.suffix.lower() not in (".html", ".htm"):
        msg = f"`path` must end in .html, got {str(path)!r}; e.g. 'dashboards/NAME.html'."
        raise InputError(msg)
    text = _render(result, history_df, title, max_history)
    write_atomic(target, text)
    return target


def render(
    result: Any,
    *,
    history_df: Any | None = None,
    title: str | None = None,
    max_history: int | None = 5000,
) -> str:
    """The dashboard of `result` as one HTML string (see `report`)."""
    return _render(result, history_df, title, max_history)


def _render(result: Any, history_df: Any | None, title: str | None, max_history: int | None) -> str:
    if max_history is not None and (
        isinstance(max_history, bool) or not isinstance(max_history, int) or max_history < 0
    ):
        msg = f"`max_history` must be a non-negative integer or None, got {max_history!r}."
        raise InputError(msg)
    data = dashboard_data(result, history_df, max_history)
    page = build_page(data, title or default_title(data["settings"]))
    size_mb = len(page.encode("utf-8")) / 1e6
    if size_mb > SIZE_BUDGET_MB:
        warnings.warn(
            f"the dashboard is {size_mb:.1f} MB, over the {SIZE_BUDGET_MB} MB that browsers open "
            f"comfortably ({len(data['series_ids'])} series x {len(data['models'])} models); "
            "pass a smaller `max_history`, fewer `levels`, or report a subset of the series.",
            TsforecastWarning,
            stacklevel=3,  # _render <- render/report <- the user's line
        )
    return page
