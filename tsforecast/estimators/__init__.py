"""Estimators: the one contract (`base`), the one registry of names (`registry`), and the
neural, statistical and meta (`auto`) forecasters behind it."""

from tsforecast.estimators.base import BaseEstimator, Capabilities, Forecaster
from tsforecast.estimators.registry import REGISTRY, ModelSpec, build, load, names, spec

__all__ = [
    "REGISTRY",
    "BaseEstimator",
    "Capabilities",
    "Forecaster",
    "ModelSpec",
    "build",
    "load",
    "names",
    "spec",
]
