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

When ceil((n + 1) L / 100) > n no order statistic covers L: the half-width is then the largest
score (finite, so no metric or plot meets an infinite bound) and a warning says how many windows
the level needs; its coverage may fall short of L.

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
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from tsforecast.checks import check_levels, level_tag, positive_int
from tsforecast.data.frames import from_pandas, to_pandas
from tsforecast.data.panel import Panel
from tsforecast.errors import InputError, TsforecastWarning
from tsforecast.estimators.base import FORMAT_VERSION, Capabilities, Forecaster
from tsforecast.estimators.conformal_scores import (
    _bounds,
    _fold_future,
    _naive_scales,
    _order_statistics,
    _positions,
    conformal_half_widths,
    conformal_rank,
    min_windows,
    width_scores,
)

__all__ = [
    "INTERVAL_MODES",
    "ConformalForecaster",
    "check_intervals",
    "conformal_half_widths",
    "conformal_rank",
    "resolve_intervals",
    "width_scores",
    "with_intervals",
]

# `intervals=` of forecast(), backtest(), the configs and the CLI: the model's own, conformal
# around the point forecast, or the model's own conformalised (calibrated).
INTERVAL_MODES = ("auto", "model", "conformal", "calibrated")
# intervals="auto" (the default): "calibrated" for the model classes whose calibrated intervals
# were nearer nominal than their own on the M4 Hourly and Weekly backtests
# (experiments/benchmarks/coverage.py, README "Conformal intervals"), the model's own otherwise
AUTO_CALIBRATED = frozenset({"naive", "seasonal_naive", "naive2", "theta", "ets", "arima"})
SCORES = ("absolute", "width")
# intervals="calibrated": windows one horizon apart, pooled over series (see with_intervals)
CALIBRATED_WINDOWS = 5

# read from the base model (the wrapper has no such parameters of its own)
_BASE_SETTINGS = ("id_col", "time_col", "target_col", "freq", "fill", "time_budget_s")


def check_intervals(intervals: Any, what: str = "intervals") -> str:
    """`intervals` as one of INTERVAL_MODES, or `InputError` naming the closest one."""
    if isinstance(intervals, str) and intervals in INTERVAL_MODES:
        return intervals
    close = difflib.get_close_matches(str(intervals), INTERVAL_MODES, n=1)
    hint = f" did you mean {close[0]!r}?" if close else ""
    msg = f"`{what}` must be one of {list(INTERVAL_MODES)}, got {intervals!r};{hint}"
    raise InputError(msg)


def resolve_intervals(model: Any, mode: str, levels: Sequence[float]) -> str:
    """The mode that `mode` means for `model`: "auto" -> "calibrated" for the classes of
    AUTO_CALIBRATED when levels are asked for, else "model"."""
    if mode != "auto":
        return mode
    name = str(getattr(model, "model_name", ""))
    calibrate = bool(levels) and isinstance(model, Forecaster) and name in AUTO_CALIBRATED
    return "calibrated" if calibrate else "model"


