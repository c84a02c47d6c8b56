"""What every baseline returns, and the helpers their intervals share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np


@dataclass
class SeriesForecast:
    """Forecast of one series by one model.

    mean: (H,) point forecast; lo / hi: (n_levels, H) interval bounds in the order of `levels`
    (empty when no levels); spec: what was fitted (reused by later cutoffs when not refitting);
    fallback: None, or why the model fell back to (seasonal) naive.
    """

    mean: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    spec: dict[str, Any] = field(default_factory=dict)
    fallback: str | None = None


def _z(levels: Sequence[float]) -> np.ndarray:
    return np.array([NormalDist().inv_cdf(0.5 + lvl / 200.0) for lvl in levels])


def _bands(mean: np.ndarray, sd: np.ndarray, levels: Sequence[float]) -> tuple[np.ndarray, ...]:
    z = _z(levels)[:, None]  # -> (n_levels, 1)
    return mean[None, :] - z * sd[None, :], mean[None, :] + z * sd[None, :]


def _resid_sd(resid: np.ndarray) -> float:
    resid = resid[np.isfinite(resid)]
    return float(np.sqrt(np.mean(resid**2))) if resid.size else float("nan")


# The fallback reason of a series whose fit the time budget left no time for.
TIME_BUDGET_REASON = "time budget reached"


class _Fallback(Exception):
    """A model cannot forecast this series; the message is the recorded reason."""
