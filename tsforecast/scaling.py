"""Per-series scalers, fitted only on the past part of the training range.

`fit_scaler(values, lengths, end_idx=...)` uses positions `t <= end_idx[s]` (and inside the
series) only, so a scaler fitted for a cutoff never sees a value after that cutoff.
`fit_scaler_ragged(data, offsets, ...)` is the same on ragged storage (a `Panel`'s `data` /
`offsets`): it pads a few series at a time, never the whole panel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from tsforecast.data.ragged import padded_from_ragged
from tsforecast.errors import InputError

__all__ = ["Scaler", "ScalerMethod", "fit_scaler", "fit_scaler_ragged"]

ScalerMethod = Literal["standard", "robust", "none"]
_METHODS = ("standard", "robust", "none")
# A series whose spread on its training range is below this fraction of its largest |value| is
# treated as constant: float32 resolves about 1.2e-7 of a value; float64 values (the panel's
# exact inputs, which the neural models scale) resolve far less, and 1e-12 leaves room for the
# rounding of values computed upstream (0.1 + 0.2 against 0.3). The test is relative so that a
# series of values around 1e-9 keeps its own spread instead of being called constant, and a
# level of 1e9 moving by 1 (a relative spread of 1e-9) is not called constant in float64.
_CONSTANT_REL_SPREAD = {torch.float32: float(torch.finfo(torch.float32).eps), torch.float64: 1e-12}
_QUANTILE_MAX_ELEMENTS = 2**24
# `fit_scaler_ragged` pads at most this many cells at a time (16 MB of float32)
_RAGGED_CHUNK_CELLS = 2**22


@dataclass(frozen=True)
class Scaler:
    """loc and scale per series and channel: [S, 1, C]. `x_scaled = (x - loc) / scale`."""

    method: ScalerMethod
    loc: torch.Tensor
    scale: torch.Tensor

    def _params(
        self, x: torch.Tensor, series_idx: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        # x: [S or B, T, C'] or quantile outputs [S or B, H, C', Q]: the channel axis is 2 (or
        # the last for 2-d input); only the first C' channels (targets come first) are used.
        n_channels = x.shape[2] if x.ndim >= 3 else x.shape[-1]
        loc, scale = self.loc[..., :n_channels], self.scale[..., :n_channels]
        if series_idx is not None:
            loc, scale = loc[series_idx], scale[series_idx]  # -> (B, 1, C')
        extra_dims = x.ndim - loc.ndim
        if extra_dims > 0:  # e.g. quantile outputs [B, H, C, Q]: broadcast over the last dims
            loc = loc.reshape(*loc.shape, *([1] * extra_dims))
            scale = scale.reshape(*scale.shape, *([1] * extra_dims))
        return loc.to(x), scale.to(x)

    def transform(self, x: torch.Tensor, series_idx: torch.Tensor | None = None) -> torch.Tensor:
        """Scale `x` [S, T, C'] (or [B, T, C'] with `series_idx` [B])."""
        loc, scale = self._params(x, series_idx)
        return (x - loc) / scale

    def inverse_transform(
        self, x: torch.Tensor, series_idx: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Undo `transform` exactly (up to float rounding)."""
        loc, scale = self._params(x, series_idx)
        return x * scale + loc

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"loc": self.loc.detach().cpu(), "scale": self.scale.detach().cpu()}

    @classmethod
    def from_state_dict(
        cls,
        method: ScalerMethod,
        state: dict[str, torch.Tensor],
        device: torch.device | str = "cpu",
    ) -> Scaler:
        return cls(method, state["loc"].to(device), state["scale"].to(device))


