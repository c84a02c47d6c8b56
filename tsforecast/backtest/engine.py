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

import re
import time
import warnings
from collections.abc import Sequence
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
from tsforecast.backtest.models import (
    ModelRun,
    interval_modes,
    resolve_models,
    use_conformal,
    used_mode,
)
from tsforecast.backtest.result import BacktestResult
from tsforecast.backtest.scoring import (
    actuals_frame,
    failures_frame,
    failures_in_series_order,
    fold_scales,
    with_actuals,
)
from tsforecast.backtest.settings import BacktestSettings
from tsforecast.checks import check_fill, check_levels, check_seed, positive_int
from tsforecast.data.frames import to_pandas
from tsforecast.data.frequency import infer_season_length
from tsforecast.data.panel import Panel
from tsforecast.data.validation import to_panel
from tsforecast.devices import resolve_device
from tsforecast.engines.base import Engine
from tsforecast.errors import InputError, SeasonUnusedWarning, TsforecastWarning
from tsforecast.estimators.base import Forecaster
from tsforecast.estimators.output import output_schema
from tsforecast.forecasts import estimator_to_long
from tsforecast.metrics import METRICS, evaluate_pandas

__all__ = ["backtest", "model_names"]


def model_names() -> list[str]:
    """Every model name `backtest` accepts as a string."""
    from tsforecast.estimators import registry

    return [n for n in registry.names() if n != "auto"]


def _check_metrics(metrics: Sequence[str] | None) -> list[str]:
    metric_list = list(METRICS) if metrics is None else list(metrics)
    unknown = [m for m in metric_list if m not in METRICS]
    per_level = [m for m in unknown if re.fullmatch(r"(pinball|coverage|msis)(_\d+(\.\d+)?)?", m)]
    if per_level:  # reported for every level already: naming one would change nothing
        msg = (
            f"`metrics` names {per_level}, which are reported for every level of `levels` "
            f"(pinball, coverage_<level>, msis_<level>); leave them out of `metrics`, got "
            f"{metrics!r}."
        )
        raise InputError(msg)
    if unknown or not metric_list:
        msg = (
            f"`metrics` must name some of {list(METRICS)} (pinball, coverage and MSIS are "
            f"added for every level when `levels` are given), got {metrics!r}."
        )
        raise InputError(msg)
    doubled = sorted({m for m in metric_list if metric_list.count(m) > 1})
    if doubled:  # each would be reported twice
        msg = f"`metrics` names {doubled} more than once, got {metrics!r}; name each once."
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
    engine: Any = "local",
    intervals: str | dict[str, str] = "model",
    keep_fitted: bool = False,
) -> BacktestResult:
    """Rolling-origin backtest of `models` on every series of `df` (see the module docstring).

    `step` defaults to `horizon` (back-to-back test windows). `season_length` (None: inferred
    from the frequency) is the m of seasonal models, MASE and RMSSE. `levels` (percentages)
    adds prediction intervals and the pinball / coverage metrics. `freq` and `fill` are read as
    by `tsf.to_panel`. `n_jobs` processes fit the statistical models (None: all cores); `device`
    and `seed` go to the neural models. `engine` ("local", "ray", "dask" or a
    `tsf.engines` object) fans the statistical models out by chunks of whole series and, with
    `refit`, the other models' fits one task each, with the same results; a neural model
    fitted once trains in this process (`tsforecast.engines`).
    `intervals` is "model" (each model's own intervals), "conformal" or "calibrated"
    (`tsforecast.estimators.conformal`, calibrated inside each fold's training part), "auto"
    (as `forecast`) or a dict {model label: mode} (the others "model").
    `keep_fitted` keeps every fitted estimator in `result.fitted` (label -> one per fit group,
    in fold order) for a caller that reuses them (the models fanned out by chunks of series
    are not kept).
    """
    from tsforecast.engines import resolve_engine
    from tsforecast.stats import resolve_n_jobs

    horizon = positive_int("horizon", horizon)
    resolve_n_jobs(n_jobs)
    check_fill(fill)
    resolve_device(device)
    runner = resolve_engine(engine)
    if isinstance(df, Panel):
        # internal callers (auto's inner backtest) pass the Panel they validated already: its
        # columns are the run's (a call's defaults would rename and score a "unique_id" that a
        # panel of `id_col="store"` does not have)
        id_col, time_col = df.id_col, df.time_col
        target_col = df.target_cols[0] if len(df.target_cols) == 1 else list(df.target_cols)
    _check_role_names(id_col, time_col, target_col)
    settings = BacktestSettings(
        horizon=horizon,
        n_windows=positive_int("n_windows", n_windows),
        step=horizon if step is None else positive_int("step", step),
        season_length=None
        if season_length is None
        else positive_int("season_length", season_length),
        levels=check_levels(levels),
        refit=refit,
        refit_every=check_refit(refit),
        train_size=_optional_positive("train_size", train_size),
        metrics=_check_metrics(metrics),
        id_col=id_col,
        time_col=time_col,
        target_col=target_col,
        freq=freq,
        fill=fill,
        n_jobs=n_jobs,
        device=device,
        seed=check_seed(seed),
        engine=runner.name,
    )
    runs = resolve_models(models, settings.shared())
    settings.intervals = interval_modes(intervals, runs, settings.levels)
    panel = df if isinstance(df, Panel) else _validated(df, settings)
    _check_requests(runs, panel, settings.levels)
    panel = _drop_short(
        panel, min_length(horizon, settings.n_windows, settings.step, settings.train_size)
    )
    plan = plan_folds(
        panel.lengths.numpy(),
        horizon,
        settings.n_windows,
        settings.step,
        settings.train_size,
        settings.refit_every,
    )
    if settings.season_length is None:
        settings.season_length = _first_fold_season(panel, settings)
    for run in runs:  # an estimator object with no season of its own takes the call's too
        run.set_season(settings.season_length)
    settings.intervals = use_conformal(runs, settings.intervals, settings.levels)
    _warn_of_later_data_of_other_series(runs, panel, plan)
    result = _run_all(runs, panel, plan, settings, runner, keep_fitted)
    if settings.metrics is not None and not isinstance(df, Panel):  # asked for by a user
        shown = [run.label for run in runs if not run.hidden]
        _warn_of_missing_metrics(result.metrics_pd, shown, settings)
    return result


