"""The models of a backtest: names, `(name, params)` pairs or estimator objects -> runs."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tsforecast.checks import check_levels
from tsforecast.errors import InputError
from tsforecast.estimators import registry
from tsforecast.estimators.base import Forecaster

__all__ = [
    "ModelRun",
    "check_estimator_horizon",
    "check_estimator_levels",
    "check_estimator_settings",
    "interval_modes",
    "resolve_models",
    "use_conformal",
    "used_mode",
]


@dataclass
class ModelRun:
    """One model of a backtest: a registered estimator (cloned for every fit) or a plain object
    with `fit` / `predict` (deep-copied for every fit)."""

    label: str
    prototype: Forecaster | None
    plain: Any = None
    hidden: bool = False  # run for OWA's reference only, not reported

    def new(self) -> Any:
        if self.prototype is not None:
            return self.prototype.clone()
        return copy.deepcopy(self.plain)

    def set_season(self, season_length: int) -> None:
        """Give the inferred season to a model whose own `season_length` is unset."""
        model = self.prototype
        if (
            model is not None
            and "season_length" in model.param_names()
            and getattr(model, "season_length", None) is None
        ):
            model.set_params(season_length=season_length)


def check_estimator_horizon(estimator: Any, horizon: int) -> None:
    """An estimator's own horizon must be the one asked for (never silently another)."""
    own = getattr(estimator, "horizon", None)
    if own is not None and own != horizon:
        msg = (
            f"the estimator {type(estimator).__name__} forecasts horizon={own!r} steps, but "
            f"horizon={horizon!r} was asked for; build it with horizon={horizon!r} (or "
            f"`estimator.set_params(horizon={horizon!r})`) or ask for horizon={own!r}."
        )
        raise InputError(msg)


def check_estimator_levels(estimator: Any, levels: Any) -> None:
    """Levels asked for must be the estimator's own (never silently none or others)."""
    own = check_levels(getattr(estimator, "levels", None))
    asked = check_levels(levels)
    if asked and own != asked:
        msg = (
            f"the estimator {type(estimator).__name__} gives levels={own!r}, but levels="
            f"{asked!r} were asked for; build it with levels={asked!r}."
        )
        raise InputError(msg)
    if own and not asked:
        # the backtest would score no interval (no coverage, no MSIS) of a model trained for them
        shown = repr(tuple(int(v) if float(v).is_integer() else v for v in own))
        msg = (
            f"the estimator {type(estimator).__name__} gives levels={shown}, but the backtest "
            f"asks for none; pass levels={shown} to the backtest to score its intervals, or "
            "build it without levels."
        )
        raise InputError(msg)


# Settings of the backtest call that an estimator object also holds: the backtest reads the
# data with the call's (columns, grid, fill) and scores with its season length, while the object
# would fit with its own; a difference is refused, never one of them silently ignored.
_SHARED_SETTINGS = ("target_col", "id_col", "time_col", "season_length", "freq", "fill")


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else list(value) if value is not None else None


def check_estimator_settings(estimator: Any, shared: dict[str, Any]) -> None:
    """An estimator object's own columns, season length, `freq` and `fill` must be the call's
    where both set one (None: as the other says)."""
    params = estimator.get_params() if callable(getattr(estimator, "get_params", None)) else {}
    base: Any = params.get("base")  # a wrapper (conformal intervals): the settings are its model's
    if callable(getattr(base, "get_params", None)):
        params = {**base.get_params(), **params}
    for name in _SHARED_SETTINGS:
        own, call = params.get(name), shared.get(name)
        if name not in params or own is None:
            continue
        if name == "target_col":
            own, call = _as_list(own), _as_list(call)
        if call is not None and own != call:
            msg = (
                f"the estimator {type(estimator).__name__} has {name}={params[name]!r}, but the "
                f"backtest was called with {name}={shared.get(name)!r}, which it reads the data "
                f"(and scores) with; pass {name}={params[name]!r} to `backtest` or set it on "
                f"the estimator (`set_params({name}={shared.get(name)!r})`)."
            )
            raise InputError(msg)


def resolve_models(models: Any, shared: dict[str, Any]) -> list[ModelRun]:
    """Build every model up front, so a bad name or parameter fails before any work."""
    is_pair = isinstance(models, tuple) and len(models) == 2 and isinstance(models[1], dict)
    if isinstance(models, str) or is_pair or hasattr(models, "fit"):
        models = [models]
    if not isinstance(models, Sequence) or len(models) == 0:
        msg = (
            f"`models` must be a non-empty list of names, (name, params) pairs or estimators, "
            f"got {models!r}."
        )
        raise InputError(msg)
    runs = [_resolve_one(item, shared) for item in models]
    # unique labels: a second "lstm" with other params becomes "lstm_2"
    seen: dict[str, int] = {}
    for run in runs:
        seen[run.label] = seen.get(run.label, 0) + 1
        if seen[run.label] > 1:
            run.label = f"{run.label}_{seen[run.label]}"
    return runs


def refuse_a_class(model: Any, what: str) -> None:
    """InputError for an estimator class given where an instance goes (`ETSForecaster`, not
    `ETSForecaster(12)`): its methods would be called unbound, deep inside."""
    if isinstance(model, type):
        msg = (
            f"{what} got the class {model.__name__}, not an estimator; pass an instance, "
            f"e.g. {model.__name__}(horizon=12), or a model name such as 'ets'."
        )
        raise InputError(msg)


