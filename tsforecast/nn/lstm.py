"""LSTM encoder -> MLP head: the whole horizon at once (`lstm`, and `bilstm` when bidirectional).

Pure `nn.Module`s: tensors in, tensors out, no pandas, no device logic. The building blocks
shared with the seq2seq model (window normalisation, the past encoder, the linear highway)
live here too, because the seq2seq encoder *is* this encoder.

Inputs, named by their side of the cutoff:
  past_target    [B, L, C]   targets up to and including the cutoff (series-scaled)
  past_mask      [B, L]      True where `past_target` holds an observation (False: left padding)
  past_features  [B, L, P]   other channels known up to the cutoff (past covariates, the
                             history of known-future covariates, calendar features), or None
  future_features[B, H, F]   channels known for the forecast steps, or None
Output: y_hat [B, H, C, Q] in the same scale as `past_target`; Q = 1 (point forecast) or the
number of quantiles the model was built for.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

__all__ = [
    "Highway",
    "LSTMNet",
    "LSTMNetConfig",
    "PastEncoder",
    "WindowNorm",
    "mlp",
]

# Lower bound of a window's scale in series-scaled units: a flat window is not blown up.
_MIN_WINDOW_SCALE = 1e-2


@dataclass
class LSTMNetConfig:
    """Sizes of an `LSTMNet`. The data-dependent ones (n_*) come from the data, not the user."""

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


def mlp(n_in: int, n_hidden: int, n_out: int, n_layers: int, dropout: float) -> nn.Sequential:
    """`n_layers` hidden ReLU layers (0: a single linear map) then a linear output layer."""
    layers: list[nn.Module] = []
    width = n_in
    for _ in range(n_layers):
        layers += [nn.Linear(width, n_hidden), nn.ReLU(), nn.Dropout(dropout)]
        width = n_hidden
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


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
        self.lstm = nn.LSTM(
            input_size=n_features * patch_size,
            hidden_size=hidden_size,
            num_layers=num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
            bidirectional=bidirectional,
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        # x [B, L, F] -> output [B, N, D * directions], (h_n, c_n) [layers * directions, B, D]
        batch, length, n_features = x.shape
        pad = self.n_patches * self.patch_size - length
        if pad:
            x = nn.functional.pad(x, (0, 0, pad, 0))  # left padding -> (B, N * P, F)
        x = x.reshape(batch, self.n_patches, self.patch_size * n_features)  # -> (B, N, P * F)
        output, (h_n, c_n) = self.lstm(x)
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


class LSTMNet(nn.Module):
    """Past window -> LSTM encoder -> final state(s) -> MLP head -> [B, H, C, Q]."""

    def __init__(self, config: LSTMNetConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        n_features = c.n_targets + c.n_past_features + 1  # + the observed-mask channel
        self.norm = WindowNorm(min(c.norm_window, c.input_size)) if c.window_norm else None
        self.encoder = PastEncoder(
            n_features,
            c.input_size,
            c.hidden_size,
            c.num_layers,
            c.bidirectional,
            c.dropout,
            c.patch_size,
        )
        n_state = c.hidden_size * (2 if c.bidirectional else 1)
        self.head = mlp(
            n_state + c.horizon * c.n_future_features,
            c.head_hidden_size,
            c.horizon * c.n_targets * c.n_quantiles,
            c.head_layers,
            c.dropout,
        )
        self.highway = Highway(c.input_size, c.horizon) if c.highway else None

    def forward(
        self,
        past_target: torch.Tensor,
        past_mask: torch.Tensor,
        past_features: torch.Tensor | None = None,
        future_features: torch.Tensor | None = None,
    ) -> torch.Tensor:
        # past_target [B, L, C], past_mask [B, L], past_features [B, L, P] | None,
        # future_features [B, H, F] | None  ->  y_hat [B, H, C, Q]
        c = self.config
        batch = past_target.shape[0]
        mask = past_mask[..., None].to(past_target.dtype)  # -> (B, L, 1)
        if self.norm is not None:
            loc, scale = self.norm(past_target, past_mask)  # -> (B, 1, C) each
            past_target = (past_target - loc) / scale * mask  # padding stays at 0
        parts = [past_target, mask]
        if past_features is not None:
            parts.insert(1, past_features)
        _, (h_n, _) = self.encoder(torch.cat(parts, dim=-1))  # h_n: (layers * dirs, B, D)
        # bidirectional: the last layer's forward and backward final states, both over the past
        # only -> (B, 2D); else the last layer's final state -> (B, D)
        state = torch.cat([h_n[-2], h_n[-1]], dim=-1) if c.bidirectional else h_n[-1]
        if future_features is not None and c.n_future_features:
            state = torch.cat([state, future_features.reshape(batch, -1)], dim=-1)
        y_hat = self.head(state).reshape(batch, c.horizon, c.n_targets, c.n_quantiles)
        if self.highway is not None:
            y_hat = y_hat + self.highway(past_target)[..., None]  # -> (B, H, C, Q)
        if self.norm is not None:
            y_hat = y_hat * scale[..., None] + loc[..., None]
        return y_hat
