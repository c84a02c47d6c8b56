"""`tsforecast.forecast()`: one call from a frame to the future rows, of the input's type.

The output has the input's schema for the `horizon` rows after each series' end: the id and time
columns, each target as its point forecast, and `T_lo_80` / `T_hi_80` ... when `levels` are given.

The frame is validated once, here; the model (a registry name or an estimator object) is built
through the registry with the call's arguments, checked against what it can use (a baseline
refuses `future_df` and covariates), fitted, and asked for its forecasts. `model="auto"` is the
`AutoForecaster` meta-estimator (see `tsforecast.estimators.auto`). `time_budget_s` bounds the
whole call.

The output's `attrs` say how it was made (what `tsf.report(fc, ...)` draws): `settings` (model,
horizon, levels, column names, time budget, seconds), `auto_selection` (what `auto` measured and
chose), `training` (a neural model's: steps, `stopped_by`, seconds, the budget training got
and what was kept for the forecasting pass) and `failures` (the series that fell back, as
records). A polars frame has no `attrs` of
its own, so a polars output carries the same dict as its attribute `attrs` (a polars operation
returns a new frame without it; so does a pandas one that drops `attrs`).
"""

from __future__ import annotations

import difflib
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from tsforecast.checks import (
    check_fill,
    check_levels,
    check_seed,
    check_time_budget,
    positive_int,
)
from tsforecast.data.frequency import infer_season_length
from tsforecast.data.validation import to_panel
from tsforecast.deadline import within_deadline
from tsforecast.devices import resolve_device
from tsforecast.errors import InputError, TsforecastWarning
from tsforecast.estimators import registry
from tsforecast.estimators.auto_selection import (
    DEFAULT_STATISTICAL,
    NEURAL_CANDIDATE,
    AutoSelection,
    SelectionRecord,
    default_time_budget,
)
from tsforecast.estimators.base import Forecaster
from tsforecast.json_values import json_values

__all__ = ["AutoSelection", "forecast"]


