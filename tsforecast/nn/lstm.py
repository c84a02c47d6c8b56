"""LSTM encoder -> MLP head: the whole horizon at once (`lstm`, and `bilstm` when bidirectional).

Pure `nn.Module`: tensors in, tensors out, no pandas, no device logic. The past side (window
normalisation, the past encoder, the linear highway) is shared with the seq2seq network and
lives in `tsforecast.nn.blocks`.

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

from tsforecast.nn.blocks import (
    ForecastNetConfig,
    Highway,
    encoder_input,
    final_state,
    mlp,
    past_modules,
)

__all__ = ["LSTMNet", "LSTMNetConfig"]


@dataclass
class LSTMNetConfig(ForecastNetConfig):
    """Sizes of an `LSTMNet` (the fields of `ForecastNetConfig`, with its defaults)."""


class LSTMNet(nn.Module):
    """Past window -> LSTM encoder -> final state(s) -> MLP head -> [B, H, C, Q]."""

    def __init__(self, config: LSTMNetConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.norm, self.encoder = past_modules(c)
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
        x, past_target, loc_scale = encoder_input(self.norm, past_target, past_mask, past_features)
        _, (h_n, _) = self.encoder(x)  # h_n: (layers * dirs, B, D)
        # bidirectional: both directions read the past only -> (B, 2D); else (B, D)
        state = final_state(h_n, c.bidirectional)
        if future_features is not None and c.n_future_features:
            state = torch.cat([state, future_features.reshape(batch, -1)], dim=-1)
        y_hat = self.head(state).reshape(batch, c.horizon, c.n_targets, c.n_quantiles)
        if self.highway is not None:
            y_hat = y_hat + self.highway(past_target)[..., None]  # -> (B, H, C, Q)
        if loc_scale is not None:
            loc, scale = loc_scale
            y_hat = y_hat * scale[..., None] + loc[..., None]
        return y_hat
