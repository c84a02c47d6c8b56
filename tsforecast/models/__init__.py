"""The models namespace: every forecaster class, and `load` for any saved one.

Model names (`"lstm"`, `"ets"`, ...) live in one registry, `tsforecast.estimators.registry`:
`build(name, params, **shared)` makes an unfitted model from a name, `names()` lists them.
"""

from __future__ import annotations

from tsforecast.estimators.neural import LSTMForecaster, NeuralForecaster, Seq2SeqForecaster
from tsforecast.estimators.registry import REGISTRY, build, load, names, spec

__all__ = [
    "REGISTRY",
    "LSTMForecaster",
    "NeuralForecaster",
    "Seq2SeqForecaster",
    "build",
    "load",
    "names",
    "spec",
]
