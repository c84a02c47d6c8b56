"""tsforecast: time-series forecasting on PyTorch.

Imports stay light: the heavy pieces (torch models, statsmodels, plotly) load on first use.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

from tsforecast.errors import InputError, NotFittedError, TsforecastWarning

__version__ = "0.1.0"

__all__ = [
    "InputError",
    "NotFittedError",
    "SequenceClassifier",
    "TsforecastWarning",
    "__version__",
    "backtest",
    "datasets",
    "engines",
    "evaluate",
    "forecast",
    "metrics",
    "models",
    "report",
    "to_panel",
    "wide_to_long",
]

# public name -> (module, attribute or None for the module itself)
_LAZY: dict[str, tuple[str, str | None]] = {
    "datasets": ("tsforecast.data.datasets", None),
    "engines": ("tsforecast.engines", None),
    "models": ("tsforecast.models", None),
    "to_panel": ("tsforecast.data.validation", "to_panel"),
    "wide_to_long": ("tsforecast.data.frames", "wide_to_long"),
    "backtest": ("tsforecast.backtest", "backtest"),
    "evaluate": ("tsforecast.metrics", "evaluate"),
    "metrics": ("tsforecast.metrics", None),
    "forecast": ("tsforecast.api", "forecast"),
    "report": ("tsforecast.report", "report"),
    "SequenceClassifier": ("tsforecast.estimators.classifier", "SequenceClassifier"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        msg = f"module 'tsforecast' has no attribute {name!r}"
        raise AttributeError(msg)
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name)
    return module if attribute is None else getattr(module, attribute)


class _Package(types.ModuleType):
    """Keeps `tsf.backtest` and `tsf.report` the functions once their submodules are imported.

    Importing the submodule `tsforecast.backtest` makes the import system set the package's
    attribute `backtest` to that module, which would hide the function of the same name from
    `__getattr__` (the second `tsf.backtest(...)` call would fail with "module not callable").
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _LAZY.get(name, ("", None))[1] is not None:
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
