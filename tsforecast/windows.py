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
from tsforecast.data.panel import Panel
from tsforecast.errors import InputError

__all__ = [
    "WindowPlan",
    "WindowSource",
    "Windows",
    "cutoff_windows",
    "gather",
    "last_windows",
    "training_window_index",
]


@dataclass(frozen=True)
class Windows:
    """A batch of windows.

    past: [B, L, C] every channel up to and including the cutoff (zeros where padded).
    past_mask: [B, L] True where `past` holds an observation, False on the left padding.
    future: [B, H, C_target] the targets after the cutoff (NaN beyond the series' end).
    series_idx / cutoff_idx: [B] which series, and the position of its last observed step.
    """

    past: torch.Tensor
    past_mask: torch.Tensor
    future: torch.Tensor
    series_idx: torch.Tensor
    cutoff_idx: torch.Tensor

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
    first: torch.Tensor  # flat position of each window's first element
    n_padded: torch.Tensor  # how many of its L past steps are left padding


class WindowSource:
    """A panel laid out once for the fastest gathering of windows of one (L, H): the hot path.

    The panel is copied once, flattened, with `L - 1` zeros before every series and NaN after
    its end. The window with cutoff `c` of series `s` then starts at the flat row `s * P + c`
    (P: padded length), so a batch is one add and one 1-D `index_select` per side: no clamping,
    no masking, no multi-dimensional advanced indexing. (On a busy two-core machine, torch's
    multi-dimensional indexing kernels wake the thread pool and can stall for milliseconds;
    the 1-D `index_select` copy stays serial at these sizes.) Use it in training loops;
    `gather` gives the same windows from a plain panel tensor without the set-up copy.
    """

    def __init__(
        self,
        values: torch.Tensor,
        lengths: torch.Tensor,
        input_size: int,
        horizon: int,
        n_targets: int,
    ) -> None:
        self.input_size = positive_int("input_size", input_size)
        self.horizon = positive_int("horizon", horizon)
        self.n_targets = n_targets
        n_series, n_steps, n_channels = values.shape
        self.n_channels = n_channels
        device = values.device
        observed = torch.arange(n_steps, device=device)[None, :] < lengths.to(device)[:, None]
        body = values.masked_fill(~observed[..., None], float("nan"))  # -> (S, T, C)
        padded = torch.cat(
            [
                values.new_zeros((n_series, input_size - 1, n_channels)),
                body,
                values.new_full((n_series, horizon, n_channels), float("nan")),
            ],
            dim=1,
        )  # -> (S, P, C) with P = L - 1 + T + H
        self._padded_length = padded.shape[1]
        self._flat = padded.reshape(-1)  # -> (S * P * C,)
        steps_past = torch.arange(input_size, device=device)
        steps_future = torch.arange(input_size, input_size + horizon, device=device)
        # element offsets of every (step, channel) of a window from its first element
        self._past_offsets = (
            steps_past[:, None] * n_channels + torch.arange(n_channels, device=device)
        ).reshape(-1)  # [L * C]
        self._future_offsets = (
            steps_future[:, None] * n_channels + torch.arange(n_targets, device=device)
        ).reshape(-1)  # [H * C_target]
        # row k: the past mask of a window with k padded steps (k = 0..L); a batch's mask is a
        # row lookup, cheaper than comparing B x L positions
        steps = torch.arange(input_size, device=device)
        self._mask_rows = steps[None, :] >= torch.arange(input_size + 1, device=device)[:, None]

    def plan(self, series_idx: torch.Tensor, cutoff_idx: torch.Tensor) -> WindowPlan:
        """Precompute what `take` needs for a fixed set of windows (e.g. all training windows)."""
        # the window of cutoff c starts at padded step c (original step c - L + 1)
        first = (series_idx * self._padded_length + cutoff_idx) * self.n_channels  # [N]
        n_padded = (self.input_size - 1 - cutoff_idx).clamp(0, self.input_size)  # [N]
        return WindowPlan(series_idx, cutoff_idx, first, n_padded)

    def take(self, plan: WindowPlan, pick: torch.Tensor) -> Windows:
        """The windows `pick` [B] (positions in `plan`): the training loop's batch, fewest ops."""
        first = plan.first[pick]  # [B]
        past = self._flat.index_select(0, (first[:, None] + self._past_offsets).reshape(-1))
        future = self._flat.index_select(0, (first[:, None] + self._future_offsets).reshape(-1))
        return Windows(
            past.reshape(-1, self.input_size, self.n_channels),  # -> (B, L, C)
            self._mask_rows.index_select(0, plan.n_padded[pick]),  # -> (B, L)
            future.reshape(-1, self.horizon, self.n_targets),  # -> (B, H, C_target)
            plan.series_idx[pick],
            plan.cutoff_idx[pick],
        )

    def gather(self, series_idx: torch.Tensor, cutoff_idx: torch.Tensor) -> Windows:
        """The windows (series_idx[b], cutoff_idx[b]); indices on the panel's device."""
        # the window of cutoff c starts at padded step c (original step c - L + 1)
        first = (series_idx * self._padded_length + cutoff_idx) * self.n_channels  # [B]
        past_idx = first[:, None] + self._past_offsets  # -> (B, L * C)
        future_idx = first[:, None] + self._future_offsets  # -> (B, H * C_target)
        past = self._flat.index_select(0, past_idx.reshape(-1))
        past = past.reshape(-1, self.input_size, self.n_channels)  # -> (B, L, C)
        future = self._flat.index_select(0, future_idx.reshape(-1))
        future = future.reshape(-1, self.horizon, self.n_targets)  # -> (B, H, C_target)
        n_padded = (self.input_size - 1 - cutoff_idx).clamp_(0, self.input_size)  # [B]
        past_mask = self._mask_rows.index_select(0, n_padded)  # -> (B, L)
        return Windows(past, past_mask, future, series_idx, cutoff_idx)


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
    Returns (series_idx [N], cutoff_idx [N]), ordered by series then time.
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
    series = torch.arange(len(lengths), device=lengths.device)
    series_idx = torch.repeat_interleave(series, counts)  # -> (N,)
    starts = torch.cumsum(counts, 0) - counts
    rank_from_end = torch.arange(len(series_idx), device=lengths.device) - starts[series_idx]
    cutoff_idx = last_cutoff[series_idx] - rank_from_end * stride
    order = torch.argsort(series_idx * (int(lengths.max().item()) + 1) + cutoff_idx)
    return series_idx[order], cutoff_idx[order]


