"""Whole series into chunks: contiguous runs of the panel's series, balanced by work.

A chunk is a list of series positions of a validated `Panel`, so a series is never split
(the panel holds each series' rows together, wherever they were in the input), and chunks
taken in order and concatenated give back the panel's series order.
"""

from __future__ import annotations

import numpy as np

__all__ = ["series_chunks"]

# A series costs its observations plus a fixed overhead (building its frame rows, its fold
# slices): without it, a chunk of many short series would be undercounted.
_PER_SERIES_COST = 50


def series_chunks(lengths: np.ndarray, n_chunks: int) -> list[np.ndarray]:
    """Split series 0..S-1 into at most `n_chunks` contiguous, non-empty runs of about equal
    cost (observations + a per-series overhead), in order."""
    n_series = len(lengths)
    if n_series == 0:
        return []
    n_chunks = max(1, min(int(n_chunks), n_series))
    cost = np.cumsum(np.asarray(lengths, dtype=np.float64) + _PER_SERIES_COST)
    # the first series whose cumulative cost reaches each k/n of the total starts a new chunk
    targets = cost[-1] * np.arange(1, n_chunks) / n_chunks
    cuts = np.unique(np.searchsorted(cost, targets, side="left") + 1)
    cuts = cuts[(cuts > 0) & (cuts < n_series)]
    return [part for part in np.split(np.arange(n_series), cuts) if len(part)]
