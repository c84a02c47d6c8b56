"""Neural forecasters and their registry.

`get(name)` returns a constructor for a registered model name (`lstm`, `bilstm`, `seq2seq`)
with that name's defaults filled in: `tsforecast.models.get("lstm")(horizon=24, **params)`.
`load(path)` reads a model written by its `save(path)`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

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


def load(path: Any, device: Any = None) -> NeuralForecaster:
    """Load a forecaster saved with `save(path)` (optionally onto another `device`)."""
    return load_forecaster(path, device)
