"""The statistical baselines as estimators behind the one contract.

Each target of each series is fitted on its own (`tsforecast.stats` holds the models and
the process pool). What a fit learns per (series, target) — ETS's form and smoothing
parameters, ARIMA's orders and coefficients — is kept in `specs_`: `predict` on a longer or
newer history of a known series runs the fitted model over it without re-estimating (a new
series is fitted on the spot), and `predict_cutoffs` does the same up to every cutoff. A series
a model cannot fit falls back to seasonal naive (naive when there is no season) and is listed in
`failures_` (id, target, cutoff, reason); the run goes on.

The baselines use neither covariates nor `future_df`, and say so: both are refused with an
error naming what to drop (`Capabilities`).
"""

from __future__ import annotations

import os
import time
import warnings
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch

from tsforecast.checks import (
    check_fill,
    check_levels,
    check_seed,
    check_time_budget,
    positive_int,
)
from tsforecast.data.frequency import infer_season_length
from tsforecast.data.panel import Panel
from tsforecast.deadline import seconds_left
from tsforecast.devices import resolve_device
from tsforecast.errors import InputError, SeasonUnusedWarning, TsforecastWarning
from tsforecast.estimators.base import FORMAT_VERSION, Capabilities, Forecaster
from tsforecast.estimators.history import (
    id_to_saved,
    ids_from_saved,
    panel_from_saved,
    panel_to_saved,
)
from tsforecast.estimators.output import cutoff_positions, forecast_frame
from tsforecast.persistence import write_model_folder

__all__ = [
    "ARIMAForecaster",
    "DriftForecaster",
    "ETSForecaster",
    "Naive2Forecaster",
    "NaiveForecaster",
    "SeasonalNaiveForecaster",
    "StatisticalForecaster",
    "ThetaForecaster",
]


# How many seasons of data a model needs to use its season at all (fewer: it goes without).
_SEASONS_NEEDED = {"seasonal_naive": 1, "naive2": 3, "theta": 3, "ets": 3, "arima": 3}


