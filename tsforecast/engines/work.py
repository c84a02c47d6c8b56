"""The units of work an engine runs on one chunk of whole series, and their reassembly.

What fans out by series: the statistical baselines (`StatisticalForecaster`: every series is
fitted on its own), which are also the models the backtest's OWA reference (naive2) uses. A
chunk runs exactly what the local path runs on the whole panel — `backtest.engine.model_parts`
(the folds, fits, fallbacks and failures of one model) or the estimator's `fit` / `predict` —
on its own series, with `n_jobs=1` (the engine's workers are the parallelism). The season is
resolved in the driver beforehand, as an integer-time season inferred per chunk could differ.
The results are put back in the panel's series order, so they equal the local path's row for row.

The other registered models (neural global models) fan out fit by fit when they refit
(`tsforecast.engines.fits`); with one fit, and for plain estimator objects, the caller runs them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any, TypeGuard

import numpy as np
import pandas as pd

from tsforecast.backtest.engine import model_parts
from tsforecast.backtest.folds import FoldPlan
from tsforecast.backtest.models import ModelRun
from tsforecast.data.frequency import infer_season_length
from tsforecast.data.panel import Panel
from tsforecast.engines.base import Engine
from tsforecast.engines.chunks import in_panel_order, series_chunks
from tsforecast.engines.fits import fits_apart, group_fit, single_process
from tsforecast.errors import InputError
from tsforecast.estimators.base import Forecaster
from tsforecast.estimators.statistical import StatisticalForecaster

__all__ = ["FannedRun", "fan_out_backtest", "fan_out_forecast", "fans_out"]

# The chunk's fitting runs with a budget of this many seconds when the call's deadline has
# passed before the chunk started: every series then gets the "time budget reached" fallback.
_EXPIRED_BUDGET_S = 1e-9


def fans_out(model: Any) -> TypeGuard[StatisticalForecaster]:
    """Whether an engine spreads this model's work over chunks of series."""
    return isinstance(model, StatisticalForecaster)


def _chunk_panels(engine: Engine, panel: Panel) -> list[np.ndarray]:
    return series_chunks(panel.lengths.numpy(), engine.n_chunks(panel.n_series))


# --------------------------------------------------------------------------- backtest


@dataclass
class FannedRun:
    """One model's backtest done by an engine: what `model_parts` would have given locally."""

    long: pd.DataFrame
    failures: list[dict[str, Any]]
    seconds: float  # of work, summed over its tasks
    curves: dict[Any, Any] = field(default_factory=dict)
    fitted: list[Any] = field(default_factory=list)


def _backtest_chunk(
    runs: list[ModelRun], levels: tuple[float, ...], panel: Panel, plan: FoldPlan
) -> list[tuple[list[pd.DataFrame], list[dict[str, Any]], float]]:
    """Every chunked model over one chunk's folds: (parts, failures, seconds) per model."""
    # Ray hands numpy arrays over read-only (zero copy); the fold slicing makes tensors of them
    plan = replace(plan, cutoff_idx=plan.cutoff_idx.copy(), start_idx=plan.start_idx.copy())
    out = []
    for run in runs:
        started = time.perf_counter()
        parts, failures = model_parts(run, panel, plan, levels, {})
        out.append((parts, failures, time.perf_counter() - started))
    return out


def _backtest_task(shared: tuple[Any, ...], item: tuple[Any, ...]) -> Any:
    """One task: ("chunk", panel of some series, their plan) or ("fit", run position, group)."""
    chunked, apart, whole, plan, levels, keep_fitted = shared
    if item[0] == "chunk":
        return _backtest_chunk(chunked, levels, item[1], item[2])
    _, i, group = item
    return group_fit(apart[i], whole, plan, group, levels, keep_fitted)


