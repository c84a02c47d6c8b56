"""A stacked `nn.LSTM` run one step at a time on its own weights, with few launches per step.

The seq2seq decoder feeds its own output back as the next step's input, so it cannot hand the
whole horizon to one `nn.LSTM` call; calling `nn.LSTM` once per step costs a full cuDNN set-up
per step (weight checks and, under autocast, a copy of every weight). `StepwiseLSTM` instead:
- projects the inputs known in advance (the known-future features of every step) for all steps
  and layer 0 in one matmul, with both biases folded in;
- per step: in layer 0 one matmul for the value fed back and the recurrent state together, in
  each layer above one for the layer below and one recurrent matmul; the gate arithmetic is one
  fused kernel on CUDA (`aten::_thnn_fused_lstm_cell`, the one `nn.LSTMCell` uses) and a few
  elementwise ops elsewhere.
It computes what `nn.LSTM` computes, in fp32 with autocast off (`tsforecast.training.precision`
says why), and owns no parameters: saved models keep `nn.LSTM`'s `state_dict`.

Shape legend: B batch, H steps, K inputs fed back per step, F known inputs per step,
D hidden size, G = 4 D gates (input, forget, cell, output: `nn.LSTM`'s order).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["StepwiseLSTM"]


def _gate_arithmetic(gates: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    # gates [B, G] (every term summed), c [B, D] -> h, c [B, D]; nn.LSTM's arithmetic.
    hidden = c.shape[1]
    i, f, _, o = gates.sigmoid().chunk(4, dim=1)  # one sigmoid for the three sigmoid gates
    g = gates[:, 2 * hidden : 3 * hidden].tanh()
    c = torch.addcmul(f * c, i, g)
    return o * c.tanh(), c


def _param(lstm: nn.LSTM, name: str) -> torch.Tensor:
    weight: torch.Tensor = getattr(lstm, name)
    return weight


class StepwiseLSTM:
    """One forward pass of a unidirectional, batch-first `nn.LSTM`, step by step.

    Built per forward pass: it holds views of `lstm`'s weights (so gradients reach its
    parameters) and layer 0's gates for the known inputs of every step. Layer 0's input at step
    t is `[fed_back_t, known[:, t]]` (K + F columns, the order `lstm` was built with); the
    layers' `dropout` acts between them in training, as in `nn.LSTM`.
    """

    def __init__(self, lstm: nn.LSTM, n_fed_back: int, known: torch.Tensor) -> None:
        # known [B, H, F] (F may be 0)
        if lstm.bidirectional or not lstm.batch_first or lstm.proj_size or not lstm.bias:
            msg = "StepwiseLSTM runs unidirectional, batch-first LSTMs with biases only"
            raise ValueError(msg)
        self.num_layers = lstm.num_layers
        self.dropout = float(lstm.dropout) if lstm.training else 0.0
        # One fused kernel for the gate arithmetic (and one for its backward) where there is
        # one: `aten::_thnn_fused_lstm_cell`, what `nn.LSTMCell` runs on CUDA.
        self.fused = known.is_cuda
        w_ih0 = _param(lstm, "weight_ih_l0")  # (G, K + F)
        w_hh0 = _param(lstm, "weight_hh_l0")  # (G, D)
        # Layer 0's fed-back and recurrent inputs share one matmul per step.
        self.w_step0_t = torch.cat([w_ih0[:, :n_fed_back], w_hh0], dim=1).t()  # -> (K + D, G)
        bias0 = _param(lstm, "bias_ih_l0") + _param(lstm, "bias_hh_l0")  # -> (G,)
        batch, horizon, n_known = known.shape
        # Layer 0's gates from the known inputs, one (B, G) tensor per step. `unbind`, not
        # indexing: its backward is one stack, where each index's backward would zero-fill a
        # whole (H, B, G) tensor.
        self.known_gates: list[torch.Tensor]
        if n_known:
            # Every step's known inputs through layer 0 in one matmul, time-major so that
            # step t is one contiguous (B, G) block.
            gates = nn.functional.linear(known.transpose(0, 1), w_ih0[:, n_fed_back:], bias0)
            self.known_gates = list(gates.unbind(0))  # (H, B, G) -> H x (B, G)
        elif self.fused:
            # the fused kernel wants a full (B, G) block for its input gates
            self.known_gates = list(bias0.expand(horizon, batch, -1).contiguous().unbind(0))
        else:
            self.known_gates = [bias0] * horizon  # addmm broadcasts the bias over the batch
        layers = range(1, self.num_layers)
        self.w_ih_t = [_param(lstm, f"weight_ih_l{k}").t() for k in layers]  # (D, G) each
        self.w_hh_t = [_param(lstm, f"weight_hh_l{k}").t() for k in layers]
        self.b_ih = [_param(lstm, f"bias_ih_l{k}") for k in layers]  # (G,) each
        self.b_hh = [_param(lstm, f"bias_hh_l{k}") for k in layers]
        self.bias = [b_ih + b_hh for b_ih, b_hh in zip(self.b_ih, self.b_hh, strict=True)]

    def step(
        self, t: int, fed_back: torch.Tensor, state: list[tuple[torch.Tensor, torch.Tensor]]
    ) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
        """Step `t`: fed_back [B, K], state [(h, c) [B, D] per layer] -> top h [B, D], state."""
        h, c = state[0]
        step_in = torch.cat([fed_back, h], dim=1)  # -> (B, K + D)
        if self.fused:
            h, c, _ = torch.ops.aten._thnn_fused_lstm_cell(
                self.known_gates[t], step_in @ self.w_step0_t, c
            )
        else:
            h, c = _gate_arithmetic(torch.addmm(self.known_gates[t], step_in, self.w_step0_t), c)
        new_state = [(h, c)]
        for k in range(1, self.num_layers):
            x = nn.functional.dropout(h, self.dropout, training=self.dropout > 0)  # (B, D)
            h, c = state[k]
            w_ih_t, w_hh_t = self.w_ih_t[k - 1], self.w_hh_t[k - 1]
            b_ih, b_hh = self.b_ih[k - 1], self.b_hh[k - 1]
            if self.fused:
                h, c, _ = torch.ops.aten._thnn_fused_lstm_cell(
                    x @ w_ih_t, h @ w_hh_t, c, b_ih, b_hh
                )
            else:
                gates = torch.addmm(torch.addmm(self.bias[k - 1], x, w_ih_t), h, w_hh_t)
                h, c = _gate_arithmetic(gates, c)
            new_state.append((h, c))
        return h, new_state
