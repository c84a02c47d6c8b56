"""Whole series into chunks of about equal work, series of like lengths together.

A chunk is an array of series positions of a validated `Panel` (ascending), so a series is
never split: the panel holds each series' rows together, wherever they were in the input.
Series are grouped by length, because the vectorised fits (theta) and the fold slices pad a
chunk to its longest series: a chunk of short series then costs what its observations cost,
not its count times the longest length. `in_panel_order` puts the chunks' rows back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["in_panel_order", "series_chunks"]

# A series costs its observations plus a fixed overhead (building its frame rows, its fold
# slices): without it, a chunk of many short series would be undercounted.
_PER_SERIES_COST = 50


def series_chunks(lengths: np.ndarray, n_chunks: int) -> list[np.ndarray]:
    """Series 0..S-1 in at most `n_chunks` non-empty chunks of about equal cost
    (observations + a per-series overhead), each of series of like lengths, positions sorted."""
    lengths = np.asarray(lengths)
    n_series = len(lengths)
    if n_series == 0:
        return []
    n_chunks = max(1, min(int(n_chunks), n_series))
    by_length = np.argsort(lengths, kind="stable")
    cost = np.cumsum(lengths[by_length].astype(np.float64) + _PER_SERIES_COST)
    # the first series whose cumulative cost reaches each k/n of the total starts a new chunk
    targets = cost[-1] * np.arange(1, n_chunks) / n_chunks
    cuts = np.unique(np.searchsorted(cost, targets, side="left") + 1)
    cuts = cuts[(cuts > 0) & (cuts < n_series)]
    return [np.sort(part) for part in np.split(by_length, cuts) if len(part)]


def in_panel_order(frame_ids: Any, panel_ids: Sequence[Any]) -> np.ndarray:
    """The row order that sorts a frame's rows by their series' panel position, stably (the
    rows of one series keep their order): `frame.iloc[in_panel_order(frame[id_col], ids)]`."""
    index = pd.Index(np.asarray(list(panel_ids), dtype=object))
    positions = index.get_indexer(np.asarray(frame_ids, dtype=object))
    if (positions < 0).any():
        msg = "a chunk returned rows of a series that is not in the panel"
        raise RuntimeError(msg)
    return np.argsort(positions, kind="stable")