def fan_out_backtest(
    engine: Engine,
    runs: list[ModelRun],
    panel: Panel,
    plan: FoldPlan,
    levels: tuple[float, ...],
    keep_fitted: bool = False,
) -> dict[int, FannedRun]:
    """run position -> its backtest for every run an engine takes: the statistical ones by
    chunks of series, the others fold group by fold group when they refit
    (`tsforecast.engines.fits`); the rest are left to the caller. Empty for a local engine."""
    chosen = [
        i for i, run in enumerate(runs) if run.prototype is not None and fans_out(run.prototype)
    ]
    apart = [i for i, run in enumerate(runs) if i not in chosen and fits_apart(run, plan)]
    if engine.is_local or not (chosen or apart):
        return {}
    budgeted = [runs[i].label for i in chosen if getattr(runs[i].prototype, "time_budget_s", None)]
    if budgeted:
        msg = (
            f"the models {budgeted} have a `time_budget_s` per fit, which chunks of series on "
            f"engine={engine.name!r} cannot share; drop it or use engine='local'."
        )
        raise InputError(msg)
    single = [
        ModelRun(runs[i].label, _single(runs[i].prototype), hidden=runs[i].hidden) for i in chosen
    ]
    # the fits first: they are the long tasks, and should not start last
    items: list[tuple[Any, ...]] = [
        ("fit", i, g) for i in apart for g in range(len(plan.fit_groups))
    ]
    if chosen:
        items += [
            ("chunk", panel.select(idx.tolist()), _plan_rows(plan, idx))
            for idx in _chunk_panels(engine, panel)
        ]
    shared = (
        single,
        {i: runs[i] for i in apart},
        panel if apart else None,  # the fits' global models see every series
        plan,
        tuple(levels),
        keep_fitted,
    )
    results = engine.map(_backtest_task, shared, items)
    n_fits = len(apart) * len(plan.fit_groups)
    fits, chunks = results[:n_fits], results[n_fits:]
    out = {}
    for j, i in enumerate(chosen):
        per_chunk = [result[j] for result in chunks]
        out[i] = FannedRun(
            long=_in_series_order([parts for parts, _, _ in per_chunk], panel),
            failures=[row for _, rows, _ in per_chunk for row in rows],
            seconds=sum(seconds for *_, seconds in per_chunk),
        )
    for j, i in enumerate(apart):
        per_group = fits[j * len(plan.fit_groups) : (j + 1) * len(plan.fit_groups)]
        curves: dict[Any, Any] = {}
        for _, _, group_curves, _, _ in per_group:
            curves.update(group_curves)
        out[i] = FannedRun(
            long=pd.concat([part for parts, *_ in per_group for part in parts], ignore_index=True),
            failures=[row for _, rows, *_ in per_group for row in rows],
            seconds=sum(seconds for *_, seconds in per_group),
            curves=curves,
            fitted=[model for *_, kept, _ in per_group for model in kept],
        )
    return out


def _single(model: Forecaster | None) -> Forecaster:
    assert model is not None  # the chosen runs are registered estimators
    return single_process(model)


def _plan_rows(plan: FoldPlan, series_idx: np.ndarray) -> FoldPlan:
    """The fold plan of some series (the fit groups are the same for every series)."""
    return replace(
        plan, cutoff_idx=plan.cutoff_idx[series_idx], start_idx=plan.start_idx[series_idx]
    )


def _in_series_order(parts_per_chunk: list[list[pd.DataFrame]], panel: Panel) -> pd.DataFrame:
    """The chunks' parts -> the local path's frame: part by part (fit group or fold), target by
    target (each part holds its targets one after the other), series in panel order."""
    pieces = []
    for j in range(len(parts_per_chunk[0])):
        for target in panel.target_cols:
            piece = pd.concat(
                [
                    part if panel.n_targets == 1 else part[part["target"] == target]
                    for part in (parts[j] for parts in parts_per_chunk)
                ],
                ignore_index=True,
            )
            pieces.append(piece.iloc[in_panel_order(piece[panel.id_col], panel.ids)])
    return pd.concat(pieces, ignore_index=True)


# --------------------------------------------------------------------------- forecast


def _forecast_chunk(
    shared: tuple[StatisticalForecaster, float | None], panel: Panel
) -> tuple[Any, pd.DataFrame]:
    """Fit one chunk's series and forecast after their end: (forecasts, failures)."""
    prototype, deadline = shared
    model = prototype.clone()
    if deadline is not None:  # what is left of the call's budget when this chunk starts
        model.set_params(time_budget_s=max(deadline - time.time(), _EXPIRED_BUDGET_S))
    model.fit(panel)
    return model.predict(), model.failures_


def fan_out_forecast(
    engine: Engine, model: StatisticalForecaster, panel: Panel
) -> tuple[Any, pd.DataFrame]:
    """`model.fit(panel).predict()` and its failures, computed chunk by chunk on `engine`."""
    single = single_process(model)
    if single.season_length is None:  # from all series, as the local fit infers it
        single.set_params(season_length=infer_season_length(panel))
    budget = single.time_budget_s
    deadline = None if budget is None else time.time() + float(budget)
    items = [panel.select(idx.tolist()) for idx in _chunk_panels(engine, panel)]
    results = engine.map(_forecast_chunk, (single, deadline), items)
    out = _in_panel_rows([frame for frame, _ in results], panel)
    failures = pd.concat(
        [f for _, f in results if not f.empty] or [results[0][1]], ignore_index=True
    )
    if not failures.empty:
        # the local fit lists its failures target by target, series in panel order
        failures = failures.iloc[in_panel_order(failures[panel.id_col], panel.ids)]
        order = {target: t for t, target in enumerate(panel.target_cols)}
        failures = failures.sort_values("target", key=lambda col: col.map(order), kind="stable")
    return out, failures.reset_index(drop=True)


def _in_panel_rows(frames: list[Any], panel: Panel) -> Any:
    """Frames of the input's type (pandas or polars) as one, its series in panel order."""
    if isinstance(frames[0], pd.DataFrame):
        out = pd.concat(frames, ignore_index=True)
        return out.iloc[in_panel_order(out[panel.id_col], panel.ids)].reset_index(drop=True)
    import polars as pl

    out = pl.concat(frames)
    return out[in_panel_order(out[panel.id_col].to_numpy(), panel.ids)]
