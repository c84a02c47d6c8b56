"""One neural forecaster's training run: the loss of a batch of windows, handed to the loop.

`tsforecast.training.train` owns the optimisation; this module gives it the two closures it
needs: `train_loss` draws a batch of training windows with the loop's generator and scores the
network's forward on it, `val_loss` scores every validation window. Both sets of windows are
planned once per fit (`NetworkInputs.plan`, the fast path of `tsforecast.windows`), so a batch
costs two 1-D `index_select`s.

Data-parallel (`distributed` a `DistributedRun`): every rank draws the same `world_size *
batch_size` positions and keeps its rank-strided slice of them, and scores its rank-strided
share of the validation windows; the loop averages gradients and agrees on when to stop.
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
from tsforecast.training.distributed import DistributedRun, batch_slice, shard
from tsforecast.training.losses import pinball_loss, point_loss

__all__ = [
    "ForwardTrain",
    "check_training_windows",
    "fit_network",
    "forecast_pass_seconds",
    "inference_batch",
    "training_config",
    "training_record",
]

# Windows scored per forward pass when validating.
_VAL_BATCH = 4096
# The forecasting pass's windows per forward. On a CPU 512: a batch of 4,096 costs more per
# window (no_grad, 2 cores, 10,000 series: lstm 75 against 54 us, bilstm 232 against 168 us;
# seq2seq alike), the forecasts are the same to the bit, and the batch timed to estimate the
# pass (`forecast_pass_seconds`) is then one of its own batches. A GPU wants large batches.
_CPU_INFERENCE_BATCH = 512
_INFERENCE_BATCH = 4096
# The estimate of the forecasting pass is its batches x the time of the one timed, x this: the
# pass's last, smaller batch is a new shape to oneDNN and the frame is built after it (~5-10 %
# of the pass for 10,000 series). Too much shortens training a little; too little runs the
# call past its deadline.
_FORECAST_SAFETY = 1.25
# The loop ends with a validation pass over every validation window after its budget runs out,
# in batches of `_VAL_BATCH`, which cost up to ~1.4x more per window than the timed one on a CPU:
# kept from the budget too, by the same measurement.
_VALIDATION_SAFETY = 1.5

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
            f"{len(short)} series are too short to give a training window (fewer than horizon "
            f"+ input_size // 2 + val_size = {horizon + min_past + val_size} values) and are "
            f"only forecast from their history: {short[:10]}"
            f"{' ...' if len(short) > 10 else ''}; reduce `input_size` or `val_size` (for "
            "auto's neural candidates: `candidate_params`)."
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
        patience_after=float(params["patience_after"]),
        time_budget_s=params["time_budget_s"],
        precision=params["precision"],
        progress=params["progress"],
        seed=int(params["seed"]),
        ema_decay=None if params["ema_decay"] is None else float(params["ema_decay"]),
    )


def inference_batch(device: torch.device) -> int:
    """Windows per forward of the forecasting pass on `device`."""
    return _CPU_INFERENCE_BATCH if device.type == "cpu" else _INFERENCE_BATCH


def forecast_pass_seconds(
    network: nn.Module,
    inputs: NetworkInputs,
    lengths: torch.Tensor,
    n_val_windows: int,
    device: torch.device,
) -> float:
    """The seconds estimated for what follows the training budget: the loop's last validation
    pass (`n_val_windows`) and the forecasting pass after the fit (`predict()`: one window per
    series, at its end). One forward of the pass's first batch is timed and scaled by the
    windows of each. The network is still untrained: its cost is the trained one's."""
    n_series = len(lengths)
    n = min(n_series, inference_batch(device))
    if n == 0:
        return 0.0
    series_idx = torch.arange(n, device=device)
    plan = inputs.plan(series_idx, lengths[:n].to(device) - 1)
    was_training = network.training
    network.eval()  # as predict() runs it: no dropout, so no random draw either
    _synchronize(device)
    started = time.perf_counter()
    with torch.no_grad():
        batch, _ = inputs.take(plan, slice(0, n))
        network(**batch)
    _synchronize(device)  # a GPU's kernels are queued: count them done
    per_window = (time.perf_counter() - started) / n
    network.train(was_training)
    n_batches = -(-n_series // n)
    return per_window * (n * n_batches * _FORECAST_SAFETY + n_val_windows * _VALIDATION_SAFETY)


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def training_record(
    result: TrainingResult, config: TrainingConfig, reserved_s: float | None
) -> dict[str, Any]:
    """What one training run did, as JSON values (a forecast frame's `attrs["training"]`).

    `training_budget_s` is what the loop was given: the call's budget less preparing the data
    and `reserved_s`, the seconds kept for the loop's last validation pass and the forecasting
    pass (None: nothing kept, the fit ran with no call deadline); None: no time bound."""
    last = result.history[-1] if result.history else {}
    return {
        "steps": int(last.get("step", 0)),
        "max_steps": int(config.max_steps),
        "stopped_by": result.stopped_reason,
        "best_step": int(result.best_step),
        "seconds": float(last.get("elapsed_s", 0.0)),
        "training_budget_s": config.time_budget_s,
        "reserved_s": reserved_s,
    }


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
    distributed: DistributedRun | None = None,
) -> TrainingResult:
    """Train `network` in place on the windows (series_idx [N], cutoff_idx [N]) of `inputs`.

    With more than one quantile the loss is the pinball loss over `quantiles`, else the point
    loss `loss` of the median. With `distributed`, `batch_size` is per rank.
    """
    quantile_t = torch.tensor(quantiles, device=device)
    has_levels = len(quantiles) > 1
    n_train = len(train_windows[0])
    n_ranks = 1 if distributed is None else distributed.world_size
    if distributed is not None:
        distributed.check_same("number of training windows", n_train)
        n_val = 0 if val_windows is None else len(val_windows[0])
        distributed.check_same("number of validation windows", n_val)
        val_windows = shard(val_windows, distributed) if val_windows is not None else None
    # the windows are laid out once per fit; a batch is a random pick of positions in them
    train_plan = inputs.plan(*train_windows)
    has_val_here = val_windows is not None and len(val_windows[0]) > 0
    val_plan = inputs.plan(*val_windows) if val_windows is not None and has_val_here else None
    # per rank; all ranks together draw at most one pick of each window per step on average
    batch_size = max(1, min(config.batch_size, n_train // n_ranks))
    step_counter = [0]
    started = [time.perf_counter()]

    def loss_of(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        y_hat = y_hat.float()
        if has_levels:
            return pinball_loss(y_hat, y, quantile_t)
        return point_loss(loss, y_hat[..., 0], y)

    def train_loss(module: nn.Module, generator: torch.Generator) -> torch.Tensor:
        # one draw shared by every rank (same generator state), each keeping its own slice
        n_draw = batch_size * n_ranks
        pick = torch.randint(0, n_train, (n_draw,), generator=generator, device=device)
        pick = batch_slice(pick, distributed)  # -> (batch_size,)
        batch, future_target = inputs.take(train_plan, pick)
        progress = step_counter[0] / config.max_steps
        if config.time_budget_s is not None:
            elapsed = time.perf_counter() - started[0]
            progress = max(progress, elapsed / config.time_budget_s)
        y_hat = forward_train(module, batch, future_target, generator, progress)
        step_counter[0] += 1
        return loss_of(y_hat, future_target)

    def val_loss(module: nn.Module) -> torch.Tensor:
        total = torch.zeros((), device=device)
        n = 0 if val_plan is None else len(val_plan.first)
        for lo in range(0, n, _VAL_BATCH):
            assert val_plan is not None
            batch, y = inputs.take(val_plan, slice(lo, lo + _VAL_BATCH))
            total = total + loss_of(module(**batch), y) * len(y)
        if distributed is not None:
            # count-weighted: sum(loss * count) / sum(count) over the ranks' shards
            return distributed.weighted_mean(total, n)
        return total / n

    started[0] = time.perf_counter()
    return train(
        network,
        train_loss,
        val_loss=val_loss if val_windows is not None else None,
        config=config,
        device=device,
        distributed=distributed,
    )