def _resolve_one(item: Any, shared: dict[str, Any]) -> ModelRun:
    refuse_a_class(item, "`models`")
    if isinstance(item, str):
        return ModelRun(item, registry.build(item, {}, **shared))
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
        name, params = item
        if not isinstance(params, dict):
            msg = f"the params of model {name!r} must be a dict, got {params!r}."
            raise InputError(msg)
        return ModelRun(name, registry.build(name, params, **shared))
    if isinstance(item, Forecaster):
        check_estimator_horizon(item, shared["horizon"])
        check_estimator_levels(item, shared["levels"])
        check_estimator_settings(item, shared)
        # a copy: the backtest gives it the call's season and may wrap it (the caller's
        # object is left as it was)
        return ModelRun(_estimator_label(item), item.clone())
    if callable(getattr(item, "fit", None)) and callable(getattr(item, "predict", None)):
        check_estimator_horizon(item, shared["horizon"])
        label = str(getattr(item, "model_name", "") or type(item).__name__.lower())
        return ModelRun(label, None, plain=item)
    msg = (
        f"cannot use {item!r} as a model; pass a name such as 'ets', a (name, params) pair, "
        "or an object with `fit(df)` and `predict(history_df)`."
    )
    raise InputError(msg)


def _estimator_label(item: Forecaster) -> str:
    """An estimator object's leaderboard label: its model name, and for a conformal wrapper
    how its intervals are made (a ConformalForecaster of theta next to theta would be
    "theta_2", which says nothing of the difference)."""
    from tsforecast.estimators.conformal import ConformalForecaster
    from tsforecast.estimators.registry import name_of

    # the registered name first: an LSTMForecaster(bidirectional=True) is "bilstm", as
    # models=["bilstm"] labels it, not its class's "lstm"
    base = item.base if isinstance(item, ConformalForecaster) else item
    label = name_of(base) or str(getattr(item, "model_name", "") or type(item).__name__.lower())
    if isinstance(item, ConformalForecaster):
        label += "_calibrated" if item.score == "width" else "_conformal"
    return label


def interval_modes(intervals: Any, runs: list[ModelRun], levels: Sequence[float]) -> dict[str, str]:
    """`intervals` ("model", "conformal", or {model label: mode}) -> the mode of every run,
    checked before any data is read."""
    from tsforecast.estimators.conformal import check_intervals

    labels = [run.label for run in runs]
    if isinstance(intervals, dict):
        unknown = [k for k in intervals if k not in labels]
        if unknown:
            msg = f"`intervals` names models {unknown} that are not in `models` ({labels})."
            raise InputError(msg)
        modes = {k: check_intervals(intervals.get(k, "model"), f"intervals[{k!r}]") for k in labels}
    else:
        mode = check_intervals(intervals)
        modes = dict.fromkeys(labels, mode)
    conformal = [k for k, m in modes.items() if m not in ("model", "auto")]
    if conformal and not levels:
        msg = (
            f"conformal / calibrated intervals for {conformal} need `levels` "
            "(e.g. levels=(80, 95))."
        )
        raise InputError(msg)
    plain = [
        run.label
        for run in runs
        if run.prototype is None and modes[run.label] not in ("model", "auto")
    ]
    if plain:
        msg = (
            f"conformal / calibrated intervals need tsforecast forecasters; {plain} are plain "
            "objects with "
            "`fit` / `predict`: give them intervals='model'."
        )
        raise InputError(msg)
    return modes


def use_conformal(
    runs: list[ModelRun], modes: dict[str, str], levels: Sequence[float]
) -> dict[str, str]:
    """Wrap the runs whose mode is "conformal" or "calibrated" ("auto": see
    `resolve_intervals`): every fit calibrates inside its training part. -> the resolved modes
    (a ConformalForecaster given as a model: the mode its own settings make, "conformal" or
    "calibrated"; `used_mode` corrects them after the fits)."""
    from tsforecast.estimators.conformal import (
        ConformalForecaster,
        resolve_intervals,
        with_intervals,
    )

    resolved = {}
    for run in runs:
        mode = modes.get(run.label, "model")
        resolved[run.label] = resolve_intervals(run.prototype, mode, levels)
        prototype = run.prototype
        if isinstance(prototype, ConformalForecaster) and mode in ("model", "auto"):
            # kept as configured by with_intervals
            resolved[run.label] = "conformal" if prototype.score == "absolute" else "calibrated"
            continue
        if resolved[run.label] != "model":
            assert run.prototype is not None
            run.prototype = with_intervals(run.prototype, mode, levels)
    return resolved


def used_mode(resolved: str, fits: list[Any]) -> str:
    """The interval mode a run's fits used: "model" where it was to be calibrated and no fit
    calibrated any level (`intervals="auto"` on too few calibration windows), else `resolved`
    (calibrated where any fold calibrated)."""
    from tsforecast.estimators.conformal import ConformalForecaster

    wrappers = [fit for fit in fits if isinstance(fit, ConformalForecaster)]
    calibrated_any = any(getattr(fit, "calibrated_levels_", True) for fit in wrappers)
    return "model" if resolved == "calibrated" and wrappers and not calibrated_any else resolved
