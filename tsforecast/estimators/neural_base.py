"""`NeuralForecaster`: frame in, forecasts frame out, for every network of `tsforecast.nn`.

`fit(df, future_df=None)` validates the frame once (`to_panel`), fits per-series scalers on the
training range, lays every channel out in one device tensor (`neural_inputs`), trains one
global network with `tsforecast.training.train` on windows gathered by index arithmetic
(`neural_training`), and keeps the tail of each series needed to forecast.
`predict(history_df=None, future_df=None)` forecasts `horizon` steps after the end of every
series of the history (default: the training data); `predict_cutoffs` forecasts after given
cutoffs from the rows up to each one only. The frames returned have the input's type: id, time,
and for every target `T` the point forecast `T` plus `T_lo_<l>` / `T_hi_<l>` for each level `l`.

Subclasses (`lstm.py`, `seq2seq.py`) say which network they build and how a training batch
calls it; the parameter checks and data-sized defaults are in `neural_defaults`, save / load in
`neural_persistence`.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from tsforecast.checks import check_levels
from tsforecast.data.frequency import infer_season_length
from tsforecast.data.panel import Panel
from tsforecast.deadline import call_deadline, seconds_left
from tsforecast.devices import resolve_device
from tsforecast.errors import InputError, TsforecastWarning
from tsforecast.estimators.base import Capabilities, Forecaster
from tsforecast.estimators.neural_defaults import check_params, default_val_size, resolve_params
from tsforecast.estimators.neural_inputs import (
    Inputs,
    Layout,
    NetworkInputs,
    calendar_names,
    canonical_series_order,
    fit_host_scaler,
    future_columns,
    known_future_values,
    rescale_inputs,
    scaler_up_to,
    series_offsets,
    split_windows,
    tail,
    window_tensor,
)
from tsforecast.estimators.neural_outputs import quantile_forecast_frame, unscale_quantiles
from tsforecast.estimators.neural_persistence import load_neural, save_neural
from tsforecast.estimators.neural_training import (
    check_training_windows,
    fit_network,
    forecast_pass_seconds,
    inference_batch,
    training_config,
    training_record,
)
from tsforecast.estimators.neural_transform import (
    check_target_transform,
    from_model_space,
    to_model_space,
)
from tsforecast.estimators.output import cutoff_positions
from tsforecast.training.distributed import (
    DistributedRun,
    check_distributed,
    join_process_group,
    on_rank_zero,
)
from tsforecast.training.loop import TrainingConfig, TrainingResult
from tsforecast.training.losses import quantiles_for_levels

__all__ = ["NeuralForecaster"]

# Windows scored per forward pass by `predict_cutoffs` (at most; `predict`: `inference_batch`).
_INFERENCE_BATCH = 4096
# see `NeuralForecaster.fit` (re-entrant: a fit inside a fit on the same thread goes on)
_ONE_FIT_AT_A_TIME = threading.RLock()
# what training gets when preparing the fit used up its whole budget: one step, then it stops
_MIN_TRAINING_S = 0.01
# a budget that stops training before this many steps leaves a barely trained network: said
_FEW_STEPS = 50


class NeuralForecaster(Forecaster):
    """Shared fit / predict / save of the neural forecasters (see the module docstring).

    Subclasses only say which network they build (`_build_network`) and how a training batch
    calls it. Arguments left as None are set from the data at `fit` (recorded in `params_`).
    `distributed` (False, True or "auto") trains data-parallel under torchrun; see
    `tsforecast.training.distributed` (`batch_size` is then per rank).
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
        self.target_transform = target_transform
        self.calendar = calendar
        self.season_length = season_length
        self.max_steps = max_steps
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.val_size = val_size
        self.patience = patience
        self.patience_after = patience_after
        self.eval_every = eval_every
        self.ema_decay = ema_decay
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
        self.distributed = distributed

    def _check_params(self) -> None:
        check_params(self.get_params())
        check_target_transform(self.target_transform)
        check_distributed(self.distributed)

    # ------------------------------------------------------------------ network (subclasses)
    def _build_network(self, layout: Layout, params: dict[str, Any]) -> nn.Module:
        raise NotImplementedError

    def _forward_train(
        self,
        network: nn.Module,
        inputs: Inputs,
        future_target: torch.Tensor,
        generator: torch.Generator,
        progress: float,
    ) -> torch.Tensor:
        """One training forward; `progress` (0..1) is how far training is (steps or time)."""
        return network(**inputs)

    def _resolve_params(self, panel: Panel, season: int) -> dict[str, Any]:
        return resolve_params(self.get_params(), panel, season)

    # ------------------------------------------------------------------ fit
    def fit(self, df: Any, future_df: Any | None = None) -> NeuralForecaster:
        """Train on every series of `df`; `future_df` names the known-future covariates.

        One neural fit at a time per process: a fit seeds torch's process-wide random state
        (the weights' initialisation, dropout), which two threads fitting at once would
        interleave (a Dask worker with two threads gave forecasts 3.3 off the local ones, and
        other ones on every run). A fit's own budget counts from when it starts training."""
        with _ONE_FIT_AT_A_TIME:
            return self._fit(df, future_df)

    def _fit(self, df: Any, future_df: Any | None) -> NeuralForecaster:
        fit_started = time.perf_counter()
        self._check_params()
        self._begin_fit()
        self._check_loss_with_levels()
        device = resolve_device(self.device)
        # None unless `distributed` asks for it; on CUDA each rank then has its own GPU
        distributed = join_process_group(self.distributed, device)
        if distributed is not None:
            device = distributed.device
        panel = to_model_space(self._read(df, "df", device), self.target_transform, "df")
        layout, params = self._layout(panel, future_df)
        scaler = fit_host_scaler(panel, self.scaler)
        known = self._known_future(panel, layout, future_df, required=True)
        inputs = NetworkInputs(*window_tensor(panel, scaler, layout, known), panel.lengths, layout)

        # Validation windows: futures in the last `val_size` steps of each series; training
        # windows end before them. Nothing after the training range is ever touched.
        min_past = max(1, layout.input_size // 2)
        val_size = default_val_size(self.val_size, panel.lengths, layout.horizon, min_past)
        train_windows, val_windows = split_windows(
            panel.lengths,
            layout.input_size,
            layout.horizon,
            val_size,
            min_past,
            series_order=canonical_series_order(panel),
        )
        check_training_windows(panel, train_windows[0], layout.horizon, min_past, val_size)
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(self.seed)
            network = self._build_network(layout, params).to(device)
        # Inside a call with a deadline (`tsf.forecast`, auto's refit, a calibration fit) the
        # forecasting pass after this fit must end by it too, as must the loop's validation
        # pass after its budget: their estimated seconds are kept from training. A fit alone
        # is bounded by its own budget only, and keeps nothing.
        reserve = None
        if distributed is None and call_deadline() is not None:
            n_val = 0 if val_windows is None else len(val_windows[0])
            reserve = forecast_pass_seconds(network, inputs, panel.lengths, n_val, device)
        config = training_config(
            params,
            self._training_params(fit_started, distributed, reserve),
            validate=val_windows is not None,
        )
        result = fit_network(
            network,
            self._forward_train,
            inputs,
            train_windows,
            val_windows,
            config,
            layout.quantiles,
            self.loss,
            device,
            distributed,
        )
        _warn_if_cut_short(result, config, reserve)
        self.distributed_run_ = distributed
        self.layout_ = layout
        self.network_ = network
        self.scaler_ = scaler
        self.params_ = params
        self.quantiles_ = layout.quantiles
        self.training_result_ = result
        self.training_: dict[str, Any] | None = training_record(result, config, reserve)
        self.history_ = result.history
        self.device_ = device
        self.n_train_windows_ = len(train_windows[0])
        self.val_size_ = val_size
        self.frame_kind_ = panel.frame_kind
        self.history_panel_ = tail(panel, layout.input_size)
        self.future_df_ = future_df
        return self

    def _training_params(
        self,
        fit_started: float,
        distributed: DistributedRun | None,
        reserved_s: float | None = None,
    ) -> dict[str, Any]:
        """The parameters the training loop reads, its time budget what is left of the fit's
        own budget and of the call's deadline (`tsforecast.deadline`) once the frame is read,
        scaled and laid out, the call's deadline less `reserved_s` (the validation and
        forecasting passes still to run before it). A distributed run keeps its own budget:
        every rank must follow the same clock, or their learning-rate schedules would part."""
        own = self.get_params()
        if distributed is None:
            left = seconds_left(self.time_budget_s, fit_started, reserve_s=reserved_s or 0.0)
            if left is not None:
                own["time_budget_s"] = max(left, _MIN_TRAINING_S)
        return own

    def _layout(self, panel: Panel, future_df: Any | None) -> tuple[Layout, dict[str, Any]]:
        """The channel layout of `panel` and the sizes resolved from it."""
        future_cols = []
        if future_df is not None:
            future_cols = future_columns(future_df, panel, self.id_col, self.time_col)
        season = self.season_length or infer_season_length(panel)
        params = self._resolve_params(panel, season)
        levels = check_levels(self.levels)
        layout = Layout(
            target_cols=list(panel.target_cols),
            past_cols=[c for c in panel.covariate_cols if c not in future_cols],
            future_cols=future_cols,
            calendar=calendar_names(self.calendar, panel),
            input_size=params["input_size"],
            horizon=int(self.horizon),
            season_length=season,
            quantiles=quantiles_for_levels(levels) if levels else [0.5],
        )
        return layout, params

    def _known_future(
        self, panel: Panel, layout: Layout, future_df: Any | None, required: bool
    ) -> np.ndarray | None:
        """[S, H, F] known-future values after each series' end (None when none are used).

        After `fit`, a `future_df` must hold the known-future covariates the fit used, and no
        others: one given to a model fitted without any, or with columns the fit did not see,
        would be dropped without a word (a covariate of 1000 changed nothing)."""
        if future_df is not None and hasattr(self, "layout_"):
            given = future_columns(future_df, panel, self.id_col, self.time_col)
            unused = [c for c in given if c not in layout.future_cols]
            if unused:
                msg = (
                    f"`future_df` holds {unused}, which this model does not use as known-future "
                    f"covariates (it was fitted with {layout.future_cols or 'none'}: a column "
                    "is one when `fit` is given a `future_df` holding it); drop them, or fit "
                    "with that `future_df`."
                )
                raise InputError(msg)
        if not layout.future_cols or (future_df is None and not required):
            return None
        if future_df is None:
            msg = (
                f"this model uses known-future covariates {layout.future_cols}; pass their "
                f"values for the {layout.horizon} steps after each series' end in `future_df`."
            )
            raise InputError(msg)
        return known_future_values(
            panel, future_df, layout.future_cols, layout.horizon, self.id_col, self.time_col
        )

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
            self._warn_of_short_histories(panel)
            scaler = fit_host_scaler(panel, self.scaler)
        panel = panel.to(self.device_)
        known = self._known_future(panel, self.layout_, future_df, required=True)
        inputs = NetworkInputs(
            *window_tensor(panel, scaler, self.layout_, known), panel.lengths, self.layout_
        )
        series_idx = torch.arange(panel.n_series, device=self.device_)
        cutoff_idx = panel.lengths - 1
        plan = inputs.plan(series_idx, cutoff_idx)
        outputs = []
        n_batch = inference_batch(self.device_)
        with torch.no_grad():
            for lo in range(0, panel.n_series, n_batch):
                batch, _ = inputs.take(plan, slice(lo, lo + n_batch))
                outputs.append(self._network()(**batch).float())
        # -> (S, H, C, Q): scaled back (in the network's space), then in the targets' units
        y_hat = unscale_quantiles(torch.cat(outputs), scaler.loc, scaler.scale)
        y_hat = from_model_space(y_hat, self.target_transform)
        return quantile_forecast_frame(
            panel, series_idx, cutoff_idx, y_hat, self.quantiles_, check_levels(self.levels), False
        )

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
        raw = self._history_panel(df, "df", transform=False)
        series_np, cutoff_np = cutoff_positions(raw, cutoffs)
        # only the values up to each series' last cutoff are read (log: they must be > 0)
        last_read = np.full(raw.n_series, -1, dtype=np.int64)
        np.maximum.at(last_read, series_np, cutoff_np)
        panel = to_model_space(raw, self.target_transform, "df", read_up_to=last_read)
        if lay.future_cols and future_df is None:
            beyond = cutoff_np + lay.horizon >= panel.lengths.to("cpu").numpy()[series_np]
            if beyond.any():
                msg = (
                    f"{int(beyond.sum())} cutoffs are less than `horizon` steps before their "
                    f"series' end: pass the known-future covariates {lay.future_cols} after the "
                    "end in `future_df`."
                )
                raise InputError(msg)
        # the tensor holds each series less its first value, unscaled: each window is scaled
        # by its own scaler below (less that value, in float64: see neural_inputs)
        offsets = series_offsets(panel)
        known = self._known_future(panel, lay, future_df, required=False)
        inputs = NetworkInputs(*window_tensor(panel, offsets, lay, known), panel.lengths, lay)
        order = [panel.columns.index(c) for c in lay.scaled_cols]
        first_values = offsets.loc[..., order]  # -> (S, 1, C_scaled) float64 on the host
        series_idx = torch.from_numpy(series_np).to(self.device_)
        cutoff_idx = torch.from_numpy(cutoff_np).to(self.device_)
        # each window has its own scaler (fitted up to its cutoff): [chunk, T, C] at a time
        n_scaled = len(lay.scaled_cols)
        chunk = max(1, min(_INFERENCE_BATCH, int(2**24 // max(1, inputs.n_steps * n_scaled))))
        plan = inputs.plan(series_idx, cutoff_idx)
        outputs = []
        with torch.no_grad():
            for lo in range(0, len(series_idx), chunk):
                si, ci = series_idx[lo : lo + chunk], cutoff_idx[lo : lo + chunk]
                loc, scale = scaler_up_to(panel, si, ci, lay, self.scaler)  # -> (b, 1, C_scaled)
                batch, _ = inputs.take(plan, slice(lo, lo + chunk))
                from_first = loc - first_values[si.to("cpu")]  # the tensor's loc, float64
                dtype = panel.data.dtype
                rescale_inputs(
                    batch,
                    from_first.to(dtype).to(self.device_),  # cast on the host (MPS)
                    scale.to(dtype).to(self.device_),
                    lay,
                )
                y_hat = self._network()(**batch).float()  # -> (b, H, C, Q)
                outputs.append(unscale_quantiles(y_hat, loc, scale))
        y_hat = from_model_space(torch.cat(outputs), self.target_transform)
        return quantile_forecast_frame(
            panel, series_idx, cutoff_idx, y_hat, self.quantiles_, check_levels(self.levels), True
        )

    def _network(self) -> nn.Module:
        network: nn.Module = self.network_
        return network.eval()

    def _check_loss_with_levels(self) -> None:
        """With levels the network learns quantiles by the pinball loss (its median, the point
        forecast, by the absolute error): another `loss` would be ignored. Checked at fit, not
        at build: `intervals="conformal"` fits this model without its levels, where the loss
        applies."""
        if self.levels and self.loss != "mae":
            msg = (
                f"loss={self.loss!r} trains a point forecast, but with levels={self.levels!r} "
                "the network learns quantiles by the pinball loss (the median by the absolute "
                "error), so the loss would be ignored; drop `levels`, use loss='mae', or use "
                "intervals='conformal' (conformal intervals around a point forecast trained "
                f"with loss={self.loss!r})."
            )
            raise InputError(msg)

    def _warn_of_short_histories(self, panel: Panel) -> None:
        """Warn of series of `history_df` shorter than every training window's past
        (input_size // 2 values): they are forecast from a padded window the network never
        learned from (a tour, input_size 28: test MAE 0.240 from 28 values, 1.972 from 10, 3.499
        from 3). `fit` warns of its own such series."""
        min_past = int(self.layout_.input_size) // 2
        lengths = panel.lengths.to("cpu").numpy()
        short = [panel.ids[i] for i in np.flatnonzero(lengths < min_past)]
        if not short:
            return
        warnings.warn(
            f"{len(short)} series of `history_df` have fewer than the {min_past} values "
            f"(input_size // 2) of every training window's past, the shortest "
            f"{int(lengths.min())}: {short[:10]}{' ...' if len(short) > 10 else ''}; they are "
            "forecast from a padded window the model never learned from. Give more history.",
            TsforecastWarning,
            stacklevel=3,
        )

    def _history_panel(
        self, history_df: Any, what: str = "history_df", transform: bool = True
    ) -> Panel:
        """The frame a forecast starts from, checked against the fit; in the network's space
        unless `transform=False` (predict_cutoffs transforms what its cutoffs read)."""
        lay = self.layout_
        panel: Panel = self._read(history_df, what, self.device_, like_fit=True)
        missing = [c for c in (*lay.past_cols, *lay.future_cols) if c not in panel.columns]
        if missing or panel.target_cols != lay.target_cols:
            msg = (
                f"`history_df` must have the columns the model was fitted on: targets "
                f"{lay.target_cols} and covariates {lay.past_cols + lay.future_cols}; "
                f"missing: {missing or panel.target_cols}."
            )
            raise InputError(msg)
        used = [*lay.past_cols, *lay.future_cols]
        unused = [c for c in panel.covariate_cols if c not in used]
        if unused:
            # read silently, they would change nothing: the network never saw them
            msg = (
                f"`history_df` has the covariate columns {unused}, which this model was not "
                f"fitted on (it reads {used or 'no covariates'}); drop them, or fit the model "
                "on a frame with them."
            )
            raise InputError(msg)
        if not transform:
            return panel
        # the network's space: the history must be one the transform can take (log: > 0)
        return to_model_space(panel, self.target_transform, what)

    # ------------------------------------------------------------------ save / load
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write a folder with `config.json` and `model.safetensors` (weights, scaler, history).

        The folder is written under a temporary name and moved into place, so a crash never
        leaves half a model. No pickle: loading runs no code from the file. After a distributed
        fit only rank 0 writes (every rank holds the same weights) and the others wait for it.
        """
        self._check_fitted()
        on_rank_zero(self.distributed_run_, lambda: save_neural(self, path))

    @classmethod
    def _from_saved(
        cls,
        config: dict[str, Any],
        tensors: dict[str, torch.Tensor],
        device: str | torch.device | None,
    ) -> Any:
        return load_neural(cls, config, tensors, device)


def _warn_if_cut_short(
    result: TrainingResult, config: TrainingConfig, reserved_s: float | None
) -> None:
    """A warning when the time budget ended training after only a few steps: the forecast then
    comes from a network that has barely left its initial weights (and its warm-up)."""
    steps = result.history[-1]["step"] if result.history else 0
    if result.stopped_reason != "time_budget" or steps >= min(_FEW_STEPS, config.max_steps):
        return
    kept = ""
    if reserved_s is not None:
        kept = f" and {reserved_s:.2f} s kept for validating and forecasting after it"
    msg = (
        f"the time budget ended training after {steps} step(s) of {config.max_steps} "
        f"({config.time_budget_s:.2f} s were left for training once the data were prepared"
        f"{kept}): the network is barely trained. Give a larger `time_budget_s` (or None), "
        "or a statistical model."
    )
    # stacklevel: this function, the estimator's `fit`, then the caller of `fit`
    warnings.warn(msg, TsforecastWarning, stacklevel=3)