# the columns of `res.forecasts`, whose id and time columns are always `unique_id` and `ds`
_RESULT_COLUMNS = ("unique_id", "ds", "cutoff", "model", "target", "y", "y_hat")


def _warn_of_missing_metrics(
    metrics: pd.DataFrame, labels: Sequence[str], settings: BacktestSettings
) -> None:
    """A warning naming the metrics asked for that no forecast could define: they would be
    missing from the results without a word."""
    wanted = list(settings.metrics or [])
    found = set(zip(metrics["model"], metrics["metric"], strict=True))
    missing = {m: [lb for lb in labels if (lb, m) not in found] for m in wanted}
    missing = {m: models for m, models in missing.items() if models}
    if missing:
        shown = "; ".join(f"{m}: {models}" for m, models in missing.items())
        msg = (
            f"these metrics have no value (no forecast defines them) and are left out: {shown}. "
            "MASE and RMSSE need a training part of more than `season_length` "
            f"({settings.season_length}) values that are not all equal (`train_size`, "
            "`season_length`), OWA also needs both of them for naive2, MAPE needs non-zero "
            "actuals."
        )
        warnings.warn(msg, TsforecastWarning, stacklevel=3)  # at the caller of backtest()


def _check_role_names(id_col: str, time_col: str, target_col: str | Sequence[str]) -> None:
    """Refuse an id, time or target column named like another column of the result frames
    (an id column "model" failed inside pandas, a time column "cutoff" blamed the model)."""
    targets = [target_col] if isinstance(target_col, str) else list(target_col)
    roles = [("id_col", id_col, "unique_id"), ("time_col", time_col, "ds")]
    roles += [("target_col", t, "y") for t in targets]
    for role, name, own in roles:
        if name in _RESULT_COLUMNS and name != own:
            msg = (
                f"`{role}={name!r}`: a backtest (and `model='auto'`, which runs one) gives its "
                f"results a column {name!r} of their own "
                f"(columns: {list(_RESULT_COLUMNS)}, the id and time as 'unique_id' and 'ds'); "
                f"rename that column of the data first (e.g. `df.rename(columns={{{name!r}: "
                f"'{name}_'}})`)."
            )
            raise InputError(msg)


