"""Rolling-origin backtests: the same cutoffs for every model, no look-ahead, one metrics frame.

For series s of length n_s and window k = 0..n_windows-1 (oldest first), the cutoff is the
position `n_s - horizon - (n_windows - 1 - k) * step - 1` (the last observation the forecast may
use); the fold's test part is the `horizon` steps after it. The training part is everything up
to the cutoff (expanding, the default) or its last `train_size` observations (sliding). Only the
training part of a fold ever reaches a model, a scaler or a metric scale for that fold.

Models are given as names (statistical baselines in `tsforecast.baselines`, neural models in the
`tsforecast.models` registry), as `(name, params)` pairs, or as estimator objects with
`fit(df)` and `predict(history_df)` (forecasting `horizon` steps after each series' end, with
columns id, time, one per target and `<target>_lo_<level>` / `<target>_hi_<level>`).

An estimator predicts each fold with one `predict` call over all its series (one batch per
cutoff), from the history up to that cutoff.

Refitting: `refit=True` fits at every cutoff; `refit=False` fits on the first fold's training part
and later folds only feed the newer history to the fitted model; `refit=k` fits every k folds.
For the baselines "feeding the newer history" means keeping the fitted configuration and
parameters (ETS: the model and its smoothing parameters; ARIMA: orders and coefficients) and
running them over the longer history; the naive family and Theta have no estimated state worth
keeping (Theta's two parameters are closed-form), so they always use the history up to the cutoff.
"""

from __future__ import annotations

import copy
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from tsforecast.checks import check_levels, positive_int
from tsforecast.errors import InputError, TsforecastWarning
from tsforecast.forecasts import estimator_to_long, forecasts_frame
from tsforecast.frames import FrameKind, from_pandas, to_pandas
from tsforecast.metrics import METRICS, evaluate_pandas, mase_scale, rmsse_scale
from tsforecast.panel import Panel, to_panel
from tsforecast.stats import BASELINES, forecast_many, resolve_n_jobs

__all__ = ["BacktestResult", "backtest", "model_names"]

_BY = ("unique_id", "horizon", "cutoff")


def model_names() -> list[str]:
    """Every model name `backtest` accepts as a string."""
    from tsforecast.estimators import registry

    return [n for n in registry.names() if n != "auto"]


@dataclass
class _ModelSpec:
    label: str
    name: str | None  # baseline name, or None for an estimator
    params: dict[str, Any]
    estimator: Any = None  # an unfitted estimator to copy at every fit


@dataclass
class BacktestResult:
    """What `backtest` returns. Frames are of the type of the frame given to `backtest`."""

    forecasts_pd: pd.DataFrame
    metrics_pd: pd.DataFrame
    failures_pd: pd.DataFrame
    settings: dict[str, Any]
    frame_kind: FrameKind = "pandas"
    # (model, fold) -> the loss history of that fit (step, train_loss, val_loss, lr, ...)
    training_curves: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    history_pd: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    _eval_pd: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    _scales: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    @property
    def history(self) -> Any:
        """The validated rows the backtest ran on (id, time, targets, covariates)."""
        return from_pandas(self.history_pd, self.frame_kind)

    @property
    def forecasts(self) -> Any:
        """Long frame: id, time, cutoff, model, target, y, y_hat, y_lo_<level>, y_hi_<level>."""
        return from_pandas(self.forecasts_pd, self.frame_kind)

    @property
    def metrics(self) -> Any:
        """Long frame: model, target, metric, value (means over series and cutoffs)."""
        return from_pandas(self.metrics_pd, self.frame_kind)

    @property
    def failures(self) -> Any:
        """The series on which a model fell back: unique_id, model, cutoff, reason."""
        return from_pandas(self.failures_pd, self.frame_kind)

    def metrics_by(self, by: str) -> Any:
        """Metrics per series ("unique_id" or the id column's name), "horizon" step or "cutoff"."""
        id_col = self.settings["id_col"]
        key = "unique_id" if by == id_col else by
        if key not in _BY:
            msg = f"`by` must be {id_col!r}, 'horizon' or 'cutoff', got {by!r}."
            raise InputError(msg)
        out = evaluate_pandas(
            self._eval_pd, scales=self._scales, by=key, metrics=self.settings["metrics"]
        )
        out = out[out["model"].isin(self.settings["models"])]
        if key == "unique_id":
            out = out.rename(columns={"unique_id": id_col})
        return from_pandas(out.reset_index(drop=True), self.frame_kind)

    def leaderboard(self, metric: str | None = None) -> Any:
        """One row per model (metrics averaged over targets), sorted by `metric` (default: the
        first metric of the metrics frame), best first."""
        wide = (
            self.metrics_pd.pivot_table(
                index="model", columns="metric", values="value", aggfunc="mean", sort=False
            )
            .reindex(columns=list(dict.fromkeys(self.metrics_pd["metric"])))
            .reset_index()
        )
        if wide.empty:
            return from_pandas(wide, self.frame_kind)
        key = metric if metric is not None else str(wide.columns[1])
        if key not in wide.columns:
            msg = f"`metric` must be one of {list(wide.columns[1:])}, got {metric!r}."
            raise InputError(msg)
        # coverage is best near its nominal level, every other metric is best when smallest
        if key.startswith("coverage_"):
            nominal = float(key.removeprefix("coverage_")) / 100.0
            order = (wide[key] - nominal).abs().sort_values(kind="stable").index
        else:
            order = wide[key].sort_values(kind="stable").index
        return from_pandas(wide.loc[order].reset_index(drop=True), self.frame_kind)


