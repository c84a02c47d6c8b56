"""Rolling-origin backtests: one fold plan, the same cutoffs for every model, no look-ahead.

A backtest is the fold plan (`tsforecast.backtest.folds`) plus, per model and fit group, one
`fit` on the fitted fold's training part and one `predict_cutoffs` over the group's cutoffs
(all series and folds of the group in one call: the neural models score them in large batches,
the baselines keep their process pool and fallbacks). Only the training part of a fold ever
reaches a model, a scaler or a metric scale for that fold.

Models are names of the registry, `(name, params)` pairs, or estimator objects: a registered
estimator class instance follows the contract; any other object with `fit(df)` and
`predict(history_df)` is fitted on each fitted fold's rows and predicts each fold from its history.
The frame is validated once, here; the registered models receive the validated `Panel`.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from tsforecast.backtest.folds import (
    FoldPlan,
    check_refit,
    fold_panel,
    min_length,
    plan_folds,
    targets_only,
)
from tsforecast.backtest.models import ModelRun, resolve_models
from tsforecast.backtest.result import BacktestResult
from tsforecast.checks import check_fill, check_levels, check_seed, positive_int
from tsforecast.data.frames import to_pandas
from tsforecast.data.frequency import infer_season_length
from tsforecast.data.panel import Panel
from tsforecast.data.validation import to_panel
from tsforecast.devices import resolve_device
from tsforecast.errors import InputError, TsforecastWarning
from tsforecast.estimators.base import Forecaster
from tsforecast.forecasts import estimator_to_long
from tsforecast.metrics import METRICS, evaluate_pandas, mase_scale, rmsse_scale

__all__ = ["backtest", "model_names"]


def model_names() -> list[str]:
    """Every model name `backtest` accepts as a string."""
    from tsforecast.estimators import registry

    return [n for n in registry.names() if n != "auto"]


def _check_metrics(metrics: Sequence[str] | None) -> list[str]:
    metric_list = list(METRICS) if metrics is None else list(metrics)
    unknown = [m for m in metric_list if m not in METRICS]
    if unknown or not metric_list:
        msg = (
            f"`metrics` must name some of {list(METRICS)} (pinball and coverage are added when "
            f"`levels` are given), got {metrics!r}."
        )
        raise InputError(msg)
    return metric_list


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
    freq: str | int | None = None,
    fill: str | None = None,
    n_jobs: int | None = None,
    device: str = "auto",
    seed: int = 0,
) -> BacktestResult:
    """Rolling-origin backtest of `models` on every series of `df` (see the module docstring).

    `step` defaults to `horizon` (back-to-back test windows). `season_length` (None: inferred
    from the frequency) is the m of seasonal models, MASE and RMSSE. `levels` (percentages)
    adds prediction intervals and the pinball / coverage metrics. `freq` and `fill` are read as
    by `tsf.to_panel`. `n_jobs` processes fit the statistical models (None: all cores); `device`
    and `seed` go to the neural models.
    """
    from tsforecast.stats import resolve_n_jobs

    horizon = positive_int("horizon", horizon)
    n_windows = positive_int("n_windows", n_windows)
    step = horizon if step is None else positive_int("step", step)
    if train_size is not None:
        train_size = positive_int("train_size", train_size)
    if season_length is not None:
        season_length = positive_int("season_length", season_length)
    level_list = check_levels(levels)
    refit_every = check_refit(refit)
    resolve_n_jobs(n_jobs)
    metric_list = _check_metrics(metrics)
    check_seed(seed)
    check_fill(fill)
    resolve_device(device)
    shared = {
        "horizon": horizon,
        "levels": level_list or None,
        "season_length": season_length,
        "n_jobs": n_jobs,
        "device": device,
        "seed": seed,
        "id_col": id_col,
        "time_col": time_col,
        "target_col": target_col,
        "fill": fill,
        "freq": freq,
        "progress": False,
    }
    runs = resolve_models(models, shared)

    # internal callers (auto's inner backtest) pass the Panel they validated already
    panel = (
        df
        if isinstance(df, Panel)
        else to_panel(
            df,
            id_col=id_col,
            time_col=time_col,
            target_col=target_col,
            freq=freq,
            fill=fill,  # type: ignore[arg-type]
            device="cpu",
        )
    )
    _check_requests(runs, panel, level_list)
    panel = _drop_short(panel, min_length(horizon, n_windows, step, train_size))
    plan = plan_folds(panel.lengths.numpy(), horizon, n_windows, step, train_size, refit_every)
    if season_length is None:
        # from the first fold's training part only: for integer time the period comes from
        # the autocorrelation, which must not see any fold's test values
        first_train = panel.lengths - horizon - (n_windows - 1) * step
        season_length = infer_season_length(replace(panel, lengths=first_train.clamp(min=1)))
        for run in runs:
            run.set_season(season_length)

    actuals = _actuals(panel)
    frames: list[pd.DataFrame] = []
    eval_frames: list[pd.DataFrame] = []
    failures: list[dict[str, Any]] = []
    curves: dict[tuple[str, str], list[dict[str, Any]]] = {}
    timings: dict[str, float] = {}
    labels = [run.label for run in runs]
    if "naive2" not in labels and "owa" in metric_list:  # OWA's reference, not reported
        runs.append(resolve_models([("naive2", {})], {**shared, "season_length": season_length})[0])
        runs[-1].hidden = True
    for run in runs:
        started = time.perf_counter()
        long, run_failures = _run_model(run, panel, plan, level_list, curves)
        long = _with_actuals(long, actuals, panel)
        (eval_frames if run.hidden else frames).append(long)
        failures += [] if run.hidden else run_failures
        timings[run.label] = time.perf_counter() - started

    forecasts = pd.concat(frames, ignore_index=True)
    failures_pd = _failures_frame(failures, id_col)
    scales = _scales(panel, plan, season_length)
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
        "levels": list(level_list),
        "refit": refit,
        "window": "expanding" if train_size is None else "sliding",
        "train_size": train_size,
        "metrics": metric_list,
        "id_col": id_col,
        "time_col": time_col,
        "target_cols": list(panel.target_cols),
        "n_series": panel.n_series,
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
        history_pd=panel.to_pandas(),
        _eval_pd=eval_pd,
        _scales=scales,
    )


# --------------------------------------------------------------------------- steps


def _check_requests(runs: list[ModelRun], panel: Panel, levels: Sequence[float]) -> None:
    """Refuse what no model can honour; a model without covariates sees the targets only."""
    for run in runs:
        if run.prototype is not None:
            run.prototype.check_request(
                target_cols=panel.target_cols, levels=levels, label=run.label
            )
    registered = [run.prototype for run in runs if run.prototype is not None]
    uses_covariates = any(model.capabilities.past_covariates for model in registered)
    if panel.covariate_cols and registered and len(registered) == len(runs) and not uses_covariates:
        registered[0].check_request(past_covariates=panel.covariate_cols, label=runs[0].label)


def _drop_short(panel: Panel, need: int) -> Panel:
    lengths = panel.lengths.numpy()
    short = [panel.ids[i] for i in np.flatnonzero(lengths < need)]
    if len(short) == panel.n_series:
        msg = (
            f"no series can give a fold: every series is shorter than {need} values (the "
            f"training part + horizon + (n_windows - 1) * step; longest: {int(lengths.max())}); "
            "reduce `horizon`, `n_windows`, `step` or `train_size`."
        )
        raise InputError(msg)
    if short:
        shown = [*short[:10], "..."] if len(short) > 10 else short
        warnings.warn(
            f"{len(short)} series are shorter than the {need} values a fold needs and are "
            f"dropped: {shown}; reduce `horizon`, `n_windows`, `step` or `train_size` to keep "
            "them.",
            TsforecastWarning,
            stacklevel=3,
        )
        return panel.select([i for i in range(panel.n_series) if lengths[i] >= need])
    return panel


def _run_model(
    run: ModelRun,
    panel: Panel,
    plan: FoldPlan,
    levels: Sequence[float],
    curves: dict[tuple[str, str], list[dict[str, Any]]],
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Every fold of one model -> long forecasts (without actuals) and its failures."""
    parts: list[pd.DataFrame] = []
    failures: list[dict[str, Any]] = []
    data = panel
    if run.prototype is not None and not run.prototype.capabilities.past_covariates:
        data = targets_only(panel)
    for group in plan.fit_groups:
        first = group[0]
        train = fold_panel(data, plan.start_idx[:, first], plan.cutoff_idx[:, first])
        estimator = run.new()
        if run.prototype is None:
            wide_parts = _run_plain_object(estimator, train, data, plan, group)
        else:
            estimator.fit(train)
            wide_parts = _predict_group(estimator, data, plan, group)
        curve = getattr(estimator, "history_", None)
        if isinstance(curve, list) and curve:
            curves[(run.label, f"fold {first + 1}")] = list(curve)
        found = getattr(estimator, "failures_", None)
        if isinstance(found, pd.DataFrame) and not found.empty:
            for row in found.to_dict("records"):
                failures.append({**{str(k): v for k, v in row.items()}, "model": run.label})
        for wide in wide_parts:
            predicted, _ = to_pandas(wide, "predict_cutoffs")
            long = estimator_to_long(
                predicted.drop(columns="cutoff"),
                model=run.label,
                target_cols=panel.target_cols,
                levels=levels,
                id_col=panel.id_col,
                time_col=panel.time_col,
            )
            n_targets = len(panel.target_cols)
            long.insert(2, "cutoff", np.tile(predicted["cutoff"].to_numpy(), n_targets))
            parts.append(long)
    return pd.concat(parts, ignore_index=True), failures


