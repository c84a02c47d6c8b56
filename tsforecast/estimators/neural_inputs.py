"""What the neural forecasters feed their networks: the channel layout and the window tensor.

Channel layout of the tensor windows are gathered from, [S, T + H, C_all]:
  targets | past covariates | known-future covariates | calendar features
Targets and covariates are series-scaled; calendar features are already in [-0.5, 0.5]. The last
H positions after each series' end hold only the known-future channels (from `future_df` and the
calendar), so a window's future inputs come from the same tensor as its past.

Known-future covariates are the value columns of `future_df`; their history must also be in
`df`. Every other numeric column of `df` is a past covariate (seen by the encoder only).

`NetworkInputs` turns windows of that tensor into the keyword arguments of a network's forward;
`split_windows` picks the training and validation windows of a fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from tsforecast.data.calendar import calendar_features, default_features, validate_features
from tsforecast.data.frames import to_pandas
from tsforecast.data.panel import Panel
from tsforecast.errors import InputError
from tsforecast.scaling import Scaler, fit_scaler
from tsforecast.windows import WindowPlan, WindowSource, training_window_index

__all__ = [
    "MAX_VAL_WINDOWS",
    "Inputs",
    "Layout",
    "NetworkInputs",
    "calendar_names",
    "future_columns",
    "known_future_values",
    "rescale_inputs",
    "scaler_up_to",
    "split_windows",
    "tail",
    "window_tensor",
]

# At most this many validation windows are scored per evaluation (an even spread).
MAX_VAL_WINDOWS = 2048

Inputs = dict[str, torch.Tensor | None]


@dataclass
class Layout:
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

    @property
    def scaled_cols(self) -> list[str]:
        """The panel columns of the scaled channels, in tensor order (calendar excluded)."""
        return [*self.target_cols, *self.past_cols, *self.future_cols]


def split_windows(
    lengths: torch.Tensor,
    input_size: int,
    horizon: int,
    val_size: int,
    min_past: int,
    max_val_windows: int = MAX_VAL_WINDOWS,
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


def future_columns(future_df: Any, panel: Panel, id_col: str, time_col: str) -> list[str]:
    """The known-future covariates: the numeric value columns of `future_df`."""
    pdf, _ = to_pandas(future_df, "future_df")
    for col in (id_col, time_col):
        if col not in pdf.columns:
            msg = (
                f"column {col!r} is missing from `future_df` (found: {list(pdf.columns)}); "
                "it needs the id and time columns of `df`."
            )
            raise InputError(msg)
    cols = [
        str(c)
        for c in pdf.columns
        if c not in (id_col, time_col, *panel.target_cols) and pd.api.types.is_numeric_dtype(pdf[c])
    ]
    missing = [c for c in cols if c not in panel.covariate_cols]
    if missing:
        msg = (
            f"known-future covariates {missing} of `future_df` are missing from `df`; "
            "`df` must hold their history too."
        )
        raise InputError(msg)
    if not cols:
        # a future_df that carries no covariate would otherwise be ignored without a word
        msg = (
            f"`future_df` holds no known-future covariate (columns: {list(pdf.columns)}): "
            f"it needs numeric columns besides {id_col!r} and {time_col!r}, each also a column "
            f"of `df` (covariates of `df`: {list(panel.covariate_cols)}); leave `future_df` "
            "out to forecast without known-future covariates."
        )
        raise InputError(msg)
    return cols


def calendar_names(calendar: bool | Sequence[str], panel: Panel) -> list[str]:
    """The calendar features asked for (`True`: the defaults of the panel's frequency)."""
    if calendar is False:
        return []
    if not panel.is_datetime:
        msg = (
            "`calendar` features need datetime time stamps, but column "
            f"{panel.time_col!r} holds integers; pass calendar=False or datetime stamps."
        )
        raise InputError(msg)
    if calendar is True:
        return default_features(str(panel.freq))
    return validate_features(list(calendar))


def window_tensor(
    panel: Panel,
    scaler: Scaler,
    layout: Layout,
    known_future: np.ndarray | None,
) -> torch.Tensor:
    """[S, T + H, C_all] on the panel's device: scaled channels, then calendar features.

    known_future: [S, H, F] raw values of the known-future covariates after each series' end
    (None: those positions stay 0, for a caller that never reads them).
    """
    horizon = layout.horizon
    n_series, n_steps, _ = panel.values.shape
    order = [panel.columns.index(c) for c in layout.scaled_cols]
    scaled = scaler.transform(panel.values)  # -> (S, T, C)
    positions = torch.arange(n_steps, device=panel.device)
    observed = (positions[None, :] < panel.lengths[:, None])[..., None]
    scaled = torch.where(observed, scaled, torch.zeros_like(scaled))[..., order]
    out = torch.zeros(
        (n_series, n_steps + horizon, layout.n_channels), device=panel.device, dtype=scaled.dtype
    )
    out[:, :n_steps, : scaled.shape[-1]] = scaled
    # Known-future channels after each series' end, and the calendar at every position; the
    # history of known-future covariates stays as scaled above.
    first_future = layout.n_targets + len(layout.past_cols)
    n_known = len(layout.future_cols)
    if n_known and known_future is not None:
        known_idx = [panel.columns.index(c) for c in layout.future_cols]
        future_values = torch.from_numpy(known_future).to(out)  # -> (S, H, F)
        future_values = (future_values - scaler.loc[:, :, known_idx].to(out)) / (
            scaler.scale[:, :, known_idx].to(out)
        )
        steps = panel.lengths[:, None] + torch.arange(horizon, device=panel.device)
        rows = torch.arange(n_series, device=panel.device)[:, None]
        out[rows, steps, first_future : first_future + n_known] = future_values
    if layout.calendar:
        out[..., first_future + n_known :] = _calendar_channels(panel, layout).to(out)
    return out


def _calendar_channels(panel: Panel, layout: Layout) -> torch.Tensor:
    """[S, T + H, K] calendar features of every series' steps and of its H future steps."""
    horizon = layout.horizon
    n_series, n_steps, _ = panel.values.shape
    lengths = panel.lengths.to("cpu").numpy()
    features = np.zeros((n_series, n_steps + horizon, len(layout.calendar)), np.float32)
    for s in range(n_series):
        n = int(lengths[s])
        times = panel.times[s].append(panel.future_times(s, horizon))
        features[s, : n + horizon] = calendar_features(times, layout.calendar)
    return torch.from_numpy(features)


def known_future_values(
    panel: Panel, future_df: Any, cols: list[str], horizon: int, id_col: str, time_col: str
) -> np.ndarray:
    """[S, H, F] values of the known-future covariates after each series' end."""
    pdf, _ = to_pandas(future_df, "future_df")
    for col in (id_col, time_col, *cols):
        if col not in pdf.columns:
            msg = (
                f"column {col!r} is missing from `future_df` (found: {list(pdf.columns)}); "
                "it needs the id and time columns and every known-future covariate."
            )
            raise InputError(msg)
    if panel.is_datetime:
        pdf[time_col] = pd.to_datetime(pdf[time_col])
    else:
        pdf[time_col] = pdf[time_col].astype("int64")
    expected = pd.DataFrame(
        {
            id_col: np.repeat(np.array(panel.ids, dtype=object), horizon),
            time_col: np.concatenate(
                [np.asarray(panel.future_times(s, horizon)) for s in range(panel.n_series)]
            ),
        }
    )
    pdf[id_col] = pdf[id_col].astype(object)
    merged = expected.merge(
        pdf[[id_col, time_col, *cols]].drop_duplicates([id_col, time_col]),
        on=[id_col, time_col],
        how="left",
    )
    values = merged[cols].to_numpy(dtype=np.float64)
    bad = np.isnan(values).any(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        msg = (
            f"`future_df` lacks known-future covariates {cols} for {int(bad.sum())} of the "
            f"{len(expected)} forecast steps (first: series {merged[id_col].iloc[row]!r} "
            f"at {merged[time_col].iloc[row]}); give every series a value for each of "
            f"the {horizon} steps after its end."
        )
        raise InputError(msg)
    return values.reshape(panel.n_series, horizon, len(cols)).astype(np.float32)


class NetworkInputs:
    """Windows of one window tensor as the keyword arguments of a network's forward.

    The tensor is laid out once in a `WindowSource` (the known-future and calendar channels as
    its known channels, read H steps past each series' end); `plan` a set of windows once, then
    `take` batches of it: per batch, two 1-D `index_select`s give every input and the target.
    """

    def __init__(self, data: torch.Tensor, lengths: torch.Tensor, layout: Layout) -> None:
        # data: [S, T + H, C_all]; lengths: [S]
        self.layout = layout
        self.n_steps = data.shape[1]
        self.source = WindowSource(
            data,
            lengths,
            layout.input_size,
            layout.horizon,
            layout.n_targets,
            known_channels=layout.n_future_features,
        )

    def plan(self, series_idx: torch.Tensor, cutoff_idx: torch.Tensor) -> WindowPlan:
        """Prepare the windows (series_idx[n], cutoff_idx[n]) for `take`."""
        return self.source.plan(series_idx, cutoff_idx)

    def take(self, plan: WindowPlan, pick: torch.Tensor | slice) -> tuple[Inputs, torch.Tensor]:
        """The windows `pick` of `plan` -> (inputs, future_target [B, H, C])."""
        windows = self.source.take(plan, pick)
        n_targets = self.layout.n_targets
        has_features = self.layout.n_channels > n_targets
        inputs: Inputs = {
            "past_target": windows.past[..., :n_targets],  # -> (B, L, C)
            "past_mask": windows.past_mask,  # -> (B, L)
            "past_features": windows.past[..., n_targets:] if has_features else None,
            "future_features": windows.future_known,  # -> (B, H, F) or None
        }
        return inputs, windows.future


def rescale_inputs(inputs: Inputs, loc: torch.Tensor, scale: torch.Tensor, layout: Layout) -> None:
    """Scale, in place, unscaled inputs by one scaler per window: loc, scale [B, 1, C_scaled].

    For forecasts from a cutoff, whose scaler is fitted on the rows up to that cutoff only;
    the calendar channels are never scaled.
    """
    n_targets = layout.n_targets
    n_scaled = len(layout.scaled_cols)
    n_known = len(layout.future_cols)
    past_target, mask = inputs["past_target"], inputs["past_mask"]
    assert past_target is not None and mask is not None
    observed = mask[..., None].to(past_target.dtype)  # the left padding stays 0
    inputs["past_target"] = (past_target - loc[..., :n_targets]) / scale[..., :n_targets] * observed
    past_features = inputs["past_features"]
    if past_features is not None and n_scaled > n_targets:
        k = n_scaled - n_targets
        scaled = (past_features[..., :k] - loc[..., n_targets:]) / scale[..., n_targets:]
        inputs["past_features"] = torch.cat([scaled * observed, past_features[..., k:]], dim=-1)
    future_features = inputs["future_features"]
    if future_features is not None and n_known:
        known = (future_features[..., :n_known] - loc[..., n_scaled - n_known :]) / (
            scale[..., n_scaled - n_known :]
        )
        inputs["future_features"] = torch.cat([known, future_features[..., n_known:]], dim=-1)


def scaler_up_to(
    panel: Panel, series_idx: torch.Tensor, cutoff_idx: torch.Tensor, layout: Layout, method: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """(loc, scale) [B, 1, C_scaled] in layout order, fitted on the rows up to each cutoff."""
    n_scaled = len(layout.scaled_cols)
    if method == "none":
        loc = panel.data.new_zeros((len(series_idx), 1, n_scaled))
        return loc, torch.ones_like(loc)
    scaler = fit_scaler(
        panel.values.index_select(0, series_idx),
        panel.lengths.index_select(0, series_idx),
        method=method,  # type: ignore[arg-type]
        end_idx=cutoff_idx,
    )
    order = [panel.columns.index(c) for c in layout.scaled_cols]
    return scaler.loc[..., order], scaler.scale[..., order]


def tail(panel: Panel, n_steps: int) -> Panel:
    """The last `n_steps` observations of each series (what predict needs)."""
    keep = torch.clamp(panel.lengths, max=n_steps)  # [S]
    start = panel.lengths - keep
    return panel.steps(start.cpu().numpy(), (panel.lengths - 1).cpu().numpy())
