"""One neural forecaster's training run: the loss of a batch of windows, handed to the loop.

`tsforecast.training.train` owns the optimisation; this module gives it the two closures it
needs: `train_loss` draws a batch of training windows with the loop's generator and scores the
network's forward on it, `val_loss` scores every validation window. Both sets of windows are
planned once per fit (`NetworkInputs.plan`, the fast path of `tsforecast.windows`), so a batch
costs two 1-D `index_select`s.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from tsforecast.data.panel import Panel
from tsforecast.errors import InputError, TsforecastWarning
from tsforecast.estimators.neural_inputs import Inputs, NetworkInputs
from tsforecast.training import TrainingConfig, TrainingResult, train
from tsforecast.training.losses import pinball_loss, point_loss

__all__ = ["ForwardTrain", "check_training_windows", "fit_network", "training_config"]

# Windows scored per forward pass when validating.
_VAL_BATCH = 4096

# (network, inputs, future_target [B, H, C], generator, progress 0..1) -> y_hat [B, H, C, Q]
ForwardTrain = Callable[[nn.Module, Inputs, torch.Tensor, torch.Generator, float], torch.Tensor]


def check_training_windows(
    panel: Panel, series_idx: torch.Tensor, horizon: int, min_past: int, val_size: int
) -> None:
    """Refuse a fit without training windows; warn about series too short to give one."""
    if len(series_idx) == 0:
        msg = (
            f"no series is long enough to train on: each needs at least "
            f"horizon + input_size // 2 + val_size = {horizon + min_past + val_size} "
            f"observations (longest: {int(panel.lengths.max().item())}); reduce `horizon`, "
            "`input_size` or `val_size`."
        )
        raise InputError(msg)
    trained = torch.zeros(panel.n_series, dtype=torch.bool, device=panel.device)
    trained[series_idx] = True
    if not bool(trained.all()):
        short = [panel.ids[i] for i in torch.nonzero(~trained).flatten().tolist()]
        msg = (
            f"{len(short)} series are too short to give a training window and are only "
            f"forecast from their history: {short[:10]}"
            f"{' ...' if len(short) > 10 else ''}; reduce `input_size` or `val_size`."
        )
        # stacklevel: this function, the estimator's `fit`, then the caller of `fit`
        warnings.warn(msg, TsforecastWarning, stacklevel=3)


def training_config(
    resolved: Mapping[str, Any], params: Mapping[str, Any], validate: bool
) -> TrainingConfig:
    """The loop's settings from the resolved sizes and the model's parameters."""
    return TrainingConfig(
        max_steps=resolved["max_steps"],
        batch_size=resolved["batch_size"],
        learning_rate=float(resolved["learning_rate"]),
        weight_decay=float(params["weight_decay"]),
        warmup_steps=min(50, resolved["max_steps"] // 10),
        lr_schedule=params["lr_schedule"],
        eval_every=resolved["eval_every"],
        patience=params["patience"] if validate else None,
        time_budget_s=params["time_budget_s"],
        precision=params["precision"],
        progress=params["progress"],
        seed=int(params["seed"]),
    )


def fit_network(
    network: nn.Module,
    forward_train: ForwardTrain,
    inputs: NetworkInputs,
    train_windows: tuple[torch.Tensor, torch.Tensor],
    val_windows: tuple[torch.Tensor, torch.Tensor] | None,
    config: TrainingConfig,
    quantiles: list[float],
    loss: str,
    device: torch.device,
) -> TrainingResult:
    """Train `network` in place on the windows (series_idx [N], cutoff_idx [N]) of `inputs`.

    With more than one quantile the loss is the pinball loss over `quantiles`, else the point
    loss `loss` of the median.
    """
    quantile_t = torch.tensor(quantiles, device=device)
    has_levels = len(quantiles) > 1
    # the windows are laid out once per fit; a batch is a random pick of positions in them
    train_plan = inputs.plan(*train_windows)
    val_plan = inputs.plan(*val_windows) if val_windows is not None else None
    n_train = len(train_windows[0])
    batch_size = min(config.batch_size, n_train)
    step_counter = [0]
    started = [time.perf_counter()]

    def loss_of(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        y_hat = y_hat.float()
        if has_levels:
            return pinball_loss(y_hat, y, quantile_t)
        return point_loss(loss, y_hat[..., 0], y)

    def train_loss(module: nn.Module, generator: torch.Generator) -> torch.Tensor:
        pick = torch.randint(0, n_train, (batch_size,), generator=generator, device=device)
        batch, future_target = inputs.take(train_plan, pick)
        progress = step_counter[0] / config.max_steps
        if config.time_budget_s is not None:
            elapsed = time.perf_counter() - started[0]
            progress = max(progress, elapsed / config.time_budget_s)
        y_hat = forward_train(module, batch, future_target, generator, progress)
        step_counter[0] += 1
        return loss_of(y_hat, future_target)

    def val_loss(module: nn.Module) -> torch.Tensor:
        assert val_plan is not None
        total = torch.zeros((), device=device)
        n = len(val_plan.first)
        for lo in range(0, n, _VAL_BATCH):
            batch, y = inputs.take(val_plan, slice(lo, lo + _VAL_BATCH))
            total = total + loss_of(module(**batch), y) * len(y)
        return total / n

    started[0] = time.perf_counter()
    return train(
        network,
        train_loss,
        val_loss=val_loss if val_windows is not None else None,
        config=config,
        device=device,
    )
