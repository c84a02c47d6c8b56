"""Reference implementations the fast paths of `tsforecast.nn` are tested against.

Imports torch and the package only, so the GPU tests can use it where only torch is installed.
"""

from __future__ import annotations

import torch

from tsforecast.nn.blocks import encoder_input
from tsforecast.nn.seq2seq import Seq2SeqNet


def per_step_seq2seq(
    net: Seq2SeqNet,
    past_target: torch.Tensor,
    past_mask: torch.Tensor,
    past_features: torch.Tensor | None,
    future_features: torch.Tensor | None,
    future_target: torch.Tensor | None = None,
    teacher_forcing_ratio: float = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """`Seq2SeqNet.forward` as first written: the decoder's `nn.LSTM` called once per step.

    Same inputs and output [B, H, C, Q] as `net(...)`, the same random draws in the same order
    (the teacher-forcing coins from `generator`, dropout from the global generator).
    """
    c = net.config
    batch = past_target.shape[0]
    x, past_target, loc_scale = encoder_input(net.norm, past_target, past_mask, past_features)
    if loc_scale is not None and future_target is not None:
        loc, scale = loc_scale
        future_target = (future_target - loc) / scale
    _, (h_n, c_n) = net.encoder(x)
    state = net._decoder_state(h_n, c_n)
    skip = net.highway(past_target) if net.highway is not None else None
    if c.n_future_features == 0 or future_features is None:
        future_features = past_target.new_zeros(batch, c.horizon, 0)
    use_teacher = future_target is not None and teacher_forcing_ratio > 0.0
    if use_teacher:
        coins = torch.rand((batch, c.horizon, 1), generator=generator, device=x.device)
        is_teacher = coins < teacher_forcing_ratio
    previous = past_target[:, -1]
    steps = []
    for h in range(c.horizon):
        step_in = torch.cat([previous, future_features[:, h]], dim=-1)[:, None]
        out, state = torch.nn.LSTM.forward(net.decoder, step_in, state)  # out: (B, 1, D)
        y_h = net.output(out[:, 0]).reshape(batch, c.n_targets, c.n_quantiles)
        if skip is not None:
            y_h = y_h + skip[:, h, :, None]
        steps.append(y_h)
        previous = y_h[..., c.median_index]
        if use_teacher:
            assert future_target is not None
            previous = torch.where(is_teacher[:, h], future_target[:, h], previous)
    y_hat = torch.stack(steps, dim=1)
    if loc_scale is not None:
        loc, scale = loc_scale
        y_hat = y_hat * scale[..., None] + loc[..., None]
    return y_hat
