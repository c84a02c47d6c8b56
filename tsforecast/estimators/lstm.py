"""`lstm` and `bilstm`: an LSTM encoder -> MLP head -> the whole horizon at once."""

from __future__ import annotations

from typing import Any

from torch import nn

from tsforecast.estimators.neural_base import NeuralForecaster
from tsforecast.estimators.neural_defaults import network_sizes
from tsforecast.estimators.neural_inputs import Layout
from tsforecast.nn.lstm import LSTMNet, LSTMNetConfig

__all__ = ["LSTMForecaster"]


class LSTMForecaster(NeuralForecaster):
    """LSTM encoder -> MLP head -> the whole horizon at once (`lstm`; `bilstm` when
    `bidirectional=True`: the last layer's forward and backward final states over the history).

    Example: `LSTMForecaster(horizon=24, input_size=96, hidden_size=128, num_layers=2).fit(df)`.
    """

    model_name = "lstm"

    def _build_network(self, layout: Layout, params: dict[str, Any]) -> nn.Module:
        return LSTMNet(LSTMNetConfig(**network_sizes(layout, params, self.get_params())))
