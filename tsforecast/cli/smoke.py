"""Smoke mode (`tsforecast backtest CONFIG --smoke`): the whole experiment, shrunk to seconds.

Every model of the config runs (none is skipped) through the same code path as a full run, on
less data and with small budgets, and the results and the dashboard are written as usual, under
the name `NAME-smoke` so that a smoke run never replaces a full run's results:

- data: the first `SERIES` series (more where calibrated intervals pool their scores over
  series and the level needs them), each cut to the end of its history, long enough for the
  folds, a few seasons of training, the neural models' input windows and the calibration
  windows of conformal / calibrated intervals;
- folds: at most `WINDOWS` windows, with the config's horizon and step; baselines in one process;
- neural models (the registry's kind "neural"): a tiny network and a few training steps.

CI runs every `experiments/*.toml` this way (tests/test_experiments.py).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from tsforecast.cli.config import ExperimentConfig, ModelConfig
from tsforecast.cli.data import LoadedData
from tsforecast.estimators import registry

__all__ = ["NEURAL_PARAMS", "SERIES", "WINDOWS", "shrink_config", "shrink_data"]

SERIES = 3
WINDOWS = 2
# Set on every neural model, where the registry lists the parameter for it.
NEURAL_PARAMS: dict[str, Any] = {
    "hidden_size": 8,
    "head_hidden_size": 8,
    "num_layers": 1,
    "max_steps": 3,
    "batch_size": 16,
    "eval_every": 3,
    "time_budget_s": 30.0,
}


def shrink_config(config: ExperimentConfig) -> ExperimentConfig:
    """`config` with its smoke name, fewer folds, one process and tiny neural models."""
    models = []
    for model in config.models:
        params = dict(model.params)
        spec = registry.spec(model.name)
        if spec.kind == "neural":
            allowed = spec.user_param_names()
            params.update({k: v for k, v in NEURAL_PARAMS.items() if k in allowed})
        models.append(ModelConfig(name=model.name, params=params))
    backtest = replace(config.backtest, n_windows=min(config.backtest.n_windows, WINDOWS), n_jobs=1)
    return replace(config, name=f"{config.name}-smoke", backtest=backtest, models=models)


def shrink_data(
    data: LoadedData, kwargs: dict[str, Any], input_sizes: list[int]
) -> tuple[LoadedData, dict[str, Any]]:
    """The first `SERIES` series of `data`, each cut to the rows the folds need.

    `kwargs` are the `backtest()` arguments (horizon, step, n_windows, ...); `input_sizes` the
    neural models' configured input windows. Rows are ordered as `backtest()` reads them (the
    series validated by `to_panel`, with the run's `fill` and `freq`), so "the end of each
    history" means the latest time stamps whatever the file's order or time zone offsets.
    Returns the smaller data and what was kept, for the manifest.
    """
    from tsforecast import to_panel

    frame = data.frame
    calibration_rows, calibration_series = calibration_needs(kwargs)
    ids = list(dict.fromkeys(frame[data.id_col]))[: max(SERIES, calibration_series)]
    panel = to_panel(
        frame[frame[data.id_col].isin(ids)],
        id_col=data.id_col,
        time_col=data.time_col,
        target_col=data.target,
        fill=kwargs.get("fill"),
        freq=kwargs.get("freq"),
    )
    keep = rows_needed(kwargs, input_sizes, calibration_rows)
    ordered = panel.to_pandas()
    small = ordered.groupby(data.id_col, sort=False).tail(keep).reset_index(drop=True)
    info = {"series": len(ids), "rows_per_series": keep, "neural_params": NEURAL_PARAMS}
    return replace(data, frame=small, source=f"{data.source}, smoke subset"), info


def rows_needed(kwargs: dict[str, Any], input_sizes: list[int], calibration_rows: int = 0) -> int:
    """Rows per series for the folds plus a training part that every model can fit on (and
    calibrate its intervals in: `calibration_rows`)."""
    horizon = int(kwargs["horizon"])
    step = int(kwargs.get("step") or horizon)
    season = int(kwargs.get("season_length") or 1)
    test = horizon + (int(kwargs["n_windows"]) - 1) * step
    # a few seasons for the seasonal baselines; the input window, a horizon of training
    # targets and a horizon of validation for the neural models
    train = max(50, 4 * season, 3 * horizon, max(input_sizes, default=0) + 2 * horizon)
    train = max(train, calibration_rows)
    if kwargs.get("train_size"):
        train = max(train, int(kwargs["train_size"]))
    return train + test


def calibration_needs(kwargs: dict[str, Any]) -> tuple[int, int]:
    """(training rows, series) that the run's conformal / calibrated intervals need at its
    highest level, (0, 0) for none: a smoke run must not refuse a config its full run takes.

    "conformal" scores 20 one-step-apart windows per series; "calibrated" (and "auto", which
    is "calibrated" for the baselines) pools 5 windows one horizon apart over series, each
    counted when the values before it are at least half of the training part (10 horizons
    count all 5), so a level needing n scores needs n / 5 series.
    """
    from tsforecast.estimators.conformal import min_windows
    from tsforecast.estimators.conformal_calibration import calibration_length
    from tsforecast.estimators.conformal_modes import CALIBRATED_WINDOWS

    levels = [float(level) for level in kwargs.get("levels") or ()]
    intervals = kwargs.get("intervals") or "model"
    modes = set(intervals.values()) if isinstance(intervals, dict) else {intervals}
    if not levels:
        return 0, 0
    horizon = int(kwargs["horizon"])
    rows, series = 0, 0
    if "conformal" in modes:
        rows = calibration_length(horizon, 20, 1, pool_series=False)
    if modes & {"calibrated", "auto"}:
        rows = max(rows, 2 * CALIBRATED_WINDOWS * horizon)
        series = math.ceil(min_windows(max(levels)) / CALIBRATED_WINDOWS)
    return rows, series
