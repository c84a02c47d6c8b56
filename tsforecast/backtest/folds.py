"""The fold plan: one set of rolling-origin cutoffs shared by every model.

For series s of length n_s and window k = 0..n_windows-1 (oldest first), the cutoff is the
position `n_s - horizon - (n_windows - 1 - k) * step - 1` (the last observation the forecast may
use); the fold's test part is the `horizon` steps after it. The training part is everything up
to the cutoff (expanding, the default) or its last `train_size` observations (sliding).

Refitting: `refit=True` fits at every cutoff; `refit=False` fits once, on the first fold's
training part, and later folds feed the newer history to that fit; `refit=k` fits every k folds.
A *fit group* is a fitted fold and the later folds that reuse its fit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from tsforecast.data.panel import Panel
from tsforecast.errors import InputError

__all__ = ["FoldPlan", "check_refit", "fold_panel", "plan_folds", "targets_only"]


def check_refit(refit: Any) -> int:
    """refit -> fit every k folds; k = 0 means only once (first fold)."""
    if isinstance(refit, bool):
        return 1 if refit else 0
    if isinstance(refit, (int, np.integer)) and int(refit) >= 1:
        return int(refit)
    msg = (
        f"`refit` must be True, False or a positive integer (refit every k windows), got {refit!r}."
    )
    raise InputError(msg)


@dataclass(frozen=True)
class FoldPlan:
    """cutoff_idx, start_idx: (S, K) positions of each fold's last and first training value;
    fit_groups: the folds of each fit, the fitted fold first."""

    cutoff_idx: np.ndarray
    start_idx: np.ndarray
    fit_groups: list[list[int]]
    horizon: int
    expanding: bool

    @property
    def n_windows(self) -> int:
        return int(self.cutoff_idx.shape[1])


def plan_folds(
    lengths: np.ndarray,
    horizon: int,
    n_windows: int,
    step: int,
    train_size: int | None,
    refit_every: int,
) -> FoldPlan:
    """The folds of series of the given `lengths` (all long enough: see `min_length`)."""
    back = (n_windows - 1 - np.arange(n_windows)) * step
    cutoff_idx = lengths[:, None] - horizon - back[None, :] - 1  # -> (S, K)
    start_idx = np.zeros_like(cutoff_idx) if train_size is None else cutoff_idx + 1 - train_size
    groups: list[list[int]] = []
    for k in range(n_windows):
        fits = k == 0 if refit_every == 0 else k % refit_every == 0
        if fits or not groups:
            groups.append([k])
        else:
            groups[-1].append(k)
    return FoldPlan(cutoff_idx, start_idx, groups, horizon, train_size is None)


def min_length(horizon: int, n_windows: int, step: int, train_size: int | None) -> int:
    """The shortest series that gives every fold at least two (or `train_size`) values."""
    return (train_size if train_size is not None else 2) + horizon + (n_windows - 1) * step


def fold_panel(panel: Panel, start_idx: np.ndarray, end_idx: np.ndarray) -> Panel:
    """Each series s cut to positions start_idx[s]..end_idx[s] (inclusive)."""
    return panel.steps(start_idx, end_idx)


def targets_only(panel: Panel) -> Panel:
    """The panel without its covariates (for the models that use none)."""
    if not panel.covariate_cols:
        return panel
    return replace(panel.channels(panel.n_targets), covariate_cols=[])
