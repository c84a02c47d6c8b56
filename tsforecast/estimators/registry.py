"""One registry of model names: name -> class, kind, capabilities, defaults.

`forecast()`, `backtest()`, the experiment configs, the CLI and the report read only this.
Classes are named by import path and imported on first use, so that listing the models (the
CLI's help, a config check) loads neither torch models nor statsmodels.

    build("lstm", {"hidden_size": 32}, horizon=24, levels=(80,))   # -> an unfitted estimator
    spec("ets").capabilities.future_covariates                      # -> False
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from tsforecast.errors import InputError

if TYPE_CHECKING:
    from tsforecast.estimators.base import Capabilities, Forecaster

__all__ = ["REGISTRY", "ModelSpec", "build", "load", "name_of", "names", "spec"]

Kind = Literal["statistical", "neural", "meta"]

# Arguments an entry point sets itself (from its own arguments, not from a model's params).
ENTRY_POINT_ARGS = ("horizon", "levels", "id_col", "time_col", "target_col", "fill", "freq")


@dataclass(frozen=True)
class ModelSpec:
    """A registered model: its name, where its class lives, its kind and its defaults (what
    the name means: a user's params may not contradict them)."""

    name: str
    path: str  # "module:Class"
    kind: Kind
    summary: str
    defaults: Mapping[str, Any] = field(default_factory=dict)

    @property
    def cls(self) -> type[Forecaster]:
        module, _, attribute = self.path.partition(":")
        return getattr(importlib.import_module(module), attribute)

    @property
    def capabilities(self) -> Capabilities:
        return self.cls.capabilities

    def param_names(self) -> list[str]:
        """The parameters this model takes (its class's constructor)."""
        return self.cls.param_names()

    def user_param_names(self) -> list[str]:
        """The parameters a user may set through `(name, params)`, a config or `**params`
        (not those the name fixes: `bidirectional` is what tells bilstm from lstm)."""
        return [
            p for p in self.param_names() if p not in ENTRY_POINT_ARGS and p not in self.defaults
        ]


_STATS = "tsforecast.estimators.statistical"
_NEURAL = "tsforecast.estimators.neural"

REGISTRY: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("naive", f"{_STATS}:NaiveForecaster", "statistical", "the last value"),
        ModelSpec(
            "seasonal_naive",
            f"{_STATS}:SeasonalNaiveForecaster",
            "statistical",
            "the value one season back",
        ),
        ModelSpec("drift", f"{_STATS}:DriftForecaster", "statistical", "last value + mean step"),
        ModelSpec(
            "naive2", f"{_STATS}:Naive2Forecaster", "statistical", "M4 Naive2 (deseasonalised)"
        ),
        ModelSpec("ets", f"{_STATS}:ETSForecaster", "statistical", "exponential smoothing"),
        ModelSpec("arima", f"{_STATS}:ARIMAForecaster", "statistical", "automatic ARIMA"),
        ModelSpec("theta", f"{_STATS}:ThetaForecaster", "statistical", "the Theta method"),
        ModelSpec(
            "lstm",
            f"{_NEURAL}:LSTMForecaster",
            "neural",
            "LSTM encoder + MLP head, the whole horizon at once",
            {"bidirectional": False},
        ),
        ModelSpec(
            "bilstm",
            f"{_NEURAL}:LSTMForecaster",
            "neural",
            "bidirectional LSTM encoder over the history + MLP head",
            {"bidirectional": True},
        ),
        ModelSpec(
            "seq2seq",
            f"{_NEURAL}:Seq2SeqForecaster",
            "neural",
            "LSTM encoder-decoder unrolled over the horizon",
        ),
        ModelSpec(
            "auto",
            "tsforecast.estimators.auto:AutoForecaster",
            "meta",
            "chooses or combines candidates by an inner backtest",
        ),
    )
}


def names(kind: Kind | None = None) -> list[str]:
    """Registered model names (of one `kind` when given), in registry order."""
    return [n for n, s in REGISTRY.items() if kind is None or s.kind == kind]


def name_of(model: Any) -> str | None:
    """The registered name of an estimator object: the spec of its class whose defaults its
    parameters hold (an LSTMForecaster with bidirectional=True is "bilstm"); None when no
    spec matches (a class not registered, or a subclass)."""
    get_params = getattr(model, "get_params", None)
    if not callable(get_params):
        return None
    params = get_params()
    for candidate in REGISTRY.values():
        if candidate.path.rpartition(":")[2] != type(model).__name__:
            continue
        if type(model) is not candidate.cls:
            continue
        if all(params.get(key) == value for key, value in candidate.defaults.items()):
            return candidate.name
    return None


def spec(name: Any) -> ModelSpec:
    """The registered model `name`, or `InputError` naming the closest registered one."""
    if not isinstance(name, str) or name not in REGISTRY:
        close = difflib.get_close_matches(str(name), list(REGISTRY), n=1)
        hint = f" did you mean {close[0]!r}?" if close else ""
        msg = f"unknown model {name!r};{hint} choose one of {names()} or pass an estimator."
        raise InputError(msg)
    return REGISTRY[name]