def forecast(
    df: Any,
    horizon: int,
    model: str | Any = "auto",
    *,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str | Sequence[str] = "y",
    levels: Sequence[float] = (),
    future_df: Any | None = None,
    season_length: int | None = None,
    freq: str | int | None = None,
    fill: str | None = None,
    device: str = "auto",
    seed: int = 0,
    n_jobs: int | None = None,
    time_budget_s: float | str | None = "auto",
    candidates: Sequence[str] | None = None,
    n_windows: int = 2,
    progress: bool | None = None,
    engine: Any = "local",
    intervals: str = "model",
    **model_params: Any,
) -> Any:
    """Forecast `horizon` steps after the end of every series of `df`.

    `model` is a registered name (`naive`, `seasonal_naive`, `drift`, `naive2`, `ets`, `arima`,
    `theta`, `lstm`, `bilstm`, `seq2seq`, `auto`) or an estimator object with `fit(df)` /
    `predict()`. Extra keyword arguments are the model's own parameters (for `auto`: those of
    its neural candidates). `levels` are percentages, e.g. (80, 95). `time_budget_s` bounds the
    whole call in seconds; its default "auto" gives `model="auto"` a budget sized to the data
    (about 5 s for one short series, 75 s for 1,000 monthly series, 240 s, the cap, for
    M4 Hourly; see
    `tsforecast.estimators.auto_selection.default_time_budget`) and the other models none. `engine`
    ("local", "ray", "dask" or a `tsf.engines` object) fans a statistical model out by chunks of
    whole series, with the same forecasts, and `auto`'s candidates' inner backtests one task
    each; a neural model (and `auto`'s final refit) runs in this process.
    `intervals="model"` gives the model's own intervals; "conformal" replaces them by conformal
    ones calibrated on the last windows of each series; "calibrated" keeps the model's own
    intervals, stretched or shrunk by a factor per step calibrated on windows one horizon
    apart, pooled over series (`tsforecast.estimators.conformal`; both need `levels`);
    "auto" is "calibrated" for the statistical models measured nearer nominal that way
    (naive, seasonal_naive, naive2, theta, ets, arima) where the data give enough calibration
    windows, the model's own intervals otherwise.
    `progress`: for `auto`, None says what was chosen and why on stderr, True also reports
    every step, False says nothing.
    """
    from tsforecast.engines import resolve_engine

    started = time.perf_counter()
    horizon = positive_int("horizon", horizon)
    level_list = check_levels(levels)
    check_seed(seed)
    check_fill(fill)
    budget = None if time_budget_s == "auto" else check_time_budget(time_budget_s)
    resolve_device(device)
    runner = resolve_engine(engine)
    if season_length is not None:
        season_length = positive_int("season_length", season_length)
    target_cols = [target_col] if isinstance(target_col, str) else list(target_col)
    conformal = _check_conformal(intervals, level_list)
    if not isinstance(model, str):
        from tsforecast.backtest.models import refuse_a_class

        refuse_a_class(model, "`model`")
        given = {
            "id_col": id_col,
            "time_col": time_col,
            "target_col": target_col,
            "season_length": season_length,
            "freq": freq,
            "fill": fill,
            "device": device,
            "seed": seed,
            "n_jobs": n_jobs,
            "time_budget_s": time_budget_s,
            "candidates": candidates,
            "n_windows": n_windows,
        }  # (not `progress`: what an object says on stderr is its own; no number depends on it)
        _check_call_settings(model, given)  # the object's own settings, before any wrapper
        label = type(model).__name__  # the object's class, not that of a conformal wrapper
        if conformal:
            model = _conformal(model, conformal, level_list)
        return _estimator_forecast(
            model, df, future_df, horizon, level_list, model_params, label=label
        )
    registry.spec(model)  # an unknown name is refused before the frame is read
    shared: dict[str, Any] = {
        "horizon": horizon,
        "levels": level_list or None,
        "season_length": season_length,
        "n_jobs": n_jobs,
        "device": device,
        "seed": seed,
        "progress": progress,
        "id_col": id_col,
        "time_col": time_col,
        "target_col": target_cols,
        "time_budget_s": budget,
    }
    estimator = _build(model, model_params, shared, candidates, n_windows)
    # validate once, here, before any fitting: every later step trusts this panel
    panel = to_panel(
        df,
        id_col=id_col,
        time_col=time_col,
        target_col=target_cols,
        freq=freq,
        fill=fill,  # type: ignore[arg-type]
    )
    if time_budget_s == "auto" and model == "auto":
        # the default call is bounded by a budget sized to the data
        lengths = panel.lengths.cpu().numpy()
        budget_s = default_time_budget(panel.n_series, int(lengths.sum()), int(np.median(lengths)))
        estimator.set_params(time_budget_s=budget_s)
    if model == "auto" and not runner.is_local:  # its candidates' inner backtests fan out
        from tsforecast.estimators.auto import AutoForecaster

        assert isinstance(estimator, AutoForecaster)
        estimator.use_engine(runner)
    if conformal:
        estimator = _conformal(estimator, conformal, level_list)
    estimator.check_request(
        target_cols=panel.target_cols,
        past_covariates=panel.covariate_cols,
        future_df=future_df is not None,
        levels=level_list,
        label=model,
    )
    from tsforecast.engines.work import fan_out_forecast, fans_out

    if not runner.is_local and fans_out(estimator):
        out, failures = fan_out_forecast(runner, estimator, panel)
        seconds = time.perf_counter() - started
        # the estimator here is not fitted: the season is the one the chunks were given
        season_used = estimator.season_length or infer_season_length(panel)
        return _annotate(
            out, estimator, model, horizon, seconds, failures=failures, season=season_used
        )
    # the budget bounds the whole call: what reading and checking the frame took is spent
    # from it, and every step inside reads what is left (`tsforecast.deadline`)
    with within_deadline(getattr(estimator, "time_budget_s", None), started):
        estimator.fit(panel, future_df=future_df)
        out = estimator.predict(future_df=future_df)
    return _annotate(out, estimator, model, horizon, time.perf_counter() - started)


# a call this far past its budget (both: 1.5 times it, and a second more) is said to be
_OVERRUN_RATIO, _OVERRUN_S = 1.5, 1.0


