"""What every baseline returns, and the helpers their intervals share."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
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


def conformal_rank(n_scores: int, level: float) -> int:
    """ceil((n + 1) * level / 100): the rank (1-based) of the score that bounds the interval.
    Exact rational arithmetic: 0.95 * 20 must be 19, not 19.000000000000004."""
    return math.ceil(Fraction(n_scores + 1) * Fraction(str(level)) / 100)


def _empirical_bands(
    mean: np.ndarray, resid: np.ndarray, growth: np.ndarray, levels: Sequence[float]
) -> tuple[np.ndarray, ...]:
    """Bands mean -/+ q_l * growth, q_l the conformal_rank(n, l)-th smallest of the n finite
    |resid| (the in-sample errors of the forecast at growth 1): the residuals' own spread
    instead of a normal's. Where the residuals are too few for a level's rank (fewer than 19
    at 95 %, 99 at 99 %), that level takes the normal band with their RMS, widened to the
    next lower level's where that is wider."""
    scores = np.sort(np.abs(resid[np.isfinite(resid)]))
    half = np.empty(len(levels))
    for i, level in enumerate(levels):
        rank = conformal_rank(scores.size, level)
        half[i] = scores[rank - 1] if rank <= scores.size else np.nan
    normal = _z(levels) * _resid_sd(resid)
    half = np.where(np.isnan(half), normal, half)
    # a higher level is never narrower: a normal 99 % band can be narrower than a rank 95 %
    # one (3 differences of 10 among 47 of 1: 6.8 against 10)
    order = np.argsort(np.asarray(levels, dtype=float), kind="stable")
    half[order] = np.maximum.accumulate(half[order])
    half = half[:, None]  # -> (n_levels, 1)
    return mean[None, :] - half * growth[None, :], mean[None, :] + half * growth[None, :]


def _resid_sd(resid: np.ndarray) -> float:
    resid = resid[np.isfinite(resid)]
    return float(np.sqrt(np.mean(resid**2))) if resid.size else float("nan")


# The fallback reason of a series whose fit the time budget left no time for.
TIME_BUDGET_REASON = "time budget reached"


class _Fallback(Exception):
    """A model cannot forecast this series; the message is the recorded reason."""
