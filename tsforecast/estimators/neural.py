"""The neural forecasters, in one import: `from tsforecast.estimators.neural import ...`.

- `NeuralForecaster` (`neural_base`): the shared fit / predict / predict_cutoffs / save.
- `LSTMForecaster` (`lstm`): `lstm`, and `bilstm` with `bidirectional=True`.
- `Seq2SeqForecaster` (`seq2seq`): `seq2seq`.
- `split_windows` (`neural_inputs`): the training and validation windows of a fit.

The pieces behind them: `neural_inputs` (the channel layout, the window tensor, network
inputs), `neural_defaults` (parameter checks, data-sized defaults), `neural_training` (the
training run on the fast window path) and `neural_persistence` (save / load).
"""

from tsforecast.estimators.lstm import LSTMForecaster
from tsforecast.estimators.neural_base import NeuralForecaster
from tsforecast.estimators.neural_inputs import split_windows
from tsforecast.estimators.seq2seq import Seq2SeqForecaster
from tsforecast.training.losses import pinball_loss, quantiles_for_levels

__all__ = [
    "LSTMForecaster",
    "NeuralForecaster",
    "Seq2SeqForecaster",
    "pinball_loss",
    "quantiles_for_levels",
    "split_windows",
]