def _warn_of_an_overrun(budget: Any, seconds: float) -> None:
    """A budget the call could not keep is said, not left for the user to find in `attrs`: a
    0.5 s budget for `auto` took 1.8 s (a 3 s one on 10,000 short daily series 4.2 s)."""
    if not isinstance(budget, (int, float)) or isinstance(budget, bool):
        return
    if seconds <= max(_OVERRUN_RATIO * budget, budget + _OVERRUN_S):
        return
    msg = (
        f"the call took {seconds:.1f} s of a {budget:g} s time budget: not all of its work is "
        "bounded (the first torch optimizer of a process takes ~2 s to build; a backtest or "
        "output frame of many series, and forking the workers, are fixed costs per call), so "
        "a budget this small cannot be kept here; give a larger `time_budget_s` (or None)."
    )
    warnings.warn(msg, TsforecastWarning, stacklevel=4)


def _check_conformal(intervals: Any, levels: tuple[float, ...]) -> str:
    """The mode of `intervals` when it wraps the model ("conformal", "calibrated"; refused
    without `levels`), "" for "model"."""
    from tsforecast.estimators.conformal import check_intervals

    mode = check_intervals(intervals)
    if mode == "model" or (mode == "auto" and not levels):
        return ""
    if not levels:
        msg = f"`intervals={mode!r}` needs `levels` (e.g. levels=(80, 95)); none were given."
        raise InputError(msg)
    return mode


def _conformal(model: Any, mode: str, levels: tuple[float, ...]) -> Forecaster:
    """`model` wrapped for the intervals of `mode` at `levels` (a ConformalForecaster is kept)."""
    from tsforecast.estimators.conformal import with_intervals

    if mode == "auto" and not isinstance(model, Forecaster):
        return model  # a plain object keeps its own intervals
    if not isinstance(model, Forecaster):
        msg = (
            f"`intervals={mode!r}` needs a tsforecast forecaster (a model name or a "
            f"registered estimator), got {type(model).__name__}."
        )
        raise InputError(msg)
    return with_intervals(model, mode, levels)


def _build(
    model: str,
    model_params: dict[str, Any],
    shared: dict[str, Any],
    candidates: Sequence[str] | None,
    n_windows: int,
) -> Forecaster:
    """The registered model `model`; for `auto`, `model_params` go to its neural candidates."""
    if model != "auto":
        if candidates is not None:
            msg = f"`candidates` is for model='auto', got model={model!r}; drop `candidates`."
            raise InputError(msg)
        if n_windows != _N_WINDOWS_DEFAULT:
            msg = (
                f"`n_windows` (the inner backtest's folds) is for model='auto', got "
                f"model={model!r} with n_windows={n_windows}; drop `n_windows`."
            )
            raise InputError(msg)
        return registry.build(model, model_params, **shared)
    from tsforecast.estimators.auto import AutoForecaster

    # auto's own parameters (candidate_params, ...) are its own; any other keyword is a
    # parameter of its neural candidates, checked against each of them
    own = {k: v for k, v in model_params.items() if k in AutoForecaster.param_names()}
    rest = {k: v for k, v in model_params.items() if k not in own}
    params: dict[str, Any] = {"candidates": candidates, "n_windows": n_windows, **own}
    if rest:
        _check_neural_keywords(rest, candidates)
        neural = registry.names("neural")
        # the default candidates hold one neural model: the keywords are its parameters
        chosen = [n for n in (candidates or [NEURAL_CANDIDATE]) if n in neural]
        given = dict(params.get("candidate_params") or {})
        params["candidate_params"] = {n: {**rest, **given.get(n, {})} for n in chosen} | {
            n: p for n, p in given.items() if n not in chosen
        }
    return registry.build("auto", params, **shared)


def _check_neural_keywords(keywords: dict[str, Any], candidates: Sequence[str] | None) -> None:
    """Refuse keywords that `auto` would hand to neural candidates that do not take them,
    naming the `candidate_params` that reach a statistical candidate taking them."""
    neural = registry.names("neural")
    chosen = [n for n in (candidates or [NEURAL_CANDIDATE]) if n in neural]
    takes = [set(registry.spec(name).user_param_names()) for name in chosen]
    foreign = sorted(k for k in keywords if not takes or any(k not in t for t in takes))
    if not foreign:
        return
    statistical = [n for n in (candidates or DEFAULT_STATISTICAL) if n not in neural]
    hint = {
        n: {k: keywords[k] for k in foreign if k in registry.spec(n).user_param_names()}
        for n in statistical
    }
    hint = {n: params for n, params in hint.items() if params}
    if chosen:
        msg = (
            f"model='auto' hands its extra keywords to its neural candidates {chosen}, which "
            f"do not take {foreign}"
        )
    else:
        msg = (
            f"model='auto' got the parameters {foreign}, which are for neural candidates, but "
            f"the candidates {list(candidates or [])} hold none"
        )
    if hint:
        msg += f"; a statistical candidate's parameters go in candidate_params={hint!r}."
    else:
        known = sorted({p for n in chosen for p in registry.spec(n).user_param_names()})
        close = {k: difflib.get_close_matches(k, known, n=1) for k in foreign}
        guesses = {k: m[0] for k, m in close.items() if m}
        msg += f"; did you mean {guesses}?" if guesses else "; drop them or check their spelling."
    raise InputError(msg)