def _predict_group(
    estimator: Forecaster, panel: Panel, plan: FoldPlan, group: list[int]
) -> list[Any]:
    """The group's forecasts: one `predict_cutoffs` over all its (series, cutoff) pairs when
    the training window expands; with a sliding window, one `predict` per fold on its window."""
    if plan.expanding:
        pairs = pd.DataFrame(
            {
                panel.id_col: np.repeat(np.array(panel.ids, dtype=object), len(group)),
                "cutoff": [
                    panel.times[s][plan.cutoff_idx[s, k]]
                    for s in range(panel.n_series)
                    for k in group
                ],
            }
        )
        return [estimator.predict_cutoffs(panel, pairs)]
    out = []
    for k in group:
        window = fold_panel(panel, plan.start_idx[:, k], plan.cutoff_idx[:, k])
        predicted, _ = to_pandas(estimator.predict(window), "predict(history_df)")
        cutoffs = {
            panel.ids[s]: panel.times[s][plan.cutoff_idx[s, k]] for s in range(len(panel.ids))
        }
        predicted.insert(2, "cutoff", predicted[panel.id_col].map(cutoffs).to_numpy())
        out.append(predicted)
    return out


def _run_plain_object(
    estimator: Any, train: Panel, panel: Panel, plan: FoldPlan, group: list[int]
) -> list[pd.DataFrame]:
    """An object with `fit(df)` / `predict(history_df)` only: pandas frames in, per fold."""
    estimator.fit(train.to_pandas())
    out = []
    for k in group:
        history = fold_panel(panel, plan.start_idx[:, k], plan.cutoff_idx[:, k]).to_pandas()
        predicted, _ = to_pandas(estimator.predict(history), "predict(history_df)")
        cutoffs = {
            panel.ids[s]: panel.times[s][plan.cutoff_idx[s, k]] for s in range(len(panel.ids))
        }
        predicted = predicted[predicted[panel.id_col].isin(list(cutoffs))].copy()
        predicted.insert(2, "cutoff", predicted[panel.id_col].map(cutoffs).to_numpy())
        out.append(predicted)
    return out


