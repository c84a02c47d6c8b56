"""`seq2seq`: an LSTM encoder whose final state starts an LSTM decoder unrolled over the horizon."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from tsforecast.data.panel import Panel
from tsforecast.devices import resolve_device
from tsforecast.errors import InputError
from tsforecast.estimators.neural_base import NeuralForecaster
from tsforecast.estimators.neural_defaults import network_sizes
from tsforecast.estimators.neural_inputs import Inputs, Layout
from tsforecast.nn.seq2seq import Seq2SeqNet, Seq2SeqNetConfig

__all__ = ["Seq2SeqForecaster"]


class Seq2SeqForecaster(NeuralForecaster):
    """LSTM encoder whose (h, c) start an LSTM decoder unrolled over the horizon (`seq2seq`).

    Teacher forcing: at the start of training the decoder is fed the true previous value with
    probability `teacher_forcing`; the ratio decays linearly to 0 once `teacher_forcing_decay`
    of the training is done (of the steps, or of `time_budget_s` if that runs out first; None:
    constant). At prediction it always feeds back its own output.
    Known-future covariates and calendar features enter the decoder at each step.
    """

    model_name = "seq2seq"

    def __init__(
        self,
        horizon: int,
        input_size: int | None = None,
        hidden_size: int | None = None,
        num_layers: int = 2,
        bidirectional: bool = False,
        dropout: float = 0.1,
        head_layers: int = 2,
        head_hidden_size: int | None = None,
        patch_size: int | None = None,
        levels: Sequence[float] | None = None,
        loss: str = "mae",
        window_norm: bool = True,
        highway: bool = True,
        scaler: str = "standard",
        target_transform: str = "none",
        calendar: bool | Sequence[str] = False,
        season_length: int | None = None,
        max_steps: int | None = None,
        batch_size: int | None = None,
        learning_rate: float | None = None,
        weight_decay: float = 1e-4,
        lr_schedule: str = "cosine",
        val_size: int | None = None,
        patience: int | None = 10,
        patience_after: float = 0.5,
        eval_every: int | None = None,
        ema_decay: float | None = None,
        time_budget_s: float | None = None,
        precision: str = "auto",
        device: str = "auto",
        seed: int = 0,
        progress: bool | None = None,
        id_col: str = "unique_id",
        time_col: str = "ds",
        target_col: str | Sequence[str] = "y",
        fill: str | None = None,
        freq: str | int | None = None,
        distributed: bool | str = False,
        teacher_forcing: float = 0.5,
        teacher_forcing_decay: float | None = 0.5,
    ) -> None:
        super().__init__(
            **{k: v for k, v in locals().items() if k in NeuralForecaster.param_names()}
        )
        self.teacher_forcing = teacher_forcing
        self.teacher_forcing_decay = teacher_forcing_decay

    def _resolve_params(self, panel: Panel, season: int) -> dict[str, Any]:
        params = super()._resolve_params(panel, season)
        if self.hidden_size is None and resolve_device(self.device).type != "cuda":
            # The decoder runs `horizon` recurrent steps (the encoder a handful of patches), so
            # it dominates the cost: a narrower default keeps seq2seq affordable on a CPU (a GPU
            # runs the wider default's recurrent matmuls at about the same speed).
            params["hidden_size"] = min(params["hidden_size"], 64)
            if self.head_hidden_size is None:
                params["head_hidden_size"] = 2 * params["hidden_size"]
        return params

    def _check_params(self) -> None:
        super()._check_params()
        ratio = self.teacher_forcing
        if not (isinstance(ratio, numbers.Real) and 0.0 <= ratio <= 1.0):
            msg = f"`teacher_forcing` must be a number in [0, 1], got {ratio!r}."
            raise InputError(msg)
        decay = self.teacher_forcing_decay
        if decay is not None and not (isinstance(decay, numbers.Real) and decay > 0):
            msg = f"`teacher_forcing_decay` must be a positive number or None, got {decay!r}."
            raise InputError(msg)

    def teacher_forcing_ratio(self, progress: float) -> float:
        """The teacher-forcing probability when `progress` (0..1) of the training is done."""
        if self.teacher_forcing_decay is None:
            return float(self.teacher_forcing)
        decay = float(self.teacher_forcing_decay)
        return float(self.teacher_forcing) * max(0.0, 1.0 - progress / decay)

    def _forward_train(
        self,
        network: nn.Module,
        inputs: Inputs,
        future_target: torch.Tensor,
        generator: torch.Generator,
        progress: float,
    ) -> torch.Tensor:
        return network(
            **inputs,
            future_target=future_target,
            teacher_forcing_ratio=self.teacher_forcing_ratio(progress),
            generator=generator,
        )

    def _build_network(self, layout: Layout, params: dict[str, Any]) -> nn.Module:
        sizes = network_sizes(layout, params, self.get_params())
        # the decoder's per-step head is one layer smaller than the lstm's whole-horizon head
        sizes["head_layers"] = max(0, sizes["head_layers"] - 1)
        return Seq2SeqNet(Seq2SeqNetConfig(**sizes, median_index=layout.quantiles.index(0.5)))
