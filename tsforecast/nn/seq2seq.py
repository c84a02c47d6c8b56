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

from tsforecast.nn.lstm import Highway, PastEncoder, WindowNorm, mlp

__all__ = ["Seq2SeqNet", "Seq2SeqNetConfig"]


@dataclass
class Seq2SeqNetConfig:
    """Sizes of a `Seq2SeqNet`; n_* come from the data."""

    n_targets: int
    n_past_features: int
    n_future_features: int
    input_size: int
    horizon: int
    hidden_size: int = 128
    num_layers: int = 2
    bidirectional: bool = False
    dropout: float = 0.1
    head_layers: int = 1
    head_hidden_size: int = 128
    n_quantiles: int = 1
    patch_size: int = 1
    window_norm: bool = True
    norm_window: int = 24
    highway: bool = True
    median_index: int = 0  # which quantile is fed back to the decoder (the median)


class Seq2SeqNet(nn.Module):
    """Encoder (h, c) -> decoder unrolled over the horizon -> [B, H, C, Q]."""

    def __init__(self, config: Seq2SeqNetConfig) -> None:
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
        if c.bidirectional:
            # forward and backward states of each layer -> the decoder's (h, c) of that layer
            self.project_h: nn.Module | None = nn.Linear(2 * c.hidden_size, c.hidden_size)
            self.project_c: nn.Module | None = nn.Linear(2 * c.hidden_size, c.hidden_size)
        else:
            self.project_h = self.project_c = None
        self.decoder = nn.LSTM(
            input_size=c.n_targets + c.n_future_features,
            hidden_size=c.hidden_size,
            num_layers=c.num_layers,
            batch_first=True,
            dropout=c.dropout if c.num_layers > 1 else 0.0,
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
        mask = past_mask[..., None].to(past_target.dtype)  # -> (B, L, 1)
        if self.norm is not None:
            loc, scale = self.norm(past_target, past_mask)  # -> (B, 1, C) each
            past_target = (past_target - loc) / scale * mask
            if future_target is not None:
                future_target = (future_target - loc) / scale
        parts = [past_target, mask]
        if past_features is not None:
            parts.insert(1, past_features)
        _, (h_n, c_n) = self.encoder(torch.cat(parts, dim=-1))
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
        if self.norm is not None:
            y_hat = y_hat * scale[..., None] + loc[..., None]
        return y_hat
