"""Forecast positions and frames shared by every forecaster.

A forecast is named by a series (its position in the panel) and a cutoff (the position of the
last observation it may use). `cutoff_positions` turns a user's `cutoffs` into those pairs;
`forecast_frame` turns arrays of forecasts into the wide output frame of the input's type:
    id, time, [cutoff], and per target T: T, T_lo_<level>, T_hi_<level> ...
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from tsforecast.checks import check_forecast_columns, level_tag
from tsforecast.data.frames import from_pandas
from tsforecast.data.panel import Panel
from tsforecast.data.ragged import SeriesTimes, concat_times
from tsforecast.errors import InputError

__all__ = ["cutoff_positions", "forecast_frame", "output_schema", "times_after"]


def times_after(panel: Panel, series: int, cutoff: int, horizon: int) -> np.ndarray:
    """The `horizon` time stamps after position `cutoff` of series `series`."""
    stamps = panel.times[series]
    if cutoff + horizon < len(stamps):  # inside the history: its own stamps
        return np.asarray(stamps[cutoff + 1 : cutoff + 1 + horizon])
    last = stamps[cutoff]
    if panel.is_datetime:
        return np.asarray(pd.date_range(last, periods=horizon + 1, freq=str(panel.freq))[1:])
    return int(last) + int(panel.freq) * np.arange(1, horizon + 1, dtype=np.int64)


def _times_after_all(
    panel: Panel, series_idx: np.ndarray, cutoff_idx: np.ndarray, horizon: int
) -> np.ndarray:
    """`times_after` of every (series, cutoff) pair, one after the other: [N * H].

    Vectorised: forecasts past each series' end are its last stamp plus 1..H periods (integer
    steps, `Tick` frequencies) or 1..H steps of a calendar frequency ("MS", "W-SUN", "B":
    k * offset, which is the k-th stamp of `pd.date_range` from an on-offset stamp), and those
    inside its history are read from the flat stamps of a `SeriesTimes`. The calendar
    frequencies pandas cannot add to many stamps at once (custom business days, business
    hours) go pair by pair through `times_after` (10,000 monthly series took 0.9 s so).
    """
    period: Any = None
    if not panel.is_datetime:
        period = int(panel.freq)
    else:
        offset = pd.tseries.frequencies.to_offset(str(panel.freq))
        period = pd.Timedelta(offset) if isinstance(offset, pd.offsets.Tick) else offset
        if not isinstance(offset, pd.offsets.Tick) and not _adds_at_once(offset, panel):
            period = None
    if period is None or not isinstance(panel.times, SeriesTimes):
        return np.concatenate(
            [
                times_after(panel, int(s), int(c), horizon)
                for s, c in zip(series_idx, cutoff_idx, strict=True)
            ]
        )
    times = panel.times
    lengths = np.diff(times.offsets)[series_idx]
    steps = np.arange(1, horizon + 1)
    inside = cutoff_idx + horizon < lengths  # [N] every future stamp is in the history
    out = np.empty((len(series_idx), horizon), dtype=np.asarray(times.flat[:1]).dtype)
    if inside.any():
        rows = times.offsets[series_idx[inside]][:, None] + cutoff_idx[inside][:, None] + steps
        out[inside] = np.asarray(times.flat[rows.reshape(-1)]).reshape(-1, horizon)
    if (~inside).any():
        last = times.at(series_idx[~inside], cutoff_idx[~inside])  # [n]
        ahead = [np.asarray(last + k * period) for k in steps]  # H arrays of [n]
        out[~inside] = np.stack(ahead, axis=1)
    return out.reshape(-1)


def _adds_at_once(offset: Any, panel: Panel) -> bool:
    """Whether pandas adds `offset` to many stamps at once (not element by element, with a
    PerformanceWarning), tried on the panel's first stamp."""
    first = panel.times[0][:1] if panel.n_series else None
    if first is None or len(first) == 0:
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.PerformanceWarning)
            _ = pd.DatetimeIndex(first) + offset
    except Exception:
        return False
    return True


