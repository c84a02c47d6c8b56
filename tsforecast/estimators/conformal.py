"""Split-conformal prediction intervals around any forecaster's point forecasts.

`ConformalForecaster(base)` calibrates on rolling windows at the end of each series' training
data (the backtest's fold plan, `tsforecast.backtest.folds`): for calibration window k the base
model is fitted on the rows up to that window's cutoff only (`refit=True`: at every window;
`refit=False`, the default: once, at the first window, later windows feeding it the newer
history, as a backtest does), forecasts the `horizon` steps after the cutoff, and the absolute
errors are the scores, per series, horizon step and target. The half-width at level L is the
finite-sample conformal order statistic: the ceil((n + 1) L / 100)-th smallest of the n scores
(not an interpolated quantile). The interval is `point -/+ half-width`, the point forecast that
of the base model refitted on all the data.

When ceil((n + 1) L / 100) > n no order statistic covers L, and the request is refused at `fit`
with the number of scores the data give and the number the level needs (`fallback=True`, what
`intervals="auto"` does, keeps the model's own interval at such a level instead).

`pool_series=True` pools the scores of all series (each divided by its series' in-sample MAE of
the one-step naive forecast, and the half-width multiplied back): n = series x windows scores per
step, for panels of short series where a series alone has too few windows.

`score="width"` conformalises the base model's own intervals instead (`intervals="calibrated"`):
the score of a calibration window is the factor by which the model's interval at that level,
centred on its point forecast, must be stretched (> 1) or may be shrunk (< 1) to contain the
actual, side by side: (y - point) / (hi - point) above the point, (point - y) / (point - lo)
below. The factor at level L is the same order statistic of those n scores per horizon step,
and the interval is `point - f (point - lo)` to `point + f (hi - point)`: it keeps the model's
shape (widths growing with the step, per-series scale, asymmetry) and corrects its systematic
over- or under-coverage. The score is scale-free, so pooling needs no scaling. Windows where
the model's interval has zero width on the side of the actual (a constant series) carry no
information about the factor and are left out of the pool.

Pooled, a calibration window counts only when the values up to its cutoff are at least half of
its series' (`conformal_calibration`); a series with no such window takes the pooled
half-widths.
Modules: `conformal_modes` (the `intervals=` modes), `conformal_calibration` (which series, the
scores, the half-widths), `conformal_scores` (the score and order-statistic math),
`conformal_output` (the forecasts frame).
"""

from __future__ import annotations

import copy
import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from tsforecast.checks import check_forecast_columns, check_levels, positive_int
from tsforecast.data.panel import Panel
from tsforecast.deadline import within_deadline
from tsforecast.errors import InputError, TsforecastWarning
from tsforecast.estimators.base import FORMAT_VERSION, Capabilities, Forecaster
from tsforecast.estimators.conformal_calibration import (
    calibration_length,
    calibration_scores,
    half_widths,
    possible_scores,
    scores_per_level,
)
from tsforecast.estimators.conformal_modes import (
    AUTO_CALIBRATED,
    CALIBRATED_WINDOWS,
    INTERVAL_MODES,
    check_intervals,
    resolve_intervals,
)
from tsforecast.estimators.conformal_output import with_calibrated_intervals
from tsforecast.estimators.conformal_scores import (
    _naive_scales,
    conformal_half_widths,
    conformal_rank,
    min_windows,
    width_scores,
)

__all__ = [
    "AUTO_CALIBRATED",
    "CALIBRATED_WINDOWS",
    "INTERVAL_MODES",
    "ConformalForecaster",
    "check_intervals",
    "conformal_half_widths",
    "conformal_rank",
    "min_windows",
    "resolve_intervals",
    "width_scores",
    "with_intervals",
]

SCORES = ("absolute", "width")

# read from the base model (the wrapper has no such parameters of its own)
_BASE_SETTINGS = ("id_col", "time_col", "target_col", "freq", "fill", "time_budget_s")


