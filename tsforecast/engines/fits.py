"""Independent fits as engine tasks: a backtest's refitted folds and `auto`'s candidates.

A global neural model is trained on all series at once, so it cannot be split by series the
way the statistical baselines are (`tsforecast.engines.work`). What can run apart are its
independent fits: with `refit`, each fit group of the fold plan (one fit, then the group's
cutoffs scored in batches) is one task, running `backtest.engine.model_parts` on the group
alone; and each candidate of `auto` has its own inner backtest, one task each. A model with a
single fit group (no refit) trains once, in the caller, and scores every cutoff in batches.

The seeds are the model's own (every fit seeds torch from its `seed`), so a task makes the
forecasts the local loop makes; on CPU they agree to float tolerance (a task runs with one
torch thread, which can change the order of a sum, not the result beyond rounding).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import replace
from typing import Any, TypeVar, cast

import pandas as pd

from tsforecast.backtest.engine import model_parts
from tsforecast.backtest.folds import FoldPlan, targets_only
from tsforecast.backtest.models import ModelRun
from tsforecast.data.panel import Panel
from tsforecast.errors import TsforecastWarning
from tsforecast.estimators.base import Forecaster
from tsforecast.estimators.statistical import StatisticalForecaster

__all__ = ["candidate_backtest", "fits_apart", "group_fit", "single_process", "writable"]


ForecasterT = TypeVar("ForecasterT", bound=Forecaster)


def single_process(model: ForecasterT) -> ForecasterT:
    """A copy of `model` that fits in the calling process: `n_jobs=1` for it and for every model
    it wraps (a conformal model's base, ...). An engine's workers are the parallelism, and a
    Dask worker is a daemonic process, which cannot open a process pool of its own."""
    params = model.get_params()
    changes: dict[str, Any] = {
        name: single_process(value)
        for name, value in params.items()
        if isinstance(value, Forecaster)
    }
    if "n_jobs" in params:
        changes["n_jobs"] = 1
    return cast(ForecasterT, model.clone().set_params(**changes))


def writable(panel: Panel) -> Panel:
    """The panel with its float64 values writable: Ray hands a shared panel's numpy arrays over
    read-only (zero copy), which torch warns about when the fold slicing wraps them."""
    if panel.exact is None or panel.exact.flags.writeable:
        return panel
    return replace(panel, exact=panel.exact.copy())


def fits_apart(run: ModelRun, plan: FoldPlan) -> bool:
    """Whether an engine runs this model's fits as separate tasks: a registered estimator that
    is not split by series (neural, conformal-wrapped, ...) and is fitted more than once."""
    model = run.prototype
    return (
        model is not None
        and not isinstance(model, StatisticalForecaster)
        and len(plan.fit_groups) > 1
    )


def group_fit(
    run: ModelRun,
    panel: Panel,
    plan: FoldPlan,
    group: int,
    levels: tuple[float, ...],
    keep_fitted: bool,
) -> tuple[list[pd.DataFrame], list[dict[str, Any]], dict[Any, Any], list[Any], float]:
    """One fit group of one model, all series: (parts, failures, curves, fitted, seconds) as
    `model_parts` gives them for that group alone."""
    # Ray hands numpy arrays over read-only (zero copy); the fold slicing makes tensors of them
    one = replace(
        plan,
        cutoff_idx=plan.cutoff_idx.copy(),
        start_idx=plan.start_idx.copy(),
        fit_groups=[plan.fit_groups[group]],
    )
    panel = writable(panel)
    if run.prototype is not None:
        run = replace(run, prototype=single_process(run.prototype))
    started = time.perf_counter()
    curves: dict[Any, Any] = {}
    kept: list[Any] = []
    parts, failures = model_parts(run, panel, one, levels, curves, kept)
    return parts, failures, curves, kept if keep_fitted else [], time.perf_counter() - started


def candidate_backtest(shared: tuple[Panel, dict[str, Any]], item: tuple[Any, bool]) -> Any:
    """`auto`'s inner backtest of one candidate, in this process (`kwargs` are `backtest`'s):
    (forecasts, scales, failures (id, model, target, cutoff, reason), seconds, the fitted
    estimator when asked)."""
    from tsforecast.backtest import backtest

    panel, kwargs = shared
    panel = writable(panel)
    candidate, keep = item
    if panel.covariate_cols and not candidate.capabilities.past_covariates:
        # a statistical candidate among neural ones forecasts the targets alone, as its
        # refit does: the comparison is of each candidate with the inputs it can use
        panel = targets_only(panel)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TsforecastWarning)
        result = backtest(panel, models=[candidate], engine="local", keep_fitted=keep, **kwargs)
    # one model: its fits under its label, whatever it is ("bilstm" for a bidirectional lstm)
    fitted = next(iter(result.fitted.values()))[0] if keep else None
    seconds = time.perf_counter() - started
    return result.forecasts_pd, result._scales, result.failures_pd, seconds, fitted