def with_intervals(model: Forecaster, mode: str, levels: Sequence[float]) -> Forecaster:
    """`model` with the intervals of `mode` (INTERVAL_MODES) at `levels`; a ConformalForecaster
    passed in is kept as configured. "auto" falls back on the model's own intervals where the
    data give too few calibration scores (no warning)."""
    fallback = mode == "auto"
    mode = resolve_intervals(model, mode, levels)
    if mode == "model" or isinstance(model, ConformalForecaster):
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
    pool_series: pool the (scaled) scores of all series instead of per series.
    score: "absolute" (|y - point|, intervals around the point) or "width" (the factor that
        stretches the base's own interval to the actual; the base must give intervals).
    fallback: with score="width", a level with too few scores keeps the base's own interval,
        without a warning (what `intervals="auto"` does); False warns (see the module docstring).
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
        """Calibrate on the last windows of each series of `df`, then fit the base on all of it."""
        from tsforecast.backtest.folds import targets_only

        self._check_params()
        levels = check_levels(self.levels if self.levels is not None else self.base.levels)  # type: ignore[attr-defined]
        if not levels:
            msg = "conformal intervals need `levels` (e.g. levels=(80, 95)); none were given."
            raise InputError(msg)
        panel = self.base._read(df, "df")
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
        possible = self._possible_scores(data)
        if self.fallback and possible < min_windows(min(levels)):
            # too few windows for any level: the model's own intervals, no calibration fits
            self.half_widths_ = np.ones(
                (panel.n_series, self.horizon, panel.n_targets, len(levels))
            )  # -> (S, H, C, L)
            self.n_scores_ = possible
            short = list(levels)
        else:
            scores, calibrated = self._scores(data, future_df)  # -> (K, S_cal, H, C, L or 1)
            self.half_widths_ = self._half_widths(scores, calibrated, panel)  # -> (S, H, C, L)
            # the fewest finite scores of any step per level (the width score leaves degenerate
            # windows out)
            counted = np.isfinite(scores).sum(axis=(0, 1) if self.pool_series else 0)
            per_level = np.broadcast_to(
                counted.reshape(-1, counted.shape[-1]).min(axis=0), (len(levels),)
            )
            self.n_scores_ = int(per_level.min())
            short = [
                lv for lv, n in zip(levels, per_level, strict=True) if conformal_rank(n, lv) > n
            ]
        # the levels whose intervals are calibrated (with `fallback`, the others keep the model's)
        self.calibrated_levels_ = [lv for lv in levels if lv not in short or not self.fallback]
        if short and self.fallback:
            for lv in short:
                self.half_widths_[..., levels.index(lv)] = 1.0  # the model's own interval
        elif short:
            warnings.warn(
                f"too few calibration windows for levels {short}: {self.n_scores_} scores per "
                f"series and step, but level {short[-1]} needs n >= {min_windows(short[-1])} "
                "(ceil((n + 1) * level / 100) <= n); its half-width (or width factor) is the "
                "largest score and may cover less than the level. Raise `n_windows` (or set "
                "`pool_series=True`).",
                TsforecastWarning,
                stacklevel=2,
            )
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
        if getattr(base, "selection_", None) is not None:  # what `auto` chose, for `attrs`
            self.selection_ = base.selection_  # type: ignore[attr-defined]
        return self

    def _possible_scores(self, panel: Panel) -> int:
        """How many scores per step the calibration windows of `panel` can give."""
        from tsforecast.backtest.folds import min_length

        need = min_length(self.horizon, int(self.n_windows), int(self.step), None) + 1
        long_enough = int((panel.lengths.to("cpu").numpy() >= need).sum())
        if self.pool_series:
            return long_enough * int(self.n_windows)
        return int(self.n_windows) if long_enough == panel.n_series else 0

    def _scores(self, panel: Panel, future_df: Any | None) -> tuple[np.ndarray, np.ndarray]:
        """Absolute errors (K, S_cal, H, C) of the calibration windows, and the positions of
        the series calibrated (the others are too short)."""
        from tsforecast.backtest.folds import check_refit, fold_panel, min_length, plan_folds

        horizon, n_windows, step = self.horizon, int(self.n_windows), int(self.step)
        lengths = panel.lengths.to("cpu").numpy()
        need = min_length(horizon, n_windows, step, None) + 1
        calibrated = np.flatnonzero(lengths >= need)
        short = [panel.ids[i] for i in np.flatnonzero(lengths < need)]
        if short and (not self.pool_series or len(calibrated) == 0):
            shown = [*short[:10], "..."] if len(short) > 10 else short
            msg = (
                f"{len(short)} series are shorter than the {need} values that {n_windows} "
                f"calibration windows of horizon {horizon} (step {step}) need: {shown}; reduce "
                "`n_windows` or `step`, or set `pool_series=True` (short series then take the "
                "pooled half-widths)."
            )
            raise InputError(msg)
        cal = panel if len(calibrated) == panel.n_series else panel.select(list(calibrated))
        plan = plan_folds(
            cal.lengths.to("cpu").numpy(), horizon, n_windows, step, None, check_refit(self.refit)
        )
        width = self.score == "width"
        n_levels = len(self.levels_) if width else 1
        scores = np.full((n_windows, cal.n_series, horizon, cal.n_targets, n_levels), np.nan)
        missing = 0
        flat = np.concatenate(
            [cal.series_values(s)[:, : cal.n_targets] for s in range(cal.n_series)]
        )
        starts = np.r_[0, np.cumsum(cal.lengths.to("cpu").numpy())[:-1]].astype(np.int64)
        for group in plan.fit_groups:
            first = group[0]
            train = fold_panel(cal, plan.start_idx[:, first], plan.cutoff_idx[:, first])
            model = self._point_model()
            fold_future = _fold_future(cal, plan.cutoff_idx[:, first], horizon, future_df)
            model.fit(train, future_df=fold_future)
            pairs = pd.DataFrame(
                {
                    cal.id_col: np.repeat(np.array(cal.ids, dtype=object), len(group)),
                    "cutoff": [
                        cal.times[s][plan.cutoff_idx[s, k]]
                        for s in range(cal.n_series)
                        for k in group
                    ],
                }
            )
            predicted, _ = to_pandas(model.predict_cutoffs(cal, pairs), "predict_cutoffs")
            series_idx, cutoff_pos, fold_idx, step_idx = _positions(cal, plan.cutoff_idx, predicted)
            # the actual of each row: position cutoff + 1 + step of its series, in one gather
            at = starts[series_idx] + cutoff_pos + 1 + step_idx
            for t, target in enumerate(cal.target_cols):
                y_hat = predicted[target].to_numpy(dtype=np.float64)
                actual = flat[at, t]
                missing += int(np.isnan(actual - y_hat).sum())
                if not width:
                    scores[fold_idx, series_idx, step_idx, t, 0] = np.abs(actual - y_hat)
                    continue
                for i, level in enumerate(self.levels_):
                    lo, hi = _bounds(predicted, target, level, self.model_name)
                    scores[fold_idx, series_idx, step_idx, t, i] = width_scores(
                        actual, y_hat, lo, hi
                    )
        if missing:
            msg = (
                f"{missing} calibration errors are missing (a forecast or an "
                "actual value is NaN); fill the gaps (`fill=`) before asking for conformal "
                "intervals."
            )
            raise InputError(msg)
        return scores, calibrated

    def _half_widths(self, scores: np.ndarray, calibrated: np.ndarray, panel: Panel) -> np.ndarray:
        """(S, H, C, L) half-widths ("absolute") or width factors ("width") for every series of
        `panel` from the scores (K, S_cal, H, C, L or 1)."""
        levels = self.levels_
        if self.score == "width":
            if not self.pool_series:
                return _order_statistics(scores, levels)  # -> (S, H, C, L)
            pooled = scores.reshape(-1, *scores.shape[2:])  # -> (K * S_cal, H, C, L)
            factors = _order_statistics(pooled, levels)  # -> (H, C, L)
            return np.broadcast_to(factors, (panel.n_series, *factors.shape)).copy()
        scores = scores[..., 0]  # -> (K, S_cal, H, C)
        if not self.pool_series:
            return conformal_half_widths(scores, levels)  # -> (S, H, C, L)
        scales = _naive_scales(panel)  # -> (S, C)
        scaled = scores / scales[calibrated][None, :, None, :]  # -> (K, S_cal, H, C)
        pooled = scaled.reshape(-1, *scaled.shape[2:])  # -> (K * S_cal, H, C)
        unit = conformal_half_widths(pooled, levels)  # -> (H, C, L)
        return unit[None] * scales[:, None, :, None]  # -> (S, H, C, L)

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

    def _widths_for(self, panel: Panel | None) -> tuple[dict[Any, int], np.ndarray]:
        """(id -> row, half-widths (S', H, C, L)) covering every series of `panel`."""
        rows = {i: s for s, i in enumerate(self.ids_)}
        if panel is None:
            return rows, self.half_widths_
        new = [i for i in panel.ids if i not in rows]
        if not new:
            return rows, self.half_widths_
        if not self.pool_series:
            shown = [*new[:10], "..."] if len(new) > 10 else new
            msg = (
                f"conformal intervals are calibrated per series, and {len(new)} series were not "
                f"in the training data: {shown}; fit on them, or use `pool_series=True`."
            )
            raise InputError(msg)
        if self.score == "width":  # pooled factors are the same for every series
            extra = np.broadcast_to(self.half_widths_[0], (len(new), *self.half_widths_.shape[1:]))
        else:  # pooled: the unit half-widths times the new series' own scale
            unit = self.half_widths_[0] / self.scales_[0][None, :, None]  # -> (H, C, L)
            positions = [panel.ids.index(i) for i in new]
            scales = _naive_scales(panel)[positions]  # -> (N, C)
            extra = unit[None] * scales[:, None, :, None]
        for k, i in enumerate(new):
            rows[i] = len(self.ids_) + k
        return rows, np.concatenate([self.half_widths_, extra], axis=0)

    def _with_intervals(self, out: Any, panel: Panel | None, with_cutoff: bool) -> Any:
        pdf, kind = to_pandas(out, "the base model's forecasts")
        id_col, time_col = self.base.id_col, self.base.time_col  # type: ignore[attr-defined]
        rows, widths = self._widths_for(panel)
        group = [id_col, "cutoff"] if with_cutoff else [id_col]
        step = (
            pdf.groupby(group, sort=False, observed=True)[time_col].rank(method="first").to_numpy()
            - 1
        )
        row = pdf[id_col].map(rows).to_numpy()
        targets = self.target_cols_
        columns = [id_col, time_col, *(["cutoff"] if with_cutoff else [])]
        for t, target in enumerate(targets):
            point = pdf[target].to_numpy(dtype=np.float64)
            columns.append(target)
            for i, level in enumerate(self.levels_):
                tag = level_tag(level)
                half = widths[row.astype(np.int64), step.astype(np.int64), t, i]
                if self.score == "width":  # the model's own interval, each side scaled
                    lo, hi = _bounds(pdf, target, level, self.model_name)
                    pdf[f"{target}_lo_{tag}"] = point - half * (point - lo)
                    pdf[f"{target}_hi_{tag}"] = point + half * (hi - point)
                else:
                    pdf[f"{target}_lo_{tag}"] = point - half
                    pdf[f"{target}_hi_{tag}"] = point + half
                columns += [f"{target}_lo_{tag}", f"{target}_hi_{tag}"]
            if self.score == "width":
                _nest(pdf, target, self.levels_)
        rest = [c for c in pdf.columns if c not in columns and "_lo_" not in c and "_hi_" not in c]
        from tsforecast.estimators.output import output_schema

        schema = output_schema(panel) if panel is not None else self._schema()
        return from_pandas(pdf[columns + rest], kind, schema=schema)

    def _schema(self) -> Any:
        schema = getattr(self, "schema_", None)
        if schema is None:
            return None
        return schema.with_column("cutoff", like=self.base.time_col)  # type: ignore[attr-defined]

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


def _nest(pdf: pd.DataFrame, target: str, levels: Sequence[float]) -> None:
    """Widen, in place, each level's interval to contain every lower level's: factors
    calibrated level by level (or a level kept at the model's own) could cross."""
    lo_prev = hi_prev = None
    for level in sorted(levels):
        tag = level_tag(level)
        lo, hi = f"{target}_lo_{tag}", f"{target}_hi_{tag}"
        if lo_prev is not None and hi_prev is not None:
            pdf[lo] = np.minimum(pdf[lo].to_numpy(), pdf[lo_prev].to_numpy())
            pdf[hi] = np.maximum(pdf[hi].to_numpy(), pdf[hi_prev].to_numpy())
        lo_prev, hi_prev = lo, hi
