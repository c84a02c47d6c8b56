"""The neural forecasters' parameters: what values can work, and the defaults sized by the data.

`check_params` refuses a value that cannot work (at `set_params`, `fit` and the registry's
`build`, before any data is read). `resolve_params` fills every size left as None from the
panel and the device at `fit`; the result is what the model records in `params_`.

Device-aware defaults: a GPU's throughput keeps growing with the batch up to a few thousand
windows, while a CPU's is flat past a few hundred, so the default batch is capped at 4,096 windows
on CUDA and 256 elsewhere, and the default learning rate (3e-3 at batch 256) grows with the square
root of the batch above 256 (at most 1e-2), the usual scaling for Adam-type optimisers. On CUDA
with a time budget the default run has no step cap: the budget (and early stopping) ends it, as a
cap sized for a CPU would end a GPU run long before its budget. On a CPU with a time budget the
cap is about 20 passes over the data (not 1,500 steps) and the default width stays at 64: the
seconds are fixed, and a narrower network trains more steps in them (`default_hidden_size`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from tsforecast.checks import check_fill, check_levels, check_seed, check_time_budget, positive_int
from tsforecast.data.calendar import validate_features
from tsforecast.data.panel import Panel
from tsforecast.devices import resolve_device
from tsforecast.errors import InputError
from tsforecast.estimators.neural_inputs import Layout
from tsforecast.training.loop import check_ema_decay

__all__ = [
    "LOSSES",
    "SCALERS",
    "check_params",
    "default_val_size",
    "network_sizes",
    "resolve_params",
    "training_sizes",
]

LOSSES = ("mae", "mse", "huber")
BASE_LEARNING_RATE = 3e-3  # at a batch of BASE_BATCH windows
BASE_BATCH = 256
MAX_LEARNING_RATE = 1e-2
MAX_CUDA_BATCH = 4096
# a step count no budgeted GPU run reaches: the time budget or early stopping ends it first
UNCAPPED_STEPS = 10_000_000
SCALERS = ("standard", "robust", "none")


def check_params(params: Mapping[str, Any]) -> None:
    """Raise `InputError` for a parameter of `NeuralForecaster` whose value cannot work."""
    positive_int("horizon", params["horizon"])
    optional_sizes = ("input_size", "hidden_size", "head_hidden_size", "patch_size")
    for name in (*optional_sizes, "max_steps", "batch_size", "eval_every", "season_length"):
        if params[name] is not None:
            positive_int(name, params[name])
    positive_int("num_layers", params["num_layers"])
    head_layers = params["head_layers"]
    if isinstance(head_layers, bool) or not isinstance(head_layers, int) or head_layers < 0:
        msg = f"`head_layers` must be a non-negative integer, got {head_layers!r}."
        raise InputError(msg)
    dropout = params["dropout"]
    if not (isinstance(dropout, numbers.Real) and 0.0 <= float(dropout) < 1.0):
        msg = f"`dropout` must be a number in [0, 1), got {dropout!r}."
        raise InputError(msg)
    if params["loss"] not in LOSSES:
        msg = f"`loss` must be one of {list(LOSSES)}, got {params['loss']!r}."
        raise InputError(msg)
    if params["scaler"] not in SCALERS:
        msg = f"`scaler` must be one of {list(SCALERS)}, got {params['scaler']!r}."
        raise InputError(msg)
    rate = params["learning_rate"]
    if rate is not None and not (
        isinstance(rate, numbers.Real) and not isinstance(rate, bool) and 0.0 < float(rate) < 1.0
    ):
        msg = (
            "`learning_rate` must be a number in (0, 1) or None (sized to the batch), "
            f"got {rate!r}."
        )
        raise InputError(msg)
    after = params["patience_after"]
    if not (
        isinstance(after, numbers.Real) and not isinstance(after, bool) and 0 <= float(after) <= 1
    ):
        msg = (
            "`patience_after` must be a number in [0, 1] (the share of the schedule after "
            f"which early stopping counts), got {after!r}."
        )
        raise InputError(msg)
    check_ema_decay(params["ema_decay"])
    check_levels(params["levels"])
    check_seed(params["seed"])
    check_fill(params["fill"])
    check_time_budget(params["time_budget_s"])
    resolve_device(params["device"])
    val_size = params["val_size"]
    if val_size is not None and (
        isinstance(val_size, bool) or not isinstance(val_size, numbers.Integral) or val_size < 0
    ):
        msg = f"`val_size` must be a non-negative integer or None, got {val_size!r}."
        raise InputError(msg)
    if not isinstance(params["calendar"], bool):
        validate_features(list(params["calendar"]))


def resolve_params(params: Mapping[str, Any], panel: Panel, season: int) -> dict[str, Any]:
    """The sizes of the network and of the training run, those left as None set from the data."""
    horizon = int(params["horizon"])
    lengths = panel.lengths.to("cpu").numpy()
    median_length = int(np.median(lengths))
    input_size = params["input_size"]
    if input_size is None:
        # a few seasons and at least two horizons: a week when the season is a day
        # (sub-daily data), else four seasons; but leave room for windows in short series
        seasons = 7 if season >= 24 else 4
        wanted = max(2 * horizon, seasons * season if season > 1 else 2 * horizon)
        room = max(1, median_length - horizon)
        input_size = int(max(min(wanted, room), min(season, room), 1))
    patch_size = params["patch_size"]
    if patch_size is None:
        # The encoder's cost grows with its recurrent steps: patches of one season (a day
        # of hourly data) when the window holds several, else at most ~24 steps.
        if season > 1 and input_size >= 4 * season and season <= 48:
            patch_size = season
        else:
            patch_size = max(1, math.ceil(input_size / 24))
    n_windows_guess = int(np.maximum(lengths - horizon - input_size // 2, 0).sum())
    device_type = resolve_device(params["device"]).type
    hidden_size = params["hidden_size"]
    if hidden_size is None:
        hidden_size = default_hidden_size(
            n_windows_guess, device_type, params["time_budget_s"] is not None
        )
    training = training_sizes(n_windows_guess, device_type, params)
    max_steps = training["max_steps"]
    eval_every = params["eval_every"] or max(10, min(100, max_steps // 20))
    return {
        "input_size": int(input_size),
        "hidden_size": int(hidden_size),
        "head_hidden_size": int(params["head_hidden_size"] or 2 * hidden_size),
        "patch_size": int(patch_size),
        "batch_size": training["batch_size"],
        "max_steps": int(max_steps),
        "learning_rate": training["learning_rate"],
        "eval_every": int(eval_every),
        "season_length": int(season),
    }


def default_hidden_size(n_windows: int, device_type: str, budgeted: bool) -> int:
    """The default width of the network for about `n_windows` training windows: 32, 64, or 128
    from 20,000 windows, except that a run bounded by a time budget on a CPU stays at 64.

    On a CPU the LSTMs' cost per step grows with the square of the width, and a budget fixes
    the seconds, not the steps: bilstm (log values) in 108 s on 2 cores, M4 Hourly: 128 wide,
    1,356 steps, OWA 0.4333; 96 wide, 1,950 steps, 0.4273; 64 wide, 2,993 steps, 0.4263. M4
    Weekly: 385 steps, 0.7217; 610, 0.7062; 1,462, 0.7021. A GPU's cost per step hardly grows
    with the width, and without a budget the step cap, not the clock, ends the run."""
    if n_windows < 2_000:
        return 32
    if n_windows < 20_000 or (budgeted and device_type == "cpu"):
        return 64
    return 128


def training_sizes(n_windows: int, device_type: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Batch size, step cap and learning rate for about `n_windows` training windows on a
    device of `device_type` ("cpu", "cuda", "mps"), those given in `params` kept as they are."""
    on_cuda = device_type == "cuda"
    batch_cap = MAX_CUDA_BATCH if on_cuda else BASE_BATCH
    batch_size = int(params["batch_size"] or min(batch_cap, max(16, n_windows // 8)))
    max_steps = params["max_steps"]
    if max_steps is None:
        budgeted = params["time_budget_s"] is not None
        epochs_steps = 20 * max(1, n_windows // batch_size)
        if on_cuda and budgeted:
            max_steps = UNCAPPED_STEPS
        elif budgeted and device_type == "cpu":
            # about 20 passes over the data: on big data the budget ends the run first (a cap
            # of 1,500 steps stopped a 96-wide bilstm on M4 Hourly at 65 s of its 108 s, OWA
            # 0.4376 against 0.4273 trained to the budget)
            max_steps = max(200, epochs_steps)
        else:
            # about 20 passes over small data, at most 1500 steps on big data
            max_steps = int(min(1500, max(200, epochs_steps)))
    learning_rate = params["learning_rate"]
    if learning_rate is None:
        scale = math.sqrt(max(1.0, batch_size / BASE_BATCH))
        learning_rate = min(MAX_LEARNING_RATE, BASE_LEARNING_RATE * scale)
    return {
        "batch_size": batch_size,
        "max_steps": int(max_steps),
        "learning_rate": float(learning_rate),
    }


def default_val_size(
    val_size: int | None, lengths: torch.Tensor, horizon: int, min_past: int
) -> int:
    """`val_size`, or one horizon when even the shortest series leaves room for it (else 0)."""
    if val_size is not None:
        return int(val_size)
    shortest = int(lengths.min().item())
    return horizon if shortest >= 2 * horizon + min_past else 0


def network_sizes(
    layout: Layout, resolved: Mapping[str, Any], params: Mapping[str, Any]
) -> dict[str, Any]:
    """The fields of `tsforecast.nn.blocks.ForecastNetConfig`: from the data's layout, the
    sizes resolved at `fit` and the model's parameters."""
    return {
        "n_targets": layout.n_targets,
        "n_past_features": layout.n_channels - layout.n_targets,
        "n_future_features": layout.n_future_features,
        "input_size": layout.input_size,
        "horizon": layout.horizon,
        "hidden_size": resolved["hidden_size"],
        "num_layers": int(params["num_layers"]),
        "bidirectional": bool(params["bidirectional"]),
        "dropout": float(params["dropout"]),
        "head_layers": int(params["head_layers"]),
        "head_hidden_size": resolved["head_hidden_size"],
        "n_quantiles": len(layout.quantiles),
        "patch_size": resolved["patch_size"],
        "window_norm": bool(params["window_norm"]),
        "norm_window": max(1, layout.season_length),
        "highway": bool(params["highway"]),
    }
