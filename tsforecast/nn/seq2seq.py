"""LSTM encoder-decoder (`seq2seq`): the encoder's final (h, c) start a decoder that unrolls the
horizon one step at a time.

Pure `nn.Module`: tensors in, tensors out. Inputs as in `tsforecast.nn.lstm` plus, for
training, `future_target` [B, H, C] (the teacher) and `teacher_forcing_ratio`: at each decoder step
and for each window the decoder is fed the true previous value with that probability and its own
previous output otherwise. With ratio 0 (and always at inference) it only sees its own outputs,
so training and inference run the very same computation.

Decoder input at step h: the previous target value (the last observed one at h = 0) and the
known-future features of step h (calendar features, known-future covariates). The decoder is an
`nn.LSTM` (its weights are what a saved model holds); fed its own outputs it runs step by step on
those weights (`tsforecast.nn.stepwise`), fully teacher-forced as one `nn.LSTM` call. It and its
per-step head compute in fp32, autocast or not.
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
from tsforecast.nn.stepwise import StepwiseLSTM

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

    def _decode(
        self,
        state: tuple[torch.Tensor, torch.Tensor],
        last: torch.Tensor,
        future_features: torch.Tensor,
        future_target: torch.Tensor | None,
        skip: torch.Tensor | None,
        teacher_forcing_ratio: float,
        generator: torch.Generator | None,
    ) -> torch.Tensor:
        # (h, c) [layers, B, D], last [B, C] (the last observed value), future_features
        # [B, H, F], future_target [B, H, C] | None, skip [B, H, C] | None -> y_hat [B, H, C, Q]
        c = self.config
        batch = last.shape[0]
        use_teacher = future_target is not None and teacher_forcing_ratio > 0.0
        if use_teacher and teacher_forcing_ratio >= 1.0:
            assert future_target is not None
            # Fully teacher-forced: every decoder input is known, so one fused LSTM call does
            # the whole horizon (cuDNN on a GPU) instead of H small ones.
            previous = torch.cat([last[:, None], future_target[:, :-1]], dim=1)  # (B, H, C)
            out, _ = self.decoder(torch.cat([previous, future_features], dim=-1), state)
            y_hat = self.output(out).reshape(batch, c.horizon, c.n_targets, c.n_quantiles)
            return y_hat if skip is None else y_hat + skip[..., None]
        if use_teacher:
            assert future_target is not None
            # one coin per window and step, drawn up front from the caller's generator
            coins = torch.rand((batch, c.horizon, 1), generator=generator, device=last.device)
            is_teacher = coins < teacher_forcing_ratio
        # The decoder's own outputs feed it: one step at a time, on the nn.LSTM's weights, with
        # the known-future features of all steps projected up front. Per-step slices by
        # `unbind` (one backward for all steps, not one zero-filled tensor per step).
        stepper = StepwiseLSTM(self.decoder, c.n_targets, future_features)
        layer_state = list(zip(state[0].unbind(0), state[1].unbind(0), strict=True))
        skips = None if skip is None else skip.unbind(1)  # H x (B, C)
        if use_teacher:
            assert future_target is not None
            teacher, is_teacher_at = future_target.unbind(1), is_teacher.unbind(1)
        previous = last  # -> (B, C)
        steps = []
        for h in range(c.horizon):
            out, layer_state = stepper.step(h, previous, layer_state)  # out: (B, D)
            y_h = self.output(out).reshape(batch, c.n_targets, c.n_quantiles)
            if skips is not None:
                y_h = y_h + skips[h][..., None]
            steps.append(y_h)
            previous = y_h[..., c.median_index]  # own output -> (B, C)
            if use_teacher:
                previous = torch.where(is_teacher_at[h], teacher[h], previous)
        return torch.stack(steps, dim=1)  # -> (B, H, C, Q)

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

        ratio = teacher_forcing_ratio if future_target is not None else 0.0
        # The decoder and its per-step head run in fp32 with autocast off: the LSTM must
        # (`tsforecast.training.precision` says why), and for the head's small per-step matmuls
        # bf16 would only add cast kernels to every step.
        with torch.autocast(device_type=past_target.device.type, enabled=False):
            y_hat = self._decode(
                (state[0].float(), state[1].float()),
                past_target[:, -1].float(),
                future_features.float(),
                None if future_target is None else future_target.float(),
                None if skip is None else skip.float(),
                ratio,
                generator,
            )
        if loc_scale is not None:
            loc, scale = loc_scale
            y_hat = y_hat * scale[..., None] + loc[..., None]
        return y_hat
