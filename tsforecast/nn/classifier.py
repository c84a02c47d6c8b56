"""The sequence classifier network: a (bi)LSTM encoder over packed sequences and an MLP head.

Pure `nn.Module`: no labels, no numpy, no device logic. The estimator that prepares the data,
trains and decodes the outputs is `tsforecast.estimators.classifier.SequenceClassifier`.

Shape legend: B batch, L longest sequence in the batch (right-padded), C channels,
D hidden size, E = D x directions (the embedding size), K outputs (logits).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from tsforecast.nn.blocks import final_state, mlp, stacked_lstm, to_patches

__all__ = ["ClassifierConfig", "LSTMClassifierNet"]


@dataclass(frozen=True)
class ClassifierConfig:
    """Sizes of the network; `n_channels` and `n_outputs` come from the data, never the user.

    `head_layers` counts the linear layers of the head: 1 is a linear read-out of the
    embedding, 2 adds one hidden layer of `head_hidden_size` units (ReLU, dropout), and so on.
    `patch_size` P > 1 feeds the LSTM non-overlapping patches of P steps (P x C features per
    LSTM step): a sequence of length L becomes ceil(L / P) steps, which long, smooth series
    (GunPoint's 150 steps) need to train reliably; 1 feeds the steps as they are.
    """

    n_channels: int
    n_outputs: int
    hidden_size: int = 64
    num_layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0
    head_layers: int = 1
    head_hidden_size: int = 64
    patch_size: int = 1

    @property
    def embedding_size(self) -> int:
        return self.hidden_size * (2 if self.bidirectional else 1)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class LSTMClassifierNet(nn.Module):
    """Stacked (bi)LSTM encoder -> last valid state of each sequence -> MLP head -> logits.

    Inputs are standardised per channel inside the module (`input_loc`, `input_scale`
    buffers, set by the estimator from the training data), so the saved weights alone turn
    raw sequences into logits.
    """

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        self.config = config
        self.input_loc: torch.Tensor
        self.input_scale: torch.Tensor
        self.register_buffer("input_loc", torch.zeros(config.n_channels))
        self.register_buffer("input_scale", torch.ones(config.n_channels))
        self.lstm = stacked_lstm(
            config.n_channels * config.patch_size,
            config.hidden_size,
            config.num_layers,
            config.bidirectional,
            config.dropout,
        )
        # Dropout on the embedding, then `head_layers - 1` hidden layers and the read-out.
        head = mlp(
            config.embedding_size,
            config.head_hidden_size,
            config.n_outputs,
            config.head_layers - 1,
            config.dropout,
        )
        self.head = nn.Sequential(nn.Dropout(config.dropout), *head)

    def encode(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Embed each sequence as the encoder state at its own last valid step.

        x: (B, L, C) right-padded (values after `lengths[b]` are ignored, whatever they are);
        lengths: (B,) int64, each in [1, L]. Returns (B, E).
        """
        x = (x - self.input_loc) / self.input_scale  # -> (B, L, C)
        lengths = lengths.detach().to("cpu", torch.int64)  # packing wants them on the CPU
        patch = self.config.patch_size
        if patch > 1:
            # A sequence's last patch may run past its end: those steps become 0 (the channel
            # mean) whatever the padding held, so a prediction never depends on the batch.
            steps = torch.arange(x.shape[1], device=x.device)
            is_valid = steps[None, :] < lengths.to(x.device)[:, None]  # -> (B, L)
            x = x.masked_fill(~is_valid[..., None], 0.0)
            x = to_patches(x, patch, pad="right")  # -> (B, ceil(L / P), P x C)
            lengths = -(-lengths // patch)
        if int(lengths.min()) == x.shape[1]:
            # No padding in this batch: the plain LSTM computes the same states as the packed
            # one, about twice as fast on CPU (packing runs one small kernel per step).
            _, (h_n, _) = self.lstm(x)  # h_n: (num_layers * directions, B, D)
        else:
            # Packing makes the LSTM stop at each sequence's own end, so padding never
            # reaches the state. enforce_sorted=False: torch sorts, runs, and returns h_n in
            # batch order.
            packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            _, (h_n, _) = self.lstm(packed)  # h_n: (num_layers * directions, B, D)
        # Last layer; bidirectional: the forward state after the last valid step and the
        # backward state after reading back to step 0, concatenated -> (B, E).
        return final_state(h_n, self.config.bidirectional)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Raw logits (B, K): no sigmoid or softmax here, the losses take logits."""
        return self.head(self.encode(x, lengths))