def with_intervals(model: Forecaster, mode: str, levels: Sequence[float]) -> Forecaster:
    """`model` with the intervals of `mode` (INTERVAL_MODES) at `levels`; a ConformalForecaster
    passed in is kept as configured ("model" / "auto"), and refused with "conformal" /
    "calibrated", whose settings it would ignore. "auto" falls back on the model's own
    intervals where the data give too few calibration scores (no warning)."""
    fallback = mode == "auto"
    if isinstance(model, ConformalForecaster) and mode in ("model", "auto"):
        return model
    mode = resolve_intervals(model, mode, levels)
    if isinstance(model, ConformalForecaster):
        msg = (
            f"intervals={mode!r} was asked for a ConformalForecaster, which sets its own "
            "intervals (its n_windows, step, pool_series, score): the request would be ignored. "
            f"Pass its base model with intervals={mode!r}, or keep the ConformalForecaster "
            "with intervals='model'."
        )
        raise InputError(msg)
    if mode == "model":
        return model
    if mode == "conformal":
        return ConformalForecaster(model, levels=tuple(levels))
    horizon = int(model.horizon)  # type: ignore[attr-defined]
    # windows one horizon apart cover a longer span than one-step-apart ones (the recent past
    # alone can be calmer than the test period), and pooled over series they give enough scores
    return ConformalForecaster(
        model,
        levels=tuple(levels),
        n_windows=CALIBRATED_WINDOWS,
        step=horizon,
        pool_series=True,
        score="width",
        fallback=fallback,
    )