# --------------------------------------------------------------------------- argument checks


def _check_refit(refit: Any) -> int:
    """refit -> fit every k folds; k = 0 means only once (first fold)."""
    if isinstance(refit, bool):
        return 1 if refit else 0
    if isinstance(refit, (int, np.integer)) and int(refit) >= 1:
        return int(refit)
    msg = (
        f"`refit` must be True, False or a positive integer (refit every k windows), got {refit!r}."
    )
    raise InputError(msg)


def _resolve_models(
    models: Any, horizon: int, levels: list[float], season_length: int | None, common: dict
) -> list[_ModelSpec]:
    is_pair = isinstance(models, tuple) and len(models) == 2 and isinstance(models[1], dict)
    if isinstance(models, str) or is_pair or hasattr(models, "fit"):
        models = [models]
    if not isinstance(models, Sequence) or len(models) == 0:
        msg = (
            f"`models` must be a non-empty list of names, (name, params) pairs or estimators, "
            f"got {models!r}."
        )
        raise InputError(msg)
    specs: list[_ModelSpec] = []
    for item in models:
        if isinstance(item, str):
            name, params = item, {}
        elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            name, params = item[0], item[1]
            if not isinstance(params, dict):
                msg = f"the params of model {name!r} must be a dict, got {params!r}."
                raise InputError(msg)
        elif hasattr(item, "fit") and hasattr(item, "predict"):
            label = getattr(item, "model_name", "") or type(item).__name__.lower()
            specs.append(_ModelSpec(label=label, name=None, params={}, estimator=item))
            continue
        else:
            msg = (
                f"cannot use {item!r} as a model; pass a name such as 'ets', a (name, params) "
                "pair, or an object with `fit(df)` and `predict(history_df)`."
            )
            raise InputError(msg)
        if name in BASELINES:
            unknown = sorted(set(params) - {"season_length"})
            if unknown:
                msg = f"baseline {name!r} takes only `season_length` as a param, got {unknown}."
                raise InputError(msg)
            if "season_length" in params:
                positive_int("season_length", params["season_length"])
            specs.append(_ModelSpec(label=name, name=name, params=dict(params)))
            continue
        from tsforecast.estimators import registry

        if name not in registry.names("neural"):
            msg = f"unknown model {name!r}; choose one of {model_names()} or pass an estimator."
            raise InputError(msg)
        fixed = {"horizon": horizon, "levels": levels or None, **common}
        if season_length is not None and "season_length" not in params:
            fixed["season_length"] = season_length
        estimator = registry.build(name, params, **fixed)
        specs.append(_ModelSpec(label=name, name=None, params={}, estimator=estimator))
    # unique labels: a second "lstm" with other params becomes "lstm_2"
    seen: dict[str, int] = {}
    for spec in specs:
        seen[spec.label] = seen.get(spec.label, 0) + 1
        if seen[spec.label] > 1:
            spec.label = f"{spec.label}_{seen[spec.label]}"
    return specs


# --------------------------------------------------------------------------- the engine


