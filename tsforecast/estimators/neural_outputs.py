"""From a network's outputs to forecasts: back to each series' units, then the forecasts frame.

A network forecasts quantiles [N, H, C, Q] (Q = 1 without levels: the median) in scaled units.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from tsforecast.data.panel import Panel
from tsforecast.estimators.output import forecast_frame

__all__ = ["quantile_forecast_frame", "unscale_quantiles"]


def unscale_quantiles(y_hat: torch.Tensor, loc: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """y_hat [N, H, C, Q] scaled -> in the targets' units, float64 on the host, quantiles
    ascending.

    loc, scale: [N, 1, C', ...] with the C targets first (covariates after them are ignored).
    In float64: a forecast at a level of 1e9 keeps a movement of 1, which float32 would round
    to its resolution there (64).
    """
    n_targets = y_hat.shape[2]
    # to the host, then to float64: a copy off MPS (no float64 there) cannot cast on the way
    loc = loc[:, :, :n_targets, None].to("cpu").to(torch.float64)  # -> (N, 1, C, 1)
    scale = scale[:, :, :n_targets, None].to("cpu").to(torch.float64)
    values = y_hat.to("cpu").to(torch.float64)
    # quantiles are learned separately; sorting removes any crossing
    return torch.sort(values * scale + loc, dim=-1).values


def quantile_forecast_frame(
    panel: Panel,
    series_idx: torch.Tensor,
    cutoff_idx: torch.Tensor,
    y_hat: torch.Tensor,
    quantiles: list[float],
    levels: Sequence[float],
    with_cutoff: bool,
) -> Any:
    """y_hat [N, H, C, Q] (at `quantiles`, ascending) -> the forecasts frame of the panel's type.

    The point forecast is the median; each level `l` is the interval between the quantiles
    (1 - l/100) / 2 and 1 - (1 - l/100) / 2.
    """
    values = y_hat.to("cpu").numpy().astype(np.float64)  # -> (N, H, C, Q)
    lo = hi = None
    if levels:
        alphas = [round((1.0 - float(level) / 100.0) / 2.0, 10) for level in levels]
        lo = values[..., [quantiles.index(a) for a in alphas]]  # -> (N, H, C, L)
        hi = values[..., [quantiles.index(round(1.0 - a, 10)) for a in alphas]]
    return forecast_frame(
        panel,
        series_idx.to("cpu").numpy(),
        cutoff_idx.to("cpu").numpy(),
        values[..., quantiles.index(0.5)],
        lo,
        hi,
        levels,
        with_cutoff,
    )