def fit_scaler(
    values: torch.Tensor,
    lengths: torch.Tensor,
    method: ScalerMethod = "standard",
    end_idx: torch.Tensor | None = None,
) -> Scaler:
    """Fit per-series statistics on `values` [S, T, C] at positions `t <= end_idx[s]` only.

    standard: mean / standard deviation. robust: median / inter-quartile range (falling back to
    the standard deviation for a series whose IQR is 0). A constant series gets scale
    min(1, |mean|) (1 when its mean is 0). The statistics are scale-equivariant: a series times
    1e-9 or 1e20 gets the same loc and scale times that factor. none: loc 0, scale 1.
    """
    if method not in _METHODS:
        msg = f"`scaler` must be one of {list(_METHODS)}, got {method!r}."
        raise InputError(msg)
    n_series, n_steps, n_channels = values.shape
    if method == "none":
        zeros = values.new_zeros((n_series, 1, n_channels))
        return Scaler(method, zeros, torch.ones_like(zeros))
    limit = lengths if end_idx is None else torch.minimum(lengths, end_idx.to(lengths) + 1)
    positions = torch.arange(n_steps, device=values.device)
    mask = positions[None, :] < limit[:, None]  # -> (S, T) the training past of each series
    mask3 = mask[..., None].to(values.dtype)
    count = mask3.sum(dim=1, keepdim=True).clamp_min(1.0)  # -> (S, 1, 1)
    # Statistics are taken of x / magnitude (|.| <= 1), magnitude being the largest |x| of each
    # series' training past, then scaled back: squares of values above ~1e19 overflow float32
    # (a scale of inf, forecasts of +-inf) and squares below ~1e-19 underflow to 0.
    magnitude = torch.where(mask[..., None], values.abs(), torch.zeros_like(values))
    magnitude = magnitude.amax(dim=1, keepdim=True)  # -> (S, 1, C)
    magnitude = torch.where(magnitude > 0, magnitude, torch.ones_like(magnitude))
    unit = torch.where(mask[..., None], values / magnitude, torch.zeros_like(values))
    unit_mean = unit.sum(dim=1, keepdim=True) / count  # -> (S, 1, C)
    unit_std = ((((unit - unit_mean) * mask3) ** 2).sum(dim=1, keepdim=True) / count).sqrt()
    mean = unit_mean * magnitude
    constant_below = _CONSTANT_REL_SPREAD.get(values.dtype, _CONSTANT_REL_SPREAD[torch.float32])
    # a constant series gets scale min(1, |level|): 1 as before for a level of 1 or more (so
    # an untrained network's output is not magnified), but never larger than the level itself,
    # so a constant series of 1e-9s is not forecast in units of 1.
    constant_scale = torch.where(mean.abs() > 0, mean.abs().clamp_max(1.0), torch.ones_like(mean))
    std_or_constant = torch.where(unit_std > constant_below, unit_std * magnitude, constant_scale)
    if method == "standard":
        return Scaler(method, mean, std_or_constant)
    masked = torch.where(mask[..., None], unit, torch.full_like(values, float("nan")))
    # float64 stays float64 (a level of 1e9 moving by 1 is 1e-9 of its magnitude); lower
    # precisions go through float32, which nanquantile needs
    quantile_dtype = torch.float64 if values.dtype == torch.float64 else torch.float32
    probs = torch.tensor([0.25, 0.5, 0.75], device=values.device, dtype=quantile_dtype)
    # torch's quantile refuses inputs over 2**24 elements: go through the series in chunks
    per_chunk = max(1, _QUANTILE_MAX_ELEMENTS // max(1, n_steps * n_channels))
    quantiles = torch.cat(
        [
            torch.nanquantile(
                masked[lo : lo + per_chunk].to(quantile_dtype), probs, dim=1, keepdim=True
            )
            for lo in range(0, n_series, per_chunk)
        ],
        dim=1,
    ).to(values.dtype)  # -> (3, S, 1, C)
    median = torch.nan_to_num(quantiles[1]) * magnitude
    unit_iqr = torch.nan_to_num(quantiles[2] - quantiles[0])
    return Scaler(
        method,
        median,
        torch.where(unit_iqr > constant_below, unit_iqr * magnitude, std_or_constant),
    )


def fit_scaler_ragged(
    data: torch.Tensor,
    offsets: torch.Tensor,
    method: ScalerMethod = "standard",
    end_idx: torch.Tensor | None = None,
    n_steps: int | None = None,
) -> Scaler:
    """`fit_scaler` on ragged storage: series s is `data[offsets[s]:offsets[s + 1]]` ([N, C],
    [S + 1]); statistics use its positions `t <= end_idx[s]` only.

    The series are padded a chunk at a time (at most `_RAGGED_CHUNK_CELLS` cells) to `n_steps`
    positions (default: the longest series), the width the padded panel had, so each series'
    statistics are computed exactly as `fit_scaler(padded_panel, ...)` computes them.
    """
    if method not in _METHODS:
        msg = f"`scaler` must be one of {list(_METHODS)}, got {method!r}."
        raise InputError(msg)
    lengths = offsets[1:] - offsets[:-1]  # [S]
    n_series, n_channels = len(lengths), data.shape[1]
    if method == "none" or n_series == 0:
        zeros = data.new_zeros((n_series, 1, n_channels))
        return Scaler(method, zeros, torch.ones_like(zeros))
    if n_steps is None:
        n_steps = int(lengths.max().item())
    per_chunk = max(1, _RAGGED_CHUNK_CELLS // max(1, n_steps * n_channels))
    locs, scales = [], []
    for lo in range(0, n_series, per_chunk):
        hi = min(lo + per_chunk, n_series)
        values = padded_from_ragged(data, offsets[lo : hi + 1], n_steps)  # -> (b, T, C)
        part = fit_scaler(
            values,
            lengths[lo:hi],
            method,
            end_idx=None if end_idx is None else end_idx[lo:hi],
        )
        locs.append(part.loc)
        scales.append(part.scale)
    return Scaler(method, torch.cat(locs), torch.cat(scales))
