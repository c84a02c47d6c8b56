"""Backtest result or forecast -> one self-contained, offline plotly HTML dashboard.

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

`report(fc, path, history_df=df)` of what `tsforecast.forecast()` returns (pandas or polars)
writes the forecast page instead: per series (a search box and a picker that lists 500 at a
time), its history, the forecast and a band per interval level, one plot per target; what made
it (the model, and for `auto` the candidates' inner MASE, the combinations, the choice, the
excluded series and the time budget, from `fc.attrs`) and the series that fell back. With many
series the history kept per series shrinks so that the page stays near 20 MB (10,000 series).

Layout: `collect` turns a result into the page's data (`reading`, `tables`, `series` do the
parts, `encode` writes numbers and JSON), `page` fills the HTML template of `assets/`;
`forecast` and `forecast_page` do the same for a forecast, with the same blobs (`series`).
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
from tsforecast.report.forecast import forecast_data, is_forecast_frame
from tsforecast.report.forecast_page import build_forecast_page, default_forecast_title
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
    max_history: int | str | None = "auto",
) -> Path:
    """Write the dashboard of a backtest `result` or a forecast to `path` (HTML); return the path.

    `result` is what `tsforecast.backtest` returns (forecasts, metrics, metrics_by, leaderboard,
    failures, settings), or the frame `tsforecast.forecast` returns. The past of each series is
    drawn from `history_df` (the frame the backtest or forecast ran on; for a forecast it must
    hold the same series and targets) or, for a backtest, from the result's own copy of it;
    without either, a backtest shows the actuals of its windows and a forecast its future only
    (the page says so). `max_history` bounds the history kept per series (steps before its
    first forecast; None keeps all); "auto" keeps 5000, fewer for a forecast of so many series
    that the page would grow past ~20 MB.
    """
    target = Path(path)
    if target.suffix.lower() not in (".html", ".htm"):
        msg = f"`path` must end in .html, got {str(path)!r}; e.g. 'dashboards/NAME.html'."
        raise InputError(msg)
    if target.is_dir():  # refused before the page is built: it could not replace a folder
        msg = f"`path` {str(path)!r} is a folder; pass a file path such as 'dashboards/NAME.html'."
        raise InputError(msg)
    text = _render(result, history_df, title, max_history)
    write_atomic(target, text)
    return target


def render(
    result: Any,
    *,
    history_df: Any | None = None,
    title: str | None = None,
    max_history: int | str | None = "auto",
) -> str:
    """The dashboard of `result` as one HTML string (see `report`)."""
    return _render(result, history_df, title, max_history)


def _render(
    result: Any, history_df: Any | None, title: str | None, max_history: int | str | None
) -> str:
    if max_history not in (None, "auto") and (
        isinstance(max_history, bool) or not isinstance(max_history, int) or max_history < 0
    ):
        msg = f"`max_history` must be a non-negative integer, 'auto' or None, got {max_history!r}."
        raise InputError(msg)
    if is_forecast_frame(result):
        data = forecast_data(result, history_df, max_history)
        page = build_forecast_page(data, title or default_forecast_title(data))
        n_models = 1
    elif getattr(result, "forecasts", None) is not None:
        kept = 5000 if max_history == "auto" else max_history
        data = dashboard_data(result, history_df, kept)  # type: ignore[arg-type]
        page = build_page(data, title or default_title(data["settings"]))
        n_models = len(data["models"])
    else:
        msg = (
            f"`result` must be what `tsforecast.backtest(...)` returns (a backtest result with a "
            f"`forecasts` frame) or what `tsforecast.forecast(...)` returns (a pandas or polars "
            f"frame), got {type(result).__name__}."
        )
        raise InputError(msg)
    size_mb = len(page.encode("utf-8")) / 1e6
    if size_mb > SIZE_BUDGET_MB:
        warnings.warn(
            f"the dashboard is {size_mb:.1f} MB, over the {SIZE_BUDGET_MB} MB that browsers open "
            f"comfortably ({len(data['series_ids'])} series x {n_models} models); "
            "pass a smaller `max_history`, fewer `levels`, or report a subset of the series.",
            TsforecastWarning,
            stacklevel=3,  # _render <- render/report <- the user's line
        )
    return page