def backtest(
    df: Any,
    models: Any,
    horizon: int,
    n_windows: int = 1,
    step: int | None = None,
    *,
    season_length: int | None = None,
    levels: Sequence[float] | None = (),
    refit: bool | int = True,
    train_size: int | None = None,
    metrics: Sequence[str] | None = None,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str | Sequence[str] = "y",
    n_jobs: int | None = None,
    device: str = "auto",
    seed: int = 0,
) -> BacktestResult:
    """Rolling-origin backtest of `models` on every series of `df` (see the module docstring).

    `step` defaults to `horizon` (back-to-back test windows). `season_length` (None: inferred
    from the frequency) is the m of seasonal models, MASE and RMSSE. `levels` adds prediction
    intervals and the pinball / coverage metrics. `n_jobs` processes fit the statistical models
    (None: all cores); `device` and `seed` go to the neural models.
    """
    horizon = positive_int("horizon", horizon)
    n_windows = positive_int("n_windows", n_windows)
    step = horizon if step is None else positive_int("step", step)
    if train_size is not None:
        train_size = positive_int("train_size", train_size)
    if season_length is not None:
        season_length = positive_int("season_length", season_length)
    level_list = check_levels(levels)
    refit_every = _check_refit(refit)
    resolve_n_jobs(n_jobs)
    metric_list = list(METRICS) if metrics is None else list(metrics)
    unknown = [m for m in metric_list if m not in METRICS]
    if unknown or not metric_list:
        msg = (
            f"`metrics` must name some of {list(METRICS)} (pinball and coverage are added when "
            f"`levels` are given), got {metrics!r}."
        )
        raise InputError(msg)
    specs = _resolve_models(
        models,
        horizon,
        level_list,
        season_length,
        {
            "device": device,
            "seed": seed,
            "id_col": id_col,
            "time_col": time_col,
            "target_col": target_col,
        },
    )

    panel = to_panel(df, id_col=id_col, time_col=time_col, target_col=target_col, device="cpu")
    min_train = train_size if train_size is not None else 2
    min_length = min_train + horizon + (n_windows - 1) * step
    lengths_all = panel.lengths.numpy()
    short = [panel.ids[i] for i in np.flatnonzero(lengths_all < min_length)]
    need = (
        f"{min_train} training values + horizon ({horizon}) + (n_windows - 1) * step "
        f"({(n_windows - 1) * step}) = {min_length}"
    )
    if len(short) == panel.n_series:
        msg = (
            f"no series can give a fold: every series is shorter than {need} (longest: "
            f"{int(lengths_all.max())}); reduce `horizon`, `n_windows`, `step` or `train_size`."
        )
        raise InputError(msg)
    if short:
        shown = [*short[:10], "..."] if len(short) > 10 else short
        warnings.warn(
            f"{len(short)} series are shorter than {need} and are dropped: {shown}; reduce "
            "`horizon`, `n_windows`, `step` or `train_size` to keep them.",
            TsforecastWarning,
            stacklevel=2,
        )
        panel = panel.select([i for i in range(panel.n_series) if lengths_all[i] >= min_length])
    if season_length is None:
        from tsforecast.panel import infer_season_length

        # from the first fold's training part only: for integer time the period comes from
        # the autocorrelation, which must not see any fold's test values
        first_train = panel.lengths - horizon - (n_windows - 1) * step
        season_length = infer_season_length(replace(panel, lengths=first_train.clamp(min=1)))

    pdf = panel.to_pandas()  # the validated rows, in panel order, exact float64 values
    curves: dict[tuple[str, str], list[dict[str, Any]]] = {}
    lengths = panel.lengths.numpy()
    offsets = np.r_[0, np.cumsum(lengths)]
    n_series = panel.n_series
    targets = list(panel.target_cols)
    values = [pdf[targets].to_numpy()[offsets[s] : offsets[s + 1]] for s in range(n_series)]
    back = (n_windows - 1 - np.arange(n_windows)) * step
    cut_idx = lengths[:, None] - horizon - back[None, :] - 1  # -> (S, K)
    start_idx = np.zeros_like(cut_idx) if train_size is None else cut_idx + 1 - train_size
    fit_fold = np.array(
        [k == 0 if refit_every == 0 else k % refit_every == 0 for k in range(n_windows)]
    )
    last_fit = np.array([k if fit_fold[k] else 0 for k in range(n_windows)])
    for k in range(1, n_windows):
        if not fit_fold[k]:
            last_fit[k] = last_fit[k - 1]
    cut_time = [[panel.times[s][cut_idx[s, k]] for k in range(n_windows)] for s in range(n_series)]

    # Actuals per fold, shared by every model: (S, K) blocks of `horizon` rows.
    ids_rep = np.repeat(np.array(panel.ids, dtype=object), n_windows * horizon)
    times_rep = np.concatenate(
        [
            np.asarray(panel.times[s][cut_idx[s, k] + 1 : cut_idx[s, k] + 1 + horizon])
            for s in range(n_series)
            for k in range(n_windows)
        ]
    )
    cutoffs_rep = np.repeat(
        np.array([cut_time[s][k] for s in range(n_series) for k in range(n_windows)]), horizon
    )

    def actual(t: int) -> np.ndarray:
        return np.concatenate(
            [
                values[s][cut_idx[s, k] + 1 : cut_idx[s, k] + 1 + horizon, t]
                for s in range(n_series)
                for k in range(n_windows)
            ]
        )

    def train_part(s: int, k: int, t: int) -> np.ndarray:
        return values[s][start_idx[s, k] : cut_idx[s, k] + 1, t]

    frames: list[pd.DataFrame] = []
    failures: list[dict[str, Any]] = []
    timings: dict[str, float] = {}
    labels = [spec.label for spec in specs]
    reference = "naive2" not in labels and "owa" in metric_list
    run_specs = [*specs, _ModelSpec("naive2", "naive2", {})] if reference else specs
    eval_frames: list[pd.DataFrame] = []
    for spec in run_specs:
        started = time.perf_counter()
        if spec.name is not None:
            m = int(spec.params.get("season_length", season_length))
            for t, target in enumerate(targets):
                fc_mean, fc_lo, fc_hi = _run_baseline(
                    spec,
                    m,
                    horizon,
                    level_list,
                    n_jobs,
                    n_series,
                    n_windows,
                    fit_fold,
                    last_fit,
                    train_part,
                    t,
                    cut_time,
                    panel.ids,
                    failures,
                )
                frame = forecasts_frame(
                    ids=ids_rep,
                    times=times_rep,
                    cutoffs=cutoffs_rep,
                    model=spec.label,
                    target=target,
                    y=actual(t),
                    y_hat=fc_mean,
                    lo=fc_lo,
                    hi=fc_hi,
                    levels=level_list,
                    id_col=id_col,
                    time_col=time_col,
                )
                (eval_frames if spec.label == "naive2" and reference else frames).append(frame)
        else:
            frames.append(
                _run_estimator(
                    spec,
                    pdf,
                    panel,
                    cut_idx,
                    start_idx,
                    fit_fold,
                    cut_time,
                    horizon,
                    level_list,
                    targets,
                    ids_rep,
                    times_rep,
                    cutoffs_rep,
                    actual,
                    curves,
                )
            )
        timings[spec.label] = time.perf_counter() - started

    forecasts = pd.concat(frames, ignore_index=True)
    if failures:
        shown = [(f["unique_id"], f["model"], str(f["cutoff"])) for f in failures[:5]]
        warnings.warn(
            f"{len(failures)} fits fell back to seasonal naive (or naive); first: {shown}. "
            "See `result.failures` for every series, model, cutoff and reason.",
            TsforecastWarning,
            stacklevel=2,
        )
    failures_pd = pd.DataFrame(failures, columns=["unique_id", "model", "cutoff", "reason"])
    failures_pd = failures_pd.rename(columns={"unique_id": id_col})

    scale_rows = [
        (
            panel.ids[s],
            target,
            cut_time[s][k],
            mase_scale(train_part(s, k, t), season_length),
            rmsse_scale(train_part(s, k, t), season_length),
        )
        for t, target in enumerate(targets)
        for s in range(n_series)
        for k in range(n_windows)
    ]
    scales = pd.DataFrame(
        scale_rows, columns=["unique_id", "target", "cutoff", "_mase_scale", "_rmsse_scale"]
    )
    eval_pd = pd.concat([forecasts, *eval_frames], ignore_index=True).rename(
        columns={id_col: "unique_id", time_col: "ds"}
    )
    metrics_pd = evaluate_pandas(eval_pd, scales=scales, metrics=metric_list)
    metrics_pd = metrics_pd[metrics_pd["model"].isin(labels)].reset_index(drop=True)
    settings = {
        "models": labels,
        "horizon": horizon,
        "n_windows": n_windows,
        "step": step,
        "season_length": season_length,
        "levels": level_list,
        "refit": refit,
        "window": "expanding" if train_size is None else "sliding",
        "train_size": train_size,
        "metrics": metric_list,
        "id_col": id_col,
        "time_col": time_col,
        "target_cols": targets,
        "n_series": n_series,
        "n_jobs": resolve_n_jobs(n_jobs),
        "device": device,
        "seed": seed,
        "timings_s": timings,
    }
    return BacktestResult(
        forecasts_pd=forecasts,
        metrics_pd=metrics_pd,
        failures_pd=failures_pd,
        settings=settings,
        frame_kind=panel.frame_kind,
        training_curves=curves,
        history_pd=pdf,
        _eval_pd=eval_pd,
        _scales=scales,
    )


