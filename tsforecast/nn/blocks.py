"""Building blocks shared by the networks of `tsforecast.nn` (pure `nn.Module`s and functions).

- `stacked_lstm`, `final_state`: the LSTM every network is built on and the embedding it reads
  from it (the last layer's final state; forward and backward concatenated when bidirectional).
- `to_patches`: non-overlapping patches of P steps (P x C features per LSTM step).
- `mlp`: the heads.
- `ForecastNetConfig`, `WindowNorm`, `PastEncoder`, `Highway`, `past_modules`, `encoder_input`:
  what the forecasting networks (`lstm`, `seq2seq`) share on the past side of the cutoff.

Shape legend: B batch, L steps, C channels, P patch size, N = ceil(L / P) patches,
D hidden size, H horizon.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

__all__ = [
    "ForecastNetConfig",
    "Highway",
    "PastEncoder",
    "WindowNorm",
    "encoder_input",
    "final_state",
    "mlp",
    "past_modules",
    "stacked_lstm",
    "to_patches",
]

# Lower bound of a window's scale in series-scaled units: a flat window is not blown up.
_MIN_WINDOW_SCALE = 1e-2


def stacked_lstm(
    n_in: int, hidden_size: int, num_layers: int, bidirectional: bool, dropout: float
) -> nn.LSTM:
    """A batch-first LSTM; `dropout` acts between stacked layers only, as torch applies it
    (it warns when given with a single layer, so it is dropped there)."""
    return nn.LSTM(
        input_size=n_in,
        hidden_size=hidden_size,
        num_layers=num_layers,
        batch_first=True,
        dropout=dropout if num_layers > 1 else 0.0,
        bidirectional=bidirectional,
    )


def final_state(h_n: torch.Tensor, bidirectional: bool) -> torch.Tensor:
    """The last layer's final state(s): h_n [layers * dirs, B, D] -> [B, D * dirs].

    Bidirectional: the forward state after the last step and the backward state after reading
    back to the first, concatenated.
    """
    if bidirectional:
        return torch.cat([h_n[-2], h_n[-1]], dim=-1)  # -> (B, 2D)
    return h_n[-1]  # -> (B, D)


def to_patches(x: torch.Tensor, patch_size: int, pad: Literal["left", "right"]) -> torch.Tensor:
    """x [B, L, C] -> [B, N, P * C]: consecutive groups of P steps, zero-padded to N * P steps.

    `pad="left"` for windows that end at a cutoff (the last patch ends there), `"right"` for
    sequences that start at step 0 and end at their own length.
    """
    batch, length, channels = x.shape
    n_patches = -(-length // patch_size)
    n_pad = n_patches * patch_size - length
    if n_pad:
        where = (n_pad, 0) if pad == "left" else (0, n_pad)
        x = nn.functional.pad(x, (0, 0, *where))  # -> (B, N * P, C)
    return x.reshape(batch, n_patches, patch_size * channels)  # -> (B, N, P * C)


def mlp(n_in: int, n_hidden: int, n_out: int, n_layers: int, dropout: float) -> nn.Sequential:
    """`n_layers` hidden ReLU layers (0: a single linear map) then a linear output layer."""
    layers: list[nn.Module] = []
    width = n_in
    for _ in range(n_layers):
        layers += [nn.Linear(width, n_hidden), nn.ReLU(), nn.Dropout(dropout)]
        width = n_hidden
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


# --------------------------------------------------------------------------------------------
# The past side of the forecasting networks
# --------------------------------------------------------------------------------------------


@dataclass
class ForecastNetConfig:
    """Sizes shared by the forecasting networks. n_* come from the data, not the user."""

    n_targets: int
    n_past_features: int
    n_future_features: int
    input_size: int
    horizon: int
    hidden_size: int = 128
    num_layers: int = 2
    bidirectional: bool = False
    dropout: float = 0.1
    head_layers: int = 2
    head_hidden_size: int = 256
    n_quantiles: int = 1
    patch_size: int = 1
    window_norm: bool = True
    norm_window: int = 24
    highway: bool = True


class WindowNorm(nn.Module):
    """Per-window normalisation of the targets (as RevIN / N-BEATS-style level scaling).

    loc: the mean of the last `norm_window` observed steps; scale: the standard deviation over
    the observed past window. Both come from the past only, and the forecast is mapped back with
    the same affine map, so the network learns shapes, not levels, across many series.
    """

    def __init__(self, norm_window: int) -> None:
        super().__init__()
        self.norm_window = norm_window

    def forward(
        self, past_target: torch.Tensor, past_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        # past_target [B, L, C], past_mask [B, L] -> loc, scale [B, 1, C]
        mask = past_mask[..., None].to(past_target.dtype)  # -> (B, L, 1)
        recent = mask.clone()
        recent[:, : -self.norm_window] = 0.0  # only the last `norm_window` steps
        n_recent = recent.sum(1, keepdim=True).clamp_min(1.0)
        loc = (past_target * recent).sum(1, keepdim=True) / n_recent  # -> (B, 1, C)
        n_obs = mask.sum(1, keepdim=True).clamp_min(1.0)
        mean = (past_target * mask).sum(1, keepdim=True) / n_obs
        var = (((past_target - mean) * mask) ** 2).sum(1, keepdim=True) / n_obs
        scale = var.sqrt().clamp_min(_MIN_WINDOW_SCALE)  # -> (B, 1, C)
        return loc, scale


class PastEncoder(nn.Module):
    """A (bidirectional) stacked LSTM over the past window only.

    With `patch_size` P > 1 the window is cut into L / P patches of P consecutive steps (left
    padded with zeros, which the mask channel marks) and the LSTM runs over patches: P times fewer
    recurrent steps, which is what makes long histories affordable on a CPU.
    """

    def __init__(
        self,
        n_features: int,
        input_size: int,
        hidden_size: int,
        num_layers: int,
        bidirectional: bool,
        dropout: float,
        patch_size: int,
    ) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.n_patches = -(-input_size // patch_size)
        self.lstm = stacked_lstm(
            n_features * patch_size, hidden_size, num_layers, bidirectional, dropout
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        # x [B, L, F] -> output [B, N, D * directions], (h_n, c_n) [layers * directions, B, D]
        output, (h_n, c_n) = self.lstm(to_patches(x, self.patch_size, pad="left"))
        return output, (h_n, c_n)


class Highway(nn.Module):
    """A linear map from each target's normalised past to its horizon (LSTNet's highway).

    Shared by all target channels; it starts at zero, so the recurrent part decides first and the
    highway only adds the linear (e.g. seasonal) structure it can capture better.
    """

    def __init__(self, input_size: int, horizon: int) -> None:
        super().__init__()
        self.linear = nn.Linear(input_size, horizon)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def forward(self, past_target: torch.Tensor) -> torch.Tensor:
        # past_target [B, L, C] -> [B, H, C]
        return self.linear(past_target.transpose(1, 2)).transpose(1, 2)


def past_modules(c: ForecastNetConfig) -> tuple[WindowNorm | None, PastEncoder]:
    """The window normalisation (None when off) and the past encoder a forecasting net needs."""
    n_features = c.n_targets + c.n_past_features + 1  # + the observed-mask channel
    norm = WindowNorm(min(c.norm_window, c.input_size)) if c.window_norm else None
    encoder = PastEncoder(
        n_features,
        c.input_size,
        c.hidden_size,
        c.num_layers,
        c.bidirectional,
        c.dropout,
        c.patch_size,
    )
    return norm, encoder


def encoder_input(
    norm: WindowNorm | None,
    past_target: torch.Tensor,
    past_mask: torch.Tensor,
    past_features: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, torch.Tensor] | None]:
    """What a past encoder reads, and the window normalisation that maps the output back.

    past_target [B, L, C], past_mask [B, L], past_features [B, L, P] | None ->
    x [B, L, C + P + 1] (targets | features | mask), the normalised past_target [B, L, C]
    (what the highway reads), and (loc, scale) [B, 1, C] each, or None without `norm`.
    """
    mask = past_mask[..., None].to(past_target.dtype)  # -> (B, L, 1)
    loc_scale = None
    if norm is not None:
        loc, scale = norm(past_target, past_mask)  # -> (B, 1, C) each
        past_target = (past_target - loc) / scale * mask  # padding stays at 0
        loc_scale = (loc, scale)
    parts = [past_target, mask]
    if past_features is not None:
        parts.insert(1, past_features)
    return torch.cat(parts, dim=-1), past_target, loc_scale