# forecast()'s defaults of the settings an estimator object holds itself
_N_WINDOWS_DEFAULT = 2
_CALL_DEFAULTS: dict[str, Any] = {
    "id_col": "unique_id",
    "time_col": "ds",
    "target_col": "y",
    "season_length": None,
    "freq": None,
    "fill": None,
    "device": "auto",
    "seed": 0,
    "n_jobs": None,
    "time_budget_s": "auto",
    "candidates": None,
    "n_windows": _N_WINDOWS_DEFAULT,
}


def _comparable(name: str, value: Any) -> Any:
    if name in ("target_col", "candidates") and value is not None:
        return [value] if isinstance(value, str) else list(value)
    return value


def _check_call_settings(estimator: Any, given: dict[str, Any]) -> None:
    """Refuse a setting given to `forecast()` with an estimator object that the object does not
    hold with the same value: the object fits with its own settings, so the call's would be
    ignored (two targets asked for and one forecast, the other taken as a covariate; a
    season length that never reached the model)."""
    own = estimator.get_params() if callable(getattr(estimator, "get_params", None)) else {}
    base: Any = own.get("base")  # a wrapper (conformal intervals): the settings are its model's
    if callable(getattr(base, "get_params", None)):
        own = {**base.get_params(), **{k: v for k, v in own.items() if k != "base"}}
    for name, value in given.items():
        if _comparable(name, value) == _comparable(name, _CALL_DEFAULTS[name]):
            continue
        if name not in own:
            msg = (
                f"`{name}={value!r}` was given with an estimator object "
                f"({type(estimator).__name__}), which has no `{name}` setting: it would be "
                f"ignored; drop it from the call."
            )
            raise InputError(msg)
        if _comparable(name, own[name]) != _comparable(name, value):
            msg = (
                f"`{name}={value!r}` was given with an estimator object that has "
                f"{name}={own[name]!r}, which its fit uses: set it on the estimator "
                f"(`set_params({name}={value!r})`) or drop it from the call."
            )
            raise InputError(msg)


def _estimator_forecast(
    estimator: Any,
    df: Any,
    future_df: Any | None,
    horizon: int,
    levels: tuple[float, ...],
    params: dict[str, Any],
    label: str | None = None,
) -> Any:
    """`model` given as an object: its own settings, checked against the call's horizon and
    levels. `label`: its name in `attrs` (default: its class's)."""
    from tsforecast.backtest.models import check_estimator_horizon, check_estimator_levels

    for method in ("fit", "predict"):
        if not callable(getattr(estimator, method, None)):
            msg = (
                f"`model` must be a model name or an object with `fit(df)` and `predict()`, "
                f"got {type(estimator).__name__} without `{method}`."
            )
            raise InputError(msg)
    if params:
        msg = (
            f"model parameters {sorted(params)} were given with an estimator object; set them "
            "on the estimator (`set_params`) instead."
        )
        raise InputError(msg)
    check_estimator_horizon(estimator, horizon)
    if levels:
        check_estimator_levels(estimator, levels)
    if isinstance(estimator, Forecaster):
        started = time.perf_counter()
        # the object's own budget bounds this call as a name's does: a neural fit then keeps
        # the time of the forecasting pass from its training (`tsforecast.deadline`)
        with within_deadline(getattr(estimator, "time_budget_s", None), started):
            estimator.fit(df, future_df=future_df)
            out = estimator.predict(future_df=future_df)
        label = label or type(estimator).__name__
        return _annotate(out, estimator, label, horizon, time.perf_counter() - started)
    if future_df is None:
        estimator.fit(df)
        return estimator.predict()
    estimator.fit(df, future_df=future_df)
    return estimator.predict(future_df=future_df)


