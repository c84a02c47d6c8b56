"""Statistical baselines, fitted one series at a time, in parallel over series.

One module per concept: `naive` (naive, seasonal naive, drift, Naive2, the M4 seasonality test,
the classical decomposition), `ets`, `arima`, `theta`, and `parallel` (one model over one series
with its fallback, many series across processes). Callers use the names exported here.
"""

from __future__ import annotations

from tsforecast.stats.common import SeriesForecast
from tsforecast.stats.naive import seasonality_test
from tsforecast.stats.parallel import (
    BASELINES,
    TIME_BUDGET_REASON,
    fit_forecast,
    forecast_many,
    resolve_n_jobs,
    single_threaded_blas,
)

__all__ = [
    "BASELINES",
    "TIME_BUDGET_REASON",
    "SeriesForecast",
    "fit_forecast",
    "forecast_many",
    "resolve_n_jobs",
    "seasonality_test",
    "single_threaded_blas",
]
