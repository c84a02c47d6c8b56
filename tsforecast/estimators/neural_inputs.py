"""What the neural forecasters feed their networks: the channel layout and the window tensor.

Channel layout of the (ragged) tensor windows are gathered from, [N_obs + S * H, C_all]:
  targets | past covariates | known-future covariates | calendar features
Targets and covariates are series-scaled; calendar features are already in [-0.5, 0.5]. The last
H positions after each series' end hold only the known-future channels (from `future_df` and the
calendar), so a window's future inputs come from the same tensor as its past.

Known-future covariates are the value columns of `future_df`; their history must also be in
`df`. Every other numeric or boolean (0/1) column of `df` is a past covariate (seen by the encoder
only).

`NetworkInputs` turns windows of that tensor into the keyword arguments of a network's forward;
`split_windows` picks the training and validation windows of a fit.

Scalers are fitted, and values scaled, in float64 from the panel's exact inputs (`host_values`),
then cast to float32: a series at a level of 1e9 that moves by 1 is below float32's resolution
there (64), and scaling the panel's float32 copy would lose its movement (a flat forecast, a
zero-width interval). Scaled, it moves by about 1 around 0, which float32 holds.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from tsforecast.data.calendar import calendar_features, default_features, validate_features
from tsforecast.data.frames import to_pandas
from tsforecast.data.panel import Panel
from tsforecast.data.ragged import (
    SeriesTimes,
    concat_times,
    offsets_from_lengths,
    series_blocks,
    take_spans,
)
from tsforecast.data.timestamps import time_stamps
from tsforecast.errors import InputError, TsforecastWarning
from tsforecast.scaling import Scaler, fit_scaler_ragged
from tsforecast.windows import WindowPlan, WindowSource, training_window_index

__all__ = [
    "MAX_VAL_WINDOWS",
    "Inputs",
    "Layout",
    "NetworkInputs",
    "calendar_names",
    "canonical_series_order",
    "fit_host_scaler",
    "future_columns",
    "future_stamps",
    "host_values",
    "known_future_values",
    "rescale_inputs",
    "scaler_up_to",
    "series_offsets",
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
    series_order: torch.Tensor | None = None,
) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor] | None]:
    """Training and validation windows, both inside the training range `[0, lengths[s])`.

    Validation windows have their whole future in the last `val_size` steps of each series;
    training windows end before those steps, so early stopping never scores a window the model
    trained on, and nothing after the training range is used. Returns ((series_idx, cutoff_idx)
    of the training windows, the same for validation or None when `val_size` is 0).

    `series_order` [S] (from `canonical_series_order`) lays the windows out series by series in
    that order instead of the panel's: the batches a seed draws (and the validation subsample)
    then hold the same windows whatever order the input's rows came in.
    """
    if series_order is not None:
        train, val = split_windows(
            lengths[series_order], input_size, horizon, val_size, min_past, max_val_windows
        )
        to_panel = series_order.to(device=lengths.device, dtype=torch.int32)  # [S]
        train = (to_panel[train[0].long()], train[1])
        if val is not None:
            val = (to_panel[val[0].long()], val[1])
        return train, val
    end_idx = lengths - 1 - val_size
    train_windows = training_window_index(
        lengths, input_size, horizon, end_idx=end_idx, min_past=min_past
    )
    if val_size == 0:
        return train_windows, None
    # the validation cutoffs run from lengths - 1 - val_size (or the first with enough past) to
    # the last whose future fits: built per series directly (at most val_size each), not by
    # filtering every window of the panel
    low = torch.clamp(lengths - 1 - val_size, min=min_past - 1)  # [S]
    counts = torch.clamp(lengths - 1 - horizon - low + 1, min=0)  # [S]
    series = torch.arange(len(lengths), device=lengths.device, dtype=torch.int32)
    v_series = torch.repeat_interleave(series, counts)  # -> (N_val,)
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.arange(len(v_series), device=lengths.device) - starts[v_series]
    v_cutoff = (low[v_series] + rank).to(torch.int32)  # -> (N_val,) ascending per series
    if len(v_series) > max_val_windows:
        # an even spread over series and time, the same for every run
        pick = torch.linspace(0, len(v_series) - 1, max_val_windows, device=lengths.device)
        v_series, v_cutoff = v_series[pick.round().long()], v_cutoff[pick.round().long()]
    if len(v_series) == 0:
        return train_windows, None
    return train_windows, (v_series, v_cutoff)


def canonical_series_order(panel: Panel) -> torch.Tensor | None:
    """The panel's series positions [S] sorted by id, or None when they already are.

    A panel keeps its series in the order they first appear in the input; training windows
    laid out in id order instead (`split_windows`) make a seeded fit independent of the row
    order. Ids are compared as (type name, text), which orders any mix of id types.
    """
    keys = [(type(i).__name__, str(i)) for i in panel.ids]
    order = sorted(range(len(keys)), key=keys.__getitem__)
    if order == list(range(len(keys))):
        return None
    return torch.tensor(order, dtype=torch.long, device=panel.lengths.device)


def future_columns(future_df: Any, panel: Panel, id_col: str, time_col: str) -> list[str]:
    """The known-future covariates: the numeric (or boolean: 0/1) columns of `future_df`."""
    pdf, _ = to_pandas(future_df, "future_df")
    for col in (id_col, time_col):
        if col not in pdf.columns:
            msg = (
                f"column {col!r} is missing from `future_df` (found: {list(pdf.columns)}); "
                "it needs the id and time columns of `df`."
            )
            raise InputError(msg)
    targets = [str(c) for c in pdf.columns if c in panel.target_cols]
    if targets:  # the future of a target is what is forecast: it would be ignored
        msg = (
            f"`future_df` holds the target columns {targets}; the targets' future is what is "
            "forecast: drop them from `future_df`."
        )
        raise InputError(msg)
    text = [
        str(c)
        for c in pdf.columns
        if c in panel.covariate_cols and not pd.api.types.is_numeric_dtype(pdf[c])
    ]
    if text:  # read as no known future, they would be past covariates without a word
        column = pdf[text[0]]
        example = column.dropna().iloc[0] if column.notna().any() else None
        msg = (
            f"known-future covariates {text} of `future_df` are not numbers (dtype "
            f"{column.dtype}, e.g. {example!r}), while `df` holds them as numbers; convert "
            f"them (`pd.to_numeric(future_df[{text[0]!r}])`, or booleans)."
        )
        raise InputError(msg)
    cols = [
        str(c)
        for c in pdf.columns
        if c not in (id_col, time_col) and pd.api.types.is_numeric_dtype(pdf[c])
    ]
    missing = [c for c in cols if c not in panel.covariate_cols]
    if missing:
        msg = (
            f"known-future covariates {missing} of `future_df` are not covariates of `df` "
            f"(its covariates: {list(panel.covariate_cols)}); `df` must hold their history too, "
            "as numbers or booleans (text and date columns of `df` are left out)."
        )
        raise InputError(msg)
    if not cols:
        # a future_df that carries no covariate would otherwise be ignored without a word
        msg = (
            f"`future_df` holds no known-future covariate (columns: {list(pdf.columns)}): "
            f"it needs numeric or boolean columns besides {id_col!r} and {time_col!r}, each "
            f"also a column of `df` (covariates of `df`: {list(panel.covariate_cols)}); leave "
            "`future_df` out to forecast without known-future covariates."
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
) -> tuple[torch.Tensor, torch.Tensor]:
    """Ragged (data [N_obs + S * H, C_all], offsets [S + 1]) on the panel's device: series s's
    observations (scaled channels, then calendar features), then its H steps after its end.

    Those H rows hold only the known-future channels (from `known_future`) and the calendar;
    the rest stays 0. known_future: [S, H, F] raw values of the known-future covariates after
    each series' end (None: those positions stay 0, for a caller that never reads them).
    Built a block of whole series at a time from the panel's ragged storage: memory follows
    the observations, never series x the longest series.
    """
    horizon = layout.horizon
    n_series = panel.n_series
    lengths = panel.lengths  # [S]
    device = panel.device
    offsets = offsets_from_lengths(lengths + horizon)  # [S + 1]
    order = [panel.columns.index(c) for c in layout.scaled_cols]
    n_scaled = len(order)
    out = panel.data.new_zeros((int(offsets[-1].item()), layout.n_channels))
    # the arithmetic in float64 (see the module doc), where the device has it
    work = device if device.type in ("cpu", "cuda") else torch.device("cpu")
    exact = host_values(panel)  # [N_obs, C] float64 on the host
    # (device first, then dtype: MPS holds no float64, and a copy off it cannot cast to it)
    loc = scaler.loc[:, 0, order].to(work).to(torch.float64)  # -> (S, C_scaled)
    scale = scaler.scale[:, 0, order].to(work).to(torch.float64)
    # series s's row t sits at panel row offsets[s] + t and at out row offsets[s] + t + s * H
    first_row = panel.offsets[0]
    for a, b in series_blocks(lengths):
        lo, hi = int(panel.offsets[a].item()), int(panel.offsets[b].item())
        series = torch.repeat_interleave(torch.arange(a, b, device=device), lengths[a:b])  # (n,)
        at = series.to(work)
        rows = exact[lo:hi][:, order].to(work)  # -> (n, C_scaled)
        dest = torch.arange(lo, hi, device=device) - first_row + series * horizon
        out[dest, :n_scaled] = ((rows - loc[at]) / scale[at]).to(out.dtype).to(out.device)
    # Known-future channels after each series' end; their history stays as scaled above.
    first_future = layout.n_targets + len(layout.past_cols)
    n_known = len(layout.future_cols)
    if n_known and known_future is not None:
        known = slice(n_scaled - n_known, n_scaled)
        # (a copy: the array may be a read-only view of the caller's frame, which torch warns of)
        future_values = torch.tensor(known_future, dtype=torch.float64, device=work)  # (S, H, F)
        future_values = (future_values - loc[:, None, known]) / scale[:, None, known]
        future_values = future_values.to(out.dtype).to(out.device)
        steps = (offsets[:-1] + lengths)[:, None] + torch.arange(horizon, device=device)
        out[steps.reshape(-1), first_future : first_future + n_known] = future_values.reshape(
            n_series * horizon, n_known
        )
    if layout.calendar:
        _calendar_channels(out, offsets, panel, layout, first_future + n_known)
    return out, offsets


def _calendar_channels(
    out: torch.Tensor, offsets: torch.Tensor, panel: Panel, layout: Layout, first: int
) -> None:
    """Write, in place, the calendar features of every series' steps and of its H future steps
    into `out[:, first:]` ([N_obs + S * H, C_all], `offsets` [S + 1] as `window_tensor`'s)."""
    horizon = layout.horizon
    lengths = panel.lengths.to("cpu").numpy()
    host_offsets = offsets.to("cpu").numpy()
    future = future_stamps(panel, horizon)  # [S * H], series after series
    for a, b in series_blocks(panel.lengths + horizon):
        times = panel.times
        if isinstance(times, SeriesTimes):
            observed = times.flat[times.offsets[a] : times.offsets[b]]
        else:
            observed = concat_times(times[a:b])
        n_obs = len(observed)
        stamps = observed.append(future[a * horizon : b * horizon])
        # which stamp each out row of the block holds: series s's steps, then its H future
        # steps (observed step t of series s is out row local_start[s] + t)
        n = lengths[a:b]
        local_start = host_offsets[a:b] - host_offsets[a]
        step = np.arange(n_obs) - np.repeat(np.cumsum(n) - n, n)
        stamp_of_row = np.empty(len(stamps), dtype=np.int64)
        stamp_of_row[np.repeat(local_start, n) + step] = np.arange(n_obs)
        future_rows = (local_start + n)[:, None] + np.arange(horizon)  # -> (b - a, H)
        stamp_of_row[future_rows.reshape(-1)] = n_obs + np.arange((b - a) * horizon)
        features = calendar_features(stamps.take(stamp_of_row), layout.calendar)  # -> (n, K)
        rows = slice(int(host_offsets[a]), int(host_offsets[b]))
        out[rows, first:] = torch.from_numpy(features).to(out)


def future_stamps(panel: Panel, horizon: int) -> pd.Index:
    """The `horizon` stamps after each series' end, [S * H] series after series: what
    `panel.future_times(s, horizon)` gives, computed once per distinct last stamp."""
    times = panel.times
    last = times.last() if isinstance(times, SeriesTimes) else concat_times([t[-1:] for t in times])
    codes, distinct = pd.factorize(last)
    steps: list[pd.Index] = []
    for stamp in distinct:
        if isinstance(panel.freq, str):
            steps.append(pd.date_range(start=stamp, periods=horizon + 1, freq=panel.freq)[1:])
        else:
            steps.append(
                pd.Index(int(stamp) + panel.freq * np.arange(1, horizon + 1, dtype=np.int64))
            )
    table = steps[0].append(steps[1:]) if len(steps) > 1 else steps[0]  # [U * H]
    return table.take((codes[:, None] * horizon + np.arange(horizon)).reshape(-1))


def _check_same_time_zone(given: pd.Series, expected: pd.DatetimeIndex, time_col: str) -> None:
    """Refuse a `future_df` whose stamps are time-zone-aware where `df`'s are naive (or the
    reverse): they cannot be matched (it failed inside a pandas merge)."""
    given_zone = getattr(given.dtype, "tz", None)
    if (given_zone is None) != (expected.tz is None):
        kinds = {True: "naive", False: f"time-zone-aware ({given_zone or expected.tz})"}
        msg = (
            f"`future_df`'s {time_col!r} stamps are {kinds[given_zone is None]}, and `df`'s "
            f"are {kinds[expected.tz is None]}; give both in the same form (e.g. "
            f"`future_df[{time_col!r}].dt.tz_localize(...)` or `.dt.tz_localize(None)`)."
        )
        raise InputError(msg)


def known_future_values(
    panel: Panel, future_df: Any, cols: list[str], horizon: int, id_col: str, time_col: str
) -> np.ndarray:
    """[S, H, F] float64 values of the known-future covariates after each series' end."""
    pdf, _ = to_pandas(future_df, "future_df")
    for col in (id_col, time_col, *cols):
        if col not in pdf.columns:
            msg = (
                f"column {col!r} is missing from `future_df` (found: {list(pdf.columns)}); "
                "it needs the id and time columns and every known-future covariate."
            )
            raise InputError(msg)
    # the rule `to_panel` reads `df`'s stamps by (offsets across a DST switch, day-first dates)
    stamps = time_stamps(pdf[time_col], f"future_df[{time_col!r}]")
    if panel.is_datetime != pd.api.types.is_datetime64_any_dtype(stamps.dtype):
        msg = (
            f"`future_df[{time_col!r}]` holds {'integers' if panel.is_datetime else 'datetimes'}"
            f" but `df`'s time stamps are {'datetimes' if panel.is_datetime else 'integers'}; "
            "give both frames the same kind of time stamps."
        )
        raise InputError(msg)
    pdf[time_col] = stamps
    expected_times = np.concatenate(
        [np.asarray(panel.future_times(s, horizon)) for s in range(panel.n_series)]
    )
    if panel.is_datetime:
        _check_same_time_zone(pdf[time_col], pd.DatetimeIndex(expected_times), time_col)
    expected = pd.DataFrame(
        {
            id_col: np.repeat(np.array(panel.ids, dtype=object), horizon),
            time_col: expected_times,
        }
    )
    pdf[id_col] = pdf[id_col].astype(object)
    repeated = pdf.duplicated([id_col, time_col])
    if repeated.any():  # which of two values for one step would be a silent guess
        first = pdf[repeated].iloc[0]
        msg = (
            f"`future_df` has {int(repeated.sum())} duplicated ({id_col}, {time_col}) rows "
            f"(first: series {first[id_col]!r} at {first[time_col]}); give one row per series "
            "and step."
        )
        raise InputError(msg)
    merged = expected.merge(
        pdf[[id_col, time_col, *cols]],
        on=[id_col, time_col],
        how="left",
        indicator="_row",
    )
    values = merged[cols].to_numpy(dtype=np.float64)
    bad = np.isnan(values).any(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        # say what is wrong at the first such step: no row at all, or NaN in named columns
        what = (
            "no row"
            if merged["_row"].iloc[row] == "left_only"
            else f"NaN in {[c for c, v in zip(cols, values[row], strict=True) if np.isnan(v)]}"
        )
        msg = (
            f"`future_df` lacks known-future covariates {cols} for {int(bad.sum())} of the "
            f"{len(expected)} forecast steps (first: series {merged[id_col].iloc[row]!r} "
            f"at {merged[time_col].iloc[row]}: {what}); give every series a value for each of "
            f"the {horizon} steps after its end.{_unknown_ids_hint(pdf[id_col], panel.ids)}"
        )
        raise InputError(msg)
    unknown = _unknown_ids(pdf[id_col], panel.ids)
    if unknown:
        # a mistyped id, or a series left out of `df`: its rows would be dropped without a word
        warnings.warn(
            f"`future_df` has rows for {len(unknown)} series that `df` does not have: "
            f"{unknown[:10]}{' ...' if len(unknown) > 10 else ''}; they are not read (a series "
            "is forecast only when `df` holds its history).",
            TsforecastWarning,
            stacklevel=4,
        )
    # float64: `window_tensor` scales them before the float32 cast (see the module doc)
    return values.reshape(panel.n_series, horizon, len(cols))


def _unknown_ids(given: pd.Series, ids: Sequence[Any]) -> list[Any]:
    """The ids of `future_df` that are no series of `df`, in their order of appearance."""
    known = set(ids)
    return [i for i in pd.unique(given) if i not in known]


def _unknown_ids_hint(given: pd.Series, ids: Sequence[Any]) -> str:
    """A sentence on `future_df` ids that are no series of `df`, by value and type: an id
    written as 1 where `df` has '1' matches nothing, and the message about missing rows alone
    would not say why."""
    unknown = _unknown_ids(given, ids)
    if not unknown:
        return ""
    first = unknown[0]
    like = next((i for i in ids if str(i) == str(first)), None)
    hint = (
        f" `df` has {like!r} ({type(like).__name__}): convert the ids of one frame to the "
        "type of the other."
        if like is not None
        else ""
    )
    return (
        f" `future_df` names {len(unknown)} series that `df` does not have (first: "
        f"{first!r}, {type(first).__name__}).{hint}"
    )


class NetworkInputs:
    """Windows of one window tensor as the keyword arguments of a network's forward.

    The ragged window tensor is laid out once in a `WindowSource` (the known-future and calendar
    channels as its known channels, read H steps past each series' end); `plan` a set of windows
    once, then
    `take` batches of it: per batch, two 1-D `index_select`s give every input and the target.
    """

    def __init__(
        self, data: torch.Tensor, offsets: torch.Tensor, lengths: torch.Tensor, layout: Layout
    ) -> None:
        # ragged, as `window_tensor` gives it: data [N_obs + S * H, C_all], offsets [S + 1];
        # lengths [S], the observed rows of each series
        self.layout = layout
        # the positions the padded window tensor had (the longest series + H)
        self.n_steps = (int(lengths.max().item()) if len(lengths) else 0) + layout.horizon
        self.source = WindowSource.from_ragged(
            data,
            offsets,
            layout.input_size,
            layout.horizon,
            layout.n_targets,
            known_channels=layout.n_future_features,
            lengths=lengths,
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


def host_values(panel: Panel) -> torch.Tensor:
    """[N_obs, C] float64 on the host: the panel's exact inputs (its float32 data if unknown),
    row for row with `panel.data` (no copy of the exact values)."""
    if panel.exact is not None:
        return torch.from_numpy(np.ascontiguousarray(panel.exact, dtype=np.float64))
    return panel.data.detach().to("cpu").to(torch.float64)  # (MPS: device, then dtype)


def fit_host_scaler(panel: Panel, method: str) -> Scaler:
    """Every series' scaler [S, 1, C], fitted in float64 on the host from its exact values."""
    return fit_scaler_ragged(
        host_values(panel),
        panel.offsets.to("cpu"),
        method=method,  # type: ignore[arg-type]
    )


def series_offsets(panel: Panel) -> Scaler:
    """A "scaler" that only subtracts each series' first value (float64 on the host, scale 1):
    the window tensor of `predict_cutoffs`, which scales every window by its own scaler later,
    then holds values near 0 that float32 resolves (see the module doc). The first value is
    before every cutoff, so it tells nothing of any window's future."""
    first = host_values(panel)[panel.offsets[:-1].to("cpu")]  # -> (S, C)
    loc = first[:, None, :].clone()  # -> (S, 1, C)
    return Scaler("none", loc, torch.ones_like(loc))


def scaler_up_to(
    panel: Panel, series_idx: torch.Tensor, cutoff_idx: torch.Tensor, layout: Layout, method: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """(loc, scale) [B, 1, C_scaled] float64 on the host, in layout order, fitted on the rows
    up to each cutoff."""
    n_scaled = len(layout.scaled_cols)
    if method == "none":
        loc = torch.zeros((len(series_idx), 1, n_scaled), dtype=torch.float64)
        return loc, torch.ones_like(loc)
    # each window's series up to its cutoff, padded (a chunk at a time) to the panel's width
    offsets_host = panel.offsets.to("cpu")
    series_idx = series_idx.to(device="cpu", dtype=torch.long)
    upto = torch.minimum(offsets_host.diff()[series_idx], cutoff_idx.to(series_idx) + 1)  # [B]
    starts = torch.cat([offsets_host[series_idx], offsets_host[-1:]])
    data, offsets = take_spans(host_values(panel), starts, torch.zeros_like(upto), upto)
    scaler = fit_scaler_ragged(
        data,
        offsets,
        method=method,  # type: ignore[arg-type]
        n_steps=int(panel.lengths.max().item()),
    )
    order = [panel.columns.index(c) for c in layout.scaled_cols]
    return scaler.loc[..., order], scaler.scale[..., order]


def tail(panel: Panel, n_steps: int) -> Panel:
    """The last `n_steps` observations of each series (what predict needs)."""
    keep = torch.clamp(panel.lengths, max=n_steps)  # [S]
    start = panel.lengths - keep
    return panel.steps(start.cpu().numpy(), (panel.lengths - 1).cpu().numpy())