def _level_values(levels: Any) -> list[Any]:
    """Levels as `attrs` shows them: 80, not 80.0 (97.5 stays)."""
    return [int(v) if float(v).is_integer() else v for v in levels]


def _season_used(estimator: Any) -> int | None:
    """The season the model used: its own, or the one it inferred from the data."""
    # a conformal wrapper: its fitted model's (`base_`; `base` is the unfitted prototype)
    base = getattr(estimator, "base_", None) or getattr(estimator, "base", estimator)
    for source in (base, estimator):
        fitted = getattr(source, "season_length_", None)
        if fitted is None:
            fitted = (getattr(source, "params_", None) or {}).get("season_length")
        if fitted is not None:
            return int(fitted)
    given = getattr(base, "season_length", None)
    return None if given is None else int(given)


def _interval_mode(estimator: Any) -> str:
    from tsforecast.estimators.conformal import ConformalForecaster

    if not isinstance(estimator, ConformalForecaster):
        return "model"
    if estimator.score == "absolute":
        return "conformal"
    # `intervals="auto"` keeps the model's own where too few calibration windows exist
    return "calibrated" if getattr(estimator, "calibrated_levels_", True) else "model"


def _annotate(
    out: Any,
    estimator: Any,
    model: str,
    horizon: int,
    seconds: float,
    failures: pd.DataFrame | None = None,
    season: int | None = None,
) -> Any:
    """Warn about fallbacks; say in `out.attrs` how the forecast was made (see the module doc).

    `failures` are those of a fanned-out run (the engine's, not the unfitted `estimator`'s)."""
    if failures is None:
        failures = getattr(estimator, "failures_", None)
    if isinstance(failures, pd.DataFrame) and not failures.empty:
        shown = failures.head(5).to_dict("records")
        warnings.warn(
            f"{len(failures)} series fell back to seasonal naive (or naive); first: {shown}. "
            "The forecast frame's `attrs['failures']` lists every one.",
            TsforecastWarning,
            stacklevel=3,
        )
    _warn_of_an_overrun(getattr(estimator, "time_budget_s", None), seconds)
    target = getattr(estimator, "target_col", "y")
    estimator_levels = getattr(estimator, "levels", None) or ()
    settings = {
        "model": model,
        "horizon": horizon,
        "levels": _level_values(estimator_levels),
        "id_col": getattr(estimator, "id_col", "unique_id"),
        "time_col": getattr(estimator, "time_col", "ds"),
        "target_cols": [target] if isinstance(target, str) else list(target),
        "season_length": _season_used(estimator) if season is None else int(season),
        "time_budget_s": getattr(estimator, "time_budget_s", None),
        "intervals": _interval_mode(estimator),
        "seconds": seconds,
    }
    if settings["intervals"] == "calibrated":
        # the others keep the model's own (too few calibration scores for them: "auto")
        settings["calibrated_levels"] = _level_values(getattr(estimator, "calibrated_levels_", []))
    # every value a JSON one: pandas writes `attrs` into a parquet file with a bare json.dumps
    attrs: dict[str, Any] = {"settings": json_values(settings)}
    selection = getattr(estimator, "selection_", None)
    if selection is not None:
        selection.seconds = seconds
        attrs["auto_selection"] = SelectionRecord.of(selection)
    training = getattr(estimator, "training_", None)
    if isinstance(training, dict):  # a neural model's (or auto's neural member's) training
        attrs["training"] = json_values(training)
    if isinstance(failures, pd.DataFrame):
        # records, not a frame: pandas compares `attrs` when it concatenates or prints a frame,
        # and a frame inside them makes that comparison raise ("truth value is ambiguous");
        # the cutoffs as ISO strings
        attrs["failures"] = json_values(failures.to_dict("records"))
    stopped = getattr(estimator, "stopped_by_budget_", None)
    if stopped:  # fits, not fallbacks: the search the budget ended, with its best parameters
        attrs["stopped_by_budget"] = json_values(stopped)
    if isinstance(out, pd.DataFrame):
        out.attrs.update(attrs)
    else:
        out.attrs = attrs  # a polars frame: no attrs of its own, the same dict as an attribute
    return out
