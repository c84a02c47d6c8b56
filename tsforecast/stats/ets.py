"""ETS: exponential smoothing in state-space form, the form chosen by AICc.

statsmodels `ETSModel`; error (A, M) x trend (N, A, Ad) x season (N, A, M), without the
unstable A,*,M combinations and without multiplicative parts for non-positive data; the season
is N when the M4 seasonality test says the series is not seasonal, and A or M when it
is, so that at most 9 candidates are fitted; the converged candidate with the lowest AICc
whose forecast is admissible wins (finite and, for strictly positive data, positive at every
step: AICc would otherwise take an undamped trend that extrapolates a late decline below zero).
statsmodels bounds the parameters to the usual region (alpha, beta* = beta/alpha,
gamma* = gamma/(1-alpha) in (0, 1), phi in [0.8, 0.98]). The initial states come from
statsmodels' heuristic (a decomposition of the first seasons) instead of being optimised: on
long hourly series this makes each fit about 20x cheaper and, on M4 Hourly, also more accurate.
Intervals: statsmodels `get_prediction` (analytic for linear models, simulated otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tsforecast.stats.common import SeriesForecast, _Fallback
from tsforecast.stats.naive import seasonality_test


def _ets_candidates(y: np.ndarray, m: int) -> list[tuple[str, str | None, bool, str | None]]:
    positive = bool(np.all(y > 0))
    seasons: list[str | None] = [None]
    # The M4 seasonality test decides between the seasonal and the non-seasonal half of the
    # candidates (statsmodels' heuristic initialisation also needs two full seasons). On M4
    # Hourly this prefilter lowers MASE from 1.60 to 1.31 against AICc over all 15 candidates:
    # AICc often prefers a non-seasonal model whose 48-step forecast ignores the daily cycle.
    if m > 1 and len(y) >= 2 * m + 2 and seasonality_test(y, m):
        seasons = ["add", "mul"] if positive else ["add"]
    out = []
    for error in ["add", "mul"] if positive else ["add"]:
        for trend, damped in ((None, False), ("add", False), ("add", True)):
            for season in seasons:
                if error == "add" and season == "mul":
                    continue  # unstable (R's `ets` excludes it too)
                out.append((error, trend, damped, season))
    return out


def _admissible(y: np.ndarray, forecast: Any) -> bool:
    """A finite forecast, and for strictly positive data one that stays positive.

    AICc alone picks, for a positive series that declined at its end, an undamped additive trend
    whose forecast crosses zero (a monthly series ending near 2,000 forecast down to -975): such
    a candidate is set aside and the next by AICc (usually damped, or without trend) is taken.
    """
    values = np.asarray(forecast, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        return False
    return not (bool(np.all(y > 0)) and float(values.min()) <= 0.0)


def _ets(
    y: np.ndarray, horizon: int, m: int, levels: Sequence[float], spec: dict[str, Any] | None
) -> SeriesForecast:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    maxiter = 1000

    def build(config: tuple[str, str | None, bool, str | None]) -> Any:
        error, trend, damped, season = config
        return ETSModel(
            y,
            error=error,
            trend=trend,
            damped_trend=damped,
            seasonal=season,
            seasonal_periods=m if season else None,
            initialization_method="heuristic",
        )

    if spec:
        config = tuple(spec["config"])
        res = build(config).smooth(np.asarray(spec["params"]))
    else:
        fits = []
        for config_ in _ets_candidates(y, m):
            try:
                fitted = build(config_).fit(disp=False, maxiter=maxiter)
            except (ValueError, np.linalg.LinAlgError, ZeroDivisionError):
                continue
            if not fitted.mle_retvals.get("converged", True) or not np.isfinite(fitted.aicc):
                continue
            fits.append((float(fitted.aicc), config_, fitted))
        if not fits:
            raise _Fallback("no ETS candidate converged")
        admissible = [f for f in fits if _admissible(y, f[2].forecast(horizon))]
        if not admissible:
            raise _Fallback("no ETS candidate gives an admissible forecast")
        _, config, res = min(admissible, key=lambda f: f[0])
    mean = np.asarray(res.forecast(horizon), dtype=np.float64)
    lo = np.empty((len(levels), horizon))
    hi = np.empty((len(levels), horizon))
    if levels:
        # statsmodels 0.15's ETS prediction results need an indexed endog; a pandas copy of the
        # fitted model (same parameters, no re-estimation) gives them.
        import pandas as pd

        indexed = ETSModel(
            pd.Series(y),
            error=config[0],
            trend=config[1],
            damped_trend=config[2],
            seasonal=config[3],
            seasonal_periods=m if config[3] else None,
            initialization_method="heuristic",
        ).smooth(res.params)
        # Non-linear models get simulated intervals: a fixed seed keeps them reproducible.
        pred = indexed.get_prediction(
            start=len(y), end=len(y) + horizon - 1, rng=np.random.default_rng(0)
        )
        for i, lvl in enumerate(levels):
            frame = pred.summary_frame(alpha=1.0 - lvl / 100.0)
            lo[i] = frame["pi_lower"].to_numpy()
            hi[i] = frame["pi_upper"].to_numpy()
    out = SeriesForecast(mean, lo, hi)
    out.spec = {"config": list(config), "params": np.asarray(res.params).tolist()}
    return out