def _observations(panel: Panel) -> pd.DataFrame:
    """Every observation's series id, time stamp, series position and position in its series."""
    lengths = panel.lengths.to("cpu").numpy()
    ids = np.empty(panel.n_series, dtype=object)
    ids[:] = panel.ids
    times = concat_times(panel.times)
    return pd.DataFrame(
        {
            "_id": np.repeat(ids, lengths),
            "_time": np.asarray(times),
            "_series": np.repeat(np.arange(panel.n_series), lengths),
            "_position": np.arange(len(times)) - np.repeat(np.cumsum(lengths) - lengths, lengths),
        }
    )


def cutoff_positions(panel: Panel, cutoffs: Any) -> tuple[np.ndarray, np.ndarray]:
    """(series positions, cutoff positions) of the forecasts asked for by `cutoffs`.

    `cutoffs` is either a sequence of time stamps (each series is forecast after every one of
    them it holds) or a frame with the id column and a `cutoff` column (exact pairs). Pairs are
    returned ordered by series, then cutoff; one join over all observations finds them.
    """
    from tsforecast.data.frames import to_pandas

    obs = _observations(panel)
    if hasattr(cutoffs, "columns"):
        pairs, _ = to_pandas(cutoffs, "cutoffs")
        if panel.id_col not in pairs.columns or "cutoff" not in pairs.columns:
            msg = (
                f"a `cutoffs` frame needs the columns {panel.id_col!r} and 'cutoff', got "
                f"{list(pairs.columns)}."
            )
            raise InputError(msg)
        wanted = pd.DataFrame(
            {"_id": pairs[panel.id_col].to_numpy(dtype=object), "_time": pairs["cutoff"].to_numpy()}
        ).drop_duplicates()
        if len(wanted) and len(obs):
            if panel.is_datetime:  # as a list of stamps: naive ones in the data's time zone
                times = _as_times(pd.Index(wanted["_time"]), obs["_time"].dtype)
                wanted["_time"] = pd.Series(times, index=wanted.index)
            wanted["_time"] = wanted["_time"].astype(obs["_time"].dtype)
        found = obs.merge(wanted, on=["_id", "_time"], how="inner")
        if len(found) < len(wanted):  # exact pairs: every one must be in `df`
            known = set(obs["_id"].unique())
            unknown = [i for i in wanted["_id"].unique() if i not in known]
            if unknown:
                msg = (
                    f"the ids {unknown[:5]}{' ...' if len(unknown) > 5 else ''} of the "
                    f"`cutoffs` frame are not series of `df` (its ids: "
                    f"{list(panel.ids[:5])}{' ...' if panel.n_series > 5 else ''})."
                )
                raise InputError(msg)
            missed = wanted.merge(
                found[["_id", "_time"]], on=["_id", "_time"], how="left", indicator=True
            )
            missed = missed[missed["_merge"] == "left_only"]
            shown = list(zip(missed["_id"], missed["_time"], strict=True))[:3]
            msg = (
                f"{len(missed)} (id, cutoff) pairs of the `cutoffs` frame are not observations "
                f"of `df` (first: {shown}); a cutoff is a time stamp its series holds."
            )
            raise InputError(msg)
    else:
        # (a pandas Index or Series of stamps is a collection too, not one stamp)
        collections = (Sequence, np.ndarray, pd.Index, pd.Series)
        if isinstance(cutoffs, (str, bytes)) or not isinstance(cutoffs, collections):
            cutoffs = [cutoffs]
        stamps = pd.Index(list(cutoffs))
        if panel.is_datetime and len(obs):
            stamps = _as_times(stamps, obs["_time"].dtype)
        found = obs[pd.Index(obs["_time"]).isin(stamps)]
    found = found.sort_values(["_series", "_position"], kind="stable")
    series_idx = found["_series"].to_numpy(dtype=np.int64).copy()  # writable, for torch
    cutoff_idx = found["_position"].to_numpy(dtype=np.int64).copy()
    if len(series_idx) == 0:
        given = pairs["cutoff"].tolist() if hasattr(cutoffs, "columns") else list(cutoffs)
        span = (
            f"its time stamps run from {obs['_time'].min()} to {obs['_time'].max()}"
            if len(obs)
            else "it has no observations"
        )
        msg = (
            f"no series of `df` holds any of the `cutoffs` (got {given[:5]}"
            f"{' ...' if len(given) > 5 else ''}); {span}. A cutoff is the last observed time "
            "stamp of a fold: pass time stamps found in `df` (a frame of cutoffs: id and "
            "cutoff pairs it holds)."
        )
        raise InputError(msg)
    return series_idx, cutoff_idx


