"""Exceptions raised by tsforecast.

Every error about a user's input is an `InputError` (a `ValueError`), raised at the boundary
before any work starts, and its message says what is wrong, what was received and how to fix it.
"""

from __future__ import annotations

__all__ = ["InputError", "NotFittedError", "SeasonUnusedWarning", "TsforecastWarning"]


class InputError(ValueError):
    """The input (a frame, an argument, a config) cannot be used as given."""


class NotFittedError(RuntimeError):
    """A method that needs a fitted estimator was called before `fit`."""


class TsforecastWarning(UserWarning):
    """Something was dropped or changed to let the run go on (e.g. short series dropped)."""


class SeasonUnusedWarning(TsforecastWarning):
    """A `season_length` that some series are too short to use (fewer than the three seasons
    a seasonality test needs): those series are forecast without a season."""