def _optional_positive(name: str, value: Any) -> int | None:
    return None if value is None else positive_int(name, value)


def _validated(df: Any, settings: BacktestSettings) -> Panel:
    return to_panel(
        df,
        id_col=settings.id_col,
        time_col=settings.time_col,
        target_col=settings.target_col,
        freq=settings.freq,
        fill=settings.fill,  # type: ignore[arg-type]
        device="cpu",
    )


def _first_fold_season(panel: Panel, settings: BacktestSettings) -> int:
    """The season inferred from the first fold's training part only: for integer time it comes
    from the autocorrelation, which must not see any fold's test values."""
    back = settings.horizon + (settings.n_windows - 1) * settings.step
    first_train = panel.lengths - back
    return infer_season_length(panel, lengths=first_train.clamp(min=1))


def _run_all(
    runs: list[ModelRun],
    panel: Panel,
    plan: FoldPlan,
    settings: BacktestSettings,
    runner: Engine,
    keep_fitted: bool = False,
) -> BacktestResult:
    """Every model over the fold plan, then the metrics on the same folds."""
    actuals = actuals_frame(panel)
    frames: list[pd.DataFrame] = []
    eval_frames: list[pd.DataFrame] = []
    failures: list[dict[str, Any]] = []
    curves: dict[tuple[str, str], list[dict[str, Any]]] = {}
    timings: dict[str, float] = {}
    fitted: dict[str, list[Any]] = {}
    labels = [run.label for run in runs]
    if "naive2" not in labels and "owa" in settings.metrics:  # OWA's reference, not reported
        runs.append(resolve_models([("naive2", {})], settings.shared())[0])
        runs[-1].hidden = True
    # the engine's share (none for the local engine): the statistical models by chunks of
    # series, the refitted folds of the others fit by fit
    from tsforecast.engines.work import fan_out_backtest  # it imports this module

    fanned = fan_out_backtest(runner, runs, panel, plan, settings.levels, keep_fitted)
    for i, run in enumerate(runs):
        started = time.perf_counter()
        kept: list[Any] = []
        if i in fanned:  # timed as its seconds of work, summed over its tasks
            done = fanned[i]
            long, run_failures, timings[run.label] = done.long, done.failures, done.seconds
            curves.update(done.curves)
            kept = done.fitted
        else:
            with warnings.catch_warnings():
                if run.hidden:  # OWA's reference, not asked for: its season is not the user's
                    warnings.simplefilter("ignore", SeasonUnusedWarning)
                long, run_failures = _run_model(run, panel, plan, settings.levels, curves, kept)
            timings[run.label] = time.perf_counter() - started
        if isinstance(settings.intervals, dict) and run.label in settings.intervals:
            settings.intervals[run.label] = used_mode(settings.intervals[run.label], kept)
        if keep_fitted and not run.hidden:
            fitted[run.label] = kept
        (eval_frames if run.hidden else frames).append(with_actuals(long, actuals, panel))
        failures += [] if run.hidden else run_failures
    forecasts = pd.concat(frames, ignore_index=True)
    assert settings.season_length is not None
    scales = fold_scales(panel, plan, settings.season_length)
    eval_pd = pd.concat([forecasts, *eval_frames], ignore_index=True).rename(
        columns={settings.id_col: "unique_id", settings.time_col: "ds"}
    )
    metrics_pd = evaluate_pandas(eval_pd, scales=scales, metrics=settings.metrics)
    metrics_pd = metrics_pd[metrics_pd["model"].isin(labels)].reset_index(drop=True)
    return BacktestResult(
        forecasts_pd=forecasts,
        metrics_pd=metrics_pd,
        failures_pd=failures_frame(
            failures_in_series_order(failures, panel, labels), settings.id_col
        ),
        settings=settings.record(labels, panel, timings),
        frame_kind=panel.frame_kind,
        schema=output_schema(panel),
        training_curves=curves,
        history_pd=panel.to_pandas(),
        _eval_pd=eval_pd,
        _scales=scales,
        fitted=fitted,
    )