def _as_times(stamps: pd.Index, dtype: Any) -> pd.Index:
    """Cutoffs given as strings or datetimes, as the panel's time stamps."""
    try:
        times = pd.DatetimeIndex(pd.to_datetime(stamps))
    except (ValueError, TypeError) as error:
        msg = f"`cutoffs` must be time stamps like those of `df`, got {list(stamps)[:5]}."
        raise InputError(msg) from error
    zone = getattr(dtype, "tz", None)
    if zone is not None and times.tz is None:
        times = times.tz_localize(zone)
    elif zone is None and times.tz is not None:
        msg = f"`cutoffs` {list(stamps)[:5]} have a time zone but the time stamps of `df` do not."
        raise InputError(msg)
    return times


def forecast_frame(
    panel: Panel,
    series_idx: np.ndarray,
    cutoff_idx: np.ndarray,
    point: np.ndarray,
    lo: np.ndarray | None,
    hi: np.ndarray | None,
    levels: Sequence[float],
    with_cutoff: bool,
) -> Any:
    """The wide forecasts frame, of the panel's frame type.

    series_idx, cutoff_idx: (N,); point: (N, H, C); lo, hi: (N, H, C, L) in the order of
    `levels` (None without levels). One block of H rows per (series, cutoff), in the given order.
    """
    check_forecast_columns(
        panel.id_col, panel.time_col, panel.target_cols, levels, with_cutoff=with_cutoff
    )
    n, horizon, _ = point.shape
    ids = np.empty(len(panel.ids), dtype=object)
    ids[:] = panel.ids
    frame: dict[str, Any] = {
        panel.id_col: np.repeat(ids[series_idx], horizon),
        panel.time_col: (
            _times_after_all(
                panel, np.asarray(series_idx, np.int64), np.asarray(cutoff_idx, np.int64), horizon
            )
            if n
            else np.zeros(0)
        ),
    }
    if with_cutoff:
        if isinstance(panel.times, SeriesTimes):
            cutoffs = np.asarray(panel.times.at(series_idx, cutoff_idx))
        else:
            cutoffs = np.asarray(
                [panel.times[int(s)][int(c)] for s, c in zip(series_idx, cutoff_idx, strict=True)]
            )
        frame["cutoff"] = np.repeat(cutoffs, horizon)
    for c, target in enumerate(panel.target_cols):
        frame[target] = point[:, :, c].reshape(-1)
        for i, level in enumerate(levels):
            tag = level_tag(level)
            assert lo is not None and hi is not None
            frame[f"{target}_lo_{tag}"] = lo[:, :, c, i].reshape(-1)
            frame[f"{target}_hi_{tag}"] = hi[:, :, c, i].reshape(-1)
    pdf = pd.DataFrame(frame)
    pdf[panel.id_col] = panel.id_column(np.repeat(series_idx, horizon))
    return from_pandas(pdf, panel.frame_kind, schema=output_schema(panel))


def output_schema(panel: Panel) -> Any:
    """The input's id and time dtypes for an output frame (its cutoff typed as the time)."""
    if panel.schema is None:
        return None
    return panel.schema.with_column("cutoff", like=panel.time_col)
