"""Panel -> (past, future) windows by index arithmetic on the device.

A window is named by its series and its `cutoff_idx`: the position of the LAST OBSERVED step
(inclusive). Its past is `values[s, cutoff_idx - L + 1 : cutoff_idx + 1]` and its future is
`values[s, cutoff_idx + 1 : cutoff_idx + 1 + H, :n_targets]`.

A batch of windows is gathered in one `index_select` from the flattened panel tensor: no Python
loop over windows, no per-sample `Dataset.__getitem__`, no DataLoader workers.

Short histories: when fewer than `input_size` steps lie at or before the cutoff, the past is
LEFT-padded with zeros and `past_mask` is False there, so every window has the same length `L`
and the most recent value always sits at position `L - 1` (what a recurrent encoder needs).
Future steps beyond a series' end are NaN, so they can never be mistaken for data.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from tsforecast.checks import positive_int
from tsforecast.data.ragged import copy_spans
from tsforecast.errors import InputError

__all__ = [
    "WindowPlan",
    "WindowSource",
    "Windows",
    "gather",
    "training_window_index",
]


@dataclass(frozen=True)
class Windows:
    """A batch of windows.

    past: [B, L, C] every channel up to and including the cutoff (zeros where padded).
    past_mask: [B, L] True where `past` holds an observation, False on the left padding.
    future: [B, H, C_target] the targets after the cutoff (NaN beyond the series' end).
    series_idx / cutoff_idx: [B] which series, and the position of its last observed step.
    future_known: [B, H, K] the known-future channels after the cutoff (`WindowSource` with
        `known_channels=K`), else None.
    """

    past: torch.Tensor
    past_mask: torch.Tensor
    future: torch.Tensor
    series_idx: torch.Tensor
    cutoff_idx: torch.Tensor
    future_known: torch.Tensor | None = None

    def __len__(self) -> int:
        return int(self.series_idx.shape[0])


def gather(
    values: torch.Tensor,
    lengths: torch.Tensor,
    series_idx: torch.Tensor,
    cutoff_idx: torch.Tensor,
    input_size: int,
    horizon: int,
    n_targets: int,
) -> Windows:
    """Gather a batch of windows from a padded panel tensor in one indexing call.

    values: [S, T, C]; lengths: [S]; series_idx, cutoff_idx: [B] on the same device.
    """
    n_series, n_steps, n_channels = values.shape
    device = values.device
    series_idx = series_idx.to(device=device, dtype=torch.long)
    cutoff_idx = cutoff_idx.to(device=device, dtype=torch.long)
    flat = values.reshape(n_series * n_steps, n_channels)  # -> (S*T, C)

    # Past and future are two gathers, not one: each stays under torch's parallel grain size
    # for typical batches, and a serial copy beats waking a thread pool on a busy machine.
    past_offsets = torch.arange(-input_size + 1, 1, device=device)  # [L]
    past_pos = cutoff_idx[:, None] + past_offsets  # -> (B, L)
    past_mask = past_pos >= 0
    past_rows = series_idx[:, None] * n_steps + past_pos.clamp(0, n_steps - 1)
    past = flat.index_select(0, past_rows.reshape(-1)).reshape(-1, input_size, n_channels)
    past = past * past_mask[..., None]  # zero the left padding -> (B, L, C)

    future_offsets = torch.arange(1, horizon + 1, device=device)  # [H]
    future_pos = cutoff_idx[:, None] + future_offsets  # -> (B, H)
    future_valid = future_pos < lengths.to(device)[series_idx][:, None]
    future_rows = series_idx[:, None] * n_steps + future_pos.clamp(0, n_steps - 1)
    future = flat[:, :n_targets].index_select(0, future_rows.reshape(-1))
    future = future.reshape(-1, horizon, n_targets)  # -> (B, H, C_target)
    future = future.masked_fill(~future_valid[..., None], float("nan"))
    return Windows(past, past_mask, future, series_idx, cutoff_idx)


@dataclass(frozen=True)
class WindowPlan:
    """A fixed set of windows prepared for `WindowSource.take` (all [N], on the device)."""

    series_idx: torch.Tensor
    cutoff_idx: torch.Tensor
    first: torch.Tensor  # flat position of each window's first element (the source's index dtype)
    n_padded: torch.Tensor  # how many of its L past steps are left padding


class WindowSource:
    """A panel laid out once for the fastest gathering of windows of one (L, H): the hot path.

    The panel is copied once into one flat ragged array: every series as its own segment of
    `L - 1` zeros, its observations, then `H` NaN (memory follows the observations, not
    series x the longest series). The window with cutoff `c` of series `s` then starts at the
    flat row `segment_start[s] + c`, so a batch is one lookup, one add and one 1-D
    `index_select` per side: no clamping, no masking, no multi-dimensional advanced indexing.
    (On a busy two-core machine, torch's multi-dimensional indexing kernels wake the thread
    pool and can stall for milliseconds; the 1-D `index_select` copy stays serial at these
    sizes.) Index arithmetic is in int32 whenever the flat copy has fewer than 2**31 elements
    (half the index memory traffic of int64). Use it in training loops; `gather` gives the same
    windows from a plain panel tensor without the set-up copy.

    Built from a padded tensor (`WindowSource(values, lengths, ...)`) or from ragged storage
    (`WindowSource.from_ragged(data, offsets, ...)`, e.g. a `Panel`'s `data` / `offsets`).
    Cutoffs must lie inside their series (`0 <= cutoff_idx < lengths[s]`): `plan` and `gather`
    refuse others, which would read another series' segment.

    known_channels: the last K channels are known in advance (known-future covariates,
    calendar features): the input holds them for `horizon` steps after each series' end too
    (padded: positions `lengths[s] .. lengths[s] + H - 1`, so values is [S, >= T + H, C];
    ragged: the `H` rows after each series' observations), and every window's `future_known`
    [B, H, K] holds them, from the same `index_select` as `future`.
    """

    def __init__(
        self,
        values: torch.Tensor,
        lengths: torch.Tensor,
        input_size: int,
        horizon: int,
        n_targets: int,
        known_channels: int = 0,
    ) -> None:
        # values: [S, T, C] left-aligned; lengths: [S]
        n_series, n_steps, n_channels = values.shape
        lengths = lengths.to(device=values.device, dtype=torch.long)
        row_start = torch.arange(n_series, device=values.device) * n_steps  # [S]
        n_rows = torch.full_like(lengths, n_steps)  # every series has T rows to read
        self._build(
            values.reshape(n_series * n_steps, n_channels),
            row_start,
            n_rows,
            lengths,
            input_size,
            horizon,
            n_targets,
            known_channels,
        )

    @classmethod
    def from_ragged(
        cls,
        data: torch.Tensor,
        offsets: torch.Tensor,
        input_size: int,
        horizon: int,
        n_targets: int,
        known_channels: int = 0,
        lengths: torch.Tensor | None = None,
    ) -> WindowSource:
        """From ragged storage: series s in `data[offsets[s]:offsets[s + 1]]` ([N, C], [S + 1]).

        `lengths` [S]: the observed rows of each series (default: all its rows); the rows after
        them, up to H, hold its known channels' future values.
        """
        source = cls.__new__(cls)
        offsets = offsets.to(device=data.device, dtype=torch.long)
        n_rows = offsets[1:] - offsets[:-1]
        observed = n_rows if lengths is None else lengths.to(n_rows)
        source._build(
            data, offsets[:-1], n_rows, observed, input_size, horizon, n_targets, known_channels
        )
        return source

    def _build(
        self,
        rows: torch.Tensor,
        row_start: torch.Tensor,
        n_rows: torch.Tensor,
        lengths: torch.Tensor,
        input_size: int,
        horizon: int,
        n_targets: int,
        known_channels: int,
    ) -> None:
        """rows [R, C]: series s's step t at rows[row_start[s] + t] for t < n_rows[s], of
        which the first lengths[s] are observed (all [S], int64, on rows' device)."""
        self.input_size = positive_int("input_size", input_size)
        self.horizon = positive_int("horizon", horizon)
        n_channels = rows.shape[1]
        if not 0 <= known_channels <= n_channels - n_targets:
            msg = (
                f"`known_channels` must be between 0 and the {n_channels - n_targets} channels "
                f"after the {n_targets} targets, got {known_channels}."
            )
            raise InputError(msg)
        if bool((n_rows < lengths).any()):
            msg = "every series needs at least `lengths[s]` rows in the window source's input."
            raise InputError(msg)
        self.n_targets = n_targets
        self.known_channels = known_channels
        self.n_channels = n_channels
        self.lengths = lengths
        device = rows.device
        # segment of series s: L - 1 zeros | its n_s observations | H steps (NaN but the known)
        segment = lengths + (input_size - 1 + horizon)  # [S]
        segment_start = torch.cumsum(segment, 0) - segment  # [S]
        n_flat_rows = int(segment.sum().item())
        flat = rows.new_full((n_flat_rows, n_channels), float("nan"))
        if input_size > 1:
            zeros = (segment_start[:, None] + torch.arange(input_size - 1, device=device)).reshape(
                -1
            )
            flat[zeros] = 0.0
        first_observed = segment_start + input_size - 1  # [S] flat row of each series' step 0
        copy_spans(flat, first_observed, rows, row_start, lengths)
        if known_channels:
            # the known channels' values after each series' end, as far as the input has them
            n_known = torch.clamp(n_rows - lengths, min=0, max=horizon)
            copy_spans(
                flat,
                first_observed + lengths,
                rows,
                row_start + lengths,
                n_known,
                columns=slice(n_channels - known_channels, n_channels),
            )
        self._flat = flat.reshape(-1)  # -> (sum(segment) * C,)
        self.index_dtype = torch.int32 if self._flat.numel() < 2**31 else torch.int64
        self._segment_start = segment_start.to(self.index_dtype)  # [S]
        # 0, 1, 2, ... in the index dtype, to build the offsets from
        count = torch.arange(max(n_channels, input_size + horizon), device=device)
        count = count.to(self.index_dtype)
        future_channels = torch.cat(
            [count[:n_targets], count[n_channels - known_channels : n_channels]]
        )
        # element offsets of every (step, channel) of a window from its first element
        past_offsets = count[:input_size, None] * n_channels + count[:n_channels]
        self._past_offsets = past_offsets.reshape(-1)  # [L * C]
        future_steps = count[input_size : input_size + horizon, None]
        future_offsets = future_steps * n_channels + future_channels
        self._future_offsets = future_offsets.reshape(-1)  # [H * (C_target + K)]
        # row k: the past mask of a window with k padded steps (k = 0..L); a batch's mask is a
        # row lookup, cheaper than comparing B x L positions
        past_steps = torch.arange(input_size, device=device)
        self._mask_rows = (
            past_steps[None, :] >= torch.arange(input_size + 1, device=device)[:, None]
        )

    @property
    def n_bytes(self) -> int:
        """Bytes of the flat copy windows are gathered from."""
        return self._flat.numel() * self._flat.element_size()

    def plan(self, series_idx: torch.Tensor, cutoff_idx: torch.Tensor) -> WindowPlan:
        """Precompute what `take` needs for a fixed set of windows (e.g. all training windows)."""
        self._check_cutoffs(series_idx, cutoff_idx)
        first, n_padded = self._first_and_padding(series_idx, cutoff_idx)
        return WindowPlan(series_idx, cutoff_idx, first, n_padded)

    def take(self, plan: WindowPlan, pick: torch.Tensor | slice) -> Windows:
        """The windows `pick` (positions in `plan` [B], or a slice of it): a training batch."""
        return self._windows(
            plan.first[pick], plan.n_padded[pick], plan.series_idx[pick], plan.cutoff_idx[pick]
        )

    def gather(self, series_idx: torch.Tensor, cutoff_idx: torch.Tensor) -> Windows:
        """The windows (series_idx[b], cutoff_idx[b]); indices on the panel's device."""
        self._check_cutoffs(series_idx, cutoff_idx)
        first, n_padded = self._first_and_padding(series_idx, cutoff_idx)
        return self._windows(first, n_padded, series_idx, cutoff_idx)

    def _check_cutoffs(self, series_idx: torch.Tensor, cutoff_idx: torch.Tensor) -> None:
        lengths = self.lengths.index_select(0, series_idx.to(self.lengths.device, torch.long))
        cutoff = cutoff_idx.to(lengths.device)
        outside = (cutoff < 0) | (cutoff >= lengths)
        if bool(outside.any()):
            b = int(torch.nonzero(outside)[0, 0].item())
            msg = (
                f"{int(outside.sum().item())} windows have a cutoff outside their series (first: "
                f"series {int(series_idx[b])} of length {int(lengths[b])}, cutoff_idx "
                f"{int(cutoff[b])}); a cutoff must be a position 0 .. length - 1."
            )
            raise InputError(msg)

    def _first_and_padding(
        self, series_idx: torch.Tensor, cutoff_idx: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        series = series_idx.to(self.index_dtype)
        cutoff = cutoff_idx.to(self.index_dtype)
        # the window of cutoff c starts at segment row c (original step c - L + 1)
        first = (self._segment_start.index_select(0, series) + cutoff) * self.n_channels  # [N]
        n_padded = (self.input_size - 1 - cutoff).clamp_(0, self.input_size)  # [N]
        return first, n_padded

    def _windows(
        self,
        first: torch.Tensor,
        n_padded: torch.Tensor,
        series_idx: torch.Tensor,
        cutoff_idx: torch.Tensor,
    ) -> Windows:
        # first, n_padded, series_idx, cutoff_idx: [B]
        past = self._flat.index_select(0, (first[:, None] + self._past_offsets).reshape(-1))
        future = self._flat.index_select(0, (first[:, None] + self._future_offsets).reshape(-1))
        future = future.reshape(len(first), self.horizon, self.n_targets + self.known_channels)
        return Windows(
            past.reshape(-1, self.input_size, self.n_channels),  # -> (B, L, C)
            self._mask_rows.index_select(0, n_padded),  # -> (B, L)
            future[..., : self.n_targets],  # -> (B, H, C_target)
            series_idx,
            cutoff_idx,
            future[..., self.n_targets :] if self.known_channels else None,  # -> (B, H, K)
        )


def training_window_index(
    lengths: torch.Tensor,
    input_size: int,
    horizon: int,
    stride: int = 1,
    end_idx: torch.Tensor | None = None,
    min_past: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Every window whose whole future lies inside the series (and at or before `end_idx`).

    Windows are laid out from the end of each series backwards with the given `stride`, so the
    most recent window is always included. `min_past` (default `input_size`) is the least number
    of observed past steps a window needs; below `input_size` the past is left-padded.
    Returns (series_idx [N], cutoff_idx [N]) as int32, ordered by series then time.
    """
    positive_int("input_size", input_size)
    positive_int("horizon", horizon)
    positive_int("stride", stride)
    min_past = input_size if min_past is None else positive_int("min_past", min_past)
    limit = lengths if end_idx is None else torch.minimum(lengths, end_idx.to(lengths) + 1)
    last_cutoff = limit - 1 - horizon  # [S] the future of the last window ends at limit - 1
    first_cutoff = min_past - 1
    counts = torch.where(
        last_cutoff >= first_cutoff,
        torch.div(last_cutoff - first_cutoff, stride, rounding_mode="floor") + 1,
        torch.zeros_like(last_cutoff),
    )
    # window k (0-based, oldest first) of series s has cutoff oldest[s] + k * stride, with
    # oldest[s] = last_cutoff[s] - (n_s - 1) * stride: laid out in ascending order directly,
    # series by series, with no sort. Window j of the whole layout is window j - starts[s] of
    # its series, so its cutoff is j * stride + (oldest[s] - starts[s] * stride): one [N]
    # arange and one [N] gather, updated in place (N reaches 10**8 on 100k long series).
    series = torch.arange(len(lengths), device=lengths.device, dtype=torch.int32)
    series_idx = torch.repeat_interleave(series, counts)  # -> (N,)
    starts = torch.cumsum(counts, 0) - counts  # [S] position of each series' first window
    oldest = last_cutoff - (counts - 1) * stride  # [S]
    cutoff_idx = torch.arange(len(series_idx), device=lengths.device, dtype=torch.int64)
    cutoff_idx.mul_(stride).add_((oldest - starts * stride)[series_idx])  # -> (N,)
    return series_idx, cutoff_idx.to(torch.int32)