def _fold_cutoffs(panel: Panel, plan: FoldPlan, k: int) -> dict[Any, Any]:
    """Series id -> the time stamp of its cutoff in fold k."""
    return {panel.ids[s]: panel.times[s][plan.cutoff_idx[s, k]] for s in range(panel.n_series)}


def _actuals(panel: Panel) -> pd.DataFrame:
    """id, time, target, y: every observation, long (what forecasts are scored against)."""
    pdf = panel.to_pandas()
    parts = [
        pd.DataFrame(
            {
                panel.id_col: pdf[panel.id_col].to_numpy(),
                panel.time_col: pdf[panel.time_col].to_numpy(),
                "target": target,
                "y": pdf[target].to_numpy(dtype=np.float64),
            }
        )
        for target in panel.target_cols
    ]
    return pd.concat(parts, ignore_index=True)


def _with_actuals(long: pd.DataFrame, actuals: pd.DataFrame, panel: Panel) -> pd.DataFrame:
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


def _failures_frame(failures: list[dict[str, Any]], id_col: str) -> pd.DataFrame:
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


def _scales(panel: Panel, plan: FoldPlan, season_length: int) -> pd.DataFrame:
    """MASE / RMSSE scales per (series, target, cutoff) from each fold's training part."""
    rows = []
    for s in range(panel.n_series):
        values = panel.series_values(s)
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
