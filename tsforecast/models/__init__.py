"""Neural forecasters and their registry.

`get(name)` returns a constructor for a registered model name (`lstm`, `bilstm`, `seq2seq`)
with that name's defaults filled in: `tsforecast.models.get("lstm")(horizon=24, **params)`.
`load(path)` reads a model written by its `save(path)`.
"""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable
from typing import Any

from tsforecast.devices import resolve_device
from tsforecast.errors import InputError
from tsforecast.models.estimator import (
    LSTMForecaster,
    NeuralForecaster,
    Seq2SeqForecaster,
    load_forecaster,
)

__all__ = [
    "REGISTRY",
    "LSTMForecaster",
    "NeuralForecaster",
    "Seq2SeqForecaster",
    "build",
    "get",
    "load",
    "names",
]

# name -> (estimator class, default constructor arguments for that name)
REGISTRY: dict[str, tuple[type[NeuralForecaster], dict[str, Any]]] = {
    "lstm": (LSTMForecaster, {"bidirectional": False}),
    "bilstm": (LSTMForecaster, {"bidirectional": True}),
    "seq2seq": (Seq2SeqForecaster, {}),
}


def names() -> list[str]:
    """The registered neural model names."""
    return list(REGISTRY)


def get(name: str) -> Callable[..., NeuralForecaster]:
    """A constructor for model `name`; keyword arguments override the name's defaults."""
    if name not in REGISTRY:
        msg = f"unknown neural model {name!r}; choose one of {names()}."
        raise InputError(msg)
    cls, defaults = REGISTRY[name]
    return functools.partial(cls, **defaults)


def build(
    name: str, params: dict[str, Any], *, reserved: tuple[str, ...] = (), **fixed: Any
) -> NeuralForecaster:
    """Construct model `name` from user `params` plus `fixed` arguments, checked up front.

    Unknown parameter names (with the closest known one), parameters the caller sets itself
    (`reserved`, e.g. `horizon` in a backtest) and invalid values all raise `InputError` here,
    before any data is read or any other model runs.
    """
    if name not in REGISTRY:
        msg = f"unknown neural model {name!r}; choose one of {names()}."
        raise InputError(msg)
    cls, defaults = REGISTRY[name]
    known = set(inspect.signature(cls.__init__).parameters) - {"self"}
    for key in params:
        if key in reserved:
            msg = (
                f"model {name!r}: `{key}` is set by the caller, not as a model parameter; "
                f"remove it from the params of {name!r}."
            )
            raise InputError(msg)
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f" did you mean {close[0]!r}?" if close else ""
            msg = f"model {name!r} has no parameter {key!r};{hint} known: {sorted(known)}."
            raise InputError(msg)
    model = cls(**{**defaults, **fixed, **params})
    model._check_params()
    resolve_device(model.device)
    return model


def load(path: Any, device: Any = None) -> NeuralForecaster:
    """Load a forecaster saved with `save(path)` (optionally onto another `device`)."""
    return load_forecaster(path, device)
