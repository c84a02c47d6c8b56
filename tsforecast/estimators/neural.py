"""Estimators around the neural forecasters: frame in, forecasts frame out.

`fit(df, future_df=None)` validates the frame once (`to_panel`), fits per-series scalers on the
training range, lays every channel out in one device tensor, trains one global network with
`tsforecast.training.train` on windows gathered by index arithmetic (`tsforecast.windows`), and
keeps the tail of each series needed to forecast. `predict(history_df=None, future_df=None)`
forecasts `horizon` steps after the end of every series of the history (default: the training
data) and returns the forecasts frame in the input's type: id, time, and for every target `T`
the point forecast `T` plus `T_lo_<l>` / `T_hi_<l>` for each level `l`.

Channel layout of the tensor windows are gathered from, [S, T + H, C_all]:
  targets | past covariates | known-future covariates | calendar features
Targets and covariates are series-scaled; calendar features are already in [-0.5, 0.5]. The last
H positions after each series' end hold only the known-future channels (from `future_df` and the
calendar), so a window's future inputs come from the same gather as its past.

Known-future covariates are the value columns of `future_df`; their history must also be in
`df`. Every other numeric column of `df` is a past covariate (seen by the encoder only).
"""

from __future__ import annotations

import math
import numbers
import os
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from torch import nn

from tsforecast.checks import (
    check_fill,
    check_levels,
    check_seed,
    check_time_budget,
    positive_int,
)
from tsforecast.data.calendar import calendar_features, default_features, validate_features
from tsforecast.data.frames import from_pandas, to_pandas
from tsforecast.data.frequency import infer_season_length
from tsforecast.data.panel import Panel
from tsforecast.data.validation import to_panel
from tsforecast.devices import resolve_device
from tsforecast.errors import InputError, TsforecastWarning
from tsforecast.estimators.base import FORMAT_VERSION, Capabilities, Forecaster
from tsforecast.estimators.output import cutoff_positions
from tsforecast.nn.lstm import LSTMNet, LSTMNetConfig
from tsforecast.nn.seq2seq import Seq2SeqNet, Seq2SeqNetConfig
from tsforecast.persistence import write_model_folder
from tsforecast.scaling import Scaler, fit_scaler
from tsforecast.training import TrainingConfig, TrainingResult, train
from tsforecast.training.losses import pinball_loss, quantiles_for_levels
from tsforecast.training.losses import point_loss as _point_loss
from tsforecast.windows import gather, training_window_index

__all__ = [
    "LSTMForecaster",
    "NeuralForecaster",
    "Seq2SeqForecaster",
    "pinball_loss",
    "quantiles_for_levels",
    "split_windows",
]

_LOSSES = ("mae", "mse", "huber")
_SCALERS = ("standard", "robust", "none")
# Seasonal periods of calendar frequencies (fixed-length ones use the daily cycle).
# Windows scored per forward pass at prediction / validation time.
_INFERENCE_BATCH = 4096
_MAX_VAL_WINDOWS = 2048


def split_windows(
    lengths: torch.Tensor,
    input_size: int,
    horizon: int,
    val_size: int,
    min_past: int,
    max_val_windows: int = _MAX_VAL_WINDOWS,
) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor] | None]:
    """Training and validation windows, both inside the training range `[0, lengths[s])`.

    Validation windows have their whole future in the last `val_size` steps of each series;
    training windows end before those steps, so early stopping never scores a window the model
    trained on, and nothing after the training range is used. Returns ((series_idx, cutoff_idx)
    of the training windows, the same for validation or None when `val_size` is 0).
    """
    end_idx = lengths - 1 - val_size
    train_windows = training_window_index(
        lengths, input_size, horizon, end_idx=end_idx, min_past=min_past
    )
    if val_size == 0:
        return train_windows, None
    v_series, v_cutoff = training_window_index(lengths, input_size, horizon, min_past=min_past)
    keep = v_cutoff >= (lengths[v_series] - 1 - val_size)
    v_series, v_cutoff = v_series[keep], v_cutoff[keep]
    if len(v_series) > max_val_windows:
        # an even spread over series and time, the same for every run
        pick = torch.linspace(0, len(v_series) - 1, max_val_windows, device=lengths.device)
        v_series, v_cutoff = v_series[pick.round().long()], v_cutoff[pick.round().long()]
    if len(v_series) == 0:
        return train_windows, None
    return train_windows, (v_series, v_cutoff)


@dataclass
class _Layout:
    """Where each kind of channel sits in the window tensor, and what the network needs."""

    target_cols: list[str]
    past_cols: list[str]
    future_cols: list[str]
    calendar: list[str]
    input_size: int
    horizon: int
    season_length: int
    quantiles: list[float]

    @property
    def n_targets(self) -> int:
        return len(self.target_cols)

    @property
    def n_channels(self) -> int:
        return self.n_targets + len(self.past_cols) + len(self.future_cols) + len(self.calendar)

    @property
    def n_future_features(self) -> int:
        return len(self.future_cols) + len(self.calendar)


def _json_value(value: Any) -> Any:
    if isinstance(value, torch.device):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return value


