"""The per-series explorer's data: one compact JSON text per series.

Each series becomes one `<script type="application/json">` element, parsed by the browser only
when the series is selected, so the page stays usable for a whole M4 Hourly backtest. A blob:

- `t`: the time axis (`{"start", "step", "n"}` when regular, else `{"b64"}` float64);
- `y`: per target, the history and actuals on that axis (base64 float32, NaN where unknown);
- `c`: the series' cutoffs, `[label, time number]`;
- `f`: one entry per forecast, `[cutoff k, model k, target k, start, n, n_cols, values]`, where
  `start` is its first position on the axis (or base64 int32 positions when not consecutive)
  and `values` the base64 float32 block `y_hat, lo_1, hi_1, lo_2, hi_2 ...` (n_cols x n);
  a model without intervals ships only `y_hat`;
- `m`: the series' own metrics, `{target: {metric: [value per model]}}`.

History is cut to `max_history` steps before the series' first cutoff.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from tsforecast.checks import level_tag
from tsforecast.report.encode import (
    b64,
    encode_axis,
    json_scalar,
    natural_key,
    script_json,
    time_label,
    time_numbers,
    to_float,
)

__all__ = ["series_blobs"]


@dataclasses.dataclass(frozen=True)
class _Forecasts:
    """The forecasts frame sorted once, as numpy columns; forecast k is rows starts[k]:ends[k]."""

    cut_num: np.ndarray
    model_codes: np.ndarray
    target_codes: np.ndarray
    ds_num: np.ndarray
    y_obs: np.ndarray
    block: np.ndarray  # -> (rows, 1 + 2 x levels): y_hat, then lo/hi of each level
    cutoff_values: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    per_series: dict[Any, list[int]]  # unique_id -> its forecasts k


def series_blobs(
    fc: pd.DataFrame,
    hist: pd.DataFrame | None,
    models: list[Any],
    targets: list[Any],
    levels: list[Any],
    max_history: int | None,
    by_series: pd.DataFrame | None,
) -> tuple[list[str], list[str]]:
    """(series ids, one blob each), the series in natural order (H1, H2, ... H10, not H10, H2).

    Pure numpy slicing over frames sorted once: an M4 Hourly backtest has ~10^4 forecasts, and
    a pandas group-by per forecast would cost minutes.
    """
    order = sorted((json_scalar(u) for u in pd.unique(fc["unique_id"])), key=natural_key)
    columns = _forecast_columns(fc, models, targets, levels)
    history = _history_rows(hist, targets)
    series_metrics = _series_metrics(by_series, models)
    empty = (np.empty(0), np.empty((len(targets), 0)))
    blobs = [
        _series_blob(
            columns,
            columns.per_series[uid],
            history.get(uid, empty),
            max_history,
            series_metrics.get(uid, {}),
        )
        for uid in order
    ]
    return [str(uid) for uid in order], blobs


def _forecast_columns(
    fc: pd.DataFrame, models: list[Any], targets: list[Any], levels: list[Any]
) -> _Forecasts:
    bound_cols = [f"y_{side}_{level_tag(level)}" for level in levels for side in ("lo", "hi")]
    fc = fc.sort_values(["unique_id", "cutoff", "model", "target", "ds"], kind="stable")
    uid_codes, uid_values = pd.factorize(fc["unique_id"])
    cut_num = time_numbers(fc["cutoff"])
    model_codes = _codes(fc["model"], models)
    target_codes = _codes(fc["target"], targets)
    # a new forecast starts where the series, cutoff, model or target changes
    key_change = np.ones(len(fc), dtype=bool)
    key_change[1:] = (
        (np.diff(uid_codes) != 0)
        | (np.diff(cut_num) != 0)
        | (np.diff(model_codes) != 0)
        | (np.diff(target_codes) != 0)
    )
    starts = np.flatnonzero(key_change)
    per_series: dict[Any, list[int]] = {}
    for k, a in enumerate(starts):
        per_series.setdefault(json_scalar(uid_values[uid_codes[a]]), []).append(k)
    return _Forecasts(
        cut_num=cut_num,
        model_codes=model_codes,
        target_codes=target_codes,
        ds_num=time_numbers(fc["ds"]),
        y_obs=pd.to_numeric(fc["y"], errors="coerce").to_numpy(dtype=np.float64),
        block=fc[["y_hat", *bound_cols]]
        .apply(pd.to_numeric, errors="coerce")
        .to_numpy(dtype=np.float64),
        cutoff_values=fc["cutoff"].to_numpy(),
        starts=starts,
        ends=np.append(starts[1:], len(fc)),
        per_series=per_series,
    )


def _history_rows(
    hist: pd.DataFrame | None, targets: list[Any]
) -> dict[Any, tuple[np.ndarray, np.ndarray]]:
    """{unique_id: (time numbers, values (targets x times))}; NaN for a target it lacks."""
    if hist is None:
        return {}
    hist = hist.sort_values(["unique_id", "ds"], kind="stable")
    codes, values = pd.factorize(hist["unique_id"])
    times = time_numbers(hist["ds"])
    missing = np.full(len(hist), np.nan)
    matrix = np.stack(
        [
            pd.to_numeric(hist[t], errors="coerce").to_numpy(dtype=np.float64)
            if t in hist.columns
            else missing
            for t in targets
        ]
    )  # -> (C, rows)
    starts = np.flatnonzero(np.diff(codes, prepend=-1) != 0)
    ends = np.append(starts[1:], len(hist))
    return {
        json_scalar(values[codes[a]]): (times[a:b], matrix[:, a:b])
        for a, b in zip(starts, ends, strict=True)
    }


def _series_blob(
    fc: _Forecasts,
    groups: list[int],
    history: tuple[np.ndarray, np.ndarray],
    max_history: int | None,
    metrics: dict[str, Any],
) -> str:
    a0, b0 = fc.starts[groups[0]], fc.ends[groups[-1]]
    fc_times = fc.ds_num[a0:b0]
    h_times, h_vals = history
    if max_history is not None:
        n_before = int(np.searchsorted(h_times, float(fc_times.min())))
        cut = max(0, n_before - max_history)
        h_times, h_vals = h_times[cut:], h_vals[:, cut:]
    axis = np.union1d(h_times, fc_times)

    y = np.full((h_vals.shape[0], len(axis)), np.nan)  # -> (C, T)
    y[:, np.searchsorted(axis, h_times)] = h_vals
    # actuals the history lacks (or no history at all): take them from the forecasts frame
    pos_all = np.searchsorted(axis, fc_times)
    rows_y, rows_t = fc.y_obs[a0:b0], fc.target_codes[a0:b0]
    gap = np.isnan(y[rows_t, pos_all]) & ~np.isnan(rows_y)
    y[rows_t[gap], pos_all[gap]] = rows_y[gap]

    cutoff_pos: dict[float, int] = {}
    cutoff_list: list[list[Any]] = []
    entries = []
    for k in groups:
        a, b = fc.starts[k], fc.ends[k]
        if fc.cut_num[a] not in cutoff_pos:
            cutoff_pos[fc.cut_num[a]] = len(cutoff_list)
            cutoff_list.append([time_label(fc.cutoff_values[a]), float(fc.cut_num[a])])
        entries.append(_entry(fc, a, b, cutoff_pos[fc.cut_num[a]], pos_all[a - a0 : b - a0]))
    blob = {
        "t": encode_axis(axis),
        "y": [b64(row, np.float32) for row in y],
        "c": cutoff_list,
        "f": entries,
        "m": metrics,
    }
    return script_json(blob)


def _entry(fc: _Forecasts, a: int, b: int, cutoff_k: int, pos: np.ndarray) -> list[Any]:
    """The explorer's entry of the forecast in rows a:b at axis positions `pos`."""
    start: Any = int(pos[0])
    if not np.array_equal(pos, np.arange(pos[0], pos[0] + len(pos))):
        start = b64(pos, np.int32)
    values = fc.block[a:b]  # -> (n, 1 + 2L)
    n_cols = values.shape[1]
    if n_cols > 1 and np.isnan(values[:, 1:]).all():
        n_cols = 1  # this model gave no intervals: do not ship columns of NaN
    return [
        cutoff_k,
        int(fc.model_codes[a]),
        int(fc.target_codes[a]),
        start,
        int(b - a),
        n_cols,
        b64(values[:, :n_cols].T, np.float32),
    ]


def _codes(column: pd.Series, names: list[Any]) -> np.ndarray:
    """Position in `names` of each value of `column` (factorised first: few distinct values)."""
    codes, uniques = pd.factorize(column)
    remap = pd.Index(names).get_indexer([json_scalar(u) for u in uniques])
    return remap[codes]


def _series_metrics(frame: pd.DataFrame | None, models: list[Any]) -> dict[Any, Any]:
    """{unique_id: {target: {metric: [value per model, in `models` order]}}}."""
    if frame is None or "unique_id" not in frame.columns:
        return {}
    model_pos = {str(m): k for k, m in enumerate(models)}
    out: dict[Any, Any] = {}
    for row in frame.itertuples(index=False):
        per_target = out.setdefault(json_scalar(row.unique_id), {})
        values = per_target.setdefault(str(row.target), {}).setdefault(
            str(row.metric), [None] * len(models)
        )
        k = model_pos.get(str(row.model))
        if k is not None:
            values[k] = to_float(row.value, digits=5)
    return out