class StatisticalForecaster(Forecaster):
    """A per-series statistical model (subclasses name it with `method`).

    horizon: steps forecast after each cutoff. levels: interval levels in percent.
    season_length: the seasonal period m (None: from the frequency, see `infer_season_length`).
    n_jobs: processes for the slower models (None: all cores).
    time_budget_s: wall-clock bound of one fit / predict call: series not started by then are
        not fitted but forecast by seasonal naive (naive without a season), listed in
        `failures_` with the reason "time budget reached".
    id_col, time_col, target_col, fill, freq: how the frame is read (see `tsf.to_panel`).
    device, seed: accepted for one contract with the neural models (checked, otherwise unused:
    these models run on the CPU and are deterministic).
    """

    method: ClassVar[str] = ""
    capabilities: ClassVar[Capabilities] = Capabilities(
        multivariate=True, past_covariates=False, future_covariates=False, levels=True
    )

    def __init__(
        self,
        horizon: int,
        levels: Any = None,
        season_length: int | None = None,
        n_jobs: int | None = None,
        id_col: str = "unique_id",
        time_col: str = "ds",
        target_col: str | list[str] = "y",
        fill: str | None = None,
        freq: str | int | None = None,
        time_budget_s: float | None = None,
        device: str = "auto",
        seed: int = 0,
    ) -> None:
        self.horizon = horizon
        self.levels = levels
        self.season_length = season_length
        self.n_jobs = n_jobs
        self.id_col = id_col
        self.time_col = time_col
        self.target_col = target_col
        self.fill = fill
        self.freq = freq
        self.time_budget_s = time_budget_s
        self.device = device
        self.seed = seed

    @property
    def model_name(self) -> str:  # type: ignore[override]
        return self.method

    def _check_params(self) -> None:
        from tsforecast.stats import resolve_n_jobs

        positive_int("horizon", self.horizon)
        check_levels(self.levels)
        if self.season_length is not None:
            positive_int("season_length", self.season_length)
        resolve_n_jobs(self.n_jobs)
        check_fill(self.fill)
        check_seed(self.seed)
        check_time_budget(self.time_budget_s)
        resolve_device(self.device)

    # ------------------------------------------------------------------ data
    def _panel(self, df: Any, future_df: Any | None, what: str, like_fit: bool = False) -> Panel:
        self.check_request(future_df=future_df is not None, label=self.method)
        panel = self._read(df, what, like_fit=like_fit)
        self.check_request(
            target_cols=panel.target_cols, past_covariates=panel.covariate_cols, label=self.method
        )
        return panel

    # ------------------------------------------------------------------ contract
    def fit(self, df: Any, future_df: Any | None = None) -> StatisticalForecaster:
        """Fit every target of every series of `df` (its forecasts after the end are kept)."""
        self._check_params()
        self._begin_fit()
        panel = self._panel(df, future_df, "df")
        self.season_length_ = int(self.season_length or infer_season_length(panel))
        self._warn_of_series_shorter_than_a_season(panel)
        self.levels_ = check_levels(self.levels)
        self.specs_: dict[tuple[Any, str], dict[str, Any]] = {}
        self.failures_ = pd.DataFrame(columns=[self.id_col, "target", "cutoff", "reason"])
        # (id, target, cutoff) whose estimation a time budget ended before it converged
        self.stopped_by_budget_: list[dict[str, Any]] = []
        series_idx = np.arange(panel.n_series)
        cutoff_idx = panel.lengths.numpy() - 1
        forecasts = self._run(panel, series_idx, cutoff_idx, fitting=True)
        self.history_panel_ = panel
        self.fit_forecasts_ = forecasts
        self._positions = {i: s for s, i in enumerate(panel.ids)}
        return self

    def _warn_of_series_shorter_than_a_season(self, panel: Panel) -> None:
        # a user who asked for a season should hear where it could not be used (an inferred
        # one too for seasonal_naive, whose whole method is the season):
        # seasonal_naive has no value one season back and repeats the last value; naive2,
        # theta, ets and arima test for a season (M4's test, `stats.naive.seasonality_test`,
        # and ARIMA's seasonal differences) only from 3 seasons of data
        m = self.season_length_
        seasons = _SEASONS_NEEDED.get(self.method)
        if seasons is None or m <= 1:
            return
        if seasons > 1 and self.season_length is None:
            # an inferred season on short data is the frequency's guess, not a request
            return
        lengths = panel.lengths.numpy()
        short = int((lengths < seasons * m).sum())
        if short == 0:
            return
        if seasons == 1:
            what, then = "one season", "them with their last value (naive)"
        else:
            what = f"{seasons} seasons"
            then = f"them without a season (it looks for one from {seasons} seasons of data)"
        msg = (
            f"{short} of {panel.n_series} series are shorter than {what} "
            f"(season_length={m}, shortest {int(lengths.min())} steps): {self.method} "
            f"forecasts {then}. Give a smaller `season_length` or longer series."
        )
        category = TsforecastWarning if seasons == 1 else SeasonUnusedWarning
        warnings.warn(msg, category, stacklevel=3)

    def predict(self, history_df: Any | None = None, future_df: Any | None = None) -> Any:
        """`horizon` steps after the end of every series of `history_df` (default: the training
        data). A known series keeps its fitted model over the new history; a new one is fitted."""
        self._check_fitted()
        if history_df is None:
            self.check_request(future_df=future_df is not None, label=self.method)
            panel, forecasts = self.history_panel_, self.fit_forecasts_
            series_idx = np.arange(panel.n_series)
            cutoff_idx = panel.lengths.numpy() - 1
        else:
            panel = self._panel(history_df, future_df, "history_df", like_fit=True)
            series_idx = np.arange(panel.n_series)
            cutoff_idx = panel.lengths.numpy() - 1
            forecasts = self._run(panel, series_idx, cutoff_idx, fitting=False)
        return forecast_frame(panel, series_idx, cutoff_idx, *forecasts, self.levels_, False)

    def predict_cutoffs(self, df: Any, cutoffs: Any, future_df: Any | None = None) -> Any:
        """`horizon` steps after each cutoff of each series, from the rows up to it only."""
        self._check_fitted()
        panel = self._panel(df, future_df, "df", like_fit=True)
        series_idx, cutoff_idx = cutoff_positions(panel, cutoffs)
        forecasts = self._run(panel, series_idx, cutoff_idx, fitting=False)
        return forecast_frame(panel, series_idx, cutoff_idx, *forecasts, self.levels_, True)

    def forecast_positions(
        self,
        panel: Panel,
        series_idx: np.ndarray,
        cutoff_idx: np.ndarray,
        start_idx: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """(point (N, H, C), lo, hi (N, H, C, L)) after the given positions of a validated panel,
        from positions `start_idx..cutoff_idx` (default: from the start) — the backtest's path."""
        self._check_fitted()
        return self._run(panel, series_idx, cutoff_idx, fitting=False, start_idx=start_idx)

    # ------------------------------------------------------------------ the work
    def _run(
        self,
        panel: Panel,
        series_idx: np.ndarray,
        cutoff_idx: np.ndarray,
        fitting: bool,
        start_idx: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:

        horizon, levels = int(self.horizon), self.levels_
        n, n_targets, n_levels = len(series_idx), panel.n_targets, len(levels)
        point = np.empty((n, horizon, n_targets))
        lo = np.empty((n, horizon, n_targets, n_levels)) if n_levels else None
        hi = np.empty((n, horizon, n_targets, n_levels)) if n_levels else None
        starts = np.zeros(n, dtype=np.int64) if start_idx is None else start_idx
        # wall-clock time (the workers of `n_jobs` compare it); the fit's own budget or the
        # call's deadline, whichever ends first
        left = seconds_left(self.time_budget_s)
        deadline = None if left is None else time.time() + left
        failures: list[dict[str, Any]] = []
        stopped: list[dict[str, Any]] = []
        for t, target in enumerate(panel.target_cols):
            series = [
                panel.series_values(int(s))[int(a) : int(c) + 1, t]
                for s, a, c in zip(series_idx, starts, cutoff_idx, strict=True)
            ]
            specs = None
            reuse: list[Any] = [None] * n
            if not fitting:
                specs = [self.specs_.get((panel.ids[int(s)], target)) for s in series_idx]
                reuse = [
                    self._fitted_forecast(panel.ids[int(s)], t, y)
                    for s, y in zip(series_idx, series, strict=True)
                ]
            todo = [i for i in range(n) if reuse[i] is None]
            computed = self._within_budget(
                [series[i] for i in todo],
                None if specs is None else [specs[i] for i in todo],
                deadline,
            )
            results = list(reuse)
            for i, result in zip(todo, computed, strict=True):
                results[i] = result
            for i, (s, c, result) in enumerate(zip(series_idx, cutoff_idx, results, strict=True)):
                point[i, :, t] = result.mean
                if lo is not None and hi is not None:
                    lo[i, :, t, :] = result.lo.T
                    hi[i, :, t, :] = result.hi.T
                if fitting and result.spec:
                    self.specs_[(panel.ids[int(s)], target)] = result.spec
                if fitting and result.spec and result.spec.get("stopped_by_budget"):
                    stopped.append(
                        {
                            self.id_col: panel.ids[int(s)],
                            "target": target,
                            "cutoff": panel.times[int(s)][int(c)],
                        }
                    )
                if result.fallback:
                    failures.append(
                        {
                            self.id_col: panel.ids[int(s)],
                            "target": target,
                            "cutoff": panel.times[int(s)][int(c)],
                            "reason": result.fallback,
                        }
                    )
        if failures:
            new = pd.DataFrame(failures)
            self.failures_ = new if self.failures_.empty else pd.concat([self.failures_, new])
        if stopped:
            self.stopped_by_budget_ = [*getattr(self, "stopped_by_budget_", []), *stopped]
            msg = (
                f"the time budget ended the {self.method} estimation of {len(stopped)} series "
                "before it converged: their forecasts use the best parameters found by then "
                "(`attrs['stopped_by_budget']` of the forecast lists them); give a larger "
                "`time_budget_s` (or None) for converged fits."
            )
            warnings.warn(msg, TsforecastWarning, stacklevel=4)
        if n_levels:
            self._warn_of_zero_width_intervals(panel, series_idx, cutoff_idx - starts + 1)
        return point, lo, hi

    def _warn_of_zero_width_intervals(
        self, panel: Panel, series_idx: np.ndarray, n_values: np.ndarray
    ) -> None:
        # one value (two for drift, whose residuals are the steps around their own mean) leaves
        # no residual to estimate a spread from: the bounds are the point forecast, which is no
        # 80 % interval; the user should hear it rather than read a zero width as certainty
        needed = 3 if self.method == "drift" else 2
        few = np.flatnonzero(np.asarray(n_values) < needed)
        if few.size == 0:
            return
        shown = [panel.ids[int(series_idx[i])] for i in few[:5]]
        msg = (
            f"{few.size} series have fewer than {needed} values, too few to estimate a spread: "
            f"their {self.method} intervals are the point forecast (zero width). First: {shown}."
            " Give longer series for intervals."
        )
        warnings.warn(msg, TsforecastWarning, stacklevel=4)

    def _within_budget(
        self, series: list[np.ndarray], specs: list[Any] | None, deadline: float | None
    ) -> list[Any]:
        """forecast_many over `series`; past `deadline` no new series is started (fallbacks)."""
        from tsforecast.stats import forecast_many

        return forecast_many(
            self.method,
            series,
            int(self.horizon),
            self.season_length_,
            self.levels_,
            specs=specs,
            n_jobs=self.n_jobs,
            deadline=deadline,
            **self._model_options(),
        )

    def _model_options(self) -> dict[str, Any]:
        """Model-specific keyword arguments of `forecast_many` (none but for ets)."""
        return {}

    def _fitted_forecast(self, series_id: Any, target: int, y: np.ndarray) -> Any:
        """The forecast `fit` made for this series and target when `y` is exactly the history it
        was fitted on (a backtest predicts each fitted fold at its own cutoff), else None."""
        from tsforecast.stats import SeriesForecast

        fitted = self.history_panel_
        position = self._fitted_positions().get(series_id)
        if position is None:
            return None
        history = fitted.series_values(position)[:, target]
        if len(history) != len(y) or not np.array_equal(history, y):
            return None
        point, lo, hi = self.fit_forecasts_
        empty = np.empty((0, int(self.horizon)))
        return SeriesForecast(
            point[position, :, target],
            empty if lo is None else lo[position, :, target, :].T,
            empty if hi is None else hi[position, :, target, :].T,
        )

    def _fitted_positions(self) -> dict[Any, int]:
        if not hasattr(self, "_positions"):
            self._positions = {i: s for s, i in enumerate(self.history_panel_.ids)}
        return self._positions

    # ------------------------------------------------------------------ save / load
    def save(self, path: str | os.PathLike[str]) -> None:
        """A folder with `config.json` (parameters, fitted specs) and the history's tensors."""
        self._check_fitted()
        tensors, meta = panel_to_saved(self.history_panel_, "history")
        point, lo, hi = self.fit_forecasts_
        tensors["fit.point"] = torch.from_numpy(np.ascontiguousarray(point))
        if lo is not None and hi is not None:
            tensors["fit.lo"] = torch.from_numpy(np.ascontiguousarray(lo))
            tensors["fit.hi"] = torch.from_numpy(np.ascontiguousarray(hi))
        config = {
            "format_version": FORMAT_VERSION,
            "model": self.method,
            "class": type(self).__name__,
            "params": {k: _jsonable(v) for k, v in self.get_params().items()},
            "season_length": self.season_length_,
            "specs": [[id_to_saved(i), t, spec] for (i, t), spec in self.specs_.items()],
            "failures": self.failures_.astype({"cutoff": str})
            .assign(**{self.id_col: [id_to_saved(i) for i in self.failures_[self.id_col]]})
            .to_dict("records"),
            "history": meta,
        }
        write_model_folder(path, tensors, config)

    @classmethod
    def _from_saved(
        cls, config: dict[str, Any], tensors: dict[str, torch.Tensor], device: Any
    ) -> StatisticalForecaster:
        if config.get("format_version") != FORMAT_VERSION:
            msg = (
                f"this saved {config.get('class')} has format {config.get('format_version')!r}; "
                f"this version reads format {FORMAT_VERSION} only."
            )
            raise InputError(msg)
        model = cls(**config["params"])
        model.season_length_ = int(config["season_length"])
        model.levels_ = check_levels(model.levels)
        model.history_panel_ = panel_from_saved(
            tensors, config["history"], "history", torch.device("cpu")
        )
        spec_ids = ids_from_saved([i for i, _, _ in config["specs"]], model.history_panel_)
        model.specs_ = {
            (i, t): spec for i, (_, t, spec) in zip(spec_ids, config["specs"], strict=True)
        }
        model.failures_ = pd.DataFrame(
            config["failures"], columns=[model.id_col, "target", "cutoff", "reason"]
        )
        model.failures_[model.id_col] = ids_from_saved(
            model.failures_[model.id_col].tolist(), model.history_panel_
        )
        lo = tensors["fit.lo"].numpy() if "fit.lo" in tensors else None
        hi = tensors["fit.hi"].numpy() if "fit.hi" in tensors else None
        model.fit_forecasts_ = (tensors["fit.point"].numpy(), lo, hi)
        return model


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value


class NaiveForecaster(StatisticalForecaster):
    """`naive`: the last value; intervals from the one-step residuals."""

    method = "naive"


class SeasonalNaiveForecaster(StatisticalForecaster):
    """`seasonal_naive`: the value one season back."""

    method = "seasonal_naive"


class DriftForecaster(StatisticalForecaster):
    """`drift`: the last value plus the mean step."""

    method = "drift"


class Naive2Forecaster(StatisticalForecaster):
    """`naive2`: M4's Naive2 (naive on the series deseasonalised after a 90 % ACF test)."""

    method = "naive2"


class ETSForecaster(StatisticalForecaster):
    """`ets`: exponential smoothing, a combination of its candidate forms (see
    `tsforecast.stats.ets`). `combine`: "holdout" (Akaike weights within the error family that
    best predicts the last `horizon` training values), "aicc" (Akaike weights over all forms),
    "select" (the lowest AICc), or None for the default ("holdout")."""

    method = "ets"

    def __init__(
        self,
        horizon: int,
        levels: Any = None,
        season_length: int | None = None,
        n_jobs: int | None = None,
        id_col: str = "unique_id",
        time_col: str = "ds",
        target_col: str | list[str] = "y",
        fill: str | None = None,
        freq: str | int | None = None,
        time_budget_s: float | None = None,
        device: str = "auto",
        seed: int = 0,
        combine: str | None = None,
    ) -> None:
        super().__init__(
            horizon, levels, season_length, n_jobs, id_col, time_col, target_col, fill, freq,
            time_budget_s, device, seed,
        )  # fmt: skip
        self.combine = combine

    def _check_params(self) -> None:
        from tsforecast.stats.ets import COMBINE

        super()._check_params()
        if self.combine is not None and self.combine not in COMBINE:
            msg = f"`combine` must be one of {list(COMBINE)} or None, got {self.combine!r}."
            raise InputError(msg)

    def _model_options(self) -> dict[str, Any]:
        return {"combine": self.combine}


class ARIMAForecaster(StatisticalForecaster):
    """`arima`: seasonal ARIMA with a stepwise order search (see `tsforecast.stats`)."""

    method = "arima"


class ThetaForecaster(StatisticalForecaster):
    """`theta`: the Theta method on the deseasonalised series (see `tsforecast.stats`)."""

    method = "theta"