class NeuralForecaster(Forecaster):
    """Shared fit / predict / save of the neural forecasters (see the module docstring).

    Subclasses only say which network they build (`_build_network`) and how a training batch
    calls it. Arguments left as None are set from the data at `fit` (recorded in `params_`).
    """

    model_name: ClassVar[str] = ""
    capabilities: ClassVar[Capabilities] = Capabilities(
        multivariate=True, past_covariates=True, future_covariates=True, levels=True
    )

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
        calendar: bool | Sequence[str] = False,
        season_length: int | None = None,
        max_steps: int | None = None,
        batch_size: int | None = None,
        learning_rate: float = 3e-3,
        weight_decay: float = 1e-4,
        lr_schedule: str = "cosine",
        val_size: int | None = None,
        patience: int | None = 10,
        eval_every: int | None = None,
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
    ) -> None:
        self.horizon = horizon
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.head_layers = head_layers
        self.head_hidden_size = head_hidden_size
        self.patch_size = patch_size
        self.levels = levels
        self.loss = loss
        self.window_norm = window_norm
        self.highway = highway
        self.scaler = scaler
        self.calendar = calendar
        self.season_length = season_length
        self.max_steps = max_steps
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.val_size = val_size
        self.patience = patience
        self.eval_every = eval_every
        self.time_budget_s = time_budget_s
        self.precision = precision
        self.device = device
        self.seed = seed
        self.progress = progress
        self.id_col = id_col
        self.time_col = time_col
        self.target_col = target_col
        self.fill = fill
        self.freq = freq

    def _check_params(self) -> None:
        positive_int("horizon", self.horizon)
        for name in ("input_size", "hidden_size", "head_hidden_size", "patch_size"):
            if getattr(self, name) is not None:
                positive_int(name, getattr(self, name))
        for name in ("max_steps", "batch_size", "eval_every", "season_length"):
            if getattr(self, name) is not None:
                positive_int(name, getattr(self, name))
        positive_int("num_layers", self.num_layers)
        if isinstance(self.head_layers, bool) or not isinstance(self.head_layers, int):
            msg = f"`head_layers` must be a non-negative integer, got {self.head_layers!r}."
            raise InputError(msg)
        if self.head_layers < 0:
            msg = f"`head_layers` must be a non-negative integer, got {self.head_layers!r}."
            raise InputError(msg)
        if not (isinstance(self.dropout, numbers.Real) and 0.0 <= self.dropout < 1.0):
            msg = f"`dropout` must be a number in [0, 1), got {self.dropout!r}."
            raise InputError(msg)
        if self.loss not in _LOSSES:
            msg = f"`loss` must be one of {list(_LOSSES)}, got {self.loss!r}."
            raise InputError(msg)
        if self.scaler not in _SCALERS:
            msg = f"`scaler` must be one of {list(_SCALERS)}, got {self.scaler!r}."
            raise InputError(msg)
        check_levels(self.levels)
        check_seed(self.seed)
        check_fill(self.fill)
        check_time_budget(self.time_budget_s)
        resolve_device(self.device)
        if self.val_size is not None and (
            isinstance(self.val_size, bool)
            or not isinstance(self.val_size, numbers.Integral)
            or self.val_size < 0
        ):
            msg = f"`val_size` must be a non-negative integer or None, got {self.val_size!r}."
            raise InputError(msg)
        if not isinstance(self.calendar, bool):
            validate_features(list(self.calendar))

    # ------------------------------------------------------------------ network (subclasses)
    def _build_network(self, layout: _Layout, params: dict[str, Any]) -> nn.Module:
        raise NotImplementedError

    def _forward_train(
        self,
        network: nn.Module,
        inputs: dict[str, torch.Tensor | None],
        future_target: torch.Tensor,
        generator: torch.Generator,
        progress: float,
    ) -> torch.Tensor:
        """One training forward; `progress` (0..1) is how far training is (steps or time)."""
        return network(**inputs)

    # ------------------------------------------------------------------ data layout
    def _panel(self, df: Any, what: str, device: torch.device) -> Panel:
        if isinstance(df, Panel):  # validated at an entry point's boundary already
            return df.to(device)
        try:
            return to_panel(
                df,
                id_col=self.id_col,
                time_col=self.time_col,
                target_col=self.target_col,
                fill=self.fill,  # type: ignore[arg-type]
                freq=self.freq,
                device=device,
            )
        except InputError as error:
            msg = f"in `{what}`: {error}"
            raise InputError(msg) from error

    def _future_cols(self, future_df: Any, panel: Panel) -> list[str]:
        pdf, _ = to_pandas(future_df, "future_df")
        for col in (self.id_col, self.time_col):
            if col not in pdf.columns:
                msg = (
                    f"column {col!r} is missing from `future_df` (found: {list(pdf.columns)}); "
                    "it needs the id and time columns of `df`."
                )
                raise InputError(msg)
        cols = [
            str(c)
            for c in pdf.columns
            if c not in (self.id_col, self.time_col, *panel.target_cols)
            and pd.api.types.is_numeric_dtype(pdf[c])
        ]
        missing = [c for c in cols if c not in panel.covariate_cols]
        if missing:
            msg = (
                f"known-future covariates {missing} of `future_df` are missing from `df`; "
                "`df` must hold their history too."
            )
            raise InputError(msg)
        return cols

    def _calendar_names(self, panel: Panel) -> list[str]:
        if self.calendar is False:
            return []
        if not panel.is_datetime:
            msg = (
                "`calendar` features need datetime time stamps, but column "
                f"{panel.time_col!r} holds integers; pass calendar=False or datetime stamps."
            )
            raise InputError(msg)
        if self.calendar is True:
            return default_features(str(panel.freq))
        return validate_features(list(self.calendar))

    def _window_tensor(
        self,
        panel: Panel,
        scaler: Scaler,
        layout: _Layout,
        future_df: Any | None,
        require_future: bool = True,
    ) -> torch.Tensor:
        """[S, T + H, C_all] on the panel's device: scaled channels, then calendar features."""
        horizon = layout.horizon
        n_series, n_steps, _ = panel.values.shape
        columns = panel.columns
        order = [columns.index(c) for c in (*layout.target_cols, *layout.past_cols)]
        order += [columns.index(c) for c in layout.future_cols]
        scaled = scaler.transform(panel.values)  # -> (S, T, C)
        positions = torch.arange(n_steps, device=panel.device)
        observed = (positions[None, :] < panel.lengths[:, None])[..., None]
        scaled = torch.where(observed, scaled, torch.zeros_like(scaled))[..., order]
        out = torch.zeros(
            (n_series, n_steps + horizon, layout.n_channels),
            device=panel.device,
            dtype=scaled.dtype,
        )
        out[:, :n_steps, : scaled.shape[-1]] = scaled
        n_known = len(layout.future_cols)
        if n_known == 0 and not layout.calendar:
            return out
        # Known-future channels after each series' end (from `future_df`), and the calendar
        # at every position; the history of known-future covariates stays as scaled above.
        first_future = layout.n_targets + len(layout.past_cols)
        if n_known and (future_df is not None or require_future):
            if future_df is None:
                msg = (
                    f"this model uses known-future covariates {layout.future_cols}; pass their "
                    f"values for the {horizon} steps after each series' end in `future_df`."
                )
                raise InputError(msg)
            values = self._future_values(panel, future_df, layout.future_cols, horizon)
            known_idx = [panel.columns.index(c) for c in layout.future_cols]
            future_values = torch.from_numpy(values).to(out)  # -> (S, H, F)
            future_values = (future_values - scaler.loc[:, :, known_idx].to(out)) / (
                scaler.scale[:, :, known_idx].to(out)
            )
            steps = panel.lengths[:, None] + torch.arange(horizon, device=panel.device)
            rows = torch.arange(n_series, device=panel.device)[:, None]
            out[rows, steps, first_future : first_future + n_known] = future_values
        if layout.calendar:
            lengths = panel.lengths.to("cpu").numpy()
            features = np.zeros((n_series, n_steps + horizon, len(layout.calendar)), np.float32)
            for s in range(n_series):
                n = int(lengths[s])
                times = panel.times[s].append(panel.future_times(s, horizon))
                features[s, : n + horizon] = calendar_features(times, layout.calendar)
            out[..., first_future + n_known :] = torch.from_numpy(features).to(out)
        return out

    def _future_values(
        self, panel: Panel, future_df: Any, cols: list[str], horizon: int
    ) -> np.ndarray:
        """[S, H, F] values of the known-future covariates after each series' end."""
        pdf, _ = to_pandas(future_df, "future_df")
        for col in (self.id_col, self.time_col, *cols):
            if col not in pdf.columns:
                msg = (
                    f"column {col!r} is missing from `future_df` (found: {list(pdf.columns)}); "
                    "it needs the id and time columns and every known-future covariate."
                )
                raise InputError(msg)
        if panel.is_datetime:
            pdf[self.time_col] = pd.to_datetime(pdf[self.time_col])
        else:
            pdf[self.time_col] = pdf[self.time_col].astype("int64")
        expected = pd.DataFrame(
            {
                self.id_col: np.repeat(np.array(panel.ids, dtype=object), horizon),
                self.time_col: np.concatenate(
                    [np.asarray(panel.future_times(s, horizon)) for s in range(panel.n_series)]
                ),
            }
        )
        pdf[self.id_col] = pdf[self.id_col].astype(object)
        merged = expected.merge(
            pdf[[self.id_col, self.time_col, *cols]].drop_duplicates([self.id_col, self.time_col]),
            on=[self.id_col, self.time_col],
            how="left",
        )
        values = merged[cols].to_numpy(dtype=np.float64)
        bad = np.isnan(values).any(axis=1)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            msg = (
                f"`future_df` lacks known-future covariates {cols} for {int(bad.sum())} of the "
                f"{len(expected)} forecast steps (first: series {merged[self.id_col].iloc[row]!r} "
                f"at {merged[self.time_col].iloc[row]}); give every series a value for each of "
                f"the {horizon} steps after its end."
            )
            raise InputError(msg)
        return values.reshape(panel.n_series, horizon, len(cols)).astype(np.float32)

    def _inputs(
        self,
        data: torch.Tensor,
        lengths: torch.Tensor,
        series_idx: torch.Tensor,
        cutoff_idx: torch.Tensor,
    ) -> tuple[dict[str, torch.Tensor | None], torch.Tensor]:
        """Gather a batch of windows -> (network inputs, future_target [B, H, C])."""
        lay = self.layout_
        windows = gather(
            data, lengths, series_idx, cutoff_idx, lay.input_size, lay.horizon, lay.n_targets
        )
        n_targets = lay.n_targets
        past_features = windows.past[..., n_targets:] if lay.n_channels > n_targets else None
        future_features = None
        if lay.n_future_features:
            first = lay.n_channels - lay.n_future_features
            # the known-future channels are valid up to H steps after each series' end
            known = gather(
                data[..., first:],
                lengths + lay.horizon,
                series_idx,
                cutoff_idx,
                1,
                lay.horizon,
                lay.n_future_features,
            )
            future_features = known.future  # -> (B, H, F)
        inputs: dict[str, torch.Tensor | None] = {
            "past_target": windows.past[..., :n_targets],
            "past_mask": windows.past_mask,
            "past_features": past_features,
            "future_features": future_features,
        }
        return inputs, windows.future

    # ------------------------------------------------------------------ defaults by data size
    def _resolve_params(self, panel: Panel, season: int) -> dict[str, Any]:
        horizon = int(self.horizon)
        lengths = panel.lengths.to("cpu").numpy()
        median_length = int(np.median(lengths))
        input_size = self.input_size
        if input_size is None:
            # a few seasons and at least two horizons: a week when the season is a day
            # (sub-daily data), else four seasons; but leave room for windows in short series
            seasons = 7 if season >= 24 else 4
            wanted = max(2 * horizon, seasons * season if season > 1 else 2 * horizon)
            room = max(1, median_length - horizon)
            input_size = int(max(min(wanted, room), min(season, room), 1))
        patch_size = self.patch_size
        if patch_size is None:
            # The encoder's cost grows with its recurrent steps: patches of one season (a day
            # of hourly data) when the window holds several, else at most ~24 steps.
            if season > 1 and input_size >= 4 * season and season <= 48:
                patch_size = season
            else:
                patch_size = max(1, math.ceil(input_size / 24))
        n_windows_guess = int(np.maximum(lengths - horizon - input_size // 2, 0).sum())
        hidden_size = self.hidden_size
        if hidden_size is None:
            hidden_size = 32 if n_windows_guess < 2_000 else 64 if n_windows_guess < 20_000 else 128
        batch_size = self.batch_size or int(min(256, max(16, n_windows_guess // 8)))
        max_steps = self.max_steps
        if max_steps is None:
            # about 20 passes over small data, at most 1500 steps on big data
            epochs_steps = 20 * max(1, n_windows_guess // batch_size)
            max_steps = int(min(1500, max(200, epochs_steps)))
        eval_every = self.eval_every or max(10, min(100, max_steps // 20))
        return {
            "input_size": int(input_size),
            "hidden_size": int(hidden_size),
            "head_hidden_size": int(self.head_hidden_size or 2 * hidden_size),
            "patch_size": int(patch_size),
            "batch_size": int(batch_size),
            "max_steps": int(max_steps),
            "eval_every": int(eval_every),
            "season_length": int(season),
        }

    # ------------------------------------------------------------------ fit
    def fit(self, df: Any, future_df: Any | None = None) -> NeuralForecaster:
        """Train on every series of `df`; `future_df` names the known-future covariates."""
        self._check_params()
        device = resolve_device(self.device)
        panel = self._panel(df, "df", device)
        future_cols = self._future_cols(future_df, panel) if future_df is not None else []
        past_cols = [c for c in panel.covariate_cols if c not in future_cols]
        calendar = self._calendar_names(panel)
        season = self.season_length or infer_season_length(panel)
        params = self._resolve_params(panel, season)
        horizon = int(self.horizon)
        levels = check_levels(self.levels)
        quantiles = quantiles_for_levels(levels) if levels else [0.5]
        layout = _Layout(
            target_cols=list(panel.target_cols),
            past_cols=past_cols,
            future_cols=future_cols,
            calendar=calendar,
            input_size=params["input_size"],
            horizon=horizon,
            season_length=season,
            quantiles=quantiles,
        )
        scaler = fit_scaler(panel.values, panel.lengths, method=self.scaler)  # type: ignore[arg-type]
        self.layout_ = layout
        data = self._window_tensor(panel, scaler, layout, future_df)

        # Validation windows: futures in the last `val_size` steps of each series; training
        # windows end before them. Nothing after the training range is ever touched.
        min_past = max(1, layout.input_size // 2)
        lengths = panel.lengths
        val_size = self.val_size
        if val_size is None:
            shortest = int(lengths.min().item())
            val_size = horizon if shortest >= 2 * horizon + min_past else 0
        (series_idx, cutoff_idx), val_windows = split_windows(
            lengths, layout.input_size, horizon, val_size, min_past
        )
        if len(series_idx) == 0:
            msg = (
                f"no series is long enough to train on: each needs at least "
                f"horizon + input_size // 2 + val_size = {horizon + min_past + val_size} "
                f"observations (longest: {int(lengths.max().item())}); reduce `horizon`, "
                "`input_size` or `val_size`."
            )
            raise InputError(msg)
        trained = torch.zeros(panel.n_series, dtype=torch.bool, device=device)
        trained[series_idx] = True
        if not bool(trained.all()):
            short = [panel.ids[i] for i in torch.nonzero(~trained).flatten().tolist()]
            msg = (
                f"{len(short)} series are too short to give a training window and are only "
                f"forecast from their history: {short[:10]}"
                f"{' ...' if len(short) > 10 else ''}; reduce `input_size` or `val_size`."
            )
            warnings.warn(msg, TsforecastWarning, stacklevel=2)

        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(self.seed)
            network = self._build_network(layout, params).to(device)
        config = TrainingConfig(
            max_steps=params["max_steps"],
            batch_size=params["batch_size"],
            learning_rate=float(self.learning_rate),
            weight_decay=float(self.weight_decay),
            warmup_steps=min(50, params["max_steps"] // 10),
            lr_schedule=self.lr_schedule,  # type: ignore[arg-type]
            eval_every=params["eval_every"],
            patience=self.patience if val_windows is not None else None,
            time_budget_s=self.time_budget_s,
            precision=self.precision,  # type: ignore[arg-type]
            progress=self.progress,
            seed=int(self.seed),
        )
        quantile_t = torch.tensor(quantiles, device=device)
        has_levels = bool(levels)
        n_train = len(series_idx)
        batch_size = min(params["batch_size"], n_train)
        step_counter = [0]
        started = [time.perf_counter()]

        def loss_of(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            y_hat = y_hat.float()
            if has_levels:
                return pinball_loss(y_hat, y, quantile_t)
            return _point_loss(self.loss, y_hat[..., 0], y)

        def train_loss(module: nn.Module, generator: torch.Generator) -> torch.Tensor:
            pick = torch.randint(0, n_train, (batch_size,), generator=generator, device=device)
            inputs, future_target = self._inputs(data, lengths, series_idx[pick], cutoff_idx[pick])
            progress = step_counter[0] / config.max_steps
            if config.time_budget_s is not None:
                elapsed = time.perf_counter() - started[0]
                progress = max(progress, elapsed / config.time_budget_s)
            y_hat = self._forward_train(module, inputs, future_target, generator, progress)
            step_counter[0] += 1
            return loss_of(y_hat, future_target)

        def val_loss(module: nn.Module) -> torch.Tensor:
            assert val_windows is not None
            total = torch.zeros((), device=device)
            n = len(val_windows[0])
            for lo in range(0, n, _INFERENCE_BATCH):
                inputs, y = self._inputs(
                    data,
                    lengths,
                    val_windows[0][lo : lo + _INFERENCE_BATCH],
                    val_windows[1][lo : lo + _INFERENCE_BATCH],
                )
                total = total + loss_of(module(**inputs), y) * len(y)
            return total / n

        started[0] = time.perf_counter()
        result = train(
            network,
            train_loss,
            val_loss=val_loss if val_windows is not None else None,
            config=config,
            device=device,
        )
        self.network_ = network
        self.scaler_ = scaler
        self.params_ = params
        self.quantiles_ = quantiles
        self.training_result_ = result
        self.history_ = result.history
        self.device_ = device
        self.n_train_windows_ = n_train
        self.val_size_ = val_size
        self.frame_kind_ = panel.frame_kind
        self.history_panel_ = _tail(panel, layout.input_size)
        self.future_df_ = future_df
        return self

    # ------------------------------------------------------------------ predict
    def predict(self, history_df: Any | None = None, future_df: Any | None = None) -> Any:
        """Forecast `horizon` steps after the end of every series of `history_df`.

        Without `history_df` the training data is the history. The series' scalers are fitted
        on the history given (its past only), so nothing after a series' end is ever used.
        """
        self._check_fitted()
        if history_df is None:
            panel, scaler = self.history_panel_, self.scaler_
            if future_df is None:
                future_df = self.future_df_
        else:
            panel = self._history_panel(history_df)
            scaler = fit_scaler(panel.values, panel.lengths, method=self.scaler)  # type: ignore[arg-type]
        y_hat = self._predict_panel(panel, scaler, future_df)  # -> (S, H, C, Q)
        return self._forecast_frame(panel, y_hat)

    def _predict_panel(self, panel: Panel, scaler: Scaler, future_df: Any | None) -> torch.Tensor:
        lay = self.layout_
        device = self.device_
        panel = panel.to(device)
        data = self._window_tensor(panel, scaler, lay, future_df)
        series_idx = torch.arange(panel.n_series, device=device)
        cutoff_idx = panel.lengths - 1
        network = self.network_
        network.eval()
        outputs = []
        with torch.no_grad():
            for lo in range(0, panel.n_series, _INFERENCE_BATCH):
                inputs, _ = self._inputs(
                    data,
                    panel.lengths,
                    series_idx[lo : lo + _INFERENCE_BATCH],
                    cutoff_idx[lo : lo + _INFERENCE_BATCH],
                )
                outputs.append(network(**inputs).float())
        y_hat = torch.cat(outputs)  # -> (S, H, C, Q) in scaled units
        # each target back in its own units: loc/scale of target c, broadcast over quantiles
        loc = scaler.loc[:, :, : lay.n_targets, None].to(y_hat)  # -> (S, 1, C, 1)
        scale = scaler.scale[:, :, : lay.n_targets, None].to(y_hat)
        y_hat = y_hat * scale + loc
        # quantiles are learned separately; sorting removes any crossing
        return torch.sort(y_hat, dim=-1).values

    def predict_cutoffs(self, df: Any, cutoffs: Sequence[Any], future_df: Any | None = None) -> Any:
        """Forecast `horizon` steps after each cutoff of each series, in a few large batches.

        For every series of `df` and every time stamp in `cutoffs` that the series holds, the
        forecast uses only the rows up to and including that cutoff: the window is gathered up
        to it and the series' scaler is fitted on the rows up to it, exactly as
        `predict(df[df[time_col] <= cutoff])` would. Known-future covariates after a cutoff come
        from `df` itself (they are known in advance), and beyond its end from `future_df`.
        Returns the forecasts frame with a `cutoff` column after the time column.
        """
        self._check_fitted()
        lay = self.layout_
        device = self.device_
        panel = self._history_panel(df)
        identity = Scaler(
            "none",
            panel.values.new_zeros((panel.n_series, 1, panel.n_channels)),
            panel.values.new_ones((panel.n_series, 1, panel.n_channels)),
        )
        data = self._window_tensor(panel, identity, lay, future_df, require_future=False)
        series_np, cutoff_np = cutoff_positions(panel, cutoffs)
        if lay.future_cols and future_df is None:
            beyond = cutoff_np + lay.horizon >= panel.lengths.to("cpu").numpy()[series_np]
            if beyond.any():
                msg = (
                    f"{int(beyond.sum())} cutoffs are less than `horizon` steps before their "
                    f"series' end: pass the known-future covariates {lay.future_cols} after the "
                    "end in `future_df`."
                )
                raise InputError(msg)
        series_idx = torch.from_numpy(series_np).to(device)
        cutoff_idx = torch.from_numpy(cutoff_np).to(device)
        columns = panel.columns
        order = [columns.index(c) for c in (*lay.target_cols, *lay.past_cols, *lay.future_cols)]
        n_scaled = len(order)
        n_targets = lay.n_targets
        n_known = len(lay.future_cols)
        network = self.network_
        network.eval()
        outputs = []
        # each window has its own scaler (fitted up to its cutoff): [chunk, T, C] at a time
        chunk = max(1, min(_INFERENCE_BATCH, int(2**24 // max(1, data.shape[1] * n_scaled))))
        with torch.no_grad():
            for lo in range(0, len(series_idx), chunk):
                si, ci = series_idx[lo : lo + chunk], cutoff_idx[lo : lo + chunk]
                if self.scaler == "none":
                    loc = panel.values.new_zeros((len(si), 1, n_scaled))
                    scale = torch.ones_like(loc)
                else:
                    scaler = fit_scaler(
                        panel.values.index_select(0, si),
                        panel.lengths.index_select(0, si),
                        method=self.scaler,  # type: ignore[arg-type]
                        end_idx=ci,
                    )
                    loc = scaler.loc[..., order]  # -> (b, 1, C_scaled) in layout order
                    scale = scaler.scale[..., order]
                inputs, _ = self._inputs(data, panel.lengths, si, ci)
                past_target = inputs["past_target"]
                assert past_target is not None
                mask = inputs["past_mask"]
                assert mask is not None
                observed = mask[..., None].to(past_target.dtype)
                inputs["past_target"] = (
                    (past_target - loc[..., :n_targets]) / scale[..., :n_targets] * observed
                )
                past_features = inputs["past_features"]
                if past_features is not None and n_scaled > n_targets:
                    k = n_scaled - n_targets
                    scaled = (past_features[..., :k] - loc[..., n_targets:]) / scale[
                        ..., n_targets:
                    ]
                    inputs["past_features"] = torch.cat(
                        [scaled * observed, past_features[..., k:]], dim=-1
                    )
                future_features = inputs["future_features"]
                if future_features is not None and n_known:
                    known = (future_features[..., :n_known] - loc[..., n_scaled - n_known :]) / (
                        scale[..., n_scaled - n_known :]
                    )
                    inputs["future_features"] = torch.cat(
                        [known, future_features[..., n_known:]], dim=-1
                    )
                y_hat = network(**inputs).float()  # -> (b, H, C, Q)
                y_hat = y_hat * scale[..., :n_targets, None] + loc[..., :n_targets, None]
                outputs.append(torch.sort(y_hat, dim=-1).values)
        y_hat = torch.cat(outputs)
        future_times: list[np.ndarray] = []
        cutoff_times: list[np.ndarray] = []
        for s, c in zip(series_np.tolist(), cutoff_np.tolist(), strict=True):
            stamps = panel.times[s]
            if panel.is_datetime:
                future = pd.date_range(stamps[c], periods=lay.horizon + 1, freq=str(panel.freq))
                future_times.append(np.asarray(future[1:]))
            else:
                step = int(panel.freq)
                future_times.append(int(stamps[c]) + step * np.arange(1, lay.horizon + 1))
            cutoff_times.append(np.repeat(np.asarray(stamps[c : c + 1]), lay.horizon))
        ids = [panel.ids[s] for s in series_np.tolist()]
        return self._forecast_frame(
            panel,
            y_hat,
            ids=ids,
            times=np.concatenate(future_times),
            cutoffs=np.concatenate(cutoff_times),
        )

    def _history_panel(self, history_df: Any) -> Panel:
        lay = self.layout_
        panel = self._panel(history_df, "history_df", self.device_)
        missing = [c for c in (*lay.past_cols, *lay.future_cols) if c not in panel.columns]
        if missing or panel.target_cols != lay.target_cols:
            msg = (
                f"`history_df` must have the columns the model was fitted on: targets "
                f"{lay.target_cols} and covariates {lay.past_cols + lay.future_cols}; "
                f"missing: {missing or panel.target_cols}."
            )
            raise InputError(msg)
        return panel

    def _forecast_frame(
        self,
        panel: Panel,
        y_hat: torch.Tensor,
        ids: list[Any] | None = None,
        times: np.ndarray | None = None,
        cutoffs: np.ndarray | None = None,
    ) -> Any:
        """y_hat [N, H, C, Q] -> the forecasts frame; one forecast per series unless `ids`."""
        lay = self.layout_
        horizon = lay.horizon
        values = y_hat.to("cpu").numpy().astype(np.float64)  # -> (N, H, C, Q)
        if ids is None:
            ids = list(panel.ids)
            times = np.concatenate(
                [np.asarray(panel.future_times(s, horizon)) for s in range(panel.n_series)]
            )
        frame: dict[str, Any] = {
            panel.id_col: np.repeat(np.array(ids, dtype=object), horizon),
            panel.time_col: times,
        }
        if cutoffs is not None:
            frame["cutoff"] = cutoffs
        quantiles = self.quantiles_
        median = quantiles.index(0.5)
        for c, col in enumerate(lay.target_cols):
            frame[col] = values[:, :, c, median].reshape(-1)
            for level in check_levels(self.levels):
                alpha = round((1.0 - float(level) / 100.0) / 2.0, 10)
                tag = f"{level:g}"
                frame[f"{col}_lo_{tag}"] = values[:, :, c, quantiles.index(alpha)].reshape(-1)
                hi = quantiles.index(round(1.0 - alpha, 10))
                frame[f"{col}_hi_{tag}"] = values[:, :, c, hi].reshape(-1)
        pdf = pd.DataFrame(frame)
        id_values = pd.Series(panel.ids)
        if id_values.map(type).nunique() == 1:
            pdf[panel.id_col] = pdf[panel.id_col].astype(id_values.dtype)
        return from_pandas(pdf, panel.frame_kind)

    # ------------------------------------------------------------------ save / load
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write a folder with `config.json` and `model.safetensors` (weights, scaler, history).

        The folder is written under a temporary name and moved into place, so a crash never
        leaves half a model. No pickle: loading runs no code from the file.
        """
        self._check_fitted()
        target = Path(path)
        panel = self.history_panel_
        tensors = {f"network.{k}": v for k, v in self.network_.state_dict().items()}
        tensors["scaler.loc"] = self.scaler_.loc
        tensors["scaler.scale"] = self.scaler_.scale
        tensors["history.values"] = panel.values
        tensors["history.lengths"] = panel.lengths
        tensors = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
        params = {k: _json_value(v) for k, v in self.get_params().items()}
        config = {
            "format_version": FORMAT_VERSION,
            "model": self.model_name,
            "class": type(self).__name__,
            "params": params,
            "resolved": self.params_,
            "layout": asdict(self.layout_),
            "quantiles": self.quantiles_,
            "val_size": self.val_size_,
            "n_train_windows": self.n_train_windows_,
            "history": self.history_,
            "panel": {
                "ids": [_json_value(i) for i in panel.ids],
                "last_times": [_time_to_json(t[-1]) for t in panel.times],
                "freq": _json_value(panel.freq),
                "is_datetime": panel.is_datetime,
                "id_col": panel.id_col,
                "time_col": panel.time_col,
                "frame_kind": panel.frame_kind,
                "target_cols": panel.target_cols,
                "covariate_cols": panel.covariate_cols,
            },
        }
        write_model_folder(target, tensors, config)

    @classmethod
    def _from_saved(
        cls,
        config: dict[str, Any],
        tensors: dict[str, torch.Tensor],
        device: str | torch.device | None,
    ) -> Any:
        params = dict(config["params"])
        if device is not None:
            params["device"] = str(device)
        model = cls(**params)
        try:
            device = resolve_device(params.get("device", "auto"))
        except InputError:  # saved on a GPU, loaded where there is none
            device = torch.device("cpu")
        model.layout_ = _Layout(**config["layout"])
        model.params_ = config["resolved"]
        model.quantiles_ = config["quantiles"]
        model.val_size_ = config["val_size"]
        model.n_train_windows_ = config["n_train_windows"]
        model.history_ = config["history"]
        model.training_result_ = TrainingResult(history=config["history"])
        model.device_ = device
        with torch.random.fork_rng(devices=[]):
            network = model._build_network(model.layout_, model.params_)
        weights = {k[len("network.") :]: v for k, v in tensors.items() if k.startswith("network.")}
        network.load_state_dict(weights)
        model.network_ = network.to(device).eval()
        method = params.get("scaler", "standard")
        model.scaler_ = Scaler(
            method, tensors["scaler.loc"].to(device), tensors["scaler.scale"].to(device)
        )
        meta = config["panel"]
        lengths = tensors["history.lengths"]
        times = [
            _times_ending_at(last, int(n), meta["freq"], meta["is_datetime"])
            for last, n in zip(meta["last_times"], lengths.tolist(), strict=True)
        ]
        model.history_panel_ = Panel(
            values=tensors["history.values"].to(device),
            lengths=lengths.to(device),
            ids=meta["ids"],
            times=times,
            freq=meta["freq"],
            target_cols=meta["target_cols"],
            covariate_cols=meta["covariate_cols"],
            id_col=meta["id_col"],
            time_col=meta["time_col"],
            frame_kind=meta["frame_kind"],
        )
        model.frame_kind_ = meta["frame_kind"]
        model.future_df_ = None
        return model


def _tail(panel: Panel, n_steps: int) -> Panel:
    """The last `n_steps` observations of each series, left-aligned (what predict needs)."""
    lengths = panel.lengths
    keep = torch.clamp(lengths, max=n_steps)  # [S]
    start = lengths - keep
    offsets = torch.arange(n_steps, device=panel.device)
    positions = (start[:, None] + offsets[None, :]).clamp(max=panel.values.shape[1] - 1)
    values = torch.gather(
        panel.values, 1, positions[..., None].expand(-1, -1, panel.n_channels)
    )  # -> (S, n_steps, C)
    observed = offsets[None, :] < keep[:, None]
    values = torch.where(observed[..., None], values, torch.zeros_like(values))
    times = [t[len(t) - int(k) :] for t, k in zip(panel.times, keep.tolist(), strict=True)]
    return replace(panel, values=values.contiguous(), lengths=keep, times=times)


def _time_to_json(value: Any) -> Any:
    if isinstance(value, pd.Timestamp | np.datetime64):
        return pd.Timestamp(value).isoformat()
    return _json_value(value)


def _times_ending_at(last: Any, n: int, freq: str | int, is_datetime: bool) -> pd.Index:
    if is_datetime:
        return pd.date_range(end=pd.Timestamp(last), periods=n, freq=str(freq))
    step = int(freq)
    return pd.Index(int(last) - step * np.arange(n - 1, -1, -1, dtype=np.int64))


class LSTMForecaster(NeuralForecaster):
    """LSTM encoder -> MLP head -> the whole horizon at once (`lstm`; `bilstm` when
    `bidirectional=True`: the last layer's forward and backward final states over the history).

    Example: `LSTMForecaster(horizon=24, input_size=96, hidden_size=128, num_layers=2).fit(df)`.
    """

    model_name = "lstm"

    def _build_network(self, layout: _Layout, params: dict[str, Any]) -> nn.Module:
        return LSTMNet(
            LSTMNetConfig(
                n_targets=layout.n_targets,
                n_past_features=layout.n_channels - layout.n_targets,
                n_future_features=layout.n_future_features,
                input_size=layout.input_size,
                horizon=layout.horizon,
                hidden_size=params["hidden_size"],
                num_layers=int(self.num_layers),
                bidirectional=bool(self.bidirectional),
                dropout=float(self.dropout),
                head_layers=int(self.head_layers),
                head_hidden_size=params["head_hidden_size"],
                n_quantiles=len(layout.quantiles),
                patch_size=params["patch_size"],
                window_norm=bool(self.window_norm),
                norm_window=max(1, layout.season_length),
                highway=bool(self.highway),
            )
        )


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
        calendar: bool | Sequence[str] = False,
        season_length: int | None = None,
        max_steps: int | None = None,
        batch_size: int | None = None,
        learning_rate: float = 3e-3,
        weight_decay: float = 1e-4,
        lr_schedule: str = "cosine",
        val_size: int | None = None,
        patience: int | None = 10,
        eval_every: int | None = None,
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
        if self.hidden_size is None:
            # The decoder runs `horizon` recurrent steps (the encoder a handful of patches), so
            # it dominates the cost: a narrower default keeps seq2seq affordable on a CPU.
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
        inputs: dict[str, torch.Tensor | None],
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

    def _build_network(self, layout: _Layout, params: dict[str, Any]) -> nn.Module:
        return Seq2SeqNet(
            Seq2SeqNetConfig(
                n_targets=layout.n_targets,
                n_past_features=layout.n_channels - layout.n_targets,
                n_future_features=layout.n_future_features,
                input_size=layout.input_size,
                horizon=layout.horizon,
                hidden_size=params["hidden_size"],
                num_layers=int(self.num_layers),
                bidirectional=bool(self.bidirectional),
                dropout=float(self.dropout),
                head_layers=max(0, int(self.head_layers) - 1),
                head_hidden_size=params["head_hidden_size"],
                n_quantiles=len(layout.quantiles),
                patch_size=params["patch_size"],
                window_norm=bool(self.window_norm),
                norm_window=max(1, layout.season_length),
                highway=bool(self.highway),
                median_index=layout.quantiles.index(0.5),
            )
        )
