"""Ragged storage: many series of different lengths in one array, CSR-like.

Series `s` occupies rows `offsets[s] : offsets[s + 1]` of a `[N_obs, C]` array, so memory
follows the number of observations, not series x the longest series. Everything here is
index arithmetic on the array's device: no Python loop over series, no argsort.

`SeriesTimes` is the same layout for the time stamps: one flat index and the offsets, with
`times[s]` a cheap slice, instead of one `pd.Index` object per series.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

import numpy as np
import pandas as pd
import torch

__all__ = [
    "SeriesTimes",
    "concat_times",
    "copy_spans",
    "offsets_from_lengths",
    "padded_from_ragged",
    "ragged_from_padded",
    "series_blocks",
    "take_spans",
]

# Rows copied per block by `copy_spans`: bounds its int64 index temporaries (~48 MB) whatever
# the panel's size.
_ROWS_PER_BLOCK = 1 << 21


def offsets_from_lengths(lengths: torch.Tensor) -> torch.Tensor:
    """[S + 1] int64 offsets of series of the given lengths [S], laid out one after the other."""
    offsets = torch.zeros(len(lengths) + 1, dtype=torch.long, device=lengths.device)
    torch.cumsum(lengths.to(torch.long), 0, out=offsets[1:])
    return offsets


def copy_spans(
    dst: torch.Tensor,
    dst_start: torch.Tensor,
    src: torch.Tensor,
    src_start: torch.Tensor,
    counts: torch.Tensor,
    columns: slice = slice(None),
) -> None:
    """`dst[dst_start[s] + k, columns] = src[src_start[s] + k, columns]` for `k < counts[s]`.

    dst: [R_dst, C]; src: [R_src, C]; dst_start, src_start, counts: [S] int64 on their device.
    Spans must lie inside both arrays. Runs in blocks of whole series (about `_ROWS_PER_BLOCK`
    rows each), one indexed copy per block.
    """
    counts = counts.to(torch.long)
    device = dst.device
    for a, b in series_blocks(counts):
        block = counts[a:b].to(device)
        n_rows = int(block.sum().item())
        if n_rows == 0:
            continue
        local = torch.repeat_interleave(torch.arange(b - a, device=device), block)  # -> (n,)
        step = torch.arange(n_rows, device=device) - (torch.cumsum(block, 0) - block)[local]
        rows_from = src_start[a:b].to(device)[local] + step
        rows_to = dst_start[a:b].to(device)[local] + step
        dst[rows_to, columns] = src[rows_from.to(src.device), columns].to(device)


def series_blocks(
    counts: torch.Tensor, rows_per_block: int = _ROWS_PER_BLOCK
) -> list[tuple[int, int]]:
    """Consecutive series ranges `(a, b)` covering all `len(counts)` series, each of about
    `rows_per_block` rows (`counts` [S]: each series' rows): work on whole series, bounded
    temporaries."""
    if len(counts) == 0:
        return []
    ends = torch.cumsum(counts.to(torch.long), 0).cpu().numpy()
    # series boundaries of the blocks: a block ends after the series crossing each multiple
    cuts = np.searchsorted(ends, np.arange(rows_per_block, int(ends[-1]), rows_per_block))
    bounds = np.unique(np.r_[0, np.minimum(cuts + 1, len(counts)), len(counts)])
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))


def take_spans(
    data: torch.Tensor, offsets: torch.Tensor, start: torch.Tensor, counts: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows `start[s] .. start[s] + counts[s] - 1` of each series s as a new ragged array.

    data: [N, C]; offsets: [S + 1]; start, counts: [S] (positions inside each series).
    Returns (data [sum(counts), C], offsets [S + 1]).
    """
    counts = counts.to(device=offsets.device, dtype=torch.long)
    new_offsets = offsets_from_lengths(counts)
    out = data.new_empty((int(new_offsets[-1].item()), data.shape[1]))
    src_start = offsets[:-1] + start.to(device=offsets.device, dtype=torch.long)
    copy_spans(out, new_offsets[:-1], data, src_start, counts)
    return out, new_offsets


def padded_from_ragged(
    data: torch.Tensor, offsets: torch.Tensor, n_steps: int | None = None, fill: float = 0.0
) -> torch.Tensor:
    """[S, T, C] left-aligned copy (`fill` after each series' end); T: the longest by default."""
    lengths = offsets[1:] - offsets[:-1]
    n_series, n_channels = len(lengths), data.shape[1]
    if n_steps is None:
        n_steps = int(lengths.max().item()) if n_series else 0
    padded = data.new_full((n_series * n_steps, n_channels), fill)
    row_start = torch.arange(n_series, device=offsets.device) * n_steps
    copy_spans(padded, row_start, data, offsets[:-1], lengths.clamp(max=n_steps))
    return padded.reshape(n_series, n_steps, n_channels)


def ragged_from_padded(
    values: torch.Tensor, lengths: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(data [sum(lengths), C], offsets [S + 1]) of a left-aligned padded [S, T, C] tensor."""
    n_series, n_steps, n_channels = values.shape
    lengths = lengths.to(device=values.device, dtype=torch.long)
    offsets = offsets_from_lengths(lengths)
    data = values.new_empty((int(offsets[-1].item()), n_channels))
    row_start = torch.arange(n_series, device=values.device) * n_steps
    copy_spans(
        data, offsets[:-1], values.reshape(n_series * n_steps, n_channels), row_start, lengths
    )
    return data, offsets


class SeriesTimes(Sequence[pd.Index]):
    """Every series' time stamps: `flat` holds them series after series, `offsets` [S + 1]
    where each series starts; `times[s]` is series s's stamps as a `pd.Index` slice.

    A sequence like the list of per-series indexes it replaces, without its S objects.
    """

    def __init__(self, flat: pd.Index, offsets: np.ndarray) -> None:
        self.flat = flat
        self.offsets = np.asarray(offsets, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @overload
    def __getitem__(self, index: int) -> pd.Index: ...

    @overload
    def __getitem__(self, index: slice) -> list[pd.Index]: ...

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        s = int(index)
        if s < 0:
            s += len(self)
        if not 0 <= s < len(self):
            msg = f"series position {index} is out of range for {len(self)} series."
            raise IndexError(msg)
        return self.flat[self.offsets[s] : self.offsets[s + 1]]

    def __iter__(self) -> Iterator[pd.Index]:
        for s in range(len(self)):
            yield self.flat[self.offsets[s] : self.offsets[s + 1]]

    def at(self, series_idx: np.ndarray, position_idx: np.ndarray) -> pd.Index:
        """The stamps at `position_idx[i]` of series `series_idx[i]` (vectorised)."""
        rows = self.offsets[np.asarray(series_idx, dtype=np.int64)] + np.asarray(
            position_idx, dtype=np.int64
        )
        return self.flat[rows]

    def last(self) -> pd.Index:
        """Every series' last stamp, [S]."""
        return self.flat[self.offsets[1:] - 1]

    def select(self, series: Sequence[int]) -> SeriesTimes:
        """The stamps of the given series (by position), in that order."""
        positions = np.asarray(series, dtype=np.int64)
        lengths = np.diff(self.offsets)[positions]
        offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)
        rows = np.arange(offsets[-1]) - np.repeat(offsets[:-1], lengths)
        rows += np.repeat(self.offsets[positions], lengths)
        return SeriesTimes(self.flat[rows], offsets)

    def spans(self, start: np.ndarray, counts: np.ndarray) -> SeriesTimes:
        """Positions `start[s] .. start[s] + counts[s] - 1` of each series."""
        counts = np.asarray(counts, dtype=np.int64)
        offsets = np.r_[0, np.cumsum(counts)].astype(np.int64)
        rows = np.arange(offsets[-1]) - np.repeat(offsets[:-1], counts)
        rows += np.repeat(self.offsets[:-1] + np.asarray(start, dtype=np.int64), counts)
        return SeriesTimes(self.flat[rows], offsets)


def concat_times(times: Sequence[pd.Index]) -> pd.Index:
    """Every series' stamps one after the other (`SeriesTimes` already holds them so)."""
    if isinstance(times, SeriesTimes) and times.offsets[0] == 0:
        return times.flat[: times.offsets[-1]]
    if len(times) == 0:
        return pd.Index([])
    return times[0].append(list(times[1:])) if len(times) > 1 else times[0]