def build(name: str, params: Mapping[str, Any] | None = None, **shared: Any) -> Forecaster:
    """An unfitted model `name` from a user's `params` plus the entry point's `shared` arguments.

    `params` are checked up front: a name the model does not take (with the closest known one),
    an argument the entry point sets itself (`horizon`, `levels`, the column names) and an
    invalid value all raise `InputError` here, before any data is read. `shared` holds the
    entry point's own arguments (horizon, levels, device, seed, ...); those the model does not
    take are left out, and a user's `params` override the others (a model's own
    `season_length`, say).
    """
    from tsforecast.devices import resolve_device

    model = spec(name)
    params = dict(params or {})
    if not all(isinstance(k, str) for k in params):
        msg = f"the params of model {name!r} must have string names, got {list(params)}."
        raise InputError(msg)
    allowed = model.param_names()
    for key in params:
        if key in ENTRY_POINT_ARGS:
            msg = (
                f"model {name!r}: `{key}` is set by the call, not as a model parameter: remove "
                f"it from the params of {name!r} and give it to the call (`forecast(..., "
                f"{key}=...)`, `backtest(..., {key}=...)`, a config's [data] or [backtest], or "
                f"`tsf.models.build({name!r}, params, {key}=...)`)."
            )
            raise InputError(msg)
        if key not in allowed:
            close = difflib.get_close_matches(key, model.user_param_names(), n=1)
            hint = f" did you mean {close[0]!r}?" if close else ""
            if model.kind == "meta":  # auto: a candidate's parameter goes to that candidate
                takers = [
                    n for n, s in REGISTRY.items() if s.kind != "meta" and key in s.param_names()
                ]
                if takers:
                    from tsforecast.estimators.auto_selection import NEURAL_CANDIDATE

                    first = NEURAL_CANDIDATE if NEURAL_CANDIDATE in takers else takers[0]
                    example = {first: {key: params[key]}}
                    hint = (
                        f" {key!r} is a parameter of its candidates {takers}: give it as "
                        f"candidate_params={example!r} (only `forecast()` passes extra "
                        "keywords on to auto's neural candidates)."
                    )
            msg = (
                f"model {name!r} has no parameter {key!r};{hint} "
                f"known: {sorted(model.user_param_names())}."
            )
            raise InputError(msg)
    for key, value in model.defaults.items():
        # the defaults are what the name means: bilstm with bidirectional=False would be lstm
        # under bilstm's label in every result
        if key in params and params[key] != value:
            others = [n for n, s in REGISTRY.items() if s.defaults.get(key) == params[key]]
            instead = f"; use model {others[0]!r} instead" if others else ""
            msg = (
                f"model {name!r} is {key}={value!r} by definition, got {key}={params[key]!r}"
                f"{instead}."
            )
            raise InputError(msg)
    kwargs = {k: v for k, v in shared.items() if k in allowed}
    kwargs.update(model.defaults)
    kwargs.update(params)
    required = [
        p.name
        for p in inspect.signature(model.cls.__init__).parameters.values()
        if p.default is inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and p.name != "self"
        and p.name not in kwargs
    ]
    if required:  # the constructor's own TypeError would not say how to give them
        msg = (
            f"model {name!r} needs {', '.join(f'`{r}`' for r in required)}: give it to the "
            "call as a keyword, e.g. "
            f"`tsf.models.build({name!r}, params, {required[0]}=...)`."
        )
        raise InputError(msg)
    estimator = model.cls(**kwargs)
    estimator._check_params()
    resolve_device(getattr(estimator, "device", "auto"))
    return estimator


def load(path: str | os.PathLike[str], device: Any = None) -> Forecaster:
    """Load any forecaster written by its `save(path)` (optionally onto another `device`)."""
    from pathlib import Path

    from tsforecast.persistence import read_model_folder

    config, _ = read_model_folder(path, "tsforecast model")
    classes = {s.path.rpartition(":")[2]: s for s in REGISTRY.values()}
    name = config.get("class")
    if name == "ConformalForecaster":  # a wrapper around any model, not a registered name
        from tsforecast.estimators.conformal import ConformalForecaster

        return ConformalForecaster._load(Path(path), device)
    if name == "SequenceClassifier":  # saved by a classifier, which has a load of its own
        msg = (
            f"{str(path)!r} holds a SequenceClassifier, not a forecaster; load it with "
            f"`tsf.SequenceClassifier.load({str(path)!r})`."
        )
        raise InputError(msg)
    if name not in classes:
        msg = f"{str(path)!r} holds a model of class {name!r}, which this version cannot read."
        raise InputError(msg)
    return classes[name].cls._load(Path(path), device)