class ConformalForecaster(Forecaster):
    """Conformal intervals for `base` (any registered forecaster); see the module docstring.

    base: the forecaster whose point forecasts are used (its own intervals are not computed).
    levels: interval levels in percent (None: the base's `levels`).
    n_windows: calibration windows per series (20 allows 95 %: it needs at least 19).
    step: steps between calibration cutoffs (1: every step; windows overlap).
    refit: True fits the base at every calibration cutoff, False once at the first, k every k.
    pool_series: pool the (scaled) scores of all series instead of per series (of the windows
        whose cutoff has seen at least half of their series).
    score: "absolute" (|y - point|, intervals around the point) or "width" (the factor that
        stretches the base's own interval to the actual; the base must give intervals).
    fallback: with score="width", a level with too few scores keeps the base's own interval,
        without a warning (what `intervals="auto"` does); False refuses it at `fit`.
    """

    def __init__(
        self,
        base: Forecaster,
        levels: Any = None,
        n_windows: int = 20,
        step: int = 1,
        refit: bool | int = False,
        pool_series: bool = False,
        score: str = "absolute",
        fallback: bool = False,
    ) -> None:
        self.base = base
        self.levels = levels
        self.n_windows = n_windows
        self.step = step
        self.refit = refit
        self.pool_series = pool_series
        self.score = score
        self.fallback = fallback

    # ------------------------------------------------------------------ the base's settings
    @property
    def model_name(self) -> str:  # type: ignore[override]
        return str(getattr(self.base, "model_name", "") or type(self.base).__name__.lower())

    @property
    def horizon(self) -> int:
        return int(self.base.horizon)  # type: ignore[attr-defined]

    @property
    def capabilities(self) -> Capabilities:  # type: ignore[override]
        caps = self.base.capabilities
        return Capabilities(caps.multivariate, caps.past_covariates, caps.future_covariates, True)

    def __getattr__(self, name: str) -> Any:
        # the frame settings (id_col, time_col, target_col, freq, fill) and the time budget
        # are the base's
        base = self.__dict__.get("base")
        if base is not None and name in _BASE_SETTINGS:
            return getattr(base, name)
        raise AttributeError(name)

    def check_request(  # type: ignore[override]
        self,
        *,
        target_cols: Sequence[str] = ("y",),
        past_covariates: Sequence[str] = (),
        future_df: bool = False,
        levels: Sequence[float] = (),
        label: str | None = None,
    ) -> None:
        """The base's refusals, except intervals: this wrapper makes them."""
        self.base.check_request(
            target_cols=target_cols,
            past_covariates=past_covariates,
            future_df=future_df,
            label=label or getattr(self.base, "model_name", None),
        )

    def _check_params(self) -> None:
        from tsforecast.backtest.folds import check_refit

        if not isinstance(self.base, Forecaster):
            msg = (
                "`base` of ConformalForecaster must be a tsforecast forecaster (a registered "
                f"model such as `tsf.models.build('ets', horizon=24)`), got {type(self.base)!r}."
            )
            raise InputError(msg)
        self.base._check_params()
        check_levels(self.levels)
        positive_int("n_windows", self.n_windows)
        positive_int("step", self.step)
        check_refit(self.refit)
        if not isinstance(self.pool_series, bool):
            msg = f"`pool_series` must be True or False, got {self.pool_series!r}."
            raise InputError(msg)
        if self.score not in SCORES:
            msg = f"`score` must be one of {list(SCORES)}, got {self.score!r}."
            raise InputError(msg)
        if not isinstance(self.fallback, bool) or (self.fallback and self.score != "width"):
            msg = (
                "`fallback` must be True or False, and True needs score='width' (the model's "
                f"own intervals to fall back on), got fallback={self.fallback!r} with "
                f"score={self.score!r}."
            )
            raise InputError(msg)
        if self.score == "width" and not self.base.capabilities.levels:
            msg = (
                f"`score='width'` calibrates the model's own intervals, and "
                f"{self.model_name!r} gives none; use score='absolute' (intervals='conformal')."
            )
            raise InputError(msg)

    def clone(self) -> ConformalForecaster:
        params = {k: copy.deepcopy(v) for k, v in self.get_params().items() if k != "base"}
        return type(self)(base=self.base.clone(), **params)

    def _point_model(self) -> Forecaster:
        """An unfitted copy of the base that makes point forecasts only ("absolute"), or point
        forecasts and its own intervals at the calibrated levels ("width")."""
        model = self.base.clone()
        if "levels" in model.param_names():
            model.set_params(levels=tuple(self.levels_) if self.score == "width" else None)
        return model

    # ------------------------------------------------------------------ fit
    def fit(self, df: Any, future_df: Any | None = None) -> ConformalForecaster:
        """Calibrate on the last windows of each series of `df`, then fit the base on all of it.

        The base's `time_budget_s` (and the call's deadline, `tsforecast.deadline`) bounds the
        whole of it: each calibration fit and the final fit get an equal share of what is left
        when they start."""
        self._check_params()
        self._begin_fit()
        with within_deadline(self.time_budget_s):
            return self._fit(df, future_df)

    def _warn_of_a_stale_fit(self, lengths: np.ndarray) -> None:
        """Warn where, per series and without refits, the one calibration fit sees less than
        3/4 of a series: its errors then speak for a model fitted on much less data (ets on
        44 daily values chose no weekly season from the first 22 and its 80 % conformal
        intervals at horizon 3 were 10 times its own, covering 100 %; `refit=True`: 2 times,
        96 %; from 80 values both are within 2 points of nominal)."""
        if self.pool_series or self.refit is not False or len(lengths) == 0:
            return
        shortest = int(lengths.min())
        seen = shortest - self.horizon - (int(self.n_windows) - 1) * int(self.step)
        if 4 * seen >= 3 * shortest:
            return
        warnings.warn(
            f"conformal intervals of {self.model_name!r}: the calibration fit sees {seen} of "
            f"the {shortest} values of the shortest series, and its errors may be far wider "
            "than the final fit's (so would the intervals); give more history, or refit at "
            "every window (`tsf.models.ConformalForecaster(base, refit=True)`), or use "
            "intervals='calibrated'.",
            TsforecastWarning,
            stacklevel=4,
        )

    def _fit(self, df: Any, future_df: Any | None) -> ConformalForecaster:
        from tsforecast.backtest.folds import targets_only

        levels = check_levels(self.levels if self.levels is not None else self.base.levels)  # type: ignore[attr-defined]
        if not levels:
            msg = "conformal intervals need `levels` (e.g. levels=(80, 95)); none were given."
            raise InputError(msg)
        panel = self.base._read(df, "df")
        check_forecast_columns(panel.id_col, panel.time_col, panel.target_cols, levels)
        self.check_request(
            target_cols=panel.target_cols,
            past_covariates=panel.covariate_cols,
            future_df=future_df is not None,
        )
        data = panel if self.base.capabilities.past_covariates else targets_only(panel)
        self.levels_ = levels
        self.ids_ = list(panel.ids)
        self.target_cols_ = list(panel.target_cols)
        self.scales_ = _naive_scales(panel)  # -> (S, C)
        possible = possible_scores(data.lengths.to("cpu").numpy(), self)
        if self.fallback and possible < min_windows(min(levels)):
            # too few windows for any level: the model's own intervals, no calibration fits
            self.half_widths_ = np.ones(
                (panel.n_series, self.horizon, panel.n_targets, len(levels))
            )  # -> (S, H, C, L)
            self.n_scores_ = possible
            short = list(levels)
        else:
            if not self.fallback and 0 < possible < min_windows(max(levels)):
                # refused before any calibration fit (the width score may leave out more)
                self._refuse(levels, [possible] * len(levels), data)
            scores, calibrated = calibration_scores(self, data, future_df)
            self._warn_of_a_stale_fit(data.lengths.to("cpu").numpy()[calibrated])
            # scores -> (K, S_cal, H, C, L or 1)
            self.half_widths_ = half_widths(self, scores, calibrated, panel)  # -> (S, H, C, L)
            per_level = scores_per_level(self, scores)  # -> (L,)
            self.n_scores_ = int(per_level.min())
            short = [
                lv for lv, n in zip(levels, per_level, strict=True) if conformal_rank(n, lv) > n
            ]
            if short and not self.fallback:
                self._refuse(levels, list(per_level), data)
        # the levels whose intervals are calibrated (with `fallback`, the others keep the model's)
        self.calibrated_levels_ = [lv for lv in levels if lv not in short]
        for lv in short:
            self.half_widths_[..., levels.index(lv)] = self._fallback_factors(lv)
        base = self._point_model()
        base.fit(data, future_df=future_df)
        self.base_ = base
        self.schema_ = panel.schema
        found = getattr(base, "failures_", None)
        if isinstance(found, pd.DataFrame):
            self.failures_ = found
        curve = getattr(base, "history_", None)
        if isinstance(curve, list):
            self.history_ = curve
        # how the base's training ended (a neural base, or auto with a neural member), for
        # `attrs["training"]`
        self.training_ = getattr(base, "training_", None)
        if getattr(base, "selection_", None) is not None:  # what `auto` chose, for `attrs`
            self.selection_ = base.selection_  # type: ignore[attr-defined]
        return self

    def _fallback_factors(self, level: float) -> np.ndarray | float:
        """The width factors (S, H, C) of a level too high for its scores: the model's own
        interval (1), stretched by the factors of the highest calibrated level below it where
        they widen. Kept at its own width alone, a 95 % interval narrower than a calibrated
        80 % one would be widened to that 80 % interval and be no more than it; stretched by
        the same factor, it stays the wider, and never narrower than the model's own (a
        factor < 1 at 80 % says nothing about the tails)."""
        below = [lv for lv in self.calibrated_levels_ if lv < level]
        if not below:
            return 1.0
        lower = self.half_widths_[..., list(self.levels_).index(max(below))]  # -> (S, H, C)
        return np.maximum(lower, 1.0)

    def _refuse(self, levels: Sequence[float], counts: Sequence[int], panel: Panel) -> None:
        """InputError: a level the calibration scores of `panel` cannot honour."""
        short = [
            (lv, int(n)) for lv, n in zip(levels, counts, strict=True) if conformal_rank(n, lv) > n
        ]
        level, n = short[-1]
        n_windows, step = int(self.n_windows), int(self.step)
        need = calibration_length(self.horizon, n_windows, step, self.pool_series)
        n_long = int((panel.lengths.to("cpu").numpy() >= need).sum())
        mode = "calibrated" if self.score == "width" else "conformal"
        source = (
            f"pooled over {n_long} series of at least {need} values: their windows of horizon "
            f"{self.horizon}, step {step}, that see at least half of their series"
            if self.pool_series
            else f"{n_windows} windows per series"
        )
        msg = (
            f"{mode} intervals at level {level:g} need at least {min_windows(level)} calibration "
            f"scores per horizon step (ceil((n + 1) * {level:g} / 100) <= n), and the data give "
            f"{n} ({source}); give more history (more or longer series"
            + (
                ""
                if self.pool_series
                else ", or a larger `n_windows`: `tsf.models.ConformalForecaster(base, "
                "n_windows=...)`"
            )
            + "), or use intervals='auto' (the model's own intervals where calibration cannot "
            "honour a level) or intervals='model'."
        )
        raise InputError(msg)

    # ------------------------------------------------------------------ predict
    def predict(self, history_df: Any | None = None, future_df: Any | None = None) -> Any:
        """The base's forecasts after each series' end, with the calibrated intervals."""
        self._check_fitted()
        history = None if history_df is None else self._history(history_df)
        out = self.base_.predict(history, future_df=future_df)
        return self._with_intervals(out, history, with_cutoff=False)

    def predict_cutoffs(self, df: Any, cutoffs: Any, future_df: Any | None = None) -> Any:
        """The base's forecasts after each cutoff, with the intervals calibrated at `fit`."""
        self._check_fitted()
        panel = self._history(df)
        out = self.base_.predict_cutoffs(panel, cutoffs, future_df=future_df)
        return self._with_intervals(out, panel, with_cutoff=True)

    def _history(self, df: Any) -> Panel:
        from tsforecast.backtest.folds import targets_only

        panel = self.base._read(df, "df")
        return panel if self.base.capabilities.past_covariates else targets_only(panel)

    def _with_intervals(self, out: Any, panel: Panel | None, with_cutoff: bool) -> Any:
        return with_calibrated_intervals(self, out, panel, with_cutoff)

    # ------------------------------------------------------------------ save / load
    def save(self, path: str | os.PathLike[str]) -> None:
        """A folder with `config.json` (parameters, ids), the half-widths, and the fitted base
        in `base/`, written under a temporary name and swapped into place."""
        from safetensors.torch import save_file

        from tsforecast.atomic import atomic_dir
        from tsforecast.estimators.history import _json_value
        from tsforecast.persistence import CONFIG_FILE, WEIGHTS_FILE

        self._check_fitted()
        params = {k: v for k, v in self.get_params().items() if k != "base"}
        config = {
            "format_version": FORMAT_VERSION,
            "class": type(self).__name__,
            "params": json.loads(json.dumps(params, default=_json_value)),
            "levels": list(self.levels_),
            "ids": [_json_value(i) for i in self.ids_],
            "target_cols": self.target_cols_,
            "n_scores": self.n_scores_,
            "calibrated_levels": list(self.calibrated_levels_),
        }
        tensors = {
            "half_widths": torch.from_numpy(np.ascontiguousarray(self.half_widths_)),
            "scales": torch.from_numpy(np.ascontiguousarray(self.scales_)),
        }
        with atomic_dir(path) as folder:
            self.base_.save(folder / "base")
            save_file(tensors, str(folder / WEIGHTS_FILE))
            (folder / CONFIG_FILE).write_text(json.dumps(config, indent=1), encoding="utf-8")

    @classmethod
    def _load(cls, folder: Path, device: Any) -> ConformalForecaster:
        from tsforecast.estimators import registry
        from tsforecast.persistence import check_saved_format, read_model_folder

        config, tensors = read_model_folder(folder, "tsforecast model")
        check_saved_format(folder, config, cls.__name__, FORMAT_VERSION)
        base = registry.load(folder / "base", device)
        model = cls(base=base.clone(), **config["params"])
        model.base_ = base
        model.levels_ = check_levels(config["levels"])
        model.ids_ = list(config["ids"])
        model.target_cols_ = list(config["target_cols"])
        model.n_scores_ = int(config["n_scores"])
        model.calibrated_levels_ = list(config.get("calibrated_levels", model.levels_))
        model.half_widths_ = tensors["half_widths"].numpy()
        model.scales_ = tensors["scales"].numpy()
        model.schema_ = getattr(base, "schema_", None)
        found = getattr(base, "failures_", None)
        if isinstance(found, pd.DataFrame):
            model.failures_ = found
        return model