def cutoff_windows(
    panel: Panel, cutoff_idx: torch.Tensor, input_size: int, horizon: int
) -> Windows:
    """The windows that end at given cutoffs: cutoff_idx is [S] (one per series) or [S, K]."""
    cutoff_idx = torch.as_tensor(cutoff_idx, device=panel.device, dtype=torch.long)
    if cutoff_idx.ndim == 1:
        cutoff_idx = cutoff_idx[:, None]
    if cutoff_idx.shape[0] != panel.n_series:
        msg = (
            f"`cutoff_idx` needs one row per series ({panel.n_series}), got shape "
            f"{tuple(cutoff_idx.shape)}."
        )
        raise InputError(msg)
    beyond = cutoff_idx >= panel.lengths[:, None]
    if bool(beyond.any()) or bool((cutoff_idx < 0).any()):
        msg = "every cutoff must lie inside its series (0 <= cutoff_idx < length)."
        raise InputError(msg)
    n_cutoffs = cutoff_idx.shape[1]
    series_idx = torch.arange(panel.n_series, device=panel.device).repeat_interleave(n_cutoffs)
    return gather(
        panel.values,
        panel.lengths,
        series_idx,
        cutoff_idx.reshape(-1),
        input_size,
        horizon,
        panel.n_targets,
    )


def last_windows(panel: Panel, input_size: int, horizon: int) -> Windows:
    """The window whose past ends at each series' last observation (for prediction)."""
    return cutoff_windows(panel, panel.lengths - 1, input_size, horizon)