def _run_baseline(
    spec: _ModelSpec,
    m: int,
    horizon: int,
    levels: list[float],
    n_jobs: int | None,
    n_series: int,
    n_windows: int,
    fit_fold: np.ndarray,
    last_fit: np.ndarray,
    train_part: Any,
    t: int,
    cut_time: list[list[Any]],
    ids: list[Any],
    failures: list[dict[str, Any]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every series x fold of one baseline and one target, in (at most) two parallel passes:
    the folds that fit, then the folds that reuse the last fit's configuration."""
    assert spec.name is not None
    results: dict[tuple[int, int], Any] = {}
    for fitting in (True, False):
        keys = [(s, k) for s in range(n_series) for k in range(n_windows) if fit_fold[k] == fitting]
        if not keys:
            continue
        fitted_specs = None if fitting else [results[(s, last_fit[k])].spec for s, k in keys]
        out = forecast_many(
            spec.name,
            [train_part(s, k, t) for s, k in keys],
            horizon,
            m,
            levels,
            specs=fitted_specs,
            n_jobs=n_jobs,
        )
        results.update(zip(keys, out, strict=True))
    order = [(s, k) for s in range(n_series) for k in range(n_windows)]
    for s, k in order:
        reason = results[(s, k)].fallback
        if reason:
            failures.append(
                {
                    "unique_id": ids[s],
                    "model": spec.label,
                    "cutoff": cut_time[s][k],
                    "reason": reason,
                }
            )
    mean = np.concatenate([results[key].mean for key in order])
    n_levels = len(levels)
    lo = np.concatenate([results[key].lo for key in order], axis=1) if n_levels else None
    hi = np.concatenate([results[key].hi for key in order], axis=1) if n_levels else None
    return mean, lo, hi  # type: ignore[return-value]


def _run_estimator(
    spec: _ModelSpec,
    pdf: pd.DataFrame,
    panel: Panel,
    cut_idx: np.ndarray,
    start_idx: np.ndarray,
    fit_fold: np.ndarray,
    cut_time: list[list[Any]],
    horizon: int,
    levels: list[float],
    targets: list[str],
    ids_rep: np.ndarray,
    times_rep: np.ndarray,
    cutoffs_rep: np.ndarray,
    actual: Any,
    curves: dict[tuple[str, str], list[dict[str, Any]]],
) -> pd.DataFrame:
    """Fit an estimator on each fitting fold's training rows; predict every fold from its
    history (all series of a fold in one `predict` call). Loss histories go into `curves`."""
    id_col, time_col = panel.id_col, panel.time_col
    lengths = panel.lengths.numpy()
    position = np.concatenate([np.arange(n) for n in lengths])  # row -> position in its series
    series_of_row = np.repeat(np.arange(panel.n_series), lengths)
    parts = []
    estimator = None
    for k in range(cut_idx.shape[1]):
        keep = (position <= cut_idx[series_of_row, k]) & (position >= start_idx[series_of_row, k])
        history = pdf[keep].reset_index(drop=True)
        if fit_fold[k] or estimator is None:
            estimator = copy.deepcopy(spec.estimator)
            estimator.fit(history)
            curve = getattr(estimator, "history_", None)
            if curve:
                curves[(spec.label, f"fold {k + 1}")] = list(curve)
        predicted, _ = to_pandas(estimator.predict(history), "predict(history_df)")
        long = estimator_to_long(
            predicted,
            model=spec.label,
            target_cols=targets,
            levels=levels,
            id_col=id_col,
            time_col=time_col,
        )
        fold = pd.DataFrame(
            {id_col: np.array(panel.ids, dtype=object), "cutoff": [c[k] for c in cut_time]}
        )
        parts.append(long.merge(fold, on=id_col, how="inner"))
    predicted_all = pd.concat(parts, ignore_index=True)
    frames = []
    for t, target in enumerate(targets):
        base = pd.DataFrame(
            {id_col: ids_rep, time_col: times_rep, "cutoff": cutoffs_rep, "y": actual(t)}
        )
        got = predicted_all[predicted_all["target"] == target].drop(columns=["target", "model"])
        merged = base.merge(got, on=[id_col, time_col, "cutoff"], how="left")
        merged.insert(3, "model", spec.label)
        merged.insert(4, "target", target)
        if merged["y_hat"].isna().any():
            n_missing = int(merged["y_hat"].isna().sum())
            msg = (
                f"model {spec.label!r} returned no forecast for {n_missing} of {len(merged)} "
                "fold rows; its `predict` must forecast `horizon` steps after every series' end."
            )
            raise InputError(msg)
        cols = [id_col, time_col, "cutoff", "model", "target", "y", "y_hat"]
        cols += [c for c in merged.columns if c not in cols]
        frames.append(merged[cols])
    return pd.concat(frames, ignore_index=True)
