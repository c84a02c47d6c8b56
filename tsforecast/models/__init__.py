"""The models namespace: every forecaster class, and `load` for any saved one.

Model names (`"lstm"`, `"ets"`, ...) live in one registry, `tsforecast.estimators.registry`:
`build(name, params, **shared)` makes an unfitted model from a name, `names()` lists them.
"""

from __future__ import annotations

from tsforecast.estimators.conformal import ConformalForecaster
from tsforecast.estimators.neural import LSTMForecaster, NeuralForecaster, Seq2SeqForecaster
from tsforecast.estimators.registry import REGISTRY, build, load, names, spec
from tsforecast.estimators.statistical import (
    ARIMAForecaster,
    DriftForecaster,
    ETSForecaster,
    Naive2Forecaster,
    NaiveForecaster,
    SeasonalNaiveForecaster,
    StatisticalForecaster,
    ThetaForecaster,
)

__all__ = [
    "REGISTRY",
    "ARIMAForecaster",
    "ConformalForecaster",
    "DriftForecaster",
    "ETSForecaster",
    "LSTMForecaster",
    "Naive2Forecaster",
    "NaiveForecaster",
    "NeuralForecaster",
    "SeasonalNaiveForecaster",
    "Seq2SeqForecaster",
    "StatisticalForecaster",
    "ThetaForecaster",
    "build",
    "load",
    "names",
    "spec",
]