# --------------------------------------------------------------------------- steps


def _fits_across_series(model: Any) -> bool:
    """Whether one fit of `model` learns from every series at once (a neural model, `auto`,
    or a conformal wrapper of either); the statistical models fit each series alone."""
    from tsforecast.estimators.auto import AutoForecaster
    from tsforecast.estimators.conformal import ConformalForecaster
    from tsforecast.estimators.neural_base import NeuralForecaster

    if isinstance(model, ConformalForecaster):
        model = model.base
    return isinstance(model, (NeuralForecaster, AutoForecaster))


def _warn_of_later_data_of_other_series(runs: list[ModelRun], panel: Panel, plan: FoldPlan) -> None:
    """Warn where a model fitted on all series at once is backtested on series whose folds end
    on different dates. Each series' training part ends at its own cutoff, so a series that
    ends earlier is forecast by a model that learned from the others' values after its
    cutoff: on 3 daily series, one ending 30 days before the others, redrawing the others'
    values after its cutoff moved its lstm fold forecast by up to a quarter of its MAE."""
    label = next((r.label for r in runs if not r.hidden and _fits_across_series(r.prototype)), None)
    if label is None or panel.n_series < 2 or not isinstance(panel.times[0], pd.DatetimeIndex):
        return
    worst: tuple[int, Any, Any] | None = None
    for k in range(plan.n_windows):
        cutoffs = pd.DatetimeIndex(
            [panel.times[s][plan.cutoff_idx[s, k]] for s in range(panel.n_series)]
        )
        earlier = int((cutoffs < cutoffs.max()).sum())
        if earlier and (worst is None or earlier > worst[0]):
            worst = (earlier, cutoffs.min(), cutoffs.max())
    if worst is None:
        return
    earlier, first, last = worst
    warnings.warn(
        f"the series' folds end on different dates (in one fold, {earlier} of "
        f"{panel.n_series} series have their cutoff before the last, {last}; the earliest "
        f"{first}): {label!r} fits all series at once, each up to its own cutoff, so a series "
        "that ends earlier is forecast by a model that learned from the other series' later "
        "values. For a backtest by the calendar, give series that end on the same date, or "
        "backtest those that end earlier on their own.",
        TsforecastWarning,
        stacklevel=3,
    )


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
    kept: list[Any],
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Every fold of one model -> long forecasts (without actuals) and its failures; each
    fitted estimator is appended to `kept`."""
    parts, failures = model_parts(run, panel, plan, levels, curves, kept)
    return pd.concat(parts, ignore_index=True), failures


def model_parts(
    run: ModelRun,
    panel: Panel,
    plan: FoldPlan,
    levels: Sequence[float],
    curves: dict[tuple[str, str], list[dict[str, Any]]],
    kept: list[Any] | None = None,
) -> tuple[list[pd.DataFrame], list[dict[str, Any]]]:
    """Every fold of one model -> its long forecasts, one frame per predicted part (a fit group
    or a fold, each target after the other, series in panel order), and its failures; each
    fitted estimator is appended to `kept` when given. The unit of work an engine runs on each
    chunk of series (`tsforecast.engines.work`)."""
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
        if kept is not None:
            kept.append(estimator)
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
    return parts, failures


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
