"""LSTM encoder-decoder (`seq2seq`): the encoder's final (h, c) start a decoder that unrolls the
horizon one step at a time.

Pure `nn.Module`: tensors in, tensors out. Inputs as in `tsforecast.nn.lstm` plus, for
training, `future_target` [B, H, C] (the teacher) and `teacher_forcing_ratio`: at each decoder step
and for each window the decoder is fed the true previous value with that probability and its own
previous output otherwise. With ratio 0 (and always at inference) it only sees its own outputs,
so training and inference run the very same computation.

Decoder input at step h: the previous target value (the last observed one at h = 0) and the
known-future features of step h (calendar features, known-future covariates).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from tsforecast.nn.blocks import (
    ForecastNetConfig,
    Highway,
    encoder_input,
    mlp,
    past_modules,
    stacked_lstm,
)

__all__ = ["Seq2SeqNet", "Seq2SeqNetConfig"]


@dataclass
class Seq2SeqNetConfig(ForecastNetConfig):
    """Sizes of a `Seq2SeqNet`: those of `ForecastNetConfig` (a smaller per-step head), plus
    which quantile the decoder feeds back to itself."""

    head_layers: int = 1
    head_hidden_size: int = 128
    median_index: int = 0  # which quantile is fed back to the decoder (the median)


class Seq2SeqNet(nn.Module):
    """Encoder (h, c) -> decoder unrolled over the horizon -> [B, H, C, Q]."""

    def __init__(self, config: Seq2SeqNetConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.norm, self.encoder = past_modules(c)
        if c.bidirectional:
            # forward and backward states of each layer -> the decoder's (h, c) of that layer
            self.project_h: nn.Module | None = nn.Linear(2 * c.hidden_size, c.hidden_size)
            self.project_c: nn.Module | None = nn.Linear(2 * c.hidden_size, c.hidden_size)
        else:
            self.project_h = self.project_c = None
        # The decoder runs forward in time only: it unrolls the horizon step by step.
        self.decoder = stacked_lstm(
            c.n_targets + c.n_future_features, c.hidden_size, c.num_layers, False, c.dropout
        )
        self.output = mlp(
            c.hidden_size, c.head_hidden_size, c.n_targets * c.n_quantiles, c.head_layers, c.dropout
        )
        self.highway = Highway(c.input_size, c.horizon) if c.highway else None

    def _decoder_state(
        self, h_n: torch.Tensor, c_n: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        # h_n, c_n [layers * dirs, B, D] -> [layers, B, D]
        if self.project_h is None or self.project_c is None:
            return h_n, c_n
        layers = self.config.num_layers
        batch, hidden = h_n.shape[1], h_n.shape[2]

        def merge(state: torch.Tensor) -> torch.Tensor:
            state = state.reshape(layers, 2, batch, hidden)  # -> (layers, dirs, B, D)
            return torch.cat([state[:, 0], state[:, 1]], dim=-1)  # -> (layers, B, 2D)

        return torch.tanh(self.project_h(merge(h_n))), self.project_c(merge(c_n))

    def forward(
        self,
        past_target: torch.Tensor,
        past_mask: torch.Tensor,
        past_features: torch.Tensor | None = None,
        future_features: torch.Tensor | None = None,
        future_target: torch.Tensor | None = None,
        teacher_forcing_ratio: float = 0.0,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        # past_target [B, L, C], past_mask [B, L], past_features [B, L, P] | None,
        # future_features [B, H, F] | None, future_target [B, H, C] | None -> y_hat [B, H, C, Q]
        c = self.config
        batch = past_target.shape[0]
        x, past_target, loc_scale = encoder_input(self.norm, past_target, past_mask, past_features)
        if loc_scale is not None and future_target is not None:
            loc, scale = loc_scale  # the teacher in the same window scale -> (B, H, C)
            future_target = (future_target - loc) / scale
        _, (h_n, c_n) = self.encoder(x)
        state = self._decoder_state(h_n, c_n)  # (h, c): (layers, B, D) each
        skip = self.highway(past_target) if self.highway is not None else None  # (B, H, C)
        if c.n_future_features == 0 or future_features is None:
            future_features = past_target.new_zeros(batch, c.horizon, 0)

        use_teacher = future_target is not None and teacher_forcing_ratio > 0.0
        if use_teacher and teacher_forcing_ratio >= 1.0:
            assert future_target is not None
            # Fully teacher-forced: every decoder input is known, so one fused LSTM call does
            # the whole horizon (cuDNN on a GPU) instead of H small ones.
            previous = torch.cat([past_target[:, -1:], future_target[:, :-1]], dim=1)  # (B,H,C)
            out, _ = self.decoder(torch.cat([previous, future_features], dim=-1), state)
            y_hat = self.output(out).reshape(batch, c.horizon, c.n_targets, c.n_quantiles)
            if skip is not None:
                y_hat = y_hat + skip[..., None]
        else:
            if use_teacher:
                assert future_target is not None
                # one coin per window and step, drawn up front from the caller's generator
                coins = torch.rand(
                    (batch, c.horizon, 1), generator=generator, device=past_target.device
                )
                is_teacher = coins < teacher_forcing_ratio
            previous = past_target[:, -1]  # -> (B, C) the last observed value
            steps = []
            for h in range(c.horizon):
                step_in = torch.cat([previous, future_features[:, h]], dim=-1)[:, None]
                out, state = self.decoder(step_in, state)  # out: (B, 1, D)
                y_h = self.output(out[:, 0]).reshape(batch, c.n_targets, c.n_quantiles)
                if skip is not None:
                    y_h = y_h + skip[:, h, :, None]
                steps.append(y_h)
                previous = y_h[..., c.median_index]  # own output -> (B, C)
                if use_teacher:
                    assert future_target is not None
                    previous = torch.where(is_teacher[:, h], future_target[:, h], previous)
            y_hat = torch.stack(steps, dim=1)  # -> (B, H, C, Q)
        if loc_scale is not None:
            loc, scale = loc_scale
            y_hat = y_hat * scale[..., None] + loc[..., None]
        return y_hat
